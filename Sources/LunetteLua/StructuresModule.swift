import CLua
import Detection
import Foundation
import LuaHost
import Torch

/// Detectron2's Instances as Lua sees it: the fields pred_boxes (Boxes), scores and
/// pred_classes (tensors), and, beyond Detectron2, a list of detections (#instances,
/// instances[i], ipairs) whose items carry the class name. `classes` are the names the labels
/// come from (the dataset's thing_classes), where they are known.
final class InstancesObject {
    let instances: Instances
    let classes: [String]?
    init(_ instances: Instances, classes: [String]?) {
        self.instances = instances
        self.classes = classes
    }

    /// The name of a 0-based class id, where the names are known and hold it.
    func label(_ id: Int) -> String? {
        guard let classes, id >= 0, id < classes.count else { return nil }
        return classes[id]
    }
}

/// Detectron2's Boxes: an (N, 4) XYXY tensor; ipairs gives its rows.
final class BoxesObject {
    let boxes: Boxes
    init(_ boxes: Boxes) { self.boxes = boxes }
}

extension LunetteBindings {
    static let instancesClass = "detectron2.structures.Instances"
    static let boxesClass = "detectron2.structures.Boxes"

    /// The one idiom that maps 0-based class ids to names, shown by help(Instances) and the README.
    static let classNameIdiom = "meta.thing_classes[cls + 1] (ids are 0-based, Lua lists 1-based); det.label already holds the name"

    /// Class names from a Metadata object or a table with thing_classes (or a plain list of names).
    static func classNames(_ call: LuaCall, _ idx: Int32) throws -> [String] {
        if let m = try? call.object(MetadataObject.self, idx) {
            guard let names = m.metadata.thingClasses else {
                throw call.argumentError(idx, "metadata '\(m.metadata.name)' has no thing_classes\(registeredNamesHint())")
            }
            return names
        }
        guard case .table(let t) = try call.value(idx) else { throw call.argumentError(idx, "metadata (MetadataCatalog.get(name)) or a list of class names") }
        if let tc = t["thing_classes"] { return try [String].decode(tc, at: "thing_classes") }
        return try [String].decode(.table(t), at: "class names")
    }

    /// "; registered: a, b" (or that none is), for messages about a name that has no metadata.
    static func registeredNamesHint() -> String {
        let names = DataCatalog.shared.names
        return names.isEmpty ? "; no dataset is registered" : "; registered datasets: \(names.joined(separator: ", "))"
    }

    /// One detection as a table: {box = {x1, y1, x2, y2}, score, class, label}.
    static func detectionToLua(_ o: InstancesObject, _ i: Int) throws -> LuaValue {
        let (boxes, scores, ids) = try o.instances.asLists()
        var t = LuaTable()
        t.hash[.string("box")] = .table(LuaTable(array: boxes[i].map { .number($0) }))
        t.hash[.string("score")] = .number(scores[i])
        t.hash[.string("class")] = .integer(Int64(ids[i]))
        if let label = o.label(ids[i]) { t.hash[.string("label")] = .string(label) }
        return .table(t)
    }

    /// Detectron2's repr: Instances(num_instances=2, image_height=480, image_width=640, fields=[...]).
    static func describe(_ o: InstancesObject) -> String {
        let inst = o.instances
        var text = "Instances(num_instances=\(inst.count), image_height=\(inst.imageSize.0), image_width=\(inst.imageSize.1), fields=[pred_boxes, scores, pred_classes])"
        guard inst.count > 0, let (boxes, scores, ids) = try? inst.asLists() else { return text }
        let shown = min(inst.count, 10)
        for i in 0..<shown {
            let label = o.label(ids[i])
            let box = boxes[i].map { String(format: "%.1f", $0) }.joined(separator: ", ")
            text += "\n  [\(i + 1)] class \(ids[i])\(label.map { " (\($0))" } ?? "")  score \(String(format: "%.3f", scores[i]))  box {\(box)}"
        }
        if inst.count > shown { text += "\n  ... \(inst.count - shown) more" }
        return text
    }

