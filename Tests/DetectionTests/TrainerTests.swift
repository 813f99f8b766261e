import Foundation
import Support
import XCTest
import TestFixtures
import Torch
@testable import Detection

/// DefaultTrainer end to end on the fixture model (small and quick): checkpoints Python reads,
/// resuming exactly where an interrupted run stopped, and the bad inputs it must name.
final class TrainerTests: XCTestCase {
    override func setUp() { DetectionLog.shared.echo = false }

    var scratch: String!

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "lunette-trainer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    /// A catalog with "four": the first four fixture train images.
    func catalog(images: Int = 4, dropAnnotations: Bool = false) throws -> DataCatalog {
        let c = DataCatalog()
        let loaded = try COCO.load(jsonFile: try Fixtures.path("data/annotations/instances_train.json"), imageRoot: try Fixtures.path("data/train"))
        var dicts = Array(loaded.dicts.prefix(images))
        if dropAnnotations { dicts = dicts.map { var d = $0; d.annotations = []; return d } }
        try c.register("four") { dicts }
        try c.metadata("four").set("thing_classes", .strings(loaded.thingClasses))
        return c
    }

    func config(_ extra: [String] = [], output: String? = nil) throws -> CfgNode {
        let cfg = CfgNode.defaults()
        try cfg.mergeFromFile(try Fixtures.path("trained/config.yaml"))
        try cfg.mergeFromList(["DATASETS.TRAIN", "('four',)", "DATASETS.TEST", "()", "MODEL.WEIGHTS", try Fixtures.path("trained/model_final.pth"),
                               "SOLVER.MAX_ITER", "6", "SOLVER.STEPS", "()", "SOLVER.WARMUP_ITERS", "2", "SOLVER.CHECKPOINT_PERIOD", "100",
                               "SEED", "5", "DATALOADER.NUM_WORKERS", "1", "OUTPUT_DIR", output ?? scratch + "/run"] + extra)
        return cfg
    }

    /// Hooks run in Detectron2's order around each iteration, registered ones after the defaults,
    /// with the trainer at the iteration being run (and at MAX_ITER in after_train).
    func testHooksRunAroundEveryIterationInOrder() throws {
        final class Recorder: TrainerHook {
            var events: [String] = []
            func beforeTrain(_ t: DefaultTrainer) throws { events.append("beforeTrain \(t.iter)") }
            func beforeStep(_ t: DefaultTrainer) throws { events.append("beforeStep \(t.iter) lr \(t.optimizer.groups[0].lr)") }
            func afterStep(_ t: DefaultTrainer) throws {
                events.append("afterStep \(t.iter) \(t.storage.latest("lr") == t.optimizer.groups[0].lr) \(FileManager.default.fileExists(atPath: t.outputDir + "/model_final.pth"))")
            }
            func afterTrain(_ t: DefaultTrainer) throws { events.append("afterTrain \(t.iter)") }
        }
        let t = try DefaultTrainer(cfg: try config(["SOLVER.MAX_ITER", "3", "SOLVER.WARMUP_ITERS", "0"]), catalog: try catalog())
        XCTAssertEqual(t.hooks.map { "\(type(of: $0))" }, ["IterationTimer", "LRSchedulerHook", "PeriodicCheckpointer", "EvalHook", "PeriodicWriter"])
        let recorder = Recorder()
        t.registerHooks([recorder])
        try t.resumeOrLoad(resume: false)
        try t.train()
        let lr = t.initialLRs[0]
        // The recorder runs after the checkpointer, so model_final exists after the last step.
        XCTAssertEqual(recorder.events, ["beforeTrain 0",
                                         "beforeStep 0 lr \(lr)", "afterStep 0 true false",
                                         "beforeStep 1 lr \(lr)", "afterStep 1 true false",
                                         "beforeStep 2 lr \(lr)", "afterStep 2 true true",
                                         "afterTrain 3"])
        XCTAssertEqual(t.iter, 2)
    }

