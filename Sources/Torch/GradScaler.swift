/// torch.cuda.amp.GradScaler: fp16 gradients underflow to zero where fp32 ones would not, so
/// the loss is multiplied by a large scale before backward and the gradients divided by it
/// before the step. A step whose gradients hold an inf or NaN (the scale was too large) is
/// skipped and the scale halved; after `growthInterval` good steps in a row it doubles.
/// Defaults are PyTorch's (2^16, x2, x0.5, 2000).
public final class GradScaler {
    public private(set) var scale: Double
    public let growthFactor: Double
    public let backoffFactor: Double
    public let growthInterval: Int
    /// Good steps since the scale last changed (PyTorch's _growth_tracker).
    public private(set) var growthTracker = 0

    public init(initScale: Double = 65536, growthFactor: Double = 2, backoffFactor: Double = 0.5, growthInterval: Int = 2000) throws {
        guard initScale > 0, initScale.isFinite, growthFactor > 1, backoffFactor > 0, backoffFactor < 1, growthInterval > 0 else {
            throw TorchError("GradScaler: the scale must be positive, growth factor > 1, backoff factor in (0, 1) and growth interval > 0")
        }
        scale = initScale
        self.growthFactor = growthFactor
        self.backoffFactor = backoffFactor
        self.growthInterval = growthInterval
    }

    /// The loss to call backward on: loss * scale.
    public func scaled(_ loss: Tensor) throws -> Tensor { try loss * scale }

    /// Divides every gradient by the scale (GradScaler.unscale_) and says whether any of them
    /// holds an inf or NaN (true: the optimizer step must be skipped). One host
    /// synchronisation for all of them, as PyTorch's foreach check.
    public func unscale(_ gradients: [Tensor]) throws -> Bool {
        guard !gradients.isEmpty else { return false }
        let inverse = 1 / scale
        return try noGrad {
            var worst: Tensor?
            for g in gradients {
                try g.mul_(inverse)
                // amax of |g| is inf or NaN exactly when some element is.
                let m = try g.abs().max()
                worst = try worst.map { try $0 + m } ?? m
            }
            return !(try worst!.item()).isFinite
        }
    }

    /// GradScaler.update: back off after a step with inf/NaN gradients, grow after
    /// `growthInterval` good ones in a row.
    public func update(foundInf: Bool) {
        if foundInf {
            scale *= backoffFactor
            growthTracker = 0
        } else {
            growthTracker += 1
            if growthTracker == growthInterval {
                scale *= growthFactor
                growthTracker = 0
            }
        }
    }


    /// Restores the scale and growth tracker from a checkpoint's state.
    public func restore(scale: Double, growthTracker: Int) throws {
        guard scale > 0, scale.isFinite, growthTracker >= 0 else {
            throw TorchError("GradScaler: a checkpoint's scale must be positive and finite and its growth tracker not negative, got \(scale) and \(growthTracker)")
        }
        self.scale = scale
        self.growthTracker = growthTracker
    }
}
