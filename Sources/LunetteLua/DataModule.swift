import CLua
import Detection
import Foundation
import LuaHost
import Support
import Torch

/// A list of dataset dicts as Lua sees it: #ds, ds[i] (a dict table), ipairs, and a summary
/// when printed.
final class DatasetList {
    let name: String?
    let dicts: [DatasetDict]
    let classes: [String]?
    init(name: String?, dicts: [DatasetDict], classes: [String]?) {
        self.name = name
        self.dicts = dicts
        self.classes = classes
    }
}

/// A training or test loader as Lua sees it.
final class LoaderObject {
    let train: TrainLoader?
    let test: TestLoader?
    init(train: TrainLoader? = nil, test: TestLoader? = nil) {
        self.train = train
        self.test = test
    }
}

/// Metadata as Lua sees it: fields read and (once) written like attributes.
final class MetadataObject {
    let metadata: Metadata
    init(_ m: Metadata) { metadata = m }
}

/// The `detectron2.data` module: catalogs, COCO registration and loaders.
extension LunetteBindings {
    /// A loader's next batch as Lua sees it: a list of mapped dicts (one per batch for a test
    /// loader), nil after a test loader's last image.
    static func nextBatch(_ l: LoaderObject) throws -> LuaValue {
        if let t = l.train { return .table(LuaTable(array: try t.next().map(sampleToLua))) }
        guard let s = try l.test!.next() else { return .nil }
        return .table(LuaTable(array: [sampleToLua(s)]))
    }

    static func dictToLua(_ d: DatasetDict) -> LuaValue {
        var t = LuaTable()
        t.hash[.string("file_name")] = .string(d.fileName)
        t.hash[.string("height")] = .integer(Int64(d.height))
        t.hash[.string("width")] = .integer(Int64(d.width))
        t.hash[.string("image_id")] = .integer(d.imageID)
        t.hash[.string("annotations")] = .table(LuaTable(array: d.annotations.map { a in
            var at = LuaTable()
            at.hash[.string("bbox")] = .table(LuaTable(array: a.bbox.map { .number($0) }))
            at.hash[.string("bbox_mode")] = .integer(Int64(a.bboxMode.rawValue))
            at.hash[.string("category_id")] = .integer(Int64(a.categoryID))
            at.hash[.string("iscrowd")] = .integer(Int64(a.isCrowd))
            return .table(at)
        }))
        return .table(t)
    }

    /// Dicts made in Lua (DatasetCatalog.register with a function) back to Swift, checked.
    static func dictsFromLua(_ value: LuaValue, source: String) throws -> [DatasetDict] {
        let items = try [LuaValue].decode(value, at: source)
        return try items.enumerated().map { i, item in
            let path = "\(source)[\(i + 1)]"
            let d = try [String: LuaValue].decode(item, at: path)
            func need<T: LuaDecodable>(_ key: String, _ type: T.Type) throws -> T {
                guard let v = d[key] else { throw LuaError.message("\(path) has no '\(key)'") }
                return try T.decode(v, at: "\(path).\(key)")
            }
            let annotations = try (d["annotations"].map { try [LuaValue].decode($0, at: "\(path).annotations") } ?? []).enumerated().map { j, a -> Annotation in
                let ap = "\(path).annotations[\(j + 1)]"
                let at = try [String: LuaValue].decode(a, at: ap)
                guard let bv = at["bbox"] else { throw LuaError.message("\(ap) has no 'bbox'") }
                let bbox = try [Double].decode(bv, at: "\(ap).bbox")
                guard bbox.count == 4 else { throw LuaError.message("\(ap).bbox must have 4 numbers, has \(bbox.count)") }
                // The same rule as COCO JSON: finite, and within ten million pixels.
                guard bbox.allSatisfy({ $0.isFinite && abs($0) <= 1e7 }) else {
                    throw LuaError.message("\(ap).bbox \(bbox) must be 4 finite numbers within ten million pixels")
                }
                let mode = try at["bbox_mode"].map { try Int.decode($0, at: "\(ap).bbox_mode") } ?? 1
                guard let m = BoxMode(rawValue: mode) else { throw LuaError.message("\(ap).bbox_mode must be 0 (XYXY_ABS) or 1 (XYWH_ABS)") }
                guard let cv = at["category_id"] else { throw LuaError.message("\(ap) has no 'category_id'") }
                return Annotation(bbox: bbox, bboxMode: m, categoryID: try Int.decode(cv, at: "\(ap).category_id"),
                                  isCrowd: try at["iscrowd"].map { try Int.decode($0, at: "\(ap).iscrowd") } ?? 0)
            }
            // The same rules as COCO JSON: a file name, and a size of at least one pixel each way.
            let fileName = try need("file_name", String.self)
            guard !fileName.isEmpty else { throw LuaError.message("\(path).file_name is empty") }
            let height = try need("height", Int.self), width = try need("width", Int.self)
            guard height > 0, width > 0 else { throw LuaError.message("\(path) has size \(width)x\(height) (width x height); both must be positive") }
            return DatasetDict(fileName: fileName, height: height, width: width, imageID: Int64(try need("image_id", Int.self)), annotations: annotations)
        }
    }

