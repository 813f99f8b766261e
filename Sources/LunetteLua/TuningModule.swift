import Detection
import Drawing
import Foundation
import LuaHost
import Support
import Torch

/// A grid search as Lua sees it (the Swift GridSearch, read live from its store).
final class SearchObject {
    let search: GridSearch
    init(_ s: GridSearch) { search = s }
}

final class SweepObject {
    let sweep: ThresholdSweep
    init(_ s: ThresholdSweep) { sweep = s }
}

final class FinalModelsObject {
    let models: FinalModels
    init(_ m: FinalModels) { models = m }
}

final class BaselineObject {
    let baseline: HaarBaseline
    let dataset: String
    init(_ b: HaarBaseline, dataset: String) {
        baseline = b
        self.dataset = dataset
    }
}

/// `detectron2.tuning`: grid search, per-class thresholds, the final-models table, the Haar baseline.
extension LunetteBindings {
    /// Searches opened in this process, by output_dir (a trial table names its search by folder).
    nonisolated(unsafe) static var openSearches: [String: GridSearch] = [:]

    static func installTuningModule(in state: LuaState) throws {
        try registerSearchClass(in: state)
        try registerSweepClass(in: state)
        try registerFinalModelsClass(in: state)
        try registerBaselineClass(in: state)
        try registerTuningModule(in: state)
    }

    static func search(at dir: String) throws -> GridSearch {
        let key = (dir as NSString).standardizingPath
        if let s = openSearches[key] { return s }
        let s = try GridSearch(workerFor: dir, version: version)
        openSearches[key] = s
        return s
    }

    // MARK: values for Lua

    static func paramsTable(_ params: [(key: String, value: CfgValue)]) -> LuaValue {
        var t = LuaTable(kind: .map)
        for (k, v) in params { t.hash[.string(k)] = cfgToLua(v) }
        return .table(t)
    }

    /// A trial as search:trials() lists it: id, params, state, reason, metrics, weights, predictions, seconds.
    static func trialTable(_ v: GridSearch.TrialView, search: GridSearch) -> LuaValue {
        var t = LuaTable()
        t.hash[.string("id")] = .string(v.id)
        t.hash[.string("number")] = .integer(Int64(v.number))
        t.hash[.string("params")] = paramsTable(v.params)
        t.hash[.string("state")] = .string(v.state)
        if let r = v.reason { t.hash[.string("reason")] = .string(r) }
        if let n = v.note { t.hash[.string("note")] = .string(n) }
        if let w = v.worker { t.hash[.string("worker")] = .string(w) }
        t.hash[.string("run")] = .string(v.runID)
        if let w = v.weights { t.hash[.string("weights")] = .string(w) }
        if let p = v.predictions { t.hash[.string("predictions")] = .string(p) }
        if let s = v.seconds { t.hash[.string("seconds")] = .number(s) }
        if let f = v.finished { t.hash[.string("finished")] = .number(f) }
        t.hash[.string("search_dir")] = .string(search.spec.outputDir)
        if let s = v.scores {
            var m = LuaTable()
            for (name, value) in s.ap where !value.isNaN { m.hash[.string(name)] = .number(value) }
            let p = s.presence
            m.hash[.string("at")] = .table(LuaTable(array: p.thresholds.indices.map { countsTable(p.overall[$0], threshold: p.thresholds[$0]) }))
            var per = LuaTable(kind: .map)
            for (k, name) in p.classes.enumerated() {
                per.hash[.string(name)] = .table(LuaTable(array: p.thresholds.indices.map { countsTable(p.counts[k][$0], threshold: p.thresholds[$0]) }))
            }
            m.hash[.string("per_class")] = .table(per)
            m.hash[.string("floor")] = .number(s.floor)
            t.hash[.string("metrics")] = .table(m)
        }
        return .table(t)
    }

