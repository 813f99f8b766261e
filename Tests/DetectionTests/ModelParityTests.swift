import Foundation
import Support
import XCTest
import TestFixtures
import Torch
@testable import Detection

/// Faster R-CNN against Detectron2's own outputs for the same weights and input (set A fixtures).
final class ModelParityTests: XCTestCase {
    override func setUp() { DetectionLog.shared.echo = false }

    func model() throws -> GeneralizedRCNN {
        let cfg = CfgNode.defaults()
        try cfg.mergeFromFile(try Fixtures.path("random/config.yaml"))
        let m = try GeneralizedRCNN(cfg: cfg)
        let report = try m.loadWeights(try Fixtures.path("random/model_final.pth"))
        XCTAssertEqual(report.missing, [])
        XCTAssertEqual(report.unexpected, [])
        XCTAssertEqual(report.loaded.count, 295)
        return m
    }

    func maxDiff(_ a: Tensor, _ b: Tensor) throws -> Double { try (a.to(dtype: .float64) - b.to(dtype: .float64)).abs().max().item() }

    func testStagesAndDetectionsMatchDetectron2() throws {
        let m = try model()
        for tag in ["messi5", "val_00000", "val_00001"] {
            let dir = try Fixtures.path("random/inference/\(tag)")
            func npy(_ name: String) throws -> Tensor { try NPY.read("\(dir)/\(name).npy") }
            let image = try npy("image")
            let batch = try m.preprocess([image])
            let sizes = batch.imageSizes
            let features = try noGrad { try m.backbone.forward(batch.tensor) }
            XCTAssertEqual(m.backbone.outFeatures, ["p2", "p3", "p4", "p5", "p6"])
            for level in ["p2", "p3", "p4", "p5", "p6"] {
                let expected = try npy(level)
                let ours = try XCTUnwrap(features[level], level)
                XCTAssertEqual(ours.shape, expected.shape, "\(tag) \(level)")
                let scale = try expected.abs().max().item()
                XCTAssertLessThan(try maxDiff(ours, expected), 1e-4 * max(1, scale), "\(tag) \(level) (max |value| \(scale))")
            }
            let proposals = try noGrad { try m.proposalGenerator.forward(features, imageSizes: sizes) }[0]
            let expectedBoxes = try npy("proposals_boxes"), expectedLogits = try npy("proposals_objectness_logits")
            XCTAssertEqual(proposals.boxes.shape, expectedBoxes.shape, tag)
            XCTAssertLessThan(try maxDiff(proposals.logits, expectedLogits), 1e-3, "\(tag) proposal logits, in order")
            // Proposals match as a set, except where NMS chose between near-tied neighbours: a row of
            // anchors 4 px apart whose logits differ by ~1e-7 (float noise) keeps a different member.
            // The choice cascades along the chain, so each such expected proposal must have one of ours
            // with the same score (to the logits' 1e-3) that overlaps it beyond the NMS threshold.
            let ours = try rows(proposals.logits, proposals.boxes), expected = try rows(expectedLogits, expectedBoxes)
            let unmatched = unmatchedRows(ours, expected, scoreTolerance: 1e-3, boxTolerance: 1e-2)
            XCTAssertLessThanOrEqual(unmatched.count, expected.count / 100, "\(tag): \(unmatched.count) proposals differ")
            for i in unmatched {
                let e = expected[i]
                XCTAssertTrue(ours.contains { abs($0[0] - e[0]) < 1e-3 && Boxes.iou(xyxy: Array($0[1...4]), Array(e[1...4])) > 0.7 },
                              "\(tag): proposal \(i) \(e) has no near-tied neighbour among ours")
            }
            let instances = try noGrad { try m.roiHeads.forward(features, proposals: [proposals], imageSizes: sizes) }[0]
            XCTAssertEqual(try instances.classes.toArray(Int64.self), try npy("instances_input_coords_pred_classes").toArray(Int64.self), tag)
            XCTAssertLessThan(try maxDiff(instances.scores, npy("instances_input_coords_scores")), 1e-5, "\(tag) scores")
            // (instances_input_coords_pred_boxes holds the rescaled boxes: Detectron2's detector_postprocess
            // scales the Boxes tensor in place, after the fixture had taken it. Boxes are compared below.)
            let original = try npy("original_bgr")
            let final = try detectorPostprocess(instances, height: original.shape[0], width: original.shape[1])
            XCTAssertEqual(try final.classes.toArray(Int64.self), try npy("instances_pred_classes").toArray(Int64.self), tag)
            XCTAssertEqual(unmatchedRows(try rows(final.scores, final.boxes.tensor, final.classes),
                                         try rows(npy("instances_scores"), npy("instances_pred_boxes"), npy("instances_pred_classes")),
                                         scoreTolerance: 1e-5, boxTolerance: 1e-2), [], "\(tag) final instances")
        }
    }
}