    static func stringAt(_ call: LuaCall, _ idx: Int32) -> String? {
        call.type(idx) == LUA_TSTRING ? try? call.string(idx) : nil
    }

    static func metadataToLua(_ v: MetadataValue) -> LuaValue {
        switch v {
        case .string(let s): return .string(s)
        case .number(let d): return .number(d)
        case .bool(let b): return .boolean(b)
        case .strings(let a): return .table(LuaTable(array: a.map { .string($0) }, kind: .array))
        case .idMap(let m):
            // Marked as a map: {[1] = 0, [2] = 1} prints with its keys and comes back as a map.
            var t = LuaTable(kind: .map)
            for (k, v) in m { t.hash[.integer(k)] = .integer(Int64(v)) }
            return .table(t)
        }
    }

    /// A metadata value from Lua. A table is a list of names (thing_classes) or a map of integer
    /// ids to integers (thing_dataset_id_to_contiguous_id), told apart by its values, so a map
    /// read back from another dataset's metadata (whose keys may be 1..n) passes as a map.
    static func metadataFromLua(_ v: LuaValue, key: String) throws -> MetadataValue {
        switch v {
        case .string(let s): return .string(s)
        case .number(let d): return .number(d)
        case .integer(let i): return .number(Double(i))
        case .boolean(let b): return .bool(b)
        case .table(let t):
            let isIDMapKey = key.hasSuffix("_to_contiguous_id")
            if t.isEmpty { return isIDMapKey || t.kind == .map ? .idMap([:]) : .strings([]) }
            let entries = t.array.enumerated().map { (LuaKey.integer(Int64($0.offset + 1)), $0.element) } + t.hash.map { ($0.key, $0.value) }
            if t.kind != .map, t.hash.isEmpty, !isIDMapKey, t.array.allSatisfy({ if case .string = $0 { return true }; return false }) {
                return .strings(try [String].decode(v, at: key))
            }
            if let k = t.hash.keys.sorted().first(where: { if case .integer = $0 { return false }; return true }) {
                throw LuaError.message("metadata '\(key)': key \(k) is not an integer; a table is a list of strings or a map of integer ids to integers")
            }
            var m: [Int64: Int] = [:]
            for (k, x) in entries {
                guard case .integer(let i) = k else { continue }
                guard let value = try? Int.decode(x, at: "\(key)[\(i)]") else {
                    throw LuaError.message("metadata '\(key)'[\(i)] is \(x.typeName == "number" ? x.description : "a \(x.typeName)"); a table is a list of strings or a map of integer ids to integers")
                }
                m[i] = value
            }
            return .idMap(m)
        default:
            throw LuaError.message("metadata '\(key)' must be a string, number, boolean, list of strings or integer map, got \(v.typeName)")
        }
    }

