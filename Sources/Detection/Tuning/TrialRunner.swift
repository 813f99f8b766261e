import Foundation
import Store
import Support
import Torch

/// Evaluates a trial's checkpoint on the validation set once: a model of its own (the training
/// model is never touched, so training goes on bit for bit as an uninterrupted run), predictions
/// at the search's score floor, kept beside the trial and in the store, and scored.
final class TrialEvaluator {
    unowned let search: GridSearch
    let cfg: CfgNode
    let heartbeat: Heartbeat
    let started: Date

    init(search: GridSearch, cfg: CfgNode, heartbeat: Heartbeat, started: Date) {
        self.search = search
        self.cfg = cfg
        self.heartbeat = heartbeat
        self.started = started
    }

    func evaluate(_ trial: SearchStore.Trial, checkpoint: String) throws {
        let spec = search.spec
        let dir = search.trialDirectory(trial.id)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let valid = search.snapshot.valid
        let hb = heartbeat
        let (results, predictions) = try ModelPredictions.run(cfg: cfg, weights: checkpoint, dicts: valid.dicts, dataset: valid.name,
                                                              catalog: search.catalog, outputDir: dir, scoreFloor: spec.scoreFloor,
                                                              shouldStop: { hb.lost || LongWork.stopRequested })
        if heartbeat.lost { throw HeartbeatLost(run: trial.runID) }
        let resultsPath = (dir as NSString).appendingPathComponent("coco_instances_results.json")
        let resultsJSON = try InputFile.text(resultsPath, limit: 1 << 31)
        let scores = try TrialScores.score(predictions: predictions, dicts: valid.dicts, classes: search.snapshot.classes,
                                           ap: results.bbox, floor: spec.scoreFloor, thresholds: spec.thresholds)
        let seconds = Date().timeIntervalSince(started)
        try search.store.finish(trial: trial.id, metrics: scores.json, weights: checkpoint, predictionsPath: resultsPath,
                                predictionsJSON: resultsJSON, seconds: seconds, at: Date().timeIntervalSince1970)
        let value = try scores.value(spec.metric, at: spec.thresholds[0])
        DetectionLog.shared.info("grid_search", "trial \(trial.id) (\(ParamCoding.decode(trial.params).map { "\($0.key) = \(ParamCoding.label($0.value))" }.joined(separator: ", "))): "
                                 + "\(spec.metric) \(value.map { String(format: "%.4f", $0) } ?? "undefined") at \(spec.thresholds[0]), AP \(String(format: "%.2f", results["AP"] ?? .nan))")
    }
}

/// A weights file's predictions on a dataset (COCO AP too): a model of its own at a score floor,
/// through inference_on_dataset (COCO results JSON written to `outputDir` when given).
public enum ModelPredictions {
    public static func run(cfg: CfgNode, weights: String, dicts: [DatasetDict], dataset: String, catalog: DataCatalog, outputDir: String?,
                           scoreFloor: Double, shouldStop: @escaping () -> Bool = { LongWork.stopRequested }) throws -> (COCOEvaluator.Results, [Instances]) {
        let evalCfg = cfg.clone()
        evalCfg.defrost()
        try evalCfg.set("MODEL.WEIGHTS", .string(weights))
        try evalCfg.set("MODEL.ROI_HEADS.SCORE_THRESH_TEST", .float(scoreFloor))
        let model = try GeneralizedRCNN(cfg: evalCfg)
        let device = try GeneralizedRCNN.device(configuredIn: evalCfg, for: "inference")
        if device != .cpu { try model.to(device) }
        try model.loadWeights(configuredIn: evalCfg)
        model.eval()
        let loader = try TestLoader(dicts: dicts, settings: try LoaderSettings(cfg: evalCfg))
        defer { loader.close() }
        let evaluator = try COCOEvaluator(datasetName: dataset, outputDir: outputDir, catalog: catalog)
        let results = try InferenceOnDataset.run(loader: loader, evaluator: evaluator, shouldStop: shouldStop) { try InferenceOnDataset.predictions(model, $0) }
        return (results, evaluator.predictions)
    }

