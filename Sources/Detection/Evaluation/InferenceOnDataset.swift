import Foundation
import Torch

/// Detectron2's inference_on_dataset: every image of a test loader through `predict`, into the
/// evaluator, with the same progress and timing lines; then the evaluation.
public enum InferenceOnDataset {
    public struct Stopped: Error, CustomStringConvertible {
        public let done: Int, total: Int
        public var description: String { "interrupted after \(done) of \(total) images" }
    }

    public static func run(loader: TestLoader, evaluator: COCOEvaluator, shouldStop: () -> Bool = { false },
                           predict: (MappedSample) throws -> ImagePredictions) throws -> COCOEvaluator.Results {
        evaluator.reset()
        let log = DetectionLog.shared
        log.info("inference_on_dataset", "Start inference on \(loader.count) batches")
        let start = Date()
        var computeTime = 0.0, n = 0
        var lastLog = Date()
        while let sample = try loader.next() {
            if shouldStop() { throw Stopped(done: n, total: loader.count) }
            let t0 = Date()
            let p = try noGrad { try predict(sample) }
            computeTime += Date().timeIntervalSince(t0)
            evaluator.process(p)
            n += 1
            if Date().timeIntervalSince(lastLog) > 5 {
                lastLog = Date()
                let per = Date().timeIntervalSince(start) / Double(n)
                log.info("inference_on_dataset", String(format: "Inference done %d/%d. %.4f s/iter. ETA=%.0f s", n, loader.count, per, per * Double(loader.count - n)))
            }
        }
        let total = Date().timeIntervalSince(start)
        log.info("inference_on_dataset", String(format: "Total inference time: %.3f s (%.6f s / iter), pure compute %.6f s / iter",
                                                total, total / Double(max(n, 1)), computeTime / Double(max(n, 1))))
        return try evaluator.evaluate()
    }

    /// A model's predictions for one test sample, in original-image coordinates.
    public static func predictions(_ model: GeneralizedRCNN, _ sample: MappedSample) throws -> ImagePredictions {
        try ImagePredictions(imageID: sample.imageID, try GeneralizedRCNN.postprocess(try model.inference([sample.image])[0],
                                                                                   height: sample.height, width: sample.width))
    }
}
