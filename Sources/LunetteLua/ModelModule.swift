import CLua
import Detection
import Foundation
import LuaHost
import Torch
import Vision

/// detectron2.checkpoint.DetectionCheckpointer: holds the model its :load(path) fills.
final class CheckpointerObject {
    let model: GeneralizedRCNN
    init(_ m: GeneralizedRCNN) { model = m }
}

final class VisualizerObject {
    let visualizer: Visualizer
    init(_ v: Visualizer) { visualizer = v }
}

/// `detectron2.modeling`, `detectron2.checkpoint`, `detectron2.engine` (DefaultPredictor) and
/// `detectron2.utils.visualizer`.
extension LunetteBindings {
    /// model:load's report: {loaded = n, missing, unexpected, mismatched = {names}}.
    static func loadReportToLua(_ r: Module.LoadReport) -> LuaValue {
        var t = LuaTable()
        t.hash[.string("loaded")] = .integer(Int64(r.loaded.count))
        t.hash[.string("missing")] = .table(LuaTable(array: r.missing.map { .string($0) }))
        t.hash[.string("unexpected")] = .table(LuaTable(array: r.unexpected.map { .string($0) }))
        t.hash[.string("mismatched")] = .table(LuaTable(array: r.mismatched.map { .string($0.name) }))
        return .table(t)
    }

    /// Detections for the visualizer: an Instances object (predictor(img).instances, or the
    /// whole output), or a list written in Lua ({{box, score, class, label?}, ...}), and their labels.
    static func instancesFromLua(_ v: LuaValue) throws -> (Instances, labels: [String?]) {
        var v = v
        if case .table(let t) = v, let inner = t["instances"] { v = inner }
        if case .object(let o) = v, let inst = o as? InstancesObject {
            let ids = try inst.instances.asLists().classes
            return (inst.instances, ids.map(inst.label))
        }
        let list = try [LuaValue].decode(v, at: "instances")
        var boxes: [[Double]] = [], scores: [Double] = [], classes: [Int] = [], labels: [String?] = []
        for (i, item) in list.enumerated() {
            guard case .table(let d) = item, let box = d["box"], let score = d["score"], let cls = d["class"] else {
                throw LuaError.message("instances[\(i + 1)] needs box, score and class")
            }
            let b = try [Double].decode(box, at: "instances[\(i + 1)].box")
            guard b.count == 4 else { throw LuaError.message("instances[\(i + 1)].box must be {x1, y1, x2, y2}") }
            boxes.append(b)
            scores.append(try Double.decode(score, at: "score"))
            classes.append(try Int.decode(cls, at: "class"))
            if case .string(let l)? = d["label"] { labels.append(l) } else { labels.append(nil) }
        }
        return (try Instances(boxes: boxes, scores: scores, classes: classes, imageID: nil), labels)
    }

    /// One image's output, as Detectron2 gives it: {instances = Instances}.
    static func outputToLua(_ instances: Instances, classes: [String]?) -> LuaValue {
        .table(LuaTable(hash: [.string("instances"): .object(InstancesObject(instances, classes: classes))]))
    }

    static func installModelModule(in state: LuaState) throws {
        try registerGeneralizedRCNNClass(in: state)
        try registerModelingModule(in: state)
        try registerDetectionCheckpointerClass(in: state)
        try registerCheckpointModule(in: state)
        try registerDefaultPredictorClass(in: state)
        try registerVisualizerClass(in: state)
        try registerUtilsVisualizerModule(in: state)
    }

