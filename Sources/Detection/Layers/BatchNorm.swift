import Torch

/// FrozenBatchNorm2d: y = (x - running_mean) / sqrt(running_var + eps) * weight + bias, with
/// all four as buffers (Detectron2's names). Conv2d folds it into the convolution before it.
public final class FrozenBatchNorm2d: Module {
    public let weight: Parameter, bias: Parameter, runningMean: Parameter, runningVar: Parameter
    public let eps: Double

    public init(channels: Int, eps: Double = 1e-5) throws {
        weight = Parameter(try Tensor.ones([channels]), isBuffer: true)
        bias = Parameter(try Tensor.zeros([channels]), isBuffer: true)
        runningMean = Parameter(try Tensor.zeros([channels]), isBuffer: true)
        runningVar = Parameter(try Tensor.ones([channels]).binary(.sub, eps), isBuffer: true)
        self.eps = eps
        super.init()
        try register("weight", weight)
        try register("bias", bias)
        try register("running_mean", runningMean)
        try register("running_var", runningVar)
    }

    /// (scale, shift) with y = x * scale + shift, computed as Detectron2 does.
    func affine() throws -> (Tensor, Tensor) {
        let scale = try weight.tensor * (runningVar.tensor + eps).unary(.sqrt).unary(.reciprocal)
        let shift = try bias.tensor - runningMean.tensor * scale
        return (scale, shift)
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        let (scale, shift) = try affine()
        return try x * scale.view([1, -1, 1, 1]) + shift.view([1, -1, 1, 1])
    }
}

/// BatchNorm2d (Detectron2's "BN"/"SyncBN"): batch statistics when training, running ones otherwise.
public final class BatchNorm2d: Module {
    public let weight: Parameter, bias: Parameter, runningMean: Parameter, runningVar: Parameter, batchesTracked: Parameter
    public let eps: Double, momentum: Double

    public init(channels: Int, eps: Double = 1e-5, momentum: Double = 0.1) throws {
        weight = Parameter(try Tensor.ones([channels]))
        bias = Parameter(try Tensor.zeros([channels]))
        runningMean = Parameter(try Tensor.zeros([channels]), isBuffer: true)
        runningVar = Parameter(try Tensor.ones([channels]), isBuffer: true)
        batchesTracked = Parameter(try Tensor.zeros([], dtype: .int64), isBuffer: true)
        self.eps = eps
        self.momentum = momentum
        super.init()
        try register("weight", weight)
        try register("bias", bias)
        try register("running_mean", runningMean)
        try register("running_var", runningVar)
        try register("num_batches_tracked", batchesTracked)
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        try NN.batchNorm(x, weight: weight.tensor, bias: bias.tensor, runningMean: runningMean.tensor, runningVar: runningVar.tensor,
                         training: isTraining, momentum: momentum, eps: eps)
    }
}

/// GroupNorm (Detectron2's "GN": 32 groups).
public final class GroupNorm: Module {
    public let weight: Parameter, bias: Parameter
    public let groups: Int

    public init(groups: Int, channels: Int) throws {
        guard channels % groups == 0 else { throw ConfigError("GroupNorm: \(channels) channels do not split into \(groups) groups") }
        weight = Parameter(try Tensor.ones([channels]))
        bias = Parameter(try Tensor.zeros([channels]))
        self.groups = groups
        super.init()
        try register("weight", weight)
        try register("bias", bias)
    }

    public func forward(_ x: Tensor) throws -> Tensor { try NN.groupNorm(x, groups: groups, weight: weight.tensor, bias: bias.tensor) }
}

/// The normalisations Detectron2's get_norm names.
public enum NormKind: Equatable, Sendable {
    case none, frozenBN, bn, gn

    public init(config name: String, key: String) throws {
        switch name {
        case "": self = .none
        case "FrozenBN": self = .frozenBN
        case "BN", "SyncBN", "naiveSyncBN": self = .bn
        case "GN": self = .gn
        default: throw ConfigError("\(key): unknown norm '\(name)' (use \"\", \"FrozenBN\", \"BN\", \"SyncBN\" or \"GN\")")
        }
    }
}
