import Foundation
import Support

/// COCO instances JSON, read as Detectron2's load_coco_json reads it: categories sorted by id
/// and mapped to contiguous ids 0..K-1 (thing_classes in that order), images sorted by id,
/// annotations per image in file order with bbox in XYWH_ABS. Problems name the file and the id.
public enum COCO {
    public struct Category: Equatable, Sendable {
        public var id: Int64
        public var name: String
    }

    public struct Loaded: Sendable {
        public var dicts: [DatasetDict]
        public var categories: [Category]   // sorted by id
        public var idMap: [Int64: Int]       // dataset id -> contiguous id
        public var thingClasses: [String] { categories.map(\.name) }
    }

    public static func load(jsonFile: String, imageRoot: String) throws -> Loaded {
        let root = try JSON.parseFile(jsonFile)
        guard case .object = root else { throw DataError("\(jsonFile): the top level must be an object, found \(root.typeName)") }
        func list(_ key: String) throws -> [JSONValue] {
            guard let v = root[key] else { throw DataError("\(jsonFile): missing '\(key)' (a COCO instances file has images, annotations and categories)") }
            guard let a = v.array else { throw DataError("\(jsonFile): '\(key)' must be an array, found \(v.typeName)") }
            return a
        }
        let imagesJSON = try list("images"), annotationsJSON = try list("annotations"), categoriesJSON = try list("categories")

        // Categories: sorted by id; contiguous ids in that order.
        var categories: [Category] = []
        for (i, c) in categoriesJSON.enumerated() {
            guard let id = c["id"]?.integer else { throw DataError("\(jsonFile): categories[\(i)] has no integer 'id'") }
            guard let name = c["name"]?.string else { throw DataError("\(jsonFile): category \(id) has no string 'name'") }
            categories.append(Category(id: id, name: name))
        }
        categories.sort { $0.id < $1.id }
        for (a, b) in zip(categories, categories.dropFirst()) where a.id == b.id {
            throw DataError("\(jsonFile): category id \(a.id) appears twice ('\(a.name)' and '\(b.name)')")
        }
        if categories.isEmpty { DetectionLog.shared.warn("load_coco_json", "\(jsonFile): no categories") }
        var idsByName: [String: [Int64]] = [:]
        for c in categories { idsByName[c.name, default: []].append(c.id) }
        for (name, ids) in idsByName.sorted(by: { $0.key < $1.key }) where ids.count > 1 {
            DetectionLog.shared.warn("load_coco_json", "\(jsonFile): categories \(ids.map(String.init).joined(separator: ", ")) share the name '\(name)'; thing_classes will hold it \(ids.count) times and predictions cannot tell them apart")
        }
        var idMap: [Int64: Int] = [:]
        for (i, c) in categories.enumerated() { idMap[c.id] = i }

        // Images, keyed by id.
        struct ImageRecord { var fileName: String; var width: Int; var height: Int; var annotations: [Annotation] }
        var images: [Int64: ImageRecord] = [:]
        images.reserveCapacity(imagesJSON.count)
        for (i, im) in imagesJSON.enumerated() {
            guard let id = im["id"]?.integer else { throw DataError("\(jsonFile): images[\(i)] has no integer 'id'") }
            guard let file = im["file_name"]?.string else { throw DataError("\(jsonFile): image \(id) has no string 'file_name'") }
            guard !file.isEmpty else { throw DataError("\(jsonFile): image \(id) has an empty 'file_name'") }
            guard let w = im["width"]?.integer, let h = im["height"]?.integer else {
                throw DataError("\(jsonFile): image \(id) ('\(file)') needs integer 'width' and 'height'")
            }
            guard w > 0, h > 0 else { throw DataError("\(jsonFile): image \(id) ('\(file)') has size \(w)x\(h)") }
            guard images[id] == nil else { throw DataError("\(jsonFile): image id \(id) appears twice") }
            images[id] = ImageRecord(fileName: file, width: Int(w), height: Int(h), annotations: [])
        }

        // Annotations.
        var seenAnnotationIDs = Set<Int64>()
        seenAnnotationIDs.reserveCapacity(annotationsJSON.count)
        var unmatched = 0
        var warnings = 0
        func warn(_ message: String) {
            warnings += 1
            if warnings <= 20 { DetectionLog.shared.warn("load_coco_json", "\(jsonFile): \(message)") }
        }
        for (i, a) in annotationsJSON.enumerated() {
            let annID = a["id"]?.integer
            let label = annID.map { "annotation \($0)" } ?? "annotations[\(i)]"
            if let annID {
                guard seenAnnotationIDs.insert(annID).inserted else { throw DataError("\(jsonFile): annotation ids are not unique: \(annID) appears twice") }
            }
            guard let imageID = a["image_id"]?.integer else { throw DataError("\(jsonFile): \(label) has no integer 'image_id'") }
            if let ignore = a["ignore"], ignore.integer ?? 0 != 0 || ignore == .bool(true) {
                throw DataError("\(jsonFile): \(label) has \"ignore\": 1, which Detectron2 does not support")
            }
            guard let bboxJSON = a["bbox"] else { throw DataError("\(jsonFile): \(label) has no 'bbox'") }
            guard let parts = bboxJSON.array else { throw DataError("\(jsonFile): \(label): 'bbox' must be [x, y, w, h], found \(bboxJSON.typeName)") }
            guard !parts.isEmpty else { throw DataError("\(jsonFile): \(label) has an empty 'bbox' (one of the annotations has no box)") }
            let bbox = parts.compactMap(\.number)
            guard parts.count == 4, bbox.count == 4, bbox.allSatisfy({ $0.isFinite }) else {
                throw DataError("\(jsonFile): \(label): 'bbox' must be 4 finite numbers [x, y, w, h]")
            }
            // Beyond ten million pixels a box is corrupt data, not a box outside its image.
            guard bbox.allSatisfy({ abs($0) <= 1e7 }) else {
                throw DataError("\(jsonFile): \(label): 'bbox' [\(bbox.map { "\($0)" }.joined(separator: ", "))] is beyond ten million pixels; the file is corrupt")
            }
            guard let categoryJSON = a["category_id"], let datasetCategory = categoryJSON.integer else {
                throw DataError("\(jsonFile): \(label) has no integer 'category_id'")
            }
            guard let contiguous = idMap[datasetCategory] else {
                throw DataError("\(jsonFile): \(label): Encountered category_id=\(datasetCategory) but this id does not exist in 'categories' of the json file.")
            }
            if let area = a["area"], area != .null, area.number == nil {
                warn("\(label): 'area' is \(area.typeName), not a number; COCO evaluation will refuse it")
            }
            var crowd = 0
            switch a["iscrowd"] {
            case nil, .null?: crowd = 0
            case .bool(let b)?:
                crowd = b ? 1 : 0
                warn("\(label): iscrowd is a boolean (\(b)); read as \(crowd)")
            case let v?:
                guard let c = v.integer, c == 0 || c == 1 else { throw DataError("\(jsonFile): \(label): 'iscrowd' must be 0 or 1") }
                crowd = Int(c)
            }
            guard images[imageID] != nil else {
                unmatched += 1
                continue
            }
            let record = images[imageID]!
            if bbox[2] <= 0 || bbox[3] <= 0 {
                warn("\(label) (image \(imageID)) has an empty box [\(bbox.map { "\($0)" }.joined(separator: ", "))]; training drops it")
            } else if bbox[0] < -1 || bbox[1] < -1 || bbox[0] + bbox[2] > Double(record.width) + 1 || bbox[1] + bbox[3] > Double(record.height) + 1 {
                warn("\(label) (image \(imageID), \(record.width)x\(record.height)) has a box outside the image; it is clipped when used")
            }
            images[imageID]!.annotations.append(Annotation(bbox: bbox, bboxMode: .xywhAbs, categoryID: contiguous, isCrowd: crowd, id: annID))
        }
        if unmatched > 0 {
            DetectionLog.shared.warn("load_coco_json", "\(jsonFile) contains \(annotationsJSON.count) annotations, but only \(annotationsJSON.count - unmatched) of them match to images in the file.")
        }
        if warnings > 20 { DetectionLog.shared.warn("load_coco_json", "\(jsonFile): \(warnings - 20) more warnings like these") }

        var isFolder: ObjCBool = false
        if !imageRoot.isEmpty && !(FileManager.default.fileExists(atPath: imageRoot, isDirectory: &isFolder) && isFolder.boolValue) {
            DetectionLog.shared.warn("load_coco_json", "\(jsonFile): the image root '\(imageRoot)' is \(FileManager.default.fileExists(atPath: imageRoot) ? "not a folder" : "missing"); its images cannot be read")
        }
        let dicts = images.keys.sorted().map { id -> DatasetDict in
            let r = images[id]!
            return DatasetDict(fileName: imageRoot.isEmpty ? r.fileName : (imageRoot as NSString).appendingPathComponent(r.fileName),
                               height: r.height, width: r.width, imageID: id, annotations: r.annotations)
        }
        return Loaded(dicts: dicts, categories: categories, idMap: idMap)
    }