    static func bestTable(_ b: GridSearch.Best, search: GridSearch) -> LuaValue {
        var t = LuaTable()
        t.hash[.string("params")] = paramsTable(b.trial.params)
        t.hash[.string("threshold")] = .number(b.threshold)
        t.hash[.string("value")] = .number(b.value)
        t.hash[.string("metric")] = .string(search.spec.metric)
        if let w = b.trial.weights { t.hash[.string("weights")] = .string(w) }
        t.hash[.string("trial")] = trialTable(b.trial, search: search)
        t.hash[.string("search_dir")] = .string(search.spec.outputDir)
        return .table(t)
    }

    /// {["KEY"] = value, ...} as config values of a grid's keys.
    static func fixedValues(_ v: LuaValue?, search: GridSearch) throws -> [(key: String, value: CfgValue)] {
        guard let v else { return [] }
        guard case .table(let t) = v, t.array.isEmpty else { throw LuaError.message("fixed must be a table {[\"KEY\"] = value}") }
        return try t.hash.compactMap { k, value -> (String, CfgValue)? in
            guard case .string(let key) = k else { throw LuaError.message("fixed: keys are config key names") }
            return (key, try cfgFromLua(value, key: key))
        }.sorted { $0.0 < $1.0 }
    }

    /// A trial's table (from trials() or best()) to its search and id.
    static func trialReference(_ v: LuaValue, what: String) throws -> (GridSearch, String) {
        guard case .table(let t) = v else { throw LuaError.message("\(what) must be a trial table (from search:best() or search:trials()), not a \(v.typeName)") }
        let trial: LuaTable
        if case .table(let inner)? = t["trial"] { trial = inner } else { trial = t }
        guard case .string(let id)? = trial["id"], case .string(let dir)? = trial["search_dir"] ?? t["search_dir"] else {
            throw LuaError.message("\(what) must be a trial table (from search:best() or search:trials()): it has no id and search_dir")
        }
        return (try search(at: dir), id)
    }

    // MARK: classes

