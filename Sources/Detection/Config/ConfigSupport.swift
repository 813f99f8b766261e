/// What Lunette does with every leaf of Detectron2's default tree. Each is honoured (read by
/// the component it configures, which checks its value), or accepted only at its default (the
/// feature it switches on is not implemented: another value is an error naming the key, the
/// value and why), or a setting of such a feature, unused as in Detectron2 while its switch is
/// off, and the switch cannot be turned on. Nothing is silently ignored.
public enum ConfigSupport {
    /// Keys whose only supported value is the default (the feature they switch on, or
    /// configure, is not implemented), and why.
    public static let defaultOnly: [(key: String, reason: String)] = [
        ("CUDNN_BENCHMARK", "cuDNN autotuning is not exposed"),
        ("FLOAT32_PRECISION", "float32 matmul precision is not configurable (Lunette computes in full float32)"),
        ("GLOBAL.HACK", "Detectron2's GLOBAL.HACK has no use"),
        ("INPUT.CROP.ENABLED", "random cropping is not implemented"),
        ("MODEL.KEYPOINT_ON", "keypoint heads are not implemented (Lunette detects boxes)"),
        ("MODEL.LOAD_PROPOSALS", "precomputed proposals are not supported"),
        ("MODEL.MASK_ON", "mask heads are not implemented (Lunette detects boxes)"),
        ("MODEL.RESNETS.DEFORM_ON_PER_STAGE", "deformable convolutions are not implemented"),
        ("MODEL.ROI_BOX_HEAD.TRAIN_ON_PRED_BOXES", "training the heads on predicted boxes is not implemented"),
        ("MODEL.ROI_BOX_HEAD.USE_FED_LOSS", "the federated loss is not implemented"),
        ("MODEL.ROI_BOX_HEAD.USE_SIGMOID_CE", "the sigmoid classification loss is not implemented (Lunette uses softmax cross-entropy)"),
        ("TEST.AUG.ENABLED", "test-time augmentation is not implemented"),
        ("TEST.EXPECTED_RESULTS", "result verification is not implemented"),
        ("TEST.PRECISE_BN.ENABLED", "PreciseBN is not implemented"),
        ("VERSION", "Lunette reads version 2 configs"),
        ("VIS_PERIOD", "training-time visualization is not implemented"),
    ]

    /// Keys (or subtrees, ending in ".") that configure a feature which is off unless a switch
    /// enables it, as in Detectron2 (Base-RCNN-FPN.yaml sets ROI_MASK_HEAD with MASK_ON false).
    /// Lunette rejects the switch, so these are never used: (key, switch, the value that enables it).
    nonisolated(unsafe) public static let dependents: [(key: String, switchKey: String, enabling: CfgValue)] = [
        ("DATASETS.PRECOMPUTED_PROPOSAL_TOPK_TEST", "MODEL.LOAD_PROPOSALS", .bool(true)),
        ("DATASETS.PRECOMPUTED_PROPOSAL_TOPK_TRAIN", "MODEL.LOAD_PROPOSALS", .bool(true)),
        ("DATASETS.PROPOSAL_FILES_TEST", "MODEL.LOAD_PROPOSALS", .bool(true)),
        ("DATASETS.PROPOSAL_FILES_TRAIN", "MODEL.LOAD_PROPOSALS", .bool(true)),
        ("INPUT.CROP.SIZE", "INPUT.CROP.ENABLED", .bool(true)),
        ("INPUT.CROP.TYPE", "INPUT.CROP.ENABLED", .bool(true)),
        ("INPUT.MASK_FORMAT", "MODEL.MASK_ON", .bool(true)),
        ("MODEL.ANCHOR_GENERATOR.ANGLES", "MODEL.ANCHOR_GENERATOR.NAME", .string("RotatedAnchorGenerator")),
        ("MODEL.PANOPTIC_FPN.", "MODEL.META_ARCHITECTURE", .string("PanopticFPN")),
        ("MODEL.RESNETS.DEFORM_MODULATED", "MODEL.RESNETS.DEFORM_ON_PER_STAGE", .list([.bool(false), .bool(false), .bool(false), .bool(true)])),
        ("MODEL.RESNETS.DEFORM_NUM_GROUPS", "MODEL.RESNETS.DEFORM_ON_PER_STAGE", .list([.bool(false), .bool(false), .bool(false), .bool(true)])),
        ("MODEL.RETINANET.", "MODEL.META_ARCHITECTURE", .string("RetinaNet")),
        ("MODEL.ROI_BOX_CASCADE_HEAD.", "MODEL.ROI_HEADS.NAME", .string("CascadeROIHeads")),
        ("MODEL.ROI_BOX_HEAD.FED_LOSS_FREQ_WEIGHT_POWER", "MODEL.ROI_BOX_HEAD.USE_FED_LOSS", .bool(true)),
        ("MODEL.ROI_BOX_HEAD.FED_LOSS_NUM_CLASSES", "MODEL.ROI_BOX_HEAD.USE_FED_LOSS", .bool(true)),
        ("MODEL.ROI_KEYPOINT_HEAD.", "MODEL.KEYPOINT_ON", .bool(true)),
        ("MODEL.ROI_MASK_HEAD.", "MODEL.MASK_ON", .bool(true)),
        ("MODEL.SEM_SEG_HEAD.", "MODEL.META_ARCHITECTURE", .string("SemanticSegmentor")),
        ("SOLVER.NUM_DECAYS", "SOLVER.LR_SCHEDULER_NAME", .string("WarmupStepWithFixedGammaLR")),
        ("SOLVER.RESCALE_INTERVAL", "SOLVER.LR_SCHEDULER_NAME", .string("WarmupStepWithFixedGammaLR")),
        ("TEST.AUG.FLIP", "TEST.AUG.ENABLED", .bool(true)),
        ("TEST.AUG.MAX_SIZE", "TEST.AUG.ENABLED", .bool(true)),
        ("TEST.AUG.MIN_SIZES", "TEST.AUG.ENABLED", .bool(true)),
        ("TEST.KEYPOINT_OKS_SIGMAS", "MODEL.KEYPOINT_ON", .bool(true)),
        ("TEST.PRECISE_BN.NUM_ITER", "TEST.PRECISE_BN.ENABLED", .bool(true)),
    ]

