import Foundation
import Torch

/// Detectron2's box modes (the integer values of detectron2.structures.BoxMode).
public enum BoxMode: Int, Sendable {
    case xyxyAbs = 0, xywhAbs = 1

    /// BoxMode.convert for one box: [x, y, w, h] <-> [x1, y1, x2, y2] (no -1, as Detectron2).
    public static func convert(_ box: [Double], from: BoxMode, to: BoxMode) -> [Double] {
        guard from != to, box.count == 4 else { return box }
        return from == .xywhAbs ? [box[0], box[1], box[0] + box[2], box[1] + box[3]] : [box[0], box[1], box[2] - box[0], box[3] - box[1]]
    }

    /// BoxMode.convert for (N, 4) tensors.
    public static func convert(_ boxes: Tensor, from: BoxMode, to: BoxMode) throws -> Tensor {
        guard from != to else { return boxes }
        let xy = try boxes.narrow(1, start: 0, length: 2), other = try boxes.narrow(1, start: 2, length: 2)
        return try Tensor.cat([xy, from == .xywhAbs ? try xy + other : try other - xy], dim: 1)
    }
}

/// Detectron2's Boxes: an (N, 4) XYXY tensor with the box operations of the project. The IoU
/// here is the project's one IoU: `pairwiseIoU` for tensors (the model's matching), `iou` for
/// one pair of CPU boxes (evaluation, presence), the same definition.
public struct Boxes {
    public var tensor: Tensor

    public init(_ tensor: Tensor) { self.tensor = tensor }

    public var count: Int { tensor.shape[0] }

    /// (x2 - x1) * (y2 - y1) per box.
    public func area() throws -> Tensor {
        try (tensor.select(1, 2) - tensor.select(1, 0)) * (tensor.select(1, 3) - tensor.select(1, 1))
    }

    /// Boxes with x clamped to [0, width] and y to [0, height].
    public func clipped(height: Int, width: Int) throws -> Boxes {
        let x1 = try tensor.select(1, 0).clamp(min: 0, max: Double(width)), y1 = try tensor.select(1, 1).clamp(min: 0, max: Double(height))
        let x2 = try tensor.select(1, 2).clamp(min: 0, max: Double(width)), y2 = try tensor.select(1, 3).clamp(min: 0, max: Double(height))
        return Boxes(try Tensor.stack([x1, y1, x2, y2], dim: 1))
    }

    /// A mask of the boxes whose width and height are both > threshold.
    public func nonempty(threshold: Double = 0) throws -> Tensor {
        let w = try tensor.select(1, 2) - tensor.select(1, 0), h = try tensor.select(1, 3) - tensor.select(1, 1)
        return try w.binary(.gt, threshold).binary(.logicalAnd, h.binary(.gt, threshold))
    }

    /// Boxes scaled by (sx, sy) (Detectron2's Boxes.scale).
    public func scaled(x sx: Double, y sy: Double) throws -> Boxes {
        let factors = try Tensor([Float(sx), Float(sy), Float(sx), Float(sy)]).to(device: tensor.device)
        return Boxes(try tensor * factors)
    }

    public func index(_ maskOrIndices: Tensor) throws -> Boxes { Boxes(try tensor.index(maskOrIndices)) }

    /// IoU of every pair (N, M) of `a` (N boxes) and `b` (M boxes); 0 where boxes do not overlap.
    public static func pairwiseIoU(_ a: Boxes, _ b: Boxes) throws -> Tensor {
        let areaA = try a.area(), areaB = try b.area()
        let lt = try a.tensor.narrow(1, start: 0, length: 2).unsqueeze(1).maximum(b.tensor.narrow(1, start: 0, length: 2))
        let rb = try a.tensor.narrow(1, start: 2, length: 2).unsqueeze(1).minimum(b.tensor.narrow(1, start: 2, length: 2))
        let wh = try (rb - lt).clamp(min: 0)
        let inter = try wh.select(2, 0) * wh.select(2, 1)
        let iou = try inter / (areaA.unsqueeze(1) + areaB - inter)
        return try Tensor.where(inter.binary(.gt, 0), iou, Tensor.zeros([], dtype: iou.dtype, device: iou.device))
    }

    /// IoU of one detection box and one ground-truth box, both (x, y, w, h), as pycocotools'
    /// bbIou computes it: 0 without overlap, and for crowd ground truth the union is the
    /// detection's own area.
    @inline(__always)
    public static func iou(xywh d: (Double, Double, Double, Double), _ g: (Double, Double, Double, Double), crowd: Bool = false) -> Double {
        let w = min(d.0 + d.2, g.0 + g.2) - max(d.0, g.0)
        if w <= 0 { return 0 }
        let h = min(d.1 + d.3, g.1 + g.3) - max(d.1, g.1)
        if h <= 0 { return 0 }
        let inter = w * h
        let union = crowd ? d.2 * d.3 : d.2 * d.3 + g.2 * g.3 - inter
        return inter / union
    }

    /// The same IoU for two XYXY boxes.
    public static func iou(xyxy a: [Double], _ b: [Double]) -> Double {
        iou(xywh: (a[0], a[1], a[2] - a[0], a[3] - a[1]), (b[0], b[1], b[2] - b[0], b[3] - b[1]))
    }
}
