import Foundation
import GRDB
import Support

/// A grid search's store, `output_dir/search.sqlite` (SQLite in WAL mode, through GRDB): the
/// search's identity, the datasets' snapshots, the training runs and the trials. Several
/// processes on one machine share it: every change is one IMMEDIATE transaction, so a claim
/// either takes a run or sees it taken, and a process killed mid-write leaves the last commit.
public final class SearchStore: @unchecked Sendable {
    /// The layout written here; a store with a larger number is from a newer Lunette.
    public static let schemaVersion = 1
    public let path: String
    let pool: DatabasePool

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

    /// Opens (creating when missing) the store; a store from a newer Lunette is refused.
    public init(path: String, version: String) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.label = "search store"
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw DataError("grid search store \(path) cannot be opened: \(Self.describe(error))")
        }
        try write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS datasets (hash TEXT PRIMARY KEY, snapshot TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, dir TEXT NOT NULL, lead INTEGER NOT NULL,
                    trained INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, reason TEXT, worker TEXT, host TEXT, pid INTEGER,
                    heartbeat REAL);
                CREATE TABLE IF NOT EXISTS trials (id TEXT PRIMARY KEY, position INTEGER NOT NULL, params TEXT NOT NULL,
                    max_iter INTEGER NOT NULL, run_id TEXT NOT NULL, note TEXT, state TEXT NOT NULL, reason TEXT, worker TEXT,
                    metrics TEXT, weights TEXT, predictions TEXT, predictions_json TEXT, seconds REAL, created REAL, finished REAL);
                """)
            let stored = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'schema'").flatMap(Int.init)
            if let stored, stored > Self.schemaVersion {
                let by = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'written_by'") ?? "a newer Lunette"
                throw DataError("grid search store \(path) was written by Lunette \(by) (store layout \(stored)); this Lunette \(version) reads layout \(Self.schemaVersion) and older: open it with that Lunette or use another output_dir")
            }
            if stored == nil {
                try db.execute(sql: "INSERT OR REPLACE INTO meta VALUES ('schema', ?), ('written_by', ?)", arguments: [String(Self.schemaVersion), version])
            }
        }
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? DatabaseError { return e.message ?? "\(e.resultCode)" }
        return "\(error)"
    }

    /// One IMMEDIATE transaction (the write lock is taken at BEGIN, so two workers never both
    /// read a run as free and both claim it).
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let e as DatabaseError {
            throw DataError("grid search store \(path): \(Self.describe(e))")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch let e as DatabaseError {
            throw DataError("grid search store \(path): \(Self.describe(e))")
        }
    }

    // MARK: meta and datasets

    public func meta(_ key: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    public func setMeta(_ key: String, _ value: String) throws {
        try write { db in try db.execute(sql: "INSERT OR REPLACE INTO meta VALUES (?, ?)", arguments: [key, value]) }
    }

    public func putDataset(hash: String, snapshot: String) throws {
        try write { db in try db.execute(sql: "INSERT OR IGNORE INTO datasets VALUES (?, ?)", arguments: [hash, snapshot]) }
    }

    public func dataset(hash: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT snapshot FROM datasets WHERE hash = ?", arguments: [hash]) }
    }

    // MARK: rows

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
        try read { db in try ids.compactMap { id in try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map(Self.run) } }
    }

    public func trials(_ ids: [String]) throws -> [Trial] {
        try read { db in try ids.compactMap { id in try Row.fetchOne(db, sql: "SELECT * FROM trials WHERE id = ?", arguments: [id]).map(Self.trial) } }
    }

    public func trials(ofRun run: String) throws -> [Trial] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM trials WHERE run_id = ? ORDER BY max_iter", arguments: [run]).map(Self.trial) }
    }

    /// Every trial in the store, old searches' too, in the order they were first planned.
    public func allTrials() throws -> [Trial] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM trials ORDER BY position").map(Self.trial) }
    }

    /// The stored predictions (COCO results JSON) of a trial.
    public func predictionsJSON(trial id: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT predictions_json FROM trials WHERE id = ?", arguments: [id]) }
    }
}
