import Foundation
import Support
import Torch

/// What torch's DistributedDataParallel does for the trainer, without wrapping the model: rank
/// 0's parameters and buffers are broadcast once, and after every backward the gradients are
/// averaged over the ranks in buckets. Buckets follow DDP's plan: parameters in reverse order
/// (the order backward produces their gradients), a first bucket of 1 MiB, then 25 MiB each
/// (bucket_cap_mb), one dtype and device per bucket. Each bucket is flattened into one tensor,
/// all buckets are all-reduced together (gloo pipelines them), and the sums, divided by the
/// world size, are copied back into the gradients.
///
/// Unlike DDP the reduction starts after backward rather than overlapping it (Swift cannot hook
/// libtorch's autograd per parameter here); the arithmetic is the same.
public final class DistributedDataParallel {
    public let world: DistributedWorld
    /// The trainable parameters by bucket, in reduction order.
    public let buckets: [[Parameter]]
    public static let firstBucketBytes = 1 << 20
    public static let bucketBytes = 25 << 20

    public init(model: Module, world: DistributedWorld) throws {
        self.world = world
        let trainable = model.namedParameters().map(\.slot).filter { $0.tensor.requiresGrad }
        buckets = try Self.plan(trainable.reversed())
    }

    /// Consecutive parameters into buckets of at most the cap (a larger parameter gets one alone).
    static func plan(_ parameters: [Parameter]) throws -> [[Parameter]] {
        var out: [[Parameter]] = [], current: [Parameter] = [], bytes = 0
        var key: (DType, Device)?
        for p in parameters {
            let t = p.tensor
            let size = t.numel * t.dtype.byteSize
            let cap = out.isEmpty ? firstBucketBytes : bucketBytes
            if let k = key, !current.isEmpty, k.0 != t.dtype || k.1 != t.device || bytes + size > cap {
                out.append(current)
                current = []
                bytes = 0
            }
            current.append(p)
            bytes += size
            key = (t.dtype, t.device)
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// Bytes all-reduced per iteration (every trainable parameter's gradient once).
    public var bytesPerIteration: Int { Self.gradientBytes(buckets.joined()) }

    /// The bytes of a model's trainable gradients: what data-parallel training all-reduces per
    /// iteration (a ring all-reduce sends and receives 2 (W - 1) / W times this on each rank).
    public static func gradientBytes(of model: Module) -> Int {
        gradientBytes(model.namedParameters().map(\.slot).filter { $0.tensor.requiresGrad })
    }

    static func gradientBytes(_ parameters: some Sequence<Parameter>) -> Int {
        parameters.reduce(0) { $0 + $1.tensor.numel * $1.tensor.dtype.byteSize }
    }

    /// Makes every rank's parameters and buffers rank 0's (DDP's _sync_module_states).
    public func broadcastState(_ model: Module) throws {
        try noGrad {
            let tensors = model.stateDict().map(\.tensor)
            // In groups, so a large model is not one huge collective.
            var group: [Tensor] = [], bytes = 0
            for t in tensors {
                group.append(t)
                bytes += t.numel * t.dtype.byteSize
                if bytes >= Self.bucketBytes { try world.broadcast(group); group = []; bytes = 0 }
            }
            try world.broadcast(group)
        }
    }

    /// Averages the gradients over the ranks. A parameter without a gradient on this rank takes
    /// zeros, so every rank reduces the same shapes.
    public func averageGradients() throws {
        try noGrad {
            var flats: [Tensor] = []
            var grads: [[Tensor]] = []
            for bucket in buckets {
                var gs: [Tensor] = []
                for p in bucket {
                    if let g = p.tensor.grad { gs.append(g) } else {
                        let z = try Tensor.zeros(p.tensor.shape, dtype: p.tensor.dtype, device: p.tensor.device)
                        try p.tensor.setGrad(z)
                        gs.append(z)
                    }
                }
                flats.append(try Tensor.cat(try gs.map { try $0.reshape([-1]) }))
                grads.append(gs)
            }
            try world.allReduceSum(flats)
            let scale = 1 / Double(world.size)
            for (flat, gs) in zip(flats, grads) {
                try flat.mul_(scale)
                var offset = 0
                for g in gs {
                    let n = g.numel
                    try g.copy_(try flat.narrow(0, start: offset, length: n).view(g.shape))
                    offset += n
                }
            }
        }
    }
}
