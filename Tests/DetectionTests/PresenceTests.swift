import Foundation
import XCTest
import Vision
@testable import Detection

final class PresenceTests: XCTestCase {
    override func setUp() { DetectionLog.shared.echo = false }

    /// Four images: 1 and 2 have a logo, 3 has a product, 4 nothing.
    let dicts = [
        DatasetDict(fileName: "1", height: 100, width: 100, imageID: 1, annotations: [Annotation(bbox: [0, 0, 50, 50], categoryID: 0)]),
        DatasetDict(fileName: "2", height: 100, width: 100, imageID: 2, annotations: [Annotation(bbox: [10, 10, 20, 20], categoryID: 0)]),
        DatasetDict(fileName: "3", height: 100, width: 100, imageID: 3, annotations: [Annotation(bbox: [50, 50, 40, 40], categoryID: 1)]),
        DatasetDict(fileName: "4", height: 100, width: 100, imageID: 4, annotations: []),
    ]
    let predictions: [Instances] = [
        try! Instances(boxes: [[0, 0, 50, 50], [60, 60, 70, 70]], scores: [0.9, 0.3], classes: [0, 0], imageID: 1),
        try! Instances(boxes: [[10, 10, 30, 30]], scores: [0.35], classes: [1], imageID: 2),   // wrong class
        try! Instances(boxes: [[50, 50, 90, 90]], scores: [0.4], classes: [1], imageID: 3),
        try! Instances(boxes: [[0, 0, 10, 10]], scores: [0.5], classes: [0], imageID: 4),
    ]

    func testCountsAtThresholds() throws {
        let p = try PresenceEvaluation(dicts: dicts, predictions: predictions, classes: ["logo", "product"], thresholds: [0.2, 0.4, 0.6])
        // logo: positives {1: 0.9, 2: none}, negatives {3: none, 4: 0.5}
        XCTAssertEqual(p.counts[0], [PresenceCounts(tp: 1, fp: 1, fn: 1, tn: 1), PresenceCounts(tp: 1, fp: 1, fn: 1, tn: 1),
                                     PresenceCounts(tp: 1, fp: 0, fn: 1, tn: 2)])
        // product: positives {3: 0.4}, negatives {1: none, 2: 0.35, 4: none}; 0.4 >= 0.4 counts
        XCTAssertEqual(p.counts[1], [PresenceCounts(tp: 1, fp: 1, fn: 0, tn: 2), PresenceCounts(tp: 1, fp: 0, fn: 0, tn: 3),
                                     PresenceCounts(tp: 0, fp: 0, fn: 1, tn: 3)])
        XCTAssertEqual(p.counts[0][2].accuracy, 0.75)
        XCTAssertEqual(p.counts[0][2].precision, 1)
        XCTAssertEqual(p.counts[0][2].recall, 0.5)
        XCTAssertEqual(p.counts[1][2].precision, nil, "nothing predicted")
        XCTAssertEqual(p.overall[1], PresenceCounts(tp: 2, fp: 1, fn: 1, tn: 4))
        // Best accuracy for logo: 0.6 (0.75) beats 0.2/0.4 (0.5); product: 0.4 (1.0).
        XCTAssertEqual(try p.best(class: 0, metric: "accuracy")?.threshold, 0.6)
        XCTAssertEqual(try p.best(class: 1, metric: "accuracy")?.threshold, 0.4)
        XCTAssertThrowsError(try p.best(class: 0, metric: "auc"))
    }

    func testSweepTiesGoToTheHigherThresholdAndMatchSingleThresholdRuns() throws {
        let thresholds = try PresenceEvaluation.sweep(from: 0.2, to: 0.99, step: 0.01)
        XCTAssertEqual(thresholds.count, 80)
        XCTAssertEqual(thresholds[20], 0.4)
        XCTAssertEqual(thresholds.last, 0.99)
        let sweep = try PresenceEvaluation(dicts: dicts, predictions: predictions, classes: ["logo", "product"], thresholds: thresholds)
        // Property: each threshold of the sweep equals a run at that threshold alone.
        for (i, t) in thresholds.enumerated() where i % 7 == 0 {
            let single = try PresenceEvaluation(dicts: dicts, predictions: predictions, classes: ["logo", "product"], thresholds: [t])
            XCTAssertEqual(sweep.counts[0][i], single.counts[0][0])
            XCTAssertEqual(sweep.counts[1][i], single.counts[1][0])
        }
        // logo accuracy is 0.75 for every threshold in (0.5, 0.9]: the highest, 0.9, wins.
        XCTAssertEqual(try sweep.best(class: 0, metric: "accuracy")?.threshold, 0.9)
    }

    func testBoxConfusionMatrix() throws {
        let m = try ConfusionMatrix.boxes(dicts: dicts, predictions: predictions, classes: ["logo", "product"], scoreThreshold: 0.3)
        // image 1: 0.9 logo matches logo; 0.3 logo is a false positive (background row)
        // image 2: product prediction on the logo box: logo row, product column
        // image 3: product matches product; image 4: logo on background
        XCTAssertEqual(m.counts, [[1, 1, 0], [0, 1, 0], [2, 0, 0]])
        XCTAssertTrue(m.table.contains("truth \\ predicted"))
        XCTAssertEqual(m.csv.split(separator: "\n").first, "truth\\predicted,logo,product,background")
        let img = try Plots.confusionMatrix(m)
        XCTAssertGreaterThan(img.width, 200)
    }
}
