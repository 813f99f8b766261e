import Foundation
import Support
import XCTest
import TestFixtures
import Torch
@testable import Detection

final class CheckpointTests: XCTestCase {
    override func setUp() { DetectionLog.shared.echo = false }

    func testFixtureWeightsReadTheSameFromPthAndPkl() throws {
        let pth = try Checkpoint.load(try Fixtures.path("random/model_final.pth"))
        let pkl = try Checkpoint.load(try Fixtures.path("random/weights.pkl"))
        XCTAssertEqual(pth.format, "torch-zip")
        XCTAssertEqual(pkl.format, "pickle")
        XCTAssertEqual(pth.model.count, 295)
        XCTAssertEqual(pth.model.map(\.name), pkl.model.map(\.name))
        let manifest = try JSON.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: try Fixtures.path("random/weights_manifest.json")))))
        var values = 0
        for ((name, a), (_, b)) in zip(pth.model, pkl.model) {
            XCTAssertTrue(try a.equal(b), name)
            XCTAssertEqual(a.shape, manifest[name]?["shape"]?.array?.compactMap { $0.integer }.map { Int($0) }, name)
            values += a.numel
        }
        XCTAssertEqual(values, 1_678_105, "the README's count")
        // Through safetensors and back.
        let dir = try scratch("ckpt")
        try SafeTensors.write(pth.model, to: dir + "/m.safetensors")
        let st = try Checkpoint.load(dir + "/m.safetensors")
        XCTAssertEqual(st.format, "safetensors")
        for ((n, a), (_, b)) in zip(pth.model, st.model) { XCTAssertTrue(try a.equal(b), n) }
    }

    /// Data/legacy.pth was written by torch 1.13 with `_use_new_zipfile_serialization=False` (the
    /// pre-1.6 format): views share one storage at an offset, a transposed float64 tensor keeps its
    /// strides, and int64 values keep their sign.
    func testLegacyPthFromTorch() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Data/legacy.pth").path
        let ckpt = try Checkpoint.load(file)
        XCTAssertEqual(ckpt.format, "torch-legacy")
        XCTAssertEqual(ckpt.iteration, 41)
        XCTAssertEqual(ckpt.model.map(\.name), ["backbone.conv.weight", "backbone.conv.bias", "head.transposed", "head.steps", "head.whole"])
        let sd = ckpt.stateDict
        XCTAssertEqual(sd["backbone.conv.weight"]?.shape, [3, 4])
        XCTAssertEqual(try sd["backbone.conv.weight"]?.toArray(Float.self), (4..<16).map { Float($0) })
        XCTAssertEqual(try sd["backbone.conv.bias"]?.toArray(Float.self), [0, 1, 2])
        XCTAssertEqual(sd["head.transposed"]?.dtype, .float64)
        XCTAssertEqual(sd["head.transposed"]?.shape, [3, 2])
        XCTAssertEqual(try sd["head.transposed"]?.toArray(Double.self), [0, 3, 1, 4, 2, 5])
        XCTAssertEqual(try sd["head.steps"]?.toArray(Int64.self), [7, -8, 9])
        XCTAssertEqual(try sd["head.whole"]?.toArray(Float.self), (0..<24).map { Float($0) })

        // Cut short, the file is refused with its path named rather than read as garbage.
        let cut = try scratch("legacy") + "/cut.pth"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        try bytes.prefix(bytes.count - 40).write(to: URL(fileURLWithPath: cut))
        XCTAssertThrowsError(try Checkpoint.load(cut)) { XCTAssertTrue("\($0)".contains(cut), "\($0)") }
    }

    func testTrainedCheckpointWithOptimizerState() throws {
        let c = try Checkpoint.load(try Fixtures.path("trained/model_final.pth"))
        XCTAssertEqual(c.model.count, 295)
        XCTAssertNotNil(c.iteration)
    }

    func testHostilePicklesAreRefusedByName() throws {
        let dir = try scratch("pickle")
        // pickle.dumps(os.system) and a REDUCE of posix.system("echo hi"), protocol 2.
        let evil: [UInt8] = [0x80, 0x02, 0x63] + Array("posix\nsystem\n".utf8) + [0x71, 0x00, 0x58, 0x07, 0x00, 0x00, 0x00] + Array("echo hi".utf8) + [0x85, 0x52, 0x2E]
        try Data(evil).write(to: URL(fileURLWithPath: dir + "/evil.pkl"))
        XCTAssertThrowsError(try Checkpoint.load(dir + "/evil.pkl")) { error in
            XCTAssertTrue("\(error)".contains("refusing the global posix.system"), "\(error)")
        }
        try Data([0x80, 0x02, 0x7D, 0x71, 0x00, 0x28, 0x75, 0x2E]).write(to: URL(fileURLWithPath: dir + "/empty.pkl"))
        XCTAssertThrowsError(try Checkpoint.load(dir + "/empty.pkl")) { XCTAssertTrue("\($0)".contains("no tensors found")) }
        let pth = try Data(contentsOf: URL(fileURLWithPath: try Fixtures.path("random/model_final.pth")))
        try pth.prefix(pth.count / 2).write(to: URL(fileURLWithPath: dir + "/truncated.pth"))
        XCTAssertThrowsError(try Checkpoint.load(dir + "/truncated.pth"))
        XCTAssertThrowsError(try Checkpoint.load(dir + "/missing.pth")) { XCTAssertTrue("\($0)".contains("cannot open")) }
    }
}