    static func registerSearchClass(in state: LuaState) throws {
        state.defineClass(SearchObject.self, name: "detectron2.tuning.Search",
                              doc: "A grid search, read live from its store (output_dir/search.sqlite).") { c in
            c.tostring { s in (try? s.search.table()) ?? "grid search (\(s.search.storePath))" }
            c.property("output_dir", type: "string", doc: "The search's folder: search.sqlite, runs/, trials/.") { s, call in call.push(.string(s.search.spec.outputDir)) }
            c.property("store", type: "string", doc: "The SQLite store's path.") { s, call in call.push(.string(s.search.storePath)) }
            c.property("metric", type: "string", doc: "The metric the search is judged by.") { s, call in call.push(.string(s.search.spec.metric)) }
            c.property("thresholds", type: "table", doc: "The thresholds the search scores at.") { s, call in call.push(s.search.spec.thresholds) }
            c.property("keys", type: "table", doc: "The grid's keys, in the table's order.") { s, call in call.push(s.search.spec.keys) }
            c.method("trials", [LuaParameter("options", .table, optional: true)], returns: "table",
                     doc: "Every trial: {id, params = {[\"SOLVER.MAX_ITER\"] = 300, ...}, state = done|running|pending|failed, reason, worker, metrics = {AP, AP50, ..., at = {{threshold, accuracy, precision, recall, f1}, ...}, per_class}, weights, predictions, seconds}; options {thresholds = {...}} scores other thresholds from the stored predictions.") { s, call in
                let o = try call.options(2, allowed: ["thresholds"])
                let thresholds = try o["thresholds"].map { try [Double].decode($0, at: "thresholds") }
                let views = try s.search.trials(thresholds: thresholds)
                return call.push(.table(LuaTable(array: views.map { trialTable($0, search: s.search) }, kind: .array)))
            }
            c.method("best", [LuaParameter("options", .table, optional: true)], returns: "table or nil",
                     doc: "The best finished trial: {params, threshold, value, weights, trial}; options {threshold = t} (default: over all thresholds), {metric = ...}. Ties go to fewer iterations, then the smaller batch, then the higher threshold; failed trials are ignored.") { s, call in
                let o = try call.options(2, allowed: ["metric", "threshold"])
                let metric = try o.option("metric", as: String.self)
                if let m = metric, !SearchSpec.metrics.contains(m) { throw LuaError.message("best: unknown metric '\(m)'; use \(SearchSpec.metrics.joined(separator: ", "))") }
                guard let b = try s.search.best(threshold: try o.option("threshold", as: Double.self), metric: metric) else { return call.pushNil() }
                return call.push(bestTable(b, search: s.search))
            }
            c.method("heatmap", [LuaParameter("options", .table, optional: true)], returns: "Figure",
                     doc: "One heat map: options {threshold = t (default the first), rows = key, cols = key (default MAX_ITER × BATCH_SIZE_PER_IMAGE), fixed = {[key] = value} for other keys, metric, title}; the best cell is marked.") { s, call in
                let o = try call.options(2, allowed: ["cols", "fixed", "metric", "rows", "threshold", "title"])
                let t = try o.option("threshold", as: Double.self) ?? s.search.spec.thresholds[0]
                return call.push(object: try s.search.heatmaps(thresholds: [t], rows: try o.option("rows", as: String.self), cols: try o.option("cols", as: String.self),
                                                               metric: try o.option("metric", as: String.self), fixed: try fixedValues(o["fixed"], search: s.search),
                                                               title: try o.option("title", as: String.self)))
            }
            c.method("heatmaps", [LuaParameter("options", .table, optional: true)], returns: "Figure",
                     doc: "The study's figure: one panel per threshold (rows MAX_ITER, columns batch size), one colour scale, the value in each cell, the best marked; options as heatmap, thresholds = {...}.") { s, call in
                let o = try call.options(2, allowed: ["cols", "fixed", "metric", "rows", "thresholds", "title"])
                return call.push(object: try s.search.heatmaps(thresholds: try o["thresholds"].map { try [Double].decode($0, at: "thresholds") },
                                                               rows: try o.option("rows", as: String.self), cols: try o.option("cols", as: String.self),
                                                               metric: try o.option("metric", as: String.self), fixed: try fixedValues(o["fixed"], search: s.search),
                                                               title: try o.option("title", as: String.self)))
            }
            c.method("confusion_matrices", [LuaParameter("options", .table, optional: true)], returns: "table",
                     doc: "The image-level 2x2 matrix of each class for the best trial at a threshold: options {threshold = 0.8}; a list of ConfusionMatrix (each :save(path)).") { s, call in
                let o = try call.options(2, allowed: ["threshold"])
                let t = try o.option("threshold", as: Double.self) ?? 0.8
                guard let found = try s.search.confusionMatrices(threshold: t) else { throw LuaError.message("confusion_matrices: no trial is finished yet") }
                return call.push(.table(LuaTable(array: found.matrices.map { .object(ConfusionObject($0)) }, kind: .array)))
            }
            c.method("save_csv", [LuaParameter("path", .string)], returns: "Search",
                     doc: "One line per trial and threshold: trial, id, the grid keys, state, threshold, accuracy, precision, recall, f1, AP, AP50, seconds, weights, reason.") { s, call in
                try writeText(try s.search.csv(), to: try call.string(2))
                return call.push(object: s)
            }
            c.method("run", [], returns: "Search",
                     doc: "Runs what is not finished (after Ctrl-C, or to take over a dead worker's trials).") { s, call in
                try s.search.run()
                return call.push(object: s)
            }
        }
    }

