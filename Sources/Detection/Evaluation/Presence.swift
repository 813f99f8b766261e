import Foundation
import Support
import Torch

/// Counts at one threshold and the metrics made from them.
public struct PresenceCounts: Equatable, Sendable {
    public var tp = 0, fp = 0, fn = 0, tn = 0

    public var total: Int { tp + fp + fn + tn }
    public var accuracy: Double? { total == 0 ? nil : Double(tp + tn) / Double(total) }
    /// nil when nothing was predicted positive.
    public var precision: Double? { tp + fp == 0 ? nil : Double(tp) / Double(tp + fp) }
    /// nil when nothing is truly positive.
    public var recall: Double? { tp + fn == 0 ? nil : Double(tp) / Double(tp + fn) }
    /// 2TP / (2TP + FP + FN); nil when all three are zero.
    public var f1: Double? { 2 * tp + fp + fn == 0 ? nil : Double(2 * tp) / Double(2 * tp + fp + fn) }

    public func metric(_ name: String) throws -> Double? {
        switch name {
        case "accuracy": return accuracy
        case "precision": return precision
        case "recall": return recall
        case "f1": return f1
        default: throw DataError("unknown metric '\(name)': use accuracy, precision, recall or f1")
        }
    }

    static func + (a: PresenceCounts, b: PresenceCounts) -> PresenceCounts {
        PresenceCounts(tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn, tn: a.tn + b.tn)
    }
}

/// Image-level presence: "does this creative contain a logo?". An image is predicted positive for a
/// class at threshold t when it has a detection of that class with score >= t, and truly positive
/// when it has an annotation of that class. Every threshold is answered from one pass over the
/// stored predictions (sorted best scores and binary search), never by re-running a model.
public struct PresenceEvaluation: Sendable {
    public let classes: [String]
    public let thresholds: [Double]
    /// counts[class][threshold]
    public let counts: [[PresenceCounts]]

    /// `predictions`: each image's detections, with its imageID set.
    public init(dicts: [DatasetDict], predictions: [Instances], classes: [String], thresholds: [Double]) throws {
        guard !thresholds.isEmpty else { throw DataError("presence needs at least one threshold") }
        for t in thresholds where !(0...1).contains(t) || t.isNaN { throw DataError("threshold \(t) is outside 0..1") }
        self.classes = classes
        self.thresholds = thresholds
        let byImage = try Instances.byImage(predictions)
        let known = Set(dicts.map(\.imageID))
        let unknown = byImage.keys.filter { !known.contains($0) }.count
        if unknown > 0 {
            DetectionLog.shared.warn("presence", "\(unknown) images of predictions are not in the dataset; they are left out")
        }
        var result: [[PresenceCounts]] = []
        for k in classes.indices {
            // Best score per image for this class (-inf when none), split by truth.
            var positives: [Double] = [], negatives: [Double] = []
            for d in dicts {
                let truly = d.annotations.contains { $0.categoryID == k }
                var best = -Double.infinity
                if let p = byImage[d.imageID] {
                    for (c, s) in zip(p.classes, p.scores) where c == k && s > best { best = s }
                }
                if truly { positives.append(best) } else { negatives.append(best) }
            }
            positives.sort()
            negatives.sort()
            func atLeast(_ sorted: [Double], _ t: Double) -> Int {
                var lo = 0, hi = sorted.count
                while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] >= t { hi = mid } else { lo = mid + 1 } }
                return sorted.count - lo
            }
            result.append(thresholds.map { t in
                let tp = atLeast(positives, t), fp = atLeast(negatives, t)
                return PresenceCounts(tp: tp, fp: fp, fn: positives.count - tp, tn: negatives.count - fp)
            })
        }
        counts = result
    }

    /// Thresholds from..to by step, rounded to 10 decimals so 0.2 + 20 * 0.01 is 0.4.
    public static func sweep(from: Double, to: Double, step: Double) throws -> [Double] {
        guard step > 0, from <= to else { throw DataError("a sweep needs from <= to and a positive step") }
        let n = Int(((to - from) / step + 1e-9).rounded(.down))
        return (0...n).map { ((from + Double($0) * step) * 1e10).rounded() / 1e10 }
    }

    public func classIndex(_ name: String) throws -> Int {
        guard let k = classes.firstIndex(of: name) else {
            throw DataError("unknown class '\(name)'; the classes are \(classes.joined(separator: ", "))")
        }
        return k
    }

    public func thresholdIndex(_ t: Double) throws -> Int {
        guard let i = thresholds.firstIndex(where: { abs($0 - t) < 1e-9 }) else {
            throw DataError("threshold \(t) was not evaluated; the thresholds are \(thresholds.map { String($0) }.joined(separator: ", "))")
        }
        return i
    }

    /// Counts summed over classes (micro average), per threshold.
    public var overall: [PresenceCounts] {
        thresholds.indices.map { i in counts.reduce(PresenceCounts()) { $0 + $1[i] } }
    }

    /// The best threshold for a class and metric; ties go to the higher threshold.
    public func best(class k: Int, metric: String) throws -> (threshold: Double, value: Double)? {
        var best: (Double, Double)?
        for (i, t) in thresholds.enumerated() {
            guard let v = try counts[k][i].metric(metric) else { continue }
            if best == nil || v > best!.1 || (v == best!.1 && t > best!.0) { best = (t, v) }
        }
        return best
    }
}

