import Foundation
import XCTest
import TestFixtures

/// The demo dataset script end to end, and the Lua data API over what it makes.
final class DemoDatasetTests: XCTestCase {
    var repository: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    func testDemoDatasetIsDeterministicAndLoads() throws {
        guard FileManager.default.fileExists(atPath: "/usr/share/doc/opencv-doc/examples/data/apple.jpg") else {
            throw Missing.requirement("opencv-doc is not installed")
        }
        let a = try scratchDirectory(), b = try scratchDirectory()
        let script = "\(repository)/scripts/make_demo_dataset.lua"
        for out in [a, b] {
            let r = try runLunette([script, out, "3", "6", "3"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.hasPrefix("demo dataset in \(out): train 6 images"), r.stdout)
        }
        for file in ["annotations/instances_train.json", "annotations/instances_val.json", "train/train_00004.jpg", "val/val_00002.jpg"] {
            let x = try Data(contentsOf: URL(fileURLWithPath: "\(a)/\(file)"))
            let y = try Data(contentsOf: URL(fileURLWithPath: "\(b)/\(file)"))
            XCTAssertEqual(x, y, "\(file) is the same for the same seed")
        }
        let r = try runLunette(["-e", """
            local d2 = require "detectron2"
            d2.data.datasets.register_coco_instances("demo", {}, "\(a)/annotations/instances_train.json", "\(a)/train")
            local meta = d2.data.MetadataCatalog.get("demo")
            print(table.concat(meta.thing_classes, ","), meta.evaluator_type, meta.nothing)
            meta.brand = "A"
            print(meta.brand, pcall(function() meta.brand = "B" end))
            local ds = d2.data.DatasetCatalog.get("demo")
            print(#ds, ds[1].image_id, ds[1].annotations[1].bbox_mode, ds[7])
            print(tostring(ds):match("^Dataset 'demo': 6 images") ~= nil)
            print(pcall(d2.data.datasets.register_coco_instances, "demo", {}, "x.json", "y"))
            """])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "logo,product\tcoco\tnil")
        XCTAssertTrue(lines[1].hasPrefix("A\tfalse\t"), lines[1])
        XCTAssertTrue(lines[1].contains("cannot be set to a different value"), lines[1])
        XCTAssertEqual(lines[2], "6\t1\t1\tnil")
        XCTAssertEqual(lines[3], "true")
        XCTAssertTrue(lines[4].contains("Dataset 'demo' is already registered!"), lines[4])
    }
}
