import Foundation
import GRDB

/// A bulk-detection store (`out`, one SQLite file): the manifest (settings and the models, each
/// with its weights' SHA-256 and the digest of everything that changes its detections), every
/// creative seen (done or failed, with its reason), which model finished which creative, every
/// detection above the score floor, and the runs that wrote them. The detection layer's
/// BulkDetection gives the rows their meaning; this is the only SQL.
///
/// Resume is read from here: a creative is finished for a model when a `done` row names the
/// model's current digest. A batch of creatives is one transaction, so a kill leaves whole
/// creatives or none.
public final class DetectionStore: @unchecked Sendable {
    public static let layout = 1
    let file: SQLiteFile
    public var path: String { file.path }

    public init(path: String, version: String) throws {
        file = try SQLiteFile(path: path, what: "detection store", layout: Self.layout, version: version, schema: """
            CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS models (name TEXT PRIMARY KEY, position INTEGER NOT NULL, weights TEXT NOT NULL, sha256 TEXT NOT NULL,
                digest TEXT NOT NULL, config TEXT NOT NULL, classes TEXT NOT NULL, thresholds TEXT NOT NULL, objects TEXT NOT NULL, shares TEXT);
            CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, started REAL NOT NULL, ended REAL, state TEXT NOT NULL,
                version TEXT NOT NULL, device TEXT NOT NULL, precision TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
                manifest TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), host TEXT NOT NULL, pid INTEGER NOT NULL,
                since REAL NOT NULL, heartbeat REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS creatives (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
                width INTEGER, height INTEGER, bytes INTEGER, frames INTEGER, frames_read INTEGER, fps REAL, duration REAL,
                sha256 TEXT, state TEXT NOT NULL, reason TEXT, run INTEGER, updated REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS done (creative INTEGER NOT NULL, model TEXT NOT NULL, digest TEXT NOT NULL, run INTEGER,
                PRIMARY KEY (creative, model));
            CREATE TABLE IF NOT EXISTS detections (creative INTEGER NOT NULL, model TEXT NOT NULL, frame INTEGER, time_s REAL,
                class INTEGER NOT NULL, label TEXT NOT NULL, score REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL,
                y2 REAL NOT NULL);
            CREATE INDEX IF NOT EXISTS detections_by_creative ON detections (creative, model);
            """, newerHint: "use another out")
    }

    // MARK: the manifest

    public struct ModelRow: Sendable, Equatable {
        public var name: String, weights: String, sha256: String, digest: String, config: String
        /// JSON: a list of class names; a list of [class, threshold]; the classes reported
        /// (in features, counts and the detections CSV).
        public var classes: String, thresholds: String, objects: String
        /// The models this one shares its frozen prefix with (names, comma-separated), nil when none.
        public var shares: String?
        public init(name: String, weights: String, sha256: String, digest: String, config: String, classes: String, thresholds: String, objects: String, shares: String?) {
            self.name = name; self.weights = weights; self.sha256 = sha256; self.digest = digest; self.config = config
            self.classes = classes; self.thresholds = thresholds; self.objects = objects; self.shares = shares
        }
    }

