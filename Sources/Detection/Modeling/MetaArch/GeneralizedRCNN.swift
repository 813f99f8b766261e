import Foundation
import Torch
import Vision

/// An error that stops training (divergence, bad targets), with a message naming what went wrong.
public struct TrainingError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What one training forward pass gives: the losses (Detectron2's names and order) and the
/// statistics Detectron2 logs beside them (rpn/num_pos_anchors, fast_rcnn/cls_accuracy, ...).
public struct TrainingOutput {
    public var losses: [(name: String, value: Tensor)] = []
    public var metrics: [(name: String, value: Double)] = []
}

/// Detectron2's GeneralizedRCNN: backbone, proposal generator and ROI heads, which read the
/// backbone's features by name (MODEL.RPN.IN_FEATURES, MODEL.ROI_HEADS.IN_FEATURES).
public final class GeneralizedRCNN: Module {
    public let backbone: any Backbone
    public let proposalGenerator: RPN
    public let roiHeads: StandardROIHeads
    public let pixelMean: Tensor, pixelStd: Tensor
    public private(set) var device: Device = .cpu
    /// What the convolutions and linear layers compute in (`setPrecision`); fp32 unless set.
    public private(set) var precision: Precision = .fp32

    /// Runs the convolutions and linear layers at `requested` from now on, where this model's
    /// device does it natively: fp32 where it does not (said once per process), an error where
    /// the precision is not offered (fp16 on the CPU). Weights stay fp32; box decoding,
    /// ROIAlign, NMS and the score softmax run fp32 at any precision. Returns what is in effect.
    @discardableResult
    public func setPrecision(_ requested: Precision) throws -> Precision {
        var effective = requested
        switch requested.support(on: device) {
        case .native: break
        case .fallback(let why):
            effective = .fp32
            DetectionLog.shared.warnOnce("precision", key: "inference \(requested) \(device)", "\(requested) on \(device): \(why)")
        case .refused(let why):
            throw ConfigError("precision = \"\(requested)\" on \(device): \(why)")
        }
        precision = effective
        setComputeDType(effective.dtype)
        return effective
    }

    public init(backbone: any Backbone, proposalGenerator: RPN, roiHeads: StandardROIHeads, pixelMean: [Double], pixelStd: [Double]) throws {
        guard pixelMean.count == pixelStd.count, pixelMean.count == 3 else {
            throw ConfigError("MODEL.PIXEL_MEAN and MODEL.PIXEL_STD need 3 values each (one per channel), not \(pixelMean.count) and \(pixelStd.count)")
        }
        guard pixelStd.allSatisfy({ $0 > 0 && $0.isFinite }), pixelMean.allSatisfy(\.isFinite) else {
            throw ConfigError("MODEL.PIXEL_STD must be positive and MODEL.PIXEL_MEAN finite (\(pixelMean), \(pixelStd))")
        }
        self.backbone = backbone
        self.proposalGenerator = proposalGenerator
        self.roiHeads = roiHeads
        self.pixelMean = try Tensor(pixelMean.map { Float($0) }).view([-1, 1, 1])
        self.pixelStd = try Tensor(pixelStd.map { Float($0) }).view([-1, 1, 1])
        super.init()
        try child("backbone", backbone)
        try child("proposal_generator", proposalGenerator)
        try child("roi_heads", roiHeads)
        eval()
    }

    /// build_model: the model a config describes, with Detectron2's random initialisation
    /// (`initialize` false leaves zeros, for callers that load every weight next).
    public convenience init(cfg: CfgNode, initialize: Bool = true) throws {
        try ConfigSupport.validate(cfg)
        let arch = try cfg.string("MODEL.META_ARCHITECTURE")
        guard arch == "GeneralizedRCNN" else { throw ConfigError("MODEL.META_ARCHITECTURE '\(arch)' is not supported; Lunette has GeneralizedRCNN") }
        let backboneName = try cfg.string("MODEL.BACKBONE.NAME")
        guard backboneName == "build_resnet_fpn_backbone" else {
            throw ConfigError("MODEL.BACKBONE.NAME '\(backboneName)' is not supported; Lunette has build_resnet_fpn_backbone")
        }
        let backbone = try FPN(cfg: cfg)
        try self.init(backbone: backbone, proposalGenerator: try RPN(cfg: cfg, inputShape: backbone.outputShape),
                      roiHeads: try StandardROIHeads(cfg: cfg, inputShape: backbone.outputShape),
                      pixelMean: try cfg.doubles("MODEL.PIXEL_MEAN"), pixelStd: try cfg.doubles("MODEL.PIXEL_STD"))
        if initialize { try initializeParameters() }
    }

    /// Detectron2's initialisation, module by module in the order Detectron2 builds them
    /// (bottom-up network, FPN, RPN head, box head, box predictor), so the random draws follow
    /// its order.
    public func initializeParameters() throws {
        try backbone.initializeParameters()
        try proposalGenerator.initializeParameters()
        try roiHeads.initializeParameters()
        resetAllCaches()
    }

    /// Loads weights (DetectionCheckpointer); returns what was loaded, missing and mismatched.
    @discardableResult
    public func loadWeights(_ path: String) throws -> LoadReport { try DetectionCheckpointer(self).load(path) }

    /// MODEL.WEIGHTS loaded into the model: nil when it is empty. A model-zoo link
    /// (detectron2://...) is read from the local model zoo (ModelZooFiles); another download
    /// link is an error (Lunette reads local files only). Returns the path loaded and what was
    /// loaded from it.
    @discardableResult
    public func loadWeights(configuredIn cfg: CfgNode) throws -> (path: String, report: LoadReport)? {
        let weights = try cfg.string("MODEL.WEIGHTS")
        guard !weights.isEmpty else { return nil }
        let path = try ModelZooFiles.localPath(weights)
        return (path, try loadWeights(path))
    }

    /// MODEL.DEVICE ("cpu", "cuda", "cuda:N", "auto"). Plain "cuda" (Detectron2's default, which
    /// configs carry without meaning it) falls back to the CPU with a warning from `user` when CUDA
    /// is not available; a device that cannot be used is an error naming MODEL.DEVICE and the value.
    public static func device(configuredIn cfg: CfgNode, for user: String) throws -> Device {
        let name = try cfg.string("MODEL.DEVICE")
        if name == "cuda" && !TorchRuntime.cudaIsAvailable {
            DetectionLog.shared.warn(user, "MODEL.DEVICE is 'cuda' but CUDA is not available (no GPU, or a CPU-only libtorch); running on the CPU")
            return .cpu
        }
        let device: Device
        do { device = try Device(parsing: name) } catch { throw ConfigError("MODEL.DEVICE = '\(name)': \(error)") }
        if case .cuda(let index) = device {
            guard TorchRuntime.cudaIsAvailable else {
                throw ConfigError("MODEL.DEVICE = '\(name)': CUDA is not available on this machine (no GPU, or a CPU-only libtorch); use 'cpu'")
            }
            let count = TorchRuntime.cudaDeviceCount
            guard index < count else { throw ConfigError("MODEL.DEVICE = '\(name)': this machine has \(count) CUDA device\(count == 1 ? "" : "s") (cuda:0\(count > 1 ? " to cuda:\(count - 1)" : ""))") }
        }
        return device
    }

    public func to(_ device: Device) throws {
        try to(device: device)
        self.device = device
        resetAllCaches()
    }

    /// preprocess_image: images (3, H, W, in INPUT.FORMAT, float 0..255) normalised and padded
    /// to the backbone's size divisibility into one ImageList.
    func preprocess(_ images: [Tensor]) throws -> ImageList {
        let mean = try pixelMean.to(device: device), std = try pixelStd.to(device: device)
        let normalized = try images.map { try ($0.to(dtype: .float32, device: device) - mean) / std }
        var list = try ImageList.fromTensors(normalized, sizeDivisibility: backbone.sizeDivisibility)
        // Channels-last activations: oneDNN convolves them without reordering, and ROIAlign
        // reads them as they are.
        list.tensor = try list.tensor.channelsLast()
        return list
    }

    /// Inference on resized images; returns instances in input-image coordinates.
    public func inference(_ images: [Tensor]) throws -> [Instances] {
        try noGrad {
            let batch = try preprocess(images)
            return try heads(try backbone.forward(batch.tensor), batch)
        }
    }

    private func heads(_ features: [String: Tensor], _ batch: ImageList) throws -> [Instances] {
        let proposals = try proposalGenerator.forward(features, imageSizes: batch.imageSizes)
        return try roiHeads.forward(features, proposals: proposals, imageSizes: batch.imageSizes)
    }

    /// The part of the bottom-up ResNet that can be shared between models: the stem and the
    /// frozen stages (FREEZE_AT), nil when nothing is frozen or the backbone is not a ResNet
    /// under an FPN.
    public var sharablePrefix: (resnet: ResNet, stages: Int)? {
        guard let fpn = backbone as? FPN, let resnet = fpn.bottomUp as? ResNet, resnet.frozenDepth >= 1 else { return nil }
        return (resnet, resnet.frozenDepth - 1)
    }

    /// Preprocessing and the shareable prefix (`sharablePrefix`) of a batch: what `inference(from:)`
    /// finishes, for this model and for every model with the same prefix weights.
    public struct Prefix {
        public let batch: ImageList
        public let partial: ResNet.Partial
    }

    public func prefix(_ images: [Tensor]) throws -> Prefix {
        guard let (resnet, stages) = sharablePrefix else { throw ConfigError("this model has no frozen stem to share (MODEL.BACKBONE.FREEZE_AT 0)") }
        return try noGrad {
            let batch = try preprocess(images)
            return Prefix(batch: batch, partial: try resnet.forward(batch.tensor, stages: stages))
        }
    }

    /// Inference from a prefix computed by this model or by one with identical prefix weights
    /// and preprocessing: the same detections as `inference` on the same images.
    public func inference(from prefix: Prefix) throws -> [Instances] {
        guard let fpn = backbone as? FPN, let (resnet, _) = sharablePrefix else { throw ConfigError("this model has no frozen stem to share (MODEL.BACKBONE.FREEZE_AT 0)") }
        return try noGrad { try heads(try fpn.forward(bottomUpFeatures: try resnet.resume(prefix.partial)), prefix.batch) }
    }

    /// One training forward pass (the model in training mode): resized images (3, H, W) and
    /// their ground truth in; losses in Detectron2's order (loss_cls, loss_box_reg, loss_rpn_cls,
    /// loss_rpn_loc) and the statistics it logs out.
    public func trainingForward(images: [Tensor], targets: [TrainingTargets]) throws -> TrainingOutput {
        guard isTraining else { throw TrainingError("the model is in inference mode; call train() before a training step") }
        guard images.count == targets.count, !images.isEmpty else { throw TrainingError("a training batch needs one target per image (\(images.count) images, \(targets.count) targets)") }
        let targets = try targets.map { TrainingTargets(boxes: try $0.boxes.to(dtype: .float32, device: device), classes: try $0.classes.to(dtype: .int64, device: device), samplingSeed: $0.samplingSeed) }
        for (i, t) in targets.enumerated() where t.count > 0 {
            let high = try t.classes.max().item(), low = try t.classes.min().item()
            guard low >= 0, Int(high) < roiHeads.numClasses else {
                throw TrainingError("image \(i + 1) of the batch has class \(Int(low < 0 ? low : high)), outside MODEL.ROI_HEADS.NUM_CLASSES = \(roiHeads.numClasses)")
            }
        }
        let batch = try preprocess(images)
        let features = try backbone.forward(batch.tensor)
        var output = TrainingOutput()
        var rpnOutput = TrainingOutput()
        let proposals = try proposalGenerator.trainingForward(features, imageSizes: batch.imageSizes, targets: targets, output: &rpnOutput)
        try roiHeads.trainingForward(features, proposals: proposals, targets: targets, output: &output)
        output.losses += rpnOutput.losses
        output.metrics = rpnOutput.metrics + output.metrics
        return output
    }
}
