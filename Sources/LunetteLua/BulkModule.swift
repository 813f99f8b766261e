import Detection
import Foundation
import LuaHost
import Support
import Torch
import Vision

/// A bulk-detection job as Lua sees it: the store, read live, and the job that wrote it (nil
/// for a store opened to read).
final class DetectJobObject {
    let results: BulkResults
    let job: BulkDetection?
    init(results: BulkResults, job: BulkDetection?) {
        self.results = results
        self.job = job
    }

    func summary() throws -> BulkResults.Summary { try results.summary(paths: job?.paths) }

    var text: String {
        get throws {
            let s = try summary()
            var lines = ["detect_batch: \(results.store.path)"]
            lines.append("  creatives: \(s.done) done, \(s.failed) failed, \(s.pending) left")
            if let r = job?.lastReport, r.done + r.failed == 0 {
                lines.append("  this run: nothing left to do (\(r.skipped) creatives already done)")
            } else if let r = job?.lastReport, r.seconds > 0 {
                let n = r.done + r.failed
                lines.append(String(format: "  this run: %d creatives in %.1f s (%.2f creatives/s, %.2f model×images/s)%@", n, r.seconds,
                                    Double(n) / r.seconds, Double(r.modelImages) / r.seconds, r.skipped > 0 ? " after \(r.skipped) already done" as NSString : "" as NSString))
            }
            if let r = job?.lastReport, let first = r.rssAfterFirstBatch, let end = r.rssAtEnd {
                lines.append(String(format: "  memory: %.0f MB after the first batch, %.0f MB at the end", first, end))
            }
            var byModel: [String: [String]] = [:], order: [String] = []
            for d in s.detections {
                if byModel[d.model] == nil { order.append(d.model) }
                byModel[d.model, default: []].append("\(d.label) \(d.count)")
            }
            lines.append("  detections at the thresholds:")
            for m in order { lines.append("    \(m): \(byModel[m]!.joined(separator: ", "))") }
            for g in s.sharing { lines.append("  sharing the frozen stem: \(g.joined(separator: ", "))") }
            return lines.joined(separator: "\n")
        }
    }
}

