import Foundation
import Support

/// The train and validation datasets of a search as the search saw them: every record with its
/// file name made absolute, the classes and the id map. Its hash is part of every trial's key (a
/// changed dataset makes new trials); the store keeps the text, so a `tune worker` process
/// registers the same datasets without the script that registered them, and every process
/// evaluates against the same ground truth.
struct DatasetSnapshot {
    struct Part {
        var name: String
        var dicts: [DatasetDict]
        var classes: [String]
        var idMap: [Int64: Int]?
    }
    var train: Part
    var valid: Part
    var text: String
    var hash: String

    init(train: String, valid: String, catalog: DataCatalog) throws {
        func part(_ name: String, role: String) throws -> Part {
            guard catalog.isRegistered(name) else {
                throw DataError("grid_search: \(role) dataset '\(name)' is not registered\(Suggestion.hint(for: name, among: catalog.names)); registered: \(catalog.names.joined(separator: ", "))")
            }
            let dicts = try catalog.get(name)
            guard !dicts.isEmpty else { throw DataError("grid_search: \(role) dataset '\(name)' is empty") }
            let meta = catalog.metadata(name)
            var idMap: [Int64: Int]?
            if case .idMap(let m)? = try meta.get("thing_dataset_id_to_contiguous_id") { idMap = m }
            let cwd = FileManager.default.currentDirectoryPath
            let absolute = dicts.map { d -> DatasetDict in
                var d = d
                if !d.fileName.hasPrefix("/") { d.fileName = (cwd as NSString).appendingPathComponent(d.fileName) }
                return d
            }
            return Part(name: name, dicts: absolute, classes: meta.thingClasses ?? [], idMap: idMap)
        }
        let t = try part(train, role: "train"), v = try part(valid, role: "valid")
        self.train = t
        self.valid = v
        text = JSON.text(.object([("train", Self.json(t)), ("valid", Self.json(v))]))
        hash = Digest.sha256(text)
    }

    init(text: String) throws {
        guard case .object(let top) = try JSON.parse(Array(text.utf8)),
              let t = top.first(where: { $0.0 == "train" })?.1, let v = top.first(where: { $0.0 == "valid" })?.1 else {
            throw DataError("the store's dataset snapshot is not readable")
        }
        train = try Self.part(t)
        valid = try Self.part(v)
        self.text = text
        hash = Digest.sha256(text)
    }

    static func json(_ p: Part) -> JSONValue {
        .object([
            ("name", .string(p.name)),
            ("classes", .array(p.classes.map { .string($0) })),
            ("id_map", p.idMap.map { m in .array(m.keys.sorted().map { .array([.int($0), .int(Int64(m[$0]!))]) }) } ?? .null),
            ("dicts", .array(p.dicts.map { d in
                .object([("file_name", .string(d.fileName)), ("height", .int(Int64(d.height))), ("width", .int(Int64(d.width))),
                         ("image_id", .int(d.imageID)),
                         ("annotations", .array(d.annotations.map { a in
                             .object([("bbox", .array(a.bbox.map { .double($0) })), ("bbox_mode", .int(Int64(a.bboxMode.rawValue))),
                                      ("category_id", .int(Int64(a.categoryID))), ("iscrowd", .int(Int64(a.isCrowd)))])
                         }))])
            })),
        ])
    }

    static func part(_ j: JSONValue) throws -> Part {
        func bad() -> DataError { DataError("the store's dataset snapshot is damaged") }
        guard let name = j["name"]?.string, let classes = j["classes"]?.array, let dicts = j["dicts"]?.array else { throw bad() }
        var idMap: [Int64: Int]?
        if let pairs = j["id_map"]?.array {
            var m: [Int64: Int] = [:]
            for p in pairs { guard let kv = p.array, kv.count == 2, let k = kv[0].integer, let v = kv[1].integer else { throw bad() }; m[k] = Int(v) }
            idMap = m
        }
        return Part(name: name, dicts: try dicts.map { d in
            guard let f = d["file_name"]?.string, let h = d["height"]?.integer, let w = d["width"]?.integer, let id = d["image_id"]?.integer,
                  let anns = d["annotations"]?.array else { throw bad() }
            return DatasetDict(fileName: f, height: Int(h), width: Int(w), imageID: id, annotations: try anns.map { a in
                guard let b = a["bbox"]?.array?.compactMap(\.number), let mode = a["bbox_mode"]?.integer.flatMap({ BoxMode(rawValue: Int($0)) }),
                      let c = a["category_id"]?.integer, let crowd = a["iscrowd"]?.integer else { throw bad() }
                return Annotation(bbox: b, bboxMode: mode, categoryID: Int(c), isCrowd: Int(crowd))
            })
        }, classes: try classes.map { guard let s = $0.string else { throw bad() }; return s }, idMap: idMap)
    }

    /// A catalog holding just these two datasets, under their names.
    func catalog() throws -> DataCatalog {
        let c = DataCatalog()
        for p in [train, valid] where !c.isRegistered(p.name) {
            let dicts = p.dicts
            try c.register(p.name) { dicts }
            let meta = c.metadata(p.name)
            if !p.classes.isEmpty { try meta.set("thing_classes", .strings(p.classes)) }
            if let m = p.idMap { try meta.set("thing_dataset_id_to_contiguous_id", .idMap(m)) }
        }
        return c
    }

    /// The classes the search scores: the validation set's, else the training set's.
    var classes: [String] { valid.classes.isEmpty ? train.classes : valid.classes }
}