    static func registerSweepClass(in state: LuaState) throws {
        state.defineClass(SweepObject.self, name: "detectron2.tuning.Sweep",
                              doc: "A metric over many thresholds per class, from stored predictions; each class's best threshold.") { c in
            c.tostring { s in (try? s.sweep.table()) ?? "threshold sweep" }
            c.method("best_per_class", [], returns: "table",
                     doc: "{class = {threshold = t, <metric> = value}} for each class; ties go to the higher threshold; a class whose metric is undefined everywhere is left out.") { s, call in
                var t = LuaTable(kind: .map)
                for b in try s.sweep.bestPerClass() {
                    t.hash[.string(b.className)] = .table(LuaTable(hash: [.string("threshold"): .number(b.threshold), .string(s.sweep.metric): .number(b.value)]))
                }
                return call.push(.table(t))
            }
            c.method("plot", [LuaParameter("options", .table, optional: true)], returns: "Figure",
                     doc: "The metric against the threshold per class, the chosen points marked; options {title = ...}.") { s, call in
                let o = try call.options(2, allowed: ["title"])
                return call.push(object: try s.sweep.plot(title: try o.option("title", as: String.self)))
            }
            c.method("table", [], returns: "string", doc: "Each class's chosen threshold with its counts, as text.") { s, call in
                call.push(.string(try s.sweep.table()))
            }
            c.method("presence", [], returns: "Presence", doc: "Every threshold's counts and metrics (save_csv, accuracy, ...).") { s, call in
                call.push(object: PresenceObject(s.sweep.presence))
            }
            c.method("save_csv", [LuaParameter("path", .string)], returns: "Sweep", doc: "One line per class and threshold.") { s, call in
                try writeText(s.sweep.presence.csv, to: try call.string(2))
                return call.push(object: s)
            }
        }
    }

    static func registerFinalModelsClass(in state: LuaState) throws {
        state.defineClass(FinalModelsObject.self, name: "detectron2.tuning.FinalModels",
                              doc: "The final-models registry (the study's table of final models), in SQLite.") { c in
            c.tostring { m in (try? m.models.table()) ?? "final models (\(m.models.path))" }
            c.property("path", type: "string", doc: "The registry's file.") { m, call in call.push(.string(m.models.path)) }
            c.method("record", [LuaParameter("options", .table)], returns: "table",
                     doc: "Stores a brand's model for an object: options {brand, object, search = Search (its best trial), or trial = a table from search:best(), sweep = Sweep (per-class thresholds), baseline = haar_baseline{...}}. Returns the model as get{} does.") { m, call in
                let model = try recordModel(call, m.models)
                return call.push(modelTable(model))
            }
            c.method("get", [LuaParameter("options", .table)], returns: "table",
                     doc: "One model as bulk detection needs it: options {brand, object}; {weights, sha256, config = CfgNode, thresholds = {class = t}, threshold, classes, params, metric, value, ap}.") { m, call in
                let o = try call.options(2, allowed: ["brand", "object"])
                guard let brand = try o.option("brand", as: String.self), let object = try o.option("object", as: String.self) else {
                    throw call.argumentError(2, "get needs {brand = ..., object = ...}")
                }
                return call.push(modelTable(try m.models.get(brand: brand, object: object)))
            }
            c.method("for_brand", [LuaParameter("brand", .string)], returns: "table",
                     doc: "All of a brand's models, a list of get{} tables (what detect_batch{models = ...} takes).") { m, call in
                call.push(.table(LuaTable(array: try m.models.forBrand(try call.string(2)).map(modelTable), kind: .array)))
            }
            c.method("all", [], returns: "table", doc: "Every recorded model, by brand then object.") { m, call in
                call.push(.table(LuaTable(array: try m.models.all().map(modelTable), kind: .array)))
            }
            c.method("save_csv", [LuaParameter("path", .string)], returns: "FinalModels",
                     doc: "brand, object, MAX_ITER, BATCH_SIZE_PER_IMAGE, threshold, metric, value, AP, baseline, baseline_value, weights, sha256.") { m, call in
                try writeText(try m.models.csv(), to: try call.string(2))
                return call.push(object: m)
            }
            c.method("save_markdown", [LuaParameter("path", .string)], returns: "FinalModels", doc: "The table as Markdown.") { m, call in
                try writeText(try m.models.markdown(), to: try call.string(2))
                return call.push(object: m)
            }
        }
    }

