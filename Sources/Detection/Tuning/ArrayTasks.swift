import Foundation
import Store
import Support

/// A grid search as a scheduler's array job: one task per training run (a trial, or the trials
/// sharing a MAX_ITER prefix), each working in folders of its own, so no SQLite file is
/// written from two machines over a network file system.
///
/// - Planning (grid_search{..., run = false}, or any grid_search call) writes
///   output_dir/tasks.json: the search's recorded spec, its datasets' snapshot and the runs in
///   order. Task k is the k-th run.
/// - `lunette tune worker DIR --task k` reads only tasks.json, keeps a private store on its own
///   machine (in TMPDIR), trains run k into output_dir/runs/<run>/ (resuming from its last
///   checkpoint when requeued), and leaves each trial's result in output_dir/trials/<trial>/trial.json.
/// - `lunette tune collect DIR`, run once on one machine, reads the trial folders into search.sqlite.
extension GridSearch {
    public static let taskPlanName = "tasks.json"

    /// output_dir/tasks.json for array tasks (written atomically after every planning).
    func writeTaskPlan() throws {
        let runs = try store.runs(try runsOfSearch())
        var tasks: [JSONValue] = []
        for r in runs {
            let members = try store.trials(ofRun: r.id).filter { trialIDs.contains($0.id) }
            tasks.append(.object([
                ("run", .string(r.id)), ("lead", .int(Int64(r.lead))),
                ("trials", .array(members.map { .object([("id", .string($0.id)), ("max_iter", .int(Int64($0.maxIter))), ("params", .string($0.params))]) })),
            ]))
        }
        guard let specText = try store.meta("spec"), let searchID = try store.meta("search_id") else { return }
        let plan = JSONValue.object([
            ("search_id", .string(searchID)), ("spec", .string(specText)), ("data", .string(snapshot.hash)),
            ("snapshot", .string(snapshot.text)), ("tasks", .array(tasks)),
        ])
        try AtomicFile.write(Array(JSON.text(plan).utf8), to: (spec.outputDir as NSString).appendingPathComponent(Self.taskPlanName))
    }

    /// What tasks.json says.
    public struct TaskPlan {
        public var searchID: String
        public var specText: String
        public var dataHash: String
        public var snapshot: String
        public var runs: [(run: String, lead: Int, trials: [String])]

        public static func read(outputDir: String) throws -> TaskPlan {
            let path = (outputDir as NSString).appendingPathComponent(GridSearch.taskPlanName)
            guard FileManager.default.fileExists(atPath: path) else {
                throw DataError("\(outputDir) has no \(GridSearch.taskPlanName): plan the search first, with detectron2.tuning.grid_search{..., run = false} (or any grid_search call) on output_dir = \(outputDir)")
            }
            guard case .object(let o) = try JSON.parseFile(path) else { throw DataError("\(path) is not a task plan") }
            func field(_ k: String) -> JSONValue? { o.first { $0.0 == k }?.1 }
            guard let id = field("search_id")?.string, let spec = field("spec")?.string, let data = field("data")?.string,
                  let snap = field("snapshot")?.string, let tasks = field("tasks")?.array else { throw DataError("\(path) is incomplete (written by another Lunette?)") }
            var runs: [(String, Int, [String])] = []
            for (k, t) in tasks.enumerated() {
                guard case .object(let to) = t, let run = to.first(where: { $0.0 == "run" })?.1.string,
                      let lead = to.first(where: { $0.0 == "lead" })?.1.integer, let trials = to.first(where: { $0.0 == "trials" })?.1.array else {
                    throw DataError("\(path): task \(k) is incomplete")
                }
                runs.append((run, Int(lead), trials.compactMap { t in
                    if case .object(let f) = t { return f.first { $0.0 == "id" }?.1.string }
                    return nil
                }))
            }
            return TaskPlan(searchID: id, specText: spec, dataHash: data, snapshot: snap, runs: runs)
        }
    }

