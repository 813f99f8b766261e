import CLua
import Detection
import Foundation
import Support
import LuaHost
import Torch
import Vision

final class PredictionsObject {
    let predictions: [Instances]
    let classes: [String]
    init(_ p: [Instances], classes: [String]) {
        predictions = p
        self.classes = classes
    }
}

final class ResultsObject {
    let results: COCOEvaluator.Results
    let predictions: PredictionsObject?
    init(_ r: COCOEvaluator.Results, predictions: PredictionsObject?) {
        results = r
        self.predictions = predictions
    }
}

final class PresenceObject {
    let presence: PresenceEvaluation
    init(_ p: PresenceEvaluation) { presence = p }
}

final class ConfusionObject {
    let matrix: ConfusionMatrix
    init(_ m: ConfusionMatrix) { matrix = m }
}

/// The `detectron2.evaluation` module: COCO AP, presence metrics, confusion matrices, plots.
extension LunetteBindings {
    static func writeText(_ text: String, to path: String) throws { try AtomicFile.write(text, to: path) }


    /// Model outputs for a batch: each {instances = {pred_boxes, scores, pred_classes}} with tensors
    /// (or an object with those fields), or a list of {box = {x1, y1, x2, y2}, score, class}.
    static func predictionsFrom(_ state: LuaState, output: LuaValue, imageID: Int64, index: Int) throws -> Instances {
        guard case .table(let t) = output else { throw LuaError.message("model output [\(index)] is a \(output.typeName), not a table") }
        if case .object(let o)? = t["instances"], let inst = o as? InstancesObject { return inst.instances.with(imageID: imageID) }
        if case .table(let inst)? = t["instances"] {
            func tensor(_ key: String) throws -> Tensor {
                guard case .object(let o)? = inst[key], let x = o as? Tensor else { throw LuaError.message("model output [\(index)].instances.\(key) is not a tensor") }
                return x
            }
            return try Instances(checking: try tensor("pred_boxes"), scores: try tensor("scores"), classes: try tensor("pred_classes"),
                                 imageID: imageID, source: "model output [\(index)].instances")
        }
        var boxes: [[Double]] = [], scores: [Double] = [], classes: [Int] = []
        for (j, d) in t.array.enumerated() {
            guard case .table(let det) = d, let box = det["box"], let score = det["score"], let cls = det["class"] else {
                throw LuaError.message("model output [\(index)][\(j + 1)] needs box, score and class")
            }
            let b = try [Double].decode(box, at: "box")
            guard b.count == 4 else { throw LuaError.message("model output [\(index)][\(j + 1)].box must be {x1, y1, x2, y2}") }
            boxes.append(b)
            scores.append(try Double.decode(score, at: "score"))
            classes.append(try Int.decode(cls, at: "class"))
        }
        return try Instances(boxes: boxes, scores: scores, classes: classes, imageID: imageID, source: "model output [\(index)]")
    }

    static func installEvaluationModule(in state: LuaState) throws {
        try registerPredictionsClass(in: state)
        try registerResultsClass(in: state)
        try registerConfusionMatrixClass(in: state)
        try registerPresenceClass(in: state)
        try registerEvaluationModule(in: state)
        try registerCOCOEvaluatorClass(in: state)
    }

    /// inference_on_dataset's work: model(batch) over the test loader, the tables printed, the
    /// Results object pushed.
    static func runInference(_ call: inout LuaCall, model: LuaRef, test: TestLoader, evaluator: COCOEvaluator) throws -> Int32 {
        let state = call.state
        let results = try InferenceOnDataset.run(loader: test, evaluator: evaluator) { sample in
            let outputs = try state.call(model, [LuaValue.table(LuaTable(array: [sampleToLua(sample)]))])
            guard case .table(let list)? = outputs.first, let first = list.array.first else {
                throw LuaError.message("the model returned \(outputs.first?.typeName ?? "nothing") for a batch; it must return a list of outputs")
            }
            return try predictionsFrom(state, output: first, imageID: sample.imageID, index: 1)
        }
        Console.out(results.table + "\n")
        return call.push(object: ResultsObject(results, predictions: PredictionsObject(evaluator.predictions, classes: results.classes)))
    }

