import Foundation
import Store
import Support

/// What a bulk-detection store holds, read for people and for the marketing-mix model: the
/// counts (`summary`), the failed creatives, detections as CSV at their classes' thresholds,
/// and the creative feature table. Works on any store (finished, stopped, or merged).
public final class BulkResults {
    public let store: DetectionStore
    public let models: [Model]
    public let settings: [String: String]

    public struct Model {
        public var name: String
        public var classes: [String]
        public var thresholds: [Double]
        /// The classes reported (features, counts, the detections CSV).
        public var objects: [String]
        public var sha256: String
        public var digest: String
        public var weights: String
        public var shares: String?
    }

    public init(store: DetectionStore) throws {
        self.store = store
        settings = try store.settings()
        models = try store.models().map { r in
            let classes = ((try? JSON.parse(Array(r.classes.utf8)))?.array ?? []).compactMap(\.string)
            var thresholds = [Double](repeating: 0.5, count: classes.count)
            for p in (try? JSON.parse(Array(r.thresholds.utf8)))?.array ?? [] {
                if let kv = p.array, kv.count == 2, let k = kv[0].string, let v = kv[1].number, let i = classes.firstIndex(of: k) { thresholds[i] = v }
            }
            let objects = ((try? JSON.parse(Array(r.objects.utf8)))?.array ?? []).compactMap(\.string)
            return Model(name: r.name, classes: classes, thresholds: thresholds, objects: objects, sha256: r.sha256, digest: r.digest, weights: r.weights, shares: r.shares)
        }
    }

