import Foundation
import XCTest
import TestFixtures

/// Reduced-precision inference measured against fp32 on the fixture's trained model
/// (scripts/bench/precision.lua): COCO AP, presence accuracy and the detections found again.
final class PrecisionCLITests: XCTestCase {
    var fixtures: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/fixtures/detectron2/public").path
    }
    var repository: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// Whether this CPU runs bf16 natively (what Lunette reads too).
    var cpuHasBF16: Bool {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = info.split(separator: "\n").first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ").map(String.init)) } ?? []
        return flags.contains("avx512_bf16") || flags.contains("amx_bf16")
    }

    struct Row { var ap: Double, deltaAP: Double, accuracy: [Double], matched: Int, total: Int, share: Double }

    func measure(_ precisions: String, environment: [String: String] = [:]) throws -> (rows: [String: Row], stdout: String, stderr: String) {
        _ = try Fixtures.path("trained/model_final.pth")
        let r = try runLunette([repository + "/scripts/bench/precision.lua", fixtures + "/trained/config.yaml", fixtures + "/trained/model_final.pth",
                                fixtures + "/data/annotations/instances_val.json", fixtures + "/data/val", precisions, "fixture"],
                               environment: environment.merging(["OMP_NUM_THREADS": "2"]) { a, _ in a })
        XCTAssertEqual(r.status, 0, r.stderr)
        var rows: [String: Row] = [:]
        for line in r.stdout.split(separator: "\n") where line.hasPrefix("fixture ") {
            let f = line.split(separator: " ").map(String.init)
            guard f.count == 12, let ap = Double(f[2]), let d = Double(f[3]), let matched = Int(f[8]), let total = Int(f[9]), let share = Double(f[10]) else { continue }
            rows[f[1]] = Row(ap: ap, deltaAP: d, accuracy: f[4...7].compactMap(Double.init), matched: matched, total: total, share: share)
        }
        return (rows, r.stdout, r.stderr)
    }

    /// The bar for offering a reduced precision: AP within 0.3 points of fp32 and at least 98 %
    /// of fp32's detections (score >= 0.3) found again at IoU >= 0.9 with the score within 0.02.
    /// bf16 on the CPU misses it on this model (about half are found again; presence accuracy
    /// stays within 0.01), so it is refused, and runs only as a trial (LUNETTE_PRECISION_TRIAL).
    /// Should a change bring it over the bar, this test fails: offer it then. fp16 is refused on
    /// the CPU, with the reason.
    func testBF16OnTheCPUIsMeasuredAndRefused() throws {
        let refused = try measure("fp32,bf16,fp16")
        XCTAssertNotNil(refused.rows["fp32"], refused.stdout)
        XCTAssertTrue(refused.stdout.contains("fixture bf16 not offered: ") && refused.stdout.contains("bf16 is not offered on the CPU: measured against fp32"), refused.stdout)
        XCTAssertTrue(refused.stdout.contains("fixture fp16 not offered: ") && refused.stdout.contains("fp16 is not offered on the CPU"), refused.stdout)
        let (rows, stdout, stderr) = try measure("fp32,bf16", environment: ["LUNETTE_PRECISION_TRIAL": "1"])
        let fp32 = try XCTUnwrap(rows["fp32"], stdout)
        XCTAssertEqual(fp32.ap, 4.862, accuracy: 0.001, "fp32 is Detectron2's AP on this model (eval.json)")
        XCTAssertEqual(fp32.share, 1)
        XCTAssertGreaterThan(fp32.total, 20, "enough detections at score >= 0.3 to measure the share on")
        let bf16 = try XCTUnwrap(rows["bf16"], stdout)
        if cpuHasBF16 {
            XCTAssertLessThan(bf16.share, 0.98, "bf16 now keeps the detections: offer it on the CPU. \(stdout)")
            XCTAssertGreaterThan(bf16.share, 0.3, stdout)
            for (a, b) in zip(fp32.accuracy, bf16.accuracy) { XCTAssertEqual(a, b, accuracy: 0.03, "presence accuracy, \(stdout)") }
            XCTAssertFalse(stderr.contains("no bf16 instructions"), stderr)
        } else {
            XCTAssertTrue(stderr.contains("bf16 on cpu: this CPU has no bf16 instructions"), stderr)
            XCTAssertEqual(bf16.ap, fp32.ap)
            XCTAssertEqual(bf16.share, 1)
        }
    }

    /// Where the CPU lacks bf16 (forced here), a bf16 trial says so once and runs fp32: the same
    /// AP and every detection found again.
    func testWithoutBF16InstructionsItSaysSoOnceAndRunsFP32() throws {
        let (rows, stdout, stderr) = try measure("bf16,bf16", environment: ["LUNETTE_CPU_BF16": "0", "LUNETTE_PRECISION_TRIAL": "1"])
        let bf16 = try XCTUnwrap(rows["bf16"], stdout)
        XCTAssertEqual(bf16.ap, 4.862, accuracy: 0.001, "fp32's AP (eval.json): it ran fp32")
        XCTAssertEqual(bf16.share, 1)
        XCTAssertEqual(stderr.components(separatedBy: "bf16 on cpu: this CPU has no bf16 instructions (AVX-512 BF16 or AMX)").count, 2, stderr)
    }

    func testBadPrecisionsAreClearErrors() throws {
        let model = """
            local d2 = require "detectron2"
            d2.data.datasets.register_coco_instances("pv", {}, "\(fixtures)/data/annotations/instances_val.json", "\(fixtures)/data/val")
            local cfg = d2.config.get_cfg(); cfg:merge_from_file("\(fixtures)/trained/config.yaml")
            cfg.MODEL.WEIGHTS = "\(fixtures)/trained/model_final.pth"; cfg.DATASETS.TRAIN = {}; cfg.DATASETS.TEST = { "pv" }
            """
        let r = try runLunette(["-e", model + """
            print(pcall(d2.engine.DefaultPredictor, cfg, { precision = "int4" }))
            print(pcall(d2.engine.DefaultPredictor, cfg, { precision = "fp16" }))
            print(pcall(d2.engine.DefaultPredictor, cfg, { precison = "bf16" }))
            print(pcall(d2.engine.DefaultPredictor, cfg, { precision = "bf16" }))
            local loader = d2.data.build_detection_test_loader(cfg, "pv")
            print(pcall(d2.evaluation.inference_on_dataset, function(batch) return {{}} end, loader, d2.evaluation.COCOEvaluator("pv"), { precision = "bf16" }))
            local p = d2.engine.DefaultPredictor(cfg)
            print(pcall(d2.evaluation.inference_on_dataset, p.model, loader, d2.evaluation.COCOEvaluator("pv"), { precision = "half" }))
            print(pcall(d2.engine.detect_batch, { models = { m = { weights = cfg.MODEL.WEIGHTS, config = cfg } }, images = "\(fixtures)/data/val", out = os.tmpname() .. ".sqlite", precision = "int8" }))
            """])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 7, r.stdout)
        guard lines.count == 7 else { return }
        XCTAssertTrue(lines[0].hasPrefix("false\t") && lines[0].contains("precision = 'int4' is not a precision Lunette offers: use \"fp32\" (exact, the default), \"bf16\" or \"fp16\""), lines[0])
        XCTAssertTrue(lines[1].contains("precision = \"fp16\" on cpu: fp16 is not offered on the CPU: libtorch's CPU convolutions have no fp16 kernels"), lines[1])
        XCTAssertTrue(lines[2].contains("unknown option 'precison'") && lines[2].contains("precision"), lines[2])
        XCTAssertTrue(lines[3].contains("precision = \"bf16\" on cpu: bf16 is not offered on the CPU: measured against fp32"), lines[3])
        XCTAssertTrue(lines[4].contains("precision = \"bf16\" needs the model itself (trainer.model, predictor.model, build_model(cfg)), not a function"), lines[4])
        XCTAssertTrue(lines[5].contains("precision = \"fp16\" on cpu: fp16 is not offered on the CPU"), lines[5])
        XCTAssertTrue(lines[6].contains("precision = 'int8' is not a precision Lunette offers"), lines[6])
        let cli = try runLunette(["detect", "--models", "nowhere.sqlite", "--brand", "b", "--images", ".", "--out", "o.sqlite", "--precision", "int4"])
        XCTAssertNotEqual(cli.status, 0)
        XCTAssertTrue(cli.stderr.contains("--precision = 'int4' is not a precision Lunette offers"), cli.stderr)
    }

    /// Bulk detection (bf16 as a trial): a precision in effect is part of each model's digest,
    /// so a store made at fp32 is recomputed at bf16 (and resumes at the precision it was made
    /// with); the run records the precision in effect.
    func testBulkDetectionRecomputesWhenThePrecisionChanges() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runLunette(["-e", """
            local d2 = require "detectron2"
            local cfg = d2.config.get_cfg(); cfg:merge_from_file("\(fixtures)/trained/config.yaml")
            cfg.DATASETS.TRAIN = {}; cfg.DATASETS.TEST = {}
            local classes = { "logo", "product", "brand_cue", "face", "smile" }
            local function run(precision)
              local job = d2.engine.detect_batch{ models = { m = { weights = "\(fixtures)/trained/model_final.pth", config = cfg, classes = classes } },
                                                  images = "\(fixtures)/data/val", out = "\(dir)/store.sqlite", batch_size = 8, precision = precision }
              local s = job:summary()
              print(precision, s.done, s.model_images)
            end
            run("fp32"); run("fp32"); run("bf16"); run("bf16")
            """], environment: ["LUNETTE_CPU_BF16": cpuHasBF16 ? "1" : "0", "LUNETTE_PRECISION_TRIAL": "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let reduced = cpuHasBF16 ? 40 : 0      // without bf16 it runs fp32: nothing to recompute
        XCTAssertEqual(lines, ["fp32\t40\t40", "fp32\t40\t0", "bf16\t40\t\(reduced)", "bf16\t40\t0"], r.stdout + r.stderr)
        let runs = try runBuilt("/usr/bin/python3", ["-c", "import sqlite3, sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute('SELECT precision FROM runs ORDER BY id')]",
                                                     "\(dir)/store.sqlite"])
        XCTAssertEqual(runs.stdout.split(separator: "\n").map(String.init), ["fp32", "fp32", cpuHasBF16 ? "bf16" : "fp32", cpuHasBF16 ? "bf16" : "fp32"])
    }
}
