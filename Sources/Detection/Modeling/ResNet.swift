import Torch

/// One residual block of a stage: BottleneckBlock (ResNet-50 and deeper) or BasicBlock.
protocol ResidualBlock: Module {
    func forward(_ x: Tensor) throws -> Tensor
}

/// Detectron2's BottleneckBlock (ResNet/ResNeXt), FrozenBN, stride on the 1x1 or the 3x3 conv.
final class BottleneckBlock: Module, ResidualBlock {
    let conv1: Conv2d, conv2: Conv2d, conv3: Conv2d
    let shortcut: Conv2d?

    init(in inChannels: Int, out: Int, bottleneck: Int, stride: Int, groups: Int, strideIn1x1: Bool, dilation: Int, norm: NormKind) throws {
        let (s1, s3) = strideIn1x1 ? (stride, 1) : (1, stride)
        shortcut = inChannels != out ? try Conv2d(in: inChannels, out: out, kernel: 1, stride: stride, bias: false, normKind: norm) : nil
        conv1 = try Conv2d(in: inChannels, out: bottleneck, kernel: 1, stride: s1, bias: false, normKind: norm)
        conv2 = try Conv2d(in: bottleneck, out: bottleneck, kernel: 3, stride: s3, padding: dilation, dilation: dilation, groups: groups, bias: false, normKind: norm)
        conv3 = try Conv2d(in: bottleneck, out: out, kernel: 1, bias: false, normKind: norm)
        super.init()
        if let shortcut { try child("shortcut", shortcut) }
        try child("conv1", conv1)
        try child("conv2", conv2)
        try child("conv3", conv3)
    }

    func forward(_ x: Tensor) throws -> Tensor {
        // In place, as Detectron2's blocks do (F.relu_, +=): no fresh activation per op, which
        // is a measurable share of CPU inference time; autograd accepts it for the same reasons.
        let out = try conv3.forward(try conv2.forward(try conv1.forward(x).relu_()).relu_())
        try out.add_(try shortcut?.forward(x) ?? x)
        return try out.relu_()
    }
}

/// Detectron2's BasicBlock (ResNet-18/34).
final class BasicBlock: Module, ResidualBlock {
    let conv1: Conv2d, conv2: Conv2d
    let shortcut: Conv2d?

    init(in inChannels: Int, out: Int, stride: Int, norm: NormKind) throws {
        shortcut = inChannels != out ? try Conv2d(in: inChannels, out: out, kernel: 1, stride: stride, bias: false, normKind: norm) : nil
        conv1 = try Conv2d(in: inChannels, out: out, kernel: 3, stride: stride, padding: 1, bias: false, normKind: norm)
        conv2 = try Conv2d(in: out, out: out, kernel: 3, padding: 1, bias: false, normKind: norm)
        super.init()
        if let shortcut { try child("shortcut", shortcut) }
        try child("conv1", conv1)
        try child("conv2", conv2)
    }

    func forward(_ x: Tensor) throws -> Tensor {
        let out = try conv2.forward(try conv1.forward(x).relu_())
        try out.add_(try shortcut?.forward(x) ?? x)
        return try out.relu_()
    }
}

/// ResNet / ResNeXt bottom-up: stem (7x7 conv, FrozenBN, max pool) and stages res2..res5.
/// `freezeAt` is MODEL.BACKBONE.FREEZE_AT: 1 freezes the stem, 2 the stem and res2, and so on,
/// as Detectron2 does: their parameters take no gradient and their BN layers become FrozenBN
/// (so they carry no running-statistics updates and no num_batches_tracked).
public final class ResNet: Module {
    let stem: Conv2d
    var stages: [(name: String, blocks: [any ResidualBlock])] = []
    public let outFeatures: [String]
    public private(set) var channels: [String: Int] = [:]
    public private(set) var strides: [String: Int] = [:]

