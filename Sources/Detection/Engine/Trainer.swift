import Foundation
import Support
import Torch

/// Detectron2's DefaultTrainer: SimpleTrainer's loop (run_step) with a list of hooks
/// (TrainerHook), by default Detectron2's: iteration timer, LR scheduler, periodic
/// checkpointer, eval hook, periodic writer (metrics.json, and a progress bar or console lines).
public final class DefaultTrainer {
    public let cfg: CfgNode
    public let model: GeneralizedRCNN
    public let optimizer: SGD
    public let schedule: LRSchedule
    public let clipping: GradientClipping?
    public let storage = EventStorage()
    public let outputDir: String
    public let maxIter: Int
    /// The next iteration to run (Detectron2's start_iter once resumed).
    public private(set) var startIter = 0
    /// The iteration being run (in hooks), or the last one completed (-1 before any).
    public internal(set) var iter = -1
    /// Whether train() is running (a hook calling it again is refused).
    public private(set) var isTraining = false
    public let checkpointPeriod: Int
    public let evalPeriod: Int
    /// Polled after every iteration: true stops training cleanly (a checkpoint is written).
    /// Long work's one stop convention by default (Ctrl-C in the REPL).
    public var shouldStop: () -> Bool = { LongWork.stopRequested }
    /// The hooks run around training and each iteration (buildHooks(), then registered ones).
    public private(set) var hooks: [TrainerHook] = []
    /// Seconds the last iteration took (the ETA's estimate before `time` has values).
    public internal(set) var lastStepSeconds = 0.0
    let catalog: DataCatalog
    let trainDicts: [DatasetDict]
    /// Each parameter group's base LR (SOLVER.BASE_LR with its factors).
    public let initialLRs: [Double]
    /// Base of the per-iteration seeds (SEED, or drawn once and kept in checkpoints); in a
    /// data-parallel job rank 0's, shared by all (each rank's own RNG adds its rank).
    public private(set) var seed: UInt64
    /// The data-parallel world this trainer trains in (nil: one process).
    public let world: DistributedWorld?
    /// Gradient averaging over the world (nil: one process).
    public let ddp: DistributedDataParallel?
    /// Whether this process writes checkpoints, metrics.json and the progress bar (rank 0).
    public var isMainProcess: Bool { (world?.rank ?? 0) == 0 }
    /// The world size recorded in the checkpoint resumed from (nil: none, or written alone).
    public private(set) var resumedWorldSize: Int?
    /// SOLVER.AMP.ENABLED (Detectron2's AMPTrainer): whether mixed precision was asked for.
    public let ampEnabled: Bool
    /// What the convolutions and linear layers train at: fp32, or with AMP fp16 on CUDA and
    /// bf16 on a CPU with bf16 instructions (fp32 where neither is native, said once). Weights,
    /// losses, gradients and checkpoints are fp32 at every precision; evaluation runs fp32.
    public let trainingPrecision: Precision
    /// fp16's loss scaler (AMP on CUDA); bf16 has fp32's range and needs none.
    public let gradScaler: GradScaler?