    static func registerGeneralizedRCNNClass(in state: LuaState) throws {
        try state.defineClass(GeneralizedRCNN.self, name: "detectron2.modeling.GeneralizedRCNN",
                              doc: "Faster R-CNN (ResNet/ResNeXt-FPN). model(batch) runs inference on loader batches.") { c in
            c.tostring { m in "GeneralizedRCNN(\(m.roiHeads.numClasses) classes, \(m.namedParameters().count) parameters, \(m.device))" }
            c.metamethod("__call", nil, doc: "model(batch): a list of outputs {instances = Instances} (pred_boxes, scores, pred_classes) in each input's height x width, as Detectron2's model in eval mode") { m, call in
                let batch = try call.decode([LuaValue].self, 2)
                guard !batch.isEmpty else { throw call.argumentError(2, "the batch is empty; pass a list of {image = <tensor (3, H, W)>}") }
                var images: [Tensor] = [], sizes: [(Int, Int)] = []
                for (i, item) in batch.enumerated() {
                    guard case .table(let t) = item, case .object(let o)? = t["image"], let img = o as? Tensor else {
                        throw LuaError.message("batch[\(i + 1)].image must be a tensor (3, H, W)")
                    }
                    guard img.dim == 3, img.shape[0] == 3, img.shape[1] > 0, img.shape[2] > 0 else {
                        throw LuaError.message("batch[\(i + 1)].image must be a tensor (3, H, W), not \(img.shape)")
                    }
                    images.append(img)
                    let h = try t["height"].map { try Int.decode($0, at: "height") } ?? img.shape[1]
                    let w = try t["width"].map { try Int.decode($0, at: "width") } ?? img.shape[2]
                    sizes.append((h, w))
                }
                let results = try m.inference(images)
                let outputs = try zip(results, sizes).map { r, s -> LuaValue in
                    outputToLua(try detectorPostprocess(r, height: s.0, width: s.1), classes: nil)
                }
                return call.push(.table(LuaTable(array: outputs)))
            }
            c.method("load", [LuaParameter("path", .string)], returns: "table",
                     doc: "Loads weights (.pth, .pkl, .safetensors): {loaded, missing, unexpected, mismatched} names; mismatched shapes are skipped with a warning.") { m, call in
                call.push(loadReportToLua(try m.loadWeights(try call.string(2))))
            }
            c.method("save", [LuaParameter("path", .string)], doc: "Writes the weights as .safetensors (Detectron2's names).") { m, call in
                try SafeTensors.write(m.stateDict(), metadata: ["format": "pt"], to: try call.string(2))
                return 0
            }
            c.method("to", [LuaParameter("device", .string)], returns: "GeneralizedRCNN", doc: "Moves the model: \"cpu\", \"cuda\", \"auto\".") { m, call in
                try m.to(try Device(parsing: try call.string(2)))
                return call.push(object: m)
            }
            c.method("state_dict", [], returns: "table", doc: "name -> tensor.") { m, call in
                var t = LuaTable()
                for (k, v) in m.stateDict() { t.hash[.string(k)] = .object(v) }
                return call.push(.table(t))
            }
        }
    }

    static func registerModelingModule(in state: LuaState) throws {
        try state.defineModule("detectron2.modeling", doc: "Models built from configs.") { m in
            m.function("build_model", [LuaParameter("cfg", .object("detectron2.config.CfgNode"))], returns: "GeneralizedRCNN",
                       doc: "The model the config describes, on MODEL.DEVICE, as Detectron2's build_model (weights not loaded; use DetectionCheckpointer or model:load).") { call in
                let cfg = try call.object(CfgNode.self, 1)
                let model = try GeneralizedRCNN(cfg: cfg)
                let device = try GeneralizedRCNN.device(configuredIn: cfg, for: "build_model")
                if device != .cpu { try model.to(device) }
                return call.push(object: model)
            }
        }
    }

    static func registerDetectionCheckpointerClass(in state: LuaState) throws {
        try state.defineClass(CheckpointerObject.self, name: "detectron2.checkpoint.DetectionCheckpointer",
                              doc: "ckpt:load(path) loads weights into ckpt.model, as Detectron2's DetectionCheckpointer.") { c in
            c.tostring { _ in "DetectionCheckpointer" }
            c.property("model", type: "GeneralizedRCNN", doc: "The model weights are loaded into.") { k, call in call.push(object: k.model) }
            c.method("load", [LuaParameter("path", .string)], returns: "table",
                     doc: "Loads weights into the model, as model:load(path), and returns the same report.") { k, call in
                call.push(loadReportToLua(try k.model.loadWeights(try call.string(2))))
            }
        }
    }

    static func registerCheckpointModule(in state: LuaState) throws {
        try state.defineModule("detectron2.checkpoint", doc: "Loading weights.") { m in
            m.function("DetectionCheckpointer", [LuaParameter("model", .object("detectron2.modeling.GeneralizedRCNN"))], returns: "DetectionCheckpointer",
                       doc: "A checkpointer for the model: ckpt:load(path).") { call in
                call.push(object: CheckpointerObject(try call.object(GeneralizedRCNN.self, 1)))
            }
        }
    }

    static func registerDefaultPredictorClass(in state: LuaState) throws {
        try state.defineClass(DefaultPredictor.self, name: "detectron2.engine.DefaultPredictor",
                              doc: "predictor(img): detections of a BGR image (cv.Image) in its own coordinates, scores descending.") { c in
            c.tostring { p in "DefaultPredictor(\(p.model.roiHeads.numClasses) classes)" }
            c.property("model", type: "GeneralizedRCNN", doc: "The model.") { p, call in call.push(object: p.model) }
            c.metamethod("__call", nil, doc: "predictor(img) -> {instances = Instances}: pred_boxes, scores, pred_classes, and instances[i] = {box, score, class, label}") { p, call in
                let img = try call.object(Image.self, 2)
                return call.push(outputToLua(try p.predict([img])[0], classes: p.classes))
            }
            c.method("predict_batch", [LuaParameter("images", .table)], returns: "table", doc: "Outputs for several images, in one forward pass.") { p, call in
                let list = try call.decode([LuaValue].self, 2)
                let images = try list.enumerated().map { i, v -> Image in
                    guard case .object(let o) = v, let img = o as? Image else { throw LuaError.message("images[\(i + 1)] is not a cv.Image") }
                    return img
                }
                let outputs = try p.predict(images).map { outputToLua($0, classes: p.classes) }
                return call.push(.table(LuaTable(array: outputs)))
            }
        }
    }

