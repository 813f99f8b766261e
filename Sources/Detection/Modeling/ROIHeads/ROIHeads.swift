import Torch

/// Detectron2's StandardROIHeads (box branch): the pooler over MODEL.ROI_HEADS.IN_FEATURES
/// (selected by name, scales from their strides), the box head and the box predictor; when
/// training, proposals (with the ground truth appended) are matched and sampled first.
public final class StandardROIHeads: Module {
    public let inFeatures: [String]
    public let pooler: ROIPooler
    public let boxHead: FastRCNNConvFCHead
    public let boxPredictor: FastRCNNOutputLayers
    let matcher: Matcher
    public let batchSizePerImage: Int, positiveFraction: Double
    public let proposalAppendGT: Bool

    public var numClasses: Int { boxPredictor.numClasses }

    public init(inFeatures: [String], pooler: ROIPooler, boxHead: FastRCNNConvFCHead, boxPredictor: FastRCNNOutputLayers, matcher: Matcher,
                batchSizePerImage: Int, positiveFraction: Double, proposalAppendGT: Bool = true) throws {
        guard pooler.scales.count == inFeatures.count else {
            throw ConfigError("MODEL.ROI_HEADS.IN_FEATURES names \(inFeatures.count) feature maps, the pooler has \(pooler.scales.count)")
        }
        guard batchSizePerImage > 0 else { throw ConfigError("MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE must be positive, not \(batchSizePerImage)") }
        guard (0...1).contains(positiveFraction) else { throw ConfigError("MODEL.ROI_HEADS.POSITIVE_FRACTION must be in [0, 1], not \(positiveFraction)") }
        self.inFeatures = inFeatures
        self.pooler = pooler
        self.boxHead = boxHead
        self.boxPredictor = boxPredictor
        self.matcher = matcher
        self.batchSizePerImage = batchSizePerImage
        self.positiveFraction = positiveFraction
        self.proposalAppendGT = proposalAppendGT
        super.init()
        try child("box_head", boxHead)
        try child("box_predictor", boxPredictor)
    }

    /// build_roi_heads for MODEL.ROI_HEADS.NAME = "StandardROIHeads" over a backbone's features.
    public convenience init(cfg: CfgNode, inputShape: [String: ShapeSpec]) throws {
        let name = try cfg.string("MODEL.ROI_HEADS.NAME")
        guard name == "StandardROIHeads" else { throw ConfigError("MODEL.ROI_HEADS.NAME '\(name)' is not supported; Lunette has StandardROIHeads") }
        let inFeatures = try cfg.strings("MODEL.ROI_HEADS.IN_FEATURES")
        let shapes = try featureShapes(inFeatures, in: inputShape, key: "MODEL.ROI_HEADS.IN_FEATURES")
        guard Set(shapes.map(\.channels)).count == 1 else {
            throw ConfigError("MODEL.ROI_HEADS.IN_FEATURES \(inFeatures) have different channel counts \(shapes.map(\.channels)); the pooler needs one")
        }
        let poolerType = try cfg.string("MODEL.ROI_BOX_HEAD.POOLER_TYPE")
        guard ["ROIAlignV2", "ROIAlign"].contains(poolerType) else {
            throw ConfigError("MODEL.ROI_BOX_HEAD.POOLER_TYPE '\(poolerType)' is not supported; use ROIAlignV2 or ROIAlign")
        }
        let resolution = try cfg.int("MODEL.ROI_BOX_HEAD.POOLER_RESOLUTION")
        let pooler = try ROIPooler(outputSize: resolution, strides: shapes.map(\.stride),
                                   samplingRatio: try cfg.int("MODEL.ROI_BOX_HEAD.POOLER_SAMPLING_RATIO"), aligned: poolerType == "ROIAlignV2")
        let head = try FastRCNNConvFCHead(cfg: cfg, channels: shapes[0].channels, resolution: resolution)
        try self.init(inFeatures: inFeatures, pooler: pooler, boxHead: head,
                      boxPredictor: try FastRCNNOutputLayers(cfg: cfg, inputSize: head.outputSize),
                      matcher: try Matcher(thresholds: try cfg.doubles("MODEL.ROI_HEADS.IOU_THRESHOLDS"), labels: try cfg.ints("MODEL.ROI_HEADS.IOU_LABELS"),
                                           allowLowQualityMatches: false, key: "MODEL.ROI_HEADS"),
                      batchSizePerImage: try cfg.int("MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"),
                      positiveFraction: try cfg.double("MODEL.ROI_HEADS.POSITIVE_FRACTION"),
                      proposalAppendGT: try cfg.bool("MODEL.ROI_HEADS.PROPOSAL_APPEND_GT"))
    }

