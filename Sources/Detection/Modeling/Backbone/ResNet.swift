import Torch

/// One residual block of a stage: BottleneckBlock (ResNet-50 and deeper) or BasicBlock.
protocol ResidualBlock: Module {
    func forward(_ x: Tensor) throws -> Tensor
    /// The block's convolutions in the order Detectron2 initialises them (shortcut last).
    var convolutionsInInitOrder: [Conv2d] { get }
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

    var convolutionsInInitOrder: [Conv2d] { [conv1, conv2, conv3] + (shortcut.map { [$0] } ?? []) }

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

    var convolutionsInInitOrder: [Conv2d] { [conv1, conv2] + (shortcut.map { [$0] } ?? []) }

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
public final class ResNet: Module, Backbone {
    let stem: Conv2d
    var stages: [(name: String, blocks: [any ResidualBlock])] = []
    public let outFeatures: [String]
    let freezeAt: Int
    let structureText: String
    /// Channels and stride of the stem and of every stage (res2..res5).
    public private(set) var stageShapes: [String: ShapeSpec] = [:]
    public var outputShape: [String: ShapeSpec] { stageShapes.filter { outFeatures.contains($0.key) } }
    public var sizeDivisibility: Int { 0 }

    public init(depth: Int, stemOut: Int, res2Out: Int, groups: Int, widthPerGroup: Int, strideIn1x1: Bool,
                res5Dilation: Int, outFeatures: [String], norm: NormKind = .frozenBN, freezeAt: Int = 0) throws {
        guard (0...5).contains(freezeAt) else { throw ConfigError("MODEL.BACKBONE.FREEZE_AT must be 0 to 5, not \(freezeAt)") }
        /// Detectron2 converts BatchNorm (and SyncBN) in frozen parts to FrozenBN; GN stays GN.
        func normFor(frozen: Bool) -> NormKind { frozen && norm == .bn ? .frozenBN : norm }
        let blocks: [Int: [Int]] = [18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]]
        guard let counts = blocks[depth] else { throw ConfigError("MODEL.RESNETS.DEPTH must be 18, 34, 50, 101 or 152, not \(depth)") }
        guard [1, 2].contains(res5Dilation) else { throw ConfigError("MODEL.RESNETS.RES5_DILATION must be 1 or 2, not \(res5Dilation)") }
        guard groups >= 1, widthPerGroup >= 1, stemOut >= 1, res2Out >= 1 else {
            throw ConfigError("MODEL.RESNETS: NUM_GROUPS (\(groups)), WIDTH_PER_GROUP (\(widthPerGroup)), STEM_OUT_CHANNELS (\(stemOut)) and RES2_OUT_CHANNELS (\(res2Out)) must be positive")
        }
        if depth < 50 {
            // Detectron2's asserts for BasicBlock networks.
            guard res2Out == 64 else { throw ConfigError("Must set MODEL.RESNETS.RES2_OUT_CHANNELS = 64 for R18/R34 (it is \(res2Out))") }
            guard res5Dilation == 1 else { throw ConfigError("Must set MODEL.RESNETS.RES5_DILATION = 1 for R18/R34 (it is \(res5Dilation))") }
            guard groups == 1 else { throw ConfigError("MODEL.RESNETS.NUM_GROUPS = \(groups): grouped convolutions need bottleneck blocks (DEPTH 50 or more); R18/R34 use NUM_GROUPS = 1") }
        }
        let known = ["stem", "res2", "res3", "res4", "res5"]
        for f in outFeatures where !known.contains(f) {
            throw ConfigError("MODEL.RESNETS.OUT_FEATURES names '\(f)'; a ResNet has \(known.joined(separator: ", "))")
        }
        guard !outFeatures.isEmpty else { throw ConfigError("MODEL.RESNETS.OUT_FEATURES is empty; name the stages the FPN reads (res2 ... res5)") }
        stem = try Conv2d(in: 3, out: stemOut, kernel: 7, stride: 2, padding: 3, bias: false, normKind: normFor(frozen: freezeAt >= 1))
        self.outFeatures = outFeatures
        self.freezeAt = freezeAt
        structureText = "depth \(depth) stem \(stemOut) res2 \(res2Out) groups \(groups) width \(widthPerGroup) stride_in_1x1 \(strideIn1x1) dilation \(res5Dilation) norm \(norm) freeze \(freezeAt)"
        super.init()
        stageShapes["stem"] = ShapeSpec(channels: stemOut, stride: 4)
        let stemModule = Module()
        try stemModule.child("conv1", stem)
        try child("stem", stemModule)
        if freezeAt >= 1 { try stemModule.freeze() }
        var inChannels = stemOut
        var out = res2Out
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
            stageShapes[name] = ShapeSpec(channels: out, stride: stride)
            out *= 2
            bottleneck *= 2
        }
    }

    /// build_resnet_backbone: MODEL.RESNETS.* and MODEL.BACKBONE.FREEZE_AT.
    public convenience init(cfg: CfgNode) throws {
        try self.init(depth: try cfg.int("MODEL.RESNETS.DEPTH"), stemOut: try cfg.int("MODEL.RESNETS.STEM_OUT_CHANNELS"),
                      res2Out: try cfg.int("MODEL.RESNETS.RES2_OUT_CHANNELS"), groups: try cfg.int("MODEL.RESNETS.NUM_GROUPS"),
                      widthPerGroup: try cfg.int("MODEL.RESNETS.WIDTH_PER_GROUP"), strideIn1x1: try cfg.bool("MODEL.RESNETS.STRIDE_IN_1X1"),
                      res5Dilation: try cfg.int("MODEL.RESNETS.RES5_DILATION"), outFeatures: try cfg.strings("MODEL.RESNETS.OUT_FEATURES"),
                      norm: try NormKind(config: try cfg.string("MODEL.RESNETS.NORM"), key: "MODEL.RESNETS.NORM"),
                      freezeAt: try cfg.int("MODEL.BACKBONE.FREEZE_AT"))
    }

    /// Detectron2's initialisation, as its blocks do it when built: c2_msra_fill on the stem,
    /// then on each block's conv1, conv2, (conv3,) shortcut, stage by stage.
    public func initializeParameters() throws {
        try WeightInit.c2MSRAFill(stem)
        for (_, blocks) in stages {
            for b in blocks {
                for conv in b.convolutionsInInitOrder { try WeightInit.c2MSRAFill(conv) }
            }
        }
    }

    public func forward(_ x: Tensor) throws -> [String: Tensor] { try resume(try forward(x, stages: 0)) }

    /// The network part way: the stem and the first `stages` stages run, the rest to come.
    /// Several models whose stem and frozen stages hold the same weights share one of these per
    /// image (the blocks never modify their input, so the tensors are read by each).
    public struct Partial {
        public var h: Tensor
        public var outputs: [String: Tensor]
        public var stagesDone: Int
    }

    /// The stem and stages res2 ... res(stages+1). Every stage's output is kept (a model that
    /// shares the prefix may read features this one does not).
    public func forward(_ x: Tensor, stages count: Int) throws -> Partial {
        let stemOut = try NN.maxPool2d(try stem.forward(x).relu_(), kernel: 3, stride: 2, padding: 1)
        var p = Partial(h: stemOut, outputs: ["stem": stemOut], stagesDone: 0)
        try run(&p, through: min(count, stages.count))
        return p
    }

    /// The stages a Partial has not run yet; this network's output features.
    public func resume(_ partial: Partial) throws -> [String: Tensor] {
        var p = partial
        try run(&p, through: stages.count)
        return p.outputs.filter { outFeatures.contains($0.key) }
    }

    private func run(_ p: inout Partial, through end: Int) throws {
        while p.stagesDone < end {
            let (name, blocks) = stages[p.stagesDone]
            for b in blocks { p.h = try b.forward(p.h) }
            p.outputs[name] = p.h
            p.stagesDone += 1
        }
    }

    /// What, besides the weights, decides the stem's and stages' computation (two networks with
    /// the same structure and weights compute the same prefix).
    public var structure: String { structureText }

    /// MODEL.BACKBONE.FREEZE_AT as built: 0 nothing frozen, 1 the stem, 2 the stem and res2, ...
    public var frozenDepth: Int { freezeAt }
}