    static func registerBaselineClass(in state: LuaState) throws {
        state.defineClass(BaselineObject.self, name: "detectron2.tuning.Baseline",
                              doc: "OpenCV's pretrained Haar cascade scored with the presence metric.") { c in
            c.tostring { b in "\(b.baseline.name) for '\(b.baseline.className)' on \(b.dataset)\n" + b.baseline.presence.table(thresholds: [b.baseline.presence.thresholds[0]]) }
            c.property("name", type: "string", doc: "The cascade(s) used.") { b, call in call.push(.string(b.baseline.name)) }
            c.method("value", [LuaParameter("metric", .string, optional: true)], returns: "number or nil",
                     doc: "accuracy (default), precision, recall or f1 (the same at every threshold: a cascade has no confidence).") { b, call in
                if let v = try b.baseline.value(try call.optionalString(2) ?? "accuracy") { return call.push(v) }
                return call.pushNil()
            }
            c.method("presence", [], returns: "Presence", doc: "The counts per threshold.") { b, call in call.push(object: PresenceObject(b.baseline.presence)) }
        }
    }

    // MARK: the module

    static func registerTuningModule(in state: LuaState) throws {
        let catalog = DataCatalog.shared
        state.defineModule("detectron2.tuning", doc: "Grid search with shared training prefixes, per-class thresholds, the final-models table, the Haar baseline.") { m in
            m.function("grid_search", [LuaParameter("options", .table)], returns: "Search", doc: """
                Runs every unfinished trial of a grid and returns the Search: options {config = cfg, grid = {["SOLVER.MAX_ITER"] = {300, 500, 1000}, ["MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"] = {256, 512, 1024}}, train = name, valid = name, thresholds = {0.2, 0.4, 0.6, 0.8}, metric = "accuracy" (precision, recall, f1, AP, AP50), output_dir = folder, retry_failed = false, checkpoint_period = 100, wait = true, run = true}. Resumable: a rerun trains nothing that is done; trials differing only in MAX_ITER share one training run. run = false only plans: output_dir/tasks.json lists the runs for an array job (lunette tune worker DIR --task k, then lunette tune collect DIR).
                """) { call in
                let o = try call.options(1, allowed: ["checkpoint_period", "config", "grid", "heartbeat_grace", "metric", "output_dir", "retry_failed",
                                                      "run", "thresholds", "train", "valid", "wait"])
                guard case .object(let cfgObject)? = o["config"], let cfg = cfgObject as? CfgNode else {
                    throw LuaError.message("grid_search needs config = a CfgNode (get_cfg() with your settings)")
                }
                guard case .table(let gridTable)? = o["grid"] else { throw LuaError.message("grid_search needs grid = { [\"SOLVER.MAX_ITER\"] = {300, 500, 1000}, ... }") }
                var grid: [(key: String, values: [CfgValue])] = []
                for (k, v) in gridTable.hash {
                    guard case .string(let key) = k else { throw LuaError.message("grid: keys are config key names such as \"SOLVER.MAX_ITER\"") }
                    guard case .table(let list) = v, list.hash.isEmpty else { throw LuaError.message("grid[\"\(key)\"] must be a list of values, not a \(v.typeName)") }
                    grid.append((key, try list.array.enumerated().map { try cfgFromLua($1, key: "grid[\"\(key)\"][\($0 + 1)]") }))
                }
                guard gridTable.array.isEmpty else { throw LuaError.message("grid: give keys and values, { [\"SOLVER.MAX_ITER\"] = {300, 500} }, not a list") }
                // Lua tables keep no order: the study's keys first, the rest alphabetically.
                let order = SearchSpec.studyOrder(grid.map(\.key).sorted())
                grid.sort { order.firstIndex(of: $0.key)! < order.firstIndex(of: $1.key)! }
                guard let train = try o.option("train", as: String.self), let valid = try o.option("valid", as: String.self) else {
                    throw LuaError.message("grid_search needs train = <dataset name> and valid = <dataset name>")
                }
                guard let dir = try o.option("output_dir", as: String.self) else { throw LuaError.message("grid_search needs output_dir = <folder> (its store and runs live there)") }
                var spec = try SearchSpec(base: cfg, grid: grid, train: train, valid: valid,
                                          thresholds: try o["thresholds"].map { try [Double].decode($0, at: "thresholds") } ?? [0.2, 0.4, 0.6, 0.8],
                                          metric: try o.option("metric", as: String.self) ?? "accuracy", outputDir: dir, version: version)
                spec.retryFailed = try o.option("retry_failed", as: Bool.self) ?? false
                if let p = try o.option("checkpoint_period", as: Int.self) {
                    guard p > 0 else { throw LuaError.message("checkpoint_period must be positive, got \(p)") }
                    spec.checkpointPeriod = p
                }
                if let g = try o.option("heartbeat_grace", as: Double.self) { spec.heartbeatGrace = g }
                spec.wait = try o.option("wait", as: Bool.self) ?? true
                let search = try GridSearch(spec: spec, catalog: catalog)
                openSearches[(dir as NSString).standardizingPath] = search
                // run = false plans only (tasks.json for an array job; `lunette tune worker DIR --task k`).
                if try o.option("run", as: Bool.self) ?? true { try search.run() }
                return call.push(object: SearchObject(search))
            }
            m.function("open", [LuaParameter("output_dir", .string)], returns: "Search",
                       doc: "The search last run in a folder, as it stands (nothing is trained): for reading results in another session.") { call in
                call.push(object: SearchObject(try search(at: try call.string(1))))
            }
            m.function("worker", [LuaParameter("output_dir", .string)], returns: "Search",
                       doc: "Works on the search last asked in output_dir until no trial is left to claim (what `lunette tune worker DIR` runs).") { call in
                let s = try GridSearch(workerFor: try call.string(1), version: version)
                try s.run()
                return call.push(object: SearchObject(s))
            }
            m.function("run_task", [LuaParameter("output_dir", .string), LuaParameter("task", .integer)], returns: "string",
                       doc: "Array task k (from 0) of the search planned in output_dir: trains its run and leaves each trial's result in trials/<id>/trial.json, writing no shared store (what `lunette tune worker DIR --task k` runs).") { call in
                let dir = try call.string(1), task = try call.integer(2)
                let done = try GridSearch.runTask(outputDir: dir, task: Int(task), version: version)
                return call.push(.string("task \(task): \(done.count) trial\(done.count == 1 ? "" : "s") finished into \((dir as NSString).appendingPathComponent("trials"))"))
            }
            m.function("task_count", [LuaParameter("output_dir", .string)], returns: "integer",
                       doc: "How many array tasks the search planned in output_dir has (one per training run): --array=0-(n-1).") { call in
                call.push(.integer(Int64(try GridSearch.TaskPlan.read(outputDir: try call.string(1)).runs.count)))
            }
            m.function("collect", [LuaParameter("output_dir", .string)], returns: "string",
                       doc: "Reads the trial folders array tasks left (trials/<id>/trial.json) into output_dir/search.sqlite; run once, on one machine (what `lunette tune collect DIR` runs).") { call in
                let dir = try call.string(1)
                let s = try GridSearch(workerFor: dir, version: version)
                openSearches[(dir as NSString).standardizingPath] = s
                return call.push(.string("\(try s.collect()) in \(s.storePath)"))
            }
            m.function("threshold_sweep", [LuaParameter("options", .table)], returns: "Sweep", doc: """
                The metric at every threshold from..to by step, per class: options {trial = search:best() (or a trial from search:trials()), from = 0.20, to = 0.99, step = 0.01, metric = "accuracy"}; or {weights = file, config = cfg, dataset = name} (runs the model once); or {predictions = results JSON or Predictions, dataset = name}.
                """) { call in
                call.push(object: SweepObject(try sweep(call, catalog: catalog)))
            }
            m.function("final_models", [LuaParameter("path", .string)], returns: "FinalModels",
                       doc: "The final-models registry in a SQLite file (created when missing): record, get, for_brand, save_csv, save_markdown.") { call in
                call.push(object: FinalModelsObject(try FinalModels(path: try call.string(1), version: version)))
            }
            m.function("haar_baseline", [LuaParameter("options", .table)], returns: "Baseline", doc: """
                OpenCV's pretrained cascade scored like the models: options {dataset = name, class = "face", cascade = "haarcascade_frontalface_default.xml", inner = "haarcascade_smile.xml" (smiles inside detected faces), thresholds = {...}, scale_factor = 1.1, min_neighbors = 3, min_size = 0}.
                """) { call in
                let o = try call.options(1, allowed: ["cascade", "class", "dataset", "inner", "min_neighbors", "min_size", "scale_factor", "thresholds"])
                guard let name = try o.option("dataset", as: String.self), let cls = try o.option("class", as: String.self) else {
                    throw LuaError.message("haar_baseline needs dataset = <name> and class = <class name>")
                }
                let cascade = try o.option("cascade", as: String.self) ?? "haarcascade_frontalface_default.xml"
                let b = try HaarBaseline(dicts: try catalog.get(name), classes: catalog.metadata(name).thingClasses ?? [], className: cls, cascade: cascade,
                                         inner: try o.option("inner", as: String.self),
                                         thresholds: try o["thresholds"].map { try [Double].decode($0, at: "thresholds") } ?? [0.2, 0.4, 0.6, 0.8],
                                         scaleFactor: try o.option("scale_factor", as: Double.self) ?? 1.1,
                                         minNeighbors: try o.option("min_neighbors", as: Int.self) ?? 3, minSize: try o.option("min_size", as: Int.self) ?? 0,
                                         dataset: name)
                return call.push(object: BaselineObject(b, dataset: name))
            }
        }
    }

