import Foundation
import XCTest
import TestFixtures

/// Grid search end to end (Scripts/tuning_search.lua on the fixture data at a tiny config).
final class TuningCLITests: XCTestCase {
    var fixtures: String { Fixtures.root }
    var repository: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
    var scripts: String { repository + "/Tests/LunetteCLITests/Scripts" }

    func step(_ name: String, _ dir: String) throws -> RunResult {
        _ = try Fixtures.path("data/annotations/instances_train.json")
        let r = try runLunette([scripts + "/tuning_search.lua", fixtures, dir, scripts + "/tiny_config.lua", name])
        XCTAssertEqual(r.status, 0, "\(name): \(r.stderr.suffix(2000))")
        return r
    }

    /// Trials differing only in MAX_ITER are one run, and the shorter trial's weights are those of
    /// an independent run, bit for bit; a rerun trains nothing; a longer MAX_ITER resumes the run.
    func testSharedPrefixTrainsOnceAndEqualsAnIndependentRun() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shared = try step("shared", dir)
        XCTAssertEqual(shared.stderr.components(separatedBy: "Starting training from iteration 0").count - 1, 1, "one training run for two trials")
        XCTAssertTrue(shared.stdout.contains("shared training runs: trials 1, 2"), shared.stdout)
        let trials = shared.stdout.split(separator: "\n").filter { $0.hasPrefix("trial\t") }.map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(trials.count, 2, shared.stdout)
        XCTAssertEqual(Set(trials.map { $0[3] }).count, 1, "both trials are in one run")
        XCTAssertTrue(trials.allSatisfy { $0[2] == "done" }, shared.stdout)
        XCTAssertTrue(trials.first { $0[1] == "6" }?[4].hasSuffix("model_0000005.pth") ?? false, shared.stdout)