    public init(cfg userConfig: CfgNode, catalog: DataCatalog = .shared) throws {
        // A data-parallel job (torchrun, srun, lunette --launch) is joined before anything else,
        // so a bad placement fails first, on every rank.
        let placement = try Comm.placement()
        var device = try GeneralizedRCNN.device(configuredIn: userConfig, for: "DefaultTrainer")
        if placement != nil, case .cuda = device { device = .cuda(Comm.localRank) }
        let world = placement == nil ? nil : try Comm.join(backend: Comm.backend(for: device))
        self.world = world
        let workers = world?.size ?? 1
        let cfg = try Self.autoScaleWorkers(userConfig, workers: workers)
        self.cfg = cfg
        self.catalog = catalog
        let batch = try cfg.int("SOLVER.IMS_PER_BATCH")
        guard batch % workers == 0 else {
            throw ConfigError("SOLVER.IMS_PER_BATCH (\(batch)) must be divisible by the number of processes (\(workers)): it is the batch of all of them together, split evenly")
        }
        outputDir = try cfg.string("OUTPUT_DIR")
        try Self.prepareOutputDir(outputDir)
        maxIter = try cfg.int("SOLVER.MAX_ITER")
        checkpointPeriod = try cfg.int("SOLVER.CHECKPOINT_PERIOD")
        guard checkpointPeriod > 0 else { throw ConfigError("SOLVER.CHECKPOINT_PERIOD must be positive, got \(checkpointPeriod)") }
        evalPeriod = try cfg.int("TEST.EVAL_PERIOD")
        let s = try cfg.int("SEED")
        seed = s >= 0 ? UInt64(s) : UInt64.random(in: 0..<(1 << 31))
        if let world {
            // One seed for the job (Detectron2's shared_random_seed): rank 0's.
            let all = try world.allGather(Array(String(seed).utf8))
            seed = UInt64(String(decoding: all[0], as: UTF8.self)) ?? seed
        }
        // Each rank's own RNG differs (Detectron2's seed_all_rng(seed + rank)).
        try TorchRuntime.manualSeed(seed &+ UInt64(world?.rank ?? 0))

        // Datasets first: a bad name or class count fails before the model is built.
        let names = try cfg.strings("DATASETS.TRAIN")
        guard !names.isEmpty else { throw ConfigError("DATASETS.TRAIN names no dataset to train on") }
        var dicts: [DatasetDict] = []
        let numClasses = try cfg.int("MODEL.ROI_HEADS.NUM_CLASSES")
        var largest = 0
        for name in names {
            let d = try catalog.get(name)
            guard !d.isEmpty else { throw DataError("Dataset '\(name)' is empty!") }
            guard d.contains(where: { $0.annotations.contains { $0.isCrowd == 0 } }) else {
                throw DataError("Dataset '\(name)' has no annotations to train on (\(d.count) images, none with a non-crowd box)")
            }
            let classes = catalog.metadata(name).thingClasses
            let highest = d.flatMap { $0.annotations.map(\.categoryID) }.max() ?? -1
            let needed = Swift.max(classes?.count ?? 0, highest + 1)
            guard needed <= numClasses else {
                throw ConfigError("MODEL.ROI_HEADS.NUM_CLASSES is \(numClasses) but dataset '\(name)' has \(needed) classes\(classes.map { " (\($0.joined(separator: ", ")))" } ?? ""); set cfg.MODEL.ROI_HEADS.NUM_CLASSES = \(needed)")
            }
            dicts += d
            largest = Swift.max(largest, needed)
        }
        if largest < numClasses {
            DetectionLog.shared.warn("DefaultTrainer", "MODEL.ROI_HEADS.NUM_CLASSES is \(numClasses) but DATASETS.TRAIN has \(largest) class\(largest == 1 ? "" : "es"): "
                                     + "classes \(largest) to \(numClasses - 1) have no examples and are trained only as background; set cfg.MODEL.ROI_HEADS.NUM_CLASSES = \(largest)")
        }
        trainDicts = dicts

        let model = try GeneralizedRCNN(cfg: cfg)
        self.model = model
        if device != .cpu { try model.to(device) }
        ddp = try world.map { try DistributedDataParallel(model: model, world: $0) }
        ampEnabled = try cfg.bool("SOLVER.AMP.ENABLED")
        if ampEnabled {
            let (precision, fallback) = Precision.mixedTraining(on: device)
            if let fallback { DetectionLog.shared.warnOnce("DefaultTrainer", key: "amp \(device)", "SOLVER.AMP.ENABLED on \(device): \(fallback)") }
            trainingPrecision = precision
            gradScaler = precision == .fp16 ? try GradScaler() : nil
        } else {
            trainingPrecision = .fp32
            gradScaler = nil
        }
        optimizer = try Solver.optimizer(cfg: cfg, model: model)
        initialLRs = optimizer.groups.map(\.lr)
        schedule = try LRSchedule(cfg: cfg)
        clipping = try GradientClipping(cfg: cfg)
        hooks = buildHooks()
    }

