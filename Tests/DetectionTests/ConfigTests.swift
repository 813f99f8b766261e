import Foundation
import XCTest
import TestFixtures
@testable import Detection

final class ConfigTests: XCTestCase {
    var configs: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("stdlib/configs").path
    }

    func testDefaultsMatchDetectron2() throws {
        let cfg = CfgNode.defaults()
        XCTAssertEqual(try cfg.value(at: "MODEL.DEVICE"), .string("cuda"))
        XCTAssertEqual(try cfg.value(at: "MODEL.ROI_HEADS.NUM_CLASSES"), .int(80))
        XCTAssertEqual(try cfg.value(at: "MODEL.PIXEL_MEAN"), .list([.float(103.53), .float(116.28), .float(123.675)]))
        XCTAssertEqual(try cfg.value(at: "SOLVER.WARMUP_FACTOR"), .float(0.001))
        XCTAssertEqual(try cfg.value(at: "SOLVER.WEIGHT_DECAY_BIAS"), CfgValue.none)
        XCTAssertEqual(try cfg.value(at: "INPUT.MIN_SIZE_TRAIN"), .list([.int(800)]))
        XCTAssertEqual(try cfg.value(at: "MODEL.RPN.PRE_NMS_TOPK_TEST"), .int(6000))
        XCTAssertEqual(cfg.allKeys.count, 192, "the leaf keys of Detectron2 0.6's cfg.dump()")
    }

    /// The fixture's config is a full cfg.dump() of Detectron2: every key exists here with a
    /// compatible type, and the model zoo's R50-FPN 3x plus the README's changes rebuild it.
    func testModelZooPlusChangesRebuildsTheFixtureConfig() throws {
        let dump = try Fixtures.path("random/config.yaml")
        let reference = CfgNode.defaults()
        try reference.mergeFromFile(dump)

        let cfg = CfgNode.defaults()
        try cfg.mergeFromFile(configs + "/COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml")
        try cfg.mergeFromList(["MODEL.DEVICE", "cpu", "MODEL.ROI_HEADS.NUM_CLASSES", "5", "MODEL.WEIGHTS", "''",
                               "MODEL.RESNETS.WIDTH_PER_GROUP", "16", "MODEL.RESNETS.STEM_OUT_CHANNELS", "16",
                               "MODEL.RESNETS.RES2_OUT_CHANNELS", "64", "MODEL.FPN.OUT_CHANNELS", "32",
                               "MODEL.ROI_BOX_HEAD.FC_DIM", "64", "INPUT.MIN_SIZE_TEST", "320", "INPUT.MAX_SIZE_TEST", "512",
                               "MODEL.ROI_HEADS.SCORE_THRESH_TEST", "0.0", "DATALOADER.NUM_WORKERS", "1", "SEED", "1"])
        var differences: [String] = []
        for key in reference.allKeys where try reference.value(at: key) != (try cfg.value(at: key)) {
            differences.append("\(key): \(try cfg.value(at: key)) vs \(try reference.value(at: key))")
        }
        XCTAssertEqual(differences, [])
        XCTAssertEqual(reference.allKeys, cfg.allKeys)
    }

    func testTypeRulesAndErrors() throws {
        let cfg = CfgNode.defaults()
        XCTAssertThrowsError(try cfg.set("SOLVER.BASE_LR", .int(1))) {
            XCTAssertEqual("\($0)", "Type mismatch (float vs. int) with values (0.001 vs. 1) for config key: SOLVER.BASE_LR")
        }
        XCTAssertNoThrow(try cfg.set("SOLVER.BASE_LR", .int(1), coerceIntToFloat: true))
        XCTAssertThrowsError(try cfg.set("SOLVER.MAX_ITR", .int(1))) {
            XCTAssertEqual("\($0)", "Non-existent config key: SOLVER.MAX_ITR; did you mean SOLVER.MAX_ITER?")
        }
        XCTAssertNoThrow(try cfg.set("SOLVER.STEPS", .list([.int(10)])), "lists and tuples are one kind")
        XCTAssertNoThrow(try cfg.set("SOLVER.WEIGHT_DECAY_BIAS", .float(0.0)), "a None default takes anything")
        XCTAssertNoThrow(try cfg.set("MODEL.WEIGHTS", CfgValue.none), "anything may be set to None")
        try cfg.mergeFromList(["INPUT.MIN_SIZE_TRAIN", "(640, 800)", "MODEL.MASK_ON", "False", "DATASETS.TRAIN", "('a',)"])
        XCTAssertEqual(try cfg.value(at: "INPUT.MIN_SIZE_TRAIN"), .list([.int(640), .int(800)]))
        XCTAssertEqual(try cfg.value(at: "DATASETS.TRAIN"), .list([.string("a")]))
        XCTAssertThrowsError(try cfg.mergeFromList(["DATASETS.TRAIN", "my_ds"])) { XCTAssertTrue("\($0)".contains("Type mismatch (list vs. str)")) }
        XCTAssertThrowsError(try cfg.mergeFromList(["SOLVER.MAX_ITER"]))
        cfg.freeze()
        XCTAssertThrowsError(try cfg.set("SOLVER.MAX_ITER", .int(1))) { XCTAssertTrue("\($0)".contains("immutable")) }
        let copy = cfg.clone()
        XCTAssertFalse(copy.isFrozen)
        XCTAssertNoThrow(try copy.set("SOLVER.MAX_ITER", .int(1)))
        XCTAssertEqual(try cfg.value(at: "SOLVER.MAX_ITER"), .int(40000), "a clone is deep")
    }

    func testBaseFilesAndBadFiles() throws {
        let dir = try scratch("cfg")
        try "_BASE_: \"base.yaml\"\nSOLVER:\n  MAX_ITER: 7\n".write(toFile: dir + "/child.yaml", atomically: true, encoding: .utf8)
        try "SOLVER:\n  MAX_ITER: 5\n  BASE_LR: 0.5\nMODEL:\n  DEVICE: cpu\n".write(toFile: dir + "/base.yaml", atomically: true, encoding: .utf8)
        let cfg = CfgNode.defaults()
        try cfg.mergeFromFile(dir + "/child.yaml")
        XCTAssertEqual(try cfg.value(at: "SOLVER.MAX_ITER"), .int(7))
        XCTAssertEqual(try cfg.value(at: "SOLVER.BASE_LR"), .float(0.5))
        XCTAssertEqual(try cfg.value(at: "MODEL.DEVICE"), .string("cpu"))
        try "SOLVER:\n  MAX_ITERS: 5\n".write(toFile: dir + "/typo.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try cfg.mergeFromFile(dir + "/typo.yaml")) {
            XCTAssertEqual("\($0)", "\(dir)/typo.yaml: Non-existent config key: SOLVER.MAX_ITERS; did you mean SOLVER.MAX_ITER?")
        }
        try "_BASE_: loop.yaml\n".write(toFile: dir + "/loop.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try cfg.mergeFromFile(dir + "/loop.yaml")) { XCTAssertTrue("\($0)".contains("_BASE_ cycle")) }
        try "SOLVER: [1, 2\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try cfg.mergeFromFile(dir + "/bad.yaml")) { XCTAssertTrue("\($0)".contains("not valid YAML")) }
    }

    func testDumpReadsBack() throws {
        let cfg = CfgNode.defaults()
        try cfg.mergeFromFile(configs + "/COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x.yaml")
        let dir = try scratch("dump")
        try cfg.dump().write(toFile: dir + "/dump.yaml", atomically: true, encoding: .utf8)
        let back = CfgNode.defaults()
        try back.mergeFromFile(dir + "/dump.yaml")
        XCTAssertEqual(back.allKeys, cfg.allKeys)
        for key in cfg.allKeys { XCTAssertEqual(try back.value(at: key), try cfg.value(at: key), key) }
        XCTAssertTrue(cfg.dump().contains("  RESNETS:\n    DEFORM_MODULATED: false\n"))
    }
}