    static func matches(_ key: String, _ pattern: String) -> Bool { pattern.hasSuffix(".") ? key.hasPrefix(pattern) : key == pattern }

    /// Keys Lunette reads; the component that reads each checks its value.
    public static let honoured: Set<String> = [
        "DATALOADER.ASPECT_RATIO_GROUPING", "DATALOADER.FILTER_EMPTY_ANNOTATIONS", "DATALOADER.NUM_WORKERS", "DATALOADER.REPEAT_SQRT",
        "DATALOADER.REPEAT_THRESHOLD", "DATALOADER.SAMPLER_TRAIN", "DATASETS.TEST", "DATASETS.TRAIN",
        "INPUT.FORMAT", "INPUT.MAX_SIZE_TEST", "INPUT.MAX_SIZE_TRAIN", "INPUT.MIN_SIZE_TEST", "INPUT.MIN_SIZE_TRAIN",
        "INPUT.MIN_SIZE_TRAIN_SAMPLING", "INPUT.RANDOM_FLIP",
        "MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS", "MODEL.ANCHOR_GENERATOR.NAME", "MODEL.ANCHOR_GENERATOR.OFFSET", "MODEL.ANCHOR_GENERATOR.SIZES",
        "MODEL.BACKBONE.FREEZE_AT", "MODEL.BACKBONE.NAME", "MODEL.DEVICE",
        "MODEL.FPN.FUSE_TYPE", "MODEL.FPN.IN_FEATURES", "MODEL.FPN.NORM", "MODEL.FPN.OUT_CHANNELS",
        "MODEL.META_ARCHITECTURE", "MODEL.PIXEL_MEAN", "MODEL.PIXEL_STD", "MODEL.PROPOSAL_GENERATOR.MIN_SIZE", "MODEL.PROPOSAL_GENERATOR.NAME",
        "MODEL.RESNETS.DEPTH", "MODEL.RESNETS.NORM", "MODEL.RESNETS.NUM_GROUPS", "MODEL.RESNETS.OUT_FEATURES", "MODEL.RESNETS.RES2_OUT_CHANNELS",
        "MODEL.RESNETS.RES5_DILATION", "MODEL.RESNETS.STEM_OUT_CHANNELS", "MODEL.RESNETS.STRIDE_IN_1X1", "MODEL.RESNETS.WIDTH_PER_GROUP",
        "MODEL.ROI_BOX_HEAD.BBOX_REG_LOSS_TYPE", "MODEL.ROI_BOX_HEAD.BBOX_REG_LOSS_WEIGHT", "MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS",
        "MODEL.ROI_BOX_HEAD.CLS_AGNOSTIC_BBOX_REG", "MODEL.ROI_BOX_HEAD.CONV_DIM", "MODEL.ROI_BOX_HEAD.FC_DIM", "MODEL.ROI_BOX_HEAD.NAME",
        "MODEL.ROI_BOX_HEAD.NORM", "MODEL.ROI_BOX_HEAD.NUM_CONV", "MODEL.ROI_BOX_HEAD.NUM_FC", "MODEL.ROI_BOX_HEAD.POOLER_RESOLUTION",
        "MODEL.ROI_BOX_HEAD.POOLER_SAMPLING_RATIO", "MODEL.ROI_BOX_HEAD.POOLER_TYPE", "MODEL.ROI_BOX_HEAD.SMOOTH_L1_BETA",
        "MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE", "MODEL.ROI_HEADS.IN_FEATURES", "MODEL.ROI_HEADS.IOU_LABELS", "MODEL.ROI_HEADS.IOU_THRESHOLDS",
        "MODEL.ROI_HEADS.NAME", "MODEL.ROI_HEADS.NMS_THRESH_TEST", "MODEL.ROI_HEADS.NUM_CLASSES", "MODEL.ROI_HEADS.POSITIVE_FRACTION",
        "MODEL.ROI_HEADS.PROPOSAL_APPEND_GT", "MODEL.ROI_HEADS.SCORE_THRESH_TEST",
        "MODEL.RPN.BATCH_SIZE_PER_IMAGE", "MODEL.RPN.BBOX_REG_LOSS_TYPE", "MODEL.RPN.BBOX_REG_LOSS_WEIGHT", "MODEL.RPN.BBOX_REG_WEIGHTS",
        "MODEL.RPN.BOUNDARY_THRESH", "MODEL.RPN.CONV_DIMS", "MODEL.RPN.HEAD_NAME", "MODEL.RPN.IN_FEATURES", "MODEL.RPN.IOU_LABELS",
        "MODEL.RPN.IOU_THRESHOLDS", "MODEL.RPN.LOSS_WEIGHT", "MODEL.RPN.NMS_THRESH", "MODEL.RPN.POSITIVE_FRACTION",
        "MODEL.RPN.POST_NMS_TOPK_TEST", "MODEL.RPN.POST_NMS_TOPK_TRAIN", "MODEL.RPN.PRE_NMS_TOPK_TEST", "MODEL.RPN.PRE_NMS_TOPK_TRAIN",
        "MODEL.RPN.SMOOTH_L1_BETA", "MODEL.WEIGHTS", "OUTPUT_DIR", "SEED",
        "SOLVER.AMP.ENABLED", "SOLVER.BASE_LR", "SOLVER.BASE_LR_END", "SOLVER.BIAS_LR_FACTOR", "SOLVER.CHECKPOINT_PERIOD", "SOLVER.CLIP_GRADIENTS.CLIP_TYPE",
        "SOLVER.CLIP_GRADIENTS.CLIP_VALUE", "SOLVER.CLIP_GRADIENTS.ENABLED", "SOLVER.CLIP_GRADIENTS.NORM_TYPE", "SOLVER.GAMMA",
        "SOLVER.IMS_PER_BATCH", "SOLVER.LR_SCHEDULER_NAME", "SOLVER.MAX_ITER", "SOLVER.MOMENTUM", "SOLVER.NESTEROV",
        "SOLVER.REFERENCE_WORLD_SIZE", "SOLVER.STEPS", "SOLVER.WARMUP_FACTOR", "SOLVER.WARMUP_ITERS", "SOLVER.WARMUP_METHOD",
        "SOLVER.WEIGHT_DECAY", "SOLVER.WEIGHT_DECAY_BIAS", "SOLVER.WEIGHT_DECAY_NORM", "TEST.DETECTIONS_PER_IMAGE", "TEST.EVAL_PERIOD",
    ]

