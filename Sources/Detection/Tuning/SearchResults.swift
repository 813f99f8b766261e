import Drawing
import Foundation
import Store
import Support

/// What a grid search found: its trials as the store has them now, scored from their stored
/// predictions at any thresholds; the best; heat maps; the table; CSV.
extension GridSearch {
    public struct TrialView {
        public var number: Int
        public var id: String
        public var params: [(key: String, value: CfgValue)]
        public var state: String
        public var reason: String?
        public var note: String?
        public var worker: String?
        public var runID: String
        public var maxIter: Int
        public var weights: String?
        public var predictions: String?
        public var seconds: Double?
        public var finished: Double?
        /// Scored at the search's thresholds (nil until done).
        public var scores: TrialScores?

        public func value(_ key: String) -> CfgValue? { params.first { $0.key == key }?.value }
    }

    /// The search's trials in grid order, scored at `thresholds` (the search's by default).
    public func trials(thresholds: [Double]? = nil) throws -> [TrialView] {
        let rows = try store.trials(trialIDs)
        let runs = Dictionary(try store.runs(Array(Set(rows.map(\.runID)))).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return try rows.enumerated().map { i, r in
            var view = TrialView(number: i + 1, id: r.id, params: ParamCoding.decode(r.params), state: r.state, reason: r.reason, note: r.note,
                                 worker: r.state == "running" ? (runs[r.runID]?.worker ?? r.worker) : nil, runID: r.runID, maxIter: r.maxIter,
                                 weights: r.weights, predictions: r.predictions, seconds: r.seconds, finished: r.finished, scores: nil)
            if r.state == "done" { view.scores = try scores(of: r, thresholds: thresholds ?? spec.thresholds) }
            return view
        }
    }

    /// A finished trial scored again from its stored predictions.
    func scores(of r: SearchStore.Trial, thresholds: [Double]) throws -> TrialScores {
        guard let stored = TrialScores.stored(r.metrics), let json = try store.predictionsJSON(trial: r.id) else {
            throw DataError("trial \(r.id) is done but its predictions are missing from \(store.path)")
        }
        let valid = snapshot.valid
        let predictions = try TrialScores.predictions(cocoResultsJSON: json, dicts: valid.dicts, idMap: valid.idMap, source: "trial \(r.id)'s predictions")
        return try TrialScores.score(predictions: predictions, dicts: valid.dicts, classes: snapshot.classes, ap: stored.ap,
                                     floor: stored.floor, thresholds: thresholds)
    }

    public struct Best {
        public var trial: TrialView
        public var threshold: Double
        public var value: Double
    }

    /// The best finished trial at one threshold, or over all the search's thresholds. Failed and
    /// unfinished trials are left out, and so are undefined values. Ties go to fewer iterations,
    /// then the smaller batch, then the smaller value of each other key in grid order, then the
    /// higher threshold.
    public func best(threshold: Double? = nil, metric: String? = nil, among views: [TrialView]? = nil) throws -> Best? {
        let metric = metric ?? spec.metric
        let thresholds = threshold.map { [$0] } ?? spec.thresholds
        let views = try views ?? trials(thresholds: Array(Set(thresholds + spec.thresholds)).sorted())
        var best: Best?
        for v in views {
            guard let s = v.scores else { continue }
            for t in thresholds {
                guard let value = try s.value(metric, at: t), value.isFinite else { continue }
                let candidate = Best(trial: v, threshold: t, value: value)
                if best == nil || better(candidate, than: best!) { best = candidate }
            }
        }
        return best
    }

    func better(_ a: Best, than b: Best) -> Bool {
        if a.value != b.value { return a.value > b.value }
        for k in SearchSpec.studyOrder(spec.keys) {
            guard let x = a.trial.value(k), let y = b.trial.value(k), x != y else { continue }
            return ParamCoding.less(x, y)
        }
        return a.threshold > b.threshold
    }

    /// The cells of a heat map: the metric of the trial at (row value, column value) with the other
    /// keys at `fixed`; nil for a trial not finished (or undefined).
    public func heatmapCells(rows: String, cols: String, threshold: Double, metric: String? = nil,
                             fixed: [(key: String, value: CfgValue)] = [], views: [TrialView]? = nil) throws -> [[Double?]] {
        let metric = metric ?? spec.metric
        let (rowValues, colValues) = try heatmapAxes(rows: rows, cols: cols, fixed: fixed)
        let views = try views ?? trials(thresholds: Array(Set(spec.thresholds + [threshold])).sorted())
        return try rowValues.map { r in
            try colValues.map { c in
                guard let v = views.first(where: { v in
                    v.value(rows) == r && v.value(cols) == c && fixed.allSatisfy { v.value($0.key) == $0.value }
                }), let s = v.scores else { return nil }
                return try s.value(metric, at: threshold)
            }
        }
    }

    func heatmapAxes(rows: String, cols: String, fixed: [(key: String, value: CfgValue)]) throws -> ([CfgValue], [CfgValue]) {
        func values(_ key: String) throws -> [CfgValue] {
            guard let entry = spec.grid.first(where: { $0.key == key }) else {
                throw ConfigError("heatmap: \(key) is not a key of this grid\(Suggestion.hint(for: key, among: spec.keys)); the keys are \(spec.keys.joined(separator: ", "))")
            }
            return entry.values
        }
        guard rows != cols else { throw ConfigError("heatmap: rows and cols are both \(rows)") }
        let r = try values(rows), c = try values(cols)
        for f in fixed {
            guard try values(f.key).contains(f.value) else { throw ConfigError("heatmap: fixed \(f.key) = \(f.value) is not one of the grid's values") }
        }
        let others = spec.keys.filter { $0 != rows && $0 != cols && !fixed.map(\.key).contains($0) }
        if !others.isEmpty {
            throw ConfigError("heatmap: the grid has \(spec.keys.count) keys and a heat map shows two; pick one value of \(others.joined(separator: ", ")) with fixed = { [\"\(others[0])\"] = ... }")
        }
        return (r, c)
    }

    /// The default axes: rows SOLVER.MAX_ITER and columns ROI_HEADS.BATCH_SIZE_PER_IMAGE where the
    /// grid has them, else the first two keys.
    public func defaultAxes() throws -> (rows: String, cols: String) {
        guard spec.keys.count >= 2 else { throw ConfigError("heatmap: a heat map needs a grid of two keys; this one has only \(spec.keys[0])") }
        let order = SearchSpec.studyOrder(spec.keys)
        return (order[0], order[1])
    }

    /// Heat maps, one panel per threshold (the study's figure), one colour scale; the best cell of
    /// each panel is marked "best". An AP metric has one panel (it does not depend on thresholds).
    public func heatmaps(thresholds: [Double]? = nil, rows: String? = nil, cols: String? = nil, metric: String? = nil,
                         fixed: [(key: String, value: CfgValue)] = [], title: String? = nil) throws -> Figure {
        let metric = metric ?? spec.metric
        let axes = try defaultAxes()
        let rows = rows ?? axes.rows, cols = cols ?? axes.cols
        let thresholds = metric.hasPrefix("AP") ? [thresholds?.first ?? spec.thresholds[0]] : (thresholds ?? spec.thresholds)
        let views = try trials(thresholds: Array(Set(spec.thresholds + thresholds)).sorted())
        let (rowValues, colValues) = try heatmapAxes(rows: rows, cols: cols, fixed: fixed)
        var panels: [Plots.Panel] = []
        for t in thresholds {
            let cells = try heatmapCells(rows: rows, cols: cols, threshold: t, metric: metric, fixed: fixed, views: views)
            // The cell best() picks among the trials shown (its tie rule, whatever the axes' order).
            let shown = views.filter { v in fixed.allSatisfy { v.value($0.key) == $0.value } }
            let top = try best(threshold: t, metric: metric, among: shown)
            let texts: [[[String]]] = cells.enumerated().map { r, row in row.enumerated().map { c, v in
                guard let v else { return ["n/a"] }
                let isBest = top.map { $0.trial.value(rows) == rowValues[r] && $0.trial.value(cols) == colValues[c] } ?? false
                return [String(format: "%.3f", v)] + (isBest ? ["best"] : [])
            } }
            panels.append(Plots.Panel(title: metric.hasPrefix("AP") ? metric : "threshold \(Int((t * 100).rounded()))%",
                                      values: cells.map { $0.map { $0.flatMap { $0.isFinite ? $0 : nil } } }, texts: texts))
        }
        let defined = panels.flatMap { $0.values.flatMap { $0 } }.compactMap { $0 }
        let fixedNote = fixed.isEmpty ? "" : " (" + fixed.map { "\(Self.shortKey($0.key)) \(ParamCoding.label($0.value))" }.joined(separator: ", ") + ")"
        return try Plots.grid(panels, rowLabels: rowValues.map(ParamCoding.label), columnLabels: colValues.map(ParamCoding.label),
                              rowTitle: rows, columnTitle: cols, title: title ?? "\(metric) on \(spec.valid)\(fixedNote)",
                              barLabel: metric, range: Plots.colorRange(defined))
    }

    /// The image-level 2×2 matrix of each class for the best trial at a threshold.
    public func confusionMatrices(threshold: Double) throws -> (best: Best, matrices: [ConfusionMatrix])? {
        guard let best = try best(threshold: threshold), let s = best.trial.scores else { return nil }
        let scored = s.presence.thresholds.contains(where: { abs($0 - threshold) < 1e-9 }) ? s
            : try scores(of: try store.trials([best.trial.id])[0], thresholds: [threshold])
        let i = try scored.presence.thresholdIndex(threshold)
        return (best, scored.presence.classes.indices.map { k in
            ConfusionMatrix.presence(scored.presence.counts[k][i], className: scored.presence.classes[k], threshold: threshold)
        })
    }

    /// print(search): one line per trial (its values, state, the metric at each threshold, AP,
    /// seconds), then which trials share a training run and why any train alone.
    public func table() throws -> String {
        let views = try trials()
        var header = ["#"] + spec.keys.map(Self.shortKey) + ["state"]
        header += spec.metric.hasPrefix("AP") ? [spec.metric] : spec.thresholds.map { "\(spec.metric)@\(Int((($0) * 100).rounded()))" }
        header += ["AP", "seconds"]
        var rows: [[String]] = []
        for v in views {
            var row = [String(v.number)] + spec.keys.map { k in v.value(k).map(ParamCoding.label) ?? "?" }
            row.append(v.state == "running" ? "running (\(v.worker ?? "?"))" : v.state)
            let s = v.scores
            let metricThresholds = spec.metric.hasPrefix("AP") ? [spec.thresholds[0]] : spec.thresholds
            row += metricThresholds.map { t in s.flatMap { try? $0.value(spec.metric, at: t) }.map { String(format: "%.4f", $0) } ?? (s == nil ? "" : "—") }
            row.append(s.flatMap { $0.ap.first { $0.name == "AP" }?.value }.map { $0.isNaN ? "—" : String(format: "%.2f", $0) } ?? "")
            row.append(v.seconds.map { String(format: "%.0f", $0) } ?? "")
            rows.append(row)
        }
        let widths = header.indices.map { c in max(header[c].count, rows.map { $0[c].count }.max() ?? 0) }
        func line(_ r: [String]) -> String {
            r.enumerated().map { c, v in String(repeating: " ", count: widths[c] - v.count) + v }.joined(separator: "  ")
        }
        var out = ["grid search: \(views.count) trials (\(spec.keys.joined(separator: " × "))) on \(spec.train), scored on \(spec.valid) — \(store.path)",
                   line(header)] + rows.map(line)
        var shared: [String: [Int]] = [:]
        for v in views { shared[v.runID, default: []].append(v.number) }
        let groups = shared.values.filter { $0.count > 1 }.sorted { $0[0] < $1[0] }
        if !groups.isEmpty {
            out.append("shared training runs: " + groups.map { "trials " + $0.map(String.init).joined(separator: ", ") }.joined(separator: "; ")
                       + " (each shorter trial is the longer run's checkpoint at its MAX_ITER)")
        }
        for v in views {
            if let n = v.note { out.append("trial \(v.number) \(n)") }
            if v.state == "failed", let r = v.reason { out.append("trial \(v.number) failed: \(r)") }
        }
        if let b = try best(among: views) {
            out.append("best: trial \(b.trial.number) (" + b.trial.params.map { "\(Self.shortKey($0.key)) \(ParamCoding.label($0.value))" }.joined(separator: ", ")
                       + ") \(spec.metric) \(String(format: "%.4f", b.value)) at threshold \(b.threshold)")
        }
        return out.joined(separator: "\n")
    }

    /// One row per trial and threshold: trial, id, the grid keys, state, threshold, accuracy,
    /// precision, recall, f1, AP, AP50, seconds, weights, reason.
    public func csv() throws -> String {
        var table = CSVWriter(header: ["trial", "id"] + spec.keys + ["state", "threshold", "accuracy", "precision", "recall", "f1", "AP", "AP50",
                                                                      "seconds", "weights", "reason"])
        func f(_ v: Double?) -> String { v.map { $0.isNaN ? "" : String($0) } ?? "" }
        for v in try trials() {
            let base = [String(v.number), v.id] + spec.keys.map { k in v.value(k).map(ParamCoding.label) ?? "" }
            for (i, t) in spec.thresholds.enumerated() {
                let c = v.scores?.presence.overall[i]
                let ap = v.scores?.ap
                table.append(base + [v.state, String(t), f(c?.accuracy), f(c?.precision), f(c?.recall), f(c?.f1),
                                     f(ap?.first { $0.name == "AP" }?.value), f(ap?.first { $0.name == "AP50" }?.value),
                                     f(v.seconds), v.weights ?? "", v.reason ?? v.note ?? ""])
            }
        }
        return table.text
    }
}

extension GridSearch {
    /// A finished trial's stored predictions with the validation set they score against.
    public func storedPredictions(trial id: String, from: Double) throws -> (dicts: [DatasetDict], predictions: [Instances], classes: [String]) {
        guard let r = try store.trials([id]).first else { throw DataError("trial \(id) is not in \(store.path)") }
        guard r.state == "done", let json = try store.predictionsJSON(trial: id) else {
            throw DataError("trial \(id) is \(r.state); it has no predictions yet")
        }
        let floor = TrialScores.stored(r.metrics)?.floor ?? 0
        if from < floor - 1e-12 {
            throw DataError("trial \(id)'s predictions were kept at scores >= \(floor); a sweep from \(from) needs the model to run again (threshold_sweep{weights = ..., config = ..., dataset = ...})")
        }
        let valid = snapshot.valid
        return (valid.dicts, try TrialScores.predictions(cocoResultsJSON: json, dicts: valid.dicts, idMap: valid.idMap, source: "trial \(id)'s predictions"),
                snapshot.classes)
    }