/// A confusion matrix with labels: rows are the truth, columns the prediction.
public struct ConfusionMatrix: Sendable {
    public var rowLabels: [String]
    public var columnLabels: [String]
    public var counts: [[Int]]
    public var title: String

    public init(rowLabels: [String], columnLabels: [String], counts: [[Int]], title: String) {
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.counts = counts
        self.title = title
    }

    /// The 2x2 presence matrix of one class at a threshold: rows (absent, present), columns (no, yes).
    public static func presence(_ c: PresenceCounts, className: String, threshold: Double) -> ConfusionMatrix {
        ConfusionMatrix(rowLabels: ["no \(className)", className], columnLabels: ["no \(className)", className],
                        counts: [[c.tn, c.fp], [c.fn, c.tp]], title: "\(className) at \(formatThreshold(threshold))")
    }

    /// The box-level matrix: ground-truth classes plus background (rows) against predicted classes
    /// plus background (columns). In each image, predictions above the score threshold take, by
    /// descending score, the unmatched ground-truth box of highest IoU >= iouThreshold (of any
    /// class); unmatched predictions count against background, unmatched ground truth as missed.
    public static func boxes(dicts: [DatasetDict], predictions: [Instances], classes: [String],
                             scoreThreshold: Double, iouThreshold: Double = 0.5) throws -> ConfusionMatrix {
        let K = classes.count
        var m = [[Int]](repeating: [Int](repeating: 0, count: K + 1), count: K + 1)
        let byImage = try Instances.byImage(predictions)
        for d in dicts {
            let gts = d.annotations.filter { $0.isCrowd == 0 && $0.categoryID < K }
            var matched = [Bool](repeating: false, count: gts.count)
            if let p = byImage[d.imageID] {
                let order = p.scores.indices.filter { p.scores[$0] >= scoreThreshold && p.classes[$0] < K }
                    .sorted { p.scores[$0] > p.scores[$1] || (p.scores[$0] == p.scores[$1] && $0 < $1) }
                for i in order {
                    var best = -1
                    var bestIoU = iouThreshold
                    for (g, gt) in gts.enumerated() where !matched[g] {
                        let v = Boxes.iou(xyxy: p.boxes[i], gt.xyxy)
                        if v >= bestIoU && (best == -1 || v > bestIoU) { best = g; bestIoU = v }
                    }
                    if best >= 0 {
                        matched[best] = true
                        m[gts[best].categoryID][p.classes[i]] += 1
                    } else {
                        m[K][p.classes[i]] += 1
                    }
                }
            }
            for (g, gt) in gts.enumerated() where !matched[g] { m[gt.categoryID][K] += 1 }
        }
        return ConfusionMatrix(rowLabels: classes + ["background"], columnLabels: classes + ["background"], counts: m,
                               title: "boxes at score >= \(formatThreshold(scoreThreshold)), IoU >= \(formatThreshold(iouThreshold))")
    }