    static func sweep(_ call: LuaCall, catalog: DataCatalog) throws -> ThresholdSweep {
        let o = try call.options(1, allowed: ["config", "dataset", "from", "metric", "predictions", "step", "to", "trial", "weights"])
        let from = try o.option("from", as: Double.self) ?? 0.2, to = try o.option("to", as: Double.self) ?? 0.99
        let step = try o.option("step", as: Double.self) ?? 0.01
        let metric = try o.option("metric", as: String.self) ?? "accuracy"
        if let t = o["trial"] {
            let (search, id) = try trialReference(t, what: "threshold_sweep{trial = ...}")
            let (dicts, predictions, classes) = try search.storedPredictions(trial: id, from: from)
            return try ThresholdSweep(dicts: dicts, predictions: predictions, classes: classes, from: from, to: to, step: step, metric: metric,
                                      source: "trial \(id) of \(search.spec.outputDir)")
        }
        guard let name = try o.option("dataset", as: String.self) else {
            throw LuaError.message("threshold_sweep needs trial = search:best(), or dataset = <name> with weights = <file> or predictions = <results>")
        }
        let dicts = try catalog.get(name)
        let meta = catalog.metadata(name)
        let classes = meta.thingClasses ?? []
        if let p = o["predictions"] {
            let predictions: [Instances]
            if case .string(let path) = p {
                var idMap: [Int64: Int]?
                if case .idMap(let m)? = try meta.get("thing_dataset_id_to_contiguous_id") { idMap = m }
                predictions = try TrialScores.predictions(cocoResultsJSON: try InputFile.text(path, limit: 1 << 31), dicts: dicts, idMap: idMap, source: path)
            } else if case .object(let x) = p, let po = x as? PredictionsObject {
                predictions = po.predictions
            } else {
                throw LuaError.message("threshold_sweep: predictions must be a COCO results JSON file or Predictions (from inference_on_dataset's results.predictions)")
            }
            return try ThresholdSweep(dicts: dicts, predictions: predictions, classes: classes, from: from, to: to, step: step, metric: metric,
                                      source: "predictions on \(name)")
        }
        guard let weights = try o.option("weights", as: String.self), case .object(let c)? = o["config"], let cfg = c as? CfgNode else {
            throw LuaError.message("threshold_sweep{dataset = ...} needs predictions = <results>, or weights = <file> with config = cfg")
        }
        let predictions = try ModelPredictions.onDataset(cfg: cfg, weights: weights, dataset: name, scoreFloor: from, catalog: catalog)
        return try ThresholdSweep(dicts: dicts, predictions: predictions, classes: classes, from: from, to: to, step: step, metric: metric,
                                  source: "\((weights as NSString).lastPathComponent) on \(name)")
    }

