import Foundation
import XCTest
import TestFixtures
import Torch
@testable import Detection

/// Every leaf of Detectron2's default tree is accounted for: honoured (changing it changes what
/// the trainer and predictor build, or a value Lunette does not implement is rejected naming the
/// key), accepted only at its default (another value is rejected naming the key and the value),
/// or a setting of a feature whose switch is rejected.
final class ConfigTreeTests: XCTestCase {
    var scratch = ""

    override func setUpWithError() throws {
        DetectionLog.shared.echo = false
        scratch = NSTemporaryDirectory() + "lunette-config-tree-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    /// For each honoured key: a new value, and settings applied to both runs where the key only
    /// acts together with them.
    static let changes: [String: (value: String, context: [String])] = [
        "DATALOADER.ASPECT_RATIO_GROUPING": ("False", []), "DATALOADER.FILTER_EMPTY_ANNOTATIONS": ("False", []),
        "DATALOADER.NUM_WORKERS": ("3", []), "DATALOADER.REPEAT_SQRT": ("False", []), "DATALOADER.REPEAT_THRESHOLD": ("0.5", []),
        "DATALOADER.SAMPLER_TRAIN": ("'RepeatFactorTrainingSampler'", []),
        "DATASETS.TEST": ("('four',)", []), "DATASETS.TRAIN": ("('four', 'four')", []),
        "INPUT.FORMAT": ("'RGB'", []), "INPUT.MAX_SIZE_TEST": ("600", []), "INPUT.MAX_SIZE_TRAIN": ("1000", []),
        "INPUT.MIN_SIZE_TEST": ("300", []), "INPUT.MIN_SIZE_TRAIN": ("(600,)", []),
        "INPUT.MIN_SIZE_TRAIN_SAMPLING": ("'range'", ["INPUT.MIN_SIZE_TRAIN", "(600, 800)"]), "INPUT.RANDOM_FLIP": ("'none'", []),
        "MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS": ("[[1.0, 2.0, 0.5]]", []), "MODEL.ANCHOR_GENERATOR.NAME": ("'RotatedAnchorGenerator'", []),
        "MODEL.ANCHOR_GENERATOR.OFFSET": ("0.5", []), "MODEL.ANCHOR_GENERATOR.SIZES": ("[[16], [32], [64], [128], [256]]", []),
        "MODEL.BACKBONE.FREEZE_AT": ("3", []), "MODEL.BACKBONE.NAME": ("'build_resnet_backbone'", []),
        // 'cuda' falls back to the CPU with a warning on a machine without CUDA; 'cuda:0' is refused there, naming the key.
        "MODEL.DEVICE": ("'cuda:0'", []),
        "MODEL.FPN.FUSE_TYPE": ("'avg'", []), "MODEL.FPN.IN_FEATURES": ("['res3', 'res4', 'res5']", ["MODEL.RPN.IN_FEATURES", "['p3', 'p4', 'p5']",
                                                                 "MODEL.ROI_HEADS.IN_FEATURES", "['p3', 'p4', 'p5']", "MODEL.ANCHOR_GENERATOR.SIZES", "[[32]]"]),
        "MODEL.FPN.NORM": ("'GN'", []), "MODEL.FPN.OUT_CHANNELS": ("64", []),
        "MODEL.META_ARCHITECTURE": ("'RetinaNet'", []), "MODEL.PIXEL_MEAN": ("[100.0, 100.0, 100.0]", []),
        "MODEL.PIXEL_STD": ("[57.0, 57.0, 57.0]", []), "MODEL.PROPOSAL_GENERATOR.MIN_SIZE": ("4", []),
        "MODEL.PROPOSAL_GENERATOR.NAME": ("'PrecomputedProposals'", []),
        "MODEL.RESNETS.DEPTH": ("101", []), "MODEL.RESNETS.NORM": ("'BN'", []), "MODEL.RESNETS.NUM_GROUPS": ("32", []),
        "MODEL.RESNETS.OUT_FEATURES": ("['stem', 'res2', 'res3', 'res4', 'res5']", []), "MODEL.RESNETS.RES2_OUT_CHANNELS": ("128", []),
        "MODEL.RESNETS.RES5_DILATION": ("2", ["MODEL.FPN.IN_FEATURES", "['res2', 'res3', 'res4']", "MODEL.RPN.IN_FEATURES", "['p2', 'p3', 'p4', 'p5']",
                                               "MODEL.ANCHOR_GENERATOR.SIZES", "[[32]]"]),
        "MODEL.RESNETS.STEM_OUT_CHANNELS": ("32", []), "MODEL.RESNETS.STRIDE_IN_1X1": ("False", []),
        "MODEL.RESNETS.WIDTH_PER_GROUP": ("32", []),
        "MODEL.ROI_BOX_HEAD.BBOX_REG_LOSS_TYPE": ("'giou'", []), "MODEL.ROI_BOX_HEAD.BBOX_REG_LOSS_WEIGHT": ("2.0", []),
        "MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS": ("[1.0, 1.0, 1.0, 1.0]", []), "MODEL.ROI_BOX_HEAD.CLS_AGNOSTIC_BBOX_REG": ("True", []),
        "MODEL.ROI_BOX_HEAD.CONV_DIM": ("64", ["MODEL.ROI_BOX_HEAD.NUM_CONV", "1"]), "MODEL.ROI_BOX_HEAD.FC_DIM": ("128", []),
        "MODEL.ROI_BOX_HEAD.NAME": ("'FastRCNNConvHead'", []),
        "MODEL.ROI_BOX_HEAD.NORM": ("'GN'", ["MODEL.ROI_BOX_HEAD.NUM_CONV", "1", "MODEL.ROI_BOX_HEAD.CONV_DIM", "32"]),
        "MODEL.ROI_BOX_HEAD.NUM_CONV": ("1", []), "MODEL.ROI_BOX_HEAD.NUM_FC": ("1", []),
        "MODEL.ROI_BOX_HEAD.POOLER_RESOLUTION": ("5", []), "MODEL.ROI_BOX_HEAD.POOLER_SAMPLING_RATIO": ("2", []),
        "MODEL.ROI_BOX_HEAD.POOLER_TYPE": ("'ROIAlign'", []), "MODEL.ROI_BOX_HEAD.SMOOTH_L1_BETA": ("0.5", []),
        "MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE": ("256", []), "MODEL.ROI_HEADS.IN_FEATURES": ("['p3', 'p4', 'p5']", []),
        "MODEL.ROI_HEADS.IOU_LABELS": ("[-1, 1]", []), "MODEL.ROI_HEADS.IOU_THRESHOLDS": ("[0.6]", []),
        "MODEL.ROI_HEADS.NAME": ("'Res5ROIHeads'", []), "MODEL.ROI_HEADS.NMS_THRESH_TEST": ("0.6", []),
        "MODEL.ROI_HEADS.NUM_CLASSES": ("3", []), "MODEL.ROI_HEADS.POSITIVE_FRACTION": ("0.5", []),
        "MODEL.ROI_HEADS.PROPOSAL_APPEND_GT": ("False", []), "MODEL.ROI_HEADS.SCORE_THRESH_TEST": ("0.3", []),
        "MODEL.RPN.BATCH_SIZE_PER_IMAGE": ("128", []), "MODEL.RPN.BBOX_REG_LOSS_TYPE": ("'giou'", []),
        "MODEL.RPN.BBOX_REG_LOSS_WEIGHT": ("2.0", []), "MODEL.RPN.BBOX_REG_WEIGHTS": ("[2.0, 2.0, 1.0, 1.0]", []),
        "MODEL.RPN.BOUNDARY_THRESH": ("0", []), "MODEL.RPN.CONV_DIMS": ("[-1, -1]", []), "MODEL.RPN.HEAD_NAME": ("'RPNHead'", []),
        "MODEL.RPN.IN_FEATURES": ("['p3', 'p4', 'p5', 'p6']", ["MODEL.ANCHOR_GENERATOR.SIZES", "[[32]]"]),
        "MODEL.RPN.IOU_LABELS": ("[-1, -1, 1]", []), "MODEL.RPN.IOU_THRESHOLDS": ("[0.4, 0.6]", []),
        "MODEL.RPN.LOSS_WEIGHT": ("2.0", []), "MODEL.RPN.NMS_THRESH": ("0.6", []), "MODEL.RPN.POSITIVE_FRACTION": ("0.25", []),
        "MODEL.RPN.POST_NMS_TOPK_TEST": ("500", []), "MODEL.RPN.POST_NMS_TOPK_TRAIN": ("500", []),
        "MODEL.RPN.PRE_NMS_TOPK_TEST": ("500", []), "MODEL.RPN.PRE_NMS_TOPK_TRAIN": ("500", []),
        "MODEL.RPN.SMOOTH_L1_BETA": ("0.1", []), "MODEL.WEIGHTS": ("''", []),
        "OUTPUT_DIR": ("'elsewhere'", []), "SEED": ("7", []),
        "SOLVER.AMP.ENABLED": ("True", []), "SOLVER.BASE_LR": ("0.01", []), "SOLVER.BASE_LR_END": ("0.001", ["SOLVER.LR_SCHEDULER_NAME", "'WarmupCosineLR'"]),
        "SOLVER.BIAS_LR_FACTOR": ("2.0", []), "SOLVER.CHECKPOINT_PERIOD": ("10", []),
        "SOLVER.CLIP_GRADIENTS.CLIP_TYPE": ("'norm'", ["SOLVER.CLIP_GRADIENTS.ENABLED", "True"]),
        "SOLVER.CLIP_GRADIENTS.CLIP_VALUE": ("5.0", ["SOLVER.CLIP_GRADIENTS.ENABLED", "True"]),
        "SOLVER.CLIP_GRADIENTS.ENABLED": ("True", []),
        "SOLVER.CLIP_GRADIENTS.NORM_TYPE": ("1.0", ["SOLVER.CLIP_GRADIENTS.ENABLED", "True", "SOLVER.CLIP_GRADIENTS.CLIP_TYPE", "'norm'"]),
        "SOLVER.GAMMA": ("0.5", []), "SOLVER.IMS_PER_BATCH": ("4", []), "SOLVER.LR_SCHEDULER_NAME": ("'WarmupCosineLR'", []),
        "SOLVER.MAX_ITER": ("100", []), "SOLVER.MOMENTUM": ("0.8", []), "SOLVER.NESTEROV": ("True", []),
        "SOLVER.REFERENCE_WORLD_SIZE": ("2", []), "SOLVER.STEPS": ("(50,)", []), "SOLVER.WARMUP_FACTOR": ("0.01", []),
        "SOLVER.WARMUP_ITERS": ("10", []), "SOLVER.WARMUP_METHOD": ("'constant'", []), "SOLVER.WEIGHT_DECAY": ("0.001", []),
        "SOLVER.WEIGHT_DECAY_BIAS": ("0.0", []), "SOLVER.WEIGHT_DECAY_NORM": ("0.001", ["MODEL.RESNETS.NORM", "'BN'"]),
        "TEST.DETECTIONS_PER_IMAGE": ("50", []), "TEST.EVAL_PERIOD": ("10", []),
    ]

    func catalog() throws -> DataCatalog {
        let c = DataCatalog()
        let loaded = try COCO.load(jsonFile: try Fixtures.path("data/annotations/instances_train.json"), imageRoot: try Fixtures.path("data/train"))
        let dicts = Array(loaded.dicts.prefix(4))
        try c.register("four") { dicts }
        try c.metadata("four").set("thing_classes", .strings(loaded.thingClasses))
        return c
    }

    func config(_ changes: [String]) throws -> CfgNode {
        let cfg = CfgNode.defaults()
        try cfg.mergeFromFile(try Fixtures.path("random/config.yaml"))
        try cfg.mergeFromList(["DATASETS.TRAIN", "('four',)", "DATASETS.TEST", "()", "MODEL.WEIGHTS", try Fixtures.path("random/model_final.pth"),
                               "SOLVER.MAX_ITER", "20", "SOLVER.STEPS", "(15,)", "SOLVER.WARMUP_ITERS", "5", "SOLVER.CHECKPOINT_PERIOD", "1000",
                               "SOLVER.IMS_PER_BATCH", "2", "SEED", "1", "OUTPUT_DIR", scratch + "/out"] + changes)
        return cfg
    }

    /// What a config builds: the trainer (model, optimizer groups, schedule, clipping, hooks,
    /// datasets, seed, folders), the loader settings, the predictor and the device, as text.
    func signature(_ cfg: CfgNode, _ catalog: DataCatalog) throws -> String {
        let trainer = try DefaultTrainer(cfg: cfg, catalog: catalog)
        let predictor = try DefaultPredictor(cfg: cfg, catalog: catalog)
        return [dump(trainer), dump(try LoaderSettings(cfg: trainer.cfg)), dump(predictor), "\(try GeneralizedRCNN.device(configuredIn: cfg, for: "ConfigTreeTests"))"]
            .joined(separator: "\n")
    }

    func testEveryLeafIsAccountedFor() throws {
        let data = try catalog()
        let baseline = try signature(try config([]), data)
        // The signature is a function of the config alone, or every comparison below would pass.
        let again = try signature(try config([]), data)
        if baseline != again, let i = zip(baseline, again).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            XCTFail("two builds of one config differ at: " + String(Array(baseline)[max(0, i - 200)..<min(baseline.count, i + 100)]))
        }
        var checked = 0
        for key in CfgNode.defaultTree.allKeys {
            let honoured = ConfigSupport.honoured.contains(key)
            let defaultOnly = ConfigSupport.defaultOnlyReason(key) != nil
            let dependent = ConfigSupport.dependent(key)
            XCTAssertEqual([honoured, defaultOnly, dependent != nil].filter { $0 }.count, 1, "\(key) must be in exactly one category")
            if honoured {
                guard let change = Self.changes[key] else { XCTFail("\(key): no change to test it with"); continue }
                let before = try signature(try config(change.context), data)
                do {
                    let after = try signature(try config(change.context + [key, change.value]), data)
                    XCTAssertTrue(before != after, "\(key) = \(change.value) changed nothing that was built")
                } catch {
                    XCTAssertTrue("\(error)".contains(key), "\(key) = \(change.value) was rejected without naming the key: \(error)")
                }
                checked += 1
            } else if defaultOnly {
                let value = try nonDefault(key)
                XCTAssertThrowsError(try signature(try config([key, value]), data), key) {
                    XCTAssertTrue("\($0)".hasPrefix("\(key) = "), "\(key): \($0)")
                    XCTAssertTrue("\($0)".contains("is not supported"), "\(key): \($0)")
                }
                checked += 1
            } else if let (switchKey, enabling) = dependent {
                let cfg = try config([])
                try cfg.set(switchKey, enabling)
                XCTAssertThrowsError(try signature(cfg, data), "\(key): its switch \(switchKey) = \(enabling) was accepted") {
                    XCTAssertTrue("\($0)".contains(switchKey), "\(key): turning on \(switchKey) gave \($0)")
                }
                checked += 1
            }
        }
        XCTAssertEqual(checked, CfgNode.defaultTree.allKeys.count)
        XCTAssertEqual(checked, 192, "Detectron2's default tree has 192 leaves")
        XCTAssertEqual(Set(Self.changes.keys), ConfigSupport.honoured, "the test's table and the honoured keys must agree")
    }

