import Foundation
import XCTest
import TestFixtures
import Torch
@testable import Detection

/// Models built from configs: Detectron2's state-dict names for each option, and a forward pass.
final class ModelBuildTests: XCTestCase {
    func smallConfig(_ changes: [String]) throws -> CfgNode {
        let cfg = CfgNode.defaults()
        try cfg.mergeFromFile(try Fixtures.path("random/config.yaml"))
        try cfg.mergeFromList(changes)
        return cfg
    }

    func testNormsAndConvHeadNames() throws {
        let cfg = try smallConfig(["MODEL.RESNETS.NORM", "GN", "MODEL.RESNETS.STEM_OUT_CHANNELS", "32", "MODEL.RESNETS.WIDTH_PER_GROUP", "32",
                                   "MODEL.RESNETS.RES2_OUT_CHANNELS", "128", "MODEL.FPN.NORM", "GN",
                                   "MODEL.ROI_BOX_HEAD.NUM_CONV", "2", "MODEL.ROI_BOX_HEAD.CONV_DIM", "32", "MODEL.ROI_BOX_HEAD.NORM", "GN",
                                   "MODEL.ROI_BOX_HEAD.NUM_FC", "1"])
        let m = try GeneralizedRCNN(cfg: cfg)
        let names = Set(m.stateDict().map(\.name))
        XCTAssertTrue(names.contains("backbone.bottom_up.stem.conv1.norm.weight"))
        XCTAssertFalse(names.contains("backbone.bottom_up.stem.conv1.norm.running_mean"), "GN has no running statistics")
        XCTAssertTrue(names.contains("backbone.fpn_lateral2.norm.bias"))
        XCTAssertFalse(names.contains("backbone.fpn_lateral2.bias"), "a conv followed by a norm has no bias")
        XCTAssertTrue(names.contains("roi_heads.box_head.conv2.norm.weight"))
        XCTAssertTrue(names.contains("roi_heads.box_head.fc1.weight"))
        XCTAssertFalse(names.contains("roi_heads.box_head.fc2.weight"))
        // Random weights so the forward pass exercises every layer.
        try noGrad { for (_, slot) in m.namedParameters() { try slot.tensor.normal_(mean: 0, std: 0.01) } }
        let out = try m.inference([try Tensor.rand([3, 96, 128]) * 255])
        XCTAssertEqual(out.count, 1)
        XCTAssertLessThanOrEqual(out[0].count, 100)
    }

    /// The blocks' in-place ReLU and residual add (as Detectron2's F.relu_ and +=) must leave
    /// autograd a valid graph (libtorch throws if an in-place op overwrote a saved tensor), and
    /// FREEZE_AT 2 leaves the stem and res2 without gradients, as in Detectron2.
    func testInPlaceBlocksKeepGradientsFlowingAndFreezeAt() throws {
        for norm in ["BN", "FrozenBN", "GN"] {
            let m = try GeneralizedRCNN(cfg: try smallConfig(["MODEL.RESNETS.NORM", norm, "MODEL.BACKBONE.FREEZE_AT", "2",
                                                              "MODEL.RESNETS.STEM_OUT_CHANNELS", "32", "MODEL.RESNETS.WIDTH_PER_GROUP", "32",
                                                              "MODEL.RESNETS.RES2_OUT_CHANNELS", "128"]))
            try noGrad { for (_, slot) in m.namedParameters() where slot.tensor.dim > 1 { try slot.tensor.normal_(mean: 0, std: 0.1) } }
            m.train()
            let features = try m.backbone.forward(try Tensor.rand([2, 3, 64, 64]))
            var loss = try Tensor.zeros([])
            for (_, f) in features { loss = try loss + (f * f).sum() }
            try loss.backward()
            let grads = Dictionary(uniqueKeysWithValues: m.namedParameters().map { ($0.0, $0.1.tensor.grad) })
            for name in ["backbone.bottom_up.stem.conv1.weight", "backbone.bottom_up.res2.2.conv3.weight"] {
                XCTAssertNil(grads[name] ?? nil, "\(norm): \(name) is frozen")
            }
            for name in ["backbone.bottom_up.res3.0.conv1.weight", "backbone.bottom_up.res5.0.conv3.weight", "backbone.fpn_output2.weight"] {
                let g = try XCTUnwrap(grads[name] ?? nil, "\(norm): \(name) has no gradient")
                XCTAssertEqual(try g.isfinite().to(dtype: .float64).sum().item(), Double(g.numel), "\(norm): \(name)")
                XCTAssertGreaterThan(try g.abs().sum().item(), 0, "\(norm): \(name)")
            }
        }
    }

    func testBatchNormAndResNet18() throws {
        let bn = try GeneralizedRCNN(cfg: try smallConfig(["MODEL.RESNETS.NORM", "BN"]))
        let bnNames = Set(bn.stateDict().map(\.name))
        XCTAssertTrue(bnNames.contains("backbone.bottom_up.res3.0.conv1.norm.num_batches_tracked"))
        XCTAssertFalse(bnNames.contains("backbone.bottom_up.res2.0.conv1.norm.num_batches_tracked"), "FREEZE_AT 2 makes res2's BN FrozenBN")
        let r18 = try GeneralizedRCNN(cfg: try smallConfig(["MODEL.RESNETS.DEPTH", "18", "MODEL.RESNETS.RES2_OUT_CHANNELS", "64",
                                                            "MODEL.RESNETS.STEM_OUT_CHANNELS", "64"]))
        let names = Set(r18.stateDict().map(\.name))
        XCTAssertTrue(names.contains("backbone.bottom_up.res2.1.conv2.weight"))
        XCTAssertFalse(names.contains("backbone.bottom_up.res2.0.conv3.weight"), "basic blocks have two convs")
        XCTAssertEqual(r18.stateDict().first { $0.name == "backbone.bottom_up.res5.0.conv1.weight" }?.tensor.shape, [512, 256, 3, 3])
        _ = try r18.inference([try Tensor.rand([3, 64, 64]) * 255])
    }

    func testBadConfigsNameTheKey() throws {
        XCTAssertThrowsError(try GeneralizedRCNN(cfg: try smallConfig(["MODEL.RESNETS.NORM", "LN"]))) {
            XCTAssertTrue("\($0)".contains("MODEL.RESNETS.NORM: unknown norm 'LN'"), "\($0)")
        }
        XCTAssertThrowsError(try GeneralizedRCNN(cfg: try smallConfig(["MODEL.RESNETS.DEPTH", "42"]))) {
            XCTAssertTrue("\($0)".contains("MODEL.RESNETS.DEPTH"), "\($0)")
        }
    }

    func testFineTuningWithOtherClassesSkipsThePredictor() throws {
        DetectionLog.shared.echo = false
        _ = DetectionLog.shared.takeWarnings()
        let m = try GeneralizedRCNN(cfg: try smallConfig(["MODEL.ROI_HEADS.NUM_CLASSES", "2"]))
        let report = try m.loadWeights(try Fixtures.path("random/model_final.pth"))
        XCTAssertEqual(Set(report.mismatched.map(\.name)), ["roi_heads.box_predictor.cls_score.weight", "roi_heads.box_predictor.cls_score.bias",
                                                             "roi_heads.box_predictor.bbox_pred.weight", "roi_heads.box_predictor.bbox_pred.bias"])
        let warnings = DetectionLog.shared.takeWarnings().joined(separator: "\n")
        XCTAssertTrue(warnings.contains("Skip loading parameter 'roi_heads.box_predictor.cls_score.weight' to the model due to incompatible shapes: [6, 64] in the checkpoint but [3, 64] in the model!"), warnings)
    }
}