extension LunetteBindings {
    static func installBulkModule(in state: LuaState) throws {
        try state.defineClass(DetectJobObject.self, name: "detectron2.engine.DetectJob",
                              doc: "A bulk-detection job and its store: print it for the counts; summary, failed, features, save_csv.") { c in
            c.tostring { j in (try? j.text) ?? "detect_batch: \(j.results.store.path)" }
            c.property("store", type: "string", doc: "The store's path.") { j, call in call.push(.string(j.results.store.path)) }
            c.property("models", type: "table", doc: "The models' names, in order.") { j, call in
                call.push(.table(LuaTable(array: j.results.models.map { .string($0.name) }, kind: .array)))
            }
            c.property("sharing", type: "table", doc: "Groups of models that share their stem and frozen stages (computed once per image).") { j, call in
                call.push(.table(LuaTable(array: j.results.models.isEmpty ? [] : j.results.sharing.map { .table(LuaTable(array: $0.map { .string($0) }, kind: .array)) }, kind: .array)))
            }
            c.method("summary", [], returns: "table",
                     doc: "What print(job) shows, as a table: {done =, failed =, pending =, detections = {model = {label = count}}} (counts at each class's threshold); after a run here also model_images (images each model ran on in it), seconds and rates.") { j, call in
                let s = try j.summary()
                var t = LuaTable()
                t.hash[.string("done")] = .integer(Int64(s.done))
                t.hash[.string("failed")] = .integer(Int64(s.failed))
                t.hash[.string("pending")] = .integer(Int64(s.pending))
                var per = LuaTable(kind: .map)
                for d in s.detections {
                    var inner: LuaTable
                    if case .table(let x)? = per.hash[.string(d.model)] { inner = x } else { inner = LuaTable(kind: .map) }
                    inner.hash[.string(d.label)] = .integer(Int64(d.count))
                    per.hash[.string(d.model)] = .table(inner)
                }
                t.hash[.string("detections")] = .table(per)
                if let r = j.job?.lastReport { t.hash[.string("model_images")] = .integer(Int64(r.modelImages)) }
                if let r = j.job?.lastReport, r.seconds > 0 {
                    t.hash[.string("seconds")] = .number(r.seconds)
                    t.hash[.string("creatives_per_s")] = .number(Double(r.done + r.failed) / r.seconds)
                    t.hash[.string("model_images_per_s")] = .number(Double(r.modelImages) / r.seconds)
                }
                if let r = j.job?.lastReport, let first = r.rssAfterFirstBatch, let end = r.rssAtEnd {
                    t.hash[.string("rss_first_batch_mb")] = .number(first)
                    t.hash[.string("rss_end_mb")] = .number(end)
                }
                return call.push(.table(t))
            }
            c.method("check", [], returns: "table",
                     doc: "The store's consistency: a list of problems (detections without their finished creative, stored twice, of failed creatives), empty when sound.") { j, call in
                call.push(.table(LuaTable(array: try j.results.store.inconsistencies().map { .string($0) }, kind: .array)))
            }
            c.method("failed", [], returns: "table", doc: "The creatives recorded as failed: {{path =, reason =}, ...}.") { j, call in
                call.push(.table(LuaTable(array: try j.results.failed().map { f in
                    var t = LuaTable()
                    t.hash[.string("path")] = .string(f.path)
                    t.hash[.string("reason")] = .string(f.reason)
                    return .table(t)
                }, kind: .array)))
            }
            c.method("features", [LuaParameter("options", .table)], returns: "table", doc: """
                Writes the creative feature table: options {out = "features.csv", long = "features_long.csv" (one row per creative and object), ids = {[path or file name or stem] = "id"}}; a sidecar <out stem>.json holds thresholds and model hashes. Returns {out =, sidecar =, creatives =, excluded = {...}}.
                """) { j, call in
                let o = try call.options(2, allowed: ["ids", "long", "out"])
                guard let out = try o.option("out", as: String.self) else { throw LuaError.message("features needs out = <csv path>") }
                let r = try j.results.writeFeatures(to: out, long: try o.option("long", as: String.self), ids: try idMap(o["ids"]))
                var t = LuaTable()
                t.hash[.string("out")] = .string(out)
                t.hash[.string("sidecar")] = .string(r.sidecar)
                t.hash[.string("creatives")] = .integer(Int64(r.rows))
                t.hash[.string("excluded")] = .table(LuaTable(array: r.excluded.map { .string("\($0.path): \($0.why)") }, kind: .array))
                return call.push(.table(t))
            }
            c.method("save_csv", [LuaParameter("path", .string), LuaParameter("options", .table, optional: true)], returns: "DetectJob", doc: """
                One row per detection at or above its class's threshold: creative_id,path,frame,time_s,model,class,label,score,x1,y1,x2,y2 (boxes XYXY in original pixels; frame and time_s empty for images). options {all = true} writes every stored detection (above the score floor); ids = {...} as features.
                """) { j, call in
                let o = try call.options(3, allowed: ["all", "ids"])
                try j.results.detectionsCSV(all: try o.option("all", as: Bool.self) ?? false, ids: try idMap(o["ids"])).write(to: try call.string(2))
                return call.push(object: j)
            }
        }
    }

    static func idMap(_ v: LuaValue?) throws -> [String: String] {
        guard let v else { return [:] }
        guard case .table(let t) = v, t.array.isEmpty else { throw LuaError.message("ids must be a table {[path or file name] = \"creative id\"}") }
        var out: [String: String] = [:]
        for (k, value) in t.hash {
            guard case .string(let key) = k else { throw LuaError.message("ids: keys are paths or file names") }
            switch value {
            case .string(let s): out[key] = s
            case .integer(let i): out[key] = String(i)
            default: throw LuaError.message("ids[\"\(key)\"] must be a string or an integer, not a \(value.typeName)")
            }
        }
        return out
    }

