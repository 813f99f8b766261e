import Foundation
import Store
import Support
import Torch
import Vision

/// Bulk detection (the study's last step): every creative through every model in one pass,
/// into a SQLite store that a rerun resumes from. Each creative is decoded once, on worker
/// threads ahead of inference, and resized once per distinct input setting; models whose stem
/// and frozen stages hold identical weights compute that prefix once per image. A batch of
/// creatives is one transaction; an unreadable file is recorded as failed and the job goes on.
public final class BulkDetection {
    /// A model as the job is given it.
    public struct ModelSpec {
        public var name: String
        public var weights: String
        public var cfg: CfgNode
        /// Per-class thresholds (class name → score); classes without one use `threshold`.
        public var thresholds: [(className: String, threshold: Double)]
        public var threshold: Double?
        /// Class names (from the registry), nil to take them from the config's datasets.
        public var classes: [String]?
        /// The classes reported in features, counts and the detections CSV (a registry model
        /// for the object "logo" reports its logo class), nil for all.
        public var objects: [String]?
        public init(name: String, weights: String, cfg: CfgNode, thresholds: [(className: String, threshold: Double)] = [], threshold: Double? = nil,
                    classes: [String]? = nil, objects: [String]? = nil) {
            self.name = name; self.weights = weights; self.cfg = cfg; self.thresholds = thresholds; self.threshold = threshold; self.classes = classes
            self.objects = objects
        }
    }

    public struct Shard: Sendable, Equatable {
        public var index: Int, count: Int
        public init(index: Int, count: Int) throws {
            guard count >= 1, (1...count).contains(index) else { throw ConfigError("shard index must be 1 to count (\(count)), not \(index)") }
            self.index = index
            self.count = count
        }
        public var text: String { "\(index)/\(count)" }

        /// --shard "i/n".
        public init(parsing s: String) throws {
            let parts = s.split(separator: "/")
            guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else { throw ConfigError("--shard takes i/n (shard i of n, from 1), not '\(s)'") }
            try self.init(index: i, count: n)
        }