    public init(depth: Int, stemOut: Int, res2Out: Int, groups: Int, widthPerGroup: Int, strideIn1x1: Bool,
                res5Dilation: Int, outFeatures: [String], norm: NormKind = .frozenBN, freezeAt: Int = 0) throws {
        guard (0...5).contains(freezeAt) else { throw ConfigError("MODEL.BACKBONE.FREEZE_AT must be 0 to 5, not \(freezeAt)") }
        /// Detectron2 converts BatchNorm (and SyncBN) in frozen parts to FrozenBN; GN stays GN.
        func normFor(frozen: Bool) -> NormKind { frozen && norm == .bn ? .frozenBN : norm }
        let blocks: [Int: [Int]] = [18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]]
        guard let counts = blocks[depth] else { throw ConfigError("MODEL.RESNETS.DEPTH must be 18, 34, 50, 101 or 152, not \(depth)") }
        stem = try Conv2d(in: 3, out: stemOut, kernel: 7, stride: 2, padding: 3, bias: false, normKind: normFor(frozen: freezeAt >= 1))
        self.outFeatures = outFeatures
        super.init()
        let stemModule = Module()
        try stemModule.child("conv1", stem)
        try child("stem", stemModule)
        if freezeAt >= 1 { try stemModule.freeze() }
        var inChannels = stemOut
        var out = depth < 50 ? 64 : res2Out
        var bottleneck = groups * widthPerGroup
        var stride = 4
        for (i, n) in counts.enumerated() {
            let name = "res\(i + 2)"
            let dilation = i == 3 ? res5Dilation : 1
            let firstStride = (i == 0 || dilation == 2) ? 1 : 2
            if i > 0 { stride *= firstStride }
            let stage = Module()
            let frozen = freezeAt >= i + 2
            let stageNorm = normFor(frozen: frozen)
            var list: [any ResidualBlock] = []
            for b in 0..<n {
                let s = b == 0 ? firstStride : 1
                let block: any ResidualBlock = depth < 50
                    ? try BasicBlock(in: inChannels, out: out, stride: s, norm: stageNorm)
                    : try BottleneckBlock(in: inChannels, out: out, bottleneck: bottleneck, stride: s, groups: groups,
                                          strideIn1x1: strideIn1x1, dilation: dilation, norm: stageNorm)
                try stage.child(String(b), block)
                list.append(block)
                inChannels = out
            }
            if frozen { try stage.freeze() }
            try child(name, stage)
            stages.append((name, list))
            channels[name] = out
            strides[name] = stride
            out *= 2
            bottleneck *= 2
        }
    }

    public func forward(_ x: Tensor) throws -> [String: Tensor] {
        var h = try NN.maxPool2d(try stem.forward(x).relu_(), kernel: 3, stride: 2, padding: 1)
        var outputs: [String: Tensor] = [:]
        for (name, blocks) in stages {
            for b in blocks { h = try b.forward(h) }
            if outFeatures.contains(name) { outputs[name] = h }
        }
        return outputs
    }
}

/// FPN on res2..res5 with the p6 max-pool level (LastLevelMaxPool).
public final class FPN: Module {
    public let bottomUp: ResNet
    let inFeatures: [String]
    var laterals: [Conv2d] = [], outputs: [Conv2d] = []
    public let outChannels: Int
    public var levelNames: [String] { inFeatures.map { "p" + $0.dropFirst(3) } + ["p6"] }
    public var levelStrides: [Int] { inFeatures.map { bottomUp.strides[$0]! } + [bottomUp.strides[inFeatures.last!]! * 2] }

    public init(bottomUp: ResNet, inFeatures: [String], outChannels: Int, norm: NormKind = .none) throws {
        self.bottomUp = bottomUp
        self.inFeatures = inFeatures
        self.outChannels = outChannels
        super.init()
        for f in inFeatures {
            guard let c = bottomUp.channels[f] else { throw ConfigError("MODEL.FPN.IN_FEATURES names \(f), which the backbone does not have") }
            let level = f.dropFirst(3)
            let lateral = try Conv2d(in: c, out: outChannels, kernel: 1, bias: norm == .none, normKind: norm)
            let output = try Conv2d(in: outChannels, out: outChannels, kernel: 3, padding: 1, bias: norm == .none, normKind: norm)
            try child("fpn_lateral\(level)", lateral)
            try child("fpn_output\(level)", output)
            laterals.append(lateral)
            outputs.append(output)
        }
        // Registered after the FPN convolutions, as Detectron2 does: state dicts list the same
        // order, and optimizer states (numbered by parameter order) line up between the two.
        try child("bottom_up", bottomUp)
    }

    /// p2..p6 in order.
    public func forward(_ x: Tensor) throws -> [Tensor] {
        let features = try bottomUp.forward(x)
        var prev = try laterals.last!.forward(features[inFeatures.last!]!)
        var results = [try outputs.last!.forward(prev)]
        for i in stride(from: inFeatures.count - 2, through: 0, by: -1) {
            let lateral = try laterals[i].forward(features[inFeatures[i]]!)
            let topDown = try NN.interpolateNearest(prev, height: prev.shape[2] * 2, width: prev.shape[3] * 2)
            prev = try lateral + topDown
            results.insert(try outputs[i].forward(prev), at: 0)
        }
        results.append(try NN.maxPool2d(results.last!, kernel: 1, stride: 2, padding: 0))
        return results
    }
}
