import Foundation
import Torch

extension BoxOps {
    /// IoU of every pair (N, M) of XYXY boxes (N, 4) and (M, 4); 0 where boxes do not overlap.
    public static func pairwiseIoU(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let areaA = try area(a), areaB = try area(b)
        let lt = try a.narrow(1, start: 0, length: 2).unsqueeze(1).maximum(b.narrow(1, start: 0, length: 2))
        let rb = try a.narrow(1, start: 2, length: 2).unsqueeze(1).minimum(b.narrow(1, start: 2, length: 2))
        let wh = try (rb - lt).clamp(min: 0)
        let inter = try wh.select(2, 0) * wh.select(2, 1)
        let iou = try inter / (areaA.unsqueeze(1) + areaB - inter)
        return try Tensor.where(inter.binary(.gt, 0), iou, Tensor.zeros([], dtype: iou.dtype, device: iou.device))
    }
}

extension Box2BoxTransform {
    /// The deltas that turn `source` boxes into `target` boxes (both (N, 4) XYXY): the inverse of
    /// applyDeltas, (N, 4) as (dx, dy, dw, dh) times the weights.
    public func deltas(from source: Tensor, to target: Tensor) throws -> Tensor {
        let s = try source.float(), t = try target.float()
        let sw = try s.select(1, 2) - s.select(1, 0), sh = try s.select(1, 3) - s.select(1, 1)
        let sx = try s.select(1, 0) + sw * 0.5, sy = try s.select(1, 1) + sh * 0.5
        let tw = try t.select(1, 2) - t.select(1, 0), th = try t.select(1, 3) - t.select(1, 1)
        let tx = try t.select(1, 0) + tw * 0.5, ty = try t.select(1, 1) + th * 0.5
        let dx = try (tx - sx) * weights.0 / sw, dy = try (ty - sy) * weights.1 / sh
        let dw = try (tw / sw).log() * weights.2, dh = try (th / sh).log() * weights.3
        return try Tensor.stack([dx, dy, dw, dh], dim: 1)
    }
}

/// Detectron2's Matcher: each prediction (column) takes the ground truth (row) it overlaps most,
/// and a label from the IoU band it falls in; optionally the best predictions of every ground
/// truth are made positive even when their IoU is low.
public struct Matcher: Sendable {
    public var thresholds: [Double]
    public var labels: [Int]
    public var allowLowQualityMatches: Bool

    public init(thresholds: [Double], labels: [Int], allowLowQualityMatches: Bool) throws {
        guard labels.count == thresholds.count + 1 else {
            throw ConfigError("IOU_LABELS needs one more entry than IOU_THRESHOLDS (\(thresholds) and \(labels))")
        }
        guard zip(thresholds, thresholds.dropFirst()).allSatisfy({ $0 <= $1 }) else { throw ConfigError("IOU_THRESHOLDS must increase: \(thresholds)") }
        guard labels.allSatisfy({ [-1, 0, 1].contains($0) }) else { throw ConfigError("IOU_LABELS must be -1, 0 or 1: \(labels)") }
        self.thresholds = thresholds
        self.labels = labels
        self.allowLowQualityMatches = allowLowQualityMatches
    }

    /// quality (G, P) -> (matched ground-truth index (P) int64, label (P) int64).
    public func match(_ quality: Tensor) throws -> (matches: Tensor, labels: Tensor) {
        let p = quality.shape[1], device = quality.device
        if quality.shape[0] == 0 {
            return (try Tensor.zeros([p], dtype: .int64, device: device), try Tensor.full([p], Double(labels[0]), dtype: .int64, device: device))
        }
        let (values, matches) = try quality.max(dim: 0)
        var result = try Tensor.ones([p], dtype: .int64, device: device)
        let bounds = [-Double.infinity] + thresholds + [Double.infinity]
        for (i, label) in labels.enumerated() {
            let band = try values.binary(.ge, bounds[i]).binary(.logicalAnd, values.binary(.lt, bounds[i + 1]))
            result = try result.maskedFill(band, Double(label))
        }
        if allowLowQualityMatches {
            // Every prediction whose IoU equals a ground truth's best IoU (ties included).
            let best = try quality.max(dim: 1).values.unsqueeze(1)
            let hits = try quality.binary(.eq, best).reduce(.any, dims: [0])
            result = try result.maskedFill(hits, 1)
        }
        return (matches, result)
    }
}

/// Detectron2's subsample_labels: at most num*fraction random positives (labels neither -1
/// nor background), negatives (background) filling the rest. Returns (positive, negative) indices.
public func subsampleLabels(_ labels: Tensor, count: Int, positiveFraction: Double, background: Int) throws -> (Tensor, Tensor) {
    let positive = try labels.binary(.ne, -1, integral: true).binary(.logicalAnd, labels.binary(.ne, Double(background), integral: true)).nonzero().select(1, 0)
    let negative = try labels.binary(.eq, Double(background), integral: true).nonzero().select(1, 0)
    let numPos = min(positive.shape[0], Int(Double(count) * positiveFraction))
    let numNeg = min(negative.shape[0], count - numPos)
    let p = try Tensor.randperm(positive.shape[0], device: labels.device).narrow(0, start: 0, length: numPos)
    let n = try Tensor.randperm(negative.shape[0], device: labels.device).narrow(0, start: 0, length: numNeg)
    return (try positive.indexSelect(0, p), try negative.indexSelect(0, n))
}
