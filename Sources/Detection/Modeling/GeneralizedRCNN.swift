import Foundation
import Torch
import Vision

/// Detectron2's GeneralizedRCNN (Faster R-CNN, ResNet/ResNeXt + FPN), built from a config.
public final class GeneralizedRCNN: Module {
    public let backbone: FPN
    public let proposalGenerator: RPN
    public let roiHeads: ROIHeads
    public let pixelMean: Tensor, pixelStd: Tensor
    public let sizeDivisibility: Int
    public private(set) var device: Device = .cpu

    /// The model a config describes, with Detectron2's random initialisation (`initialize`
    /// false leaves zeros, for callers that load every weight next).
    public init(cfg: CfgNode, initialize: Bool = true) throws {
        guard try cfg.string("MODEL.META_ARCHITECTURE") == "GeneralizedRCNN" else { throw ConfigError("MODEL.META_ARCHITECTURE must be GeneralizedRCNN") }
        guard try cfg.string("MODEL.BACKBONE.NAME") == "build_resnet_fpn_backbone" else {
            throw ConfigError("MODEL.BACKBONE.NAME \(try cfg.string("MODEL.BACKBONE.NAME")) is not supported yet; use build_resnet_fpn_backbone")
        }
        let resnetNorm = try NormKind(config: try cfg.string("MODEL.RESNETS.NORM"), key: "MODEL.RESNETS.NORM")
        let resnet = try ResNet(depth: try cfg.int("MODEL.RESNETS.DEPTH"), stemOut: try cfg.int("MODEL.RESNETS.STEM_OUT_CHANNELS"),
                                res2Out: try cfg.int("MODEL.RESNETS.RES2_OUT_CHANNELS"), groups: try cfg.int("MODEL.RESNETS.NUM_GROUPS"),
                                widthPerGroup: try cfg.int("MODEL.RESNETS.WIDTH_PER_GROUP"),
                                strideIn1x1: try cfg.bool("MODEL.RESNETS.STRIDE_IN_1X1"),
                                res5Dilation: try cfg.int("MODEL.RESNETS.RES5_DILATION"), outFeatures: try cfg.strings("MODEL.RESNETS.OUT_FEATURES"),
                                norm: resnetNorm, freezeAt: try cfg.int("MODEL.BACKBONE.FREEZE_AT"))
        backbone = try FPN(bottomUp: resnet, inFeatures: try cfg.strings("MODEL.FPN.IN_FEATURES"), outChannels: try cfg.int("MODEL.FPN.OUT_CHANNELS"),
                           norm: try NormKind(config: try cfg.string("MODEL.FPN.NORM"), key: "MODEL.FPN.NORM"))
        let rpnFeatures = try cfg.strings("MODEL.RPN.IN_FEATURES")
        let strides = backbone.levelStrides
        let anchors = try AnchorGenerator(sizes: try cfg.doubleLists("MODEL.ANCHOR_GENERATOR.SIZES"),
                                          aspectRatios: try cfg.doubleLists("MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS"),
                                          strides: Array(strides.prefix(rpnFeatures.count)), offset: try cfg.double("MODEL.ANCHOR_GENERATOR.OFFSET"))
        proposalGenerator = try RPN(channels: backbone.outChannels, anchorGenerator: anchors, preNMSTopK: try cfg.int("MODEL.RPN.PRE_NMS_TOPK_TEST"),
                                    postNMSTopK: try cfg.int("MODEL.RPN.POST_NMS_TOPK_TEST"), nmsThreshold: try cfg.double("MODEL.RPN.NMS_THRESH"),
                                    minBoxSize: try cfg.double("MODEL.PROPOSAL_GENERATOR.MIN_SIZE"))
        let roiFeatures = try cfg.strings("MODEL.ROI_HEADS.IN_FEATURES")
        let levels = roiFeatures.compactMap { Int($0.dropFirst()) }
        guard let minLevel = levels.min(), let maxLevel = levels.max() else { throw ConfigError("MODEL.ROI_HEADS.IN_FEATURES names no FPN level") }
        let poolerType = try cfg.string("MODEL.ROI_BOX_HEAD.POOLER_TYPE")
        guard ["ROIAlignV2", "ROIAlign"].contains(poolerType) else { throw ConfigError("MODEL.ROI_BOX_HEAD.POOLER_TYPE \(poolerType) is not supported; use ROIAlignV2 or ROIAlign") }
        let pooler = ROIPooler(outputSize: try cfg.int("MODEL.ROI_BOX_HEAD.POOLER_RESOLUTION"),
                               scales: levels.map { 1.0 / Double(1 << $0) }, samplingRatio: try cfg.int("MODEL.ROI_BOX_HEAD.POOLER_SAMPLING_RATIO"),
                               aligned: poolerType == "ROIAlignV2", minLevel: minLevel, maxLevel: maxLevel)
        roiHeads = try ROIHeads(pooler: pooler, channels: backbone.outChannels, numConv: try cfg.int("MODEL.ROI_BOX_HEAD.NUM_CONV"),
                                convDim: try cfg.int("MODEL.ROI_BOX_HEAD.CONV_DIM"),
                                convNorm: try NormKind(config: try cfg.string("MODEL.ROI_BOX_HEAD.NORM"), key: "MODEL.ROI_BOX_HEAD.NORM"),
                                numFC: try cfg.int("MODEL.ROI_BOX_HEAD.NUM_FC"),
                                fcDim: try cfg.int("MODEL.ROI_BOX_HEAD.FC_DIM"), numClasses: try cfg.int("MODEL.ROI_HEADS.NUM_CLASSES"),
                                classAgnostic: try cfg.bool("MODEL.ROI_BOX_HEAD.CLS_AGNOSTIC_BBOX_REG"),
                                scoreThreshold: try cfg.double("MODEL.ROI_HEADS.SCORE_THRESH_TEST"), nmsThreshold: try cfg.double("MODEL.ROI_HEADS.NMS_THRESH_TEST"),
                                detectionsPerImage: try cfg.int("TEST.DETECTIONS_PER_IMAGE"))
        proposalGenerator.preNMSTopKTrain = try cfg.int("MODEL.RPN.PRE_NMS_TOPK_TRAIN")
        proposalGenerator.postNMSTopKTrain = try cfg.int("MODEL.RPN.POST_NMS_TOPK_TRAIN")
        var rpnLosses = RPNLossSettings()
        rpnLosses.matcher = try Matcher(thresholds: try cfg.doubles("MODEL.RPN.IOU_THRESHOLDS"), labels: try cfg.ints("MODEL.RPN.IOU_LABELS"),
                                        allowLowQualityMatches: true)
        rpnLosses.batchSizePerImage = try cfg.int("MODEL.RPN.BATCH_SIZE_PER_IMAGE")
        rpnLosses.positiveFraction = try cfg.double("MODEL.RPN.POSITIVE_FRACTION")
        rpnLosses.boxLoss = try BoxRegressionLoss(type: try cfg.string("MODEL.RPN.BBOX_REG_LOSS_TYPE"), beta: try cfg.double("MODEL.RPN.SMOOTH_L1_BETA"),
                                                  key: "MODEL.RPN.BBOX_REG_LOSS_TYPE")
        rpnLosses.clsWeight = try cfg.double("MODEL.RPN.LOSS_WEIGHT")
        rpnLosses.locWeight = try cfg.double("MODEL.RPN.BBOX_REG_LOSS_WEIGHT") * rpnLosses.clsWeight
        proposalGenerator.losses = rpnLosses
        var roiLosses = ROILossSettings()
        roiLosses.matcher = try Matcher(thresholds: try cfg.doubles("MODEL.ROI_HEADS.IOU_THRESHOLDS"), labels: try cfg.ints("MODEL.ROI_HEADS.IOU_LABELS"),
                                        allowLowQualityMatches: false)
        roiLosses.batchSizePerImage = try cfg.int("MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE")
        roiLosses.positiveFraction = try cfg.double("MODEL.ROI_HEADS.POSITIVE_FRACTION")
        roiLosses.appendGroundTruth = try cfg.bool("MODEL.ROI_HEADS.PROPOSAL_APPEND_GT")
        roiLosses.boxLoss = try BoxRegressionLoss(type: try cfg.string("MODEL.ROI_BOX_HEAD.BBOX_REG_LOSS_TYPE"), beta: try cfg.double("MODEL.ROI_BOX_HEAD.SMOOTH_L1_BETA"),
                                                  key: "MODEL.ROI_BOX_HEAD.BBOX_REG_LOSS_TYPE")
        roiLosses.boxWeight = try cfg.double("MODEL.ROI_BOX_HEAD.BBOX_REG_LOSS_WEIGHT")
        roiHeads.losses = roiLosses
        pixelMean = try Tensor(try cfg.doubles("MODEL.PIXEL_MEAN").map { Float($0) }).view([-1, 1, 1])
        pixelStd = try Tensor(try cfg.doubles("MODEL.PIXEL_STD").map { Float($0) }).view([-1, 1, 1])
        sizeDivisibility = 32
        super.init()
        try child("backbone", backbone)
        try child("proposal_generator", proposalGenerator)
        try child("roi_heads", roiHeads)
        if initialize { try initializeWeights() }
        eval()
    }