    /// Why `key` only takes its default, or nil when it takes other values.
    public static func defaultOnlyReason(_ key: String) -> String? { defaultOnly.first { $0.key == key }?.reason }

    /// The switch that enables the feature `key` configures, when `key` is such a dependent.
    public static func dependent(_ key: String) -> (switchKey: String, enabling: CfgValue)? {
        dependents.first { matches(key, $0.key) }.map { ($0.switchKey, $0.enabling) }
    }

    /// Rejects every key set away from its default whose feature is not implemented.
    public static func validate(_ cfg: CfgNode) throws {
        // Detectron2 also reads "L" and YUV; Lunette's models and loaders take colour images.
        let format = try cfg.string("INPUT.FORMAT")
        guard ["BGR", "RGB"].contains(format) else { throw ConfigError("INPUT.FORMAT '\(format)' is not supported; use BGR or RGB") }
        for (key, _) in defaultOnly {
            guard let reason = defaultOnlyReason(key), let value = try? cfg.value(at: key),
                  let original = try? CfgNode.defaultTree.value(at: key), value != original else { continue }
            throw ConfigError("\(key) = \(value) is not supported: \(reason). Keep the default, \(original)")
        }
    }
}

/// Values checked when they are set (assignment, merge_from_list, merge_from_file), so a bad
/// one is an error naming the key at once, not at train().
extension ConfigSupport {
    /// Image sides beyond this are refused: a 16384-pixel side is already gigabytes per image.
    public static let maximumImageSide = 16384

