import Foundation
import Support
import Torch

/// Detectron2's HookBase: called by the trainer around training and around every iteration.
/// Every method has an empty default; a hook implements the ones it needs. `trainer.iter` is
/// the iteration being run in beforeStep/afterStep, and MAX_ITER after the loop in afterTrain.
public protocol TrainerHook: AnyObject {
    func beforeTrain(_ trainer: DefaultTrainer) throws
    func beforeStep(_ trainer: DefaultTrainer) throws
    func afterStep(_ trainer: DefaultTrainer) throws
    func afterTrain(_ trainer: DefaultTrainer) throws
}

extension TrainerHook {
    public func beforeTrain(_ trainer: DefaultTrainer) throws {}
    public func beforeStep(_ trainer: DefaultTrainer) throws {}
    public func afterStep(_ trainer: DefaultTrainer) throws {}
    public func afterTrain(_ trainer: DefaultTrainer) throws {}
}

/// IterationTimer: puts `time` (seconds of the step, hooks before it excluded) after the first
/// `warmup` iterations of a run, and logs the overall speed and total time after training.
public final class IterationTimer: TrainerHook {
    public let warmup: Int
    private var stepStart = Date(), trainStart = Date()
    private var timedIters = 0, timedSeconds = 0.0, stepSeconds = 0.0, firstIter = 0

    public init(warmup: Int = 3) { self.warmup = warmup }

    public func beforeTrain(_ t: DefaultTrainer) throws {
        trainStart = Date()
        timedIters = 0
        timedSeconds = 0
        stepSeconds = 0
        firstIter = t.startIter
    }

    public func beforeStep(_ t: DefaultTrainer) throws { stepStart = Date() }

    public func afterStep(_ t: DefaultTrainer) throws {
        let seconds = Date().timeIntervalSince(stepStart)
        t.lastStepSeconds = seconds
        stepSeconds += seconds
        if t.iter - firstIter + 1 > warmup {
            t.storage.put("time", seconds)
            timedIters += 1
            timedSeconds += seconds
        }
    }

    public func afterTrain(_ t: DefaultTrainer) throws {
        let wall = Date().timeIntervalSince(trainStart)
        if timedIters > 0 {
            DetectionLog.shared.info("DefaultTrainer", "Overall training speed: \(timedIters) iterations in \(ProgressMeter.duration(timedSeconds)) (\(String(format: "%.4f", timedSeconds / Double(timedIters))) s / it)")
        }
        DetectionLog.shared.info("DefaultTrainer", "Total training time: \(ProgressMeter.duration(wall)) (\(ProgressMeter.duration(wall - stepSeconds)) on hooks)")
    }
}

/// LRScheduler: each iteration runs at base LR × the schedule's multiplier; after the step the
/// LR of the largest parameter group is recorded as `lr`.
public final class LRSchedulerHook: TrainerHook {
    public init() {}

    public func beforeStep(_ t: DefaultTrainer) throws {
        for (gi, lr) in t.initialLRs.enumerated() { t.optimizer.groups[gi].lr = lr * t.schedule.multiplier(t.iter) }
    }

    public func afterStep(_ t: DefaultTrainer) throws {
        let groups = t.optimizer.groups
        guard let largest = groups.indices.max(by: { groups[$0].parameters.count < groups[$1].parameters.count }) else { return }
        t.storage.put("lr", groups[largest].lr, smoothing: false)
    }
}

/// PeriodicCheckpointer: model_{iter:07d}.pth every SOLVER.CHECKPOINT_PERIOD iterations, and
/// model_final.pth (with a .safetensors copy of the weights) after the last one.
public final class PeriodicCheckpointer: TrainerHook {
    public let period: Int
    public init(period: Int) { self.period = period }

    public func afterStep(_ t: DefaultTrainer) throws {
        let last = t.iter == t.maxIter - 1
        if last {
            try t.writeFinalWeights(checkpoint: try t.saveCheckpoint("model_final", iteration: t.iter), iteration: t.iter)
        } else if (t.iter + 1) % period == 0 {
            try t.saveCheckpoint(DefaultTrainer.checkpointName(t.iter), iteration: t.iter)
        }
    }
}

/// EvalHook: DefaultTrainer.test every TEST.EVAL_PERIOD iterations (not at the last one) and
/// once after training.
public final class EvalHook: TrainerHook {
    public let period: Int
    public init(period: Int) { self.period = period }

