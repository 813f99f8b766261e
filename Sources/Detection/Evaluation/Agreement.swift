import Foundation
import Torch

/// How closely a run's detections follow a reference run's (the same model at a reduced
/// precision against fp32, a build against another): the share of the reference's detections
/// with score ≥ `minScore` that the run also has — same image, same class, IoU ≥ `iou`, score
/// within `scoreDelta`. Reference detections are taken from the highest score down and each
/// detection of the run matches at most one of them.
public struct DetectionAgreement: Equatable, Sendable {
    public var matched = 0
    public var total = 0
    /// The largest score difference among the matched pairs.
    public var maxScoreDelta = 0.0
    /// The smallest IoU among the matched pairs (1 when none matched).
    public var minIoU = 1.0

    public var share: Double { total == 0 ? 1 : Double(matched) / Double(total) }

    public struct Criteria: Sendable {
        public var minScore = 0.3, iou = 0.9, scoreDelta = 0.02
        public init(minScore: Double = 0.3, iou: Double = 0.9, scoreDelta: Double = 0.02) {
            self.minScore = minScore; self.iou = iou; self.scoreDelta = scoreDelta
        }
    }

    struct Detection { var box: [Double]; var score: Double; var label: Int64 }

    static func detections(_ i: Instances) throws -> [Detection] {
        let n = i.count
        guard n > 0 else { return [] }
        let b = try i.boxes.tensor.to(dtype: .float64, device: .cpu).contiguous().toArray(Double.self)
        let s = try i.scores.to(dtype: .float64, device: .cpu).toArray(Double.self)
        let c = try i.classes.to(dtype: .int64, device: .cpu).toArray(Int64.self)
        return (0..<n).map { Detection(box: Array(b[(4 * $0)..<(4 * $0 + 4)]), score: s[$0], label: c[$0]) }
    }

    /// Images are paired by image id (by position where either run has none); an image the run
    /// lacks counts its reference detections as unmatched.
    public static func compare(reference: [Instances], run: [Instances], criteria: Criteria = Criteria()) throws -> DetectionAgreement {
        var byID: [Int64: Instances] = [:]
        let useIDs = reference.allSatisfy { $0.imageID != nil } && run.allSatisfy { $0.imageID != nil }
        if useIDs {
            for r in run {
                guard byID.updateValue(r, forKey: r.imageID!) == nil else { throw DataError("the predictions compared hold image \(r.imageID!) twice") }
            }
        }
        var result = DetectionAgreement()
        for (k, ref) in reference.enumerated() {
            let wanted = try detections(ref).filter { $0.score >= criteria.minScore }.sorted { $0.score > $1.score }
            result.total += wanted.count
            let other: Instances? = useIDs ? byID[ref.imageID!] : (k < run.count ? run[k] : nil)
            guard let other, !wanted.isEmpty else { continue }
            let candidates = try detections(other)
            var used = [Bool](repeating: false, count: candidates.count)
            for d in wanted {
                var best = -1, bestIoU = criteria.iou
                for (j, c) in candidates.enumerated() where !used[j] && c.label == d.label && abs(c.score - d.score) <= criteria.scoreDelta {
                    let v = Boxes.iou(xyxy: d.box, c.box)
                    if v >= bestIoU { best = j; bestIoU = v }
                }
                guard best >= 0 else { continue }
                used[best] = true
                result.matched += 1
                result.maxScoreDelta = max(result.maxScoreDelta, abs(candidates[best].score - d.score))
                result.minIoU = min(result.minIoU, bestIoU)
            }
        }
        return result
    }
}
