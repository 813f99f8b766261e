import Foundation
import GRDB

/// A grid search's store, `output_dir/search.sqlite`: the search's identity (meta), the
/// datasets' snapshots, the training runs and the trials. All the search's SQL lives here; the
/// search's logic (what shares a run, when a worker is dead) is the caller's.
public final class SearchStore: @unchecked Sendable {
    /// The layout written here; a store with a larger number is from a newer Lunette.
    public static let layout = 1
    let file: SQLiteFile
    public var path: String { file.path }

    public struct Run: Sendable {
        public var id: String
        public var dir: String
        /// The MAX_ITER the run trains to (its longest trial's).
        public var lead: Int
        /// Iterations finished (from the heartbeat; a checkpoint may be older).
        public var trained: Int
        public var state: String
        public var reason: String?
        public var worker: String?
        public var host: String?
        public var pid: Int?
        public var heartbeat: Double?
    }

    public struct Trial: Sendable {
        public var id: String
        public var position: Int
        /// JSON: [[key, value], ...] in the grid's key order.
        public var params: String
        public var maxIter: Int
        public var runID: String
        /// Why the trial trains on its own, when it does.
        public var note: String?
        public var state: String
        public var reason: String?
        public var worker: String?
        /// JSON of the trial's metrics (AP, AP50, ..., and presence at the search's thresholds).
        public var metrics: String?
        public var weights: String?
        public var predictions: String?
        public var seconds: Double?
        /// When it was finished (Unix time): a rerun that retrained it would change this.
        public var finished: Double?
    }

    /// Who holds a run.
    public typealias Worker = Holder

    /// Opens (creating when missing) the store; a store from a newer Lunette is refused.
    public init(path: String, version: String) throws {
        file = try SQLiteFile(path: path, what: "grid search store", layout: Self.layout, version: version, schema: """
            CREATE TABLE IF NOT EXISTS datasets (hash TEXT PRIMARY KEY, snapshot TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, dir TEXT NOT NULL, lead INTEGER NOT NULL,
                trained INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, reason TEXT, worker TEXT, host TEXT, pid INTEGER,
                heartbeat REAL);
            CREATE TABLE IF NOT EXISTS trials (id TEXT PRIMARY KEY, position INTEGER NOT NULL, params TEXT NOT NULL,
                max_iter INTEGER NOT NULL, run_id TEXT NOT NULL, note TEXT, state TEXT NOT NULL, reason TEXT, worker TEXT,
                metrics TEXT, weights TEXT, predictions TEXT, predictions_json TEXT, seconds REAL, created REAL, finished REAL);
            """, newerHint: "use another output_dir")
    }

    public func meta(_ key: String) throws -> String? { try file.meta(key) }
    public func setMeta(_ key: String, _ value: String) throws { try file.setMeta(key, value) }

    public func putDataset(hash: String, snapshot: String) throws {
        try file.write { db in try db.execute(sql: "INSERT OR IGNORE INTO datasets VALUES (?, ?)", arguments: [hash, snapshot]) }
    }

    public func dataset(hash: String) throws -> String? {
        try file.read { db in try String.fetchOne(db, sql: "SELECT snapshot FROM datasets WHERE hash = ?", arguments: [hash]) }
    }

    // MARK: reading

    static func run(_ r: Row) -> Run {
        Run(id: r["id"], dir: r["dir"], lead: r["lead"], trained: r["trained"], state: r["state"], reason: r["reason"],
            worker: r["worker"], host: r["host"], pid: r["pid"], heartbeat: r["heartbeat"])
    }

    static func trial(_ r: Row) -> Trial {
        Trial(id: r["id"], position: r["position"], params: r["params"], maxIter: r["max_iter"], runID: r["run_id"], note: r["note"],
              state: r["state"], reason: r["reason"], worker: r["worker"], metrics: r["metrics"], weights: r["weights"],
              predictions: r["predictions"], seconds: r["seconds"], finished: r["finished"])
    }

    public func runs(_ ids: [String]) throws -> [Run] {
        try file.read { db in try ids.compactMap { id in try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map(Self.run) } }
    }

    public func trials(_ ids: [String]) throws -> [Trial] {
        try file.read { db in try ids.compactMap { id in try Row.fetchOne(db, sql: "SELECT * FROM trials WHERE id = ?", arguments: [id]).map(Self.trial) } }
    }

    public func trials(ofRun run: String) throws -> [Trial] {
        try file.read { db in try Row.fetchAll(db, sql: "SELECT * FROM trials WHERE run_id = ? ORDER BY max_iter", arguments: [run]).map(Self.trial) }
    }

    /// The stored predictions (COCO results JSON) of a trial.
    public func predictionsJSON(trial id: String) throws -> String? {
        try file.read { db in try String.fetchOne(db, sql: "SELECT predictions_json FROM trials WHERE id = ?", arguments: [id]) }
    }

    // MARK: planning

    /// What planning may do, inside one transaction.
    public struct Planner {
        let db: Database

