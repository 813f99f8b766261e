import Foundation
import Store
import Support

/// What a grid search is asked: the base config, the grid, the datasets, the thresholds and the
/// metric, where it keeps its store and runs. Checked when made: every key against the config
/// tree, every value against the key's type, thresholds in 0..1, the output folder writable.
public struct SearchSpec {
    public static let metrics = ["accuracy", "precision", "recall", "f1", "AP", "AP50", "AP75"]
    /// Keys the search sets itself for every trial.
    static let managedKeys = ["OUTPUT_DIR", "DATASETS.TRAIN", "DATASETS.TEST"]

    public let base: CfgNode
    /// In the order given (the order of print(search)'s columns and of heat-map defaults).
    public let grid: [(key: String, values: [CfgValue])]
    public let train: String
    public let valid: String
    public let thresholds: [Double]
    public let metric: String
    public let outputDir: String
    public var retryFailed = false
    /// SOLVER.CHECKPOINT_PERIOD of the training runs: how far back a killed run resumes from.
    public var checkpointPeriod = 100
    /// Seconds without a heartbeat after which another machine's worker counts as dead (a worker
    /// on this machine whose process is gone counts as dead at once).
    public var heartbeatGrace = 60.0
    /// Whether the call waits for trials other workers are running (a `tune worker` does not).
    public var wait = true
    public let version: String

    public init(base: CfgNode, grid: [(key: String, values: [CfgValue])], train: String, valid: String, thresholds: [Double],
                metric: String, outputDir: String, version: String) throws {
        guard !grid.isEmpty else { throw ConfigError("grid_search: the grid is empty; give grid = { [\"SOLVER.MAX_ITER\"] = {300, 500, 1000}, ... }") }
        var checked: [(String, [CfgValue])] = []
        for (key, values) in grid {
            if Self.managedKeys.contains(key) {
                throw ConfigError("grid_search: \(key) cannot be a grid key (the search sets it for each trial; use train =, valid = and output_dir =)")
            }
            let old = try base.value(at: key)      // "Non-existent config key: ... Did you mean ...?"
            if case .node = old { throw ConfigError("grid_search: \(key) is a config node, not a value; grid keys name values such as SOLVER.MAX_ITER") }
            guard !values.isEmpty else { throw ConfigError("grid_search: grid[\"\(key)\"] has no values") }
            var normalised: [CfgValue] = []
            for (i, v) in values.enumerated() {
                let probe = base.clone()
                probe.defrost()
                do { try probe.set(key, v, coerceIntToFloat: true) } catch let e as ConfigError {
                    throw ConfigError("grid_search: grid[\"\(key)\"][\(i + 1)] = \(v): \(e.message)")
                }
                let n = try probe.value(at: key)
                guard !normalised.contains(n) else { throw ConfigError("grid_search: grid[\"\(key)\"] lists \(n) twice") }
                normalised.append(n)
            }
            checked.append((key, normalised))
        }
        if let iterations = checked.first(where: { $0.0 == "SOLVER.MAX_ITER" }) {
            for v in iterations.1 {
                guard case .int(let m) = v, m > 0 else { throw ConfigError("grid_search: SOLVER.MAX_ITER values must be positive integers, got \(v)") }
            }
        }
        guard !thresholds.isEmpty else { throw ConfigError("grid_search: thresholds is empty; give thresholds = {0.2, 0.4, 0.6, 0.8}") }
        for t in thresholds where !(t >= 0 && t <= 1) {
            throw ConfigError("grid_search: threshold \(t) is outside 0..1 (thresholds are confidence scores: 0.2 is 20%)")
        }
        guard Self.metrics.contains(metric) else {
            throw ConfigError("grid_search: unknown metric '\(metric)'\(Suggestion.hint(for: metric, among: Self.metrics)); use one of \(Self.metrics.joined(separator: ", "))")
        }
        guard !outputDir.isEmpty else { throw ConfigError("grid_search: output_dir is empty") }
        self.base = base.clone()
        self.grid = checked.map { (key: $0.0, values: $0.1) }
        self.train = train
        self.valid = valid
        self.thresholds = thresholds
        self.metric = metric
        self.outputDir = outputDir
        self.version = version
    }

