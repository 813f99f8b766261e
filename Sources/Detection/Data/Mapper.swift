import Foundation
import Torch
import Vision

/// What the model receives for one image: Detectron2's mapped dataset dict.
public final class MappedSample: @unchecked Sendable {
    /// The resized image, uint8 (3, H, W), BGR.
    public let image: Tensor
    /// The original size (for rescaling predictions).
    public let height: Int, width: Int
    public let imageID: Int64
    public let fileName: String
    /// Training targets: boxes (N, 4) XYXY in the resized image, classes (N) int64; nil at test time.
    public let gtBoxes: Tensor?
    public let gtClasses: Tensor?
    /// The seed of this sample's place in the training stream: its anchor and proposal sampling
    /// seed (the same in any process of a data-parallel job). nil outside a training stream.
    public internal(set) var samplingSeed: UInt64?

    init(image: Tensor, height: Int, width: Int, imageID: Int64, fileName: String, gtBoxes: Tensor?, gtClasses: Tensor?) {
        self.image = image
        self.height = height
        self.width = width
        self.imageID = imageID
        self.fileName = fileName
        self.gtBoxes = gtBoxes
        self.gtClasses = gtClasses
    }
}

/// Detectron2's DatasetMapper: read the image (BGR), check its size against the dict, resize
/// (and flip when training), make a CHW tensor, drop crowd annotations, transform and clip the
/// boxes, drop empty ones.
public struct DatasetMapper: Sendable {
    public var isTrain: Bool
    public var resize: ResizeShortestEdge
    /// Horizontal flip probability when training (0 disables).
    public var flipProbability: Double
    /// Pillow's antialiased bilinear resize (what Detectron2 does); false uses OpenCV's bilinear.
    public var pilCompatibleResize = true

    public init(isTrain: Bool, resize: ResizeShortestEdge, flipProbability: Double = 0.5) {
        self.isTrain = isTrain
        self.resize = resize
        self.flipProbability = isTrain ? flipProbability : 0
    }

    public func map<G: RandomNumberGenerator>(_ d: DatasetDict, rng: inout G) throws -> MappedSample {
        let image: Image
        do {
            image = try Image.read(d.fileName)
        } catch {
            throw DataError("image \(d.imageID) (\(d.fileName)): \(error)")
        }
        if image.width != d.width || image.height != d.height {
            throw DataError("image \(d.imageID) (\(d.fileName)): Mismatched image shape: the file is \(image.width)x\(image.height) but the annotation says \(d.width)x\(d.height). Please check the width/height in your annotation.")
        }
        var resized = try resize.apply(image, shortEdge: resize.sampleShortEdge(using: &rng), pil: pilCompatibleResize)
        let flip = flipProbability > 0 && Double.random(in: 0..<1, using: &rng) < flipProbability
        if flip { resized = try resized.flippedHorizontally() }
        let tensor = try resized.chwTensor()
        guard isTrain else {
            return MappedSample(image: tensor, height: d.height, width: d.width, imageID: d.imageID, fileName: d.fileName, gtBoxes: nil, gtClasses: nil)
        }
        let sx = Double(resized.width) / Double(image.width), sy = Double(resized.height) / Double(image.height)
        let W = Double(resized.width), H = Double(resized.height)
        var boxes: [Float] = []
        var classes: [Int64] = []
        for a in d.annotations where a.isCrowd == 0 {
            let b = a.xyxy
            var x1 = b[0] * sx, x2 = b[2] * sx
            let y1 = b[1] * sy, y2 = b[3] * sy
            if flip { (x1, x2) = (W - x2, W - x1) }
            let cx1 = Swift.min(Swift.max(Swift.min(x1, x2), 0), W), cx2 = Swift.min(Swift.max(Swift.max(x1, x2), 0), W)
            let cy1 = Swift.min(Swift.max(Swift.min(y1, y2), 0), H), cy2 = Swift.min(Swift.max(Swift.max(y1, y2), 0), H)
            guard cx2 - cx1 > 1e-5, cy2 - cy1 > 1e-5 else { continue }
            boxes += [Float(cx1), Float(cy1), Float(cx2), Float(cy2)]
            classes.append(Int64(a.categoryID))
        }
        return MappedSample(image: tensor, height: d.height, width: d.width, imageID: d.imageID, fileName: d.fileName,
                            gtBoxes: try Tensor(boxes, shape: [classes.count, 4]), gtClasses: try Tensor(classes))
    }
}
