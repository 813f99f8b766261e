import Foundation
import Torch

/// Detectron2's solver: SGD parameter groups, the warm-up LR schedules and per-parameter
/// gradient clipping, all read from cfg.SOLVER.
public enum Solver {
    /// get_default_optimizer_params: one entry per trainable parameter (frozen ones are left
    /// out), norm-layer parameters at WEIGHT_DECAY_NORM, biases at BASE_LR x BIAS_LR_FACTOR and
    /// WEIGHT_DECAY_BIAS (when set); entries with the same settings merged, in model order.
    public static func parameterGroups(_ model: Module, baseLR: Double, momentum: Double, nesterov: Bool, weightDecay: Double,
                                       weightDecayNorm: Double?, biasLRFactor: Double, weightDecayBias: Double?) -> [SGD.Group] {
        var groups: [SGD.Group] = []
        var seen = Set<ObjectIdentifier>()
        for (_, m) in model.namedModules() {
            let isNorm = m is BatchNorm2d || m is GroupNorm
            for (name, slot) in m.ownParameters where !slot.isBuffer && slot.tensor.requiresGrad {
                guard seen.insert(ObjectIdentifier(slot)).inserted else { continue }
                var lr = baseLR, wd = weightDecay
                if isNorm, let n = weightDecayNorm { wd = n }
                if name == "bias" {
                    if biasLRFactor != 1 { lr = baseLR * biasLRFactor }
                    if let b = weightDecayBias { wd = b }
                }
                if let i = groups.firstIndex(where: { $0.lr == lr && $0.weightDecay == wd }) {
                    groups[i].parameters.append(slot)
                } else {
                    groups.append(SGD.Group(parameters: [slot], lr: lr, momentum: momentum, weightDecay: wd, nesterov: nesterov))
                }
            }
        }
        return groups
    }

    public static func optimizer(cfg: CfgNode, model: Module) throws -> SGD {
        let base = try cfg.double("SOLVER.BASE_LR")
        guard base.isFinite, base >= 0 else { throw ConfigError("SOLVER.BASE_LR must be a non-negative number, got \(base)") }
        let groups = parameterGroups(model, baseLR: base, momentum: try cfg.double("SOLVER.MOMENTUM"), nesterov: try cfg.bool("SOLVER.NESTEROV"),
                                     weightDecay: try cfg.double("SOLVER.WEIGHT_DECAY"), weightDecayNorm: try optionalDouble(cfg, "SOLVER.WEIGHT_DECAY_NORM"),
                                     biasLRFactor: try cfg.double("SOLVER.BIAS_LR_FACTOR"), weightDecayBias: try optionalDouble(cfg, "SOLVER.WEIGHT_DECAY_BIAS"))
        guard !groups.isEmpty else { throw ConfigError("the model has no trainable parameters (is MODEL.BACKBONE.FREEZE_AT freezing everything?)") }
        return try SGD(groups: groups)
    }

    /// A number that may be None (WEIGHT_DECAY_BIAS).
    static func optionalDouble(_ cfg: CfgNode, _ key: String) throws -> Double? {
        if case .none = try cfg.value(at: key) { return nil }
        return try cfg.double(key)
    }
}

/// Detectron2's LR schedules as multipliers of each group's initial LR: WarmupMultiStepLR
/// (GAMMA at each of STEPS) and WarmupCosineLR (to BASE_LR_END), with a linear or constant warm-up
/// over WARMUP_ITERS starting at WARMUP_FACTOR. Evaluated the way fvcore's composite scheduler
/// does it, on the fraction iteration / MAX_ITER.
public struct LRSchedule: Sendable, Equatable {
    public enum Shape: Sendable, Equatable {
        case multiStep(steps: [Int], gamma: Double)
        case cosine(end: Double)
    }
    public var shape: Shape
    public var maxIter: Int
    public var warmupFactor: Double
    public var warmupIters: Int
    public var warmupLinear: Bool

    public init(shape: Shape, maxIter: Int, warmupFactor: Double, warmupIters: Int, warmupLinear: Bool) {
        self.shape = shape
        self.maxIter = maxIter
        self.warmupFactor = warmupFactor
        self.warmupIters = warmupIters
        self.warmupLinear = warmupLinear
    }