final class Caffe2NamesTests: XCTestCase {
    func testImageNetAndDetectronNames() {
        XCTAssertEqual(Caffe2Names.detectron("conv1_w"), "stem.conv1.weight")
        XCTAssertEqual(Caffe2Names.detectron("res_conv1_bn_s"), "stem.conv1.norm.weight")
        XCTAssertEqual(Caffe2Names.detectron("res_conv1_bn_b"), "stem.conv1.norm.bias")
        XCTAssertEqual(Caffe2Names.detectron("res2_0_branch2a_w"), "res2.0.conv1.weight")
        XCTAssertEqual(Caffe2Names.detectron("res3_1_branch2b_bn_s"), "res3.1.conv2.norm.weight")
        XCTAssertEqual(Caffe2Names.detectron("res4_0_branch1_w"), "res4.0.shortcut.weight")
        XCTAssertEqual(Caffe2Names.detectron("res5_2_branch2c_bn_b"), "res5.2.conv3.norm.bias")
        XCTAssertEqual(Caffe2Names.detectron("fpn_inner_res4_5_sum_lateral_w"), "fpn_lateral4.weight")
        XCTAssertEqual(Caffe2Names.detectron("fpn_res3_3_sum_b"), "fpn_output3.bias")
        XCTAssertEqual(Caffe2Names.detectron("conv_rpn_fpn2_w"), "proposal_generator.rpn_head.conv.weight")
        XCTAssertEqual(Caffe2Names.detectron("rpn_bbox_pred_fpn2_b"), "proposal_generator.rpn_head.anchor_deltas.bias")
        XCTAssertEqual(Caffe2Names.detectron("fc6_w"), "box_head.fc1.weight")
        XCTAssertEqual(Caffe2Names.detectron("cls_score_b"), "cls_score.bias")
    }

    func testSuffixAlignmentTakesTheLongestMatch() throws {
        let m = try Caffe2Names.align(modelKeys: ["backbone.bottom_up.stem.conv1.weight", "backbone.bottom_up.res2.0.conv1.weight", "roi_heads.box_head.fc1.weight"],
                                      checkpointKeys: ["stem.conv1.weight", "res2.0.conv1.weight", "conv1.weight", "box_head.fc1.weight", "fc1000.weight"])
        XCTAssertEqual(m["backbone.bottom_up.stem.conv1.weight"], "stem.conv1.weight")
        XCTAssertEqual(m["backbone.bottom_up.res2.0.conv1.weight"], "res2.0.conv1.weight")
        XCTAssertEqual(m["roi_heads.box_head.fc1.weight"], "box_head.fc1.weight")
        XCTAssertThrowsError(try Caffe2Names.align(modelKeys: ["a.x.w", "b.x.w"], checkpointKeys: ["x.w"]))
    }

    func testCaffe2PredictorMovesTheBackgroundClass() throws {
        let scores = try Tensor([0, 1, 2] as [Float], shape: [3, 1])   // background first in Caffe2
        let boxes = try Tensor((0..<12).map { Float($0) }, shape: [12, 1])
        let out = try Caffe2Names.convert([("cls_score_w", scores), ("bbox_pred_w", boxes)])
        XCTAssertEqual(try out[0].tensor.toArray(Float.self), [1, 2, 0])
        XCTAssertEqual(try out[1].tensor.toArray(Float.self), (4..<12).map { Float($0) })
    }
}