    /// The models of detect_batch{models = ...}: models:for_brand(...)'s list, or a table by name.
    static func bulkModels(_ v: LuaValue?) throws -> [BulkDetection.ModelSpec] {
        guard case .table(let t)? = v else {
            throw LuaError.message("detect_batch needs models = models:for_brand(\"brand\") or { logo = {weights = ..., config = cfg, thresholds = {logo = 0.43}}, ... }")
        }
        var entries: [(String, LuaTable)] = []
        for (i, e) in t.array.enumerated() {
            guard case .table(let m) = e else { throw LuaError.message("models[\(i + 1)] must be a model table (as models:for_brand gives), not a \(e.typeName)") }
            guard case .string(let name)? = m["object"] ?? m["name"] else { throw LuaError.message("models[\(i + 1)] has no object (or name) naming it") }
            entries.append((name, m))
        }
        for (k, e) in t.hash.sorted(by: { "\($0.key)" < "\($1.key)" }) {
            guard case .string(let name) = k else { throw LuaError.message("models: keys are model names") }
            guard case .table(let m) = e else { throw LuaError.message("models.\(name) must be a table {weights =, config =, thresholds =}, not a \(e.typeName)") }
            entries.append((name, m))
        }
        guard !entries.isEmpty else { throw LuaError.message("models is empty: detect_batch needs at least one model") }
        return try entries.map { name, m in
            let what = "models.\(name)"
            let allowed = ["batch_size", "ap", "baseline", "baseline_value", "brand", "classes", "config", "max_iter", "metric", "name", "object", "objects", "params",
                           "sha256", "threshold", "thresholds", "trial", "value", "weights"]
            for case .string(let key) in m.hash.keys where !allowed.contains(key) {
                throw LuaError.message("\(what): unknown field '\(key)'\(Suggestion.hint(for: key, among: allowed)) (a model has weights, config, thresholds, threshold, classes)")
            }
            guard case .string(let weights)? = m["weights"] else { throw LuaError.message("\(what) needs weights = <checkpoint file>") }
            let cfg: CfgNode
            switch m["config"] {
            case .object(let o)? where o is CfgNode: cfg = (o as! CfgNode)
            case .string(let path)?:
                cfg = CfgNode.defaults()
                do { try cfg.mergeFromFile(path) } catch { throw LuaError.message("\(what): config \(path): \(error)") }
            case nil: throw LuaError.message("\(what) needs config = <CfgNode or YAML path>")
            case let other?: throw LuaError.message("\(what).config must be a CfgNode or a YAML path, not a \(other.typeName)")
            }
            var thresholds: [(className: String, threshold: Double)] = []
            if let tv = m["thresholds"] {
                guard case .table(let tt) = tv, tt.array.isEmpty else { throw LuaError.message("\(what).thresholds must be a table {class = threshold}") }
                for (k, x) in tt.hash {
                    guard case .string(let cls) = k else { throw LuaError.message("\(what).thresholds: keys are class names") }
                    thresholds.append((cls, try Double.decode(x, at: "\(what).thresholds.\(cls)")))
                }
                thresholds.sort { $0.className < $1.className }
            }
            let threshold = try m["threshold"].map { try Double.decode($0, at: "\(what).threshold") }
            let classes = try m["classes"].map { try [String].decode($0, at: "\(what).classes") }
            // A final model (models:for_brand) is for its object: it reports that class.
            var objects = try m["objects"].map { try [String].decode($0, at: "\(what).objects") }
            if objects == nil, case .string(let object)? = m["object"], classes?.contains(object) == true { objects = [object] }
            return BulkDetection.ModelSpec(name: name, weights: weights, cfg: cfg, thresholds: thresholds, threshold: threshold, classes: classes, objects: objects)
        }
    }

    static func bulkListing(_ v: LuaValue?) throws -> Creatives.Listing {
        switch v {
        case .string(let s)?: return try Creatives.list(s)
        case .table(let t)?:
            guard t.hash.isEmpty else { throw LuaError.message("images: a table of paths is a list {\"a.jpg\", \"b.mp4\"}") }
            let paths = try t.array.enumerated().map { i, x -> String in
                guard case .string(let p) = x else { throw LuaError.message("images[\(i + 1)] must be a path, not a \(x.typeName)") }
                return p
            }
            guard !paths.isEmpty else { throw LuaError.message("images is an empty list") }
            return Creatives.Listing(paths: paths, root: nil, source: "a list of \(paths.count) paths")
        default:
            throw LuaError.message("detect_batch needs images = a folder, a glob (\"creatives/*.jpg\"), a list file, or a table of paths")
        }
    }

    static func bulkShard(_ v: LuaValue?) throws -> BulkDetection.Shard? {
        guard let v else { return try BulkDetection.Shard.fromEnvironment() }
        switch v {
        case .string(let s): return try BulkDetection.Shard(parsing: s)
        case .table(let t):
            let index = try t["index"].map { try Int.decode($0, at: "shard.index") }
            let count = try t["count"].map { try Int.decode($0, at: "shard.count") }
            if let index, let count { return try BulkDetection.Shard(index: index, count: count) }
            if let count, let s = try BulkDetection.Shard.fromEnvironment(count: count) { return s }
            throw LuaError.message("shard needs {index = i, count = n} (i from 1), or count = n with JOB_COMPLETION_INDEX set")
        default: throw LuaError.message("shard must be {index = i, count = n} or \"i/n\"")
        }
    }

