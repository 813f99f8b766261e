/// Stochastic gradient descent with momentum and weight decay, as torch.optim.SGD
/// (dampening 0, no Nesterov), with parameter groups that carry their own learning rate and
/// weight decay (Detectron2 uses them for BIAS_LR_FACTOR and WEIGHT_DECAY_NORM).
public final class SGD {
    public struct Group {
        public var parameters: [Parameter]
        public var lr: Double
        public var momentum: Double
        public var weightDecay: Double

        public init(parameters: [Parameter], lr: Double, momentum: Double = 0, weightDecay: Double = 0) {
            self.parameters = parameters
            self.lr = lr
            self.momentum = momentum
            self.weightDecay = weightDecay
        }
    }

    public var groups: [Group]
    /// Momentum buffers by group and position.
    public private(set) var momentumBuffers: [[Tensor?]]

    public init(groups: [Group]) throws {
        for g in groups {
            guard g.lr >= 0, g.momentum >= 0, g.weightDecay >= 0 else {
                throw TorchError("SGD: lr, momentum and weight decay must not be negative")
            }
        }
        self.groups = groups
        self.momentumBuffers = groups.map { [Tensor?](repeating: nil, count: $0.parameters.count) }
    }

    /// Forgets every parameter's gradient.
    public func zeroGrad() throws {
        for g in groups { for p in g.parameters { try p.tensor.zeroGrad() } }
    }

    /// One update: d = grad + wd * p; buf = momentum * buf + d (buf = d at first); p -= lr * buf.
    public func step() throws {
        try noGrad {
            for (gi, g) in groups.enumerated() {
                for (pi, p) in g.parameters.enumerated() {
                    guard let grad = p.tensor.grad else { continue }
                    var d = grad
                    if g.weightDecay != 0 {
                        d = try grad.clone()
                        try d.add_(p.tensor, alpha: g.weightDecay)
                    }
                    if g.momentum != 0 {
                        if let buf = momentumBuffers[gi][pi] {
                            try buf.mul_(g.momentum)
                            try buf.add_(d)
                            d = buf
                        } else {
                            let buf = try d.clone().detach()
                            momentumBuffers[gi][pi] = buf
                            d = buf
                        }
                    }
                    try p.tensor.add_(d, alpha: -g.lr)
                }
            }
        }
    }

    /// Replaces a momentum buffer (restoring an optimizer state from a checkpoint).
    public func setMomentumBuffer(group: Int, index: Int, _ t: Tensor?) {
        momentumBuffers[group][index] = t
    }
}
