import Torch

/// Detectron2's StandardRPNHead: shared 3x3 convolutions with ReLU (MODEL.RPN.CONV_DIMS; -1
/// keeps the input's channels), then per-anchor objectness logits and box deltas.
public final class StandardRPNHead: Module {
    let convs: [Conv2d]
    let objectness: Conv2d, deltas: Conv2d
    public let anchorsPerLocation: Int

    public init(inChannels: Int, anchorsPerLocation: Int, convDims: [Int] = [-1], boxDim: Int = 4) throws {
        guard !convDims.isEmpty else { throw ConfigError("MODEL.RPN.CONV_DIMS is empty; [-1] keeps the input channels") }
        guard anchorsPerLocation > 0 else { throw ConfigError("the RPN head needs at least one anchor per location") }
        var channels = inChannels
        var convs: [Conv2d] = []
        for d in convDims {
            let out = d == -1 ? channels : d
            guard out > 0 else { throw ConfigError("MODEL.RPN.CONV_DIMS: \(d) is not a channel count (use -1 or a positive number)") }
            convs.append(try Conv2d(in: channels, out: out, kernel: 3, padding: 1, bias: true, norm: false))
            channels = out
        }
        self.convs = convs
        self.anchorsPerLocation = anchorsPerLocation
        objectness = try Conv2d(in: channels, out: anchorsPerLocation, kernel: 1, bias: true, norm: false)
        deltas = try Conv2d(in: channels, out: anchorsPerLocation * boxDim, kernel: 1, bias: true, norm: false)
        super.init()
        // One convolution is "conv", several are "conv.conv0", "conv.conv1", ... (Detectron2's names).
        if convs.count == 1 {
            try child("conv", convs[0])
        } else {
            let seq = Module()
            for (k, c) in convs.enumerated() { try seq.child("conv\(k)", c) }
            try child("conv", seq)
        }
        try child("objectness_logits", objectness)
        try child("anchor_deltas", deltas)
    }

    /// N(0, 0.01²) weights and zero biases for every convolution, in registration order.
    public func initializeParameters() throws {
        for c in convs + [objectness, deltas] { try WeightInit.normal(c, std: 0.01) }
    }

    /// Per level: objectness logits (N, A, H, W) and deltas (N, A*4, H, W).
    public func forward(_ features: [Tensor]) throws -> (logits: [Tensor], deltas: [Tensor]) {
        var logits: [Tensor] = [], deltas: [Tensor] = []
        for f in features {
            var t = f
            for c in convs { t = try c.forward(t).relu_() }
            logits.append(try objectness.forward(t))
            deltas.append(try self.deltas.forward(t))
        }
        return (logits, deltas)
    }
}

/// Proposals for one image: boxes (R, 4) in input coordinates, objectness logits (R).
public struct Proposals {
    public var boxes: Tensor
    public var logits: Tensor
}

/// Detectron2's RPN: the head over MODEL.RPN.IN_FEATURES (selected by name), anchors, and
/// find_top_rpn_proposals; when training, anchors are matched to the ground truth, sampled, and
/// scored with the objectness and box losses.
public final class RPN: Module {
    public let inFeatures: [String]
    let head: StandardRPNHead
    let anchorGenerator: AnchorGenerator
    let transform: Box2BoxTransform
    let matcher: Matcher
    public let batchSizePerImage: Int, positiveFraction: Double
    public let preNMSTopK: (train: Int, test: Int), postNMSTopK: (train: Int, test: Int)
    public let nmsThreshold: Double, minBoxSize: Double
    /// Anchors further than this outside the image are ignored when training (-1: none are).
    public let boundaryThreshold: Double
    public let lossWeights: (cls: Double, loc: Double)
    let boxLoss: BoxRegressionLoss

