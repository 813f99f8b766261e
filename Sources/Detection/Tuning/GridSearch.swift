import Foundation
import Store
import Support
import Torch

/// A resumable grid search over config keys (Detectron2 has none; the study ran SOLVER.MAX_ITER
/// × ROI_HEADS.BATCH_SIZE_PER_IMAGE by hand). Every trial is keyed by its whole config, the
/// datasets' contents and the Lunette version, and lives in `output_dir/search.sqlite`:
///
/// - Trials that differ only in SOLVER.MAX_ITER share one training run when their learning
///   rates agree, bit for bit, on every iteration of the shorter one: the run trains to the
///   longest and each shorter trial is the checkpoint at its MAX_ITER (the same weights an
///   independent run with the same SEED ends with). Where they disagree (a warm-up longer than
///   the trial, a cosine schedule, STEPS inside the trial) the trial trains alone, and says why.
/// - Runs are claimed atomically, so several processes can work on one search; a run whose
///   process died (on this machine: its pid is gone; elsewhere: no heartbeat for
///   `heartbeatGrace` seconds) is taken over and resumes from its last checkpoint.
/// - Each trial predicts on the validation set once (at `scoreFloor`) and keeps the
///   predictions; every metric at every threshold is scored from them.
public final class GridSearch {
    public let spec: SearchSpec
    public let store: SearchStore
    let snapshot: DatasetSnapshot
    let catalog: DataCatalog
    /// The trials of this search, in grid order.
    public private(set) var trialIDs: [String] = []
    /// Each trial's values, by id (in the grid's key order).
    var valuesByTrial: [String: [CfgValue]] = [:]
    let me = SearchStore.Worker.current
    /// A grid search runs one at a time in a process (its runs are claimed by pid).
    nonisolated(unsafe) static var running = false

    public var storePath: String { store.path }

    /// Plans the search: checks the spec against the store (a different grid in the same folder is
    /// refused), snapshots the datasets, and records every trial not yet in the store.
    ///
    /// `storePath` puts the store elsewhere than output_dir/search.sqlite: an array task's
    /// private store on its own machine (`runTask`), never shared.
    public init(spec: SearchSpec, catalog source: DataCatalog, storePath: String? = nil) throws {
        self.spec = spec
        try Self.prepare(spec.outputDir)
        store = try SearchStore(path: storePath ?? (spec.outputDir as NSString).appendingPathComponent("search.sqlite"), version: spec.version)
        snapshot = try DatasetSnapshot(train: spec.train, valid: spec.valid, catalog: source)
        catalog = try snapshot.catalog()
        try checkIdentity()
        try warnAboutClasses()
        try store.putDataset(hash: snapshot.hash, snapshot: snapshot.text)
        try store.setMeta("spec", Self.specJSON(spec, dataHash: snapshot.hash))
        if try store.meta("search_id") == nil { try store.setMeta("search_id", UUID().uuidString.lowercased()) }
        try plan()
        if storePath == nil { try writeTaskPlan() }
    }

    /// A worker's view of the search last asked in `outputDir` (`lunette tune worker`).
    public convenience init(workerFor outputDir: String, version: String) throws {
        let path = (outputDir as NSString).appendingPathComponent("search.sqlite")
        guard FileManager.default.fileExists(atPath: path) else {
            throw DataError("\(outputDir) holds no grid search (no search.sqlite); start it with detectron2.tuning.grid_search{...}")
        }
        let store = try SearchStore(path: path, version: version)
        guard let text = try store.meta("spec") else { throw DataError("\(path) records no search to work on") }
        let (spec, snapshot) = try Self.recorded(spec: text, source: path, outputDir: outputDir, version: version) { try store.dataset(hash: $0) }
        try self.init(spec: spec, catalog: try snapshot.catalog())
    }