    public var keys: [String] { grid.map(\.key) }

    /// The study's order of keys: SOLVER.MAX_ITER, then ROI_HEADS.BATCH_SIZE_PER_IMAGE, then the
    /// others as given. Ties in best() are broken in this order, and heat maps default to its
    /// first two keys.
    public static func studyOrder(_ keys: [String]) -> [String] {
        let first = ["SOLVER.MAX_ITER", "MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"].filter(keys.contains)
        return first + keys.filter { !first.contains($0) }
    }

    /// Every combination, the last key varying fastest.
    public var combinations: [[CfgValue]] {
        grid.reduce([[]]) { partial, entry in partial.flatMap { prefix in entry.values.map { prefix + [$0] } } }
    }

    /// The score threshold trials predict at: at or below every threshold asked for and 0.20
    /// (a threshold sweep's usual start), and no higher than the config's own.
    public var scoreFloor: Double {
        let own = (try? base.double("MODEL.ROI_HEADS.SCORE_THRESH_TEST")) ?? 0.05
        return min(own, thresholds.min() ?? 0.2, 0.2)
    }

    /// The config a trial trains with, before the run's own settings (OUTPUT_DIR, checkpoints).
    func trialConfig(_ values: [CfgValue]) throws -> CfgNode {
        let cfg = base.clone()
        cfg.defrost()
        for (i, (key, _)) in grid.enumerated() { try cfg.set(key, values[i], coerceIntToFloat: true) }
        try cfg.set("OUTPUT_DIR", .string(""))
        try cfg.set("DATASETS.TRAIN", .list([.string(train)]))
        try cfg.set("DATASETS.TEST", .list([]))
        return cfg
    }

    /// A trial's key: its whole config, the datasets' contents and the Lunette version.
    func trialID(_ cfg: CfgNode, dataHash: String) -> String {
        String(Digest.sha256(cfg.dump() + "\n# data \(dataHash)\n# lunette \(version)\n").prefix(16))
    }

    /// The key of the run a trial trains in when it shares: its config with MAX_ITER left out.
    func groupID(_ cfg: CfgNode, dataHash: String) throws -> String {
        let neutral = cfg.clone()
        try neutral.set("SOLVER.MAX_ITER", .int(0))
        return "run-" + String(Digest.sha256(neutral.dump() + "\n# data \(dataHash)\n# lunette \(version)\n").prefix(12))
    }
}

/// Parameter values as JSON (the store's `params` column) and back.
enum ParamCoding {
    static func json(_ v: CfgValue) -> JSONValue {
        switch v {
        case .none, .node: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(Int64(i))
        case .float(let d): return .double(d)
        case .string(let s): return .string(s)
        case .list(let l): return .array(l.map(json))
        }
    }

    static func cfg(_ j: JSONValue) -> CfgValue {
        switch j {
        case .null, .object: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(Int(i))
        case .double(let d): return .float(d)
        case .string(let s): return .string(s)
        case .array(let a): return .list(a.map(cfg))
        }
    }

    static func encode(_ keys: [String], _ values: [CfgValue]) -> String {
        JSON.text(.array(zip(keys, values).map { .array([.string($0), json($1)]) }))
    }

    static func decode(_ text: String) -> [(key: String, value: CfgValue)] {
        guard case .array(let pairs)? = try? JSON.parse(Array(text.utf8)) else { return [] }
        return pairs.compactMap { p in
            guard case .array(let kv) = p, kv.count == 2, case .string(let k) = kv[0] else { return nil }
            return (k, cfg(kv[1]))
        }
    }

    /// A value as a label: 300, 0.02, True.
    static func label(_ v: CfgValue) -> String {
        switch v {
        case .string(let s): return s
        case .float(let d): return d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : String(d)
        default: return v.description
        }
    }

    /// Orders values for tie-breaking: numbers by size, others by their text.
    static func less(_ a: CfgValue, _ b: CfgValue) -> Bool {
        func number(_ v: CfgValue) -> Double? {
            switch v { case .int(let i): return Double(i); case .float(let d): return d; case .bool(let b): return b ? 1 : 0; default: return nil }
        }
        if let x = number(a), let y = number(b) { return x < y }
        return label(a) < label(b)
    }
}