    /// Reads Detectron2 config keys from a Lua table shaped like cfg (cfg.INPUT.MIN_SIZE_TRAIN, ...).
    /// The loader settings of a CfgNode, or of a plain table shaped like one ({INPUT = {MIN_SIZE_TEST
    /// = 512}, ...}): the table's keys are set on Detectron2's defaults, type-checked as
    /// assignments are, so both read through the one LoaderSettings(cfg:).
    static func loaderSettings(_ cfgValue: LuaValue) throws -> (LoaderSettings, train: [String], test: [String]) {
        let node: CfgNode
        if case .object(let o) = cfgValue, let n = o as? CfgNode {
            node = n
        } else if case .table(let t) = cfgValue {
            node = CfgNode.defaults()
            try setKeys(t, prefix: "", on: node)
        } else {
            throw LuaError.message("cfg must be a CfgNode (get_cfg()) or a table shaped like one, not a \(cfgValue.typeName)")
        }
        return (try LoaderSettings(cfg: node), try node.strings("DATASETS.TRAIN"), try node.strings("DATASETS.TEST"))
    }

    /// Sets every leaf of a nested Lua table on `node` (dotted keys from the nesting).
    private static func setKeys(_ table: LuaTable, prefix: String, on node: CfgNode) throws {
        guard table.array.isEmpty else { throw LuaError.message("cfg\(prefix.isEmpty ? "" : "." + prefix) is a list; config nodes are tables with keys") }
        for (k, v) in table.hash {
            guard case .string(let name) = k else { throw LuaError.message("cfg\(prefix.isEmpty ? "" : "." + prefix): key \(k) is not a string") }
            let key = prefix.isEmpty ? name : prefix + "." + name
            if case .table(let inner) = v, !inner.hash.isEmpty {
                try setKeys(inner, prefix: key, on: node)
            } else {
                try node.set(key, try cfgFromLua(v, key: key), coerceIntToFloat: true)
            }
        }
    }

    static func sampleToLua(_ s: MappedSample) -> LuaValue {
        var t = LuaTable()
        t.hash[.string("image")] = .object(s.image)
        t.hash[.string("height")] = .integer(Int64(s.height))
        t.hash[.string("width")] = .integer(Int64(s.width))
        t.hash[.string("image_id")] = .integer(s.imageID)
        t.hash[.string("file_name")] = .string(s.fileName)
        if let boxes = s.gtBoxes, let classes = s.gtClasses {
            var inst = LuaTable()
            inst.hash[.string("gt_boxes")] = .object(boxes)
            inst.hash[.string("gt_classes")] = .object(classes)
            t.hash[.string("instances")] = .table(inst)
        }
        return .table(t)
    }

    static func installDataModule(in state: LuaState) throws {
        try registerDatasetClass(in: state)
        try registerMetadataClass(in: state)
        try registerLoaderClass(in: state)
        try registerDataModule(in: state)
    }

    static func registerDatasetClass(in state: LuaState) throws {
        try state.defineClass(DatasetList.self, name: "detectron2.data.Dataset", doc: "Dataset dicts: #ds, ds[i], ipairs(ds); printing gives a summary.") { c in
            c.tostring { ds in
                (ds.name.map { "Dataset '\($0)': " } ?? "Dataset: ") + ds.dicts.summary(classes: ds.classes)
            }
            c.metamethod("__len", nil, doc: "#ds: the number of images") { ds, call in call.push(ds.dicts.count) }
            c.indexer(doc: "ds[i]: the i-th dict (1-based) as a table", get: { ds, call in
                let i = try call.integer(2)
                guard i >= 1 && i <= ds.dicts.count else { return call.pushNil() }
                return call.push(dictToLua(ds.dicts[i - 1]))
            })
            c.method("summary", [], returns: "string", doc: "Images, annotations per class, images without annotations, box sizes.") { ds, call in
                call.push(ds.dicts.summary(classes: ds.classes))
            }
        }
    }

    /// Reading thing_classes from the metadata of a name no dataset was registered under (a typo,
    /// usually) gives nil, as Detectron2; it warns once per name, naming the registered ones.
    static func warnUnregistered(_ m: Metadata, key: String) {
        guard key.hasPrefix("thing_"), !DataCatalog.shared.isRegistered(m.name), warnedMetadata.insert(m.name).inserted else { return }
        let names = DataCatalog.shared.names
        DetectionLog.shared.warn("MetadataCatalog", "'\(m.name)' is not a registered dataset, so its \(key) is nil\(Suggestion.hint(for: m.name, among: names))"
                                 + (names.isEmpty ? " (no dataset is registered)" : " (registered: \(names.joined(separator: ", ")))"))
    }

    nonisolated(unsafe) static var warnedMetadata = Set<String>()