    /// Predictions on a registered dataset at `scoreFloor` (a threshold sweep from a weights file).
    public static func onDataset(cfg: CfgNode, weights: String, dataset: String, scoreFloor: Double, catalog: DataCatalog = .shared) throws -> [Instances] {
        try run(cfg: cfg, weights: weights, dicts: try catalog.get(dataset), dataset: dataset, catalog: catalog, outputDir: nil, scoreFloor: scoreFloor).1
    }
}

/// In a shared run: keeps the checkpoint at each member trial's MAX_ITER and evaluates it there,
/// removes periodic checkpoints no trial needs once a newer one is written, and reports progress
/// to the store (and the bar's title).
final class TrialCheckpointHook: TrainerHook {
    unowned let search: GridSearch
    let run: SearchStore.Run
    var trials: [SearchStore.Trial]
    let evaluator: TrialEvaluator
    let heartbeat: Heartbeat
    /// MAX_ITERs of every trial of the run: their checkpoints are kept.
    let kept: Set<Int>
    weak var writer: PeriodicWriter?
    private var lastBeat = Date.distantPast

    init(search: GridSearch, run: SearchStore.Run, trials: [SearchStore.Trial], evaluator: TrialEvaluator, heartbeat: Heartbeat,
         all: [SearchStore.Trial]) {
        self.search = search
        self.run = run
        self.trials = trials.sorted { $0.maxIter < $1.maxIter }
        self.evaluator = evaluator
        self.heartbeat = heartbeat
        kept = Set(all.map(\.maxIter))
    }

    func afterStep(_ t: DefaultTrainer) throws {
        if heartbeat.lost { throw HeartbeatLost(run: run.id) }
        let done = t.iter + 1
        if Date().timeIntervalSince(lastBeat) >= 2 || done == t.maxIter {
            heartbeat.beat(trained: done)
            lastBeat = Date()
        }
        if let trial = trials.first, trial.maxIter == done {
            let path = try keepCheckpoint(t, iteration: t.iter)
            trials.removeFirst()
            try evaluator.evaluate(trial, checkpoint: path)
            if let next = trials.first, let writer {
                writer.title = try search.progressTitle(next: next, total: search.trialIDs.count)
                writer.progress?.title = writer.title
            }
        }
        if done % t.checkpointPeriod == 0 || kept.contains(done) { prune(t, newest: t.iter) }
    }

    /// model_<iter>.pth for the trial: the final checkpoint hard-linked when it is the run's last
    /// iteration (PeriodicCheckpointer has just written it), else written now.
    func keepCheckpoint(_ t: DefaultTrainer, iteration: Int) throws -> String {
        let name = DefaultTrainer.checkpointName(iteration)
        let path = (t.outputDir as NSString).appendingPathComponent(name + ".pth")
        if Checkpoint.looksComplete(path) { return path }
        let final = (t.outputDir as NSString).appendingPathComponent("model_final.pth")
        if iteration == t.maxIter - 1, Checkpoint.looksComplete(final) {
            let temporary = AtomicFile.temporaryPath(for: path)
            unlink(temporary)
            if link(final, temporary) == 0, rename(temporary, path) == 0 { return path }
            unlink(temporary)
        }
        return try t.saveCheckpoint(name, iteration: iteration)
    }

    /// Removes periodic checkpoints older than `newest` that no trial of the run needs.
    func prune(_ t: DefaultTrainer, newest: Int) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: t.outputDir)) ?? []
        for name in names where name.hasSuffix(".pth") {
            guard let i = DefaultTrainer.checkpointIteration(name), i < newest, !kept.contains(i + 1) else { continue }
            unlink((t.outputDir as NSString).appendingPathComponent(name))
        }
    }
}