    /// A search's spec as recorded (specJSON) and its datasets' snapshot (found by hash).
    static func recorded(spec text: String, source path: String, outputDir: String, version: String,
                         dataset: (String) throws -> String?) throws -> (SearchSpec, DatasetSnapshot) {
        guard case .object(let o) = try JSON.parse(Array(text.utf8)) else { throw DataError("\(path) records no search to work on") }
        func field(_ k: String) -> JSONValue? { o.first { $0.0 == k }?.1 }
        guard let yaml = field("config")?.string, let hash = field("data")?.string, let snapText = try dataset(hash),
              let gridPairs = field("grid")?.array, let thresholds = field("thresholds")?.array?.compactMap(\.number),
              let metric = field("metric")?.string else { throw DataError("\(path): the recorded search is incomplete") }
        let base = CfgNode.defaults()
        try base.mergeFromYAML(yaml, source: "\(path) (the search's base config)")
        let snapshot = try DatasetSnapshot(text: snapText)
        let grid: [(key: String, values: [CfgValue])] = gridPairs.compactMap { p in
            guard let kv = p.array, kv.count == 2, let k = kv[0].string, let vs = kv[1].array else { return nil }
            return (k, vs.map(ParamCoding.cfg))
        }
        var spec = try SearchSpec(base: base, grid: grid, train: snapshot.train.name, valid: snapshot.valid.name, thresholds: thresholds,
                                  metric: metric, outputDir: outputDir, version: version)
        spec.checkpointPeriod = field("checkpoint_period")?.integer.map(Int.init) ?? spec.checkpointPeriod
        spec.heartbeatGrace = field("heartbeat_grace")?.number ?? spec.heartbeatGrace
        spec.wait = false
        return (spec, snapshot)
    }