    /// Detectron2's load_coco_json(json_file, image_root, dataset_name): loads, and when a name
    /// is given records thing_classes and thing_dataset_id_to_contiguous_id in its metadata.
    public static func loadJSON(_ jsonFile: String, imageRoot: String, datasetName: String? = nil,
                                catalog: DataCatalog = .shared) throws -> [DatasetDict] {
        let loaded = try load(jsonFile: jsonFile, imageRoot: imageRoot)
        if let datasetName {
            let meta = catalog.metadata(datasetName)
            for (key, value) in [("thing_classes", MetadataValue.strings(loaded.thingClasses)),
                                 ("thing_dataset_id_to_contiguous_id", .idMap(loaded.idMap))] {
                // A value given at registration (or set since) that the file contradicts: both named.
                if let given = meta.stored(key), given != value {
                    throw DataError("metadata '\(key)' of '\(datasetName)' is \(given), but \(jsonFile) gives \(value) (its categories); "
                                    + "register with the classes of this file, or leave '\(key)' out and it is read from the file")
                }
                try meta.set(key, value)
            }
        }
        return loaded.dicts
    }

    /// register_coco_instances: registers a lazy loader and sets json_file, image_root,
    /// evaluator_type "coco" and the given metadata.
    public static func registerInstances(_ name: String, metadata: [String: MetadataValue], jsonFile: String, imageRoot: String,
                                         catalog: DataCatalog = .shared) throws {
        try catalog.register(name) { try loadJSON(jsonFile, imageRoot: imageRoot, datasetName: name, catalog: catalog) }
        let meta = catalog.metadata(name)
        try meta.set("json_file", .string(jsonFile))
        try meta.set("image_root", .string(imageRoot))
        try meta.set("evaluator_type", .string("coco"))
        for (k, v) in metadata { try meta.set(k, v) }
        // thing_classes are known once the file is read; reading them reads it.
        meta.lazyFill = { _ in _ = try catalog.get(name) }
    }
}

