import Foundation
import TestFixtures
import XCTest
@testable import Detection
import Store

/// The tuning half's parts that need no training: the threshold sweep against brute force, the
/// stores' layout checks, the final-models registry, the dataset snapshot.
final class TuningTests: XCTestCase {

    func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "tuning-tests-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Generated datasets and predictions: every class's counts at every threshold of a sweep, and
    /// its chosen threshold, equal a brute-force count (scores on the 0.01 grid included, so
    /// ties and scores equal to a threshold are exercised).
    func testSweepAgreesWithABruteForceCount() throws {
        var g = SplitMix(state: 42)
        for round in 0..<25 {
            let classes = ["logo", "product", "face"]
            let n = Int.random(in: 1...40, using: &g)
            var dicts: [DatasetDict] = [], predictions: [Instances] = []
            for i in 0..<n {
                var anns: [Annotation] = []
                for k in classes.indices where Bool.random(using: &g) {
                    anns.append(Annotation(bbox: [1, 1, 5, 5], categoryID: k))
                }
                dicts.append(DatasetDict(fileName: "\(i).jpg", height: 10, width: 10, imageID: Int64(i + 1), annotations: anns))
                let m = Int.random(in: 0...4, using: &g)
                let scores = (0..<m).map { _ in Bool.random(using: &g) ? Double(Int.random(in: 0...100, using: &g)) / 100 : Double.random(in: 0...1, using: &g) }
                let cls = (0..<m).map { _ in Int.random(in: 0..<classes.count, using: &g) }
                predictions.append(try Instances(boxes: Array(repeating: [0, 0, 4, 4], count: m), scores: scores, classes: cls, imageID: Int64(i + 1)))
            }
            let metric = ["accuracy", "precision", "recall", "f1"][round % 4]
            let sweep = try ThresholdSweep(dicts: dicts, predictions: predictions, classes: classes, from: 0.2, to: 0.99, step: 0.01, metric: metric, source: "generated")
            XCTAssertEqual(sweep.presence.thresholds.count, 80)
            var expectedBest: [(String, Double, Double)] = []
            for k in classes.indices {
                var best: (Double, Double)?
                for (ti, t) in sweep.presence.thresholds.enumerated() {
                    var c = PresenceCounts()
                    for (d, p) in zip(dicts, predictions) {
                        let truly = d.annotations.contains { $0.categoryID == k }
                        let (_, scores, cls) = try p.asLists()
                        let said = zip(scores, cls).contains { $0.1 == k && $0.0 >= t }
                        switch (truly, said) {
                        case (true, true): c.tp += 1
                        case (true, false): c.fn += 1
                        case (false, true): c.fp += 1
                        case (false, false): c.tn += 1
                        }
                    }
                    XCTAssertEqual(sweep.presence.counts[k][ti], c, "round \(round), class \(k), threshold \(t)")
                    if let v = try c.metric(metric), best == nil || v > best!.1 || (v == best!.1 && t > best!.0) { best = (t, v) }
                }
                if let best { expectedBest.append((classes[k], best.0, best.1)) }
            }
            let got = try sweep.bestPerClass()
            XCTAssertEqual(got.map(\.className), expectedBest.map(\.0), "round \(round)")
            XCTAssertEqual(got.map(\.threshold), expectedBest.map(\.1), "round \(round): ties go to the higher threshold")
            XCTAssertEqual(got.map(\.value), expectedBest.map(\.2), "round \(round)")
        }
    }

    func testSweepRefusesBadRanges() throws {
        let d = [DatasetDict(fileName: "a.jpg", height: 1, width: 1, imageID: 1, annotations: [])]
        let p = [try Instances(boxes: [], scores: [], classes: [], imageID: 1)]
        XCTAssertThrowsError(try ThresholdSweep(dicts: d, predictions: p, classes: ["logo"], from: 0.5, to: 0.2, step: 0.01, metric: "accuracy", source: "x"))
        XCTAssertThrowsError(try ThresholdSweep(dicts: d, predictions: p, classes: ["logo"], from: 0.2, to: 0.9, step: 0, metric: "accuracy", source: "x"))
        XCTAssertThrowsError(try ThresholdSweep(dicts: d, predictions: p, classes: ["logo"], from: 0.2, to: 0.9, step: 0.01, metric: "AP", source: "x")) {
            XCTAssertTrue("\($0)".contains("metric must be accuracy, precision, recall or f1"), "\($0)")
        }
    }

