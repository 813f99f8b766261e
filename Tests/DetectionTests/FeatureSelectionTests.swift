import Foundation
import XCTest
import TestFixtures
import Torch
@testable import Detection

/// The RPN and the ROI heads read the backbone's features by name: a config that names other
/// levels uses those levels, and only those (Detectron2's canonical mapping clamps to them).
final class FeatureSelectionTests: XCTestCase {
    override func setUp() { DetectionLog.shared.echo = false }

    func model(_ changes: [String]) throws -> GeneralizedRCNN {
        let cfg = CfgNode.defaults()
        try cfg.mergeFromFile(try Fixtures.path("random/config.yaml"))
        try cfg.mergeFromList(changes)
        let m = try GeneralizedRCNN(cfg: cfg)
        try m.loadWeights(try Fixtures.path("random/model_final.pth"))
        return m
    }

    /// The fixture image through the backbone, once.
    func features(_ m: GeneralizedRCNN) throws -> (features: [String: Tensor], sizes: [(Int, Int)]) {
        let image = try NPY.read(try Fixtures.path("random/inference/val_00000") + "/image.npy")
        let batch = try m.preprocess([image])
        return (try noGrad { try m.backbone.forward(batch.tensor) }, batch.imageSizes)
    }

    /// `features` with one level replaced by zeros.
    func zeroing(_ level: String, in features: [String: Tensor]) throws -> [String: Tensor] {
        var f = features
        f[level] = try Tensor.zeros(features[level]!.shape)
        return f
    }

    func detections(_ m: GeneralizedRCNN, _ features: [String: Tensor], _ sizes: [(Int, Int)]) throws -> [Double] {
        try noGrad {
            let proposals = try m.proposalGenerator.forward(features, imageSizes: sizes)
            let out = try m.roiHeads.forward(features, proposals: proposals, imageSizes: sizes)[0]
            return try out.scores.to(dtype: .float64).toArray(Double.self) + out.boxes.tensor.to(dtype: .float64).toArray(Double.self)
        }
    }

    func proposals(_ m: GeneralizedRCNN, _ features: [String: Tensor], _ sizes: [(Int, Int)]) throws -> [Double] {
        try noGrad { try m.proposalGenerator.forward(features, imageSizes: sizes)[0].logits.to(dtype: .float64).toArray(Double.self) }
    }

    func testROIHeadsPoolOnlyTheNamedLevels() throws {
        let standard = try model([])
        XCTAssertEqual(standard.roiHeads.pooler.minLevel, 2)
        XCTAssertEqual(standard.roiHeads.pooler.maxLevel, 5)
        let (f, sizes) = try features(standard)
        // p2 matters to the standard heads ...
        XCTAssertNotEqual(try detections(standard, f, sizes), try detections(standard, try zeroing("p2", in: f), sizes))

        let m = try model(["MODEL.ROI_HEADS.IN_FEATURES", "['p3', 'p4', 'p5']"])
        XCTAssertEqual(m.roiHeads.pooler.scales, [1.0 / 8, 1.0 / 16, 1.0 / 32])
        XCTAssertEqual(m.roiHeads.pooler.minLevel, 3)
        XCTAssertEqual(m.roiHeads.pooler.maxLevel, 5)
        // ... and not to heads that pool p3..p5 (the RPN still reads p2, so keep its proposals fixed).
        let props = try noGrad { try m.proposalGenerator.forward(f, imageSizes: sizes) }
        func heads(_ features: [String: Tensor]) throws -> [Double] {
            try noGrad { try m.roiHeads.forward(features, proposals: props, imageSizes: sizes)[0].scores.to(dtype: .float64).toArray(Double.self) }
        }
        let ours = try heads(f)
        XCTAssertEqual(ours, try heads(try zeroing("p2", in: f)))
        XCTAssertEqual(ours, try heads(try zeroing("p6", in: f)))
        XCTAssertNotEqual(ours, try heads(try zeroing("p3", in: f)))
        // Boxes too small for p3 are clamped to it: level index 0 of the three.
        let tiny = try Tensor([Float(0), 0, 4, 4, 0, 0, 2000, 2000], shape: [2, 4])
        XCTAssertEqual(try m.roiHeads.pooler.assignLevels(tiny).toArray(Int64.self), [0, 2])
    }

    /// A valid Detectron2 config that crashed the process before (an index out of range in the
    /// anchor generator): the RPN on p3..p6 with one anchor size per level.
    func testRPNOnP3ToP6() throws {
        let m = try model(["MODEL.RPN.IN_FEATURES", "['p3', 'p4', 'p5', 'p6']",
                           "MODEL.ANCHOR_GENERATOR.SIZES", "[[64], [128], [256], [512]]"])
        XCTAssertEqual(m.proposalGenerator.anchorGenerator.strides, [8, 16, 32, 64])
        let (f, sizes) = try features(m)
        let ours = try proposals(m, f, sizes)
        XCTAssertFalse(ours.isEmpty)
        XCTAssertEqual(ours, try proposals(m, try zeroing("p2", in: f), sizes))
        XCTAssertNotEqual(ours, try proposals(m, try zeroing("p6", in: f), sizes))
        // Anchors per level follow the level's own feature map.
        let anchors = try m.proposalGenerator.anchorGenerator.anchors(featureSizes: ["p3", "p4", "p5", "p6"].map { (f[$0]!.shape[2], f[$0]!.shape[3]) }, device: .cpu)
        XCTAssertEqual(anchors.map { $0.shape[0] }, ["p3", "p4", "p5", "p6"].map { f[$0]!.shape[2] * f[$0]!.shape[3] * 3 })
        _ = try m.inference([try NPY.read(try Fixtures.path("random/inference/val_00000") + "/image.npy")])
    }

    func testBadFeatureNamesAreErrorsNamingTheKey() throws {
        let cases: [([String], String)] = [
            (["MODEL.RPN.IN_FEATURES", "['p7']"], "MODEL.RPN.IN_FEATURES names 'p7', which the backbone does not give; it gives p2, p3, p4, p5, p6"),
            (["MODEL.ROI_HEADS.IN_FEATURES", "['res4']"], "MODEL.ROI_HEADS.IN_FEATURES names 'res4', which the backbone does not give"),
            (["MODEL.ROI_HEADS.IN_FEATURES", "['p2', 'p4']"], "MODEL.ROI_HEADS.IN_FEATURES: the pooler needs consecutive levels"),
            (["MODEL.FPN.IN_FEATURES", "['res2', 'res4']"], "MODEL.FPN.IN_FEATURES [\"res2\", \"res4\"] have strides [4, 16]"),
            (["MODEL.FPN.IN_FEATURES", "['res6']"], "MODEL.FPN.IN_FEATURES names 'res6'"),
            (["MODEL.RPN.IN_FEATURES", "['p3', 'p4']"], "MODEL.ANCHOR_GENERATOR.SIZES has 5 lists for 2 feature maps"),
            (["MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS", "[[0.5], [1.0]]"], "MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS has 2 lists for 5 feature maps"),
            (["MODEL.ANCHOR_GENERATOR.SIZES", "[[32], [64, 96], [128], [256], [512]]"], "anchors per location on different feature maps"),
        ]
        for (changes, expected) in cases {
            XCTAssertThrowsError(try model(changes), "\(changes)") { XCTAssertTrue("\($0)".contains(expected), "\(changes): \($0)") }
        }
    }
}