    public init(inFeatures: [String], head: StandardRPNHead, anchorGenerator: AnchorGenerator, matcher: Matcher,
                transform: Box2BoxTransform, batchSizePerImage: Int, positiveFraction: Double,
                preNMSTopK: (train: Int, test: Int), postNMSTopK: (train: Int, test: Int), nmsThreshold: Double, minBoxSize: Double,
                boundaryThreshold: Double = -1, lossWeights: (cls: Double, loc: Double) = (1, 1), boxLoss: BoxRegressionLoss) throws {
        guard anchorGenerator.strides.count == inFeatures.count else {
            throw ConfigError("MODEL.RPN.IN_FEATURES names \(inFeatures.count) feature maps, the anchor generator has \(anchorGenerator.strides.count)")
        }
        guard head.anchorsPerLocation == anchorGenerator.anchorsPerLocation else {
            throw ConfigError("the RPN head predicts \(head.anchorsPerLocation) anchors per location, the anchor generator makes \(anchorGenerator.anchorsPerLocation)")
        }
        guard batchSizePerImage > 0 else { throw ConfigError("MODEL.RPN.BATCH_SIZE_PER_IMAGE must be positive, not \(batchSizePerImage)") }
        guard (0...1).contains(positiveFraction) else { throw ConfigError("MODEL.RPN.POSITIVE_FRACTION must be in [0, 1], not \(positiveFraction)") }
        for (k, v) in [("PRE_NMS_TOPK_TRAIN", preNMSTopK.train), ("PRE_NMS_TOPK_TEST", preNMSTopK.test),
                       ("POST_NMS_TOPK_TRAIN", postNMSTopK.train), ("POST_NMS_TOPK_TEST", postNMSTopK.test)] where v <= 0 {
            throw ConfigError("MODEL.RPN.\(k) must be positive, not \(v)")
        }
        guard (0...1).contains(nmsThreshold) else { throw ConfigError("MODEL.RPN.NMS_THRESH must be in [0, 1], not \(nmsThreshold)") }
        guard minBoxSize >= 0, minBoxSize.isFinite else { throw ConfigError("MODEL.PROPOSAL_GENERATOR.MIN_SIZE must be >= 0, not \(minBoxSize)") }
        self.inFeatures = inFeatures
        self.head = head
        self.anchorGenerator = anchorGenerator
        self.matcher = matcher
        self.transform = transform
        self.batchSizePerImage = batchSizePerImage
        self.positiveFraction = positiveFraction
        self.preNMSTopK = preNMSTopK
        self.postNMSTopK = postNMSTopK
        self.nmsThreshold = nmsThreshold
        self.minBoxSize = minBoxSize
        self.boundaryThreshold = boundaryThreshold
        self.lossWeights = lossWeights
        self.boxLoss = boxLoss
        super.init()
        try child("rpn_head", head)
    }

