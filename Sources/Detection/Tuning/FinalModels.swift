import Foundation
import GRDB
import Support

/// The table of final models (the study's Table 2) as a registry, `models.sqlite`: for each
/// brand and object the chosen trial, its weights (path and SHA-256), its config, the per-class
/// thresholds and the validation metrics, and the baseline beside it. Bulk detection reads its
/// models from here.
public final class FinalModels {
    public static let schemaVersion = 1
    public let path: String
    let pool: DatabasePool

    public struct Model {
        public var brand: String
        public var object: String
        public var trialID: String?
        public var params: [(key: String, value: CfgValue)]
        public var maxIter: Int?
        public var batchSize: Int?
        /// The object's own threshold (its class's), and every class's.
        public var threshold: Double?
        public var thresholds: [(className: String, threshold: Double)]
        public var metric: String
        /// The metric at the object's threshold on the validation set.
        public var value: Double?
        public var ap: Double?
        public var weights: String
        public var sha256: String
        public var config: String
        public var classes: [String]
        public var baseline: String?
        public var baselineValue: Double?
        public var searchDir: String?
        public var recorded: Double
    }

    public init(path: String, version: String) throws {
        self.path = path
        let dir = PathName.parent(path)
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        var config = Configuration()
        config.busyMode = .timeout(30)
        do { pool = try DatabasePool(path: path, configuration: config) } catch {
            throw DataError("final models registry \(path) cannot be opened: \(SearchStore.describe(error))")
        }
        try write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS models (brand TEXT NOT NULL, object TEXT NOT NULL, trial_id TEXT, params TEXT NOT NULL,
                    max_iter INTEGER, batch_size INTEGER, threshold REAL, thresholds TEXT NOT NULL, metric TEXT NOT NULL, value REAL, ap REAL,
                    weights TEXT NOT NULL, sha256 TEXT NOT NULL, config TEXT NOT NULL, classes TEXT NOT NULL, baseline TEXT, baseline_value REAL,
                    search_dir TEXT, recorded REAL NOT NULL, PRIMARY KEY (brand, object));
                """)
            let stored = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'schema'").flatMap(Int.init)
            if let stored, stored > Self.schemaVersion {
                throw DataError("final models registry \(path) has layout \(stored), from a newer Lunette; this Lunette \(version) reads layout \(Self.schemaVersion) and older")
            }
            if stored == nil {
                try db.execute(sql: "INSERT OR REPLACE INTO meta VALUES ('schema', ?), ('written_by', ?)", arguments: [String(Self.schemaVersion), version])
            }
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) { result = try body(db); return .commit }
                return result!
            }
        } catch let e as DatabaseError { throw DataError("final models registry \(path): \(SearchStore.describe(e))") }
    }

    /// Records (or replaces, with a warning naming the old weights) a brand's model for an object.
    public func record(_ m: Model) throws {
        try write { db in
            if let old = try String.fetchOne(db, sql: "SELECT weights FROM models WHERE brand = ? AND object = ?", arguments: [m.brand, m.object]) {
                DetectionLog.shared.warn("final_models", "\(m.brand) / \(m.object) was recorded before (weights \(old)); replacing it with \(m.weights)")
            }
            try db.execute(sql: """
                INSERT OR REPLACE INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [m.brand, m.object, m.trialID, ParamCoding.encode(m.params.map(\.key), m.params.map(\.value)), m.maxIter, m.batchSize,
                                 m.threshold, JSON.text(.array(m.thresholds.map { .array([.string($0.className), .double($0.threshold)]) })),
                                 m.metric, m.value, m.ap, m.weights, m.sha256, m.config, JSON.text(.array(m.classes.map { .string($0) })),
                                 m.baseline, m.baselineValue, m.searchDir, m.recorded])
        }
    }

    static func model(_ r: Row) -> Model {
        let thresholds: [(String, Double)] = {
            guard case .array(let a)? = try? JSON.parse(Array((r["thresholds"] as String).utf8)) else { return [] }
            return a.compactMap { p in
                guard let kv = p.array, kv.count == 2, let k = kv[0].string, let v = kv[1].number else { return nil }
                return (k, v)
            }
        }()
        let classes: [String] = (try? JSON.parse(Array((r["classes"] as String).utf8)))?.array?.compactMap(\.string) ?? []
        return Model(brand: r["brand"], object: r["object"], trialID: r["trial_id"], params: ParamCoding.decode(r["params"]),
                     maxIter: r["max_iter"], batchSize: r["batch_size"], threshold: r["threshold"], thresholds: thresholds, metric: r["metric"],
                     value: r["value"], ap: r["ap"], weights: r["weights"], sha256: r["sha256"], config: r["config"], classes: classes,
                     baseline: r["baseline"], baselineValue: r["baseline_value"], searchDir: r["search_dir"], recorded: r["recorded"])
    }

    public func all() throws -> [Model] {
        do { return try pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM models ORDER BY brand, object").map(Self.model) } }
        catch let e as DatabaseError { throw DataError("final models registry \(path): \(SearchStore.describe(e))") }
    }

    public func get(brand: String, object: String) throws -> Model {
        let all = try all()
        if let m = all.first(where: { $0.brand == brand && $0.object == object }) { return m }
        let known = all.map { "\($0.brand)/\($0.object)" }
        throw DataError("final models \(path): no model for brand '\(brand)', object '\(object)'\(Suggestion.hint(for: "\(brand)/\(object)", among: known))"
                        + (known.isEmpty ? " (the registry is empty)" : "; recorded: \(known.joined(separator: ", "))"))
    }

    public func forBrand(_ brand: String) throws -> [Model] {
        let all = try all()
        let mine = all.filter { $0.brand == brand }
        guard !mine.isEmpty else {
            let brands = Array(Set(all.map(\.brand))).sorted()
            throw DataError("final models \(path): no models for brand '\(brand)'\(Suggestion.hint(for: brand, among: brands))"
                            + (brands.isEmpty ? " (the registry is empty)" : "; brands: \(brands.joined(separator: ", "))"))
        }
        return mine
    }

    static let columns = ["brand", "object", "MAX_ITER", "BATCH_SIZE_PER_IMAGE", "threshold", "metric", "value", "AP", "baseline", "baseline_value", "weights", "sha256"]

    func cells(_ m: Model) -> [String] {
        func f(_ v: Double?, _ format: String) -> String { v.map { $0.isNaN ? "" : String(format: format, $0) } ?? "" }
        return [m.brand, m.object, m.maxIter.map(String.init) ?? "", m.batchSize.map(String.init) ?? "", f(m.threshold, "%.2f"), m.metric,
                f(m.value, "%.4f"), f(m.ap, "%.2f"), m.baseline ?? "", f(m.baselineValue, "%.4f"), m.weights, m.sha256]
    }

    public func table() throws -> String {
        let rows = try all().map { Array(cells($0).prefix(10)) }
        let header = Array(Self.columns.prefix(10))
        guard !rows.isEmpty else { return "final models (\(path)): none recorded yet" }
        let widths = header.indices.map { c in max(header[c].count, rows.map { $0[c].count }.max() ?? 0) }
        func line(_ r: [String]) -> String { r.enumerated().map { c, v in c < 2 || c == 5 || c == 8 ? v.padding(toLength: widths[c], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[c] - v.count) + v }.joined(separator: "  ") }
        return (["final models (\(path))", line(header)] + rows.map(line)).joined(separator: "\n")
    }

    public func csv() throws -> String {
        var t = CSVWriter(header: Self.columns)
        for m in try all() { t.append(cells(m)) }
        return t.text
    }

    public func markdown() throws -> String {
        let header = Array(Self.columns.prefix(10))
        var lines = ["| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in " --- " }.joined(separator: "|") + "|"]
        for m in try all() { lines.append("| " + cells(m).prefix(10).map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n") + "\n"
    }
}