    /// Opens a store file for reading (a missing file is an error, never an empty new store).
    public convenience init(path: String, version: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw DataError("detection store \(path): no such file") }
        guard !isDir.boolValue else { throw DataError("detection store \(path) is a folder, not a store file") }
        let head = (try? InputFile.head(path, count: 16)) ?? []
        guard head.count == 16, String(decoding: head, as: UTF8.self).hasPrefix("SQLite format 3") else {
            throw DataError("detection store \(path) is not a SQLite file (written by detect_batch{out = ...})")
        }
        let store = try DetectionStore(path: path, version: version)
        guard !(try store.models()).isEmpty else { throw DataError("detection store \(path) holds no job (no models recorded): is it the right file?") }
        try self.init(store: store)
    }

    var every: Int { settings["every"].flatMap(Int.init) ?? 10 }
    public var floor: Double { settings["floor"].flatMap(Double.init) ?? 0.05 }

    func threshold(model: String, classIndex: Int) -> Double {
        guard let m = models.first(where: { $0.name == model }), classIndex < m.thresholds.count else { return 0.5 }
        return m.thresholds[classIndex]
    }

    /// Whether a model's class is reported (a detection of another class stays in the store only).
    func reported(model: String, classIndex: Int) -> Bool {
        guard let m = models.first(where: { $0.name == model }), classIndex < m.classes.count else { return false }
        return m.objects.contains(m.classes[classIndex])
    }

    // MARK: counts

    public struct Summary {
        public var done = 0, failed = 0, pending = 0
        /// Detections at or above each class's threshold, per model and label.
        public var detections: [(model: String, label: String, count: Int)] = []
        public var sharing: [[String]] = []
    }

    /// Counts over the store; `total` (the job's creatives) makes `pending` what is left.
    public func summary(total: Int? = nil, paths: [String]? = nil) throws -> Summary {
        var s = Summary()
        let progress = try store.progress()
        let digests = Dictionary(uniqueKeysWithValues: models.map { ($0.name, $0.digest) })
        func finished(_ e: (state: String, done: [String: String])) -> Bool { e.state == "done" && digests.allSatisfy { e.done[$0.key] == $0.value } }
        if let paths {
            for p in paths {
                guard let e = progress[p] else { s.pending += 1; continue }
                if e.state == "failed" { s.failed += 1 } else if finished(e) { s.done += 1 } else { s.pending += 1 }
            }
        } else {
            for e in progress.values {
                if e.state == "failed" { s.failed += 1 } else if finished(e) { s.done += 1 } else { s.pending += 1 }
            }
            if let total { s.pending = max(total - s.done - s.failed, 0) }
        }
        var counts: [String: Int] = [:]
        try store.eachCreative(minScore: floor) { _, dets in
            for d in dets where d.score >= threshold(model: d.model, classIndex: d.classIndex) { counts["\(d.model)\u{1}\(d.label)", default: 0] += 1 }
        }
        for m in models {
            for label in m.objects { s.detections.append((m.name, label, counts["\(m.name)\u{1}\(label)"] ?? 0)) }
        }
        s.sharing = sharing
        return s
    }

    /// Groups of models that share their stem and frozen stages, read from the manifest alone.
    public var sharing: [[String]] {
        var groups: [String: [String]] = [:]
        for m in models { if let sh = m.shares { groups[sh] = sh.split(separator: ",").map(String.init) } }
        return groups.values.sorted { $0[0] < $1[0] }
    }

    public func failed() throws -> [(path: String, reason: String)] {
        try store.creatives(state: "failed").map { ($0.path, $0.reason ?? "failed") }
    }

    // MARK: detections as CSV

    public static let detectionColumns = ["creative_id", "path", "frame", "time_s", "model", "class", "label", "score", "x1", "y1", "x2", "y2"]

    /// One row per detection of a reported class at or above its threshold (with `all`, every
    /// stored detection, of every class, above the floor).
    public func detectionsCSV(all: Bool = false, ids: [String: String] = [:]) throws -> CSVWriter {
        let idOf = try creativeIDs(ids)
        var t = CSVWriter(header: Self.detectionColumns)
        try store.eachCreative(minScore: floor) { c, dets in
            let id = idOf[c.path] ?? Self.stem(c.path)
            for d in dets where all || (reported(model: d.model, classIndex: d.classIndex) && d.score >= threshold(model: d.model, classIndex: d.classIndex)) {
                t.append([id, c.path, d.frame.map(String.init) ?? "", d.time.map(Self.number) ?? "", d.model, String(d.classIndex), d.label,
                          Self.number(d.score), Self.number(d.x1), Self.number(d.y1), Self.number(d.x2), Self.number(d.y2)])
            }
        }
        return t
    }

    /// Shortest text that reads back as the same double.
    static func number(_ x: Double) -> String {
        if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    static func stem(_ path: String) -> String { ((path as NSString).lastPathComponent as NSString).deletingPathExtension }

    /// Creative ids: from the map (keyed by path, file name or stem), else the file stem; two
    /// creatives with one id are an error naming both.
    func creativeIDs(_ map: [String: String]) throws -> [String: String] {
        var out: [String: String] = [:], owner: [String: String] = [:]
        for c in try store.creatives() {
            let name = (c.path as NSString).lastPathComponent
            let id = map[c.path] ?? map[name] ?? map[Self.stem(c.path)] ?? Self.stem(c.path)
            if let other = owner[id], other != c.path {
                throw DataError("creatives \(other) and \(c.path) both get the creative id '\(id)'\(map.isEmpty ? " (their file stem)" : ""): give ids = {[\"\(c.path)\"] = \"...\"} (an id map) so that each has its own")
            }
            owner[id] = c.path
            out[c.path] = id
        }
        return out
    }

    // MARK: the creative feature table

    /// A column group: one object of one model (its label, or model_label when the label
    /// occurs in more than one model).
    public struct Object {
        public var model: String, classIndex: Int, label: String, column: String, threshold: Double
    }

    public var objects: [Object] {
        var owners: [String: Set<String>] = [:]
        for m in models { for l in m.objects { owners[l, default: []].insert(m.name) } }
        return models.flatMap { m in
            m.classes.enumerated().filter { m.objects.contains($0.element) }.map { k, l in
                Object(model: m.name, classIndex: k, label: l, column: owners[l]!.count > 1 ? "\(m.name)_\(l)" : l, threshold: m.thresholds[k])
            }
        }
    }

    public struct Feature: Equatable {
        public var present = false
        public var count = 0
        public var maxScore = 0.0
        public var areaShare = 0.0
        public var frameShare: Double?
        public var firstSeen: Double?
        public var screenSeconds: Double?
    }

    public struct Row {
        public var creativeID: String
        public var creative: DetectionStore.CreativeRow
        public var features: [Feature]     // per object, in `objects` order
    }

    public static let creativeColumns = ["creative_id", "path", "kind", "width", "height", "duration_s"]
    public static let featureSuffixes = ["present", "count", "max_score", "area_share", "frame_share", "first_seen_s", "screen_s"]

    /// Every creative done for every model, with its features; also what was left out (failed
    /// or not finished) by path.
    public func featureRows(ids: [String: String] = [:]) throws -> (rows: [Row], excluded: [(path: String, why: String)]) {
        let idOf = try creativeIDs(ids)
        let objects = self.objects
        let digests = Dictionary(uniqueKeysWithValues: models.map { ($0.name, $0.digest) })
        let progress = try store.progress()
        var rows: [Row] = [], excluded: [(String, String)] = []
        try store.eachCreative(minScore: floor) { c, dets in
            if c.state == "failed" { excluded.append((c.path, "failed: \(c.reason ?? "")")); return }
            let done = progress[c.path]?.done ?? [:]
            let missing = digests.filter { done[$0.key] != $0.value }.map(\.key).sorted()
            if !missing.isEmpty { excluded.append((c.path, "not finished for \(missing.joined(separator: ", "))")); return }
            rows.append(Row(creativeID: idOf[c.path] ?? Self.stem(c.path), creative: c, features: objects.map { Self.feature(c, dets, $0, every: every) }))
        }
        return (rows, excluded)
    }

    /// One object's features in one creative (see the README's feature table for the meaning).
    static func feature(_ c: DetectionStore.CreativeRow, _ dets: [DetectionStore.DetectionRow], _ o: Object, every: Int) -> Feature {
        var f = Feature()
        let mine = dets.filter { $0.model == o.model && $0.classIndex == o.classIndex }
        f.maxScore = mine.map(\.score).max() ?? 0
        let kept = mine.filter { $0.score >= o.threshold }
        let area = Double(max(c.width ?? 0, 0) * max(c.height ?? 0, 0))
        func share(_ boxes: [DetectionStore.DetectionRow]) -> Double {
            area > 0 ? unionArea(boxes.map { ($0.x1, $0.y1, $0.x2, $0.y2) }, width: Double(c.width ?? 0), height: Double(c.height ?? 0)) / area : 0
        }
        f.present = !kept.isEmpty
        if c.kind == "video" {
            let sampled = max(c.frames ?? 0, 0)
            var byFrame: [Int: [DetectionStore.DetectionRow]] = [:]
            for d in kept { byFrame[d.frame ?? 0, default: []].append(d) }
            f.count = byFrame.values.map(\.count).max() ?? 0
            // Summed in frame order: the same bits whatever order the rows came in.
            f.areaShare = sampled > 0 ? byFrame.keys.sorted().map { share(byFrame[$0]!) }.reduce(0, +) / Double(sampled) : 0
            f.frameShare = sampled > 0 ? Double(byFrame.count) / Double(sampled) : 0
            f.firstSeen = byFrame.keys.min().flatMap { first in kept.first { $0.frame == first }?.time }
            if let fps = c.fps, fps > 0 {
                f.screenSeconds = min(Double(byFrame.count * every) / fps, c.duration ?? .infinity)
            } else { f.screenSeconds = nil }
            if !f.present { f.firstSeen = nil }
        } else {
            f.count = kept.count
            f.areaShare = share(kept)
        }
        return f
    }

    /// The area of the union of boxes (XYXY), clipped to the image, by coordinate compression.
    public static func unionArea(_ boxes: [(Double, Double, Double, Double)], width: Double, height: Double) -> Double {
        let clipped = boxes.map { (max(0, min($0.0, width)), max(0, min($0.1, height)), max(0, min($0.2, width)), max(0, min($0.3, height))) }
            .filter { $0.2 > $0.0 && $0.3 > $0.1 }
        guard !clipped.isEmpty else { return 0 }
        let xs = Array(Set(clipped.flatMap { [$0.0, $0.2] })).sorted()
        let ys = Array(Set(clipped.flatMap { [$0.1, $0.3] })).sorted()
        var total = 0.0
        for i in 0..<(xs.count - 1) {
            let x0 = xs[i], x1 = xs[i + 1]
            for j in 0..<(ys.count - 1) {
                let y0 = ys[j], y1 = ys[j + 1]
                if clipped.contains(where: { $0.0 <= x0 && $0.2 >= x1 && $0.1 <= y0 && $0.3 >= y1 }) { total += (x1 - x0) * (y1 - y0) }
            }
        }
        return total
    }

    static func cells(_ f: Feature, video: Bool) -> [String] {
        [f.present ? "1" : "0", String(f.count), number(f.maxScore), number(f.areaShare),
         video ? f.frameShare.map(number) ?? "" : "", video ? f.firstSeen.map(number) ?? "" : "", video ? f.screenSeconds.map(number) ?? "" : ""]
    }

    static func creativeCells(_ r: Row) -> [String] {
        let c = r.creative
        return [r.creativeID, c.path, c.kind, c.width.map(String.init) ?? "", c.height.map(String.init) ?? "",
                c.kind == "video" ? c.duration.map(number) ?? "" : ""]
    }

    /// The wide table (one row per creative), the long one (one row per creative and object),
    /// and the sidecar (thresholds, model hashes, what was left out).
    public func features(ids: [String: String] = [:]) throws -> (wide: CSVWriter, long: CSVWriter, sidecar: String, rows: Int, excluded: [(path: String, why: String)]) {
        let objects = self.objects
        let (rows, excluded) = try featureRows(ids: ids)
        var wide = CSVWriter(header: Self.creativeColumns + objects.flatMap { o in Self.featureSuffixes.map { "\(o.column)_\($0)" } })
        var long = CSVWriter(header: Self.creativeColumns + ["model", "object", "label"] + Self.featureSuffixes)
        for r in rows {
            let video = r.creative.kind == "video"
            wide.append(Self.creativeCells(r) + r.features.flatMap { Self.cells($0, video: video) })
            for (o, f) in zip(objects, r.features) { long.append(Self.creativeCells(r) + [o.model, o.column, o.label] + Self.cells(f, video: video)) }
        }
        let sidecar = JSON.text(.object([
            ("store", .string(store.path)),
            ("every", .int(Int64(every))),
            ("score_floor", .double(floor)),
            ("models", .array(models.map { m in
                .object([("name", .string(m.name)), ("weights", .string(m.weights)), ("sha256", .string(m.sha256)), ("digest", .string(m.digest)),
                         ("thresholds", .object(zip(m.classes, m.thresholds).map { ($0, .double($1)) }))])
            })),
            ("objects", .array(objects.map { .object([("column", .string($0.column)), ("model", .string($0.model)), ("label", .string($0.label)), ("threshold", .double($0.threshold))]) })),
            ("creatives", .int(Int64(rows.count))),
            ("excluded", .array(excluded.map { .object([("path", .string($0.path)), ("why", .string($0.why))]) })),
        ]))
        return (wide, long, sidecar, rows.count, excluded)
    }

    /// Writes the feature table (and `long` when given) and the sidecar `<out stem>.json`.
    @discardableResult
    public func writeFeatures(to out: String, long: String? = nil, ids: [String: String] = [:]) throws -> (rows: Int, sidecar: String, excluded: [(path: String, why: String)]) {
        let f = try features(ids: ids)
        try f.wide.write(to: out)
        if let long { try f.long.write(to: long) }
        let ext = (out as NSString).pathExtension
        let sidecar = (ext.isEmpty ? out : String(out.dropLast(ext.count + 1))) + ".json"
        try AtomicFile.write(f.sidecar + "\n", to: sidecar)
        if !f.excluded.isEmpty {
            DetectionLog.shared.warn("features", "\(f.excluded.count) creative\(f.excluded.count == 1 ? " is" : "s are") not in the table (failed or not finished; listed in \(sidecar)): "
                                     + f.excluded.prefix(3).map { "\($0.path) (\($0.why))" }.joined(separator: "; ") + (f.excluded.count > 3 ? "; ..." : ""))
        }
        return (f.rows, sidecar, f.excluded)
    }

    // MARK: merging

    /// Merges shard stores into `into` (created, or extended when it exists with the same
    /// manifest). Stores with different models, weights, frame step or floor are refused.
    public static func merge(_ sources: [String], into target: String, version: String) throws -> (copied: Int, duplicates: Int) {
        guard !sources.isEmpty else { throw DataError("merge needs at least one store to merge") }
        let opened = try sources.map { try BulkResults(path: $0, version: version) }
        let first = opened[0]
        func identity(_ r: BulkResults) -> String {
            r.models.map { "\($0.name)=\($0.digest)" }.joined(separator: ",") + " every \(r.every) floor \(r.floor)"
        }
        for (r, path) in zip(opened, sources).dropFirst() where identity(r) != identity(first) {
            throw DataError("cannot merge \(path) with \(sources[0]): they come from different jobs (\(describe(r)) against \(describe(first))); merge only the shards of one job")
        }
        let out = try DetectionStore(path: target, version: version)
        let existing = try out.models()
        if !existing.isEmpty {
            let here = try BulkResults(store: out)
            guard identity(here) == identity(first) else {
                throw DataError("cannot merge into \(target): it holds another job (\(describe(here)) against \(describe(first)))")
            }
        }
        var settings = first.settings
        settings["shard"] = ""
        _ = try out.setManifest(settings: settings, models: try first.store.models())
        var copied = 0, duplicates = 0
        let now = Date().timeIntervalSince1970
        for r in opened {
            let (c, d) = try out.absorb(r.store, now: now)
            copied += c
            duplicates += d
        }
        if duplicates > 0 { DetectionLog.shared.warn("merge", "\(duplicates) creatives were in more than one store; the first copy of each is kept") }
        return (copied, duplicates)
    }

    static func describe(_ r: BulkResults) -> String {
        "models " + r.models.map { "\($0.name) (weights \($0.sha256.prefix(12)))" }.joined(separator: ", ") + ", every \(r.every), score_floor \(r.floor)"
    }
}