    static func predictionsArgument(_ call: LuaCall, _ idx: Int32) throws -> [Instances] {
        if let p = try? call.object(PredictionsObject.self, idx) { return p.predictions }
        if let r = try? call.object(ResultsObject.self, idx), let p = r.predictions { return p.predictions }
        if call.type(idx) == LUA_TSTRING {
            // A COCO results file: contiguous ids through the dataset's mapping is not known here; ids are used as given.
            throw call.argumentError(idx, "pass the predictions object (results.predictions), not a file name")
        }
        throw call.argumentError(idx, "Predictions expected (results.predictions from inference_on_dataset)")
    }


    static func registerPredictionsClass(in state: LuaState) throws {
        try state.defineClass(PredictionsObject.self, name: "detectron2.evaluation.Predictions", doc: "Stored predictions of a dataset (per image: boxes, scores, classes).") { c in
            c.tostring { p in "Predictions: \(p.predictions.count) images, \(p.predictions.reduce(0) { $0 + $1.count }) detections" }
            c.metamethod("__len", nil, doc: "#predictions: images") { p, call in call.push(p.predictions.count) }
            c.method("save_json", [LuaParameter("path", .string)], doc: "Writes the predictions as JSON (image_id, boxes XYXY, scores, classes).") { p, call in
                try writeText(try PredictionsFile.json(p.predictions), to: try call.string(2))
                return 0
            }
        }
    }

