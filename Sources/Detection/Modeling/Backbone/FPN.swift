import Foundation
import Torch

/// Detectron2's FPN over a bottom-up backbone, with LastLevelMaxPool on top: for each input
/// feature of stride 2^k a lateral 1x1 and an output 3x3 convolution (fpn_lateral<k>,
/// fpn_output<k>), top-down nearest upsampling and sum, and p<k+1> = max-pool of the coarsest
/// output. Outputs are named p<log2 stride>: p2 ... p6 for res2 ... res5.
public final class FPN: Module, Backbone {
    public let bottomUp: any Backbone
    public let inFeatures: [String]
    var laterals: [Conv2d] = [], outputs: [Conv2d] = []
    public let outChannels: Int
    public let outFeatures: [String]
    public let outputShape: [String: ShapeSpec]
    public let sizeDivisibility: Int

    public init(bottomUp: any Backbone, inFeatures: [String], outChannels: Int, norm: NormKind = .none, fuseType: String = "sum") throws {
        guard fuseType == "sum" else { throw ConfigError("MODEL.FPN.FUSE_TYPE '\(fuseType)' is not supported; use \"sum\"") }
        guard outChannels > 0 else { throw ConfigError("MODEL.FPN.OUT_CHANNELS must be positive, not \(outChannels)") }
        let inputShapes = try bottomUp.shapes(of: inFeatures, key: "MODEL.FPN.IN_FEATURES")
        let strides = inputShapes.map(\.stride)
        // Detectron2 asserts the input strides are 2^k, each twice the one before.
        guard strides.allSatisfy({ $0 > 0 && $0 & ($0 - 1) == 0 }), zip(strides, strides.dropFirst()).allSatisfy({ $1 == 2 * $0 }) else {
            throw ConfigError("MODEL.FPN.IN_FEATURES \(inFeatures) have strides \(strides); an FPN needs strides that double from one feature to the next")
        }
        self.bottomUp = bottomUp
        self.inFeatures = inFeatures
        self.outChannels = outChannels
        let stages = strides.map { Int(log2(Double($0))) }
        let last = stages.last!
        outFeatures = stages.map { "p\($0)" } + ["p\(last + 1)"]
        var shapes: [String: ShapeSpec] = [:]
        for (name, s) in zip(outFeatures, strides + [strides.last! * 2]) { shapes[name] = ShapeSpec(channels: outChannels, stride: s) }
        outputShape = shapes
        sizeDivisibility = strides.last!
        super.init()
        for (shape, stage) in zip(inputShapes, stages) {
            let lateral = try Conv2d(in: shape.channels, out: outChannels, kernel: 1, bias: norm == .none, normKind: norm)
            let output = try Conv2d(in: outChannels, out: outChannels, kernel: 3, padding: 1, bias: norm == .none, normKind: norm)
            try child("fpn_lateral\(stage)", lateral)
            try child("fpn_output\(stage)", output)
            laterals.append(lateral)
            outputs.append(output)
        }
        // Registered after the FPN convolutions, as Detectron2 does: state dicts list the same
        // order, and optimizer states (numbered by parameter order) line up between the two.
        try child("bottom_up", bottomUp)
    }

    /// build_resnet_fpn_backbone: a ResNet (MODEL.RESNETS) under MODEL.FPN.
    public convenience init(cfg: CfgNode) throws {
        try self.init(bottomUp: try ResNet(cfg: cfg), inFeatures: try cfg.strings("MODEL.FPN.IN_FEATURES"),
                      outChannels: try cfg.int("MODEL.FPN.OUT_CHANNELS"),
                      norm: try NormKind(config: try cfg.string("MODEL.FPN.NORM"), key: "MODEL.FPN.NORM"),
                      fuseType: try cfg.string("MODEL.FPN.FUSE_TYPE"))
    }

    /// Detectron2's order: the bottom-up network is built (and initialised) first, then each
    /// level's lateral and output convolutions get c2_xavier_fill.
    public func initializeParameters() throws {
        try bottomUp.initializeParameters()
        for (lateral, output) in zip(laterals, outputs) {
            try WeightInit.c2XavierFill(lateral)
            try WeightInit.c2XavierFill(output)
        }
    }

    public func forward(_ x: Tensor) throws -> [String: Tensor] { try forward(bottomUpFeatures: try bottomUp.forward(x)) }

    /// The top-down part over the bottom-up network's features (computed here or shared).
    public func forward(bottomUpFeatures features: [String: Tensor]) throws -> [String: Tensor] {
        var prev = try laterals.last!.forward(features[inFeatures.last!]!)
        var results = [try outputs.last!.forward(prev)]
        for i in stride(from: inFeatures.count - 2, through: 0, by: -1) {
            let lateral = try laterals[i].forward(features[inFeatures[i]]!)
            let topDown = try NN.interpolateNearest(prev, height: prev.shape[2] * 2, width: prev.shape[3] * 2)
            prev = try lateral + topDown
            results.insert(try outputs[i].forward(prev), at: 0)
        }
        results.append(try NN.maxPool2d(results.last!, kernel: 1, stride: 2, padding: 0))
        return Dictionary(uniqueKeysWithValues: zip(outFeatures, results))
    }
}