    /// Loads weights; shape mismatches (another NUM_CLASSES) are skipped with a warning per
    /// parameter, and missing or unexpected keys are listed, as Detectron2 does.
    @discardableResult
    public func loadWeights(_ path: String) throws -> LoadReport {
        let checkpoint = try Checkpoint.load(path)
        var weights = checkpoint.stateDict
        if checkpoint.caffe2Names {
            // Caffe2 files (ImageNet backbones, Detectron1 models): rename, then match by suffix.
            let renamed = try Caffe2Names.convert(checkpoint.model)
            let byName = Dictionary(renamed.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
            let mapping = try Caffe2Names.align(modelKeys: namedSlots().map(\.name), checkpointKeys: Array(byName.keys))
            weights = Dictionary(uniqueKeysWithValues: mapping.map { ($0.key, byName[$0.value]!) })
            let unused = Set(byName.keys).subtracting(mapping.values)
            if !unused.isEmpty {
                DetectionLog.shared.warn("checkpoint", "\(path): \(unused.count) Caffe2 weights are not used by the model: \(unused.sorted().prefix(8).joined(separator: ", "))\(unused.count > 8 ? ", ..." : "")")
            }
        }
        var report = try load(stateDict: weights)
        if checkpoint.caffe2Names { report.unexpected = [] }
        let log = DetectionLog.shared
        for m in report.mismatched {
            log.warn("checkpoint", "Skip loading parameter '\(m.name)' to the model due to incompatible shapes: \(m.found) in the checkpoint but \(m.expected) in the model! You might want to double check if this is expected.")
        }
        if !report.missing.isEmpty { log.warn("checkpoint", "Some model parameters or buffers are not found in the checkpoint: \(report.missing.joined(separator: ", "))") }
        let unexpected = report.unexpected.filter { !$0.hasPrefix("pixel_") }
        if !unexpected.isEmpty { log.warn("checkpoint", "The checkpoint state_dict contains keys that are not used by the model: \(unexpected.joined(separator: ", "))") }
        resetAllCaches()
        return report
    }

    /// MODEL.WEIGHTS loaded into the model: nil when it is empty; a download link is an error
    /// (Lunette reads local files only). Returns the path loaded.
    @discardableResult
    public func loadWeights(configuredIn cfg: CfgNode) throws -> String? {
        let weights = try cfg.string("MODEL.WEIGHTS")
        guard !weights.isEmpty else { return nil }
        guard !weights.hasPrefix("detectron2://") && !weights.hasPrefix("http") else {
            throw ConfigError("MODEL.WEIGHTS \(weights) is a download link; Lunette loads local files only: download it once and give its path")
        }
        try loadWeights(weights)
        return weights
    }

    /// MODEL.DEVICE ("cpu", "cuda", "cuda:N", "auto"), with "cuda" falling back to the CPU when
    /// CUDA is not available (`fellBack` says so, for callers that warn).
    public static func device(configuredIn cfg: CfgNode) throws -> (device: Device, fellBack: Bool) {
        let name = try cfg.string("MODEL.DEVICE")
        let fallBack = name == "cuda" && !TorchRuntime.cudaIsAvailable
        return (try Device(parsing: fallBack ? "cpu" : name), fallBack)
    }

    public func to(_ device: Device) throws {
        try to(device: device)
        self.device = device
        resetAllCaches()
    }

    /// Normalises and pads images (3, H, W, BGR float 0..255) into one batch.
    func preprocess(_ images: [Tensor]) throws -> (Tensor, [(Int, Int)]) {
        let mean = try pixelMean.to(device: device), std = try pixelStd.to(device: device)
        let normalized = try images.map { try ($0.to(dtype: .float32, device: device) - mean) / std }
        let sizes = normalized.map { ($0.shape[1], $0.shape[2]) }
        let d = sizeDivisibility
        let h = (sizes.map(\.0).max()! + d - 1) / d * d, w = (sizes.map(\.1).max()! + d - 1) / d * d
        let batch = try Tensor.zeros([normalized.count, 3, h, w], device: device)
        for (i, img) in normalized.enumerated() {
            try batch.select(0, i).narrow(1, start: 0, length: sizes[i].0).narrow(2, start: 0, length: sizes[i].1).copy_(img)
        }
        // Channels-last activations: oneDNN convolves them without reordering, and ROIAlign
        // reads them as they are.
        return (try batch.channelsLast(), sizes)
    }

    /// Inference on resized images; returns instances in input-image coordinates.
    public func inference(_ images: [Tensor]) throws -> [Instances] {
        try noGrad {
            let (batch, sizes) = try preprocess(images)
            let features = try backbone.forward(batch)
            let proposals = try proposalGenerator.forward(features, imageSizes: sizes)
            let roiFeatures = Array(features.prefix(4))
            return try roiHeads.forward(roiFeatures, proposals: proposals, imageSizes: sizes)
        }
    }

    /// detector_postprocess: rescale to the original size, clip, drop empty boxes.
    public static func postprocess(_ r: Instances, height: Int, width: Int) throws -> Instances {
        let sx = Double(width) / Double(r.imageSize.1), sy = Double(height) / Double(r.imageSize.0)
        let scale = try Tensor([Float(sx), Float(sy), Float(sx), Float(sy)]).to(device: r.boxes.device)
        var boxes = try BoxOps.clip(try r.boxes * scale, height: height, width: width)
        let keep = try BoxOps.nonempty(boxes)
        boxes = try boxes.index(keep)
        return Instances(boxes: boxes, scores: try r.scores.index(keep), classes: try r.classes.index(keep), imageSize: (height, width))
    }
}
