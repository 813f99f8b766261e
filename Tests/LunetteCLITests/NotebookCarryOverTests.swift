import Foundation
import XCTest
import TestFixtures

/// A Detectron2 notebook carried over line by line (Scripts/detectron2_notebook.lua), and each
/// friction the port met, as its own expectation (Scripts/notebook_frictions.lua).
final class NotebookCarryOverTests: XCTestCase {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts").path

    /// The tiny weights the notebook's get_checkpoint_url link resolves to, in a local model zoo.
    func makeModelZoo(_ dir: String) throws -> String {
        let zoo = dir + "/zoo"
        let file = zoo + "/COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x/139173657/model_final_68b088.pkl"
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let r = try runLunette(["-e", """
            local d2 = require "detectron2"
            local cfg = d2.model_zoo.get_config("COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x.yaml")
            cfg.MODEL.RESNETS.DEPTH = 18; cfg.MODEL.RESNETS.NUM_GROUPS = 1; cfg.MODEL.RESNETS.WIDTH_PER_GROUP = 64
            cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64; cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 32; cfg.MODEL.FPN.OUT_CHANNELS = 32
            cfg.MODEL.ROI_BOX_HEAD.FC_DIM = 32; cfg.MODEL.DEVICE = "cpu"
            d2.modeling.build_model(cfg):save("\(file)")
            """])
        XCTAssertEqual(r.status, 0, r.stderr)
        return zoo
    }

    func testTheTranscribedNotebookRunsUnchanged() throws {
        let data = try Fixtures.path("data")
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let zoo = try makeModelZoo(dir)
        let r = try runLunette([Self.scripts + "/detectron2_notebook.lua", data, dir], environment: ["LUNETTE_MODEL_ZOO": zoo])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "120\tlogo,product,brand_cue,face,smile")
        // The model-zoo link was read from the local zoo: only the 80-class predictor is skipped.
        XCTAssertTrue(r.stderr.contains("Skip loading parameter 'roi_heads.box_predictor.cls_score.weight'"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Skip loading parameter 'backbone"), "the backbone loads from the zoo file")
        // inference_on_dataset printed its tables, and print(results) printed them again.
        XCTAssertEqual(r.stdout.components(separatedBy: "Evaluation results for bbox:").count - 1, 2, r.stdout)
        XCTAssertTrue(r.stdout.contains("| logo      |"), r.stdout)
        // get_predictions on three validation images: name of the first detection from thing_classes.
        let rows = lines.filter { $0.hasPrefix("val_0000") }
        XCTAssertEqual(rows.count, 3, r.stdout)
        for row in rows {
            let f = row.split(separator: "\t").map(String.init)
            XCTAssertEqual(f.count, 3)
            XCTAssertGreaterThan(Int(f[1]) ?? 0, 0, "the predictor found detections at 0.1: \(row)")
            XCTAssertTrue(["logo", "product", "brand_cue", "face", "smile"].contains(f[2]), row)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/output/model_final.pth"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/output/coco_instances_results.json"))
        XCTAssertTrue(r.stderr.contains("labels come from DATASETS.TRAIN's 'brand_train'"), "the predictor says where its labels come from")
    }