    public func afterStep(_ t: DefaultTrainer) throws {
        if period > 0 && (t.iter + 1) % period == 0 && t.iter != t.maxIter - 1 { try t.test(stoppable: false) }
    }

    public func afterTrain(_ t: DefaultTrainer) throws {
        if try t.iter >= t.maxIter && !t.cfg.strings("DATASETS.TEST").isEmpty { try t.test(stoppable: false) }
    }
}

/// PeriodicWriter: metrics.json (Detectron2's JSONWriter) every 20 iterations and at the end,
/// with `eta_seconds`; progress as a bar on a terminal, CommonMetricPrinter's lines elsewhere.
public final class PeriodicWriter: TrainerHook {
    public let period: Int
    public let json: JSONMetricsWriter
    public var progress: ProgressMeter?
    /// Draws a bar on a terminal (nil: decide by stderr).
    public var interactive: Bool?
    /// The bar's title (a grid search names the trial: "trial 3 of 9").
    public var title = "train"
    /// Seconds of work after this run (a grid search's other trials), added to the bar's ETA
    /// given this run's median iteration time; metrics.json keeps the run's own eta_seconds.
    public var remainingBeyondRun: ((_ secondsPerIteration: Double) -> Double)?
    static let lossNames = ["total_loss", "loss_cls", "loss_box_reg", "loss_rpn_cls", "loss_rpn_loc"]

    public init(metricsPath: String, period: Int = 20, interactive: Bool? = nil) {
        json = JSONMetricsWriter(path: metricsPath)
        self.period = period
        self.interactive = interactive
    }

    public func beforeTrain(_ t: DefaultTrainer) throws {
        guard t.isMainProcess else { return }      // rank 0 writes metrics.json and shows progress
        let p = ProgressMeter(title: title, total: t.maxIter, interactive: interactive ?? StatusConsole.isInteractive)
        p.begin(alreadyDone: t.startIter)
        progress = p
    }

    public func afterStep(_ t: DefaultTrainer) throws {
        guard t.isMainProcess else { return }
        let s = t.storage
        let eta = (s.median("time", window: 1000) ?? t.lastStepSeconds) * Double(t.maxIter - t.iter - 1)
        let writeNow = (t.iter + 1) % period == 0 || t.iter == t.maxIter - 1
        if writeNow {
            s.put("eta_seconds", eta, smoothing: false)
            try json.write(s)
        }
        guard let progress else { return }
        if progress.interactive {
            let losses = Self.lossNames.compactMap { n in
                s.median(n).map { "\(n == "total_loss" ? "loss" : n.replacingOccurrences(of: "loss_", with: "")) \(String(format: "%.3f", $0))" }
            }
            let perIteration = s.median("time", window: 1000) ?? t.lastStepSeconds
            progress.update(done: t.iter + 1, status: losses.joined(separator: " ") + String(format: "  lr %.2e", s.latest("lr") ?? 0),
                            eta: eta + (remainingBeyondRun?(perIteration) ?? 0))
        } else if writeNow {
            let perIteration = s.median("time", window: 1000) ?? t.lastStepSeconds
            let beyond = remainingBeyondRun?(perIteration)
            DetectionLog.shared.info("DefaultTrainer", (title == "train" ? "" : title + ":") + commonMetricLine(t, eta: eta)
                                     + (beyond.map { "  search eta: \(ProgressMeter.duration(eta + $0))" } ?? ""))
        }
    }

    /// CommonMetricPrinter's line.
    func commonMetricLine(_ t: DefaultTrainer, eta: Double) -> String {
        let s = t.storage
        var parts = [" eta: \(ProgressMeter.duration(eta))", "iter: \(t.iter)"]
        for n in Self.lossNames { if let v = s.median(n) { parts.append("\(n): \(String(format: "%.4g", v))") } }
        if let v = s.average("time") { parts.append("time: \(String(format: "%.4f", v))") }
        if let d = s.average("data_time", window: 20) { parts.append("data_time: \(String(format: "%.4f", d))") }
        if let lr = s.latest("lr") { parts.append("lr: \(String(format: "%.4g", lr))") }
        return parts.joined(separator: "  ")
    }

    /// Writes what is not written yet and ends the bar (after training, a stop or a failure).
    public func afterTrain(_ t: DefaultTrainer) throws {
        guard t.isMainProcess else { return }
        progress?.finish()
        try json.write(t.storage)
    }
}