    /// What is wrong with `value` for `key`, or nil.
    static func problem(_ key: String, _ value: CfgValue, default original: CfgValue) -> String? {
        if let kind = listElementKind(key, original), case .list(let items) = value {
            for (i, leaf) in leaves(items).enumerated() where !kind.accepts(leaf) {
                return "element \(i + 1) (\(leaf)) is a \(leaf.typeName); the list holds \(kind)"
            }
            // Lists nest no deeper than the default does (SIZES is a list of lists, or a flat
            // list Detectron2 broadcasts; PIXEL_MEAN is flat).
            let shipped = (try? CfgNode.defaultTree.value(at: key)) ?? original
            if case .list(let defaults) = shipped, !defaults.isEmpty || listElementKind(key, .list([])) != nil {
                let allowed = max(1, nesting(shipped))
                if let (i, inner) = items.enumerated().first(where: { nesting($0.element) + 1 > allowed }) {
                    return "element \(i + 1) (\(inner)) is a list nested deeper than the list's elements go (\(allowed == 1 ? "a flat list" : "lists \(allowed) deep"))"
                }
            }
        }
        guard let rule = rules[key] else { return nil }
        return rule(value)
    }

    enum ElementKind: CustomStringConvertible {
        case number, string, bool
        func accepts(_ v: CfgValue) -> Bool {
            switch (self, v) {
            case (.number, .int), (.number, .float), (.string, .string), (.bool, .bool): return true
            default: return false
            }
        }
        var description: String { self == .number ? "numbers" : self == .string ? "strings" : "booleans" }
    }

    /// How many list levels a value has (0 for a scalar).
    static func nesting(_ v: CfgValue) -> Int {
        guard case .list(let items) = v else { return 0 }
        return 1 + (items.map(nesting).max() ?? 0)
    }

    static func leaves(_ items: [CfgValue]) -> [CfgValue] {
        items.flatMap { v -> [CfgValue] in if case .list(let inner) = v { return leaves(inner) } else { return [v] } }
    }

    /// The kind of a list's elements, from its default (or, for lists empty by default, by key).
    static func listElementKind(_ key: String, _ original: CfgValue) -> ElementKind? {
        let named: [String: ElementKind] = ["DATASETS.TRAIN": .string, "DATASETS.TEST": .string, "DATASETS.PROPOSAL_FILES_TRAIN": .string,
                                            "DATASETS.PROPOSAL_FILES_TEST": .string, "MODEL.FPN.IN_FEATURES": .string,
                                            "TEST.KEYPOINT_OKS_SIGMAS": .number]
        if let k = named[key] { return k }
        guard case .list(let items) = original, let first = leaves(items).first else { return nil }
        switch first {
        case .int, .float: return .number
        case .string: return .string
        case .bool: return .bool
        default: return nil
        }
    }

    static func number(_ v: CfgValue) -> Double? {
        switch v { case .int(let i): return Double(i); case .float(let d): return d; default: return nil }
    }

    static func range(_ low: Double, _ high: Double, _ what: String = "") -> (CfgValue) -> String? {
        { v in
            guard let x = number(v) else { return nil }
            return x >= low && x <= high ? nil : "must be \(what.isEmpty ? "from \(low.clean) to \(high.clean)" : what), not \(v)"
        }
    }

    static func positive(_ v: CfgValue) -> String? {
        guard let x = number(v) else { return nil }
        return x > 0 && x.isFinite ? nil : "must be positive, not \(v)"
    }

    static func nonNegative(_ v: CfgValue) -> String? {
        guard let x = number(v) else { return nil }
        return x >= 0 && x.isFinite ? nil : "must be 0 or more, not \(v)"
    }

    static func imageSide(allowZero: Bool) -> (CfgValue) -> String? {
        { v in
            let values: [Double]
            if case .list(let l) = v { values = leaves(l).compactMap(number) } else { values = number(v).map { [$0] } ?? [] }
            for x in values where !(x >= (allowZero ? 0 : 1) && x <= Double(maximumImageSide)) {
                return "image sides must be from \(allowZero ? 0 : 1) to \(maximumImageSide) pixels, not \(x.clean)"
                    + (x > Double(maximumImageSide) ? " (a 3-channel float image \(x.clean) pixels on its short side needs \(memory(x)) or more)" : "")
            }
            return nil
        }
    }