    func testEachFrictionOfThePort() throws {
        let fixtures = try Fixtures.path("random/model_final.pth")
        let root = ((fixtures as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        _ = try Fixtures.path("data/annotations/instances_val.json")
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runLunette([Self.scripts + "/notebook_frictions.lua", root, dir, Self.scripts + "/tiny_config.lua"],
                               environment: ["LUNETTE_MODEL_ZOO": dir + "/empty-zoo", "HOME": dir])
        XCTAssertEqual(r.status, 0, r.stderr)
        var line: [String: String] = [:]
        for l in r.stdout.split(separator: "\n") {
            let parts = l.split(separator: "\t", maxSplits: 1).map(String.init)
            if parts.count == 2 { line[parts[0]] = parts[1] }
        }
        // 1. predictor(img).instances is Detectron2's Instances, and also a list of detections.
        XCTAssertEqual(line["P1"], "100\t100\t100\t4\t100\t100\t100")
        XCTAssertEqual(line["P2"], "3\tface\t0.39198\t212.79\ttrue", "Detectron2's first detection on messi5 (class 3), labelled without arithmetic")
        XCTAssertEqual(line["P3"], "100\t100\t100\tface\t100\t100", "ipairs over instances and over pred_boxes; labels(); tolist(); to(\"cpu\")")
        XCTAssertEqual(line["P4"], "2\tface\ttrue", "instances[mask] selects; past the end is nil")
        XCTAssertEqual(line["P5"], "1\ttrue", "model(batch) gives the same Instances, at the input's height and width")
        XCTAssertEqual(line["P6"], "true", "Detectron2's repr")
        // 2. metadata round trips; a conflict names both values.
        XCTAssertEqual(line["M1"], "40\t{\"1\":0,\"2\":1,\"3\":2,\"4\":3,\"5\":4}")
        XCTAssertTrue(r.stdout.contains("{ [1] = 0, [2] = 1, [3] = 2, [4] = 3, [5] = 4 }"), "an integer-keyed map prints as a map")
        XCTAssertTrue(line["M2"]?.contains("metadata 'thing_classes' of 'fr_bad' is [\"logo\", \"product\"], but ") == true, line["M2"] ?? "")
        XCTAssertTrue(line["M2"]?.contains("gives [\"logo\", \"product\", \"brand_cue\", \"face\", \"smile\"]") == true, line["M2"] ?? "")
        // 3. model zoo.
        XCTAssertEqual(line["Z1"], "detectron2://COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x/139173657/model_final_68b088.pkl")
        XCTAssertTrue(line["Z2"]?.contains("Pretrained model for COCO-Detection/mask_rcnn_R_50_FPN_3x.yaml is not available!") == true, line["Z2"] ?? "")
        let zooPath = "\(dir)/empty-zoo/COCO-Detection/faster_rcnn_R_50_FPN_1x/137257794/model_final_b275ba.pkl"
        XCTAssertTrue(line["Z3"]?.contains("Download https://dl.fbaipublicfiles.com/detectron2/COCO-Detection/faster_rcnn_R_50_FPN_1x/137257794/model_final_b275ba.pkl and put it at \(zooPath)") == true, line["Z3"] ?? "")
        XCTAssertTrue(line["Z3"]?.contains("\(dir)/.torch/iopath_cache/detectron2/COCO-Detection/faster_rcnn_R_50_FPN_1x/137257794/model_final_b275ba.pkl is read too") == true, line["Z3"] ?? "")
        XCTAssertTrue(line["Z4"]?.contains("unknown option 'trainde'; did you mean trained?") == true, line["Z4"] ?? "")
        // 4. options tables are checked; Detectron2's meaningless keys are accepted.
        XCTAssertTrue(line["O1"]?.contains("unknown option 'outptu_dir'; did you mean output_dir?") == true, line["O1"] ?? "")
        XCTAssertEqual(line["O2"], "ok")
        XCTAssertEqual(line["O3"], "ok", "COCOEvaluator(name, cfg, false, {output_dir = ...}) as Detectron2's positional form")
        XCTAssertTrue(line["O4"]?.contains("tasks: \"segm\" is not supported") == true, line["O4"] ?? "")
        XCTAssertTrue(line["O5"]?.contains("unknown option 'dtyp'; did you mean dtype?") == true, line["O5"] ?? "")
        // 5. mistakes that used to pass silently.
        XCTAssertEqual(line["S1"], "nil")
        XCTAssertTrue(r.stderr.contains("WARNING [MetadataCatalog] 'fr_trian' is not a registered dataset, so its thing_classes is nil; did you mean fr_train? (registered: fr_bad, fr_train, fr_val)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("MODEL.ROI_HEADS.NUM_CLASSES is 9 but DATASETS.TRAIN has 5 classes"), r.stderr)
        XCTAssertTrue(line["S2"]?.contains("this is the trainer; pass its model: inference_on_dataset(trainer.model, loader, evaluator)") == true, line["S2"] ?? "")
        XCTAssertTrue(r.stderr.contains("[DefaultPredictor] labels come from DATASETS.TRAIN's 'fr_train' (logo, product, brand_cue, face, smile): DATASETS.TEST's 'fr_typo' has no thing_classes (it is not registered)"), r.stderr)
        XCTAssertEqual(r.stderr.components(separatedBy: "labels come from").count - 1, 1, "said once")
        // 8. presence "overall" as the table; files; JSON lists; print; OpenCV's names.
        XCTAssertEqual(line["E1"], "true\ttrue\t200", "40 images x 5 classes")
        XCTAssertEqual(line["E2"], "true")
        XCTAssertEqual(line["F1"], "imgs/a/b/z.jpg imgs/a/y.jpg imgs/x.jpg\ta x.jpg\ttrue\tfalse")
        XCTAssertTrue(line["F2"]?.contains("exists and is a file, not a folder") == true, line["F2"] ?? "")
        XCTAssertEqual(line["J1"], "{\"boxes\":[],\"classes\":[1,2],\"empty\":{}}")
        XCTAssertEqual(line["J2"], "{\"a\":[],\"b\":{}}")
        XCTAssertEqual(line["T1"], "{}", "after lunette.pp, print shows tables")
        XCTAssertEqual(line["T2"], "{ 1, 2 }")
        XCTAssertEqual(line["V1"], "68\t68.0\t320.0\t240.0", "the frame-by-frame loop reads what extract_frames reads")
        XCTAssertEqual(line["V2"], "false\tfalse\tnil")
        XCTAssertTrue(line["V3"]?.contains("cannot open video \(dir)/missing.mp4") == true, line["V3"] ?? "")
        XCTAssertEqual(line["C1"], "2\ttrue", "detectMultiScale's (x, y, w, h) are detect's boxes")
        XCTAssertTrue(line["C2"]?.contains("did you mean scaleFactor?") == true, line["C2"] ?? "")
    }

    func testPrintOfATableHintsOnceThenPrettyPrints() throws {
        let r = try runLunette(["-e", "print({1}); print({2}, 'x'); require('lunette').pp(); print({a = {1, 2}}, nil)"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[0].hasPrefix("table: 0x"), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("table: 0x") && lines[1].hasSuffix("\tx"), lines[1])
        XCTAssertEqual(lines[2], "{ a = { 1, 2 } }\tnil")
        XCTAssertEqual(r.stderr.components(separatedBy: "lunette.pp(t) prints its contents").count - 1, 1, r.stderr)
    }

    func testHelpForTheNotebooksNames() throws {
        let r = try runLunette(["-e", """
            local d2 = require "detectron2"
            help()
            help(require "detectron2")
            help(d2.model_zoo)
            help(d2.model_zoo.get_config_file)
            help(d2.structures.Instances)
            cfg = d2.config.get_cfg()
            cfg.SOLVER.BASE_LR = 0.01
            help(cfg.MODEL.ROI_HEADS)
            help("cfg.SOLVER.BASE_LR")
            help("cfg.MODEL.MASK_ON")
            help("cfg.SOLVER.BASE_LRR")
            """])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = r.stdout
        XCTAssertTrue(o.contains("    detectron2  The Detectron2-shaped API."), "help() lists detectron2:\n\(o)")
        XCTAssertTrue(o.contains("module detectron2\n"))
        XCTAssertTrue(o.contains("    model_zoo (module)   The model-zoo configs shipped"), o)
        XCTAssertTrue(o.contains("module detectron2.model_zoo\n"))
        XCTAssertTrue(o.contains("    get_checkpoint_url(name)  "), o)
        XCTAssertTrue(o.contains("detectron2.model_zoo.get_config_file(name)\n  The path of a shipped model-zoo config"), o)
        XCTAssertTrue(o.contains("meta.thing_classes[cls + 1]"), "help(Instances) shows the idiom that maps ids to names")
        XCTAssertTrue(o.contains("cfg.MODEL.ROI_HEADS: The box head"), o)
        XCTAssertTrue(o.contains("  BATCH_SIZE_PER_IMAGE = 512  (int)  RoIs sampled per image"), o)
        XCTAssertTrue(o.contains("cfg.SOLVER.BASE_LR = 0.01\n  type float, default 0.001\n  Learning rate"), o)
        XCTAssertTrue(o.contains("cfg.MODEL.MASK_ON = False\n  type bool, default False\n") && o.contains("  Lunette: only the default is supported: mask heads are not implemented"), o)
        XCTAssertTrue(o.contains("cfg.SOLVER.BASE_LRR is not a config key; did you mean SOLVER.BASE_LR?"), o)
    }
}