    /// The box head, then the predictor, as Detectron2 builds them.
    public func initializeParameters() throws {
        try boxHead.initializeParameters()
        try boxPredictor.initializeParameters()
    }

    func select(_ features: [String: Tensor]) throws -> [Tensor] {
        try selectFeatures(inFeatures, from: features, key: "MODEL.ROI_HEADS.IN_FEATURES")
    }

    /// Pooled box features through the head and the predictor.
    func predict(_ features: [Tensor], boxes: [Tensor]) throws -> (scores: Tensor, deltas: Tensor) {
        try boxPredictor.forward(try boxHead.forward(try pooler.forward(features, boxes: boxes)))
    }

    /// Detections for each image (inference).
    public func forward(_ features: [String: Tensor], proposals: [Proposals], imageSizes: [(Int, Int)]) throws -> [Instances] {
        let (scores, deltas) = try predict(try select(features), boxes: proposals.map(\.boxes))
        return try boxPredictor.inference(scores: scores, deltas: deltas, proposals: proposals, imageSizes: imageSizes)
    }

    /// label_and_sample_proposals then the predictor's losses: ground truth appended to the
    /// proposals, matched at the IoU thresholds, BATCH_SIZE_PER_IMAGE sampled with
    /// POSITIVE_FRACTION foreground.
    func trainingForward(_ features: [String: Tensor], proposals: [Proposals], targets: [TrainingTargets], output: inout TrainingOutput) throws {
        let numClasses = self.numClasses
        var sampledBoxes: [Tensor] = [], sampledClasses: [Tensor] = [], sampledGT: [Tensor] = []
        var fgCounts: [Double] = [], bgCounts: [Double] = []
        try noGrad {
            for (p, t) in zip(proposals, targets) {
                let boxes = proposalAppendGT ? try addGroundTruth(t, to: p) : p.boxes
                let (matches, matchLabels) = try matcher.match(try Boxes.pairwiseIoU(Boxes(t.boxes), Boxes(boxes)))
                var classes: Tensor
                if t.count > 0 {
                    classes = try t.classes.indexSelect(0, matches)
                    classes = try classes.maskedFill(try matchLabels.binary(.eq, 0, integral: true), Double(numClasses))
                    classes = try classes.maskedFill(try matchLabels.binary(.eq, -1, integral: true), -1)
                } else {
                    classes = try Tensor.full([boxes.shape[0]], Double(numClasses), dtype: .int64, device: boxes.device)
                }
                // Another stream than the RPN's for the same image.
                if let seed = t.samplingSeed { try TorchRuntime.manualSeed(seed ^ 0x5851_F42D_4C95_7F2D) }
                let (fg, bg) = try subsampleLabels(classes, count: batchSizePerImage, positiveFraction: positiveFraction, background: numClasses)
                let idx = try Tensor.cat([fg, bg])
                sampledBoxes.append(try boxes.indexSelect(0, idx))
                sampledClasses.append(try classes.indexSelect(0, idx))
                sampledGT.append(t.count > 0 ? try t.boxes.indexSelect(0, try matches.indexSelect(0, idx)) : try boxes.indexSelect(0, idx))
                fgCounts.append(Double(fg.shape[0]))
                bgCounts.append(Double(bg.shape[0]))
            }
        }
        output.metrics.append(("roi_head/num_fg_samples", fgCounts.reduce(0, +) / Double(fgCounts.count)))
        output.metrics.append(("roi_head/num_bg_samples", bgCounts.reduce(0, +) / Double(bgCounts.count)))
        let (scores, deltas) = try predict(try select(features), boxes: sampledBoxes)
        try boxPredictor.losses(scores: scores, deltas: deltas, proposalBoxes: try Tensor.cat(sampledBoxes), gtBoxes: try Tensor.cat(sampledGT),
                                gtClasses: try Tensor.cat(sampledClasses), output: &output)
    }
}
