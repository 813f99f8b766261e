import Foundation
import Support
import XCTest
import TestFixtures
import Torch
@testable import Detection

/// COCOeval against pycocotools on generated cases: crowds, duplicates, tied scores, empty images,
/// categories without ground truth or without detections, more than 100 detections in an image.
final class COCOEvalTests: XCTestCase {
    override func setUp() { DetectionLog.shared.echo = false }

    struct Case {
        var gt: COCOGroundTruth
        var dt: [COCODetection]
    }

    /// A random case; the generator leans on the corners of the rules.
    func makeCase(seed: UInt64, images: Int = 12, categories: Int = 4) -> Case {
        var rng = SplitMix64(seed: seed)
        func r(_ a: Double, _ b: Double) -> Double { Double.random(in: a...b, using: &rng) }
        var anns: [COCOGroundTruth.Annotation] = []
        var dets: [COCODetection] = []
        var nextID: Int64 = 1
        // Category ids are not 1..K: 3, 5, 7, ... (and the last has no ground truth at all).
        let catIDs = (0..<categories).map { Int64(3 + 2 * $0) }
        for image in 1...images {
            if image % 5 == 0 { continue }   // some images have nothing
            for (ci, cat) in catIDs.enumerated() where ci < categories - 1 {
                for _ in 0..<Int.random(in: 0...4, using: &rng) {
                    let w = r(4, 200), h = r(4, 150)
                    let box = [r(0, 400), r(0, 300), w, h]
                    let crowd = Int.random(in: 0..<9, using: &rng) == 0
                    // area sometimes differs from w*h, as with segmentation masks
                    let area = Int.random(in: 0..<3, using: &rng) == 0 ? w * h * r(0.5, 1) : w * h
                    anns.append(.init(id: nextID, imageID: Int64(image), categoryID: cat, bbox: box, area: area, isCrowd: crowd))
                    nextID += 1
                    // detections near it, some duplicates, some with tied scores
                    for _ in 0..<Int.random(in: 0...3, using: &rng) {
                        let jitter = r(0, 20)
                        let score = Int.random(in: 0..<4, using: &rng) == 0 ? 0.5 : (r(0, 1) * 100).rounded() / 100
                        dets.append(COCODetection(imageID: Int64(image), categoryID: cat,
                                                  bbox: [box[0] + r(-jitter, jitter), box[1] + r(-jitter, jitter), w * r(0.7, 1.3), h * r(0.7, 1.3)], score: score))
                    }
                }
            }
            // false positives, including in the category without ground truth
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                dets.append(COCODetection(imageID: Int64(image), categoryID: catIDs[Int.random(in: 0..<categories, using: &rng)],
                                          bbox: [r(0, 500), r(0, 400), r(2, 120), r(2, 120)], score: r(0, 1)))
            }
        }
        // One image with more than 100 detections of one category.
        for n in 0..<130 {
            dets.append(COCODetection(imageID: 1, categoryID: catIDs[0], bbox: [r(0, 300), r(0, 300), r(10, 60), r(10, 60)],
                                      score: Double(n % 17) / 17))
        }
        let gt = COCOGroundTruth(imageIDs: (1...images).map(Int64.init),
                                 categories: catIDs.map { ($0, "c\($0)") }, annotations: anns)
        return Case(gt: gt, dt: dets)
    }

    func writeJSON(_ c: Case, to dir: String) throws -> (String, String) {
        var images: [JSONValue] = c.gt.imageIDs.map { .object([("id", .int($0)), ("file_name", .string("\($0).jpg")), ("width", .int(640)), ("height", .int(480))]) }
        if images.isEmpty { images = [] }
        let anns: [JSONValue] = c.gt.annotations.map { a in
            .object([("id", .int(a.id)), ("image_id", .int(a.imageID)), ("category_id", .int(a.categoryID)),
                     ("bbox", .array(a.bbox.map { .double($0) })), ("area", .double(a.area)), ("iscrowd", .int(a.isCrowd ? 1 : 0))])
        }
        let cats: [JSONValue] = c.gt.categories.map { .object([("id", .int($0.id)), ("name", .string($0.name))]) }
        let dets: [JSONValue] = c.dt.map { d in
            .object([("image_id", .int(d.imageID)), ("category_id", .int(d.categoryID)), ("bbox", .array(d.bbox.map { .double($0) })), ("score", .double(d.score))])
        }
        var gtBytes: [UInt8] = [], dtBytes: [UInt8] = []
        JSON.serialize(.object([("images", .array(images)), ("annotations", .array(anns)), ("categories", .array(cats))]), into: &gtBytes)
        JSON.serialize(.array(dets), into: &dtBytes)
        let g = dir + "/gt.json", d = dir + "/dt.json"
        try Data(gtBytes).write(to: URL(fileURLWithPath: g))
        try Data(dtBytes).write(to: URL(fileURLWithPath: d))
        return (g, d)
    }

    /// pycocotools' 12 stats and per-category AP (Detectron2's formula), or nil without pycocotools.
    func pycocotools(_ gt: String, _ dt: String) throws -> (stats: [Double], perCategory: [Double?])? {
        let code = """
            import json, sys, contextlib, io
            import numpy as np
            from pycocotools.coco import COCO
            from pycocotools.cocoeval import COCOeval
            with contextlib.redirect_stdout(io.StringIO()):
                g = COCO(sys.argv[1]); d = g.loadRes(sys.argv[2])
                e = COCOeval(g, d, 'bbox'); e.evaluate(); e.accumulate(); e.summarize()
            per = []
            for k in range(len(e.params.catIds)):
                p = e.eval['precision'][:, :, k, 0, -1]; p = p[p > -1]
                per.append(float(np.mean(p)) if p.size else None)
            print(json.dumps({'stats': [float(x) for x in e.stats], 'per': per}))
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", code, gt, dt]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        let v = try JSON.parse([UInt8](data))
        return (v["stats"]!.array!.map { $0.number! }, v["per"]!.array!.map { $0.number })
    }

    func testMatchesPycocotoolsOnGeneratedCases() throws {
        let dir = try scratch("cocoeval")
        var compared = 0
        for seed in 1...12 as ClosedRange<UInt64> {
            let c = makeCase(seed: seed, images: 6 + Int(seed), categories: 3 + Int(seed % 3))
            let (g, d) = try writeJSON(c, to: dir)
            // Through the files, as users run it.
            let gt = try COCOGroundTruth.load(g)
            let ours = COCOEval.run(groundTruth: gt, detections: try COCODetection.load(d, groundTruth: gt))
            guard let theirs = try pycocotools(g, d) else { throw Missing.requirement("pycocotools is not available (scripts/test installs it)") }
            compared += 1
            for (i, (a, b)) in zip(ours.stats, theirs.stats).enumerated() {
                XCTAssertEqual(a, b, accuracy: 1e-6, "seed \(seed), stat \(i)")
            }
            let per = ours.perCategoryAP()
            XCTAssertEqual(per.count, theirs.perCategory.count)
            for (k, (a, b)) in zip(per, theirs.perCategory).enumerated() {
                if let a, let b { XCTAssertEqual(a, b, accuracy: 1e-6, "seed \(seed), category \(k)") } else { XCTAssertTrue(a == nil && b == nil, "seed \(seed), category \(k): \(String(describing: a)) vs \(String(describing: b))") }
            }
        }
        XCTAssertEqual(compared, 12)
    }

    /// Numbers pycocotools 2.0.11 gave for seed 3 (kept here so the test bites without it).
    func testFixedExpectedNumbers() throws {
        let c = makeCase(seed: 3, images: 9, categories: 3)
        if let dump = ProcessInfo.processInfo.environment["LUNETTE_DUMP_COCO_CASE"] { _ = try writeJSON(c, to: dump) }
        let e = COCOEval.run(groundTruth: c.gt, detections: c.dt)
        let expected = EXPECTED_SEED3
        for (i, (a, b)) in zip(e.stats, expected).enumerated() { XCTAssertEqual(a, b, accuracy: 1e-9, "stat \(i)") }
    }

    func testHandMadeCase() throws {
        // One gt; a perfect detection and a duplicate: AP 1 at every IoU, the duplicate a false positive after recall 1.
        let gt = COCOGroundTruth(imageIDs: [1, 2], categories: [(1, "a"), (2, "b")], annotations: [
            .init(id: 1, imageID: 1, categoryID: 1, bbox: [10, 10, 50, 50], area: 2500, isCrowd: false),
            .init(id: 2, imageID: 1, categoryID: 1, bbox: [200, 200, 50, 50], area: 2500, isCrowd: true)])
        let dets = [COCODetection(imageID: 1, categoryID: 1, bbox: [10, 10, 50, 50], score: 0.9),
                    COCODetection(imageID: 1, categoryID: 1, bbox: [10, 10, 50, 50], score: 0.8),
                    COCODetection(imageID: 1, categoryID: 1, bbox: [210, 210, 20, 20], score: 0.95)]  // inside the crowd: ignored
        let e = COCOEval.run(groundTruth: gt, detections: dets)
        XCTAssertEqual(e.stats[0], 1, accuracy: 1e-12)
        XCTAssertEqual(e.stats[3], -1, "no small ground truth")
        XCTAssertEqual(e.stats[4], 1, accuracy: 1e-12)
        XCTAssertEqual(e.perCategoryAP()[1], nil, "category b has no ground truth")
    }

    func testBadResults() throws {
        let dir = try scratch("badresults")
        let gt = COCOGroundTruth(imageIDs: [1], categories: [(1, "a")], annotations: [])
        try #"[{"image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]"#.write(toFile: dir + "/r.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try COCODetection.load(dir + "/r.json", groundTruth: gt)) { XCTAssertTrue("\($0)".contains("image 9"), "\($0)") }
        try #"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": NaN}]"#.write(toFile: dir + "/r.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try COCODetection.load(dir + "/r.json", groundTruth: gt))
        try #"[{"image_id": 1, "category_id": 4, "bbox": [0, 0, -1, 1], "score": -0.5}]"#.write(toFile: dir + "/r.json", atomically: true, encoding: .utf8)
        _ = DetectionLog.shared.takeWarnings()
        XCTAssertEqual(try COCODetection.load(dir + "/r.json", groundTruth: gt).count, 1)
        let warnings = DetectionLog.shared.takeWarnings().joined(separator: "\n")
        XCTAssertTrue(warnings.contains("category_id 4"), warnings)
        XCTAssertTrue(warnings.contains("negative width or height"), warnings)
        XCTAssertTrue(warnings.contains("negative score"), warnings)
    }
}