    /// COCO results read back per image with contiguous ids; a category the dataset lacks is an error.
    func testStoredPredictionsReadBack() throws {
        let dicts = [DatasetDict(fileName: "a.jpg", height: 10, width: 10, imageID: 7, annotations: []),
                     DatasetDict(fileName: "b.jpg", height: 10, width: 10, imageID: 9, annotations: [])]
        let json = #"[{"image_id": 9, "category_id": 12, "bbox": [1, 2, 3, 4], "score": 0.5}]"#
        let p = try TrialScores.predictions(cocoResultsJSON: json, dicts: dicts, idMap: [12: 1, 3: 0], source: "r.json")
        XCTAssertEqual(p.count, 2)
        XCTAssertEqual(p[0].count, 0)
        let (boxes, scores, classes) = try p[1].asLists()
        XCTAssertEqual(boxes, [[1, 2, 4, 6]])
        XCTAssertEqual(scores, [0.5])
        XCTAssertEqual(classes, [1])
        XCTAssertThrowsError(try TrialScores.predictions(cocoResultsJSON: json, dicts: dicts, idMap: [3: 0], source: "r.json")) {
            XCTAssertTrue("\($0)".contains("r.json: detection 0 has category_id 12"), "\($0)")
        }
        XCTAssertThrowsError(try TrialScores.predictions(cocoResultsJSON: #"{"a": 1}"#, dicts: dicts, idMap: nil, source: "r.json"))
    }

    func testAStoreFromANewerLunetteIsRefused() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SearchStore(path: dir + "/search.sqlite", version: "0.1.0")
        try store.setMeta("written_by", "9.0.0")
        try store.setMeta("schema", "99")
        XCTAssertThrowsError(try SearchStore(path: dir + "/search.sqlite", version: "0.1.0")) {
            XCTAssertTrue("\($0)".contains("written by Lunette 9.0.0 (store layout 99)"), "\($0)")
            XCTAssertTrue("\($0)".contains("use another output_dir"), "\($0)")
        }
    }

    /// record, get, for_brand and the CSV; the SHA-256 is the file's.
    func testFinalModelsRegistry() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "abc".write(toFile: dir + "/w.pth", atomically: true, encoding: .utf8)
        XCTAssertEqual(try Digest.sha256(file: dir + "/w.pth"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let models = try FinalModels(path: dir + "/models.sqlite", version: "0.1.0")
        XCTAssertTrue(try models.table().contains("none recorded yet"))
        func model(_ brand: String, _ object: String, _ threshold: Double) -> FinalModels.Model {
            FinalModels.Model(brand: brand, object: object, trialID: "t1", params: [("SOLVER.MAX_ITER", .int(300))], maxIter: 300, batchSize: 512,
                              threshold: threshold, thresholds: [(object, threshold)], metric: "accuracy", value: 0.91, ap: 40.5,
                              weights: dir + "/w.pth", sha256: "ba78", config: CfgNode.defaults().dump(), classes: [object],
                              baseline: object == "face" ? "haar: haarcascade_frontalface_default.xml" : nil, baselineValue: object == "face" ? 0.6 : nil,
                              searchDir: dir, recorded: 1)
        }
        try models.record(model("brandA", "logo", 0.43))
        try models.record(model("brandA", "face", 0.6))
        try models.record(model("brandB", "logo", 0.5))
        let reopened = try FinalModels(path: dir + "/models.sqlite", version: "0.1.0")
        XCTAssertEqual(try reopened.forBrand("brandA").map(\.object), ["face", "logo"])
        let logo = try reopened.get(brand: "brandA", object: "logo")
        XCTAssertEqual(logo.threshold, 0.43)
        XCTAssertEqual(logo.thresholds.map(\.threshold), [0.43])
        XCTAssertEqual(logo.params.first?.value, .int(300))
        XCTAssertEqual(try FinalModels.config(of: logo).dump(), CfgNode.defaults().dump(), "the config comes back whole")
        let csv = try reopened.csv().split(separator: "\n").map(String.init)
        XCTAssertEqual(csv[0], "brand,object,MAX_ITER,BATCH_SIZE_PER_IMAGE,threshold,metric,value,AP,baseline,baseline_value,weights,sha256")
        XCTAssertEqual(csv.count, 4)
        XCTAssertTrue(csv[1].hasPrefix("brandA,face,300,512,0.60,accuracy,0.9100,40.50,haar: haarcascade_frontalface_default.xml,0.6000,"), csv[1])
        XCTAssertThrowsError(try reopened.get(brand: "brandC", object: "logo")) { XCTAssertTrue("\($0)".contains("recorded: brandA/face"), "\($0)") }
        XCTAssertThrowsError(try reopened.forBrand("brandZ")) { XCTAssertTrue("\($0)".contains("brands: brandA, brandB"), "\($0)") }
        XCTAssertTrue(try reopened.markdown().hasPrefix("| brand | object |"))
        // Recording again replaces the row (with a warning), it does not add one.
        try reopened.record(model("brandB", "logo", 0.55))
        XCTAssertEqual(try reopened.all().count, 3)
        XCTAssertEqual(try reopened.get(brand: "brandB", object: "logo").threshold, 0.55)
    }

    /// What a worker process reads back is what the search saw.
    func testDatasetSnapshotRoundTrip() throws {
        let catalog = DataCatalog()
        let dicts = [DatasetDict(fileName: "/data/a.jpg", height: 10, width: 20, imageID: 3,
                                 annotations: [Annotation(bbox: [1, 2, 3, 4], categoryID: 1, isCrowd: 0), Annotation(bbox: [0, 0, 5, 5], bboxMode: .xyxyAbs, categoryID: 0, isCrowd: 1)])]
        try catalog.register("tr") { dicts }
        try catalog.register("va") { dicts }
        try catalog.metadata("va").set("thing_classes", .strings(["logo", "face"]))
        try catalog.metadata("va").set("thing_dataset_id_to_contiguous_id", .idMap([5: 0, 9: 1]))
        let s = try DatasetSnapshot(train: "tr", valid: "va", catalog: catalog)
        let back = try DatasetSnapshot(text: s.text)
        XCTAssertEqual(back.hash, s.hash)
        XCTAssertEqual(back.valid.dicts, dicts)
        XCTAssertEqual(back.valid.classes, ["logo", "face"])
        XCTAssertEqual(back.valid.idMap, [5: 0, 9: 1])
        XCTAssertEqual(back.classes, ["logo", "face"])
        let c = try back.catalog()
        XCTAssertEqual(try c.get("va"), dicts)
        XCTAssertThrowsError(try DatasetSnapshot(text: "{}"))
    }
}