    static func registerMetadataClass(in state: LuaState) throws {
        try state.defineClass(MetadataObject.self, name: "detectron2.data.Metadata", doc: "A dataset's metadata: meta.thing_classes, meta.json_file, ...; each key is set once.") { c in
            c.tostring { m in
                "Metadata(name='\(m.metadata.name)', " + m.metadata.keys.map { "\($0)=\((try? m.metadata.get($0)).flatMap { $0 }?.description ?? "")" }.joined(separator: ", ") + ")"
            }
            c.property("name", type: "string", doc: "The dataset's name.") { m, call in call.push(m.metadata.name) }
            c.completions { m in Array(Set(m.metadata.keys).union(["thing_classes", "thing_dataset_id_to_contiguous_id", "json_file", "image_root", "evaluator_type"])).sorted() }
            c.method("get", [LuaParameter("key", .string), LuaParameter("default", .any, optional: true)], returns: "value",
                     doc: "A key's value, or default.") { m, call in
                if let v = try m.metadata.get(try call.string(2)) { return call.push(metadataToLua(v)) }
                lua_pushvalue(call.L, 3)
                return 1
            }
            c.method("set", [LuaParameter("values", .table)], returns: "Metadata", doc: "Sets several keys: meta:set{thing_classes = {...}}.") { m, call in
                for (k, v) in try call.decode([String: LuaValue].self, 2) { try m.metadata.set(k, try metadataFromLua(v, key: k)) }
                return call.push(object: m)
            }
            c.indexer(doc: "meta.key reads a key (nil when unset); meta.key = value sets it once", includingNames: true, get: { m, call in
                guard let key = stringAt(call, 2) else { return call.pushNil() }
                guard let v = try m.metadata.get(key) else {
                    warnUnregistered(m.metadata, key: key)
                    return call.pushNil()
                }
                return call.push(metadataToLua(v))
            }, set: { m, call in
                guard let key = stringAt(call, 2) else { throw LuaError.message("metadata keys are strings") }
                try m.metadata.set(key, try metadataFromLua(try call.value(3), key: key))
            })
        }
    }

    static func registerLoaderClass(in state: LuaState) throws {
        try state.defineClass(LoaderObject.self, name: "detectron2.data.Loader", doc: "A data loader: loader:next() gives a batch (a list of mapped dicts); `for batch in loader do` iterates.") { c in
            c.method("next", [], returns: "table or nil", doc: "The next batch; nil after the last image of a test loader.") { l, call in
                call.push(try nextBatch(l))
            }
            c.metamethod("__call", nil, doc: "for batch in loader do ... end") { l, call in call.push(try nextBatch(l)) }
            c.metamethod("__len", nil, doc: "#loader: images in a test loader") { l, call in call.push(l.test?.count ?? l.train!.dicts.count) }
            c.property("skipped", type: "integer", doc: "Images skipped as unreadable so far.") { l, call in
                call.push(l.train?.skippedImages ?? l.test!.skippedImages)
            }
            c.method("close", [], doc: "Stops the background workers.") { l, call in
                l.train?.close()
                l.test?.close()
                return 0
            }
        }

    }