    static func prepare(_ dir: String) throws {
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw ConfigError("grid_search: output_dir '\(dir)' cannot be created: \(error.localizedDescription)")
        }
        let probe = (dir as NSString).appendingPathComponent(".lunette-write-test-\(getpid())")
        guard FileManager.default.createFile(atPath: probe, contents: Data([0])) else {
            throw ConfigError("grid_search: output_dir '\(dir)' is not writable (permissions or a full disk)")
        }
        unlink(probe)
    }

    static func specJSON(_ spec: SearchSpec, dataHash: String) -> String {
        JSON.text(.object([
            ("config", .string(spec.base.dump())), ("data", .string(dataHash)),
            ("grid", .array(spec.grid.map { .array([.string($0.key), .array($0.values.map(ParamCoding.json))]) })),
            ("train", .string(spec.train)), ("valid", .string(spec.valid)),
            ("thresholds", .array(spec.thresholds.map { .double($0) })), ("metric", .string(spec.metric)),
            ("checkpoint_period", .int(Int64(spec.checkpointPeriod))), ("heartbeat_grace", .double(spec.heartbeatGrace)),
        ]))
    }

    /// One output_dir holds one search: the same grid keys and datasets. Values may be added
    /// (a longer MAX_ITER extends the grid), the base config and data may change (new trials).
    func checkIdentity() throws {
        let keys = spec.keys.sorted().joined(separator: " × ")
        if let stored = try store.meta("grid_keys"), stored != keys {
            let old = Set(stored.components(separatedBy: " × ")), new = Set(spec.keys)
            let added = new.subtracting(old).sorted(), removed = old.subtracting(new).sorted()
            throw ConfigError("grid_search: \(spec.outputDir) holds a search over \(stored); this grid is over \(keys)"
                              + (added.isEmpty ? "" : " (\(added.joined(separator: ", ")) \(added.count == 1 ? "is" : "are") new)")
                              + (removed.isEmpty ? "" : " (\(removed.joined(separator: ", ")) \(removed.count == 1 ? "is" : "are") missing)")
                              + ". Use another output_dir for another search.")
        }
        for (role, name) in [("train", spec.train), ("valid", spec.valid)] {
            if let stored = try store.meta(role), stored != name {
                throw ConfigError("grid_search: \(spec.outputDir) holds a search with \(role) = '\(stored)', not '\(name)'. Use another output_dir for another search.")
            }
        }
        try store.setMeta("grid_keys", keys)
        try store.setMeta("train", spec.train)
        try store.setMeta("valid", spec.valid)
    }

    func warnAboutClasses() throws {
        let classes = snapshot.classes
        guard !classes.isEmpty else { throw DataError("grid_search: dataset '\(spec.valid)' has no thing_classes to score") }
        for (k, name) in classes.enumerated() where !snapshot.valid.dicts.contains(where: { $0.annotations.contains { $0.categoryID == k } }) {
            DetectionLog.shared.warn("grid_search", "the validation set '\(spec.valid)' has no annotations of class '\(name)': its accuracy is still defined (every image is a true negative unless a '\(name)' is detected), but its recall is not")
        }
    }

    // MARK: planning

    /// Records the trials of this grid that the store does not have, assigning each to a run.
    func plan() throws {
        let combos = spec.combinations
        var configs: [(id: String, values: [CfgValue], cfg: CfgNode, group: String, maxIter: Int)] = []
        for values in combos {
            let cfg = try spec.trialConfig(values)
            let id = spec.trialID(cfg, dataHash: snapshot.hash)
            configs.append((id, values, cfg, try spec.groupID(cfg, dataHash: snapshot.hash), try cfg.int("SOLVER.MAX_ITER")))
            valuesByTrial[id] = values
        }
        trialIDs = configs.map(\.id)
        let now = Date().timeIntervalSince1970
        try store.plan { planner in
            var position = try planner.nextPosition()
            // Groups in grid order, so runs are claimed in the order the grid lists their trials.
            var groups: [(id: String, trials: [(id: String, values: [CfgValue], cfg: CfgNode, group: String, maxIter: Int)])] = []
            for c in configs {
                if let i = groups.firstIndex(where: { $0.id == c.group }) { groups[i].trials.append(c) } else { groups.append((c.group, [c])) }
            }
            for (groupID, group) in groups {
                let run = try planner.run(groupID)
                var lead = run?.lead ?? 0
                let trained = run?.trained ?? 0
                var members = try planner.openMaxIters(run: groupID)
                var joined = false
                // Longest first: shorter trials are compared with the run they would be a prefix of.
                for t in group.sorted(by: { $0.maxIter > $1.maxIter }) {
                    if let existing = try planner.trialState(t.id) {
                        if existing.state == "failed" && spec.retryFailed { try planner.retry(trial: t.id, run: existing.runID) }
                        continue
                    }
                    var runID = groupID, note: String?
                    let candidate = max(lead, t.maxIter)
                    if let why = try sharingProblem(t.cfg, maxIter: t.maxIter, lead: candidate, runLead: lead, trained: trained,
                                                    pendingMembers: members, runDir: runDirectory(groupID)) {
                        runID = groupID + "-alone-\(t.maxIter)"
                        note = why
                        try planner.addRun(runID, dir: runDirectory(runID), lead: t.maxIter)
                    } else {
                        lead = candidate
                        members.append(t.maxIter)
                        joined = true
                    }
                    try planner.addTrial(t.id, position: position, params: ParamCoding.encode(spec.keys, t.values), maxIter: t.maxIter,
                                    run: runID, note: note, created: now)
                    position += 1
                }
                guard joined else { continue }
                if run == nil { try planner.addRun(groupID, dir: runDirectory(groupID), lead: lead) } else { try planner.extendRun(groupID, lead: lead) }
            }
        }
    }

    func runDirectory(_ runID: String) -> String {
        ((spec.outputDir as NSString).appendingPathComponent("runs") as NSString).appendingPathComponent(runID)
    }

    func trialDirectory(_ trialID: String) -> String {
        ((spec.outputDir as NSString).appendingPathComponent("trials") as NSString).appendingPathComponent(trialID)
    }

    /// Why a trial cannot be the prefix of its group's run (nil when it can): the learning rate of
    /// one of its iterations differs from the run's (compared bit for bit), or the run already
    /// went past it without keeping its checkpoint, or the run's trained part would change.
    func sharingProblem(_ cfg: CfgNode, maxIter: Int, lead: Int, runLead: Int, trained: Int, pendingMembers: [Int], runDir: String) throws -> String? {
        func schedule(_ m: Int) throws -> LRSchedule {
            let c = cfg.clone()
            try c.set("SOLVER.MAX_ITER", .int(m))
            return try DetectionLog.shared.quietly { try LRSchedule(cfg: c) }
        }
        let leadSchedule = try schedule(lead)
        for m in Set(pendingMembers + [maxIter]) where m < lead {
            if let i = try schedule(m).firstDifference(from: leadSchedule, below: m) {
                return m == maxIter ? try explain(cfg, short: m, long: lead, at: i, schedule: schedule)
                                    : "trains on its own: a \(lead)-iteration run would change the schedule of the \(m)-iteration trial sharing it (iteration \(i))"
            }
        }
        if trained > 0, lead > runLead, let i = try schedule(runLead).firstDifference(from: leadSchedule, below: min(trained, runLead)) {
            return "trains on its own: the shared run already trained \(trained) iterations on the \(runLead)-iteration schedule, whose learning rate differs from the \(lead)-iteration one at iteration \(i)"
        }
        if trained >= maxIter, maxIter < lead || lead == runLead {
            let path = (runDir as NSString).appendingPathComponent(DefaultTrainer.checkpointName(maxIter - 1) + ".pth")
            if !Checkpoint.looksComplete(path) {
                return "trains on its own: the shared run went past iteration \(maxIter) before this trial was asked for, and kept no checkpoint there"
            }
        }
        return nil
    }

    func explain(_ cfg: CfgNode, short: Int, long: Int, at i: Int, schedule: (Int) throws -> LRSchedule) throws -> String {
        let a = try schedule(short).multiplier(i), b = try schedule(long).multiplier(i)
        let warm = try cfg.int("SOLVER.WARMUP_ITERS")
        let why: String
        if try cfg.string("SOLVER.LR_SCHEDULER_NAME") == "WarmupCosineLR" {
            why = "WarmupCosineLR's curve depends on SOLVER.MAX_ITER"
        } else if warm > short {
            why = "SOLVER.WARMUP_ITERS (\(warm)) is longer than the trial, so its warm-up is squeezed into \(short) iterations"
        } else {
            why = "SOLVER.STEPS falls inside the trial in one schedule and not in the other"
        }
        return "trains on its own: its learning rate at iteration \(i) is \(String(format: "%.6g", a)) × BASE_LR, the \(long)-iteration run's \(String(format: "%.6g", b)) × BASE_LR (\(why))"
    }

    // MARK: running

    /// Runs every trial of this search that is not finished: claims runs until none is left,
    /// then (when `spec.wait`) waits for the runs other workers hold, taking over any whose
    /// worker died. Ctrl-C stops after the current iteration with everything resumable.
    public func run(only: Set<String>? = nil) throws {
        guard !Self.running else { throw DataError("a grid search is already running in this process; one at a time") }
        Self.running = true
        defer { Self.running = false }
        let runIDs = try runsOfSearch().filter { only?.contains($0) ?? true }
        let total = trialIDs.count
        var waiting: ProgressMeter?
        defer { waiting?.finish() }
        while true {
            if LongWork.stopRequested {
                throw Stopped("grid search stopped between trials", kept: "every finished trial in \(store.path)",
                              howToContinue: "run the same grid_search call again (or lunette tune worker \(spec.outputDir))")
            }
            if let run = try claim(among: runIDs) {
                waiting?.finish()
                waiting = nil
                try execute(run, total: total)
                continue
            }
            let held = try store.runs(runIDs).filter { $0.state == "running" }
            if held.isEmpty || !spec.wait { break }
            if waiting == nil {
                let w = ProgressMeter(title: "grid search: waiting for other workers", total: total, unit: "trials")
                w.begin(alreadyDone: try finishedCount())
                waiting = w
            }
            waiting?.update(done: try finishedCount(), status: held.compactMap(\.worker).joined(separator: ", "))
            Thread.sleep(forTimeInterval: 1)
        }
    }

    func finishedCount() throws -> Int { try store.trials(trialIDs).filter { $0.state == "done" || $0.state == "failed" }.count }

    func runsOfSearch() throws -> [String] {
        var seen = Set<String>(), order: [String] = []
        for t in try store.trials(trialIDs) where seen.insert(t.runID).inserted { order.append(t.runID) }
        return order
    }

    /// Takes the first run that is pending, or running under a worker that is gone, in one
    /// IMMEDIATE transaction; its unfinished trials become this worker's.
    func claim(among ids: [String]) throws -> SearchStore.Run? {
        let now = Date().timeIntervalSince1970
        let grace = spec.heartbeatGrace, me = self.me
        guard let (run, from) = try store.claim(among: ids, by: me, now: now, isDead: { me.considersDead($0, now: now, grace: grace) }) else { return nil }
        if let from {
            DetectionLog.shared.warn("grid_search", "run \(run.id) was held by \(from.worker ?? "?"), which "
                                     + (me.host == from.host ? "is no longer running" : "has sent no heartbeat for \(Int(now - (from.heartbeat ?? 0))) s")
                                     + "; taking it over from its last checkpoint")
        }
        return run
    }

    /// Trains one run to its lead, evaluating each member trial at its checkpoint.
    func execute(_ run: SearchStore.Run, total: Int) throws {
        let heartbeat = Heartbeat(store: store, run: run.id, worker: me)
        heartbeat.start()
        defer { heartbeat.stop() }
        let started = Date()
        let members = try store.trials(ofRun: run.id)
        // The trials the claim took (pending or running before it): a failed trial of the same
        // run is not retried unless retry_failed made it pending again.
        let open = members.filter { $0.state == "running" }
        guard let leadTrial = members.max(by: { $0.maxIter < $1.maxIter }), let leadValues = valuesByTrial[leadTrial.id] ?? decodeValues(leadTrial) else {
            throw DataError("run \(run.id) has no trials")
        }
        do {
            let cfg = try spec.trialConfig(leadValues)
            try cfg.set("SOLVER.MAX_ITER", .int(run.lead))
            try cfg.set("OUTPUT_DIR", .string(run.dir))
            try cfg.set("SOLVER.CHECKPOINT_PERIOD", .int(spec.checkpointPeriod))
            try cfg.set("TEST.EVAL_PERIOD", .int(0))
            let trainer = try DefaultTrainer(cfg: cfg, catalog: catalog)
            try trainer.resumeOrLoad(resume: true)
            let evaluator = TrialEvaluator(search: self, cfg: cfg, heartbeat: heartbeat, started: started)
            // Trials whose checkpoint the run already passed (a kill during their evaluation).
            for t in open where t.maxIter <= trainer.startIter {
                try evaluator.evaluate(t, checkpoint: try checkpoint(of: t, in: run))
            }
            let rest = open.filter { $0.maxIter > trainer.startIter }
            if !rest.isEmpty {
                let hook = TrialCheckpointHook(search: self, run: run, trials: rest, evaluator: evaluator, heartbeat: heartbeat, all: members)
                trainer.registerHooks([hook])
                if let writer = trainer.hooks.compactMap({ $0 as? PeriodicWriter }).first {
                    hook.writer = writer
                    writer.title = try progressTitle(next: rest[0], total: total)
                    let others = try otherRunsIterations(excluding: run.id)
                    writer.remainingBeyondRun = { perIteration in Double(others) * perIteration }
                }
                try trainer.train()
            }
            // A trial added meanwhile (a longer MAX_ITER) leaves the run pending for the next claim.
            try store.finish(run: run.id, trainedTo: run.lead)
        } catch let stop as Stopped {
            if heartbeat.lost { throw DataError(HeartbeatLost(run: run.id).description) }
            try release(run)
            throw Stopped("grid search stopped in run \(run.id) (\(stop.what))", kept: "every finished trial in \(store.path), and \(stop.kept)",
                          howToContinue: "run the same grid_search call again (or lunette tune worker \(spec.outputDir)); the run resumes from its last checkpoint")
        } catch let lost as HeartbeatLost {
            throw DataError(lost.description)
        } catch {
            let reason = failureReason(error)
            DetectionLog.shared.error("grid_search", "run \(run.id) failed: \(reason)")
            try store.fail(run: run.id, reason: reason)
        }
    }

    /// "loss became NaN at iteration N" for a diverged run; the error's own words otherwise.
    func failureReason(_ error: Error) -> String {
        let text = "\(error)"
        if let r = text.range(of: "Loss became infinite or NaN at iteration=") {
            let digits = text[r.upperBound...].prefix { $0.isNumber }
            let nan = text.contains("nan") || text.contains("NaN'") || text.range(of: ": nan") != nil
            return "loss became \(nan ? "NaN" : "infinite") at iteration \(digits)"
        }
        if text.contains("Training has diverged"), text.hasPrefix("iteration "), let colon = text.firstIndex(of: ":") {
            return "training diverged at \(text[..<colon]) (predicted boxes or scores became Inf or NaN)"
        }
        return text
    }

    func release(_ run: SearchStore.Run) throws { try store.release(run: run.id, by: me) }

    func checkpoint(of t: SearchStore.Trial, in run: SearchStore.Run) throws -> String {
        let path = (run.dir as NSString).appendingPathComponent(DefaultTrainer.checkpointName(t.maxIter - 1) + ".pth")
        if Checkpoint.looksComplete(path) { return path }
        let final = (run.dir as NSString).appendingPathComponent("model_final.pth")
        if t.maxIter == run.lead, Checkpoint.looksComplete(final) { return final }
        throw DataError("trial \(t.id): the run passed iteration \(t.maxIter) but \(path) is missing")
    }

    func decodeValues(_ t: SearchStore.Trial) -> [CfgValue]? {
        let pairs = ParamCoding.decode(t.params)
        return pairs.count == spec.keys.count ? pairs.map(\.value) : nil
    }

    func progressTitle(next t: SearchStore.Trial, total: Int) throws -> String {
        let k = (trialIDs.firstIndex(of: t.id) ?? 0) + 1
        let label = ParamCoding.decode(t.params).map { "\(Self.shortKey($0.key)) \(ParamCoding.label($0.value))" }.joined(separator: ", ")
        return "trial \(k) of \(total) (\(label))"
    }

    /// Iterations still to train in this search's other runs (for the whole search's ETA).
    func otherRunsIterations(excluding id: String) throws -> Int {
        try store.runs(try runsOfSearch()).filter { $0.id != id && $0.state != "done" && $0.state != "failed" }
            .reduce(0) { $0 + max($1.lead - $1.trained, 0) }
    }

    /// The last part of a key (BATCH_SIZE_PER_IMAGE) for titles and table headers.
    public static func shortKey(_ key: String) -> String { String(key.split(separator: ".").last ?? Substring(key)) }
}