    public init(cfg: CfgNode) throws {
        let maxIter = try cfg.int("SOLVER.MAX_ITER")
        guard maxIter > 0 else { throw ConfigError("SOLVER.MAX_ITER must be positive, got \(maxIter)") }
        let name = try cfg.string("SOLVER.LR_SCHEDULER_NAME")
        switch name {
        case "WarmupMultiStepLR":
            let all = try cfg.ints("SOLVER.STEPS")
            let steps = all.filter { $0 <= maxIter }
            if steps.count != all.count {
                DetectionLog.shared.warn("solver", "SOLVER.STEPS contains values larger than SOLVER.MAX_ITER (\(maxIter)). These values will be ignored.")
            }
            shape = .multiStep(steps: steps, gamma: try cfg.double("SOLVER.GAMMA"))
        case "WarmupCosineLR":
            let base = try cfg.double("SOLVER.BASE_LR"), end = try cfg.double("SOLVER.BASE_LR_END")
            let ratio = base == 0 ? 0 : end / base
            guard ratio >= 0, ratio <= 1 else { throw ConfigError("SOLVER.BASE_LR_END (\(end)) must lie between 0 and SOLVER.BASE_LR (\(base))") }
            shape = .cosine(end: ratio)
        default:
            throw ConfigError("SOLVER.LR_SCHEDULER_NAME '\(name)' is not supported; use WarmupMultiStepLR or WarmupCosineLR")
        }
        let method = try cfg.string("SOLVER.WARMUP_METHOD")
        guard method == "linear" || method == "constant" else { throw ConfigError("SOLVER.WARMUP_METHOD must be linear or constant, got '\(method)'") }
        self.maxIter = maxIter
        warmupFactor = try cfg.double("SOLVER.WARMUP_FACTOR")
        warmupIters = try cfg.int("SOLVER.WARMUP_ITERS")
        warmupLinear = method == "linear"
    }

    /// The main schedule at iteration `iter`: fvcore's MultiStepParamScheduler counts the steps
    /// at or before the iteration it recovers from the fraction (int((where + 1e-6) * MAX_ITER),
    /// which is `iter` itself for MAX_ITER below a million); the cosine runs on iter / MAX_ITER.
    func main(at iter: Int) -> Double {
        switch shape {
        case .multiStep(let steps, let gamma):
            return Foundation.pow(gamma, Double(steps.filter { $0 <= iter }.count))
        case .cosine(let end):
            return end + 0.5 * (1 - end) * (1 + Foundation.cos(Double.pi * (Double(iter) / Double(maxIter))))
        }
    }

    /// The LR multiplier used for 0-based iteration `iter`. The values are fvcore's composite
    /// schedule (a warm-up over min(WARMUP_ITERS, MAX_ITER) iterations, while where + 1e-6 <=
    /// its length, which for MAX_ITER below a million is iter < WARMUP_ITERS), computed in
    /// iterations rather than in fractions of the run: fvcore's (iter / MAX_ITER) /
    /// (WARMUP_ITERS / MAX_ITER) is iter / WARMUP_ITERS but for the last bit, and that last bit
    /// would make two runs that differ only in MAX_ITER (a grid search's shared prefix) take
    /// different learning rates where their schedules are the same.
    public func multiplier(_ iter: Int) -> Double {
        let warm = Swift.min(warmupIters, maxIter)
        if warm > 0 && iter < warm {
            let start = warmupFactor * main(at: 0)
            guard warmupLinear else { return start }
            let end = main(at: warm)
            let t = Double(iter) / Double(warm)
            return end * t + start * (1 - t)
        }
        return main(at: iter)
    }

    /// The first iteration below `n` at which this schedule's multiplier differs (in any bit)
    /// from `other`'s, or nil when they agree on 0..<n: the condition for training a shorter
    /// run as the prefix of a longer one.
    public func firstDifference(from other: LRSchedule, below n: Int) -> Int? {
        (0..<n).first { multiplier($0).bitPattern != other.multiplier($0).bitPattern }
    }
}

/// SOLVER.CLIP_GRADIENTS: each parameter's gradient clipped on its own before the step, by
/// value or by norm (NORM_TYPE, inf allowed), as Detectron2 does.
public struct GradientClipping: Sendable {
    public enum Kind: Sendable { case value, norm(type: Double) }
    public var kind: Kind
    public var clipValue: Double

    public init?(cfg: CfgNode) throws {
        guard try cfg.bool("SOLVER.CLIP_GRADIENTS.ENABLED") else { return nil }
        clipValue = try cfg.double("SOLVER.CLIP_GRADIENTS.CLIP_VALUE")
        guard clipValue > 0 else { throw ConfigError("SOLVER.CLIP_GRADIENTS.CLIP_VALUE must be positive, got \(clipValue)") }
        switch try cfg.string("SOLVER.CLIP_GRADIENTS.CLIP_TYPE") {
        case "value": kind = .value
        case "norm": kind = .norm(type: try cfg.double("SOLVER.CLIP_GRADIENTS.NORM_TYPE"))
        case let other: throw ConfigError("SOLVER.CLIP_GRADIENTS.CLIP_TYPE must be value or norm, got '\(other)'")
        }
    }

    public func apply(_ optimizer: SGD) throws {
        try noGrad {
            for g in optimizer.groups {
                for p in g.parameters {
                    guard let grad = p.tensor.grad else { continue }
                    switch kind {
                    case .value:
                        try grad.copy_(try grad.clamp(min: -clipValue, max: clipValue))
                    case .norm(let type):
                        // torch.nn.utils.clip_grad_norm_ on one tensor: its norm in its own dtype.
                        let norm = try grad.norm(type).item()
                        let coefficient = clipValue / (norm + 1e-6)
                        if coefficient < 1 { try grad.mul_(coefficient) }
                    }
                }
            }
        }
    }
}