/// Rows of (score, box...) matched as sets: every expected row has one of ours within the
/// tolerances. Order can differ where scores are within float noise of each other (the
/// fixture's closest pair of final scores is 1.8e-6 apart).
func unmatchedRows(_ ours: [[Double]], _ expected: [[Double]], scoreTolerance: Double, boxTolerance: Double) -> [Int] {
    var used = [Bool](repeating: false, count: ours.count)
    var missing: [Int] = []
    for (i, e) in expected.enumerated() {
        var found = -1
        for (j, o) in ours.enumerated() where !used[j] && abs(o[0] - e[0]) <= scoreTolerance {
            if zip(o.dropFirst(), e.dropFirst()).allSatisfy({ abs($0 - $1) <= boxTolerance }) { found = j; break }
        }
        if found >= 0 { used[found] = true } else { missing.append(i) }
    }
    return missing
}

func rows(_ scores: Tensor, _ boxes: Tensor, _ classes: Tensor? = nil) throws -> [[Double]] {
    let s = try scores.to(dtype: .float64).toArray(Double.self), b = try boxes.to(dtype: .float64).toArray(Double.self)
    let c = try classes?.to(dtype: .float64).toArray(Double.self)
    return s.indices.map { i in [s[i]] + Array(b[(i * 4)..<(i * 4 + 4)]) + (c.map { [$0[i] * 1000] } ?? []) }
}


/// The trained fixture model, evaluated end to end (decode, resize, model, COCO AP) against the
/// numbers Detectron2 reported for it.
final class TrainedModelParityTests: XCTestCase {
    override func setUp() { DetectionLog.shared.echo = false }

    func testValidationAPMatchesDetectron2() throws {
        let cfg = CfgNode.defaults()
        try cfg.mergeFromFile(try Fixtures.path("trained/config.yaml"))
        let model = try GeneralizedRCNN(cfg: cfg)
        let report = try model.loadWeights(try Fixtures.path("trained/model_final.pth"))
        XCTAssertEqual(report.loaded.count, 295)
        let catalog = DataCatalog()
        try COCO.registerInstances("val", metadata: [:], jsonFile: try Fixtures.path("data/annotations/instances_val.json"),
                                   imageRoot: try Fixtures.path("data/val"), catalog: catalog)
        var settings = LoaderSettings()
        settings.minSizeTest = 384
        settings.maxSizeTest = 512
        settings.numWorkers = 2
        let loader = try TestLoader(dicts: try catalog.get("val"), settings: settings)
        let evaluator = try COCOEvaluator(datasetName: "val", catalog: catalog)
        while let sample = try loader.next() {
            let r = try model.inference([try sample.image.to(dtype: .float32)])[0]
            try evaluator.process(try detectorPostprocess(r, height: sample.height, width: sample.width).with(imageID: sample.imageID))
        }
        let results = try evaluator.evaluate()
        let expected = try JSON.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: try Fixtures.path("trained/eval.json")))))
        for (name, value) in results.bbox {
            guard let e = expected["results"]?["bbox"]?[name]?.number else { XCTFail("eval.json has no \(name)"); continue }
            XCTAssertEqual(value, e, accuracy: 1e-9, name)   // measured: equal to 1e-13
        }
    }
}