        _ = try step("alone", dir)
        let compare = try step("compare", dir)
        let lines = compare.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("ids\ttrue"), "the same config and data give the same trial key")
        XCTAssertTrue(lines.contains("compared\t101\tdiffer\t0"), compare.stdout)
        XCTAssertTrue(lines.contains("predictions\ttrue\ttrue"), compare.stdout)
        XCTAssertTrue(lines.contains("accuracy\ttrue\ttrue"), compare.stdout)
        let changed = lines.first { $0.hasPrefix("changed by iterations 6 to 9\t") }.flatMap { Int($0.split(separator: "\t")[1]) } ?? 0
        XCTAssertGreaterThan(changed, 50, "the longer trial trained on, so the equality is not vacuous")

        let results = try step("results", dir)
        let r = results.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(r.contains("cells\t4\tmissing\t0\tbest marks\t2"), results.stdout)
        XCTAssertTrue(r.contains("rescored\t3\ttrue"), results.stdout)
        XCTAssertTrue(r.contains { $0.hasPrefix("best\t") && $0.hasSuffix("\ttrue") }, results.stdout)
        XCTAssertTrue(r.contains("sweep classes\t5"), results.stdout)
        XCTAssertTrue(r.contains("matrices\t5\t12"), "one 2x2 matrix per class over the 12 images:\n\(results.stdout)")
        XCTAssertTrue(r.contains("csv\ttrial,id,SOLVER.MAX_ITER,MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE,state,threshold,accuracy,precision,recall,f1,AP,AP50,seconds,weights,reason"), results.stdout)
        XCTAssertTrue(r.contains("baseline\thaar: haarcascade_frontalface_default.xml\ttrue"), results.stdout)
        XCTAssertTrue(r.contains { $0.hasPrefix("model\ttrue\ttrue\ttrue\t64\ttrue\t") && $0.hasSuffix("\t64") }, results.stdout)
        XCTAssertTrue(r.contains("for_brand\t1"), results.stdout)
        XCTAssertTrue(results.stdout.contains("brandA  logo"), results.stdout)

        // The registry feeds bulk detection from a shell: lunette detect, then its features.
        let detect = try runLunette(["detect", "--models", dir + "/models.sqlite", "--brand", "brandA", "--images", fixtures + "/data/val/val_0000[0-3].jpg",
                                     "--out", dir + "/bulk/brandA.sqlite", "--batch-size", "2"])
        XCTAssertEqual(detect.status, 0, detect.stderr.suffix(2000).description)
        XCTAssertTrue(detect.stdout.contains("creatives: 4 done, 0 failed, 0 left"), detect.stdout)
        XCTAssertTrue(detect.stdout.contains("    logo: "), detect.stdout)
        let features = try runLunette(["detect", "features", dir + "/bulk/brandA.sqlite", "--out", dir + "/bulk/features.csv"])
        XCTAssertEqual(features.status, 0, features.stderr)
        let table = try String(contentsOfFile: dir + "/bulk/features.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(table.count, 5, "a header and the 4 validation images")
        XCTAssertTrue(table[0].hasPrefix("creative_id,path,kind,width,height,duration_s,"), String(table[0]))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/bulk/features.json"))
        let rerun = try runLunette(["detect", "--models", dir + "/models.sqlite", "--brand", "brandA", "--images", fixtures + "/data/val/val_0000[0-3].jpg",
                                    "--out", dir + "/bulk/brandA.sqlite"])
        XCTAssertTrue(rerun.stdout.contains("nothing left to do (4 creatives already done)"), rerun.stdout)

        let again = try step("shared", dir)
        XCTAssertFalse(again.stderr.contains("Starting training"), "a rerun trains nothing that is done:\n\(again.stderr.suffix(1500))")
        XCTAssertFalse(again.stderr.contains("Start inference"), "nor evaluates it again")
        XCTAssertEqual(again.stdout, shared.stdout, "and reports the same")

        let extended = try step("extend", dir)
        XCTAssertTrue(extended.stderr.contains("Resuming from \(dir)/shared/runs/"), extended.stderr.suffix(1500).description)
        XCTAssertTrue(extended.stderr.contains("model_final.pth at iteration 10"), extended.stderr.suffix(1500).description)
        XCTAssertEqual(extended.stderr.components(separatedBy: "Start inference").count - 1, 1, "only the new trial is evaluated")
        XCTAssertEqual(extended.stdout.split(separator: "\n").filter { $0.hasPrefix("trial\t") && $0.contains("\tdone\t") }.count, 3, extended.stdout)

        // A changed base config makes a new trial and keeps the old ones (and their files).
        let newBase = try step("changed", dir)
        XCTAssertEqual(newBase.stderr.components(separatedBy: "Starting training from iteration 0").count - 1, 1, newBase.stderr.suffix(1500).description)
        XCTAssertTrue(newBase.stdout.contains("trial\t6\tdone"), newBase.stdout)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/shared/trials").count, 4, "three old trials and the new one")
    }

    /// A warm-up longer than the shorter trial changes its schedule: it trains alone and says why.
    func testAWarmUpLongerThanATrialTrainsItAlone() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try step("warmup", dir)
        XCTAssertEqual(r.stderr.components(separatedBy: "Starting training from iteration 0").count - 1, 2, r.stderr.suffix(1500).description)
        XCTAssertTrue(r.stdout.contains("trial 1 trains on its own: its learning rate at iteration 1"), r.stdout)
        XCTAssertTrue(r.stdout.contains("SOLVER.WARMUP_ITERS (8) is longer than the trial"), r.stdout)
        XCTAssertFalse(r.stdout.contains("shared training runs"), r.stdout)
    }

    /// A grid as a scheduler's array: planned only, each task run alone into its folders (no
    /// shared store written), collected into the store, and every trial equals the one-process
    /// search's, metrics and weights bit for bit. Bad task indices and foreign folders are errors.
    func testArrayTasksThenCollectEqualOneProcess() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plan = try step("plan", dir)
        XCTAssertTrue(plan.stdout.contains("tasks\t2"), plan.stdout)
        let store = dir + "/array/search.sqlite"
        let planned = try Data(contentsOf: URL(fileURLWithPath: store))
        let beyond = try runLunette(["tune", "worker", dir + "/array", "--task", "2"])
        XCTAssertNotEqual(beyond.status, 0)
        XCTAssertTrue(beyond.stderr.contains("task 2 is beyond the search in \(dir)/array: it has 2 tasks (0 to 1); make the array --array=0-1"), beyond.stderr)
        for task in ["1", "0"] {
            let r = try runLunette(["tune", "worker", dir + "/array", "--task", task])
            XCTAssertEqual(r.status, 0, r.stderr.suffix(2000).description)
            XCTAssertTrue(r.stdout.contains("task \(task): 1 trial finished into \(dir)/array/trials"), r.stdout)
        }
        // The tasks wrote no store: search.sqlite is as planning left it.
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: store)), planned)
        let collected = try runLunette(["tune", "collect", dir + "/array"])
        XCTAssertEqual(collected.status, 0, collected.stderr)
        XCTAssertTrue(collected.stdout.contains("collected 2 finished and 0 failed trials; every trial has a result"), collected.stdout)
        let again = try runLunette(["tune", "collect", dir + "/array"])
        XCTAssertTrue(again.stdout.contains("collected 0 finished and 0 failed trials (2 already in the store)"), again.stdout)
        _ = try step("reference", dir)
        let compared = try step("arrays", dir)
        let lines = compared.stdout.split(separator: "\n").filter { $0.hasPrefix("array trial") }
        XCTAssertEqual(lines.count, 2, compared.stdout)
        for line in lines { XCTAssertTrue(line.hasSuffix("\tdone\ttrue\tweights differ\t0"), String(line)) }
        // A trial folder from another search is refused by name.
        let foreign = try FileManager.default.contentsOfDirectory(atPath: dir + "/array_reference/trials").sorted()[0]
        let target = dir + "/array/trials/" + foreign + "/trial.json"
        var text = try String(contentsOfFile: target, encoding: .utf8)
        let id = try XCTUnwrap(text.range(of: #""search_id": ?"[^"]+""#, options: .regularExpression))
        text.replaceSubrange(id, with: #""search_id":"0000-other""#)
        try text.write(toFile: target, atomically: true, encoding: .utf8)
        let mixed = try runLunette(["tune", "collect", dir + "/array"])
        XCTAssertNotEqual(mixed.status, 0)
        XCTAssertTrue(mixed.stderr.contains("\(target) comes from another search (search 0000-other"), mixed.stderr)
        let bad = try runLunette(["tune", "worker", dir + "/array", "--task", "one"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("--task takes an array index (0, 1, ...), not 'one'"), bad.stderr)
        let none = try runLunette(["tune", "worker", dir + "/nothing", "--task", "0"])
        XCTAssertTrue(none.stderr.contains("has no tasks.json: plan the search first"), none.stderr)
    }

    /// A diverging trial is marked failed with the iteration; the search goes on and best ignores it.
    func testADivergedTrialFailsAndTheSearchGoesOn() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try step("diverge", dir)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.hasPrefix("trial\t0.005\tdone") }, r.stdout)
        let failed = lines.first { $0.hasPrefix("trial\t10000.0\tfailed\t") || $0.hasPrefix("trial\t10000\tfailed\t") }
        XCTAssertNotNil(failed, r.stdout)
        XCTAssertTrue(failed?.contains(" at iteration ") ?? false, failed ?? "")
        XCTAssertTrue(failed.map { $0.contains("loss became NaN") || $0.contains("loss became infinite") || $0.contains("training diverged") } ?? false, failed ?? "")
        XCTAssertTrue(lines.contains("best\t0.005"), r.stdout)
    }

    /// Two processes on one search: the script's grid_search and `lunette tune worker`; each of
    /// the two training runs is trained by exactly one of them.
    func testTwoWorkersShareOneSearch() throws {
        guard FileManager.default.fileExists(atPath: "/usr/share/doc/opencv-doc/examples/data/apple.jpg") else {
            throw Missing.requirement("opencv-doc is not installed (the demo dataset needs it)")
        }
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = try runLunette([repository + "/scripts/make_demo_dataset.lua", dir + "/data", "3", "8", "2"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let first = Process()
        first.executableURL = URL(fileURLWithPath: lunettePath)
        first.arguments = [repository + "/scripts/reliability/tune_once.lua", dir + "/data", dir + "/grid"]
        let firstErr = dir + "/first.err", firstOut = dir + "/first.out"
        FileManager.default.createFile(atPath: firstErr, contents: nil)
        FileManager.default.createFile(atPath: firstOut, contents: nil)
        first.standardError = FileHandle(forWritingAtPath: firstErr)
        first.standardOutput = FileHandle(forWritingAtPath: firstOut)
        try first.run()
        // The second worker starts once the first is training its first run.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, first.isRunning,
              !(((try? String(contentsOfFile: firstErr, encoding: .utf8)) ?? "").contains("Starting training")) {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let second = try runLunette(["tune", "worker", dir + "/grid"])
        first.waitUntilExit()
        let e1 = (try? String(contentsOfFile: firstErr, encoding: .utf8)) ?? ""
        let o1 = (try? String(contentsOfFile: firstOut, encoding: .utf8)) ?? ""
        XCTAssertEqual(first.terminationStatus, 0, e1.suffix(1500).description)
        XCTAssertEqual(second.status, 0, second.stderr.suffix(1500).description)
        XCTAssertTrue(o1.contains("finished 4"), o1 + e1.suffix(1500))
        let starts = { (s: String) in s.components(separatedBy: "Starting training from iteration 0").count - 1 }
        XCTAssertEqual(starts(e1) + starts(second.stderr), 2, "each run trained once:\n\(e1.suffix(800))\n---\n\(second.stderr.suffix(800))")
        XCTAssertEqual(starts(second.stderr), 1, "the worker took the run the first process did not hold:\n\(second.stderr.suffix(1500))")
        XCTAssertTrue(second.stdout.contains("running") || second.stdout.contains("done"), second.stdout)
    }

    /// kill -9 at random moments (training, evaluation, store writes), then rerun: nothing
    /// finished is finished again and the store ends equal to an uninterrupted search's.
    func testGridSearchSurvivesKillNine() throws {
        guard FileManager.default.fileExists(atPath: "/usr/share/doc/opencv-doc/examples/data/apple.jpg") else {
            throw Missing.requirement("opencv-doc is not installed (the demo dataset needs it)")
        }
        let (status, o, e) = try runKillCampaign(["tune", "3"])
        XCTAssertEqual(status, 0, e)
        XCTAssertTrue(o.contains("kill campaign tune: 3 trials, 0 failures"), o + e)
    }

    /// Ctrl-C in the REPL stops a grid search after the current iteration: a checkpoint is kept,
    /// the trial is pending again, and the prompt returns.
    func testCtrlCStopsASearchResumably() throws {
        _ = try Fixtures.path("data/annotations/instances_train.json")
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try Terminal(environment: ["NO_COLOR": "1", "OMP_NUM_THREADS": "2"])
        t.expect("> ")
        let setup = """
            d2 = require "detectron2"; arg = { [2] = "\(dir)" }; tiny = dofile("\(scripts)/tiny_config.lua"); \
            d2.data.datasets.register_coco_instances("fx", {}, "\(fixtures)/data/annotations/instances_train.json", "\(fixtures)/data/train"); \
            d2.data.datasets.register_coco_instances("fv", {}, "\(fixtures)/data/annotations/instances_val.json", "\(fixtures)/data/val"); \
            cfg = tiny("fx", 5); cfg.SOLVER.WARMUP_ITERS = 0
            """
        t.line(setup, expecting: "> ")
        let m = t.mark
        t.send("s = d2.tuning.grid_search{ config = cfg, grid = { [\"SOLVER.MAX_ITER\"] = { 100000 } }, train = \"fx\", valid = \"fv\", output_dir = \"\(dir)/grid\" }\r")
        t.expect("/100000", after: m, timeout: 60)           // the trial's progress bar is drawing
        kill(t.pid, SIGINT)
        t.expect("grid search stopped in run", after: m, timeout: 60)
        t.expect("run the same grid_search call again", after: m)
        t.expect("> ", after: m)
        t.line("print(d2.tuning.open(\"\(dir)/grid\"):trials()[1].state)", expecting: "pending")
        XCTAssertEqual(t.finish(), 0)
        let runs = try FileManager.default.contentsOfDirectory(atPath: dir + "/grid/runs")
        XCTAssertEqual(runs.count, 1)
        let kept = try FileManager.default.contentsOfDirectory(atPath: dir + "/grid/runs/" + runs[0])
        XCTAssertTrue(kept.contains { $0.hasPrefix("model_") && $0.hasSuffix(".pth") }, "\(kept)")
    }
}

/// Bulk detection survives kill -9: 20 kills at random moments of a small job (scripts/reliability/kill.sh detect).
final class BulkDetectionCLITests: XCTestCase {
    func testBulkDetectionSurvivesKillNine() throws {
        let (status, o, e) = try runKillCampaign(["detect", "20"])
        XCTAssertEqual(status, 0, "\(o)\n\(e.suffix(3000))")
        XCTAssertTrue(o.contains("kill campaign detect: 20 trials, 0 failures"), o)
    }

    /// Ctrl-C stops a job at a creative's end, with the batch in hand saved; the same call
    /// continues with what is left and ends with every creative once.
    func testCtrlCStopsBulkDetectionResumably() throws {
        let fixtures = Fixtures.root
        _ = try Fixtures.path("random/model_final.pth")
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try Terminal(environment: ["NO_COLOR": "1", "OMP_NUM_THREADS": "2"])
        t.expect("> ")
        let setup = """
            d2 = require "detectron2"; cfg = d2.config.get_cfg(); cfg:merge_from_file("\(fixtures)/random/config.yaml"); \
            cfg.MODEL.DEVICE = "cpu"; cfg.DATASETS.TEST = {}; cfg.DATASETS.TRAIN = {}; cfg.INPUT.MIN_SIZE_TEST = 640; \
            M = { m = { weights = "\(fixtures)/random/model_final.pth", config = cfg, classes = {"a", "b", "c", "d", "e"} } }
            """
        t.line(setup, expecting: "> ")
        let call = "job = d2.engine.detect_batch{ models = M, images = \"\(fixtures)/data/val\", out = \"\(dir)/s.sqlite\", batch_size = 3 }\r"
        let m = t.mark
        t.send(call)
        t.expect("creatives/s", after: m, timeout: 120)     // the bar is drawing
        Thread.sleep(forTimeInterval: 3)                   // a batch or two is saved
        kill(t.pid, SIGINT)
        t.expect("detection stopped after", after: m, timeout: 60)
        t.expect("run the same detect_batch", after: m)
        t.expect("> ", after: m)
        t.line("s = d2.engine.open_detections(\"\(dir)/s.sqlite\"):summary(); print('kept', s.done > 3 and s.done < 40, #d2.engine.open_detections(\"\(dir)/s.sqlite\"):check())",
               expecting: "kept\ttrue\t0")
        let m2 = t.mark
        t.send(call)
        t.expect("detect_batch 40/40", after: m2, timeout: 180)
        t.expect("> ", after: m2, timeout: 30)
        t.line("print('after', job:summary().done, job:summary().failed, #job:check())", expecting: "after\t40\t0\t0")
        XCTAssertEqual(t.finish(), 0)
    }
}