    static func recordModel(_ call: LuaCall, _ models: FinalModels) throws -> FinalModels.Model {
        let o = try call.options(2, allowed: ["baseline", "brand", "object", "search", "sweep", "trial"])
        guard let brand = try o.option("brand", as: String.self), let object = try o.option("object", as: String.self) else {
            throw LuaError.message("record needs brand = ... and object = ...")
        }
        let search: GridSearch, best: GridSearch.Best
        if let t = o["trial"] {
            let (s, id) = try trialReference(t, what: "record{trial = ...}")
            search = s
            var threshold: Double?
            if case .table(let tt) = t, case .number(let x)? = tt["threshold"] { threshold = x }
            guard let view = try s.trials().first(where: { $0.id == id }), view.scores != nil else {
                throw LuaError.message("record: trial \(id) is not finished")
            }
            guard let b = try s.best(threshold: threshold, among: [view]) else { throw LuaError.message("record: trial \(id) has no defined \(s.spec.metric)") }
            best = b
        } else if case .object(let so)? = o["search"], let s = so as? SearchObject {
            search = s.search
            guard let b = try s.search.best() else { throw LuaError.message("record: the search has no finished trial with a defined \(s.search.spec.metric)") }
            best = b
        } else {
            throw LuaError.message("record needs search = <Search> or trial = search:best()")
        }
        var sweep: ThresholdSweep?
        if let sv = o["sweep"] {
            guard case .object(let x) = sv, let so = x as? SweepObject else { throw LuaError.message("record: sweep must be a Sweep (from threshold_sweep)") }
            sweep = so.sweep
        }
        var baseline: HaarBaseline?
        if let bv = o["baseline"] {
            guard case .object(let x) = bv, let bo = x as? BaselineObject else { throw LuaError.message("record: baseline must be a Baseline (from haar_baseline)") }
            baseline = bo.baseline
        }
        return try search.finalModel(brand: brand, object: object, best: best, sweep: sweep, baseline: baseline, into: models)
    }