    static func installStructuresModule(in state: LuaState) throws {
        try registerBoxesClass(in: state)
        try registerInstancesClass(in: state)
        try registerStructuresModule(in: state)
    }

    static func registerBoxesClass(in state: LuaState) throws {
        try state.defineClass(BoxesObject.self, name: boxesClass,
                              doc: "Detectron2's Boxes: boxes.tensor is (N, 4) XYXY; #boxes, boxes[i] (a 4-element tensor row, 1-based) and ipairs(boxes) as iterating in Python.") { c in
            c.tostring { b in "Boxes(\(b.boxes.count) boxes)\n" + b.boxes.tensor.description }
            c.property("tensor", type: "Tensor", doc: "The (N, 4) XYXY tensor.") { b, call in call.push(object: b.boxes.tensor) }
            c.property("device", type: "string", doc: "Where the boxes are.") { b, call in call.push(b.boxes.tensor.device.description) }
            c.metamethod("__len", nil, doc: "#boxes: the number of boxes") { b, call in call.push(b.boxes.count) }
            c.indexer(doc: "boxes[i]: the i-th box (1-based) as a 4-element tensor; boxes[mask or index tensor]: the Boxes it selects", get: { b, call in
                if let key = try? call.object(Tensor.self, 2) { return call.push(object: BoxesObject(try b.boxes.index(key))) }
                let i = try call.integer(2)
                guard i >= 1 && i <= b.boxes.count else { return call.pushNil() }
                return call.push(object: try b.boxes.tensor.select(0, i - 1))
            })
            c.method("area", [], returns: "Tensor", doc: "(x2 - x1) * (y2 - y1) per box.") { b, call in call.push(object: try b.boxes.area()) }
            c.method("clip", [LuaParameter("image_size", .table)], returns: "Boxes",
                     doc: "The boxes clamped to an image: clip{height, width} (Detectron2 clips in place; this returns the clipped copy).") { b, call in
                let size = try call.decode([Int].self, 2)
                guard size.count == 2, size[0] > 0, size[1] > 0 else { throw call.argumentError(2, "image_size is {height, width}, both positive") }
                return call.push(object: BoxesObject(try b.boxes.clipped(height: size[0], width: size[1])))
            }
            c.method("nonempty", [LuaParameter("threshold", .number, optional: true)], returns: "Tensor",
                     doc: "A bool mask of the boxes wider and taller than threshold (default 0).") { b, call in
                call.push(object: try b.boxes.nonempty(threshold: try call.optionalNumber(2) ?? 0))
            }
            c.method("get_centers", [], returns: "Tensor", doc: "The (N, 2) box centres (x, y).") { b, call in
                let t = b.boxes.tensor
                let x = try (t.select(1, 0) + t.select(1, 2)) * 0.5, y = try (t.select(1, 1) + t.select(1, 3)) * 0.5
                return call.push(object: try Tensor.stack([x, y], dim: 1))
            }
            c.method("to", [LuaParameter("device", .string)], returns: "Boxes", doc: "The boxes on a device (\"cpu\", \"cuda\").") { b, call in
                call.push(object: BoxesObject(Boxes(try b.boxes.tensor.to(device: try Device(parsing: try call.string(2))))))
            }
            c.method("tolist", [], returns: "table", doc: "The boxes as a Lua list of {x1, y1, x2, y2}.") { b, call in
                call.push(try tensorToLua(b.boxes.tensor))
            }
        }
    }

