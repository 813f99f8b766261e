/// Stochastic gradient descent with momentum and weight decay, as torch.optim.SGD
/// (dampening 0, no Nesterov), with parameter groups that carry their own learning rate and
/// weight decay (Detectron2 uses them for BIAS_LR_FACTOR and WEIGHT_DECAY_NORM).
public final class SGD {
    public struct Group {
        public var parameters: [Parameter]
        public var lr: Double
        public var momentum: Double
        public var weightDecay: Double
        public var nesterov: Bool

        public init(parameters: [Parameter], lr: Double, momentum: Double = 0, weightDecay: Double = 0, nesterov: Bool = false) {
            self.parameters = parameters
            self.lr = lr
            self.momentum = momentum
            self.weightDecay = weightDecay
            self.nesterov = nesterov
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

    /// One update: d = grad + wd * p; buf = momentum * buf + d (buf = d at first); p -= lr * buf
    /// (Nesterov: p -= lr * (d + momentum * buf)).
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
                        let buf: Tensor
                        if let b = momentumBuffers[gi][pi] {
                            try b.mul_(g.momentum)
                            try b.add_(d)
                            buf = b
                        } else {
                            buf = try d.clone().detach()
                            momentumBuffers[gi][pi] = buf
                        }
                        if g.nesterov {
                            d = try d.clone()
                            try d.add_(buf, alpha: g.momentum)
                        } else {
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
