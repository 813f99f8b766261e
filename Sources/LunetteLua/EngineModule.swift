import Detection
import Foundation
import LuaHost
import Support
import Torch

/// A hook written in Lua: a table with any of before_train, before_step, after_step and
/// after_train, each called with the trainer (Detectron2's HookBase methods).
final class LuaTrainerHook: TrainerHook {
    static let events = ["before_train", "before_step", "after_step", "after_train"]
    let state: LuaState
    let functions: [String: LuaRef]

    init(state: LuaState, table: LuaTable, index: Int) throws {
        var functions: [String: LuaRef] = [:]
        for (key, value) in table.hash {
            guard case .string(let name) = key, Self.events.contains(name) else {
                throw LuaError.message("hook \(index): unknown field \(key) (a hook has \(Self.events.joined(separator: ", ")))")
            }
            guard case .reference(let f, "function") = value else {
                throw LuaError.message("hook \(index).\(name) must be a function, not a \(value.typeName)")
            }
            functions[name] = f
        }
        guard !functions.isEmpty else { throw LuaError.message("hook \(index) has none of \(Self.events.joined(separator: ", "))") }
        self.state = state
        self.functions = functions
    }

    private func fire(_ name: String, _ trainer: DefaultTrainer) throws {
        guard let f = functions[name] else { return }
        try StatusConsole.withBarHidden { _ = try state.call(f, [.object(trainer)]) }
    }

    func beforeTrain(_ t: DefaultTrainer) throws { try fire("before_train", t) }
    func beforeStep(_ t: DefaultTrainer) throws { try fire("before_step", t) }
    func afterStep(_ t: DefaultTrainer) throws { try fire("after_step", t) }
    func afterTrain(_ t: DefaultTrainer) throws { try fire("after_train", t) }
}

/// `detectron2.engine` (DefaultPredictor, DefaultTrainer) and `detectron2.solver`.
extension LunetteBindings {
    static func installEngineModule(in state: LuaState) throws {
        try registerDefaultTrainerClass(in: state)
        try registerEngineModule(in: state)
        try registerSolverModule(in: state)
    }

    static func registerDefaultTrainerClass(in state: LuaState) throws {
        try state.defineClass(DefaultTrainer.self, name: "detectron2.engine.DefaultTrainer",
                              doc: "Detectron2's DefaultTrainer: trainer:resume_or_load{resume = false}, then trainer:train().") { c in
            c.tostring { t in "DefaultTrainer(iteration \(t.iter + 1) of \(t.maxIter), \(t.outputDir))" }
            c.property("model", type: "GeneralizedRCNN", doc: "The model being trained.") { t, call in call.push(object: t.model) }
            c.property("iter", type: "integer", doc: "The iteration being run (in a hook), else the last one completed (-1 before any).") { t, call in call.push(.integer(Int64(t.iter))) }
            c.property("start_iter", type: "integer", doc: "Where train() starts (after resume_or_load).") { t, call in call.push(.integer(Int64(t.startIter))) }
            c.property("max_iter", type: "integer", doc: "SOLVER.MAX_ITER.") { t, call in call.push(.integer(Int64(t.maxIter))) }
            c.property("gradient_bytes", type: "integer",
                       doc: "Bytes of the trainable gradients: what data-parallel training all-reduces per iteration.") { t, call in
                call.push(.integer(Int64(DistributedDataParallel.gradientBytes(of: t.model))))
            }
            c.property("precision", type: "string",
                       doc: "What the convolutions and linear layers train at: \"fp32\", or with SOLVER.AMP.ENABLED \"fp16\" (CUDA, with a loss scaler) or \"bf16\" (CPUs with AVX-512 BF16 or AMX).") { t, call in
                call.push(.string(t.trainingPrecision.rawValue))
            }
            c.property("output_dir", type: "string", doc: "OUTPUT_DIR: checkpoints, metrics.json, inference/.") { t, call in call.push(.string(t.outputDir)) }
            c.method("resume_or_load", [LuaParameter("options", .table, optional: true)], returns: "string or nil",
                     doc: "{resume = true}: continue from OUTPUT_DIR/last_checkpoint (model, optimizer, iteration); otherwise load MODEL.WEIGHTS and start at 0. Returns the file loaded.") { t, call in
                let o = try call.options(2, allowed: ["resume"])
                let resume = try o.option("resume", as: Bool.self) ?? true
                if let path = try t.resumeOrLoad(resume: resume) { return call.push(.string(path)) }
                return call.pushNil()
            }
            c.method("train", [], returns: "DefaultTrainer",
                     doc: "Trains to SOLVER.MAX_ITER: progress, metrics.json, checkpoints every SOLVER.CHECKPOINT_PERIOD and model_final.pth, evaluation on DATASETS.TEST. Ctrl-C stops after the current iteration with a checkpoint.") { t, call in
                try t.train()
                return call.push(object: t)
            }
            c.method("register_hooks", [LuaParameter("hooks", .table)],
                     doc: "Adds hooks after the default ones: a list of tables with any of before_train, before_step, after_step, after_train (each called with the trainer; t.iter is the iteration).") { t, call in
                guard case .table(let list) = try call.value(2) else { throw call.argumentError(2, "a list of hook tables") }
                guard list.hash.isEmpty, !list.array.isEmpty else { throw call.argumentError(2, "a list of hook tables: {{after_step = function(t) ... end}}") }
                var hooks: [TrainerHook] = []
                for (i, h) in list.array.enumerated() {
                    guard case .table(let table) = h else { throw call.argumentError(2, "hook \(i + 1) is a \(h.typeName), not a table") }
                    hooks.append(try LuaTrainerHook(state: call.state, table: table, index: i + 1))
                }
                t.registerHooks(hooks)
                return 0
            }
            c.method("test", [], returns: "Results",
                     doc: "Evaluates the model on DATASETS.TEST with COCOEvaluator (one Results, or a table by dataset name when there are several).") { t, call in
                let all = try t.test()
                if all.count == 1 { return call.push(object: ResultsObject(all[0].results, predictions: nil)) }
                var table = LuaTable()
                for (name, r) in all { table.hash[.string(name)] = .object(ResultsObject(r, predictions: nil)) }
                return call.push(.table(table))
            }
            c.method("checkpoint", [LuaParameter("name", .string, optional: true)], returns: "string",
                     doc: "Writes OUTPUT_DIR/<name>.pth now (default model_<iter>) and returns its path.") { t, call in
                let name = try call.optionalString(2) ?? DefaultTrainer.checkpointName(max(t.iter, 0))
                return call.push(.string(try t.saveCheckpoint(name, iteration: t.iter)))
            }
            c.method("history", [LuaParameter("name", .string)], returns: "table",
                     doc: "Every value put under a scalar's name this run, oldest first (the last 1000): trainer:history(\"total_loss\").") { t, call in
                call.push(.table(LuaTable(array: t.storage.history(try call.string(2)).map { .number($0) })))
            }
            c.method("metrics", [], returns: "table", doc: "The latest scalars (losses as the median of the last 20 iterations).") { t, call in
                var table = LuaTable()
                for e in t.storage.latestWithSmoothing() { table.hash[.string(e.name)] = .number(e.value) }
                return call.push(.table(table))
            }
        }
    }