        /// The position the next new trial gets (trials list in the order first planned).
        public func nextPosition() throws -> Int { try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(position), -1) + 1 FROM trials") ?? 0 }
        public func run(_ id: String) throws -> Run? { try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map(SearchStore.run) }
        /// The MAX_ITERs of a run's unfinished trials.
        public func openMaxIters(run: String) throws -> [Int] {
            try Int.fetchAll(db, sql: "SELECT max_iter FROM trials WHERE run_id = ? AND state != 'done'", arguments: [run])
        }
        public func trialState(_ id: String) throws -> (state: String, runID: String)? {
            try Row.fetchOne(db, sql: "SELECT state, run_id FROM trials WHERE id = ?", arguments: [id]).map { ($0["state"], $0["run_id"]) }
        }
        /// A failed trial (and its failed run) back to pending.
        public func retry(trial: String, run: String) throws {
            try db.execute(sql: "UPDATE trials SET state = 'pending', reason = NULL WHERE id = ?", arguments: [trial])
            try db.execute(sql: "UPDATE runs SET state = 'pending', reason = NULL WHERE id = ? AND state = 'failed'", arguments: [run])
        }
        public func addRun(_ id: String, dir: String, lead: Int) throws {
            try db.execute(sql: "INSERT OR IGNORE INTO runs (id, dir, lead, state) VALUES (?, ?, ?, 'pending')", arguments: [id, dir, lead])
        }
        /// A longer trial joins a run: it trains on (from its last checkpoint when it is finished).
        public func extendRun(_ id: String, lead: Int) throws {
            try db.execute(sql: "UPDATE runs SET lead = ?, state = CASE WHEN state = 'running' THEN state ELSE 'pending' END WHERE id = ?",
                           arguments: [lead, id])
        }
        public func addTrial(_ id: String, position: Int, params: String, maxIter: Int, run: String, note: String?, created: Double) throws {
            try db.execute(sql: """
                INSERT INTO trials (id, position, params, max_iter, run_id, note, state, created) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)
                """, arguments: [id, position, params, maxIter, run, note, created])
        }
    }

    public func plan(_ body: (Planner) throws -> Void) throws {
        try file.write { db in try body(Planner(db: db)) }
    }

    // MARK: working

    /// Takes the first of `ids` that has unfinished trials and is pending, or running under a
    /// worker `isDead` says is gone; its unfinished trials become the worker's. Returns the run
    /// and, for a take-over, the run as the dead worker left it.
    public func claim(among ids: [String], by worker: Worker, now: Double, isDead: (Run) -> Bool) throws -> (run: Run, takenFrom: Run?)? {
        try file.write { db in
            for id in ids {
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]) else { continue }
                let before = Self.run(row)
                let open = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM trials WHERE run_id = ? AND state IN ('pending', 'running')", arguments: [id]) ?? 0
                guard open > 0 else { continue }
                let takeover = before.state == "running"
                guard before.state == "pending" || (takeover && isDead(before)) else { continue }
                try db.execute(sql: "UPDATE runs SET state = 'running', worker = ?, host = ?, pid = ?, heartbeat = ? WHERE id = ?",
                               arguments: [worker.name, worker.host, worker.pid, now, id])
                try db.execute(sql: "UPDATE trials SET state = 'running', worker = ? WHERE run_id = ? AND state IN ('pending', 'running')",
                               arguments: [worker.name, id])
                var run = before
                run.state = "running"
                run.worker = worker.name
                run.host = worker.host
                run.pid = worker.pid
                return (run, takeover ? before : nil)
            }
            return nil
        }
    }

    /// The run reached `lead`: done, unless a longer trial joined meanwhile (then pending).
    public func finish(run id: String, trainedTo lead: Int) throws {
        try file.write { db in
            try db.execute(sql: """
                UPDATE runs SET state = CASE WHEN lead > ? THEN 'pending' ELSE 'done' END, trained = MAX(trained, ?), worker = NULL, pid = NULL
                WHERE id = ?
                """, arguments: [lead, lead, id])
        }
    }

    /// The run failed: it and its unfinished trials record why.
    public func fail(run id: String, reason: String) throws {
        try file.write { db in
            try db.execute(sql: "UPDATE runs SET state = 'failed', reason = ?, worker = NULL, pid = NULL WHERE id = ?", arguments: [reason, id])
            try db.execute(sql: "UPDATE trials SET state = 'failed', reason = ? WHERE run_id = ? AND state != 'done'", arguments: [reason, id])
        }
    }

    /// One trial failed (an array task's result, collected).
    public func fail(trial id: String, reason: String) throws {
        try file.write { db in try db.execute(sql: "UPDATE trials SET state = 'failed', reason = ? WHERE id = ?", arguments: [reason, id]) }
    }

    /// Gives a run back (a stop): pending again, to be resumed from its last checkpoint.
    public func release(run id: String, by worker: Worker) throws {
        try file.write { db in
            try db.execute(sql: "UPDATE runs SET state = 'pending', worker = NULL, pid = NULL WHERE id = ? AND pid = ? AND host = ?",
                           arguments: [id, worker.pid, worker.host])
            try db.execute(sql: "UPDATE trials SET state = 'pending', worker = NULL WHERE run_id = ? AND state = 'running'", arguments: [id])
        }
    }

    /// A trial finished: its metrics, weights and predictions.
    public func finish(trial id: String, metrics: String, weights: String, predictionsPath: String, predictionsJSON: String,
                       seconds: Double, at time: Double) throws {
        try file.write { db in
            try db.execute(sql: """
                UPDATE trials SET state = 'done', reason = NULL, metrics = ?, weights = ?, predictions = ?, predictions_json = ?,
                    seconds = COALESCE(seconds, 0) + ?, finished = ? WHERE id = ?
                """, arguments: [metrics, weights, predictionsPath, predictionsJSON, seconds, time, id])
        }
    }

    /// Records a heartbeat (and how far the run is); false when the run is no longer the worker's.
    public func beat(run id: String, by worker: Worker, trained: Int?, now: Double) throws -> Bool {
        try file.write { db in
            if let trained {
                try db.execute(sql: "UPDATE runs SET heartbeat = ?, trained = MAX(trained, ?) WHERE id = ? AND pid = ? AND host = ?",
                               arguments: [now, trained, id, worker.pid, worker.host])
            } else {
                try db.execute(sql: "UPDATE runs SET heartbeat = ? WHERE id = ? AND pid = ? AND host = ?", arguments: [now, id, worker.pid, worker.host])
            }
            return db.changesCount > 0
        }
    }
}