    /// Runs array task `task` (0-based, as SLURM_ARRAY_TASK_ID with --array=0-N) of the search
    /// planned in `outputDir`; returns the trials it finished.
    @discardableResult
    public static func runTask(outputDir: String, task: Int, version: String) throws -> [SearchStore.Trial] {
        let plan = try TaskPlan.read(outputDir: outputDir)
        guard plan.runs.indices.contains(task) else {
            throw ConfigError("task \(task) is beyond the search in \(outputDir): it has \(plan.runs.count) task\(plan.runs.count == 1 ? "" : "s") (0 to \(plan.runs.count - 1)); make the array --array=0-\(plan.runs.count - 1)")
        }
        let (spec, snapshot) = try recorded(spec: plan.specText, source: (outputDir as NSString).appendingPathComponent(taskPlanName), outputDir: outputDir,
                                            version: version) { $0 == plan.dataHash ? plan.snapshot : nil }
        // The task's own store, on this machine: planning there gives the same runs as the plan.
        let scratch = (NSTemporaryDirectory() as NSString).appendingPathComponent("lunette-task-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let search = try GridSearch(spec: spec, catalog: try snapshot.catalog(), storePath: (scratch as NSString).appendingPathComponent("search.sqlite"))
        let run = plan.runs[task]
        guard try !search.store.runs([run.run]).isEmpty else {
            throw DataError("task \(task) (run \(run.run)) is not in the search as it plans now; the search changed since \(taskPlanName) was written: plan it again")
        }
        DetectionLog.shared.info("grid_search", "task \(task) of \(plan.runs.count): run \(run.run), \(run.trials.count) trial\(run.trials.count == 1 ? "" : "s") to MAX_ITER \(run.lead)")
        try search.run(only: [run.run])
        let trials = try search.store.trials(ofRun: run.run)
        for t in trials where t.state == "done" || t.state == "failed" {
            try search.writeTrialResult(t, searchID: plan.searchID)
        }
        return trials.filter { $0.state == "done" }
    }

    /// trials/<id>/trial.json: what collect reads into the search's store.
    func writeTrialResult(_ t: SearchStore.Trial, searchID: String) throws {
        let dir = trialDirectory(t.id)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func opt(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        let value = JSONValue.object([
            ("search_id", .string(searchID)), ("trial", .string(t.id)), ("run", .string(t.runID)), ("state", .string(t.state)),
            ("reason", opt(t.reason)), ("max_iter", .int(Int64(t.maxIter))), ("params", .string(t.params)), ("metrics", opt(t.metrics)),
            ("weights", opt(t.weights)), ("predictions", opt(t.predictions)), ("seconds", t.seconds.map { .double($0) } ?? .null),
            ("finished", t.finished.map { .double($0) } ?? .null), ("worker", opt(t.worker)),
        ])
        try AtomicFile.write(Array(JSON.text(value, indent: 1).utf8), to: (dir as NSString).appendingPathComponent("trial.json"))
    }

    /// What `collect` did.
    public struct Collected: CustomStringConvertible {
        public var done = 0, failed = 0, unchanged = 0
        public var missing: [String] = []
        public var description: String {
            "collected \(done) finished and \(failed) failed trial\(done + failed == 1 ? "" : "s")" + (unchanged > 0 ? " (\(unchanged) already in the store)" : "")
                + (missing.isEmpty ? "; every trial has a result" : "; \(missing.count) trial\(missing.count == 1 ? " has" : "s have") no result yet (\(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? ", ..." : ""))")
        }
    }

    /// Reads every trial folder's trial.json into search.sqlite (one process, one machine). A
    /// folder from another search, or of a trial this search does not have, is an error naming it.
    public func collect() throws -> Collected {
        guard let searchID = try store.meta("search_id") else { throw DataError("\(store.path) has no search id (written by an older Lunette); plan the search again") }
        let root = (spec.outputDir as NSString).appendingPathComponent("trials")
        let known = Set(trialIDs)
        var result = Collected()
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
        var seen = Set<String>()
        for name in names {
            let path = ((root as NSString).appendingPathComponent(name) as NSString).appendingPathComponent("trial.json")
            guard FileManager.default.fileExists(atPath: path) else { continue }
            guard case .object(let o) = try JSON.parseFile(path) else { throw DataError("\(path) is not a trial result") }
            func field(_ k: String) -> JSONValue? { o.first { $0.0 == k }?.1 }
            guard let from = field("search_id")?.string, let id = field("trial")?.string, let state = field("state")?.string else {
                throw DataError("\(path) is not a trial result (no search_id, trial or state)")
            }
            guard from == searchID else {
                throw DataError("\(path) comes from another search (search \(from), this one is \(searchID) in \(store.path)): collect only the trial folders of one search")
            }
            guard id == name, known.contains(id) else {
                throw DataError("\(path) is trial \(id), which this search (\(store.path)) does not have: is the folder from another grid?")
            }
            seen.insert(id)
            guard let current = try store.trials([id]).first else { continue }
            let finished = field("finished")?.number
            if current.state == state, current.finished == finished { result.unchanged += 1; continue }
            if state == "done" {
                guard let metrics = field("metrics")?.string, let weights = field("weights")?.string, let predictions = field("predictions")?.string else {
                    throw DataError("\(path): a finished trial without metrics, weights or predictions")
                }
                let json = try InputFile.text(predictions, limit: 1 << 31)
                try store.finish(trial: id, metrics: metrics, weights: weights, predictionsPath: predictions, predictionsJSON: json,
                                 seconds: field("seconds")?.number ?? 0, at: finished ?? Date().timeIntervalSince1970)
                result.done += 1
            } else if state == "failed" {
                try store.fail(trial: id, reason: field("reason")?.string ?? "failed in an array task")
                result.failed += 1
            }
        }
        // Runs whose every trial has a result are finished.
        for r in try store.runs(try runsOfSearch()) where r.state != "done" {
            let members = try store.trials(ofRun: r.id)
            if !members.isEmpty, members.allSatisfy({ $0.state == "done" }) { try store.finish(run: r.id, trainedTo: r.lead) }
        }
        result.missing = try store.trials(trialIDs).filter { $0.state != "done" && $0.state != "failed" }.map(\.id).filter { !seen.contains($0) }
        return result
    }
}