    /// build_proposal_generator for MODEL.PROPOSAL_GENERATOR.NAME = "RPN" over a backbone's features.
    public convenience init(cfg: CfgNode, inputShape: [String: ShapeSpec]) throws {
        let name = try cfg.string("MODEL.PROPOSAL_GENERATOR.NAME")
        guard name == "RPN" else { throw ConfigError("MODEL.PROPOSAL_GENERATOR.NAME '\(name)' is not supported; Lunette has RPN") }
        let headName = try cfg.string("MODEL.RPN.HEAD_NAME")
        guard headName == "StandardRPNHead" else { throw ConfigError("MODEL.RPN.HEAD_NAME '\(headName)' is not supported; Lunette has StandardRPNHead") }
        let inFeatures = try cfg.strings("MODEL.RPN.IN_FEATURES")
        let shapes = try featureShapes(inFeatures, in: inputShape, key: "MODEL.RPN.IN_FEATURES")
        guard Set(shapes.map(\.channels)).count == 1 else {
            throw ConfigError("MODEL.RPN.IN_FEATURES \(inFeatures) have different channel counts \(shapes.map(\.channels)); the RPN head needs one")
        }
        let anchors = try AnchorGenerator(cfg: cfg, inputShapes: shapes)
        let head = try StandardRPNHead(inChannels: shapes[0].channels, anchorsPerLocation: anchors.anchorsPerLocation,
                                       convDims: try cfg.ints("MODEL.RPN.CONV_DIMS"))
        let lossWeight = try cfg.double("MODEL.RPN.LOSS_WEIGHT")
        try self.init(inFeatures: inFeatures, head: head, anchorGenerator: anchors,
                      matcher: try Matcher(thresholds: try cfg.doubles("MODEL.RPN.IOU_THRESHOLDS"), labels: try cfg.ints("MODEL.RPN.IOU_LABELS"),
                                           allowLowQualityMatches: true, key: "MODEL.RPN"),
                      transform: try Box2BoxTransform(weights: try cfg.doubles("MODEL.RPN.BBOX_REG_WEIGHTS"), key: "MODEL.RPN.BBOX_REG_WEIGHTS"),
                      batchSizePerImage: try cfg.int("MODEL.RPN.BATCH_SIZE_PER_IMAGE"), positiveFraction: try cfg.double("MODEL.RPN.POSITIVE_FRACTION"),
                      preNMSTopK: (try cfg.int("MODEL.RPN.PRE_NMS_TOPK_TRAIN"), try cfg.int("MODEL.RPN.PRE_NMS_TOPK_TEST")),
                      postNMSTopK: (try cfg.int("MODEL.RPN.POST_NMS_TOPK_TRAIN"), try cfg.int("MODEL.RPN.POST_NMS_TOPK_TEST")),
                      nmsThreshold: try cfg.double("MODEL.RPN.NMS_THRESH"), minBoxSize: try cfg.double("MODEL.PROPOSAL_GENERATOR.MIN_SIZE"),
                      boundaryThreshold: Double(try cfg.int("MODEL.RPN.BOUNDARY_THRESH")),
                      lossWeights: (lossWeight, try cfg.double("MODEL.RPN.BBOX_REG_LOSS_WEIGHT") * lossWeight),
                      boxLoss: try BoxRegressionLoss(type: try cfg.string("MODEL.RPN.BBOX_REG_LOSS_TYPE"), beta: try cfg.double("MODEL.RPN.SMOOTH_L1_BETA"),
                                                     key: "MODEL.RPN.BBOX_REG_LOSS_TYPE"))
    }

    public func initializeParameters() throws { try head.initializeParameters() }

    /// The head's outputs per level, as Detectron2 lays them out: logits (N, H*W*A), deltas (N, H*W*A, 4).
    func predict(_ features: [Tensor]) throws -> (logits: [Tensor], deltas: [Tensor]) {
        let (rawLogits, rawDeltas) = try head.forward(features)
        let a = anchorGenerator.anchorsPerLocation
        let logits = try rawLogits.map { try $0.permute([0, 2, 3, 1]).flatten(start: 1) }
        let deltas = try rawDeltas.map { d -> Tensor in
            let (n, h, w) = (d.shape[0], d.shape[2], d.shape[3])
            return try d.view([n, a, 4, h, w]).permute([0, 3, 4, 1, 2]).reshape([n, h * w * a, 4])
        }
        return (logits, deltas)
    }

    /// The feature maps of IN_FEATURES, in order.
    func select(_ features: [String: Tensor]) throws -> [Tensor] {
        try selectFeatures(inFeatures, from: features, key: "MODEL.RPN.IN_FEATURES")
    }

    /// Proposals for each image, with the top-k of the current mode (training or test).
    public func forward(_ features: [String: Tensor], imageSizes: [(Int, Int)]) throws -> [Proposals] {
        let maps = try select(features)
        let (logits, deltas) = try predict(maps)
        let anchors = try anchorGenerator.anchors(featureSizes: maps.map { ($0.shape[2], $0.shape[3]) }, device: maps[0].device)
        return try proposals(logits: logits, deltas: deltas, anchors: anchors, imageSizes: imageSizes)
    }

    func proposals(logits: [Tensor], deltas: [Tensor], anchors: [Tensor], imageSizes: [(Int, Int)]) throws -> [Proposals] {
        try findTopRPNProposals(logits: logits, deltas: deltas, anchors: anchors, imageSizes: imageSizes, transform: transform,
                                nmsThreshold: nmsThreshold, preNMSTopK: isTraining ? preNMSTopK.train : preNMSTopK.test,
                                postNMSTopK: isTraining ? postNMSTopK.train : postNMSTopK.test, minBoxSize: minBoxSize, training: isTraining)
    }