    /// inference_on_dataset follows the one stop convention: a stop request ends it between
    /// images with one message saying what was kept and how to continue.
    func testInferenceOnDatasetStopsWithOneMessage() throws {
        let data = try catalog()
        var settings = LoaderSettings()
        settings.numWorkers = 1
        let loader = try TestLoader(dicts: try data.get("four"), settings: settings)
        defer { loader.close() }
        let evaluator = try COCOEvaluator(datasetName: "four", catalog: data)
        var calls = 0
        XCTAssertThrowsError(try InferenceOnDataset.run(loader: loader, evaluator: evaluator, shouldStop: { calls += 1; return calls > 2 }) { s in
            try Instances(boxes: [], scores: [], classes: [], imageID: s.imageID)
        }) { e in
            XCTAssertEqual((e as? Stopped)?.description,
                           "inference on four interrupted after 2 of 4 images; kept: nothing (no evaluation was made). To continue: run it again; it starts from the first image")
        }
    }

    func testInterruptedAndResumedRunEqualsUninterruptedRun() throws {
        let data = try catalog()
        let a = try DefaultTrainer(cfg: try config(output: scratch + "/a"), catalog: data)
        try a.resumeOrLoad(resume: false)
        try a.train()
        XCTAssertEqual(a.startIter, 6)
        let straight = a.storage.history("total_loss")
        XCTAssertEqual(straight.count, 6)

        let b = try DefaultTrainer(cfg: try config(output: scratch + "/b"), catalog: data)
        try b.resumeOrLoad(resume: false)
        b.shouldStop = { [unowned b] in b.iter == 2 }
        var stopped: Stopped?
        XCTAssertThrowsError(try b.train()) { stopped = $0 as? Stopped }
        guard let stop = stopped else { return XCTFail("the run was not stopped") }
        XCTAssertEqual(stop.what, "training interrupted after iteration 2 of 6")
        XCTAssertEqual(stop.howToContinue, "trainer:resume_or_load{resume = true}; trainer:train() continues from iteration 3")
        let path = scratch + "/b/model_0000002.pth"
        XCTAssertTrue(stop.kept.contains(path), stop.kept)
        XCTAssertTrue(path.hasSuffix("/b/model_0000002.pth"), path)
        XCTAssertEqual(try String(contentsOfFile: scratch + "/b/last_checkpoint", encoding: .utf8), "model_0000002.pth")
        let firstPart = b.storage.history("total_loss")

        let c = try DefaultTrainer(cfg: try config(output: scratch + "/b"), catalog: data)
        XCTAssertEqual(try c.resumeOrLoad(resume: true), path)
        XCTAssertEqual(c.startIter, 3)
        try c.train()
        XCTAssertEqual(c.startIter, 6)
        XCTAssertEqual(firstPart + c.storage.history("total_loss"), straight)
        let wa = try a.model.stateDict(), wc = try c.model.stateDict()
        for (x, y) in zip(wa, wc) { XCTAssertTrue(try x.tensor.equal(y.tensor), x.name) }
        // metrics.json: one line per 20 iterations and the last, Detectron2's fields.
        let lines = try String(contentsOfFile: scratch + "/a/metrics.json", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1)
        let record = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        XCTAssertEqual(record["iteration"] as? Int, 5)
        for key in ["total_loss", "loss_cls", "loss_box_reg", "loss_rpn_cls", "loss_rpn_loc", "lr", "time", "data_time", "eta_seconds",
                    "fast_rcnn/cls_accuracy", "rpn/num_pos_anchors", "roi_head/num_fg_samples"] {
            XCTAssertNotNil(record[key], key)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch + "/a/model_final.safetensors"))
    }

    /// model_final.pth is {"model": state_dict, "trainer": {...}, "iteration": n}; torch.load reads
    /// it (checked with Debian's python3-torch when installed) and so does our own loader.
    func testCheckpointIsWhatTorchLoadReads() throws {
        let t = try DefaultTrainer(cfg: try config(["SOLVER.MAX_ITER", "2"]), catalog: try catalog())
        try t.resumeOrLoad(resume: false)
        try t.train()
        let path = scratch + "/run/model_final.pth"
        let back = try Checkpoint.load(path)
        XCTAssertEqual(back.format, "torch-zip")
        XCTAssertEqual(back.iteration, 1)
        let ours = t.model.stateDict()
        XCTAssertEqual(back.model.map(\.name), ours.map(\.name))
        // Detectron2's own order (the fixture's checkpoint), so optimizer states line up.
        XCTAssertEqual(try Checkpoint.load(try Fixtures.path("trained/model_final.pth")).model.map(\.name), ours.map(\.name))
        for (x, y) in zip(back.model, ours) { XCTAssertTrue(try x.tensor.equal(y.tensor), x.name) }
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python), run(python, ["-c", "import torch"]).status == 0 else {
            throw Missing.requirement("python3-torch is not installed; torch.load was not tried")
        }
        let script = """
        import torch, sys
        ck = torch.load(sys.argv[1])
        sd = ck["model"]
        print(type(sd).__name__, len(sd), ck["iteration"], ck["trainer"]["iteration"], len(ck["trainer"]["_trainer"]["optimizer"]["state"]))
        w = sd["roi_heads.box_predictor.cls_score.weight"]
        print(w.dtype, tuple(w.shape), repr(float(w.double().sum())))
        """
        let r = run(python, ["-c", script, path])
        XCTAssertEqual(r.status, 0, r.output)
        let lines = r.output.split(separator: "\n")
        XCTAssertEqual(lines.first.map(String.init), "OrderedDict \(ours.count) 1 1 72")
        let w = try XCTUnwrap(ours.first { $0.name == "roi_heads.box_predictor.cls_score.weight" }).tensor
        XCTAssertEqual(lines.last.map(String.init), "torch.float32 (6, 64) \(try w.to(dtype: .float64).sum().item())")
        // The other values a checkpoint may hold: bytes (protocol 2 spells them as _codecs.encode),
        // big ints, floats, None, tuples.
        let other = scratch + "/other.pth"
        try TorchSave.write(.dict(TorchSave.dict([("b", .bytes([0, 200, 65])), ("big", .int(1 << 40)), ("x", .float(-0.25)), ("n", .none),
                                                  ("t", .tuple(PyTuple([.int(-3), .string("é")])))])), to: other)
        let o = run(python, ["-c", "import torch, sys; print(sorted(torch.load(sys.argv[1]).items()))", other])
        XCTAssertEqual(o.output.trimmingCharacters(in: .whitespacesAndNewlines),
                       "[('b', b'\\x00\\xc8A'), ('big', 1099511627776), ('n', None), ('t', (-3, 'é')), ('x', -0.25)]", o.output)
    }

    /// Nothing lost on resume: a broken last_checkpoint never restarts from 0 over existing
    /// checkpoints; a pointer that lags behind a newer complete checkpoint is passed over; stale
    /// temporary files go; a run killed before its final safetensors copy gets it on resume;
    /// a metrics.json line cut short is dropped, the lines before it kept.
    func testResumeNeverLosesWork() throws {
        let data = try catalog()
        let dir = scratch + "/resume"
        func trainer(_ extra: [String] = []) throws -> DefaultTrainer {
            try DefaultTrainer(cfg: try config(["SOLVER.MAX_ITER", "6", "SOLVER.CHECKPOINT_PERIOD", "2"] + extra, output: dir), catalog: data)
        }
        let first = try trainer()
        try first.resumeOrLoad(resume: false)
        try first.train()
        for name in ["model_0000001.pth", "model_0000003.pth", "model_final.pth", "model_final.safetensors", "last_checkpoint", "metrics.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir)/\(name)"), name)
        }
        let pointer = dir + "/last_checkpoint"
        for (broken, problem) in [(Data(), "is empty"), (Data([0xFF, 0xFE, 0x00, 0x41]), "is not valid UTF-8"),
                                  (Data("model_0000099.pth".utf8), "names model_0000099.pth, which is missing or incomplete")] {
            try broken.write(to: URL(fileURLWithPath: pointer))
            _ = DetectionLog.shared.takeWarnings()
            let t = try trainer()
            XCTAssertEqual(try t.resumeOrLoad(resume: true), dir + "/model_final.pth", problem)
            XCTAssertEqual(t.startIter, 6, problem)
            XCTAssertTrue(DetectionLog.shared.takeWarnings().contains { $0.contains(problem) && $0.contains("newest complete checkpoint") }, problem)
        }
        // A pointer behind a newer complete checkpoint (killed between the two writes).
        try "model_0000001.pth".write(toFile: pointer, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: dir + "/model_final.pth")
        let lagging = try trainer()
        XCTAssertEqual(try lagging.resumeOrLoad(resume: true), dir + "/model_0000003.pth")
        XCTAssertEqual(lagging.startIter, 4)
        // A temporary file of a dead writer goes; the final safetensors is written on resume.
        let stale = dir + "/model_0000005.pth.tmp-999999"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: stale))
        try FileManager.default.removeItem(atPath: dir + "/model_final.safetensors")
        var metrics = try Data(contentsOf: URL(fileURLWithPath: dir + "/metrics.json"))
        let lines = metrics.split(separator: UInt8(ascii: "\n")).count
        metrics.append(contentsOf: Array("{\"iteration\": 7, \"loss".utf8))      // cut short by a kill
        try metrics.write(to: URL(fileURLWithPath: dir + "/metrics.json"))
        let resumed = try trainer()
        XCTAssertEqual(try resumed.resumeOrLoad(resume: true), dir + "/model_0000003.pth")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale))
        try resumed.train()
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/model_final.safetensors"))
        let after = try String(contentsOfFile: dir + "/metrics.json", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(after.count, lines + 1, "the old lines, then the resumed run's final line")
        XCTAssertTrue(after.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil }, "every line is JSON")
        // A finished run killed before its safetensors copy: resume writes it and trains nothing.
        try FileManager.default.removeItem(atPath: dir + "/model_final.safetensors")
        let done = try trainer()
        try done.resumeOrLoad(resume: true)
        XCTAssertEqual(done.startIter, 6)
        try done.train()
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/model_final.safetensors"))
        // No checkpoint at all and a broken pointer: an error naming it, not a silent restart.
        let empty = scratch + "/empty-run"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: empty + "/last_checkpoint"))
        let none = try DefaultTrainer(cfg: try config(["SOLVER.MAX_ITER", "6"], output: empty), catalog: data)
        XCTAssertThrowsError(try none.resumeOrLoad(resume: true)) {
            XCTAssertTrue("\($0)".contains("\(empty)/last_checkpoint is empty, and \(empty) holds no complete checkpoint"), "\($0)")
        }
    }

    /// Resuming from Detectron2's own training checkpoint (the fixture's model_final.pth, written
    /// by its PeriodicCheckpointer at iteration 1999): weights, every momentum buffer, iteration.
    func testResumesFromADetectron2TrainingCheckpoint() throws {
        let dir = scratch + "/fromd2"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: try Fixtures.path("trained/model_final.pth"), toPath: dir + "/model_final.pth")
        try "model_final.pth".write(toFile: dir + "/last_checkpoint", atomically: true, encoding: .utf8)
        _ = DetectionLog.shared.takeWarnings()
        let t = try DefaultTrainer(cfg: try config(["SOLVER.MAX_ITER", "2001", "SOLVER.BASE_LR", "0.0005", "SOLVER.STEPS", "(1600,)",
                                                    "SOLVER.WARMUP_ITERS", "100"], output: dir), catalog: try catalog())
        XCTAssertEqual(try t.resumeOrLoad(resume: true), dir + "/model_final.pth")
        XCTAssertEqual(t.startIter, 2000)
        XCTAssertEqual(DetectionLog.shared.takeWarnings().filter { $0.contains("optimizer") }, [])
        let ck = try Checkpoint.load(dir + "/model_final.pth")
        guard case .dict(let trainer)? = ck.extra?["trainer"], case .dict(let inner)? = trainer["_trainer"],
              case .dict(let opt)? = inner["optimizer"], case .dict(let state)? = opt["state"] else { return XCTFail("no optimizer state in the fixture") }
        XCTAssertEqual(t.optimizer.groups.count, 1)
        let buffers = t.optimizer.momentumBuffers[0]
        XCTAssertEqual(buffers.count, state.keys.count)
        for (k, v) in zip(state.keys, state.values) {
            guard case .int(let i) = k, case .dict(let entry) = v, case .tensor(let expected)? = entry["momentum_buffer"] else { return XCTFail("\(k)") }
            XCTAssertTrue(try XCTUnwrap(buffers[Int(i)]).equal(expected), "momentum buffer \(i)")
        }
        try t.train()
        XCTAssertEqual(t.iter, 2000)
    }

    func testBadInputsNameTheProblem() throws {
        XCTAssertThrowsError(try DefaultTrainer(cfg: try config(), catalog: try catalog(dropAnnotations: true))) {
            XCTAssertTrue("\($0)".contains("Dataset 'four' has no annotations"), "\($0)")
        }
        XCTAssertThrowsError(try DefaultTrainer(cfg: try config(["MODEL.ROI_HEADS.NUM_CLASSES", "3"]), catalog: try catalog())) {
            XCTAssertTrue("\($0)".contains("MODEL.ROI_HEADS.NUM_CLASSES is 3 but dataset 'four' has 5 classes"), "\($0)")
        }
        let file = scratch + "/a-file"
        FileManager.default.createFile(atPath: file, contents: Data())
        XCTAssertThrowsError(try DefaultTrainer(cfg: try config(output: file + "/out"), catalog: try catalog())) {
            XCTAssertTrue("\($0)".contains("OUTPUT_DIR '\(file)/out' cannot be created"), "\($0)")
        }
        XCTAssertThrowsError(try DefaultTrainer(cfg: try config(["DATASETS.TRAIN", "('nope',)"]), catalog: try catalog())) {
            XCTAssertTrue("\($0)".contains("nope"), "\($0)")
        }
    }

    /// TEST.EVAL_PERIOD evaluates mid-run (not at the last iteration) and once after training;
    /// each evaluation gets its metrics.json line at its own iteration, the final one at MAX_ITER.
    func testEvalHookPeriodAndFinalEvaluation() throws {
        let t = try DefaultTrainer(cfg: try config(["DATASETS.TEST", "('four',)", "TEST.EVAL_PERIOD", "3"]), catalog: try catalog())
        try t.resumeOrLoad(resume: false)
        try t.train()
        let lines = try String(contentsOfFile: scratch + "/run/metrics.json", encoding: .utf8).split(separator: "\n")
        // Undefined APs are written as NaN, as Python's json.dumps does (Foundation wants null).
        let records = try lines.map { try JSONSerialization.jsonObject(with: Data($0.replacingOccurrences(of: "NaN", with: "null").utf8)) as! [String: Any] }
        XCTAssertEqual(records.map { $0["iteration"] as? Int }, [2, 5, 6])
        XCTAssertNotNil(records[0]["bbox/AP50"])
        XCTAssertNil(records[0]["total_loss"])
        XCTAssertNotNil(records[1]["total_loss"])
        XCTAssertNil(records[1]["bbox/AP50"])
        XCTAssertEqual(Set(records[2].keys), Set(["iteration", "bbox/AP", "bbox/AP50", "bbox/AP75", "bbox/APs", "bbox/APm", "bbox/APl",
                                                  "bbox/AP-logo", "bbox/AP-product", "bbox/AP-brand_cue", "bbox/AP-face", "bbox/AP-smile"]))
        XCTAssertEqual(t.lastResults.count, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch + "/run/inference/coco_instances_results.json"))
    }

    /// Fine-tuning a checkpoint with another NUM_CLASSES: the predictor's mismatched tensors are
    /// skipped with a warning each and keep Detectron2's random initialisation (std 0.01 and
    /// 0.001), everything else is loaded.
    func testFineTuningToAnotherClassCountReinitialisesThePredictor() throws {
        let c = DataCatalog()
        let loaded = try COCO.load(jsonFile: try Fixtures.path("data/annotations/instances_train.json"), imageRoot: try Fixtures.path("data/train"))
        try c.register("four") { Array(loaded.dicts.prefix(4)) }
        _ = DetectionLog.shared.takeWarnings()
        let t = try DefaultTrainer(cfg: try config(["MODEL.ROI_HEADS.NUM_CLASSES", "7"]), catalog: c)
        try t.resumeOrLoad(resume: false)
        let warnings = DetectionLog.shared.takeWarnings().filter { $0.contains("Skip loading parameter") }
        XCTAssertEqual(warnings.count, 4, "\(warnings)")
        for name in ["cls_score.weight", "cls_score.bias", "bbox_pred.weight", "bbox_pred.bias"] {
            XCTAssertTrue(warnings.contains { $0.contains("roi_heads.box_predictor.\(name)") }, name)
        }
        let params = Dictionary(uniqueKeysWithValues: t.model.namedParameters().map { ($0.name, $0.slot.tensor) })
        let cls = try XCTUnwrap(params["roi_heads.box_predictor.cls_score.weight"])
        XCTAssertEqual(cls.shape, [8, 64])
        let std = try cls.to(dtype: .float64).reduce(.std).item()
        XCTAssertEqual(std, 0.01, accuracy: 0.002)
        let reference = try Checkpoint.load(try Fixtures.path("trained/model_final.pth")).stateDict
        XCTAssertTrue(try params["roi_heads.box_head.fc1.weight"]!.equal(reference["roi_heads.box_head.fc1.weight"]!))
        try t.train()
        XCTAssertEqual(t.iter, 5)
    }

    /// A learning rate that blows the loss up stops training with the iteration named and the
    /// last checkpoint left as it was.
    func testDivergenceStopsWithTheIterationAndKeepsTheLastCheckpoint() throws {
        let t = try DefaultTrainer(cfg: try config(["SOLVER.BASE_LR", "1e6", "SOLVER.WARMUP_ITERS", "0", "SOLVER.CHECKPOINT_PERIOD", "1",
                                                    "SOLVER.MAX_ITER", "20"]), catalog: try catalog())
        try t.resumeOrLoad(resume: false)
        var message = ""
        do {
            try t.train()
            XCTFail("BASE_LR 1e6 should make the loss diverge")
        } catch {
            message = String(describing: error)
        }
        XCTAssertTrue(message.contains("iteration"), message)
        XCTAssertTrue(message.contains("Inf") || message.contains("NaN"), message)
        let saved = (try? String(contentsOfFile: scratch + "/run/last_checkpoint", encoding: .utf8)) ?? ""
        if !saved.isEmpty {
            XCTAssertTrue(message.contains(saved), message)
            XCTAssertNoThrow(try Checkpoint.load(scratch + "/run/" + saved))
        }
        XCTAssertGreaterThanOrEqual(t.iter, 0, "the first step should have completed before the loss diverged")
    }

    /// A write that fails part-way (here: a file-size limit standing in for a full disk) throws
    /// and leaves the previous checkpoint intact, with no temporary file behind.
    func testFailedCheckpointWriteKeepsThePreviousOne() throws {
        let t = try DefaultTrainer(cfg: try config(), catalog: try catalog())
        try t.resumeOrLoad(resume: false)
        let good = try t.saveCheckpoint("model_final", iteration: 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: good))
        signal(SIGXFSZ, SIG_IGN)
        var old = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &old)
        var small = old
        small.rlim_cur = 1 << 20
        setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &small)
        let attempt = Result { try t.saveCheckpoint("model_final", iteration: 1) }
        setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &old)
        XCTAssertThrowsError(try attempt.get()) { XCTAssertTrue("\($0)".contains("could not write"), "\($0)") }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: good)), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: good + ".tmp"))
        XCTAssertEqual(try Checkpoint.load(good).iteration, 0)
    }

    func run(_ tool: String, _ args: [String]) -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
