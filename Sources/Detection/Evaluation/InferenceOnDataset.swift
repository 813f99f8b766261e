import Foundation
import Support
import Torch

/// Detectron2's inference_on_dataset: every image of a test loader through `predict`, into the
/// evaluator, with the same progress and timing lines; then the evaluation.
public enum InferenceOnDataset {
    /// A stop request (`shouldStop`, Ctrl-C by default) ends the run between images with
    /// `Stopped`: nothing is evaluated, and the run starts again from the first image.
    /// In a data-parallel job (`world`) the loader holds this rank's shard; the predictions of
    /// every rank are gathered before the evaluation.
    public static func run(loader: TestLoader, evaluator: COCOEvaluator, shouldStop: () -> Bool = { LongWork.stopRequested },
                           world: DistributedWorld? = nil, predict: (MappedSample) throws -> Instances) throws -> COCOEvaluator.Results {
        evaluator.reset()
        loader.restart()      // every run is a whole pass, also after one that was stopped
        let log = DetectionLog.shared
        log.info("inference_on_dataset", "Start inference on \(loader.count) batches")
        let start = Date()
        var computeTime = 0.0, n = 0
        let progress = ProgressMeter(title: "inference on \(evaluator.datasetName)", total: loader.count, unit: "img")
        progress.begin()
        defer { progress.finish() }
        while let sample = try loader.next() {
            if shouldStop() {
                throw Stopped("inference on \(evaluator.datasetName) interrupted after \(n) of \(loader.count) images", kept: "nothing (no evaluation was made)",
                              howToContinue: "run it again; it starts from the first image")
            }
            let t0 = Date()
            let p = try noGrad { try predict(sample) }
            computeTime += Date().timeIntervalSince(t0)
            try evaluator.process(p.with(imageID: sample.imageID))
            n += 1
            progress.update(done: n)
        }
        progress.finish()
        let total = Date().timeIntervalSince(start)
        log.info("inference_on_dataset", String(format: "Total inference time: %.3f s (%.6f s / iter), pure compute %.6f s / iter",
                                                total, total / Double(max(n, 1)), computeTime / Double(max(n, 1))))
        if let world {
            let all = try GatherPredictions.gather(evaluator.predictions, world: world)
            evaluator.reset()
            for p in all { try evaluator.process(p) }
        }
        return try evaluator.evaluate()
    }

    /// A model's predictions for one test sample, in original-image coordinates.
    public static func predictions(_ model: GeneralizedRCNN, _ sample: MappedSample) throws -> Instances {
        try detectorPostprocess(try model.inference([sample.image])[0], height: sample.height, width: sample.width).with(imageID: sample.imageID)
    }
}