extension Array where Element == DatasetDict {
    /// Images, annotations per class, images without annotations and the box-size distribution.
    public func summary(classes: [String]?) -> String {
        var perClass: [Int: Int] = [:]
        var crowd = 0, empty = 0
        var areas: [Double] = []
        for d in self {
            if d.annotations.filter({ $0.isCrowd == 0 }).isEmpty { empty += 1 }
            for a in d.annotations {
                if a.isCrowd != 0 { crowd += 1 }
                perClass[a.categoryID, default: 0] += 1
                let b = a.xyxy
                areas.append(Swift.max(0, b[2] - b[0]) * Swift.max(0, b[3] - b[1]))
            }
        }
        let total = perClass.values.reduce(0, +)
        var lines = ["\(count) images, \(total) annotations (\(crowd) crowd), \(empty) images without (non-crowd) annotations"]
        let ids = Set(perClass.keys).union(0..<(classes?.count ?? 0)).sorted()
        for id in ids {
            let name = classes.flatMap { id < $0.count ? $0[id] : nil } ?? "class \(id)"
            lines.append("  \(name): \(perClass[id] ?? 0)")
        }
        if !areas.isEmpty {
            // COCO's size buckets (area in pixels): small < 32^2 <= medium < 96^2 <= large.
            let small = areas.filter { $0 < 32 * 32 }.count, large = areas.filter { $0 >= 96 * 96 }.count
            let sides = areas.map { $0.squareRoot() }.sorted()
            func q(_ p: Double) -> String { String(format: "%.0f", sides[Swift.min(sides.count - 1, Int(p * Double(sides.count - 1)))]) }
            lines.append("  box sizes (sqrt of area): min \(q(0)), median \(q(0.5)), max \(q(1)); small \(small), medium \(areas.count - small - large), large \(large)")
        }
        return lines.joined(separator: "\n")
    }
}
