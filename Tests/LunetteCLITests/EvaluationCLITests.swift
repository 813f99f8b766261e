import Foundation
import XCTest
import TestFixtures

/// detectron2.evaluation from Lua, end to end over the demo dataset with a stand-in model.
final class EvaluationCLITests: XCTestCase {
    var repository: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    func testEvaluationFromLua() throws {
        guard FileManager.default.fileExists(atPath: "/usr/share/doc/opencv-doc/examples/data/apple.jpg") else { throw Missing.requirement("opencv-doc is not installed") }
        let data = try scratchDirectory(), out = try scratchDirectory()
        XCTAssertEqual(try runLunette(["\(repository)/scripts/make_demo_dataset.lua", data, "2", "4", "12"]).status, 0)
        let script = """
            local d2 = require "detectron2"
            d2.data.datasets.register_coco_instances("val", {}, "\(data)/annotations/instances_val.json", "\(data)/val")
            local dicts = d2.data.DatasetCatalog.get("val")
            local by_id = {}
            for i = 1, #dicts do by_id[dicts[i].image_id] = dicts[i] end
            -- A perfect model: the ground truth itself, score 0.9.
            local function model(batch)
              local out = {}
              for _, input in ipairs(batch) do
                local dets = {}
                for _, a in ipairs(by_id[input.image_id].annotations) do
                  local b = a.bbox
                  dets[#dets + 1] = { box = { b[1], b[2], b[1] + b[3], b[2] + b[4] }, score = 0.9, class = a.category_id }
                end
                out[#out + 1] = dets
              end
              return out
            end
            local evaluator = d2.evaluation.COCOEvaluator("val", { output_dir = "\(out)" })
            local loader = d2.data.build_detection_test_loader({ INPUT = { MIN_SIZE_TEST = 100, MAX_SIZE_TEST = 200 }, DATALOADER = { NUM_WORKERS = 1 } }, "val")
            local r = d2.evaluation.inference_on_dataset(model, loader, evaluator)
            print("AP", r.bbox.AP, r.bbox["AP-logo"], r.bbox.APs ~= r.bbox.APs)
            local again = d2.evaluation.evaluate_results("val", "\(out)/coco_instances_results.json")
            print("again", again.bbox.AP == r.bbox.AP)
            local p = d2.evaluation.presence("val", r.predictions, { thresholds = { 0.5, 0.95 } })
            print("presence", p:accuracy("logo", 0.5), p:accuracy("logo", 0.95), p:counts("overall", 0.95).fn > 0)
            p:confusion_matrix{ class = "logo", threshold = 0.5 }:save("\(out)/cm.png")
            p:save_csv("\(out)/presence.csv")
            r:save_json("\(out)/results.json")
            print(pcall(p.accuracy, p, "nothing", 0.5))
            print(pcall(p.accuracy, p, "logo", 0.3))
            """
        let r = try runLunette(["-e", script])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(r.stdout.contains("Evaluation results for bbox:"), r.stdout)
        XCTAssertTrue(lines.contains("AP\t100.0\t100.0\ttrue"), r.stdout)      // APs is NaN: no small boxes
        XCTAssertTrue(lines.contains("again\ttrue"), r.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("presence\t1.0\t") && $0.hasSuffix("\ttrue") }, r.stdout)
        XCTAssertTrue(r.stdout.contains("unknown class 'nothing'"), r.stdout)
        XCTAssertTrue(r.stdout.contains("threshold 0.3 was not evaluated"), r.stdout)
        for f in ["coco_instances_results.json", "cm.png", "presence.csv", "results.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/\(f)"), f)
        }
        XCTAssertTrue(try String(contentsOfFile: "\(out)/presence.csv", encoding: .utf8).hasPrefix("class,threshold,tp,fp,fn,tn"))
    }
}