    static func registerInstancesClass(in state: LuaState) throws {
        try state.defineClass(InstancesObject.self, name: instancesClass, doc: """
            Detectron2's Instances: predictor(img).instances. Fields as in Detectron2: pred_boxes (Boxes), scores and pred_classes (tensors; ids 0-based). \
            Also a list: #instances, instances[i] = {box = {x1, y1, x2, y2}, score, class, label}, ipairs(instances); instances[mask] selects. \
            Class names: \(classNameIdiom), or instances:labels(meta).
            """) { c in
            c.tostring(describe)
            c.property("pred_boxes", type: "Boxes", doc: "The boxes, XYXY in the image's pixels (pred_boxes.tensor is (N, 4)).") { o, call in
                call.push(object: BoxesObject(o.instances.boxes))
            }
            c.property("scores", type: "Tensor", doc: "Confidence per detection (N), descending.") { o, call in call.push(object: o.instances.scores) }
            c.property("pred_classes", type: "Tensor", doc: "0-based class id per detection (N, int64): \(classNameIdiom).") { o, call in
                call.push(object: o.instances.classes)
            }
            c.property("image_size", type: "table", doc: "{height, width} the boxes refer to.") { o, call in
                call.push(.table(LuaTable(array: [.integer(Int64(o.instances.imageSize.0)), .integer(Int64(o.instances.imageSize.1))])))
            }
            c.property("thing_classes", type: "table or nil", doc: "The class names the labels come from (nil when not known).") { o, call in
                if let classes = o.classes { return call.push(.table(LuaTable(array: classes.map { .string($0) }))) }
                return call.pushNil()
            }
            c.metamethod("__len", nil, doc: "#instances: the number of detections") { o, call in call.push(o.instances.count) }
            c.indexer(doc: "instances[i]: the i-th detection (1-based) {box, score, class, label}; instances[mask or index tensor]: the Instances it selects (instances[instances.scores:gt(0.8)])", get: { o, call in
                if let key = try? call.object(Tensor.self, 2) {
                    return call.push(object: InstancesObject(try o.instances.index(key), classes: o.classes))
                }
                guard call.type(2) == LUA_TNUMBER else { throw call.argumentError(2, "instances[i] takes a 1-based index or a mask tensor, not a \(call.typeName(2))") }
                let i = try call.integer(2)
                guard i >= 1 && i <= o.instances.count else { return call.pushNil() }
                return call.push(try detectionToLua(o, i - 1))
            })
            c.method("len", [], returns: "integer", doc: "The number of detections (len(instances) in Python).") { o, call in call.push(o.instances.count) }
            c.method("to", [LuaParameter("device", .string)], returns: "Instances", doc: "The instances on a device: instances:to(\"cpu\").") { o, call in
                call.push(object: InstancesObject(try o.instances.to(try Device(parsing: try call.string(2))), classes: o.classes))
            }
            c.method("has", [LuaParameter("name", .string)], returns: "boolean", doc: "Whether a field exists (pred_boxes, scores, pred_classes).") { o, call in
                call.push(["pred_boxes", "scores", "pred_classes"].contains(try call.string(2)))
            }
            c.method("get", [LuaParameter("name", .string)], returns: "value", doc: "A field by name: instances:get(\"scores\").") { o, call in
                switch try call.string(2) {
                case "pred_boxes": return call.push(object: BoxesObject(o.instances.boxes))
                case "scores": return call.push(object: o.instances.scores)
                case "pred_classes": return call.push(object: o.instances.classes)
                case let name: throw call.argumentError(2, "Instances has no field '\(name)' (the fields are pred_boxes, scores, pred_classes)")
                }
            }
            c.method("get_fields", [], returns: "table", doc: "{pred_boxes = Boxes, scores = Tensor, pred_classes = Tensor}.") { o, call in
                call.push(.table(LuaTable(hash: [.string("pred_boxes"): .object(BoxesObject(o.instances.boxes)),
                                                  .string("scores"): .object(o.instances.scores), .string("pred_classes"): .object(o.instances.classes)])))
            }
            c.method("labels", [LuaParameter("metadata", .any, optional: true)], returns: "table",
                     doc: "The class name of each detection, from metadata (MetadataCatalog.get(name), a table with thing_classes, or a list of names) or the predictor's dataset.") { o, call in
                let names: [String]
                if call.isNone(2) || call.type(2) == LUA_TNIL {
                    guard let classes = o.classes else {
                        throw LuaError.message("these instances know no class names; pass the metadata: instances:labels(MetadataCatalog.get(name))")
                    }
                    names = classes
                } else {
                    names = try classNames(call, 2)
                }
                let ids = try o.instances.asLists().classes
                return call.push(.table(LuaTable(array: try ids.enumerated().map { i, id -> LuaValue in
                    guard id >= 0 && id < names.count else {
                        throw LuaError.message("detection \(i + 1) has class \(id), but the metadata names \(names.count) class\(names.count == 1 ? "" : "es") (ids 0 to \(names.count - 1))")
                    }
                    return .string(names[id])
                })))
            }
            c.method("tolist", [], returns: "table", doc: "The detections as a Lua list of {box, score, class, label} tables.") { o, call in
                call.push(.table(LuaTable(array: try (0..<o.instances.count).map { try detectionToLua(o, $0) })))
            }
        }
    }