    static func registerDataModule(in state: LuaState) throws {
        let catalog = DataCatalog.shared
        try state.defineModule("detectron2.data", doc: "Datasets, catalogs and loaders, as detectron2.data.") { m in
            m.submodule("DatasetCatalog", doc: "Registered datasets: a name registers once; get() loads on first use.") { dc in
                dc.function("get", [LuaParameter("name", .string)], returns: "Dataset", doc: "The dataset dicts of a registered name.") { call in
                    let name = try call.string(1)
                    let dicts = try catalog.get(name)
                    return call.push(object: DatasetList(name: name, dicts: dicts, classes: catalog.metadata(name).thingClasses))
                }
                dc.function("register", [LuaParameter("name", .string), LuaParameter("loader", .function)],
                            doc: "Registers a function returning a list of dataset dicts (called on first get).") { call in
                    let name = try call.string(1)
                    let f = try call.function(2)
                    let state = call.state
                    try catalog.register(name) {
                        let r = try state.call(f, [])
                        return try dictsFromLua(r.first ?? .nil, source: "dataset '\(name)'")
                    }
                    return 0
                }
                dc.function("list", [], returns: "table", doc: "Registered names, sorted.") { call in call.push(catalog.names) }
                dc.function("remove", [LuaParameter("name", .string)], doc: "Forgets a dataset (so the name can be registered again).") { call in
                    catalog.remove(try call.string(1))
                    return 0
                }
            }
            m.submodule("MetadataCatalog", doc: "Per-dataset metadata (thing_classes, json_file, ...).") { mc in
                mc.function("get", [LuaParameter("name", .string)], returns: "Metadata", doc: "The metadata of a name (created empty on first use).") { call in
                    call.push(object: MetadataObject(catalog.metadata(try call.string(1))))
                }
                mc.function("remove", [LuaParameter("name", .string)], doc: "Forgets a dataset's metadata.") { call in
                    catalog.removeMetadata(try call.string(1))
                    return 0
                }
            }
            m.submodule("datasets", doc: "Dataset registration helpers.") { ds in
                ds.function("register_coco_instances", [LuaParameter("name", .string), LuaParameter("metadata", .table),
                                                        LuaParameter("json_file", .string), LuaParameter("image_root", .string)],
                            doc: "Registers a COCO instances JSON and its image folder under a name (read lazily on first use).") { call in
                    var meta: [String: MetadataValue] = [:]
                    for (k, v) in try call.decode([String: LuaValue].self, 2) { meta[k] = try metadataFromLua(v, key: k) }
                    try COCO.registerInstances(try call.string(1), metadata: meta, jsonFile: try call.string(3), imageRoot: try call.string(4))
                    return 0
                }
                ds.function("load_coco_json", [LuaParameter("json_file", .string), LuaParameter("image_root", .string),
                                               LuaParameter("dataset_name", .string, optional: true)], returns: "Dataset",
                            doc: "Reads a COCO instances JSON into dataset dicts (with a name, also sets its thing_classes).") { call in
                    let name = try call.optionalString(3)
                    let loaded = try COCO.load(jsonFile: try call.string(1), imageRoot: try call.string(2))
                    if let name {
                        try catalog.metadata(name).set("thing_classes", .strings(loaded.thingClasses))
                        try catalog.metadata(name).set("thing_dataset_id_to_contiguous_id", .idMap(loaded.idMap))
                    }
                    return call.push(object: DatasetList(name: name, dicts: loaded.dicts, classes: loaded.thingClasses))
                }
            }
            m.function("build_detection_train_loader", [LuaParameter("cfg", .tableOr("detectron2.config.CfgNode")), LuaParameter("options", .table, optional: true)],
                       returns: "Loader", doc: "Endless shuffled batches of SOLVER.IMS_PER_BATCH from DATASETS.TRAIN, resized and flipped as INPUT says, decoded on DATALOADER.NUM_WORKERS threads; options {skip_unreadable = true}.") { call in
                var (settings, train, _) = try loaderSettings(try call.value(1))
                if case .boolean(let b)? = try call.options(2, allowed: ["skip_unreadable"])["skip_unreadable"] { settings.skipUnreadable = b }
                guard !train.isEmpty else { throw call.argumentError(1, "cfg.DATASETS.TRAIN names no dataset") }
                var dicts: [DatasetDict] = []
                for name in train {
                    let d = try catalog.get(name)
                    guard !d.isEmpty else { throw LuaError.message("Dataset '\(name)' is empty!") }
                    dicts += d
                }
                return call.push(object: LoaderObject(train: try TrainLoader(dicts: dicts, settings: settings)))
            }
            m.function("build_detection_test_loader", [LuaParameter("cfg", .tableOr("detectron2.config.CfgNode")), LuaParameter("dataset_name", .string),
                                                       LuaParameter("options", .table, optional: true)],
                       returns: "Loader", doc: "Every image of a dataset in order, one per batch, resized to INPUT.MIN_SIZE_TEST; options {skip_unreadable = true}.") { call in
                var (settings, _, _) = try loaderSettings(try call.value(1))
                if case .boolean(let b)? = try call.options(3, allowed: ["skip_unreadable"])["skip_unreadable"] { settings.skipUnreadable = b }
                return call.push(object: LoaderObject(test: try TestLoader(dicts: try catalog.get(try call.string(2)), settings: settings)))
            }
        }
    }
}
