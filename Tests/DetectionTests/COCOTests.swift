import Foundation
import Support
import XCTest
import TestFixtures
@testable import Detection

func scratch(_ name: String = "coco") throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.path
}

final class COCOTests: XCTestCase {
    override func setUp() { DetectionLog.shared.echo = false; _ = DetectionLog.shared.takeWarnings() }

    func testFixtureDatasetAsDetectron2BuildsIt() throws {
        let json = try Fixtures.path("data/annotations/instances_train.json")
        let root = try Fixtures.path("data/train")
        let loaded = try COCO.load(jsonFile: json, imageRoot: root)
        XCTAssertEqual(loaded.thingClasses, ["logo", "product", "brand_cue", "face", "smile"])
        XCTAssertEqual(loaded.dicts.count, 120)
        XCTAssertEqual(loaded.dicts.map(\.imageID), loaded.dicts.map(\.imageID).sorted())
        var perClass = [Int](repeating: 0, count: 5)
        for d in loaded.dicts { for a in d.annotations { perClass[a.categoryID] += 1 } }
        XCTAssertEqual(perClass, [120, 94, 94, 94, 49], "the counts the fixture's README gives")
        // The first record against the JSON itself.
        let raw = try JSON.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: json))))
        let firstImage = raw["images"]!.array!.min { $0["id"]!.integer! < $1["id"]!.integer! }!
        let d = loaded.dicts[0]
        XCTAssertEqual(d.fileName, root + "/" + firstImage["file_name"]!.string!)
        XCTAssertEqual(d.width, 512)
        XCTAssertEqual(d.height, 384)
        let firstAnnotation = raw["annotations"]!.array!.first { $0["image_id"]!.integer! == d.imageID }!
        XCTAssertEqual(d.annotations[0].bbox, firstAnnotation["bbox"]!.array!.map { $0.number! })
        XCTAssertEqual(d.annotations[0].categoryID, Int(firstAnnotation["category_id"]!.integer!) - 1)
        XCTAssertEqual(d.annotations[0].bboxMode, .xywhAbs)
        XCTAssertTrue(DetectionLog.shared.takeWarnings().isEmpty)
    }

    func write(_ json: String) throws -> String {
        let path = try scratch() + "/instances.json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func loadError(_ json: String) throws -> String {
        let path = try write(json)
        do {
            _ = try COCO.load(jsonFile: path, imageRoot: "")
            XCTFail("no error for \(json)")
            return ""
        } catch {
            XCTAssertTrue("\(error)".hasPrefix(path), "the message names the file: \(error)")
            return "\(error)"
        }
    }

    let categories = #""categories": [{"id": 7, "name": "logo"}, {"id": 3, "name": "face"}]"#
    let image = #"{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80}"#

    func testMalformedFilesNameFileAndID() throws {
        XCTAssertTrue(try loadError("{not json").contains("not valid JSON"))
        XCTAssertTrue(try loadError(#"{"images": [], "annotations": []}"#).contains("missing 'categories'"))
        XCTAssertTrue(try loadError(#"{"images": {}, "annotations": [], \#(categories)}"#).contains("'images' must be an array"))
        XCTAssertTrue(try loadError(#"{"images": [{"id": 1, "file_name": "a.jpg", "width": "100", "height": 80}], "annotations": [], \#(categories)}"#)
            .contains("image 1 ('a.jpg') needs integer 'width' and 'height'"))
        XCTAssertTrue(try loadError(#"{"images": [\#(image), \#(image)], "annotations": [], \#(categories)}"#).contains("image id 1 appears twice"))
        XCTAssertTrue(try loadError(#"{"images": [\#(image)], "annotations": [{"id": 5, "image_id": 1, "bbox": [1, 2, 3, 4], "category_id": 99}], \#(categories)}"#)
            .contains("annotation 5: Encountered category_id=99 but this id does not exist in 'categories'"))
        XCTAssertTrue(try loadError(#"{"images": [\#(image)], "annotations": [{"id": 5, "image_id": 1, "bbox": [1, 2, 3, 4], "category_id": 7}, {"id": 5, "image_id": 1, "bbox": [1, 2, 3, 4], "category_id": 7}], \#(categories)}"#)
            .contains("annotation ids are not unique: 5"))
        XCTAssertTrue(try loadError(#"{"images": [\#(image)], "annotations": [{"id": 5, "image_id": 1, "bbox": [], "category_id": 7}], \#(categories)}"#)
            .contains("annotation 5 has an empty 'bbox'"))
        XCTAssertTrue(try loadError(#"{"images": [\#(image)], "annotations": [{"id": 5, "image_id": 1, "bbox": [1, 2, "x", 4], "category_id": 7}], \#(categories)}"#)
            .contains("annotation 5: 'bbox' must be 4 finite numbers"))
        XCTAssertThrowsError(try COCO.load(jsonFile: "/nonexistent/x.json", imageRoot: "")) { XCTAssertTrue("\($0)".contains("/nonexistent/x.json")) }
    }

    func testQuestionableAnnotationsWarnAndAreKeptOrDropped() throws {
        let path = try write(#"""
            {"images": [\#(image)],
             "annotations": [
               {"id": 1, "image_id": 1, "bbox": [10, 10, 0, 5], "category_id": 3},
               {"id": 2, "image_id": 1, "bbox": [90, 70, 30, 30], "category_id": 7},
               {"id": 3, "image_id": 1, "bbox": [1, 1, 5, 5], "category_id": 7, "iscrowd": true},
               {"id": 4, "image_id": 42, "bbox": [1, 1, 5, 5], "category_id": 7}],
             \#(categories)}
            """#)
        let loaded = try COCO.load(jsonFile: path, imageRoot: "root")
        XCTAssertEqual(loaded.thingClasses, ["face", "logo"], "sorted by category id: 3 face, 7 logo")
        XCTAssertEqual(loaded.dicts[0].annotations.map(\.categoryID), [0, 1, 1])
        XCTAssertEqual(loaded.dicts[0].annotations.map(\.isCrowd), [0, 0, 1])
        XCTAssertEqual(loaded.dicts[0].fileName, "root/a.jpg")
        let warnings = DetectionLog.shared.takeWarnings().joined(separator: "\n")
        XCTAssertTrue(warnings.contains("annotation 1 (image 1) has an empty box"), warnings)
        XCTAssertTrue(warnings.contains("annotation 2 (image 1, 100x80) has a box outside the image"), warnings)
        XCTAssertTrue(warnings.contains("annotation 3: iscrowd is a boolean (true); read as 1"), warnings)
        XCTAssertTrue(warnings.contains("contains 4 annotations, but only 3 of them match to images in the file"), warnings)
    }

    func testCatalogSemantics() throws {
        let catalog = DataCatalog()
        try catalog.register("a") { [] }
        XCTAssertThrowsError(try catalog.register("a") { [] }) { XCTAssertTrue("\($0)".contains("Dataset 'a' is already registered! Remove it first")) }
        XCTAssertThrowsError(try catalog.get("b")) { XCTAssertEqual("\($0)", "Dataset 'b' is not registered! Available datasets are: a") }
        let meta = catalog.metadata("a")
        try meta.set("thing_classes", .strings(["x"]))
        try meta.set("thing_classes", .strings(["x"]))
        XCTAssertThrowsError(try meta.set("thing_classes", .strings(["y"]))) {
            XCTAssertTrue("\($0)".contains("Attribute 'thing_classes' in the metadata of 'a' cannot be set to a different value!"))
        }
        catalog.remove("a")
        XCTAssertNoThrow(try catalog.register("a") { [] })
    }

    func testRegistrationIsLazyAndThingClassesLoadOnDemand() throws {
        let catalog = DataCatalog()
        let json = try Fixtures.path("data/annotations/instances_val.json")
        try COCO.registerInstances("val", metadata: ["note": .string("x")], jsonFile: json, imageRoot: "/r", catalog: catalog)
        let meta = catalog.metadata("val")
        XCTAssertEqual(try meta.get("evaluator_type"), .string("coco"))
        XCTAssertEqual(meta.thingClasses, ["logo", "product", "brand_cue", "face", "smile"])
        XCTAssertEqual(try catalog.get("val").count, 40)
        // A registered file that does not exist fails only when used, naming it.
        try COCO.registerInstances("broken", metadata: [:], jsonFile: "/nope.json", imageRoot: "", catalog: catalog)
        XCTAssertThrowsError(try catalog.get("broken")) { XCTAssertTrue("\($0)".contains("/nope.json")) }
    }

    func testJSONParser() throws {
        let v = try JSON.parse(Array(#"{"a": [1, -2.5e1, true, null, "x\n\u00e9\ud83d\ude00"], "b": {}}"#.utf8))
        XCTAssertEqual(v["a"], .array([.int(1), .double(-25), .bool(true), .null, .string("x\né😀")]))
        XCTAssertEqual(v["b"], .object([]))
        XCTAssertThrowsError(try JSON.parse(Array("{\"a\": [1,\n 2,,]}".utf8))) { XCTAssertTrue("\($0)".contains("line 2"), "\($0)") }
        var out: [UInt8] = []
        JSON.serialize(v, into: &out)
        XCTAssertEqual(try JSON.parse(out), v)
    }
}
