import Foundation
import GRDB

/// The final-models registry's file (`models.sqlite`): one row per brand and object. The
/// detection layer's FinalModels gives the rows their meaning.
public final class ModelRegistry: @unchecked Sendable {
    public static let layout = 1
    let file: SQLiteFile
    public var path: String { file.path }

    /// One row; params, thresholds and classes are JSON text.
    public struct Record: Sendable {
        public var brand: String, object: String, trialID: String?, params: String, maxIter: Int?, batchSize: Int?
        public var threshold: Double?, thresholds: String, metric: String, value: Double?, ap: Double?
        public var weights: String, sha256: String, config: String, classes: String
        public var baseline: String?, baselineValue: Double?, searchDir: String?, recorded: Double

        public init(brand: String, object: String, trialID: String?, params: String, maxIter: Int?, batchSize: Int?, threshold: Double?,
                    thresholds: String, metric: String, value: Double?, ap: Double?, weights: String, sha256: String, config: String,
                    classes: String, baseline: String?, baselineValue: Double?, searchDir: String?, recorded: Double) {
            self.brand = brand; self.object = object; self.trialID = trialID; self.params = params; self.maxIter = maxIter
            self.batchSize = batchSize; self.threshold = threshold; self.thresholds = thresholds; self.metric = metric; self.value = value
            self.ap = ap; self.weights = weights; self.sha256 = sha256; self.config = config; self.classes = classes; self.baseline = baseline
            self.baselineValue = baselineValue; self.searchDir = searchDir; self.recorded = recorded
        }
    }

    public init(path: String, version: String) throws {
        file = try SQLiteFile(path: path, what: "final models registry", layout: Self.layout, version: version, schema: """
            CREATE TABLE IF NOT EXISTS models (brand TEXT NOT NULL, object TEXT NOT NULL, trial_id TEXT, params TEXT NOT NULL,
                max_iter INTEGER, batch_size INTEGER, threshold REAL, thresholds TEXT NOT NULL, metric TEXT NOT NULL, value REAL, ap REAL,
                weights TEXT NOT NULL, sha256 TEXT NOT NULL, config TEXT NOT NULL, classes TEXT NOT NULL, baseline TEXT, baseline_value REAL,
                search_dir TEXT, recorded REAL NOT NULL, PRIMARY KEY (brand, object));
            """, newerHint: "use another registry file")
    }

    /// Stores a row, replacing the brand's row for that object; returns the weights it replaced.
    @discardableResult
    public func put(_ m: Record) throws -> String? {
        try file.write { db in
            let old = try String.fetchOne(db, sql: "SELECT weights FROM models WHERE brand = ? AND object = ?", arguments: [m.brand, m.object])
            try db.execute(sql: "INSERT OR REPLACE INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: [m.brand, m.object, m.trialID, m.params, m.maxIter, m.batchSize, m.threshold, m.thresholds, m.metric,
                                       m.value, m.ap, m.weights, m.sha256, m.config, m.classes, m.baseline, m.baselineValue, m.searchDir, m.recorded])
            return old
        }
    }

    /// Every row, by brand then object.
    public func all() throws -> [Record] {
        try file.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM models ORDER BY brand, object").map { r in
                Record(brand: r["brand"], object: r["object"], trialID: r["trial_id"], params: r["params"], maxIter: r["max_iter"],
                       batchSize: r["batch_size"], threshold: r["threshold"], thresholds: r["thresholds"], metric: r["metric"], value: r["value"],
                       ap: r["ap"], weights: r["weights"], sha256: r["sha256"], config: r["config"], classes: r["classes"], baseline: r["baseline"],
                       baselineValue: r["baseline_value"], searchDir: r["search_dir"], recorded: r["recorded"])
            }
        }
    }
}