    static func modelTable(_ m: FinalModels.Model) -> LuaValue {
        var t = LuaTable()
        t.hash[.string("brand")] = .string(m.brand)
        t.hash[.string("object")] = .string(m.object)
        t.hash[.string("weights")] = .string(m.weights)
        t.hash[.string("sha256")] = .string(m.sha256)
        if let cfg = try? FinalModels.config(of: m) { t.hash[.string("config")] = .object(cfg) }
        var th = LuaTable(kind: .map)
        for (k, v) in m.thresholds { th.hash[.string(k)] = .number(v) }
        t.hash[.string("thresholds")] = .table(th)
        if let x = m.threshold { t.hash[.string("threshold")] = .number(x) }
        t.hash[.string("classes")] = .table(LuaTable(array: m.classes.map { .string($0) }, kind: .array))
        t.hash[.string("params")] = paramsTable(m.params)
        t.hash[.string("metric")] = .string(m.metric)
        if let v = m.value { t.hash[.string("value")] = .number(v) }
        if let v = m.ap, !v.isNaN { t.hash[.string("ap")] = .number(v) }
        if let x = m.maxIter { t.hash[.string("max_iter")] = .integer(Int64(x)) }
        if let x = m.batchSize { t.hash[.string("batch_size")] = .integer(Int64(x)) }
        if let b = m.baseline { t.hash[.string("baseline")] = .string(b) }
        if let v = m.baselineValue { t.hash[.string("baseline_value")] = .number(v) }
        if let id = m.trialID { t.hash[.string("trial")] = .string(id) }
        return .table(t)
    }
}