    static func memory(_ side: Double) -> String {
        let bytes = side * side * 3 * 4
        return bytes >= 1e9 ? String(format: "%.0f GB", bytes / 1e9) : String(format: "%.0f MB", bytes / 1e6)
    }

    nonisolated(unsafe) static let rules: [String: (CfgValue) -> String?] = [
        "INPUT.MIN_SIZE_TRAIN": imageSide(allowZero: false), "INPUT.MAX_SIZE_TRAIN": imageSide(allowZero: false),
        "INPUT.MIN_SIZE_TEST": imageSide(allowZero: true), "INPUT.MAX_SIZE_TEST": imageSide(allowZero: false),
        "DATALOADER.NUM_WORKERS": nonNegative, "DATALOADER.REPEAT_THRESHOLD": nonNegative,
        "SOLVER.IMS_PER_BATCH": positive, "SOLVER.BASE_LR": nonNegative, "SOLVER.BASE_LR_END": nonNegative,
        "SOLVER.MAX_ITER": nonNegative, "SOLVER.CHECKPOINT_PERIOD": positive, "SOLVER.GAMMA": positive,
        "SOLVER.WEIGHT_DECAY": nonNegative, "SOLVER.WEIGHT_DECAY_NORM": nonNegative,
        "SOLVER.WEIGHT_DECAY_BIAS": nonNegative, "SOLVER.BIAS_LR_FACTOR": nonNegative,
        "SOLVER.WARMUP_FACTOR": range(0, 1), "SOLVER.WARMUP_ITERS": nonNegative,
        "SOLVER.CLIP_GRADIENTS.CLIP_VALUE": positive, "SOLVER.CLIP_GRADIENTS.NORM_TYPE": positive,
        "SOLVER.STEPS": { v in
            guard case .list(let l) = v else { return nil }
            let steps = l.compactMap(number)
            if let bad = steps.first(where: { $0 < 0 }) { return "steps must be 0 or more, not \(bad.clean)" }
            return zip(steps, steps.dropFirst()).allSatisfy { $0 < $1 } ? nil : "must increase (Detectron2's WarmupMultiStepLR needs sorted milestones), not \(v)"
        },
        "TEST.EVAL_PERIOD": nonNegative, "TEST.DETECTIONS_PER_IMAGE": range(-1, 100_000, "-1 (all) or a count up to 100000"),
        "MODEL.ROI_HEADS.SCORE_THRESH_TEST": range(0, 1), "MODEL.ROI_HEADS.NMS_THRESH_TEST": range(0, 1), "MODEL.RPN.NMS_THRESH": range(0, 1),
        "MODEL.ROI_HEADS.NUM_CLASSES": positive, "MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE": positive, "MODEL.RPN.BATCH_SIZE_PER_IMAGE": positive,
        "MODEL.ROI_HEADS.POSITIVE_FRACTION": range(0, 1), "MODEL.RPN.POSITIVE_FRACTION": range(0, 1),
        "MODEL.RPN.PRE_NMS_TOPK_TRAIN": positive, "MODEL.RPN.PRE_NMS_TOPK_TEST": positive,
        "MODEL.RPN.POST_NMS_TOPK_TRAIN": positive, "MODEL.RPN.POST_NMS_TOPK_TEST": positive,
        "MODEL.PROPOSAL_GENERATOR.MIN_SIZE": nonNegative, "MODEL.BACKBONE.FREEZE_AT": range(0, 5),
        "SOLVER.MOMENTUM": range(0, 1), "MODEL.RPN.LOSS_WEIGHT": nonNegative, "MODEL.RPN.BBOX_REG_LOSS_WEIGHT": nonNegative,
        "MODEL.ROI_BOX_HEAD.BBOX_REG_LOSS_WEIGHT": nonNegative,
        "MODEL.ANCHOR_GENERATOR.SIZES": { v in
            guard case .list(let l) = v else { return nil }
            let bad = leaves(l).compactMap(number).first { !($0 > 0 && $0 <= 100_000) }
            return bad.map { "anchor sizes are pixels from 1 to 100000, not \($0.clean)" }
        },
    ]
}

extension Double {
    /// 800 rather than 800.0 in messages.
    var clean: String { self == rounded() && abs(self) < 1e15 ? String(Int64(self)) : String(self) }
}
