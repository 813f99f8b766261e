import Foundation

/// A metadata value: what Detectron2 keeps in MetadataCatalog entries.
public enum MetadataValue: Equatable, Sendable, CustomStringConvertible {
    case string(String)
    case number(Double)
    case strings([String])
    case idMap([Int64: Int])
    case bool(Bool)

    public var description: String {
        switch self {
        case .string(let s): return String(reflecting: s)
        case .number(let d): return "\(d)"
        case .strings(let a): return "[" + a.map { String(reflecting: $0) }.joined(separator: ", ") + "]"
        case .idMap(let m): return "{" + m.keys.sorted().map { "\($0): \(m[$0]!)" }.joined(separator: ", ") + "}"
        case .bool(let b): return "\(b)"
        }
    }
}

/// The metadata of one dataset. Each key is set once: setting it again to a different value is
/// an error (Detectron2's rule), to the same value a no-op.
public final class Metadata: @unchecked Sendable {
    public let name: String
    private var values: [String: MetadataValue] = [:]
    private let lock = NSLock()
    /// Fills keys that are computed on first use (thing_classes of a COCO dataset not yet loaded).
    var lazyFill: ((Metadata) throws -> Void)?

    init(name: String) { self.name = name }

    public func get(_ key: String) throws -> MetadataValue? {
        lock.lock()
        let v = values[key]
        let fill = v == nil ? lazyFill : nil
        lock.unlock()
        if v == nil, let fill, ["thing_classes", "thing_dataset_id_to_contiguous_id"].contains(key) {
            try fill(self)
            return lock.withLock { values[key] }
        }
        return v
    }

    /// The kinds the keys Detectron2's code reads must have (other keys take any value).
    static let expectedKinds: [String: (String, @Sendable (MetadataValue) -> Bool)] = [
        "thing_classes": ("a list of class names", { if case .strings = $0 { return true }; return false }),
        "stuff_classes": ("a list of class names", { if case .strings = $0 { return true }; return false }),
        "thing_dataset_id_to_contiguous_id": ("a map of dataset ids to 0-based ids", { if case .idMap = $0 { return true }; return false }),
        "evaluator_type": ("a string", { if case .string = $0 { return true }; return false }),
        "json_file": ("a file name", { if case .string = $0 { return true }; return false }),
        "image_root": ("a folder name", { if case .string = $0 { return true }; return false }),
    ]

    public func set(_ key: String, _ value: MetadataValue) throws {
        if let (kind, accepts) = Metadata.expectedKinds[key], !accepts(value) {
            throw DataError("metadata '\(key)' of '\(name)' must be \(kind), not \(value)")
        }
        try lock.withLock {
            if let old = values[key], old != value {
                throw DataError("Attribute '\(key)' in the metadata of '\(name)' cannot be set to a different value! \(old) != \(value)")
            }
            values[key] = value
        }
    }

    public var keys: [String] { lock.withLock { values.keys.sorted() } }

    /// A key's value as set so far, without reading a lazily loaded dataset.
    public func stored(_ key: String) -> MetadataValue? { lock.withLock { values[key] } }

    public var thingClasses: [String]? {
        if case .strings(let s)? = try? get("thing_classes") { return s }
        return nil
    }
}

public struct DataError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// DatasetCatalog and MetadataCatalog with Detectron2's semantics: a name registers once,
/// loading happens on first use and is cached, unknown names list the known ones.
public final class DataCatalog: @unchecked Sendable {
    public static let shared = DataCatalog()

    private let lock = NSLock()
    private var loaders: [String: () throws -> [DatasetDict]] = [:]
    private var cache: [String: [DatasetDict]] = [:]
    private var metadata: [String: Metadata] = [:]

    public init() {}

    public func register(_ name: String, _ loader: @escaping () throws -> [DatasetDict]) throws {
        try lock.withLock {
            guard loaders[name] == nil else {
                throw DataError("Dataset '\(name)' is already registered! Remove it first with DatasetCatalog.remove('\(name)') (and MetadataCatalog.remove('\(name)')).")
            }
            loaders[name] = loader
        }
    }

    public func remove(_ name: String) {
        lock.withLock {
            loaders[name] = nil
            cache[name] = nil
        }
    }

    public var names: [String] { lock.withLock { loaders.keys.sorted() } }

    public func isRegistered(_ name: String) -> Bool { lock.withLock { loaders[name] != nil } }

    /// The dataset dicts (loaded on first use, then cached).
    public func get(_ name: String) throws -> [DatasetDict] {
        let loader: () throws -> [DatasetDict]
        do {
            lock.lock()
            defer { lock.unlock() }
            if let cached = cache[name] { return cached }
            guard let l = loaders[name] else {
                throw DataError("Dataset '\(name)' is not registered! Available datasets are: \(loaders.keys.sorted().joined(separator: ", "))")
            }
            loader = l
        }
        let dicts = try loader()
        lock.withLock { cache[name] = dicts }
        return dicts
    }

    /// MetadataCatalog.get: created empty on first use, as in Detectron2.
    public func metadata(_ name: String) -> Metadata {
        lock.withLock {
            if let m = metadata[name] { return m }
            let m = Metadata(name: name)
            metadata[name] = m
            return m
        }
    }

    public func removeMetadata(_ name: String) { lock.withLock { metadata[name] = nil } }
}