    /// A valid YAML literal other than the key's default.
    func nonDefault(_ key: String) throws -> String {
        switch try CfgNode.defaultTree.value(at: key) {
        case .bool(let b): return b ? "False" : "True"
        case .int(let i): return String(i + 1)
        case .float(let d): return String(d + 1)
        case .string(let s): return "'\(s)x'"
        case .list(let l) where !l.isEmpty && l.allSatisfy({ if case .bool = $0 { return true } else { return false } }):
            return "[" + l.map { _ in "True" }.joined(separator: ", ") + "]"
        case .list: return "[1.0]"
        default: return "1"
        }
    }

    /// Stored properties, recursively (modules, settings, hooks): hyper-parameters, tensor shapes
    /// and small tensors' values; configs, catalogs and metrics are left out.
    func dump(_ value: Any, depth: Int = 0, seen: inout Set<ObjectIdentifier>) -> String {
        if depth > 40 { return "…" }
        switch value {
        case is CfgNode, is DataCatalog, is EventStorage, is Date: return "-"
        case let t as Tensor:
            let small = t.numel <= 16 ? ((try? t.to(dtype: .float64, device: .cpu).toArray(Double.self)).map { "\($0)" } ?? "") : ""
            return "Tensor\(t.shape)\(t.dtype)\(small)"
        case let p as Parameter: return "Parameter(\(dump(p.tensor, depth: depth + 1, seen: &seen)), grad \(p.tensor.requiresGrad))"
        case let s as String: return s
        case let n as any Numeric: return "\(n)"
        case let b as Bool: return "\(b)"
        default: break
        }
        let m = Mirror(reflecting: value)
        if m.displayStyle == .class {
            let id = ObjectIdentifier(value as AnyObject)
            if seen.contains(id) { return "<seen>" }
            seen.insert(id)
        }
        if m.children.isEmpty && m.superclassMirror == nil { return "\(value)" }
        var parts: [String] = []
        var mirror: Mirror? = m
        while let mm = mirror {
            for c in mm.children { parts.append("\(c.label ?? "_")=\(dump(c.value, depth: depth + 1, seen: &seen))") }
            mirror = mm.superclassMirror
        }
        if m.displayStyle == .dictionary || m.displayStyle == .set { parts.sort() }     // hash order is not the config's
        return "\(type(of: value))(" + parts.joined(separator: ",") + ")"
    }

    func dump(_ value: Any) -> String {
        var seen = Set<ObjectIdentifier>()
        return dump(value, seen: &seen)
    }
}