    static func registerStructuresModule(in state: LuaState) throws {
        try state.defineModule("detectron2.structures", doc: "Detectron2's Boxes and Instances.") { m in
            m.function("Boxes", [LuaParameter("tensor", .any)], returns: "Boxes", doc: "Boxes from an (N, 4) XYXY tensor or a list of {x1, y1, x2, y2}.") { call in
                let t: Tensor
                if let x = try? call.object(Tensor.self, 1) { t = x } else {
                    let rows = try call.decode([[Double]].self, 1)
                    guard rows.allSatisfy({ $0.count == 4 }) else { throw call.argumentError(1, "each box is {x1, y1, x2, y2}") }
                    t = rows.isEmpty ? try Tensor.zeros([0, 4], dtype: .float32) : try Tensor(rows.flatMap { $0 }.map { Float($0) }, shape: [rows.count, 4])
                }
                guard t.dim == 2, t.shape[1] == 4 else { throw call.argumentError(1, "boxes must be (N, 4), not \(t.shape)") }
                return call.push(object: BoxesObject(Boxes(t)))
            }
            m.function("Instances", [LuaParameter("image_size", .table), LuaParameter("fields", .table)], returns: "Instances",
                       doc: "Instances from fields: Instances({h, w}, {pred_boxes = Boxes or (N, 4) tensor, scores = tensor, pred_classes = tensor}). Class names of pred_classes: \(classNameIdiom).") { call in
                let size = try call.decode([Int].self, 1)
                guard size.count == 2 else { throw call.argumentError(1, "image_size is {height, width}") }
                let fields = try call.options(2, allowed: ["pred_boxes", "pred_classes", "scores"])
                func tensor(_ key: String) throws -> Tensor {
                    switch fields[key] {
                    case .object(let o)? where o is Tensor: return o as! Tensor
                    case .object(let o)? where o is BoxesObject: return (o as! BoxesObject).boxes.tensor
                    default: throw call.argumentError(2, "fields.\(key) must be a tensor\(key == "pred_boxes" ? " or Boxes" : "")")
                    }
                }
                let inst = try Instances(checking: try tensor("pred_boxes"), scores: try tensor("scores"), classes: try tensor("pred_classes"),
                                         imageSize: (size[0], size[1]), imageID: nil)
                return call.push(object: InstancesObject(inst, classes: nil))
            }
            m.function("pairwise_iou", [LuaParameter("boxes1", .object(boxesClass)), LuaParameter("boxes2", .object(boxesClass))], returns: "Tensor",
                       doc: "The (N, M) IoU of every pair of boxes.") { call in
                call.push(object: try Boxes.pairwiseIoU(try call.object(BoxesObject.self, 1).boxes, try call.object(BoxesObject.self, 2).boxes))
            }
        }
    }
}
