import Foundation
import Torch

/// Detectron2's Instances for detections: the one detection value of the project, from the
/// model's output through the predictor, the evaluators, the presence metrics and Lua.
/// Boxes are XYXY in the coordinates of `imageSize`, scores descending as the model gives them,
/// classes 0-based contiguous ids. `imageID` says which dataset image they belong to, where that
/// is known (the evaluator sets it; a predictor's output has none).
public struct Instances {
    /// (height, width) the boxes refer to.
    public var imageSize: (Int, Int)
    public var boxes: Boxes
    public var scores: Tensor
    public var classes: Tensor
    public var imageID: Int64?
    private let lists = ListCache()

    public init(imageSize: (Int, Int), boxes: Tensor, scores: Tensor, classes: Tensor, imageID: Int64? = nil) {
        self.imageSize = imageSize
        self.boxes = Boxes(boxes)
        self.scores = scores
        self.classes = classes
        self.imageID = imageID
    }

    /// From tensors a caller made (a Lua model's output): shapes that do not agree are an
    /// error naming `source`. Stored on the CPU as float64 boxes and scores, int64 classes.
    public init(checking boxes: Tensor, scores: Tensor, classes: Tensor, imageSize: (Int, Int) = (0, 0), imageID: Int64?,
                source: String = "instances") throws {
        let b = try boxes.to(dtype: .float64, device: .cpu)
        let n = b.dim == 2 ? b.shape[0] : 0
        guard n == 0 || b.shape == [n, 4] else { throw DataError("\(source).pred_boxes must be (N, 4), is \(b.shape)") }
        let s = try scores.to(dtype: .float64, device: .cpu), c = try classes.to(dtype: .int64, device: .cpu)
        guard s.numel == n, c.numel == n else { throw DataError("\(source): \(n) boxes, \(s.numel) scores, \(c.numel) classes") }
        self.init(imageSize: imageSize, boxes: n == 0 ? try Tensor.zeros([0, 4], dtype: .float64) : b,
                  scores: try s.reshape([n]), classes: try c.reshape([n]), imageID: imageID)
    }

    /// From lists (detections written by hand or read back): XYXY boxes of four numbers.
    public init(boxes: [[Double]], scores: [Double], classes: [Int], imageSize: (Int, Int) = (0, 0), imageID: Int64?,
                source: String = "instances") throws {
        guard scores.count == boxes.count, classes.count == boxes.count else {
            throw DataError("\(source): \(boxes.count) boxes, \(scores.count) scores, \(classes.count) classes")
        }
        for (i, b) in boxes.enumerated() where b.count != 4 {
            throw DataError("\(source)[\(i + 1)].box must be {x1, y1, x2, y2}, has \(b.count) numbers")
        }
        self.init(imageSize: imageSize, boxes: try Tensor(boxes.flatMap { $0 }, shape: [boxes.count, 4]),
                  scores: try Tensor(scores, shape: [scores.count]), classes: try Tensor(classes.map { Int64($0) }, shape: [classes.count]),
                  imageID: imageID)
        lists.value = (boxes, scores, classes)
    }

    public var count: Int { scores.shape[0] }

    /// The instances a mask or an index tensor selects.
    public func index(_ keep: Tensor) throws -> Instances {
        Instances(imageSize: imageSize, boxes: try boxes.tensor.index(keep), scores: try scores.index(keep), classes: try classes.index(keep),
                  imageID: imageID)
    }

    /// The same instances on another device (Detectron2's Instances.to).
    public func to(_ device: Device) throws -> Instances {
        let copy = Instances(imageSize: imageSize, boxes: try boxes.tensor.to(device: device), scores: try scores.to(device: device),
                             classes: try classes.to(device: device), imageID: imageID)
        copy.lists.value = lists.value
        return copy
    }

    /// The same instances with another image id.
    public func with(imageID: Int64?) -> Instances {
        let copy = Instances(imageSize: imageSize, boxes: boxes.tensor, scores: scores, classes: classes, imageID: imageID)
        copy.lists.value = lists.value
        return copy
    }

    /// The detections as CPU lists (XYXY boxes, scores, classes), read from the tensors once.
    public func asLists() throws -> (boxes: [[Double]], scores: [Double], classes: [Int]) {
        if let v = lists.value { return v }
        let flat = try boxes.tensor.to(dtype: .float64, device: .cpu).contiguous().toArray(Double.self)
        let n = count
        let v = ((0..<n).map { Array(flat[($0 * 4)..<($0 * 4 + 4)]) },
                 try scores.to(dtype: .float64, device: .cpu).toArray(Double.self),
                 try classes.to(dtype: .int64, device: .cpu).toArray(Int64.self).map { Int($0) })
        lists.value = v
        return v
    }

    /// Each image's detections as lists, by image id (the first set when an id repeats); every
    /// instance set must have its imageID.
    public static func byImage(_ all: [Instances]) throws -> [Int64: (boxes: [[Double]], scores: [Double], classes: [Int])] {
        var out: [Int64: (boxes: [[Double]], scores: [Double], classes: [Int])] = [:]
        for (i, p) in all.enumerated() {
            guard let id = p.imageID else { throw DataError("predictions[\(i + 1)] has no image id") }
            if out[id] == nil { out[id] = try p.asLists() }
        }
        return out
    }

    private final class ListCache: @unchecked Sendable {
        var value: (boxes: [[Double]], scores: [Double], classes: [Int])?
    }
}

/// The ground truth of one training image (Detectron2's gt_boxes and gt_classes): boxes (G, 4)
/// XYXY in the resized image, classes (G) int64.
public struct TrainingTargets {
    public var boxes: Tensor
    public var classes: Tensor
    /// Seeds the random sampling of this image's anchors (RPN) and proposals (ROI heads), so an
    /// image is sampled alike whichever process and batch it is in (data-parallel training
    /// then equals one process with the whole batch). nil: the generator's current stream.
    public var samplingSeed: UInt64?
    public init(boxes: Tensor, classes: Tensor, samplingSeed: UInt64? = nil) {
        self.boxes = boxes
        self.classes = classes
        self.samplingSeed = samplingSeed
    }
    public var count: Int { classes.shape[0] }
}