    static func registerEngineModule(in state: LuaState) throws {
        try state.defineModule("detectron2.utils.comm", doc: "This process's place in a data-parallel job (torchrun, srun, lunette --launch), as Detectron2's comm.") { m in
            m.function("get_world_size", [], returns: "integer", doc: "The number of processes in the job (1 alone).") { call in
                call.push(.integer(Int64(Comm.worldSize)))
            }
            m.function("get_rank", [], returns: "integer", doc: "This process's rank, from 0.") { call in call.push(.integer(Int64(Comm.rank))) }
            m.function("get_local_rank", [], returns: "integer", doc: "This process's rank on its machine (its GPU index).") { call in
                call.push(.integer(Int64(Comm.localRank)))
            }
            m.function("is_main_process", [], returns: "boolean", doc: "Whether this is rank 0 (the one that writes checkpoints, metrics and results).") { call in
                call.push(.boolean(Comm.isMainProcess))
            }
            m.function("synchronize", [], doc: "Waits until every rank gets here (after the job is joined by a trainer; alone, returns at once).") { call in
                try Comm.synchronize()
                return 0
            }
        }
        try state.defineModule("detectron2.engine", doc: "Predictors, the trainer and bulk detection.") { m in
            m.function("DefaultPredictor", [LuaParameter("cfg", .object("detectron2.config.CfgNode")), LuaParameter("options", .table, optional: true)],
                       returns: "DefaultPredictor",
                       doc: "Builds the model from cfg, loads MODEL.WEIGHTS, resizes inputs to INPUT.MIN_SIZE_TEST / MAX_SIZE_TEST. Options {precision = \"fp32\" (exact, the default) | \"bf16\" | \"fp16\" (CUDA; the CPU refuses both and says why)}.") { call in
                let o = try call.options(2, allowed: ["precision"])
                let precision = try o.option("precision", as: String.self).map { try Precision(parsing: $0) } ?? .fp32
                return call.push(object: try DefaultPredictor(cfg: try call.object(CfgNode.self, 1), precision: precision))
            }
            m.function("DefaultTrainer", [LuaParameter("cfg", .object("detectron2.config.CfgNode"))], returns: "DefaultTrainer",
                       doc: "A trainer for cfg: the model (randomly initialised), SGD, the LR schedule, DATASETS.TRAIN checked against NUM_CLASSES, OUTPUT_DIR created.") { call in
                call.push(object: try DefaultTrainer(cfg: try call.object(CfgNode.self, 1)))
            }
            installBulkFunctions(m)
        }
    }

    static func registerSolverModule(in state: LuaState) throws {
        try state.defineModule("detectron2.solver", doc: "Learning-rate helpers.") { m in
            m.function("linear_scaled_lr", [LuaParameter("options", .table)], returns: "number",
                       doc: "The linear scaling rule: base * batch / base_batch ({base = 0.02, base_batch = 16, batch = 2} gives 0.0025).") { call in
                let o = try call.options(1, allowed: ["base", "base_batch", "batch"])
                guard let base = try o.option("base", as: Double.self), let batch = try o.option("batch", as: Double.self) else {
                    throw LuaError.message("linear_scaled_lr needs {base = <LR at base_batch>, batch = <your IMS_PER_BATCH>} (base_batch defaults to 16)")
                }
                let baseBatch = try o.option("base_batch", as: Double.self) ?? 16
                guard base >= 0, batch > 0, baseBatch > 0 else { throw LuaError.message("linear_scaled_lr: base must be >= 0, batch and base_batch > 0") }
                return call.push(.number(base * batch / baseBatch))
            }
        }
    }
}