    /// A plain-text table.
    public var table: String {
        let corner = "truth \\ predicted"
        let w = max(corner.count, rowLabels.map(\.count).max() ?? 0)
        let cw = max(6, (columnLabels.map(\.count).max() ?? 0), (counts.flatMap { $0 }.map { String($0).count }.max() ?? 0))
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            s.count >= n ? s : (left ? s + String(repeating: " ", count: n - s.count) : String(repeating: " ", count: n - s.count) + s)
        }
        var lines = [title, pad(corner, w, left: true) + " " + columnLabels.map { pad($0, cw) }.joined(separator: " ")]
        for (r, row) in counts.enumerated() {
            lines.append(pad(rowLabels[r], w, left: true) + " " + row.map { pad(String($0), cw) }.joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }

    public var csv: String {
        var table = CSVWriter(header: ["truth\\predicted"] + columnLabels)
        for (r, row) in counts.enumerated() { table.append([rowLabels[r]] + row.map(String.init)) }
        return table.text
    }
}

func formatThreshold(_ t: Double) -> String {
    let r = (t * 100).rounded() / 100
    return r == t ? String(format: "%.2f", t) : String(t)
}

extension PresenceEvaluation {
    /// One row per class and threshold (and "overall"), as a table.
    public func table(thresholds only: [Double]? = nil) -> String {
        let idx = try? (only ?? thresholds).map { try thresholdIndex($0) }
        let columns = ["class", "threshold", "TP", "FP", "FN", "TN", "accuracy", "precision", "recall", "F1"]
        var rows: [[String]] = []
        func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "—" }
        for (k, name) in (classes + ["overall"]).enumerated() {
            for i in idx ?? Array(thresholds.indices) {
                let c = k < classes.count ? counts[k][i] : overall[i]
                rows.append([name, formatThreshold(thresholds[i]), String(c.tp), String(c.fp), String(c.fn), String(c.tn),
                             f(c.accuracy), f(c.precision), f(c.recall), f(c.f1)])
            }
        }
        let widths = columns.indices.map { c in max(columns[c].count, rows.map { $0[c].count }.max() ?? 0) }
        func line(_ r: [String]) -> String { r.enumerated().map { c, v in c == 0 ? v.padding(toLength: widths[c], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[c] - v.count) + v }.joined(separator: "  ") }
        return ([line(columns)] + rows.map(line)).joined(separator: "\n") + "\n(— : undefined, nothing predicted or nothing to find)"
    }

    public var csv: String {
        var table = CSVWriter(header: ["class", "threshold", "tp", "fp", "fn", "tn", "accuracy", "precision", "recall", "f1"])
        func f(_ v: Double?) -> String { v.map { String($0) } ?? "" }
        for (k, name) in (classes + ["overall"]).enumerated() {
            for i in thresholds.indices {
                let c = k < classes.count ? counts[k][i] : overall[i]
                table.append([name, String(thresholds[i]), String(c.tp), String(c.fp), String(c.fn), String(c.tn),
                              f(c.accuracy), f(c.precision), f(c.recall), f(c.f1)])
            }
        }
        return table.text
    }

    /// Counts and metrics per class (and "overall") and threshold, as JSON (undefined as null).
    public var json: String {
        func d(_ v: Double?) -> JSONValue { v.map { .double($0) } ?? .null }
        return JSON.text(.array((classes + ["overall"]).enumerated().flatMap { k, name in
            thresholds.indices.map { i -> JSONValue in
                let c = k < classes.count ? counts[k][i] : overall[i]
                return .object([("class", .string(name)), ("threshold", .double(thresholds[i])), ("tp", .int(Int64(c.tp))),
                                ("fp", .int(Int64(c.fp))), ("fn", .int(Int64(c.fn))), ("tn", .int(Int64(c.tn))),
                                ("accuracy", d(c.accuracy)), ("precision", d(c.precision)), ("recall", d(c.recall)), ("f1", d(c.f1))])
            }
        }))
    }

    /// One metric against the threshold, per class (thresholds where it is undefined left out).
    public func curves(metric: String) throws -> [(className: String, points: [(threshold: Double, value: Double)])] {
        try classes.indices.map { k in
            (classes[k], try thresholds.indices.compactMap { i in try counts[k][i].metric(metric).map { (thresholds[i], $0) } })
        }
    }
}
