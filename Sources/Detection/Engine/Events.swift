import Foundation

/// Detectron2's EventStorage: scalars by name with their history; smoothed ones are reported as
/// the median of the last values, the others as they were last put.
public final class EventStorage {
    public private(set) var iteration = 0
    private var history: [String: [Double]] = [:]
    private var latest: [String: (value: Double, iteration: Int)] = [:]
    private var smoothed: [String: Bool] = [:]
    private var order: [String] = []
    /// History kept per scalar (Detectron2's ETA takes the median of the last 1000 step times).
    static let keep = 1000

    public init() {}

    public func setIteration(_ i: Int) { iteration = i }

    public func put(_ name: String, _ value: Double, smoothing: Bool = true) {
        if latest[name] == nil { order.append(name) }
        latest[name] = (value, iteration)
        smoothed[name] = smoothing
        var h = history[name, default: []]
        h.append(value)
        if h.count > Self.keep { h.removeFirst(h.count - Self.keep) }
        history[name] = h
    }

    public func median(_ name: String, window: Int = 20) -> Double? {
        guard let h = history[name], !h.isEmpty else { return nil }
        let s = h.suffix(window).sorted()
        // numpy's median: the mean of the two middle values for an even count.
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    public func average(_ name: String, window: Int? = nil) -> Double? {
        guard let h = history[name], !h.isEmpty else { return nil }
        let s = window.map { h.suffix($0) } ?? h[...]
        return s.reduce(0, +) / Double(s.count)
    }

    public func latest(_ name: String) -> Double? { latest[name]?.value }

    /// The values put under a name (the last 1000), oldest first.
    public func history(_ name: String) -> [Double] { history[name] ?? [] }

    /// Every scalar: its latest value, or its median over `window` when it is smoothed; with the
    /// iteration it was last put at. In first-put order.
    public func latestWithSmoothing(window: Int = 20) -> [(name: String, value: Double, iteration: Int)] {
        order.compactMap { name in
            guard let l = latest[name] else { return nil }
            let v = smoothed[name] == true ? (median(name, window: window) ?? l.value) : l.value
            return (name, v, l.iteration)
        }
    }
}

/// Detectron2's JSONWriter: appends one JSON object per written iteration to metrics.json, keys
/// sorted, holding the scalars put since the last write.
public final class JSONMetricsWriter {
    public let path: String
    private var lastWrite = -1

    public init(path: String) { self.path = path }

    public func write(_ storage: EventStorage) throws {
        var byIteration: [Int: [(String, Double)]] = [:]
        for e in storage.latestWithSmoothing() where e.iteration > lastWrite {
            byIteration[e.iteration, default: []].append((e.name, e.value))
        }
        guard !byIteration.isEmpty else { return }
        var text = ""
        for it in byIteration.keys.sorted() {
            let fields = (byIteration[it]! + [("iteration", Double(it))]).sorted { $0.0 < $1.0 }
            text += "{" + fields.map { name, v in
                let value = name == "iteration" ? String(Int(v)) : (v.isFinite ? "\(v)" : (v.isNaN ? "NaN" : (v > 0 ? "Infinity" : "-Infinity")))
                return "\(jsonString(name)): \(value)"
            }.joined(separator: ", ") + "}\n"
        }
        lastWrite = byIteration.keys.max()!
        if !repaired { try repairTail(); repaired = true }
        guard let h = FileHandle(forWritingAtPath: path) ?? {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }() else { throw TrainingError("cannot write \(path)") }
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: Data(text.utf8))
    }

    private var repaired = false

    /// A line cut short by a kill would glue onto the next one appended: drop it, once, before
    /// a run appends (the lines before it are kept).
    private func repairTail() throws {
        guard let data = FileManager.default.contents(atPath: path), let last = data.last, last != UInt8(ascii: "\n") else { return }
        let keep = (data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
        guard truncate(path, off_t(keep)) == 0 else { throw TrainingError("cannot repair \(path): \(String(cString: strerror(errno)))") }
        DetectionLog.shared.warn("metrics", "\(path) ended in a line cut short (a killed run); it is dropped and the lines before it kept")
    }

    private func jsonString(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
