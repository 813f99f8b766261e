import Foundation
import Support
import XCTest
import TestFixtures
import Torch
@testable import Detection

/// Training losses against Detectron2 v0.6 on a fixed batch. The reference numbers come from
/// scripts/reference/train_losses.py (run once beside a Detectron2 build; see its header): the
/// trained fixture model in train mode on train_00000.jpg and train_00001.jpg at their own size
/// (384x512, so no resize) without flips, with RPN and ROI sampling set to take every labelled
/// anchor and proposal so that random sampling cannot change the sums.
final class TrainingLossTests: XCTestCase {
    override func setUp() { DetectionLog.shared.echo = false }

    static let expectedLosses: [(String, Double)] = [
        ("loss_cls", 0.22950692474842072), ("loss_box_reg", 0.12355948239564896),
        ("loss_rpn_cls", 0.0015666685067117214), ("loss_rpn_loc", 8.415122465521563e-06),
    ]
    static let expectedMetrics: [String: Double] = [
        "fast_rcnn/cls_accuracy": 0.924800796812749, "fast_rcnn/false_negative": 0.5375, "fast_rcnn/fg_cls_accuracy": 0.3375,
        "roi_head/num_bg_samples": 964.0, "roi_head/num_fg_samples": 40.0, "rpn/num_neg_anchors": 48301.0, "rpn/num_pos_anchors": 14.5,
    ]
    static let expectedGradNorms: [String: Double] = [
        "backbone.bottom_up.res3.0.conv1.weight": 0.49210813323937713, "backbone.bottom_up.res5.2.conv3.weight": 1.0138209747559326,
        "backbone.fpn_output2.weight": 2.2722379065133893, "proposal_generator.rpn_head.conv.weight": 0.0954149360670152,
        "roi_heads.box_head.fc1.weight": 5.51056911902434, "roi_heads.box_predictor.bbox_pred.bias": 0.00809167195891551,
        "roi_heads.box_predictor.cls_score.weight": 16.35279064253749,
    ]

    func fixedBatch() throws -> (GeneralizedRCNN, [Tensor], [TrainingTargets]) {
        let cfg = CfgNode.defaults()
        try cfg.mergeFromFile(try Fixtures.path("trained/config.yaml"))
        try cfg.mergeFromList(["MODEL.RPN.BATCH_SIZE_PER_IMAGE", "1000000", "MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE", "100000",
                               "MODEL.ROI_HEADS.POSITIVE_FRACTION", "1.0"])
        let model = try GeneralizedRCNN(cfg: cfg, initialize: false)
        XCTAssertEqual(try model.loadWeights(try Fixtures.path("trained/model_final.pth")).missing, [])
        model.train()
        let data = try COCO.load(jsonFile: try Fixtures.path("data/annotations/instances_train.json"), imageRoot: try Fixtures.path("data/train"))
        let mapper = DatasetMapper(isTrain: true, resize: try ResizeShortestEdge(shortEdgeLengths: [384], maxSize: 512), flipProbability: 0)
        var rng = SplitMix64(seed: 0)
        var images: [Tensor] = [], targets: [TrainingTargets] = []
        for name in ["train_00000.jpg", "train_00001.jpg"] {
            let d = try XCTUnwrap(data.dicts.first { $0.fileName.hasSuffix(name) })
            let s = try mapper.map(d, rng: &rng)
            images.append(s.image)
            targets.append(TrainingTargets(boxes: s.gtBoxes!, classes: s.gtClasses!))
        }
        return (model, images, targets)
    }

    func testLossesMetricsAndGradientsMatchDetectron2() throws {
        let (model, images, targets) = try fixedBatch()
        let out = try model.trainingForward(images: images, targets: targets)
        XCTAssertEqual(out.losses.map(\.name), Self.expectedLosses.map(\.0))
        for ((name, value), (_, expected)) in zip(out.losses, Self.expectedLosses) {
            XCTAssertEqual(try value.item(), expected, accuracy: 2e-5 * abs(expected), name)
        }
        let metrics = Dictionary(uniqueKeysWithValues: out.metrics.map { ($0.name, $0.value) })
        XCTAssertEqual(Set(metrics.keys), Set(Self.expectedMetrics.keys))
        for (name, expected) in Self.expectedMetrics { XCTAssertEqual(metrics[name] ?? .nan, expected, accuracy: 1e-12, name) }
        let total = try out.losses.dropFirst().reduce(out.losses[0].value) { try $0 + $1.value }
        try total.backward()
        let params = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.slot.tensor) })
        for (name, expected) in Self.expectedGradNorms {
            let grad = try XCTUnwrap(params[name]?.grad, name)
            let norm = try grad.to(dtype: .float64).pow(2).sum().sqrt().item()
            XCTAssertEqual(norm, expected, accuracy: 1e-4 * expected, name)
        }
        // Frozen stages (FREEZE_AT 2) take no gradient.
        XCTAssertNil(params["backbone.bottom_up.res2.0.conv1.weight"]?.grad)
        XCTAssertFalse(params["backbone.bottom_up.stem.conv1.weight"]?.requiresGrad ?? true)
    }
}