    static func registerResultsClass(in state: LuaState) throws {
        try state.defineClass(ResultsObject.self, name: "detectron2.evaluation.Results", doc: "COCO evaluation results: results.bbox.AP, ...; prints as Detectron2's tables.") { c in
            c.tostring { $0.results.table }
            c.property("bbox", type: "table", doc: "AP, AP50, AP75, APs, APm, APl and AP-<class>, ×100 (NaN where undefined).") { r, call in
                var t = LuaTable()
                for (k, v) in r.results.bbox { t.hash[.string(k)] = .number(v) }
                return call.push(.table(t))
            }
            c.property("stats", type: "table", doc: "COCOeval's 12 numbers, unscaled (-1 where undefined).") { r, call in call.push(r.results.stats) }
            c.property("predictions", type: "Predictions or nil", doc: "The predictions evaluated (from inference_on_dataset).") { r, call in
                if let p = r.predictions { return call.push(object: p) }
                return call.pushNil()
            }
            c.method("ap_bars", [LuaParameter("options", .table, optional: true)], returns: "Figure",
                     doc: "AP per class as bars (options {title = ..., metric = \"AP\"}: AP, or AP50 / AP75 where the results have them per class).") { r, call in
                let o = try call.options(2, allowed: ["metric", "title"])
                let metric = try o.option("metric", as: String.self) ?? "AP"
                let byName = Dictionary(r.results.bbox.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
                let items = r.results.classes.map { name -> (label: String, value: Double?) in (name, byName["\(metric)-\(name)"]) }
                guard items.contains(where: { $0.value != nil }) else {
                    throw call.argumentError(2, "the results have no per-class \(metric) (they have AP-<class>)")
                }
                let title = try o.option("title", as: String.self) ?? "\(metric) per class"
                return call.push(object: try Plots.bars(items, title: title, xLabel: "\(metric) (%)", xRange: (0, 100)))
            }
            c.method("save_csv", [LuaParameter("path", .string)], doc: "Writes metric,value lines.") { r, call in
                try writeText(r.results.csv, to: try call.string(2))
                return 0
            }
            c.method("save_json", [LuaParameter("path", .string)], doc: "Writes {\"bbox\": {...}} (NaN as null).") { r, call in
                try writeText(r.results.json, to: try call.string(2))
                return 0
            }
            c.method("pr_curves", [LuaParameter("options", .table, optional: true)], returns: "Figure",
                     doc: "Precision against recall per class at IoU 0.5 (options {iou = 0.5, title = ...}).") { r, call in
                let o = try call.options(2, allowed: ["iou", "title"])
                let iou = try o.option("iou", as: Double.self) ?? 0.5
                let series = try r.results.precisionRecallCurves(iou: iou).map { c in
                    Plots.Series(name: c.className, points: c.points.map { (x: $0.recall, y: $0.precision) })
                }
                let title = try o.option("title", as: String.self) ?? "Precision-recall at IoU \(String(format: "%.2f", iou))"
                return call.push(object: try Plots.lines(series, xLabel: "recall", yLabel: "precision", title: title))
            }
        }
    }

    static func registerConfusionMatrixClass(in state: LuaState) throws {
        try state.defineClass(ConfusionObject.self, name: "detectron2.evaluation.ConfusionMatrix", doc: "A confusion matrix (rows: truth, columns: prediction).") { c in
            c.tostring { $0.matrix.table }
            c.property("counts", type: "table", doc: "The counts, row by row.") { m, call in call.push(m.matrix.counts) }
            c.property("labels", type: "table", doc: "The row (and column) labels.") { m, call in call.push(m.matrix.rowLabels) }
            c.method("image", [], returns: "Figure", doc: "The matrix drawn: the count and the row's share in each cell, coloured by the share.") { m, call in
                call.push(object: try Plots.confusionMatrix(m.matrix))
            }
            c.method("save", [LuaParameter("path", .string)], returns: "ConfusionMatrix", doc: "Writes the drawing (.png, .svg, .pdf; .jpg as an image), or the table for .csv/.txt.") { m, call in
                let path = try call.string(2)
                let ext = (path as NSString).pathExtension.lowercased()
                if ext == "csv" { try writeText(m.matrix.csv, to: path) } else if ext == "txt" { try writeText(m.matrix.table + "\n", to: path) }
                else if ["png", "svg", "pdf"].contains(ext) { try Plots.confusionMatrix(m.matrix).save(path) }
                else { try image(of: try Plots.confusionMatrix(m.matrix)).write(path) }
                return call.push(object: m)
            }
        }
    }

    /// {tp, fp, fn, tn, accuracy, precision, recall, f1} (undefined metrics left out), with the
    /// threshold when given: presence:counts() and a grid-search trial's metrics.at entries.
    static func countsTable(_ c: PresenceCounts, threshold: Double? = nil) -> LuaValue {
        var t = LuaTable()
        if let threshold { t.hash[.string("threshold")] = .number(threshold) }
        for (k, v) in [("tp", c.tp), ("fp", c.fp), ("fn", c.fn), ("tn", c.tn)] { t.hash[.string(k)] = .integer(Int64(v)) }
        for (k, v) in [("accuracy", c.accuracy), ("precision", c.precision), ("recall", c.recall), ("f1", c.f1)] {
            if let v { t.hash[.string(k)] = .number(v) }
        }
        return .table(t)
    }

    /// A class's counts at threshold index i; "overall" is the sum over classes (the table's last row).
    static func presenceCounts(_ p: PresenceObject, _ name: String, _ i: Int) throws -> PresenceCounts {
        name == "overall" ? p.presence.overall[i] : p.presence.counts[try p.presence.classIndex(name)][i]
    }

    static func registerPresenceClass(in state: LuaState) throws {
        try state.defineClass(PresenceObject.self, name: "detectron2.evaluation.Presence",
                              doc: "Image-level presence metrics per class and threshold, from stored predictions.") { c in
            c.tostring { $0.presence.table() }
            for metric in ["accuracy", "precision", "recall", "f1"] {
                c.method(metric, [LuaParameter("class", .string), LuaParameter("threshold", .number)], returns: "number or nil",
                         doc: "The \(metric) of a class (or \"overall\", the classes summed as the printed table's overall row) at an evaluated threshold (nil when undefined).") { p, call in
                    let i = try p.presence.thresholdIndex(try call.number(3))
                    if let v = try presenceCounts(p, try call.string(2), i).metric(metric) { return call.push(v) }
                    return call.pushNil()
                }
            }
            c.method("counts", [LuaParameter("class", .string), LuaParameter("threshold", .number)], returns: "table",
                     doc: "{tp, fp, fn, tn, accuracy, precision, recall, f1} (class \"overall\" sums the classes).") { p, call in
                let i = try p.presence.thresholdIndex(try call.number(3))
                let name = try call.string(2)
                return call.push(countsTable(try presenceCounts(p, name, i)))
            }
            c.method("best_per_class", [LuaParameter("options", .table, optional: true)], returns: "table",
                     doc: "{class = {threshold, <metric>}} maximising options.metric (default accuracy); ties go to the higher threshold.") { p, call in
                let o = try call.options(2, allowed: ["metric"])
                let metric = try o.option("metric", as: String.self) ?? "accuracy"
                var t = LuaTable()
                for (k, name) in p.presence.classes.enumerated() {
                    guard let b = try p.presence.best(class: k, metric: metric) else { continue }
                    t.hash[.string(name)] = .table(LuaTable(hash: [.string("threshold"): .number(b.threshold), .string(metric): .number(b.value)]))
                }
                return call.push(.table(t))
            }
            c.method("confusion_matrix", [LuaParameter("options", .table)], returns: "ConfusionMatrix",
                     doc: "The 2x2 presence matrix: options {class = name, threshold = t}.") { p, call in
                let o = try call.options(2, allowed: ["class", "threshold"])
                guard case .string(let name)? = o["class"], let tv = o["threshold"] else { throw call.argumentError(2, "options need class and threshold") }
                let t = try Double.decode(tv, at: "threshold")
                let cnt = p.presence.counts[try p.presence.classIndex(name)][try p.presence.thresholdIndex(t)]
                return call.push(object: ConfusionObject(ConfusionMatrix.presence(cnt, className: name, threshold: t)))
            }
            c.method("plot", [LuaParameter("options", .table, optional: true)], returns: "Figure",
                     doc: "The metric against the threshold, one line per class, each class's best threshold marked: options {metric = \"accuracy\", title = ..., mark_best = true}.") { p, call in
                let o = try call.options(2, allowed: ["mark_best", "metric", "title"])
                let metric = try o.option("metric", as: String.self) ?? "accuracy"
                let markBest = try o.option("mark_best", as: Bool.self) ?? true
                let series = try p.presence.curves(metric: metric).enumerated().map { k, c -> Plots.Series in
                    var marked: [(x: Double, y: Double, label: String)] = []
                    if markBest, let b = try p.presence.best(class: k, metric: metric) {
                        marked = [(b.threshold, b.value, String(format: "%.2f at %.2f", b.value, b.threshold))]
                    }
                    return Plots.Series(name: c.className, points: c.points.map { (x: $0.threshold, y: $0.value) }, marked: marked)
                }
                let xs = p.presence.thresholds
                let title = try o.option("title", as: String.self) ?? "\(metric) by confidence threshold"
                let lo = xs.min()!, hi = xs.max()!
                return call.push(object: try Plots.lines(series, xLabel: "confidence threshold", yLabel: metric, title: title,
                                                         xRange: lo == hi ? (max(0, lo - 0.05), min(1, hi + 0.05)) : (lo, hi)))
            }
            c.method("save_csv", [LuaParameter("path", .string)], doc: "One line per class and threshold.") { p, call in
                try writeText(p.presence.csv, to: try call.string(2))
                return 0
            }
            c.method("save_json", [LuaParameter("path", .string)], doc: "Counts and metrics per class and threshold.") { p, call in
                try writeText(p.presence.json, to: try call.string(2))
                return 0
            }
        }

    }

    /// COCOEvaluator's tasks: bbox is the one this detector has.
    static func checkTasks(_ tasks: [LuaValue], _ call: LuaCall, _ idx: Int32) throws {
        for t in tasks {
            guard case .string(let name) = t, name == "bbox" else {
                throw call.argumentError(idx, "tasks: \(t) is not supported; Faster R-CNN gives boxes, so the task is \"bbox\"")
            }
        }
    }

    static func registerEvaluationModule(in state: LuaState) throws {
        let catalog = DataCatalog.shared
        try state.defineModule("detectron2.evaluation", doc: "COCO AP (pycocotools' numbers), presence accuracy, confusion matrices, plots.") { m in
            m.function("COCOEvaluator", nil, returns: "COCOEvaluator", doc: """
                An evaluator for a registered dataset: COCOEvaluator(name, {output_dir = folder}) writes coco_instances_results.json there. \
                Detectron2's forms carry over: COCOEvaluator(name, cfg, false, {output_dir = ...}) and COCOEvaluator(name, {tasks = {"bbox"}, distributed = false, output_dir = ...}); \
                tasks (bbox is the one task), distributed (one process), cfg, max_dets_per_image (100, COCO's), use_fast_impl and allow_cached_coco are accepted and mean nothing more here.
                """) { call in
                let name = try call.string(1)
                // Detectron2's positional (dataset_name, tasks or cfg, distributed, output_dir) before the options table.
                var idx: Int32 = 2
                var outputDir: String?
                while !call.isNone(idx) {
                    if (try? call.object(CfgNode.self, idx)) != nil || call.type(idx) == LUA_TBOOLEAN || call.type(idx) == LUA_TNIL { idx += 1; continue }
                    if call.type(idx) == LUA_TSTRING { outputDir = try call.string(idx); idx += 1; continue }
                    if call.type(idx) == LUA_TTABLE, case .table(let t) = try call.value(idx), t.hash.isEmpty, !t.array.isEmpty {
                        try checkTasks(t.array, call, idx)
                        idx += 1
                        continue
                    }
                    break
                }
                if !call.isNone(idx) {
                    guard call.type(idx) == LUA_TTABLE else { throw call.argumentError(idx, "an options table {output_dir = ...}, not a \(call.typeName(idx))") }
                    let o = try call.options(idx, allowed: ["output_dir"], ignored: ["allow_cached_coco", "cfg", "distributed", "max_dets_per_image", "tasks", "use_fast_impl"])
                    if case .table(let t)? = try? call.decode([String: LuaValue].self, idx)["tasks"] { try checkTasks(t.array, call, idx) }
                    if case .table(let raw) = try call.value(idx), let m = raw["max_dets_per_image"], (try? Int.decode(m, at: "max_dets_per_image")) != 100 {
                        throw call.argumentError(idx, "max_dets_per_image = \(m): COCO's 100 detections per image is the one supported")
                    }
                    outputDir = try o.option("output_dir", as: String.self) ?? outputDir
                    if call.count > idx { throw call.argumentError(idx + 1, "nothing follows the options table") }
                }
                return call.push(object: try COCOEvaluator(datasetName: name, outputDir: outputDir))
            }
            // loader and evaluator are checked in the body, after the model: the trainer passed for
            // its model is the mistake to name first.
            m.function("inference_on_dataset", [LuaParameter("model", .any), LuaParameter("loader", .any), LuaParameter("evaluator", .any),
                                                LuaParameter("options", .table, optional: true)],
                       returns: "Results", doc: "Runs model(batch) over a test loader, evaluates, prints the tables, and returns the results (with .predictions). Options {precision = \"fp32\" | \"bf16\" | \"fp16\"}: the model runs at it for this call only. Ctrl-C stops between batches.") { call in
                if (try? call.object(DefaultTrainer.self, 1)) != nil {
                    throw call.argumentError(1, "this is the trainer; pass its model: inference_on_dataset(trainer.model, loader, evaluator)")
                }
                if (try? call.object(DefaultPredictor.self, 1)) != nil {
                    throw call.argumentError(1, "this is a predictor; pass its model: inference_on_dataset(predictor.model, loader, evaluator)")
                }
                guard call.type(1) == LUA_TFUNCTION || (try? call.object(GeneralizedRCNN.self, 1)) != nil || LunetteBindings.hasCall(call.L, 1) else {
                    throw call.argumentError(1, "a model (trainer.model, build_model(cfg)) or a function(batch) returning outputs, not a \(call.typeName(1))")
                }
                let model = call.reference(1)
                let loader = try call.object(LoaderObject.self, 2)
                let evaluator = try call.object(COCOEvaluator.self, 3)
                guard let test = loader.test else { throw call.argumentError(2, "a test loader (build_detection_test_loader) is needed") }
                let o = try call.options(4, allowed: ["precision"])
                // A precision applies to the model for this call; the one it had comes back after.
                var restore: (GeneralizedRCNN, Precision)?
                if let name = try o.option("precision", as: String.self) {
                    let precision = try Precision(parsing: name)
                    guard let rcnn = try? call.object(GeneralizedRCNN.self, 1) else {
                        if precision == .fp32 { return try runInference(&call, model: model, test: test, evaluator: evaluator) }
                        throw call.argumentError(4, "precision = \"\(precision)\" needs the model itself (trainer.model, predictor.model, build_model(cfg)), not a function")
                    }
                    restore = (rcnn, rcnn.precision)
                    try rcnn.setPrecision(precision)
                }
                defer { if let (rcnn, previous) = restore { _ = try? rcnn.setPrecision(previous) } }
                return try runInference(&call, model: model, test: test, evaluator: evaluator)
            }
            m.function("evaluate_results", [LuaParameter("dataset_name", .string), LuaParameter("results_json", .string)], returns: "Results",
                       doc: "Evaluates a COCO results JSON against a registered dataset, no model needed.") { call in
                let name = try call.string(1)
                let evaluator = try COCOEvaluator(datasetName: name)
                let (gt, _, classes) = try evaluator.groundTruth()
                let dets = try COCODetection.load(try call.string(2), groundTruth: gt)
                let r = COCOEvaluator.results(groundTruth: gt, detections: dets, classes: classes.isEmpty ? gt.categories.map(\.name) : classes)
                return call.push(object: ResultsObject(r, predictions: nil))
            }
            m.function("agreement", [LuaParameter("reference", .any), LuaParameter("predictions", .any), LuaParameter("options", .table, optional: true)],
                       returns: "table",
                       doc: "How closely predictions follow reference predictions (a reduced precision against fp32): {matched, total, share, max_score_delta, min_iou} over the reference's detections with score >= min_score, matched in the same image and class at IoU >= iou with scores within score_delta. Options {min_score = 0.3, iou = 0.9, score_delta = 0.02}.") { call in
                let reference = try predictionsArgument(call, 1), run = try predictionsArgument(call, 2)
                let o = try call.options(3, allowed: ["iou", "min_score", "score_delta"])
                var criteria = DetectionAgreement.Criteria()
                if let x = try o.option("min_score", as: Double.self) { criteria.minScore = x }
                if let x = try o.option("iou", as: Double.self) {
                    guard x > 0 && x <= 1 else { throw call.argumentError(3, "iou = \(x): an IoU lies in (0, 1]") }
                    criteria.iou = x
                }
                if let x = try o.option("score_delta", as: Double.self) {
                    guard x >= 0 else { throw call.argumentError(3, "score_delta = \(x) is negative") }
                    criteria.scoreDelta = x
                }
                let a = try DetectionAgreement.compare(reference: reference, run: run, criteria: criteria)
                var t = LuaTable()
                t.hash[.string("matched")] = .integer(Int64(a.matched))
                t.hash[.string("total")] = .integer(Int64(a.total))
                t.hash[.string("share")] = .number(a.share)
                t.hash[.string("max_score_delta")] = .number(a.maxScoreDelta)
                t.hash[.string("min_iou")] = .number(a.minIoU)
                return call.push(.table(t))
            }
            m.function("presence", [LuaParameter("dataset_name", .string), LuaParameter("predictions", .any), LuaParameter("options", .table, optional: true)],
                       returns: "Presence", doc: "Image-level presence metrics: options {thresholds = {0.2, 0.4, ...}} or {from = 0.2, to = 0.99, step = 0.01}.") { call in
                let name = try call.string(1)
                let preds = try predictionsArgument(call, 2)
                let o = try call.options(3, allowed: ["from", "step", "thresholds", "to"])
                let thresholds: [Double]
                if let t = o["thresholds"] { thresholds = try [Double].decode(t, at: "thresholds") } else {
                    thresholds = try PresenceEvaluation.sweep(from: try o.option("from", as: Double.self) ?? 0.2,
                                                              to: try o.option("to", as: Double.self) ?? 0.99,
                                                              step: try o.option("step", as: Double.self) ?? 0.01)
                }
                let dicts = try catalog.get(name)
                let classes = catalog.metadata(name).thingClasses ?? []
                return call.push(object: PresenceObject(try PresenceEvaluation(dicts: dicts, predictions: preds, classes: classes, thresholds: thresholds)))
            }
            m.function("confusion_matrix", [LuaParameter("dataset_name", .string), LuaParameter("predictions", .any), LuaParameter("options", .table, optional: true)],
                       returns: "ConfusionMatrix", doc: "The box-level matrix (classes + background): options {score_threshold = 0.5, iou = 0.5}.") { call in
                let name = try call.string(1)
                let o = try call.options(3, allowed: ["iou", "score_threshold"])
                let m = try ConfusionMatrix.boxes(dicts: try catalog.get(name), predictions: try predictionsArgument(call, 2),
                                              classes: catalog.metadata(name).thingClasses ?? [],
                                              scoreThreshold: try o.option("score_threshold", as: Double.self) ?? 0.5,
                                              iouThreshold: try o.option("iou", as: Double.self) ?? 0.5)
                return call.push(object: ConfusionObject(m))
            }
            m.function("plot_heatmap", [LuaParameter("options", .table)], returns: "Figure",
                       doc: "A heat map: options {values = {{...}, ...} (nil or nan: not run), rows = labels, cols = labels, row_title, col_title, title, bar_label}; or panels = {{title = \"threshold 0.2\", values = ...}, ...} for one map per panel on one colour scale (the grid search's figure).") { call in
                let o = try call.options(1, allowed: ["bar_label", "col_title", "cols", "panels", "row_title", "rows", "title", "values"])
                guard let r = o["rows"], let c = o["cols"] else { throw call.argumentError(1, "options need rows and cols (and values, or panels)") }
                let n = try [LuaValue].decode(c, at: "cols").count
                func grid(_ v: LuaValue, _ key: String) throws -> [[Double?]] {
                    try [LuaValue].decode(v, at: key).enumerated().map { i, row -> [Double?] in
                        guard case .table(let t) = row else { throw LuaError.message("\(key)[\(i + 1)] is not a table") }
                        return (0..<n).map { j -> Double? in
                            let x: LuaValue = j < t.array.count ? t.array[j] : (t.hash[.integer(Int64(j + 1))] ?? .nil)
                            switch x { case .integer(let i): return Double(i); case .number(let d): return d.isFinite ? d : nil; default: return nil }
                        }
                    }
                }
                var panels: [(title: String, values: [[Double?]])] = []
                if let pv = o["panels"] {
                    guard o["values"] == nil else { throw call.argumentError(1, "give values or panels, not both") }
                    for (i, p) in try [LuaValue].decode(pv, at: "panels").enumerated() {
                        guard case .table(let t) = p, let v = t["values"] else { throw LuaError.message("panels[\(i + 1)] needs values (and a title)") }
                        let title: String
                        switch t["title"] { case .string(let s)?: title = s; case nil: title = ""; case let x?: title = x.description }
                        panels.append((title, try grid(v, "panels[\(i + 1)].values")))
                    }
                    guard !panels.isEmpty else { throw call.argumentError(1, "panels is empty") }
                } else {
                    guard let v = o["values"] else { throw call.argumentError(1, "options need values (or panels)") }
                    panels = [("", try grid(v, "values"))]
                }
                func labels(_ v: LuaValue, _ key: String) throws -> [String] {
                    try [LuaValue].decode(v, at: key).map { x -> String in
                        switch x { case .string(let s): return s; case .integer(let i): return String(i); case .number(let d): return String(d); default: return x.description }
                    }
                }
                func text(_ key: String, _ d: String) throws -> String { try o.option(key, as: String.self) ?? d }
                return call.push(object: try Plots.heatmaps(panels, rowLabels: try labels(r, "rows"), columnLabels: try labels(c, "cols"),
                                                            rowTitle: try text("row_title", ""), columnTitle: try text("col_title", ""),
                                                            title: try text("title", ""), barLabel: try text("bar_label", "")))
            }
            m.function("plot_bars", [LuaParameter("options", .table)], returns: "Figure",
                       doc: "Horizontal bars: options {bars = {{label, value}, ...} (value nil or nan: n/a), title, x_label, x_range = {0, 100}}.") { call in
                let o = try call.options(1, allowed: ["bars", "title", "x_label", "x_range"])
                guard let b = o["bars"] else { throw call.argumentError(1, "options need bars = {{label, value}, ...}") }
                let items = try [LuaValue].decode(b, at: "bars").enumerated().map { i, v -> (label: String, value: Double?) in
                    guard case .table(let t) = v, case .string(let label)? = t.array.first else { throw LuaError.message("bars[\(i + 1)] must be {label, value}") }
                    let value: Double?
                    switch t.array.count > 1 ? t.array[1] : .nil {
                    case .integer(let x): value = Double(x)
                    case .number(let x): value = x.isFinite ? x : nil
                    case .nil: value = nil
                    case let x: throw LuaError.message("bars[\(i + 1)][2] must be a number or nil, not a \(x.typeName)")
                    }
                    return (label, value)
                }
                var xRange: (Double, Double)?
                if let r = o["x_range"] {
                    let v = try [Double].decode(r, at: "x_range")
                    guard v.count == 2, v[1] > v[0], v.allSatisfy(\.isFinite) else { throw LuaError.message("x_range must be {low, high} with low < high") }
                    xRange = (v[0], v[1])
                }
                return call.push(object: try Plots.bars(items, title: try o.option("title", as: String.self) ?? "",
                                                        xLabel: try o.option("x_label", as: String.self) ?? "", xRange: xRange))
            }
            m.function("ConfusionMatrix", [LuaParameter("options", .table)], returns: "ConfusionMatrix",
                       doc: "A confusion matrix from counts: options {counts = {{...}, ...} (rows: truth), rows = labels, cols = labels (default rows), title}.") { call in
                let o = try call.options(1, allowed: ["cols", "counts", "rows", "title"])
                guard let c = o["counts"], let r = o["rows"] else { throw call.argumentError(1, "options need counts and rows") }
                let rows = try [String].decode(r, at: "rows"), cols = try o["cols"].map { try [String].decode($0, at: "cols") } ?? rows
                let counts = try [[Int]].decode(c, at: "counts")
                guard counts.count == rows.count, counts.allSatisfy({ $0.count == cols.count }) else {
                    throw LuaError.message("counts must be \(rows.count) rows of \(cols.count) numbers (one per row and column label)")
                }
                guard counts.allSatisfy({ $0.allSatisfy { $0 >= 0 } }) else { throw LuaError.message("counts cannot be negative") }
                return call.push(object: ConfusionObject(ConfusionMatrix(rowLabels: rows, columnLabels: cols, counts: counts,
                                                                         title: try o.option("title", as: String.self) ?? "")))
            }
            m.function("plot_training", [LuaParameter("metrics_json", .string), LuaParameter("options", .table, optional: true)], returns: "Figure",
                       doc: "Training curves from Detectron2's metrics.json (OUTPUT_DIR/metrics.json): each loss against the iteration (as written: the median of 20 iterations) and the learning rate on a second axis; options {title = ...}.") { call in
                let o = try call.options(2, allowed: ["title"])
                return call.push(object: try Plots.trainingCurves(metricsFile: try call.string(1), title: try o.option("title", as: String.self) ?? "training"))
            }
            m.function("plot_curves", [LuaParameter("options", .table)], returns: "Figure",
                       doc: "Line plot: options {series = {name = {{x, y}, ...}, ...}, marks = {name = {x, y}} (a point to mark, labelled \"y at x\"), x_label, y_label, title, x_range = {0, 1}, y_range = {0, 1}}.") { call in
                let o = try call.options(1, allowed: ["marks", "series", "title", "x_label", "x_range", "y_label", "y_range"])
                guard let s = o["series"] else { throw call.argumentError(1, "options need series") }
                let named = try [String: [[Double]]].decode(s, at: "series")
                let marks = try o["marks"].map { try [String: [Double]].decode($0, at: "marks") } ?? [:]
                for (name, m) in marks {
                    guard named[name] != nil else { throw LuaError.message("marks.\(name): no series has that name\(Suggestion.hint(for: name, among: named.keys))") }
                    guard m.count == 2 else { throw LuaError.message("marks.\(name) must be {x, y}") }
                }
                let series = named.keys.sorted().map { k in
                    Plots.Series(name: k, points: named[k]!.filter { $0.count == 2 }.map { (x: $0[0], y: $0[1]) },
                                 marked: marks[k].map { [($0[0], $0[1], String(format: "%.2f at %.2f", $0[1], $0[0]))] } ?? [])
                }
                func text(_ key: String, _ d: String) throws -> String { try o.option(key, as: String.self) ?? d }
                func range(_ key: String) throws -> (Double, Double) {
                    guard let v = o[key] else { return (0, 1) }
                    let r = try [Double].decode(v, at: key)
                    guard r.count == 2, r[1] > r[0] else { throw LuaError.message("\(key) must be {low, high} with low < high") }
                    return (r[0], r[1])
                }
                return call.push(object: try Plots.lines(series, xLabel: try text("x_label", "x"), yLabel: try text("y_label", "y"),
                                                         title: try text("title", ""), xRange: try range("x_range"), yRange: try range("y_range")))
            }
        }
    }

    static func registerCOCOEvaluatorClass(in state: LuaState) throws {
        try state.defineClass(COCOEvaluator.self, name: "detectron2.evaluation.COCOEvaluator", doc: "Collects predictions and evaluates them with COCO AP.") { c in
            c.tostring { "COCOEvaluator('\($0.datasetName)', \($0.predictions.count) images processed)" }
            c.method("reset", [], doc: "Forgets processed predictions.") { e, call in
                e.reset()
                return 0
            }
            c.method("evaluate", [], returns: "Results", doc: "Evaluates what was processed.") { e, call in
                let r = try e.evaluate()
                return call.push(object: ResultsObject(r, predictions: PredictionsObject(e.predictions, classes: r.classes)))
            }
            c.method("process", [LuaParameter("inputs", .table), LuaParameter("outputs", .table)], doc: "Adds a batch: inputs (with image_id) and the model's outputs.") { e, call in
                let inputs = try call.decode([LuaValue].self, 2), outputs = try call.decode([LuaValue].self, 3)
                guard inputs.count == outputs.count else { throw LuaError.message("\(inputs.count) inputs but \(outputs.count) outputs") }
                for (i, (input, output)) in zip(inputs, outputs).enumerated() {
                    guard case .table(let t) = input, let idv = t["image_id"] else { throw LuaError.message("input [\(i + 1)] has no image_id") }
                    try e.process(try predictionsFrom(call.state, output: output, imageID: Int64(try Int.decode(idv, at: "image_id")), index: i + 1))
                }
                return 0
            }
        }
    }

}
