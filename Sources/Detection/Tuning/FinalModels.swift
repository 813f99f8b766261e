import Foundation
import Store
import Support

/// The table of final models (the study's Table 2) as a registry, `models.sqlite`: for each
/// brand and object the chosen trial, its weights (path and SHA-256), its config, the per-class
/// thresholds and the validation metrics, and the baseline beside it. Bulk detection reads its
/// models from here.
public final class FinalModels {
    public let path: String
    let registry: ModelRegistry

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
        registry = try ModelRegistry(path: path, version: version)
    }

    /// Records (or replaces, with a warning naming the old weights) a brand's model for an object.
    public func record(_ m: Model) throws {
        let old = try registry.put(ModelRegistry.Record(
            brand: m.brand, object: m.object, trialID: m.trialID, params: ParamCoding.encode(m.params.map(\.key), m.params.map(\.value)),
            maxIter: m.maxIter, batchSize: m.batchSize, threshold: m.threshold,
            thresholds: JSON.text(.array(m.thresholds.map { .array([.string($0.className), .double($0.threshold)]) })),
            metric: m.metric, value: m.value, ap: m.ap, weights: m.weights, sha256: m.sha256, config: m.config,
            classes: JSON.text(.array(m.classes.map { .string($0) })), baseline: m.baseline, baselineValue: m.baselineValue,
            searchDir: m.searchDir, recorded: m.recorded))
        if let old {
            DetectionLog.shared.warn("final_models", "\(m.brand) / \(m.object) was recorded before (weights \(old)); replaced by \(m.weights)")
        }
    }

    static func model(_ r: ModelRegistry.Record) -> Model {
        let thresholds: [(String, Double)] = ((try? JSON.parse(Array(r.thresholds.utf8)))?.array ?? []).compactMap { p in
            guard let kv = p.array, kv.count == 2, let k = kv[0].string, let v = kv[1].number else { return nil }
            return (k, v)
        }
        let classes = ((try? JSON.parse(Array(r.classes.utf8)))?.array ?? []).compactMap(\.string)
        return Model(brand: r.brand, object: r.object, trialID: r.trialID, params: ParamCoding.decode(r.params), maxIter: r.maxIter,
                     batchSize: r.batchSize, threshold: r.threshold, thresholds: thresholds, metric: r.metric, value: r.value, ap: r.ap,
                     weights: r.weights, sha256: r.sha256, config: r.config, classes: classes, baseline: r.baseline,
                     baselineValue: r.baselineValue, searchDir: r.searchDir, recorded: r.recorded)
    }

    public func all() throws -> [Model] { try registry.all().map(Self.model) }

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