    static func detectBatch(_ o: [String: LuaValue]) throws -> DetectJobObject {
        let specs = try bulkModels(o["models"])
        let listing = try bulkListing(o["images"])
        guard let out = try o.option("out", as: String.self) else { throw LuaError.message("detect_batch needs out = <store file> (out/brandA.sqlite)") }
        var opts = BulkDetection.Options(out: out)
        if let x = try o.option("every", as: Int.self) { opts.every = x }
        if let x = try o.option("batch_size", as: Int.self) { opts.batchSize = x }
        if let x = try o.option("score_floor", as: Double.self) { opts.floor = x }
        if let x = try o.option("device", as: String.self) { opts.device = x }
        if let x = try o.option("precision", as: String.self) { opts.precision = x }
        if let x = try o.option("workers", as: Int.self) { opts.workers = x }
        if let x = try o.option("inference_batch", as: Int.self) { opts.inferenceBatch = x }
        if let x = try o.option("heartbeat_grace", as: Double.self) { opts.heartbeatGrace = x }
        opts.shard = try bulkShard(o["shard"])
        let job = try BulkDetection(models: specs, listing: listing, options: opts, version: version)
        try job.run()
        return DetectJobObject(results: try BulkResults(store: job.store), job: job)
    }

    static let detectBatchOptions = ["batch_size", "device", "every", "heartbeat_grace", "images", "inference_batch", "models", "out", "precision",
                                     "score_floor", "shard", "workers"]

    /// detect_batch and the store reader, in detectron2.engine.
    static func installBulkFunctions(_ m: LuaModuleBuilder) {
        m.function("detect_batch", [LuaParameter("options", .table)], returns: "DetectJob", doc: """
            Every creative through every model, into a resumable SQLite store: options {models = models:for_brand("brandA") or {logo = {weights =, config = cfg or YAML path, thresholds = {logo = 0.43}}, ...}, images = folder (recursive) or glob or list file or {paths}, every = 10 (video frames), batch_size = 200 (creatives per committed batch), out = "out/brandA.sqlite", device = "auto", precision = "fp32" ("bf16" or "fp16" on CUDA; the CPU refuses both and says why; a precision changes the model's stored digest, so its creatives are recomputed), score_floor = 0.05, shard = {index =, count =} (or SLURM_ARRAY_TASK_ID), workers = 2 (decoding threads), inference_batch = 1}. A rerun skips what is done; a model whose weights changed is recomputed alone; failed files are recorded (job:failed()).
            """) { call in
            call.push(object: try detectBatch(try call.options(1, allowed: detectBatchOptions)))
        }
        m.function("detect_command", [LuaParameter("args", .table)], returns: "string",
                   doc: "What `lunette detect ARGS...` runs (detect, merge, features, export, status): the arguments as a list; returns the report it prints.") { call in
            call.push(.string(try DetectCommand.run(try [String].decode(try call.value(1), at: "args"))))
        }
        m.function("open_detections", [LuaParameter("store", .string)], returns: "DetectJob",
                   doc: "A detection store as it stands (nothing runs): for summary, failed, features and save_csv in another session.") { call in
            call.push(object: DetectJobObject(results: try BulkResults(path: try call.string(1), version: version), job: nil))
        }
    }
}

/// `lunette detect ...`: the same engine from a shell, for cluster jobs.
enum DetectCommand {
    static let usage = """
        usage: lunette detect --models REGISTRY --brand BRAND --images PATH --out STORE [--batch-size 200] [--every 10]
                              [--shard i/n] [--shard-count n] [--device auto] [--score-floor 0.05] [--workers 2] [--inference-batch 1]
                              [--precision fp32|bf16|fp16]
               lunette detect merge STORE... --into STORE
               lunette detect features STORE --out CSV [--long CSV]
               lunette detect export STORE --csv CSV [--all]
               lunette detect status STORE
        """

    struct Arguments {
        var positional: [String] = []
        var values: [String: String] = [:]
        var flags: Set<String> = []
    }

    static func parse(_ args: [String], valued: Set<String>, flags: Set<String>) throws -> Arguments {
        var a = Arguments()
        var i = 0
        while i < args.count {
            let x = args[i]
            if x.hasPrefix("--") {
                var name = String(x.dropFirst(2)), value: String?
                if let eq = name.firstIndex(of: "=") { value = String(name[name.index(after: eq)...]); name = String(name[..<eq]) }
                if flags.contains(name) { a.flags.insert(name); i += 1; continue }
                guard valued.contains(name) else {
                    throw LuaError.message("lunette detect: unknown option --\(name)\(Suggestion.hint(for: name, among: Array(valued) + Array(flags)))\n\(usage)")
                }
                if value == nil {
                    guard i + 1 < args.count else { throw LuaError.message("lunette detect: --\(name) needs a value\n\(usage)") }
                    i += 1
                    value = args[i]
                }
                a.values[name] = value!
            } else { a.positional.append(x) }
            i += 1
        }
        return a
    }

