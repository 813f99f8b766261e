import Torch

/// Conv2d with an optional norm (Detectron2's layers.Conv2d): weight, bias, and `norm.*`.
public final class Conv2d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let norm: FrozenBatchNorm2d?
    let otherNorm: Module?
    public let stride: Int, padding: Int, dilation: Int, groups: Int
    /// The convolution with the frozen norm folded in, made on first use after loading.
    private var folded: (weight: Tensor, bias: Tensor?)?

    public convenience init(in inChannels: Int, out: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1,
                            bias: Bool, norm: Bool) throws {
        try self.init(in: inChannels, out: out, kernel: kernel, stride: stride, padding: padding, dilation: dilation, groups: groups,
                      bias: bias, normKind: norm ? .frozenBN : .none)
    }

    public init(in inChannels: Int, out: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1,
                bias: Bool, normKind: NormKind) throws {
        weight = Parameter(try Tensor.zeros([out, inChannels / groups, kernel, kernel]))
        self.bias = bias ? Parameter(try Tensor.zeros([out])) : nil
        self.norm = normKind == .frozenBN ? try FrozenBatchNorm2d(channels: out) : nil
        switch normKind {
        case .bn: otherNorm = try BatchNorm2d(channels: out)
        case .gn: otherNorm = try GroupNorm(groups: 32, channels: out)
        default: otherNorm = nil
        }
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        super.init()
        try register("weight", weight)
        if let b = self.bias { try register("bias", b) }
        if let n = self.norm { try child("norm", n) }
        if let n = otherNorm { try child("norm", n) }
    }

    public func resetCaches() { folded = nil }

    /// Switching mode drops the inference cache, so weights trained since are folded afresh.
    public override func train(_ on: Bool = true) {
        super.train(on)
        folded = nil
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        // A norm with statistics of its own (BN, GN) follows the convolution.
        if otherNorm != nil {
            let y = try conv(x, weight: weight.tensor, bias: bias?.tensor)
            if let bn = otherNorm as? BatchNorm2d { return try bn.forward(y) }
            if let gn = otherNorm as? GroupNorm { return try gn.forward(y) }
            return y
        }
        // Training a weight: FrozenBN's affine map is folded into the weight inside the graph,
        // conv(x, w * scale) + shift, which equals Detectron2's conv(x, w) * scale + shift and
        // spares two passes over the activations forward and backward; gradients reach w
        // through the fold. (Frozen layers take the cached fold below.)
        if isTraining && weight.tensor.requiresGrad {
            guard let norm else { return try conv(x, weight: weight.tensor, bias: bias?.tensor) }
            let (scale, shift) = try noGrad { try norm.affine() }
            let w = try weight.tensor * scale.view([-1, 1, 1, 1])
            return try conv(x, weight: w, bias: try bias.map { try $0.tensor * scale + shift } ?? shift)
        }
        // Inference, or a frozen layer: FrozenBN folded into the weights, which are kept
        // channels-last as the activations are (oneDNN's fast path); made once, dropped by
        // train() and resetCaches().
        if folded == nil {
            folded = try noGrad {
                guard let norm else { return (try weight.tensor.channelsLast(), bias?.tensor) }
                let (scale, shift) = try norm.affine()
                let w = try weight.tensor * scale.view([-1, 1, 1, 1])
                return (try w.channelsLast(), try bias.map { try $0.tensor * scale + shift } ?? shift)
            }
        }
        return try conv(x, weight: folded!.weight, bias: folded!.bias)
    }

    private func conv(_ x: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
        try NN.conv2d(x, weight: weight, bias: bias, stride: (stride, stride), padding: (padding, padding),
                      dilation: (dilation, dilation), groups: groups)
    }
}

/// nn.Linear: weight (out, in), bias (out).
public final class Linear: Module {
    public let weight: Parameter, bias: Parameter

    public init(in inFeatures: Int, out: Int) throws {
        weight = Parameter(try Tensor.zeros([out, inFeatures]))
        bias = Parameter(try Tensor.zeros([out]))
        super.init()
        try register("weight", weight)
        try register("bias", bias)
    }

    public func forward(_ x: Tensor) throws -> Tensor { try NN.linear(x, weight: weight.tensor, bias: bias.tensor) }
}

extension Module {
    /// Drops every cached, derived tensor (after new weights are loaded).
    public func resetAllCaches() {
        if let c = self as? Conv2d { c.resetCaches() }
        for (_, m) in children { m.resetAllCaches() }
    }
}