        /// A scheduler's array job: SLURM_ARRAY_TASK_ID (from SLURM_ARRAY_TASK_MIN) of
        /// SLURM_ARRAY_TASK_COUNT, or Kubernetes' JOB_COMPLETION_INDEX (from 0) of `count`.
        public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment, count: Int? = nil) throws -> Shard? {
            if let id = env["SLURM_ARRAY_TASK_ID"].flatMap(Int.init), let n = env["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init) {
                let low = env["SLURM_ARRAY_TASK_MIN"].flatMap(Int.init) ?? 0
                let step = env["SLURM_ARRAY_TASK_STEP"].flatMap(Int.init) ?? 1
                guard step >= 1, (id - low) % step == 0 else {
                    throw ConfigError("SLURM_ARRAY_TASK_ID \(id) is not on the array's steps (from \(low) by \(step)); give --shard i/n")
                }
                let s = try Shard(index: (id - low) / step + 1, count: n)
                DetectionLog.shared.info("detect_batch", "shard \(s.text) from SLURM_ARRAY_TASK_ID \(id) of SLURM_ARRAY_TASK_COUNT \(n)")
                return s
            }
            if let k = env["JOB_COMPLETION_INDEX"].flatMap(Int.init) {
                guard let n = count ?? env["LUNETTE_SHARD_COUNT"].flatMap(Int.init) else {
                    throw ConfigError("JOB_COMPLETION_INDEX is set (\(k)) but the number of shards is not: give shard = {count = n} or --shard-count n")
                }
                let s = try Shard(index: k + 1, count: n)
                DetectionLog.shared.info("detect_batch", "shard \(s.text) from JOB_COMPLETION_INDEX \(k)")
                return s
            }
            return nil
        }
    }

    public struct Options {
        public var out: String
        public var every = 10
        public var batchSize = 200
        public var floor = 0.05
        public var device = "auto"
        public var precision = "fp32"
        public var shard: Shard?
        public var workers = 2
        /// Frames of one video that go through a model together.
        public var inferenceBatch = 1
        public var heartbeatGrace = 60.0
        public init(out: String) { self.out = out }
    }

    /// A model ready to run.
    final class Loaded {
        let name: String
        let weights: String
        let sha256: String
        let digest: String
        let predictor: DefaultPredictor
        let classes: [String]
        let thresholds: [Double]          // per class index
        let objects: [String]             // the classes reported
        let inputKey: Int                 // index into the distinct input settings
        var prefixKey: String?            // models with equal keys share the prefix
        let config: String
        init(name: String, weights: String, sha256: String, digest: String, predictor: DefaultPredictor, classes: [String], thresholds: [Double],
             objects: [String], inputKey: Int, config: String) {
            self.name = name; self.weights = weights; self.sha256 = sha256; self.digest = digest; self.predictor = predictor
            self.classes = classes; self.thresholds = thresholds; self.objects = objects; self.inputKey = inputKey; self.config = config
        }
    }

    public let options: Options
    public let store: DetectionStore
    public let listing: Creatives.Listing
    let models: [Loaded]
    /// Distinct (short edge, max size, format) settings, one resize each per image.
    let inputs: [(resize: ResizeShortestEdge, format: String)]
    /// Groups of models (indices) that share a prefix; singletons run whole.
    let groups: [[Int]]
    let device: Device
    /// What the models run at: the precision asked for, or fp32 where the device lacks it.
    public let effectivePrecision: Precision
    let version: String
    /// The creatives of this job (this shard's), in order.
    public let paths: [String]

    public var modelNames: [String] { models.map(\.name) }
    /// Which models share their frozen prefix (groups of two or more).
    public var sharing: [[String]] { groups.filter { $0.count > 1 }.map { $0.map { models[$0].name } } }

    /// The store's path for a shard: `brandA.sqlite` → `brandA.shard-3-of-8.sqlite`.
    public static func storePath(_ out: String, shard: Shard?) -> String {
        guard let shard else { return out }
        let ext = (out as NSString).pathExtension
        let stem = ext.isEmpty ? out : String(out.dropLast(ext.count + 1))
        return "\(stem).shard-\(shard.index)-of-\(shard.count)" + (ext.isEmpty ? "" : ".\(ext)")
    }

    public init(models specs: [ModelSpec], listing: Creatives.Listing, options: Options, version: String) throws {
        self.options = options
        self.listing = listing
        self.version = version
        guard !specs.isEmpty else { throw ConfigError("detect_batch needs at least one model (models = {...})") }
        guard options.every >= 1 else { throw ConfigError("every must be at least 1 (every Nth video frame), not \(options.every)") }
        guard options.batchSize >= 1 else { throw ConfigError("batch_size must be at least 1 (creatives per committed batch), not \(options.batchSize)") }
        guard options.floor >= 0 && options.floor < 1 else { throw ConfigError("score_floor must be in [0, 1), not \(options.floor)") }
        guard options.workers >= 1 && options.workers <= 64 else { throw ConfigError("workers must be 1 to 64, not \(options.workers)") }
        guard options.inferenceBatch >= 1 else { throw ConfigError("inference_batch must be at least 1, not \(options.inferenceBatch)") }
        let precision = try Precision(parsing: options.precision)
        var seen = Set<String>()
        for s in specs where !seen.insert(s.name).inserted { throw ConfigError("two models are named '\(s.name)': each model needs its own name (its detections are stored under it)") }
        for s in specs where s.name.isEmpty || s.name.contains(where: { $0 == "," || $0 == "\n" }) {
            throw ConfigError("model name '\(s.name)' cannot be used: names are non-empty and hold no comma or line break")
        }
        let deviceName = options.device == "auto" ? (TorchRuntime.cudaIsAvailable ? "cuda" : "cpu") : options.device

        // The store first: a wrong `out` is found before minutes of model loading.
        let path = Self.storePath(options.out, shard: options.shard)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw ConfigError("out = \"\(path)\" is a folder; give the path of a store file (out = \"out/brandA.sqlite\")")
        }
        let parent = PathName.parent(path)
        if !parent.isEmpty {
            do { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) } catch {
                throw ConfigError("out = \"\(path)\": cannot create its folder \(parent): \(error.localizedDescription)")
            }
        }
        do { store = try DetectionStore(path: path, version: version) } catch { throw ConfigError("out = \"\(path)\": \(error)") }

        var loaded: [Loaded] = []
        var inputs: [(ResizeShortestEdge, String)] = []
        for s in specs {
            loaded.append(try Self.load(s, floor: options.floor, every: options.every, device: deviceName, precision: precision, inputs: &inputs))
        }
        self.inputs = inputs
        models = loaded
        device = loaded[0].predictor.model.device
        effectivePrecision = loaded[0].predictor.model.precision

        // Models that share a prefix: same input, same preprocessing, identical prefix weights.
        var byKey: [String: [Int]] = [:], order: [String] = []
        for (i, m) in loaded.enumerated() {
            let key = try Self.prefixKey(m)
            m.prefixKey = key
            let k = key ?? "alone-\(i)"
            if byKey[k] == nil { order.append(k) }
            byKey[k, default: []].append(i)
        }
        groups = order.map { byKey[$0]! }

        // This job's creatives (this shard's).
        var paths = listing.paths
        if let shard = options.shard {
            paths = paths.filter { Creatives.shard(of: Creatives.relative($0, root: listing.root), count: shard.count) == shard.index }
        }
        var unique = Set<String>()
        self.paths = paths.filter { unique.insert($0).inserted }
    }

    static func load(_ s: ModelSpec, floor: Double, every: Int, device: String, precision: Precision,
                     inputs: inout [(ResizeShortestEdge, String)]) throws -> Loaded {
        let what = "model '\(s.name)'"
        guard FileManager.default.fileExists(atPath: s.weights) else { throw ConfigError("\(what): weights \(s.weights): no such file") }
        let cfg = s.cfg.clone()
        let sha: String
        do {
            try cfg.set("MODEL.WEIGHTS", .string(s.weights))
            try cfg.set("MODEL.DEVICE", .string(device))
            try cfg.set("MODEL.ROI_HEADS.SCORE_THRESH_TEST", .float(floor))
            sha = try Digest.sha256(file: s.weights)
        } catch { throw ConfigError("\(what): \(error)") }
        let predictor: DefaultPredictor
        do { predictor = try DefaultPredictor(cfg: cfg, precision: precision) } catch { throw ConfigError("\(what) (weights \(s.weights)): \(error)") }
        let n = predictor.model.roiHeads.numClasses
        var classes: [String]
        if let c = s.classes, !c.isEmpty { classes = c } else if let c = predictor.classes { classes = c } else if n == 1 { classes = [s.name] } else {
            throw ConfigError("\(what): its \(n) class names are unknown: give classes = {...}, or register DATASETS.TEST with thing_classes")
        }
        guard classes.count == n else {
            throw ConfigError("\(what) has \(n) classes (MODEL.ROI_HEADS.NUM_CLASSES) but \(classes.count) class names are given (\(classes.joined(separator: ", ")))")
        }
        var thresholds = [Double](repeating: s.threshold ?? .nan, count: n)
        for (name, t) in s.thresholds {
            guard let k = classes.firstIndex(of: name) else {
                throw ConfigError("\(what): thresholds name class '\(name)', which the model lacks\(Suggestion.hint(for: name, among: classes)) (its classes: \(classes.joined(separator: ", ")))")
            }
            thresholds[k] = t
        }
        let objects = s.objects ?? classes
        for o in objects where !classes.contains(o) {
            throw ConfigError("\(what): objects name class '\(o)', which the model lacks\(Suggestion.hint(for: o, among: classes)) (its classes: \(classes.joined(separator: ", ")))")
        }
        let unset = (0..<n).filter { thresholds[$0].isNaN && objects.contains(classes[$0]) }.map { classes[$0] }
        if !unset.isEmpty {
            DetectionLog.shared.info("detect_batch", "\(what): no threshold for \(unset.count == 1 ? "class" : "classes") \(unset.joined(separator: ", ")); using 0.5 (give thresholds = {\(unset[0]) = ...})")
        }
        for k in 0..<n where thresholds[k].isNaN { thresholds[k] = 0.5 }   // a class not reported
        for (k, t) in thresholds.enumerated() {
            guard t.isFinite, t >= floor, t <= 1 else {
                throw ConfigError("\(what): the threshold of class '\(classes[k])' is \(t); thresholds lie between the score floor (\(floor)) and 1")
            }
        }
        let resize = predictor.resize, format = predictor.inputFormat
        let inputKey: Int
        if let i = inputs.firstIndex(where: { $0.0.shortEdgeLengths == resize.shortEdgeLengths && $0.0.maxSize == resize.maxSize && $0.1 == format }) { inputKey = i } else {
            inputs.append((resize, format))
            inputKey = inputs.count - 1
        }
        // What changes the stored detections: the weights, the config (the device and the
        // weights' path aside), the class names (stored as labels), the frame step, the floor,
        // and a reduced precision in effect (fp32 adds nothing, so fp32 stores keep their digests).
        let neutral = cfg.clone()
        try neutral.set("MODEL.WEIGHTS", .string(""))
        try neutral.set("MODEL.DEVICE", .string(""))
        let reduced = predictor.model.precision == .fp32 ? "" : "precision \(predictor.model.precision)\n"
        let digest = String(Digest.sha256("\(sha)\n\(neutral.dump())\nclasses \(classes)\nevery \(every)\nfloor \(floor)\n\(reduced)").prefix(16))
        return Loaded(name: s.name, weights: s.weights, sha256: sha, digest: digest, predictor: predictor, classes: classes,
                      thresholds: thresholds, objects: objects, inputKey: inputKey, config: neutral.dump())
    }

    /// The identity of a model's shareable prefix: its input setting, its preprocessing and its
    /// stem's and frozen stages' weights; nil when it has none.
    static func prefixKey(_ m: Loaded) throws -> String? {
        let model = m.predictor.model
        guard let (resnet, stages) = model.sharablePrefix else { return nil }
        let names = ["stem"] + (0..<stages).map { "res\($0 + 2)" }
        var text = "\(resnet.structure)\ninput \(m.inputKey)\nmean \(try model.pixelMean.toArray(Float.self))\nstd \(try model.pixelStd.toArray(Float.self))\nstages \(stages)\n"
        for (name, slot) in resnet.stateDict() where names.contains(where: { name == $0 || name.hasPrefix($0 + ".") }) {
            let t = try slot.to(dtype: .float32, device: .cpu).contiguous()
            let values = try t.toArray(Float.self)
            let h = values.withUnsafeBytes { Digest.sha256(bytes: $0) }
            text += "\(name) \(t.shape) \(h)\n"
        }
        return Digest.sha256(text)
    }

    // MARK: running

    /// What a run did.
    public struct Report: Sendable {
        public var done = 0, failed = 0, skipped = 0, total = 0
        public var seconds = 0.0
        public var modelImages = 0
        public var framesOrImages = 0
        public var takenOver: String?
        public var recomputed: [String] = []
        /// Resident memory (MB) after the first committed batch and at the end: flat memory
        /// over a long job means the two stay close.
        public var rssAfterFirstBatch: Double?
        public var rssAtEnd: Double?
    }

    /// This process's resident memory in MB (VmRSS), nil where /proc is not there.
    public static func residentMB() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) }.map { $0 / 1024 }
        }
        return nil
    }

    public private(set) var lastReport = Report()

    /// Detects objects in every creative not yet finished for every model; commits each batch.
    /// Stops cleanly (Stopped) when asked; a kill loses at most the batch in progress.
    @discardableResult
    public func run() throws -> Report {
        let me = Holder.current
        let now = Date().timeIntervalSince1970
        let stored = try store.models()
        let settings = try store.settings()
        let mine: [String: String] = ["every": String(options.every), "floor": String(options.floor), "shard": options.shard?.text ?? "",
                                      "images": listing.source]
        if !stored.isEmpty {
            for key in ["every", "floor", "shard"] {
                if let old = settings[key], old != mine[key]! {
                    let show = { (v: String) in v.isEmpty ? "none" : v }
                    throw ConfigError("detection store \(store.path) was written with \(key == "floor" ? "score_floor" : key) = \(show(old)); this job has \(show(mine[key]!)): "
                                      + "use another out, or the same settings to continue it")
                }
            }
            let oldNames = Set(stored.map(\.name)), newNames = Set(models.map(\.name))
            if oldNames != newNames {
                throw ConfigError("detection store \(store.path) holds the detections of models \(stored.map(\.name).joined(separator: ", ")); this job has \(models.map(\.name).joined(separator: ", ")): "
                                  + "a store belongs to one set of models (use another out, or merge stores with `lunette detect merge`)")
            }
        }
        if let previous = try store.acquire(me, now: now, grace: options.heartbeatGrace) {
            lastReport.takenOver = previous.name
            DetectionLog.shared.warn("detect_batch", "\(store.path) was held by \(previous.name), which is no longer running; continuing its work")
        }
        defer { try? store.release(me) }
        let heartbeat = StoreHeartbeat(every: 10) { [store] in try? store.beat(me, now: Date().timeIntervalSince1970) }
        defer { heartbeat.stop() }

        let rows = models.map { m in
            DetectionStore.ModelRow(name: m.name, weights: m.weights, sha256: m.sha256, digest: m.digest, config: m.config,
                                    classes: JSON.text(.array(m.classes.map { .string($0) })),
                                    thresholds: JSON.text(.array(zip(m.classes, m.thresholds).map { .array([.string($0), .double($1)]) })),
                                    objects: JSON.text(.array(m.objects.map { .string($0) })),
                                    shares: sharing.first { $0.contains(m.name) }.map { $0.joined(separator: ",") })
        }
        let changed = try store.setManifest(settings: mine, models: rows)
        for name in changed { DetectionLog.shared.warn("detect_batch", "model '\(name)' changed (weights or config) since the store was written: its detections are computed again") }
        for g in sharing { DetectionLog.shared.info("detect_batch", "models \(g.joined(separator: ", ")) share their stem and frozen stages (identical weights): computed once per image") }

        // What is left: per creative, the models that have not finished it.
        let progress = try store.progress()
        var work: [(path: String, models: [Int])] = []
        var skipped = 0
        for p in paths {
            let entry = progress[p]
            let need = models.indices.filter { entry?.done[models[$0].name] != models[$0].digest }
            if entry?.state == "done" && need.isEmpty { skipped += 1 } else { work.append((p, entry?.state == "done" ? need : Array(models.indices))) }
        }
        if !progress.isEmpty && !paths.isEmpty && !paths.contains(where: { progress[$0] != nil }) {
            DetectionLog.shared.warn("detect_batch", "none of the \(paths.count) creatives listed is in \(store.path), which holds \(progress.count): "
                                     + "creatives are kept by path as listed (\(paths[0])); list them as before to continue that work")
        }
        var report = Report()
        report.skipped = skipped
        report.total = paths.count
        report.recomputed = changed
        let manifest = JSON.text(.array(rows.map { .object([("name", .string($0.name)), ("sha256", .string($0.sha256)), ("digest", .string($0.digest)), ("weights", .string($0.weights))]) }))
        let run = try store.startRun(started: now, version: version, device: "\(device)", precision: effectivePrecision.rawValue, holder: me, manifest: manifest)
        let meter = ProgressMeter(title: "detect_batch", total: paths.count, unit: "creatives")
        meter.begin(alreadyDone: skipped)
        defer { meter.finish() }
        let started = Date().timeIntervalSince1970
        var pending: [DetectionStore.Finished] = []
        let decoder = CreativeDecoder(work: work.map(\.path), inputs: inputs, every: options.every, workers: options.workers)
        defer { decoder.cancel() }
        var state = "done"
        defer { try? store.endRun(run, ended: Date().timeIntervalSince1970, state: state) }

        func flush() throws {
            guard !pending.isEmpty else { return }
            do { try store.commit(pending, run: run, now: Date().timeIntervalSince1970) } catch {
                state = "failed"
                throw DataError("detect_batch: a batch of \(pending.count) creatives could not be saved to \(store.path): \(error). "
                                + "Every batch before it is kept; free space (or fix the store's folder) and run the same job again to continue")
            }
            pending.removeAll(keepingCapacity: true)
            if report.rssAfterFirstBatch == nil { report.rssAfterFirstBatch = Self.residentMB() }
        }

        for (position, item) in work.enumerated() {
            if LongWork.stopRequested {
                state = "stopped"
                try flush()
                LongWork.acknowledge()
                throw Stopped("detection stopped after \(report.done + report.failed + skipped) of \(paths.count) creatives",
                              kept: "\(store.path) (every creative finished so far)",
                              howToContinue: "run the same detect_batch (or lunette detect) again; it continues with the \(work.count - position) creatives left")
            }
            let finished = try detect(decoder.stream(position), models: item.models, report: &report)
            if finished.creative.state == "failed" {
                report.failed += 1
                DetectionLog.shared.warn("detect_batch", "\(item.path): \(finished.creative.reason ?? "failed"); recorded as failed, going on")
            } else { report.done += 1 }
            pending.append(finished)
            if pending.count >= options.batchSize { try flush() }
            let elapsed = Date().timeIntervalSince1970 - started
            let mps = elapsed > 0 ? Double(report.modelImages) / elapsed : 0
            meter.update(done: skipped + report.done + report.failed,
                         status: String(format: "%d failed  %.2f model×images/s", report.failed, mps))
        }
        try flush()
        report.rssAtEnd = Self.residentMB()
        report.seconds = Date().timeIntervalSince1970 - started
        lastReport = report
        return report
    }

    /// One creative through its models: its row and detections, or a failure with the reason.
    func detect(_ stream: CreativeDecoder.Stream, models needed: [Int], report: inout Report) throws -> DetectionStore.Finished {
        var detections: [DetectionStore.DetectionRow] = []
        var buffer: [CreativeDecoder.Unit] = []
        let neededGroups = groups.map { $0.filter(needed.contains) }.filter { !$0.isEmpty }
        var failure: String?

        func runBuffer() {
            guard !buffer.isEmpty, failure == nil else { buffer.removeAll(); return }
            do {
                for group in neededGroups {
                    let shared = group.count > 1
                    let inputs = buffer.map { $0.inputs[models[group[0]].inputKey] }
                    let prefix = shared ? try models[group[0]].predictor.model.prefix(inputs) : nil
                    for i in group {
                        let m = models[i]
                        let raw = try prefix.map { try m.predictor.model.inference(from: $0) } ?? m.predictor.model.inference(buffer.map { $0.inputs[m.inputKey] })
                        for (unit, r) in zip(buffer, raw) {
                            let inst = try detectorPostprocess(r, height: unit.height, width: unit.width)
                            let (boxes, scores, classes) = try inst.asLists()
                            for k in scores.indices {
                                detections.append(DetectionStore.DetectionRow(model: m.name, frame: unit.frame, time: unit.time, classIndex: classes[k],
                                                                              label: m.classes[classes[k]], score: scores[k],
                                                                              x1: boxes[k][0], y1: boxes[k][1], x2: boxes[k][2], y2: boxes[k][3]))
                            }
                        }
                        report.modelImages += buffer.count
                    }
                }
                report.framesOrImages += buffer.count
            } catch {
                failure = "detection failed: \(error)"
            }
            buffer.removeAll()
        }

        while true {
            switch stream.next() {
            case .unit(let u):
                if let last = buffer.last, last.inputs.map(\.shape) != u.inputs.map(\.shape) { runBuffer() }
                buffer.append(u)
                if buffer.count >= options.inferenceBatch { runBuffer() }
            case .end(var row):
                runBuffer()
                if let failure {
                    row.state = "failed"
                    row.reason = failure
                    return DetectionStore.Finished(creative: row, models: [], detections: [])
                }
                return DetectionStore.Finished(creative: row, models: needed.map { (models[$0].name, models[$0].digest) }, detections: detections)
            case .failed(let row):
                return DetectionStore.Finished(creative: row, models: [], detections: [])
            }
        }
    }
}

/// A background heartbeat (every `every` seconds until stopped).
final class StoreHeartbeat: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false
    private var thread: Thread?

    init(every seconds: Double, _ beat: @escaping @Sendable () -> Void) {
        let t = Thread { [self] in
            condition.lock()
            while !stopped {
                if !condition.wait(until: Date().addingTimeInterval(seconds)) && !stopped {
                    condition.unlock()
                    beat()
                    condition.lock()
                }
            }
            condition.unlock()
        }
        thread = t
        t.start()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }
}