    /// DefaultTrainer.auto_scale_workers: a recipe written for SOLVER.REFERENCE_WORLD_SIZE
    /// workers, run on `workers`, keeps images per worker and the schedule in epochs: batch and
    /// LR scale by workers / reference, iteration counts by the inverse (rounded as Python
    /// rounds). Returns a scaled copy, or the config itself when there is nothing to scale.
    public static func autoScaleWorkers(_ cfg: CfgNode, workers: Int) throws -> CfgNode {
        let reference = try cfg.int("SOLVER.REFERENCE_WORLD_SIZE")
        guard reference != 0 && reference != workers else { return cfg }
        let batch = try cfg.int("SOLVER.IMS_PER_BATCH")
        guard reference > 0, batch % reference == 0 else {
            throw ConfigError("Invalid SOLVER.REFERENCE_WORLD_SIZE \(reference): SOLVER.IMS_PER_BATCH (\(batch)) must be a multiple of it")
        }
        let scaled = cfg.clone()
        scaled.defrost()
        let scale = Double(workers) / Double(reference)
        func round(_ x: Double) -> Int { Int(x.rounded(.toNearestOrEven)) }
        try scaled.set("SOLVER.IMS_PER_BATCH", .int(round(Double(batch) * scale)))
        try scaled.set("SOLVER.BASE_LR", .float(try cfg.double("SOLVER.BASE_LR") * scale))
        for key in ["SOLVER.MAX_ITER", "SOLVER.WARMUP_ITERS", "TEST.EVAL_PERIOD", "SOLVER.CHECKPOINT_PERIOD"] {
            try scaled.set(key, .int(round(Double(try cfg.int(key)) / scale)))
        }
        try scaled.set("SOLVER.STEPS", .list(try cfg.ints("SOLVER.STEPS").map { .int(round(Double($0) / scale)) }))
        try scaled.set("SOLVER.REFERENCE_WORLD_SIZE", .int(workers))
        if cfg.isFrozen { scaled.freeze() }
        DetectionLog.shared.info("DefaultTrainer", "Auto-scaling the config to batch_size=\(try scaled.int("SOLVER.IMS_PER_BATCH")), learning_rate=\(try scaled.double("SOLVER.BASE_LR")), max_iter=\(try scaled.int("SOLVER.MAX_ITER")), warmup=\(try scaled.int("SOLVER.WARMUP_ITERS")).")
        return scaled
    }