    /// RPN.label_and_sample_anchors then RPN.losses: anchors matched to the ground truth (low-
    /// quality matches kept), those beyond BOUNDARY_THRESH outside the image ignored,
    /// BATCH_SIZE_PER_IMAGE sampled per image; objectness BCE and box regression summed and
    /// divided by BATCH_SIZE_PER_IMAGE x images. Also returns the proposals.
    func trainingForward(_ features: [String: Tensor], imageSizes: [(Int, Int)], targets: [TrainingTargets],
                         output: inout TrainingOutput) throws -> [Proposals] {
        let maps = try select(features)
        let (logits, deltas) = try predict(maps)
        let anchorsPerLevel = try anchorGenerator.anchors(featureSizes: maps.map { ($0.shape[2], $0.shape[3]) }, device: maps[0].device)
        let anchors = try Tensor.cat(anchorsPerLevel)
        var labels: [Tensor] = [], matchedBoxes: [Tensor] = []
        try noGrad {
            for (t, size) in zip(targets, imageSizes) {
                let (matches, raw) = try matcher.match(try Boxes.pairwiseIoU(Boxes(t.boxes), Boxes(anchors)))
                var matchLabels = raw
                if boundaryThreshold >= 0 {
                    let inside = try insideImage(anchors, height: size.0, width: size.1)
                    matchLabels = try matchLabels.maskedFill(try inside.unary(.logicalNot), -1)
                }
                if let seed = t.samplingSeed { try TorchRuntime.manualSeed(seed) }
                let (pos, neg) = try subsampleLabels(matchLabels, count: batchSizePerImage, positiveFraction: positiveFraction, background: 0)
                let label = try Tensor.full([anchors.shape[0]], -1, dtype: .int64, device: anchors.device)
                try label.indexPut_(pos, try Tensor.ones([], dtype: .int64, device: anchors.device))
                try label.indexPut_(neg, try Tensor.zeros([], dtype: .int64, device: anchors.device))
                labels.append(label)
                matchedBoxes.append(t.count == 0 ? try Tensor.zeros(anchors.shape, device: anchors.device) : try t.boxes.indexSelect(0, matches))
            }
        }
        let gtLabels = try Tensor.stack(labels)                           // (N, A)
        let positive = try gtLabels.binary(.eq, 1, integral: true)
        let n = Double(targets.count)
        output.metrics.append(("rpn/num_pos_anchors", try positive.sum().item() / n))
        output.metrics.append(("rpn/num_neg_anchors", try gtLabels.binary(.eq, 0, integral: true).sum().item() / n))
        let gtDeltas = try noGrad { try Tensor.stack(try matchedBoxes.map { try transform.deltas(from: anchors, to: $0) }) }
        let predDeltas = try Tensor.cat(deltas, dim: 1)                   // (N, A, 4)
        let locLoss = try boxLoss.sum(try predDeltas.index(positive), try gtDeltas.index(positive))
        let valid = try gtLabels.binary(.ge, 0, integral: true)
        let clsLoss = try NN.binaryCrossEntropyWithLogits(try Tensor.cat(logits, dim: 1).index(valid), try gtLabels.index(valid).float(), reduction: .sum)
        let normalizer = Double(batchSizePerImage) * n
        output.losses.append(("loss_rpn_cls", try clsLoss * (lossWeights.cls / normalizer)))
        output.losses.append(("loss_rpn_loc", try locLoss * (lossWeights.loc / normalizer)))
        return try proposals(logits: logits, deltas: deltas, anchors: anchorsPerLevel, imageSizes: imageSizes)
    }

    /// Boxes.inside_box: anchors within `boundaryThreshold` pixels of the image.
    func insideImage(_ anchors: Tensor, height: Int, width: Int) throws -> Tensor {
        let t = boundaryThreshold
        return try anchors.select(1, 0).binary(.ge, -t)
            .binary(.logicalAnd, anchors.select(1, 1).binary(.ge, -t))
            .binary(.logicalAnd, anchors.select(1, 2).binary(.lt, Double(width) + t))
            .binary(.logicalAnd, anchors.select(1, 3).binary(.lt, Double(height) + t))
    }
}