    static func int(_ a: Arguments, _ name: String) throws -> Int? {
        guard let s = a.values[name] else { return nil }
        guard let v = Int(s) else { throw LuaError.message("lunette detect: --\(name) takes a whole number, not '\(s)'") }
        return v
    }

    /// Runs the command; returns what to print.
    static func run(_ args: [String]) throws -> String {
        let version = LunetteBindings.version
        switch args.first {
        case "merge":
            let a = try parse(Array(args.dropFirst()), valued: ["into"], flags: [])
            guard let into = a.values["into"], !a.positional.isEmpty else { throw LuaError.message("lunette detect merge: give the stores and --into STORE\n\(usage)") }
            let (copied, dup) = try BulkResults.merge(a.positional, into: into, version: version)
            return "merged \(a.positional.count) stores into \(into): \(copied) creatives" + (dup > 0 ? " (\(dup) duplicates kept once)" : "")
        case "features":
            let a = try parse(Array(args.dropFirst()), valued: ["out", "long"], flags: [])
            guard a.positional.count == 1, let out = a.values["out"] else { throw LuaError.message("lunette detect features: give one STORE and --out CSV\n\(usage)") }
            let r = try BulkResults(path: a.positional[0], version: version).writeFeatures(to: out, long: a.values["long"])
            return "features of \(r.rows) creatives: \(out) (thresholds and model hashes in \(r.sidecar))"
        case "export":
            let a = try parse(Array(args.dropFirst()), valued: ["csv"], flags: ["all"])
            guard a.positional.count == 1, let csv = a.values["csv"] else { throw LuaError.message("lunette detect export: give one STORE and --csv PATH\n\(usage)") }
            try BulkResults(path: a.positional[0], version: version).detectionsCSV(all: a.flags.contains("all")).write(to: csv)
            return "detections: \(csv)"
        case "status":
            guard args.count == 2 else { throw LuaError.message("lunette detect status: give one STORE\n\(usage)") }
            return try DetectJobObject(results: try BulkResults(path: args[1], version: version), job: nil).text
        case "-h", "--help", nil:
            return usage
        default:
            let a = try parse(args, valued: ["models", "brand", "images", "out", "batch-size", "every", "shard", "shard-count", "device", "score-floor",
                                             "workers", "inference-batch", "precision"], flags: [])
            guard a.positional.isEmpty else { throw LuaError.message("lunette detect: unexpected argument '\(a.positional[0])'\n\(usage)") }
            let precision = try a.values["precision"].map { try Precision(parsing: $0, key: "--precision") }
            guard let registry = a.values["models"], let brand = a.values["brand"], let images = a.values["images"], let out = a.values["out"] else {
                throw LuaError.message("lunette detect needs --models, --brand, --images and --out\n\(usage)")
            }
            guard FileManager.default.fileExists(atPath: registry) else { throw LuaError.message("lunette detect: --models \(registry): no such file (the final-models registry, models.sqlite)") }
            let specs = try FinalModels(path: registry, version: version).forBrand(brand).map { m in
                BulkDetection.ModelSpec(name: m.object, weights: m.weights, cfg: try FinalModels.config(of: m), thresholds: m.thresholds,
                                        threshold: m.threshold, classes: m.classes, objects: m.classes.contains(m.object) ? [m.object] : nil)
            }
            var o = BulkDetection.Options(out: out)
            if let x = try int(a, "batch-size") { o.batchSize = x }
            if let x = try int(a, "every") { o.every = x }
            if let x = try int(a, "workers") { o.workers = x }
            if let x = try int(a, "inference-batch") { o.inferenceBatch = x }
            if let x = a.values["device"] { o.device = x }
            if let precision { o.precision = precision.rawValue }
            if let s = a.values["score-floor"] {
                guard let x = Double(s) else { throw LuaError.message("lunette detect: --score-floor takes a number, not '\(s)'") }
                o.floor = x
            }
            if let s = a.values["shard"] { o.shard = try BulkDetection.Shard(parsing: s) } else { o.shard = try BulkDetection.Shard.fromEnvironment(count: try int(a, "shard-count")) }
            let job = try BulkDetection(models: specs, listing: try Creatives.list(images), options: o, version: version)
            try job.run()
            return try DetectJobObject(results: try BulkResults(store: job.store), job: job).text
        }
    }
}