    /// The final-models row for the best trial: weights and their SHA-256, the trial's config
    /// (MODEL.WEIGHTS set to them), the per-class thresholds (the sweep's, else the best
    /// threshold for every class) and the validation metrics, with the baseline beside it.
    public func finalModel(brand: String, object: String, best: Best, sweep: ThresholdSweep?, baseline: HaarBaseline?,
                           into models: FinalModels) throws -> FinalModels.Model {
        guard let weights = best.trial.weights else { throw DataError("trial \(best.trial.id) has no weights") }
        guard Checkpoint.looksComplete(weights) else { throw DataError("trial \(best.trial.id)'s weights \(weights) are missing or incomplete") }
        let classes = snapshot.classes
        guard let values = valuesByTrial[best.trial.id] ?? (best.trial.params.count == spec.keys.count ? best.trial.params.map(\.value) : nil) else {
            throw DataError("trial \(best.trial.id) is not of this search's grid")
        }
        let cfg = try spec.trialConfig(values)
        try cfg.set("MODEL.WEIGHTS", .string(weights))
        try cfg.set("DATASETS.TRAIN", .list([]))
        var thresholds: [(className: String, threshold: Double)]
        var threshold = best.threshold, value: Double? = best.value
        var metric = spec.metric
        if let sweep {
            let chosen = try sweep.bestPerClass()
            thresholds = chosen.map { ($0.className, $0.threshold) }
            metric = sweep.metric
            let mine = chosen.first { $0.className == object } ?? (chosen.count == 1 ? chosen[0] : nil)
            guard let mine else {
                throw DataError("object '\(object)' is not a class of the sweep (\(chosen.map(\.className).joined(separator: ", "))); name the object by its class")
            }
            threshold = mine.threshold
            value = mine.value
        } else {
            thresholds = classes.map { ($0, best.threshold) }
        }
        let ap = best.trial.scores?.ap.first { $0.name == "AP" }?.value
        func int(_ key: String) -> Int? { if case .int(let i)? = best.trial.value(key) { return i } else { return nil } }
        let model = FinalModels.Model(
            brand: brand, object: object, trialID: best.trial.id, params: best.trial.params,
            maxIter: int("SOLVER.MAX_ITER") ?? (try? cfg.int("SOLVER.MAX_ITER")),
            batchSize: int("MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE") ?? (try? cfg.int("MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE")),
            threshold: threshold, thresholds: thresholds, metric: metric, value: value, ap: ap, weights: weights,
            sha256: try Digest.sha256(file: weights), config: cfg.dump(), classes: classes, baseline: baseline?.name,
            baselineValue: try baseline?.value(metric), searchDir: spec.outputDir, recorded: Date().timeIntervalSince1970)
        try models.record(model)
        return model
    }
}

extension FinalModels {
    /// A recorded model's config (MODEL.WEIGHTS names its weights).
    public static func config(of m: Model) throws -> CfgNode {
        let cfg = CfgNode.defaults()
        try cfg.mergeFromYAML(m.config, source: "the config of \(m.brand) / \(m.object)")
        return cfg
    }
}
