import Foundation
import Torch
import Vision

/// Detectron2's DefaultPredictor: a BGR uint8 image in, detections in its coordinates out
/// (scores descending). Builds the model from the config and loads MODEL.WEIGHTS.
public final class DefaultPredictor {
    public let model: GeneralizedRCNN
    public let resize: ResizeShortestEdge
    public let classes: [String]?
    /// Where the class names come from ("DATASETS.TEST 'brand_valid'"), nil when none is known.
    public let labelSource: String?
    public let inputFormat: String

    /// `precision`: what the convolutions and linear layers run in (`GeneralizedRCNN.setPrecision`;
    /// fp32 where the device has no native support for it).
    public init(cfg: CfgNode, catalog: DataCatalog = .shared, precision: Precision = .fp32) throws {
        model = try GeneralizedRCNN(cfg: cfg, initialize: try cfg.string("MODEL.WEIGHTS").isEmpty)
        if try model.loadWeights(configuredIn: cfg) == nil {
            DetectionLog.shared.warn("DefaultPredictor", "MODEL.WEIGHTS is empty: the model keeps its initial (untrained) weights")
        }
        let device = try GeneralizedRCNN.device(configuredIn: cfg, for: "DefaultPredictor")
        if device != .cpu { try model.to(device) }
        if precision != .fp32 { try model.setPrecision(precision) }
        resize = try ResizeShortestEdge(shortEdgeLengths: [try cfg.int("INPUT.MIN_SIZE_TEST")], maxSize: try cfg.int("INPUT.MAX_SIZE_TEST"))
        inputFormat = try cfg.string("INPUT.FORMAT")   // BGR or RGB: checked with the model's config
        (classes, labelSource) = try DefaultPredictor.classNames(cfg: cfg, catalog: catalog)
    }

    /// The names labels come from: DATASETS.TEST's first dataset, else DATASETS.TRAIN's (said
    /// once per pair of names, as a predictor made from a training config has no TEST set).
    static func classNames(cfg: CfgNode, catalog: DataCatalog) throws -> ([String]?, String?) {
        let test = try cfg.strings("DATASETS.TEST"), train = try cfg.strings("DATASETS.TRAIN")
        if let name = test.first, let classes = catalog.metadata(name).thingClasses { return (classes, "DATASETS.TEST '\(name)'") }
        guard let name = train.first, let classes = catalog.metadata(name).thingClasses else { return (nil, nil) }
        let why = test.first.map { "DATASETS.TEST's '\($0)' has no thing_classes\(catalog.isRegistered($0) ? "" : " (it is not registered)")" } ?? "DATASETS.TEST is empty"
        let note = "labels come from DATASETS.TRAIN's '\(name)' (\(classes.joined(separator: ", "))): \(why)"
        DetectionLog.shared.infoOnce("DefaultPredictor", key: note, note)
        return (classes, "DATASETS.TRAIN '\(name)'")
    }

    /// The model's input for one image: resized as Detectron2 does, CHW.
    func input(_ image: Image) throws -> Tensor { try Self.input(image, resize: resize, format: inputFormat) }

    /// What a predictor with these settings feeds its model for an image (bulk detection
    /// resizes once per distinct setting for all its models through this).
    public static func input(_ image: Image, resize: ResizeShortestEdge, format: String) throws -> Tensor {
        guard image.width > 0 && image.height > 0 else { throw ConfigError("cannot detect objects in an empty image (\(image.width)x\(image.height) pixels)") }
        var img = try image.bgr()
        if format == "RGB" { img = try img.rgb() }
        return try resize.apply(img, shortEdge: resize.shortEdgeLengths[0]).chwTensor().to(dtype: .float32)
    }

    /// Detections for each image (in its own coordinates), from one forward pass over the batch.
    public func predict(_ images: [Image]) throws -> [Instances] {
        guard !images.isEmpty else { return [] }
        let inputs = try images.map(input)
        let raw = try model.inference(inputs)
        return try zip(raw, images).map { r, image in try detectorPostprocess(r, height: image.height, width: image.width) }
    }
}