extension SearchStore.Worker {
    func considersDead(_ run: SearchStore.Run, now: Double, grace: Double) -> Bool {
        considersGone(host: run.host, pid: run.pid, heartbeat: run.heartbeat, now: now, grace: grace)
    }
}

struct HeartbeatLost: Error, CustomStringConvertible {
    let run: String
    var description: String { "run \(run) was taken over by another worker (this one's heartbeat was late); this worker stops it" }
}

/// Writes the run's heartbeat every few seconds from a thread of its own (an iteration of a large
/// model can take longer than the grace), and notices when another worker has taken the run.
final class Heartbeat: @unchecked Sendable {
    let store: SearchStore
    let run: String
    let worker: SearchStore.Worker
    private let lock = NSLock()
    private var _lost = false
    private var timer: DispatchSourceTimer?
    var interval = 5.0

    init(store: SearchStore, run: String, worker: SearchStore.Worker) {
        self.store = store
        self.run = run
        self.worker = worker
    }

    var lost: Bool { lock.withLock { _lost } }

    func start() {
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        t.schedule(deadline: .now() + interval, repeating: interval)
        t.setEventHandler { [weak self] in self?.beat(trained: nil) }
        t.resume()
        timer = t
    }

    func stop() {
        timer?.cancel()
        timer = nil
    }

    /// Records the heartbeat (and how far the run is); a run no longer held by this worker is lost.
    func beat(trained: Int?) {
        let held = (try? store.beat(run: run, by: worker, trained: trained, now: Date().timeIntervalSince1970)) ?? true
        if !held { lock.withLock { _lost = true } }
    }
}
