import Torch

/// Detectron2's FastRCNNConvFCHead: NUM_CONV 3x3 convolutions (CONV_DIM, NORM) and NUM_FC fully
/// connected layers (FC_DIM), each followed by ReLU, over the pooled box features.
public final class FastRCNNConvFCHead: Module {
    let convs: [Conv2d]
    let fcs: [Linear]
    /// Features per box after the head.
    public let outputSize: Int

    public init(inputShape: (channels: Int, resolution: Int), convDims: [Int], fcDims: [Int], convNorm: NormKind = .none) throws {
        guard !convDims.isEmpty || !fcDims.isEmpty else {
            throw ConfigError("MODEL.ROI_BOX_HEAD: NUM_CONV and NUM_FC are both 0; the box head needs at least one layer")
        }
        guard (convDims + fcDims).allSatisfy({ $0 > 0 }) else {
            throw ConfigError("MODEL.ROI_BOX_HEAD: CONV_DIM and FC_DIM must be positive (\(convDims.first ?? 0), \(fcDims.first ?? 0))")
        }
        var channels = inputShape.channels
        var convs: [Conv2d] = []
        for d in convDims {
            convs.append(try Conv2d(in: channels, out: d, kernel: 3, padding: 1, bias: convNorm == .none, normKind: convNorm))
            channels = d
        }
        var dim = channels * inputShape.resolution * inputShape.resolution
        var fcs: [Linear] = []
        for d in fcDims {
            fcs.append(try Linear(in: dim, out: d))
            dim = d
        }
        self.convs = convs
        self.fcs = fcs
        outputSize = dim
        super.init()
        for (i, c) in convs.enumerated() { try child("conv\(i + 1)", c) }
        for (i, f) in fcs.enumerated() { try child("fc\(i + 1)", f) }
    }

    /// MODEL.ROI_BOX_HEAD: NAME (FastRCNNConvFCHead), NUM_CONV, CONV_DIM, NUM_FC, FC_DIM, NORM.
    public convenience init(cfg: CfgNode, channels: Int, resolution: Int) throws {
        let name = try cfg.string("MODEL.ROI_BOX_HEAD.NAME")
        guard name == "FastRCNNConvFCHead" else {
            throw ConfigError("MODEL.ROI_BOX_HEAD.NAME '\(name)' is not supported; Lunette has FastRCNNConvFCHead")
        }
        let numConv = try cfg.int("MODEL.ROI_BOX_HEAD.NUM_CONV"), numFC = try cfg.int("MODEL.ROI_BOX_HEAD.NUM_FC")
        guard numConv >= 0, numFC >= 0 else { throw ConfigError("MODEL.ROI_BOX_HEAD.NUM_CONV (\(numConv)) and NUM_FC (\(numFC)) must be >= 0") }
        try self.init(inputShape: (channels, resolution), convDims: Array(repeating: try cfg.int("MODEL.ROI_BOX_HEAD.CONV_DIM"), count: numConv),
                      fcDims: Array(repeating: try cfg.int("MODEL.ROI_BOX_HEAD.FC_DIM"), count: numFC),
                      convNorm: try NormKind(config: try cfg.string("MODEL.ROI_BOX_HEAD.NORM"), key: "MODEL.ROI_BOX_HEAD.NORM"))
    }

    /// Detectron2's order: c2_msra_fill on each convolution, then c2_xavier_fill on each fc.
    public func initializeParameters() throws {
        for c in convs { try WeightInit.c2MSRAFill(c) }
        for f in fcs { try WeightInit.c2XavierFill(f) }
    }

    public func forward(_ pooled: Tensor) throws -> Tensor {
        var x = pooled
        for conv in convs { x = try conv.forward(x).relu_() }
        x = try x.flatten(start: 1)
        for fc in fcs { x = try fc.forward(x).relu_() }
        return x
    }
}