    public func settings() throws -> [String: String] {
        try file.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT key, value FROM settings").map { ($0["key"] as String, $0["value"] as String) })
        }
    }

    public func models() throws -> [ModelRow] {
        try file.read { db in try Self.models(db) }
    }

    static func models(_ db: Database) throws -> [ModelRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM models ORDER BY position").map {
            ModelRow(name: $0["name"], weights: $0["weights"], sha256: $0["sha256"], digest: $0["digest"], config: $0["config"],
                     classes: $0["classes"], thresholds: $0["thresholds"], objects: $0["objects"], shares: $0["shares"])
        }
    }

    /// Records the job's settings and models. A model whose digest changed loses its `done`
    /// rows and detections (in the same transaction), so exactly its work is redone; returns
    /// the names of those models.
    @discardableResult
    public func setManifest(settings: [String: String], models: [ModelRow]) throws -> [String] {
        try file.write { db in
            for (k, v) in settings { try db.execute(sql: "INSERT OR REPLACE INTO settings VALUES (?, ?)", arguments: [k, v]) }
            let old = Dictionary(uniqueKeysWithValues: try Self.models(db).map { ($0.name, $0) })
            var changed: [String] = []
            for m in models {
                if let o = old[m.name], o.digest != m.digest { changed.append(m.name) }
                try db.execute(sql: "DELETE FROM done WHERE model = ? AND digest != ?", arguments: [m.name, m.digest])
                try db.execute(sql: """
                    DELETE FROM detections WHERE model = ? AND creative NOT IN (SELECT creative FROM done WHERE model = ?)
                    """, arguments: [m.name, m.name])
            }
            try db.execute(sql: "DELETE FROM models")
            for (i, m) in models.enumerated() {
                try db.execute(sql: "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               arguments: [m.name, i, m.weights, m.sha256, m.digest, m.config, m.classes, m.thresholds, m.objects, m.shares])
            }
            return changed
        }
    }

    // MARK: the holder (one process per store)

    public struct HeldBy: Error, CustomStringConvertible {
        public let holder: Holder
        public let since: Double
        public let heartbeat: Double
        public let path: String
        public var description: String {
            "detection store \(path) is in use by process \(holder.pid) on \(holder.host) (since \(Self.time(since)), last heartbeat \(Self.time(heartbeat))); "
                + "one process writes a store: wait for it, stop it, or split the work with shard = {index =, count =} (--shard i/n), each shard writing its own store"
        }
        static func time(_ t: Double) -> String {
            let f = DateFormatter()
            f.dateFormat = "yyyy-MM-dd HH:mm:ss"
            return f.string(from: Date(timeIntervalSince1970: t))
        }
    }

    /// Takes the store for `me`, or throws HeldBy naming a live holder. Returns the holder it
    /// took over from (a dead process), if any.
    public func acquire(_ me: Holder, now: Double, grace: Double) throws -> Holder? {
        let result: Result<Holder?, HeldBy> = try file.write { db in
            if let r = try Row.fetchOne(db, sql: "SELECT * FROM holder WHERE id = 1") {
                let h = Holder(host: r["host"], pid: r["pid"])
                if h != me && !me.considersGone(host: h.host, pid: h.pid, heartbeat: r["heartbeat"], now: now, grace: grace) {
                    return .failure(HeldBy(holder: h, since: r["since"], heartbeat: r["heartbeat"], path: path))
                }
                try db.execute(sql: "UPDATE holder SET host = ?, pid = ?, since = ?, heartbeat = ? WHERE id = 1", arguments: [me.host, me.pid, now, now])
                return .success(h == me ? nil : h)
            }
            try db.execute(sql: "INSERT INTO holder VALUES (1, ?, ?, ?, ?)", arguments: [me.host, me.pid, now, now])
            return .success(nil)
        }
        return try result.get()
    }

    public func beat(_ me: Holder, now: Double) throws {
        try file.write { db in try db.execute(sql: "UPDATE holder SET heartbeat = ? WHERE host = ? AND pid = ?", arguments: [now, me.host, me.pid]) }
    }

    public func release(_ me: Holder) throws {
        try file.write { db in try db.execute(sql: "DELETE FROM holder WHERE host = ? AND pid = ?", arguments: [me.host, me.pid]) }
    }

    // MARK: runs

    public func startRun(started: Double, version: String, device: String, precision: String, holder: Holder, manifest: String) throws -> Int64 {
        try file.write { db in
            try db.execute(sql: "INSERT INTO runs (started, state, version, device, precision, host, pid, manifest) VALUES (?, 'running', ?, ?, ?, ?, ?, ?)",
                           arguments: [started, version, device, precision, holder.host, holder.pid, manifest])
            return db.lastInsertedRowID
        }
    }

    public func endRun(_ id: Int64, ended: Double, state: String) throws {
        try file.write { db in try db.execute(sql: "UPDATE runs SET ended = ?, state = ? WHERE id = ?", arguments: [ended, state, id]) }
    }

    public struct RunRow: Sendable {
        public var id: Int64, started: Double, ended: Double?, state: String, version: String, device: String, precision: String
        public var host: String, pid: Int, manifest: String, done: Int, failed: Int
    }

    public func runs() throws -> [RunRow] {
        try file.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY id").map {
                RunRow(id: $0["id"], started: $0["started"], ended: $0["ended"], state: $0["state"], version: $0["version"], device: $0["device"],
                       precision: $0["precision"], host: $0["host"], pid: $0["pid"], manifest: $0["manifest"], done: $0["done"], failed: $0["failed"])
            }
        }
    }

    // MARK: creatives and detections

    public struct CreativeRow: Sendable, Equatable {
        public var id: Int64?
        public var path: String, kind: String
        public var width: Int?, height: Int?, bytes: Int?
        /// Frames sampled (videos), and frames read in all.
        public var frames: Int?, framesRead: Int?
        public var fps: Double?, duration: Double?
        public var sha256: String?
        /// done or failed
        public var state: String
        public var reason: String?
        public init(path: String, kind: String, state: String) {
            self.path = path
            self.kind = kind
            self.state = state
        }
    }

    public struct DetectionRow: Sendable, Equatable {
        public var model: String
        public var frame: Int?, time: Double?
        public var classIndex: Int, label: String, score: Double
        public var x1: Double, y1: Double, x2: Double, y2: Double
        public init(model: String, frame: Int?, time: Double?, classIndex: Int, label: String, score: Double, x1: Double, y1: Double, x2: Double, y2: Double) {
            self.model = model; self.frame = frame; self.time = time; self.classIndex = classIndex; self.label = label; self.score = score
            self.x1 = x1; self.y1 = y1; self.x2 = x2; self.y2 = y2
        }
    }

    /// What one creative gave: its row, and for each model it ran (name and digest) its detections.
    public struct Finished: Sendable {
        public var creative: CreativeRow
        public var models: [(name: String, digest: String)]
        public var detections: [DetectionRow]
        public init(creative: CreativeRow, models: [(name: String, digest: String)], detections: [DetectionRow]) {
            self.creative = creative
            self.models = models
            self.detections = detections
        }
    }

    /// One batch in one transaction: each creative's row (inserted or updated by path), and for
    /// each model it ran, its old detections replaced and its `done` row written.
    public func commit(_ batch: [Finished], run: Int64, now: Double) throws {
        guard !batch.isEmpty else { return }
        try file.write { db in
            let insertDetection = try db.makeStatement(sql: "INSERT INTO detections VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            var done = 0, failed = 0
            for f in batch {
                let c = f.creative
                try db.execute(sql: """
                    INSERT INTO creatives (path, kind, width, height, bytes, frames, frames_read, fps, duration, sha256, state, reason, run, updated)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (path) DO UPDATE SET kind = excluded.kind, width = excluded.width, height = excluded.height, bytes = excluded.bytes,
                        frames = excluded.frames, frames_read = excluded.frames_read, fps = excluded.fps, duration = excluded.duration,
                        sha256 = excluded.sha256, state = excluded.state, reason = excluded.reason, run = excluded.run, updated = excluded.updated
                    """, arguments: [c.path, c.kind, c.width, c.height, c.bytes, c.frames, c.framesRead, c.fps, c.duration, c.sha256, c.state, c.reason, run, now])
                guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM creatives WHERE path = ?", arguments: [c.path]) else { continue }
                if c.state == "failed" {
                    failed += 1
                    try db.execute(sql: "DELETE FROM done WHERE creative = ?", arguments: [id])
                    try db.execute(sql: "DELETE FROM detections WHERE creative = ?", arguments: [id])
                    continue
                }
                done += 1
                for m in f.models {
                    try db.execute(sql: "DELETE FROM detections WHERE creative = ? AND model = ?", arguments: [id, m.name])
                    try db.execute(sql: "INSERT OR REPLACE INTO done VALUES (?, ?, ?, ?)", arguments: [id, m.name, m.digest, run])
                }
                for d in f.detections {
                    try insertDetection.execute(arguments: [id, d.model, d.frame, d.time, d.classIndex, d.label, d.score, d.x1, d.y1, d.x2, d.y2])
                }
            }
            try db.execute(sql: "UPDATE runs SET done = done + ?, failed = failed + ? WHERE id = ?", arguments: [done, failed, run])
        }
    }

    /// For each creative path in the store: its state and the models (name → digest) that finished it.
    public func progress() throws -> [String: (state: String, done: [String: String])] {
        try file.read { db in
            var out: [String: (state: String, done: [String: String])] = [:]
            var byID: [Int64: String] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT id, path, state FROM creatives") {
                let path: String = r["path"]
                byID[r["id"]] = path
                out[path] = (r["state"], [:])
            }
            for r in try Row.fetchAll(db, sql: "SELECT creative, model, digest FROM done") {
                guard let p = byID[r["creative"]] else { continue }
                out[p]!.done[r["model"]] = r["digest"]
            }
            return out
        }
    }

    static func creative(_ r: Row) -> CreativeRow {
        var c = CreativeRow(path: r["path"], kind: r["kind"], state: r["state"])
        c.id = r["id"]; c.width = r["width"]; c.height = r["height"]; c.bytes = r["bytes"]; c.frames = r["frames"]
        c.framesRead = r["frames_read"]; c.fps = r["fps"]; c.duration = r["duration"]; c.sha256 = r["sha256"]; c.reason = r["reason"]
        return c
    }

    static func detection(_ r: Row) -> DetectionRow {
        DetectionRow(model: r["model"], frame: r["frame"], time: r["time_s"], classIndex: r["class"], label: r["label"], score: r["score"],
                     x1: r["x1"], y1: r["y1"], x2: r["x2"], y2: r["y2"])
    }

    /// Every creative, by id (the order they were committed).
    public func creatives(state: String? = nil) throws -> [CreativeRow] {
        try file.read { db in
            if let state { return try Row.fetchAll(db, sql: "SELECT * FROM creatives WHERE state = ? ORDER BY id", arguments: [state]).map(Self.creative) }
            return try Row.fetchAll(db, sql: "SELECT * FROM creatives ORDER BY id").map(Self.creative)
        }
    }

    /// Reads every creative with its detections (scores at least `minScore`), one creative at a
    /// time in path order (the same for a merged store as for one run), so a large store is never held whole.
    public func eachCreative(minScore: Double = 0, _ body: (CreativeRow, [DetectionRow]) throws -> Void) throws {
        try file.read { db in
            let creatives = try Row.fetchCursor(db, sql: "SELECT * FROM creatives ORDER BY path")
            let detections = try db.makeStatement(sql: "SELECT * FROM detections WHERE creative = ? AND score >= ? ORDER BY model, frame, score DESC, rowid")
            while let r = try creatives.next() {
                let c = Self.creative(r)
                try body(c, try Row.fetchAll(detections, arguments: [c.id, minScore]).map(Self.detection))
            }
        }
    }

    /// Detections per model and label (at least `minScore`).
    public func counts(minScore: Double = 0) throws -> [(model: String, label: String, count: Int)] {
        try file.read { db in
            try Row.fetchAll(db, sql: "SELECT model, label, COUNT(*) AS n FROM detections WHERE score >= ? GROUP BY model, label ORDER BY model, label",
                             arguments: [minScore]).map { ($0["model"], $0["label"], $0["n"]) }
        }
    }

    /// Checks the store's own invariants: no detection without its `done` row, at most one `done`
    /// row per creative and model (the key), no detection of a failed creative, no detection stored twice. Returns what is wrong.
    public func inconsistencies() throws -> [String] {
        try file.read { db in
            var out: [String] = []
            let orphans = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM detections d WHERE NOT EXISTS (SELECT 1 FROM done x WHERE x.creative = d.creative AND x.model = d.model)") ?? 0
            if orphans > 0 { out.append("\(orphans) detections without a finished (creative, model)") }
            let failed = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM done x JOIN creatives c ON c.id = x.creative WHERE c.state != 'done'") ?? 0
            if failed > 0 { out.append("\(failed) finished (creative, model) rows of creatives not done") }
            let missing = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM done x WHERE NOT EXISTS (SELECT 1 FROM creatives c WHERE c.id = x.creative)") ?? 0
            if missing > 0 { out.append("\(missing) finished rows of unknown creatives") }
            let twice = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM (SELECT 1 FROM detections GROUP BY creative, model, frame, class, score, x1, y1, x2, y2 HAVING COUNT(*) > 1)
                """) ?? 0
            if twice > 0 { out.append("\(twice) detections stored more than once") }
            return out
        }
    }

    // MARK: merging shards

    /// Copies another store's creatives, `done` rows and detections into this one (one
    /// transaction), keyed by path: a creative already here is kept as it is, unless it failed
    /// here and is done there (a shard rerun after a read error). Returns how many creatives were
    /// copied and how many were already present.
    public func absorb(_ other: DetectionStore, now: Double) throws -> (copied: Int, present: Int) {
        let creatives = try other.creatives()
        let done: [(path: String, model: String, digest: String)] = try other.file.read { db in
            try Row.fetchAll(db, sql: "SELECT c.path, x.model, x.digest FROM done x JOIN creatives c ON c.id = x.creative").map { ($0["path"], $0["model"], $0["digest"]) }
        }
        var byPath: [String: [(String, String)]] = [:]
        for d in done { byPath[d.path, default: []].append((d.model, d.digest)) }
        return try file.write { db in
            var copied = 0, present = 0
            let insertDetection = try db.makeStatement(sql: "INSERT INTO detections VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            for c in creatives {
                if let here = try Row.fetchOne(db, sql: "SELECT id, state FROM creatives WHERE path = ?", arguments: [c.path]) {
                    let id: Int64 = here["id"], state: String = here["state"]
                    guard state == "failed" && c.state == "done" else { present += 1; continue }
                    try db.execute(sql: "DELETE FROM done WHERE creative = ?", arguments: [id])
                    try db.execute(sql: "DELETE FROM detections WHERE creative = ?", arguments: [id])
                    try db.execute(sql: "DELETE FROM creatives WHERE id = ?", arguments: [id])
                }
                try db.execute(sql: """
                    INSERT INTO creatives (path, kind, width, height, bytes, frames, frames_read, fps, duration, sha256, state, reason, run, updated)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)
                    """, arguments: [c.path, c.kind, c.width, c.height, c.bytes, c.frames, c.framesRead, c.fps, c.duration, c.sha256, c.state, c.reason, now])
                let id = db.lastInsertedRowID
                for (m, digest) in byPath[c.path] ?? [] { try db.execute(sql: "INSERT INTO done VALUES (?, ?, ?, NULL)", arguments: [id, m, digest]) }
                let rows = try other.file.read { odb in
                    try Row.fetchAll(odb, sql: "SELECT * FROM detections WHERE creative = ? ORDER BY rowid", arguments: [c.id]).map(Self.detection)
                }
                for d in rows { try insertDetection.execute(arguments: [id, d.model, d.frame, d.time, d.classIndex, d.label, d.score, d.x1, d.y1, d.x2, d.y2]) }
                copied += 1
            }
            return (copied, present)
        }
    }
}