    static func registerVisualizerClass(in state: LuaState) throws {
        try state.defineClass(VisualizerObject.self, name: "detectron2.utils.visualizer.Visualizer",
                              doc: "Draws predictions or ground truth on an RGB image.") { c in
            c.method("draw_instance_predictions", [LuaParameter("instances", .any)], returns: "Visualizer",
                     doc: "Boxes with \"name NN%\" labels: predictor(img).instances (Instances, on any device), the whole output, or a list of {box, score, class, label}.") { v, call in
                let (instances, labels) = try instancesFromLua(try call.value(2))
                try v.visualizer.drawInstancePredictions(instances, labels: labels)
                return call.push(object: v)
            }
            c.method("draw_dataset_dict", [LuaParameter("dict", .table)], returns: "Visualizer", doc: "The ground-truth boxes of a dataset dict.") { v, call in
                let d = try dictsFromLua(.table(LuaTable(array: [try call.value(2)])), source: "dict")[0]
                try v.visualizer.drawDatasetDict(d)
                return call.push(object: v)
            }
            c.method("get_image", [], returns: "cv.Image", doc: "The drawing (RGB).") { v, call in call.push(object: v.visualizer.image) }
            c.method("save", [LuaParameter("path", .string)], returns: "Visualizer", doc: "Writes the drawing (.png, .jpg).") { v, call in
                try v.visualizer.image.write(try call.string(2))
                return call.push(object: v)
            }
        }
    }

    static func registerUtilsVisualizerModule(in state: LuaState) throws {
        try state.defineModule("detectron2.utils.visualizer", doc: "Drawing detections.") { m in
            try m.value("ColorMode", .table(LuaTable(hash: [.string("IMAGE"): .integer(0), .string("SEGMENTATION"): .integer(1), .string("IMAGE_BW"): .integer(2)])),
                        doc: "Detectron2's ColorMode for Visualizer's instance_mode: IMAGE (0), SEGMENTATION (1, drawn as IMAGE: there are no masks), IMAGE_BW (2, the picture in grey under the boxes).")
            m.function("Visualizer", [LuaParameter("img_rgb", .object(imageClass)), LuaParameter("metadata", .any, optional: true),
                                      LuaParameter("scale", .number, optional: true), LuaParameter("instance_mode", .integer, optional: true)],
                       returns: "Visualizer", doc: """
                A visualizer on a copy of the image; class names come from metadata.thing_classes. As Detectron2's Visualizer(img_rgb, metadata, scale, instance_mode), \
                positionally or as options: Visualizer(img:rgb(), {metadata = meta, scale = 0.5, instance_mode = ColorMode.IMAGE_BW}) (IMAGE_BW greys the picture under the boxes).
                """) { call in
                var metadata: LuaValue = call.isNone(2) ? .nil : try call.value(2)
                var scale = try call.optionalNumber(3) ?? 1
                var mode = try call.optionalInteger(4) ?? 0
                // Detectron2's keyword arguments as one table: {metadata = ..., scale = ..., instance_mode = ...}.
                if case .table(let t) = metadata, t.array.isEmpty, t["thing_classes"] == nil,
                   t.hash.keys.contains(where: { ["metadata", "scale", "instance_mode"].contains($0.description) }) {
                    guard call.isNone(3) else { throw call.argumentError(3, "give scale in the options table or positionally, not both") }
                    let o = try call.options(2, allowed: ["instance_mode", "metadata", "scale"])
                    metadata = o["metadata"] ?? .nil
                    scale = try o.option("scale", as: Double.self) ?? 1
                    mode = try o.option("instance_mode", as: Int.self) ?? 0
                }
                guard scale.isFinite, scale > 0, scale <= 16 else { throw LuaError.message("Visualizer: scale must be above 0 and at most 16, not \(scale)") }
                guard [0, 1, 2].contains(mode) else {
                    throw LuaError.message("Visualizer: instance_mode \(mode) is not a ColorMode (IMAGE = 0, SEGMENTATION = 1, IMAGE_BW = 2)")
                }
                var classes: [String]?
                switch metadata {
                case .object(let o as MetadataObject): classes = o.metadata.thingClasses
                case .table(let t): if let tc = t["thing_classes"] { classes = try [String].decode(tc, at: "metadata.thing_classes") }
                case .nil: break
                default: throw call.argumentError(2, "metadata is MetadataCatalog.get(name) or a table with thing_classes, not a \(metadata.typeName)")
                }
                var image = try call.object(Image.self, 1)
                if mode == 2 { image = try image.converted(.bgrToGray).converted(.grayToBGR) }
                return call.push(object: VisualizerObject(try Visualizer(image: image, classes: classes, scale: scale)))
            }
        }
    }
}