    static func prepareOutputDir(_ dir: String) throws {
        guard !dir.isEmpty else { throw ConfigError("OUTPUT_DIR is empty; set it to the folder for checkpoints and metrics") }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw ConfigError("OUTPUT_DIR '\(dir)' cannot be created: \(error.localizedDescription)")
        }
        let probe = (dir as NSString).appendingPathComponent(".lunette-write-test-\(getpid())")
        guard FileManager.default.createFile(atPath: probe, contents: Data([0])) else {
            throw ConfigError("OUTPUT_DIR '\(dir)' cannot be written (permissions or a full disk)")
        }
        unlink(probe)
    }

    // MARK: - resume_or_load

    /// resume: the checkpoint to resume from (`resumeCheckpoint()`: model, optimizer,
    /// iteration), training continues after its iteration. Otherwise MODEL.WEIGHTS (model only), from 0.
    @discardableResult
    public func resumeOrLoad(resume: Bool) throws -> String? {
        if resume, let path = try resumeCheckpoint() {
            try restore(from: path)
            return path
        }
        startIter = 0
        iter = -1
        guard let loaded = try model.loadWeights(configuredIn: cfg) else { return nil }
        try checkFullPrecision(loaded.report, source: loaded.path)
        return loaded.path
    }

    /// AMP keeps fp32 master weights and rounds copies of them per layer; weights that were
    /// stored in fp16 or bf16 have lost their low bits already, and Detectron2's AMPTrainer
    /// fails on such a model (GradScaler: "Attempting to unscale FP16 gradients").
    private func checkFullPrecision(_ report: Module.LoadReport, source: String) throws {
        guard ampEnabled, !report.reduced.isEmpty else { return }
        throw ConfigError("SOLVER.AMP.ENABLED: \(source) holds the model's weights in reduced precision (\(report.reduced.count) of \(report.loaded.count) tensors in fp16 or bf16, "
                          + "such as '\(report.reduced[0])'); mixed-precision training needs fp32 master weights. Train from an fp32 checkpoint, or without AMP")
    }

    private func restore(from path: String) throws {
        let ck = try Checkpoint.load(path)
        let report = try model.load(stateDict: ck.stateDict)
        guard report.missing.isEmpty, report.mismatched.isEmpty else {
            throw CheckpointError("\(path) does not fit this model: \(report.missing.count) missing and \(report.mismatched.count) mismatched tensors (\((report.missing + report.mismatched.map(\.name)).prefix(5).joined(separator: ", "))); is it from another config?")
        }
        try checkFullPrecision(report, source: path)
        model.resetAllCaches()
        guard let iteration = ck.iteration else { throw CheckpointError("\(path) records no iteration, so training cannot resume from it") }
        var restoredOptimizer = false
        if case .dict(let trainer)? = ck.extra?["trainer"] {
            if case .int(let s)? = trainer["seed"] { seed = UInt64(s) }
            if case .int(let w)? = trainer["world_size"] { resumedWorldSize = Int(w) }
            if case .dict(let inner)? = trainer["_trainer"], case .dict(let opt)? = inner["optimizer"] {
                restoredOptimizer = try restoreOptimizer(opt, source: path)
            }
            if let gradScaler, case .dict(let inner)? = trainer["_trainer"], case .dict(let state)? = inner["grad_scaler"],
               let scale = state["scale"]?.number, let tracker = state["_growth_tracker"]?.number {
                do { try gradScaler.restore(scale: scale, growthTracker: Int(tracker)) } catch { throw CheckpointError("\(path): \(error)") }
            }
        }
        if !restoredOptimizer {
            DetectionLog.shared.warn("checkpoint", "\(path) has no optimizer state this model can use; momentum restarts from zero")
        }
        startIter = iteration + 1
        iter = iteration
        DetectionLog.shared.info("checkpoint", "Resuming from \(path) at iteration \(startIter)")
        let workers = world?.size ?? 1
        if (resumedWorldSize ?? 1) != workers {
            DetectionLog.shared.warn("checkpoint", "\(path) was written by a run of \(resumedWorldSize ?? 1) process\((resumedWorldSize ?? 1) == 1 ? "" : "es"), this run has \(workers): "
                                     + "training resumes, but the images each iteration sees from here differ from the uninterrupted run's (the stream is split over another number of ranks)")
        }
    }

    /// Momentum buffers by position (Detectron2 numbers parameters across groups in order).
    private func restoreOptimizer(_ opt: PyDict, source: String) throws -> Bool {
        guard case .dict(let state)? = opt["state"] else { return false }
        var buffers: [Int: Tensor] = [:]
        for (k, v) in zip(state.keys, state.values) {
            guard case .int(let i) = k, case .dict(let entry) = v, case .tensor(let t)? = entry["momentum_buffer"] else { continue }
            buffers[Int(i)] = t
        }
        var position = 0
        var plan: [(Int, Int, Tensor)] = []
        for (gi, g) in optimizer.groups.enumerated() {
            for (pi, p) in g.parameters.enumerated() {
                if let b = buffers[position] {
                    guard b.shape == p.tensor.shape else {
                        DetectionLog.shared.warn("checkpoint", "\(source): optimizer state \(position) has shape \(b.shape), the parameter \(p.tensor.shape); optimizer state not restored")
                        return false
                    }
                    plan.append((gi, pi, b))
                }
                position += 1
            }
        }
        for (gi, pi, b) in plan { optimizer.setMomentumBuffer(group: gi, index: pi, try b.to(device: model.device)) }
        return !plan.isEmpty || buffers.isEmpty
    }

    // MARK: - checkpoints

    /// Writes OUTPUT_DIR/<name>.pth (atomically) and points last_checkpoint at it.
    @discardableResult
    public func saveCheckpoint(_ name: String, iteration: Int) throws -> String {
        let file = name + ".pth"
        let path = (outputDir as NSString).appendingPathComponent(file)
        // In a data-parallel job every rank holds the same weights; rank 0 writes them.
        guard isMainProcess else { return path }
        let model = TorchSave.dict(self.model.stateDict().map { ($0.name, PyValue.tensor($0.tensor)) })
        var stateItems: [(Int, PyValue)] = []
        var groups: [PyValue] = []
        var position = 0
        for (gi, g) in optimizer.groups.enumerated() {
            var ids: [PyValue] = []
            for pi in g.parameters.indices {
                if let b = optimizer.momentumBuffers[gi][pi] {
                    stateItems.append((position, .dict(TorchSave.dict([("momentum_buffer", .tensor(b))]))))
                }
                ids.append(.int(Int64(position)))
                position += 1
            }
            groups.append(.dict(TorchSave.dict([
                ("lr", .float(g.lr)), ("momentum", .float(g.momentum)), ("dampening", .int(0)), ("weight_decay", .float(g.weightDecay)),
                ("nesterov", .bool(g.nesterov)), ("maximize", .bool(false)), ("foreach", .none), ("differentiable", .bool(false)),
                ("initial_lr", .float(initialLRs[gi])), ("params", TorchSave.list(ids)),
            ])))
        }
        let optimizerState = TorchSave.dict([("state", .dict(TorchSave.dict(intKeys: stateItems))), ("param_groups", TorchSave.list(groups))])
        let trainer = TorchSave.dict([
            ("iteration", .int(Int64(iteration))),
            ("hooks", .dict(TorchSave.dict([("LRScheduler", .dict(TorchSave.dict([("base_lrs", TorchSave.list(initialLRs.map { .float($0) })), ("last_epoch", .int(Int64(iteration + 1)))])))]))),
            ("_trainer", .dict(TorchSave.dict([("iteration", .int(Int64(iteration))), ("optimizer", .dict(optimizerState))]
                                              + (gradScaler.map { [("grad_scaler", PyValue.dict(Self.scalerState($0)))] } ?? [])))),
            ("seed", .int(Int64(seed))),
            ("world_size", .int(Int64(world?.size ?? 1))),
        ])
        let top = TorchSave.dict([("model", .dict(model)), ("trainer", .dict(trainer)), ("iteration", .int(Int64(iteration)))])
        try TorchSave.write(.dict(top), to: path, ordered: [ObjectIdentifier(model)])
        try AtomicFile.write(file, to: lastCheckpointFile)
        DetectionLog.shared.info("checkpoint", "Saving checkpoint to \(path)")
        return path
    }

    /// GradScaler.state_dict(), as PyTorch writes it.
    static func scalerState(_ g: GradScaler) -> PyDict {
        TorchSave.dict([("scale", .float(g.scale)), ("growth_factor", .float(g.growthFactor)), ("backoff_factor", .float(g.backoffFactor)),
                        ("growth_interval", .int(Int64(g.growthInterval))), ("_growth_tracker", .int(Int64(g.growthTracker)))])
    }

    // MARK: - the loop

    /// Detectron2's default hooks, in its order: IterationTimer, LRScheduler,
    /// PeriodicCheckpointer, EvalHook, PeriodicWriter.
    public func buildHooks() -> [TrainerHook] {
        [IterationTimer(), LRSchedulerHook(), PeriodicCheckpointer(period: checkpointPeriod), EvalHook(period: evalPeriod),
         PeriodicWriter(metricsPath: (outputDir as NSString).appendingPathComponent("metrics.json"))]
    }

    /// Adds hooks after the default ones (Detectron2's register_hooks); they run in list order.
    public func registerHooks(_ more: [TrainerHook]) { hooks += more }

    /// Trains from startIter to SOLVER.MAX_ITER. A stop request (Ctrl-C) ends it after the
    /// current iteration with a checkpoint, and throws `Stopped` saying how to continue.
    public func train() throws {
        // A hook that calls train() would start a second loop inside the first, for ever.
        guard !isTraining else { throw ConfigError("train() is already running (called from a hook?); a trainer trains one run at a time") }
        isTraining = true
        defer { isTraining = false }
        guard startIter < maxIter else {
            // A run killed after its final checkpoint still owes the safetensors copy.
            let final = (outputDir as NSString).appendingPathComponent("model_final.pth")
            if FileManager.default.fileExists(atPath: final) && !FileManager.default.fileExists(atPath: (final as NSString).deletingPathExtension + ".safetensors") {
                try writeFinalWeights(checkpoint: final, iteration: startIter - 1)
                DetectionLog.shared.info("DefaultTrainer", "Wrote the missing model_final.safetensors of the finished run")
            }
            DetectionLog.shared.info("DefaultTrainer", "Nothing to train: the run already reached SOLVER.MAX_ITER = \(maxIter) (raise it to train longer)")
            return
        }
        var settings = try LoaderSettings(cfg: cfg)
        settings.seed = Int(seed)          // SEED, or the one drawn for this run (kept in checkpoints)
        let workers = world?.size ?? 1
        settings.imsPerBatch /= workers    // each rank's share of the batch
        let loader = try TrainLoader(dicts: trainDicts, settings: settings, startBatch: startIter, rank: world?.rank ?? 0, worldSize: workers)
        defer { loader.close() }
        // DDP's first act: every rank starts from rank 0's weights (a fresh head is drawn per rank).
        if let ddp {
            do { try ddp.broadcastState(model) } catch { world?.recordFailure("\(error)"); throw error }
            DetectionLog.shared.info("DefaultTrainer", "Data-parallel over \(workers) processes (\(ddp.world.backend)): \(settings.imsPerBatch) image\(settings.imsPerBatch == 1 ? "" : "s") each, "
                                     + "gradients averaged in \(ddp.buckets.count) bucket\(ddp.buckets.count == 1 ? "" : "s") of \(ByteCountFormatter.string(fromByteCount: Int64(ddp.bytesPerIteration), countStyle: .binary)) per iteration")
        }
        model.train()
        model.setComputeDType(trainingPrecision.dtype)
        defer { model.eval(); model.setComputeDType(.float32) }
        if trainingPrecision != .fp32 {
            DetectionLog.shared.info("DefaultTrainer", "Mixed precision (SOLVER.AMP.ENABLED): convolutions and linear layers in \(trainingPrecision), "
                                     + "weights, losses and checkpoints fp32\(gradScaler == nil ? "" : ", the loss scaled from \(gradScaler!.scale)")")
        }
        DetectionLog.shared.info("DefaultTrainer", "Starting training from iteration \(startIter)")
        iter = startIter
        for h in hooks { try h.beforeTrain(self) }
        do {
            for it in startIter..<maxIter {
                iter = it
                storage.setIteration(it)
                for h in hooks { try h.beforeStep(self) }
                try runStep(loader)
                for h in hooks { try h.afterStep(self) }
                if it != maxIter - 1 && (world == nil ? shouldStop() : stopAgreed) {
                    let path = try saveCheckpoint(Self.checkpointName(it), iteration: it)
                    startIter = it + 1
                    throw Stopped("training interrupted after iteration \(it) of \(maxIter)", kept: "checkpoint \(path) and \(outputDir)/metrics.json",
                                  howToContinue: "trainer:resume_or_load{resume = true}; trainer:train() continues from iteration \(it + 1)")
                }
            }
        } catch {
            // As Detectron2's `finally`: after_train runs on a stop or a failure too (metrics are
            // flushed, the progress bar ends; the final evaluation runs only at MAX_ITER).
            for h in hooks { try? h.afterTrain(self) }
            if !(error is Stopped) { world?.recordFailure("iteration \(iter): \(error)") }
            throw error
        }
        // After the loop the trainer and the storage stand at MAX_ITER (Detectron2's
        // after_train), so the final evaluation gets a metrics.json line of its own.
        iter = maxIter
        startIter = maxIter
        storage.setIteration(maxIter)
        for h in hooks { try h.afterTrain(self) }
        iter = maxIter - 1
    }

    /// SimpleTrainer.run_step: a batch, the losses (a NaN or infinite total stops training
    /// naming the last good checkpoint), backward, clipping, the optimizer step; data_time,
    /// the losses and the model's statistics go into the storage.
    private func runStep(_ loader: TrainLoader) throws {
        let it = iter
        let stepStart = Date()
        try TorchRuntime.manualSeed((seed &+ UInt64(world?.rank ?? 0)) &+ UInt64(it) &* 0x9E37_79B9)
        let batch = try loader.next()
        let dataTime = Date().timeIntervalSince(stepStart)
        let out: TrainingOutput
        do {
            out = try model.trainingForward(images: batch.map(\.image),
                                            targets: batch.map { TrainingTargets(boxes: $0.gtBoxes!, classes: $0.gtClasses!, samplingSeed: $0.samplingSeed) })
        } catch let e as TrainingError {
            throw TrainingError("iteration \(it): \(e.message) " + lastGoodCheckpoint)
        }
        let total = try out.losses.dropFirst().reduce(out.losses[0].value) { try $0 + $1.value }
        var values = try out.losses.map { ($0.name, try $0.value.item()) }
        var metrics = out.metrics.map { ($0.name, $0.value) }
        var reportedDataTime = dataTime
        if let world {
            stopAgreed = shouldStop()
            // Detectron2's _write_metrics: every rank's losses and statistics, averaged (data_time:
            // the slowest rank's), and a stop asked on any rank stops all at the same iteration.
            let mine = [dataTime, stopAgreed ? 1 : 0] + values.map(\.1) + metrics.map(\.1)
            let all = try world.allGatherDoubles(mine)
            guard all.allSatisfy({ $0.count == mine.count }) else { throw TrainingError("iteration \(it): the ranks report different loss and metric sets") }
            func mean(_ k: Int) -> Double { all.reduce(0) { $0 + $1[k] } / Double(all.count) }
            reportedDataTime = all.map { $0[0] }.max() ?? dataTime
            stopAgreed = all.contains { $0[1] != 0 }
            for k in values.indices { values[k].1 = mean(2 + k) }
            for k in metrics.indices { metrics[k].1 = mean(2 + values.count + k) }
        }
        let totalValue = values.reduce(0) { $0 + $1.1 }
        guard totalValue.isFinite else {
            throw TrainingError("Loss became infinite or NaN at iteration=\(it)! loss_dict = {\(values.map { "'\($0.0)': \($0.1)" }.joined(separator: ", "))}. " +
                                lastGoodCheckpoint)
        }
        try optimizer.zeroGrad()
        try (gradScaler?.scaled(total) ?? total).backward()
        try ddp?.averageGradients()
        // AMPTrainer's grad_scaler.step: gradients unscaled (clipping sees true ones), and a
        // step whose fp16 gradients overflowed skipped; the scale backs off or grows after it.
        var skipped = false
        if let gradScaler {
            let scale = gradScaler.scale
            skipped = try gradScaler.unscale(optimizer.groups.flatMap { $0.parameters.compactMap(\.tensor.grad) })
            gradScaler.update(foundInf: skipped)
            if skipped {
                DetectionLog.shared.warn("AMP", "iteration \(it): fp16 gradients overflowed (inf or NaN) at loss scale \(scale); step skipped, the scale is now \(gradScaler.scale)")
            }
        }
        if !skipped {
            if let clipping { try clipping.apply(optimizer) }
            try optimizer.step()
        }
        storage.put("data_time", reportedDataTime)
        storage.put("total_loss", totalValue)
        for (name, v) in values { storage.put(name, v) }
        for (name, v) in metrics { storage.put(name, v) }
    }

    /// Whether the last step saw a stop request (on any rank).
    private var stopAgreed = false

    /// What a diverged run says about where to go back to.
    private var lastGoodCheckpoint: String {
        (lastCheckpoint.map { "The last good checkpoint is \($0)." } ?? "No checkpoint was written.") + " Lower SOLVER.BASE_LR or enable SOLVER.CLIP_GRADIENTS."
    }

    private var lastCheckpointFile: String { (outputDir as NSString).appendingPathComponent("last_checkpoint") }

    /// The checkpoint OUTPUT_DIR/last_checkpoint names (Detectron2's pointer file), if it names one.
    public var lastCheckpoint: String? { try? pointedCheckpoint()?.get() }

    /// What last_checkpoint names, or why it names nothing usable (nil: there is no such file).
    private func pointedCheckpoint() -> Result<String, CheckpointError>? {
        guard FileManager.default.fileExists(atPath: lastCheckpointFile) else { return nil }
        let text: String
        do { text = try InputFile.text(lastCheckpointFile, limit: 4096) } catch {
            return .failure(CheckpointError("\(error)"))
        }
        let name = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { return .failure(CheckpointError("\(lastCheckpointFile) is empty")) }
        guard !name.contains("\n"), !name.contains("\0") else { return .failure(CheckpointError("\(lastCheckpointFile) does not hold one file name")) }
        let path = name.hasPrefix("/") ? name : (outputDir as NSString).appendingPathComponent(name)
        guard Checkpoint.looksComplete(path) else {
            return .failure(CheckpointError("\(lastCheckpointFile) names \(name), which is missing or incomplete"))
        }
        return .success(path)
    }

    /// The checkpoints in OUTPUT_DIR by iteration, newest first (model_final last of all runs),
    /// keeping only complete files (atomic writes mean a partial one can only be foreign).
    func completeCheckpoints() -> [(iteration: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: outputDir)) ?? []
        var found: [(Int, String)] = []
        for name in names where name.hasSuffix(".pth") {
            let path = (outputDir as NSString).appendingPathComponent(name)
            guard let iteration = Self.checkpointIteration(path) else { continue }
            if Checkpoint.looksComplete(path) { found.append((iteration, path)) }
        }
        return found.sorted { $0.0 > $1.0 }
    }

    /// The checkpoint `resume_or_load{resume = true}` continues from: the one last_checkpoint
    /// names, unless a newer complete checkpoint stands beside it (a kill between writing a
    /// checkpoint and its pointer) or the pointer is missing, unreadable or names nothing
    /// usable; then the newest complete one, said in a warning. A broken pointer with no
    /// checkpoint to fall back to is an error naming it, never a silent restart from 0.
    /// Temporary files left by killed writers are removed first.
    public func resumeCheckpoint() throws -> String? {
        // Rank 0 alone: on a shared file system another machine's writer is not a local pid.
        if isMainProcess { removeStaleTemporaries() }
        let newest = completeCheckpoints().first
        let log = DetectionLog.shared
        switch pointedCheckpoint() {
        case .success(let path)?:
            if let newest, newest.path != path, newest.iteration > Self.checkpointIteration(path) ?? -1 {
                log.warn("checkpoint", "\(lastCheckpointFile) names \(path), but \(newest.path) is newer and complete; resuming from it")
                return newest.path
            }
            return path
        case .failure(let problem)?:
            guard let newest else {
                throw CheckpointError("\(problem.message), and \(outputDir) holds no complete checkpoint to resume from. Fix or delete it, or resume_or_load{resume = false} to start again.")
            }
            log.warn("checkpoint", "\(problem.message); resuming from the newest complete checkpoint, \(newest.path)")
            return newest.path
        case nil:
            if let newest {
                log.warn("checkpoint", "\(outputDir) has no last_checkpoint; resuming from the newest complete checkpoint, \(newest.path)")
            }
            return newest?.path
        }
    }

    /// The name of the checkpoint after 0-based iteration `iteration`, without ".pth"
    /// (Detectron2's model_{iter:07d}).
    public static func checkpointName(_ iteration: Int) -> String { String(format: "model_%07d", iteration) }

    /// The iteration a checkpoint's file name says (model_final: after every other), or nil
    /// for a name the trainer does not write.
    static func checkpointIteration(_ path: String) -> Int? {
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        if stem == "model_final" { return Int.max }
        return stem.hasPrefix("model_") ? Int(stem.dropFirst(6)) : nil
    }

    /// `<name>.tmp-<pid>` files in OUTPUT_DIR whose writer is no longer running.
    func removeStaleTemporaries() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: outputDir)) ?? []
        for name in names {
            guard let r = name.range(of: ".tmp-", options: .backwards), let pid = Int32(name[r.upperBound...]) else { continue }
            guard pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            let path = (outputDir as NSString).appendingPathComponent(name)
            if unlink(path) == 0 { DetectionLog.shared.info("checkpoint", "Removed \(path), left by a writer that was killed") }
        }
    }

    /// model_final.pth's safetensors copy of the weights (written after the final checkpoint).
    func writeFinalWeights(checkpoint path: String, iteration: Int) throws {
        guard isMainProcess else { return }
        try SafeTensors.write(model.stateDict(), metadata: ["format": "pt", "iteration": String(iteration)],
                              to: (path as NSString).deletingPathExtension + ".safetensors")
    }

    // MARK: - evaluation

    /// The latest evaluation, by dataset name.
    public private(set) var lastResults: [(dataset: String, results: COCOEvaluator.Results)] = []

    /// DefaultTrainer.test with COCOEvaluator (OUTPUT_DIR/inference) on each of DATASETS.TEST;
    /// results go into the storage as bbox/AP, bbox/AP50, ... (prefixed by the dataset when several).
    @discardableResult
    /// `stoppable` false runs every image even when a stop is requested (the eval hook: the
    /// trainer then stops after it, with a checkpoint).
    public func test(stoppable: Bool = true) throws -> [(dataset: String, results: COCOEvaluator.Results)] {
        let names = try cfg.strings("DATASETS.TEST")
        guard !names.isEmpty else { return [] }
        let wasTraining = model.isTraining
        let trainingDType = model.computeDType
        model.eval()
        model.setComputeDType(.float32)   // AMP covers training; evaluation is exact
        defer { model.train(wasTraining); model.setComputeDType(trainingDType) }
        var all: [(String, COCOEvaluator.Results)] = []
        let settings = try LoaderSettings(cfg: cfg)
        for name in names {
            var dicts = try catalog.get(name)
            if let world { dicts = Array(dicts[GatherPredictions.shard(count: dicts.count, rank: world.rank, size: world.size)]) }
            let loader = try TestLoader(dicts: dicts, settings: settings)
            defer { loader.close() }
            // Every rank evaluates the gathered predictions; rank 0 writes them.
            let evaluator = try COCOEvaluator(datasetName: name, outputDir: isMainProcess ? (outputDir as NSString).appendingPathComponent("inference") : nil, catalog: catalog)
            // A stop on one rank cannot end the others' inference at the same image: in a job,
            // evaluation runs to the end and the trainer stops after it.
            let results = try InferenceOnDataset.run(loader: loader, evaluator: evaluator, shouldStop: stoppable && world == nil ? shouldStop : { false },
                                                     world: world) { try InferenceOnDataset.predictions(model, $0) }
            DetectionLog.shared.info("DefaultTrainer", "Evaluation results for \(name) in csv format:\n" + results.table)
            for (metric, value) in results.bbox {
                storage.put((names.count > 1 ? name + "/" : "") + "bbox/" + metric, value, smoothing: false)
            }
            all.append((name, results))
        }
        lastResults = all
        return all
    }
}
