import Foundation
import Torch

/// Detectron2's Matcher: each prediction (column) takes the ground truth (row) it overlaps most,
/// and a label from the IoU band it falls in; optionally the best predictions of every ground
/// truth are made positive even when their IoU is low.
public struct Matcher: Sendable {
    public var thresholds: [Double]
    public var labels: [Int]
    public var allowLowQualityMatches: Bool

    /// `key` names the config node the thresholds and labels come from, for messages.
    public init(thresholds: [Double], labels: [Int], allowLowQualityMatches: Bool, key: String = "") throws {
        let prefix = key.isEmpty ? "" : key + "."
        guard labels.count == thresholds.count + 1 else {
            throw ConfigError("\(prefix)IOU_LABELS needs one more entry than \(prefix)IOU_THRESHOLDS (\(thresholds) and \(labels))")
        }
        guard thresholds.allSatisfy({ (0...1).contains($0) }) else { throw ConfigError("\(prefix)IOU_THRESHOLDS must be in [0, 1]: \(thresholds)") }
        guard zip(thresholds, thresholds.dropFirst()).allSatisfy({ $0 <= $1 }) else { throw ConfigError("\(prefix)IOU_THRESHOLDS must increase: \(thresholds)") }
        guard labels.allSatisfy({ [-1, 0, 1].contains($0) }) else { throw ConfigError("\(prefix)IOU_LABELS must be -1, 0 or 1: \(labels)") }
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
