import Drawing
import Foundation
import Support

/// A per-class confidence threshold chosen on stored predictions: the metric at every threshold
/// from..to by step (the study: 20% to 99% by 1%), each class's best, a plot and a table.
public struct ThresholdSweep {
    public let presence: PresenceEvaluation
    public let metric: String
    /// Where the predictions came from (a trial, a weights file, a results file).
    public let source: String

    public init(dicts: [DatasetDict], predictions: [Instances], classes: [String], from: Double, to: Double, step: Double,
                metric: String, source: String) throws {
        guard ["accuracy", "precision", "recall", "f1"].contains(metric) else {
            throw DataError("threshold_sweep: metric must be accuracy, precision, recall or f1, not '\(metric)'\(Suggestion.hint(for: metric, among: ["accuracy", "precision", "recall", "f1"]))")
        }
        guard from >= 0, to <= 1, from <= to else { throw DataError("threshold_sweep: from (\(from)) and to (\(to)) must satisfy 0 <= from <= to <= 1") }
        guard step > 0 else { throw DataError("threshold_sweep: step must be positive, got \(step)") }
        presence = try PresenceEvaluation(dicts: dicts, predictions: predictions, classes: classes,
                                          thresholds: try PresenceEvaluation.sweep(from: from, to: to, step: step))
        self.metric = metric
        self.source = source
    }

    /// Each class's best threshold and its value. Ties go to the higher threshold (at equal
    /// accuracy it raises fewer false alarms); a class whose metric is undefined at every
    /// threshold (precision with nothing detected) is left out.
    public func bestPerClass() throws -> [(className: String, threshold: Double, value: Double)] {
        try presence.classes.indices.compactMap { k in
            try presence.best(class: k, metric: metric).map { (presence.classes[k], $0.threshold, $0.value) }
        }
    }

    /// The metric against the threshold per class, each class's chosen point marked.
    public func plot(title: String? = nil) throws -> Figure {
        let best = try bestPerClass()
        let series = try presence.curves(metric: metric).map { c -> Plots.Series in
            let mark = best.first { $0.className == c.className }
            return Plots.Series(name: c.className, points: c.points.map { (x: $0.threshold, y: $0.value) },
                                marked: mark.map { [(x: $0.threshold, y: $0.value, label: String(format: "%.2f", $0.threshold))] } ?? [])
        }
        return try Plots.lines(series, xLabel: "confidence threshold", yLabel: metric, title: title ?? "\(metric) by threshold — \(source)")
    }

    /// One line per class: the chosen threshold, its counts and metrics.
    public func table() throws -> String {
        let best = try bestPerClass()
        var lines = ["threshold sweep (\(metric), \(presence.thresholds.first!)…\(presence.thresholds.last!), \(presence.thresholds.count) thresholds) — \(source)"]
        let header = ["class", "threshold", metric, "TP", "FP", "FN", "TN"]
        var rows: [[String]] = []
        for k in presence.classes.indices {
            guard let b = best.first(where: { $0.className == presence.classes[k] }) else {
                rows.append([presence.classes[k], "—", "undefined", "", "", "", ""])
                continue
            }
            let c = presence.counts[k][try presence.thresholdIndex(b.threshold)]
            rows.append([b.className, String(format: "%.2f", b.threshold), String(format: "%.4f", b.value), String(c.tp), String(c.fp), String(c.fn), String(c.tn)])
        }
        let widths = header.indices.map { c in max(header[c].count, rows.map { $0[c].count }.max() ?? 0) }
        func line(_ r: [String]) -> String { r.enumerated().map { c, v in c == 0 ? v.padding(toLength: widths[c], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[c] - v.count) + v }.joined(separator: "  ") }
        lines.append(line(header))
        lines += rows.map(line)
        lines.append("(ties go to the higher threshold)")
        return lines.joined(separator: "\n")
    }
}
