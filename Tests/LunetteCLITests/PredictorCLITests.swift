import Foundation
import XCTest
import TestFixtures

/// The predictor, model zoo and visualizer from Lua, on the fixture's Detectron2 weights.
final class PredictorCLITests: XCTestCase {
    func testPredictorFromLua() throws {
        _ = try Fixtures.path("random/model_final.pth")
        let fixtures = Fixtures.root
        let out = try scratchDirectory()
        let script = """
            local d2, cv = require "detectron2", require "cv"
            print(d2.model_zoo.get_config_file("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml"):match("configs/COCO%-Detection/faster_rcnn_R_50_FPN_3x.yaml$") ~= nil)
            print(pcall(d2.model_zoo.get_config_file, "COCO-Detection/nothing.yaml"))
            local cfg = d2.config.get_cfg()
            cfg:merge_from_file("\(fixtures)/random/config.yaml")
            cfg.MODEL.WEIGHTS = "\(fixtures)/random/model_final.pth"
            local predictor = d2.engine.DefaultPredictor(cfg)
            local img = cv.imread("/usr/share/doc/opencv-doc/examples/data/messi5.jpg")
            local out = predictor(img)
            local first = out.instances[1]
            print(#out.instances, first.class, ("%.5f"):format(first.score), ("%.2f %.2f %.2f %.2f"):format(table.unpack(first.box)))
            local gray = predictor(img:gray())
            print(#gray.instances > 0)
            print(pcall(predictor, cv.new_image(0, 0)))
            local v = d2.utils.visualizer.Visualizer(img:rgb(), { thing_classes = { "logo", "product", "brand_cue", "face", "smile" } })
            v:draw_instance_predictions(out.instances):save("\(out)/pred.png")
            local batch = predictor:predict_batch{ img, img:flip() }
            print(#batch, #batch[1].instances == #out.instances)
            local ckpt = d2.checkpoint.DetectionCheckpointer(d2.modeling.build_model(cfg))
            local report = ckpt:load(cfg.MODEL.WEIGHTS)
            print(tostring(ckpt), report.loaded, #report.missing, #report.unexpected, ckpt.model:state_dict()["roi_heads.box_predictor.cls_score.bias"]:size(1))
            print(pcall(ckpt.load, ckpt, "\(out)/missing.pth"))
            help(ckpt)
            """
        let r = try runLunette(["-e", script])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "true")
        XCTAssertTrue(lines[1].hasPrefix("false\t") && lines[1].contains("is not in the model zoo"), lines[1])
        // Detectron2's first detection on this image (fixture random/inference/messi5): class 3,
        // score 0.39198, box 212.79 241.07 248.13 278.44.
        XCTAssertEqual(lines[2], "100\t3\t0.39198\t212.79 241.07 248.13 278.44")
        XCTAssertEqual(lines[3], "true")
        XCTAssertTrue(lines[4].contains("empty image (0x0 pixels)"), lines[4])
        XCTAssertEqual(lines[5], "2\ttrue")
        // The fixture checkpoint holds 295 tensors, every one a model parameter or buffer.
        XCTAssertEqual(lines[6], "DetectionCheckpointer\t295\t0\t0\t6")
        XCTAssertTrue(lines[7].hasPrefix("false\t") && lines[7].contains("missing.pth"), lines[7])
        XCTAssertTrue(r.stdout.contains("ckpt:load(path) loads weights into ckpt.model"), "help(ckpt) shows the registered class")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/pred.png"))
    }
}
