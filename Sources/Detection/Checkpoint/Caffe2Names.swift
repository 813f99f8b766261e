import Foundation
import Torch

/// Caffe2 (Detectron1, ImageNet-pretrained) weight names to Detectron2's, and the suffix
/// matching Detectron2 uses to load such files into a model (its "matching heuristics").
public enum Caffe2Names {
    /// Regex renamings, compiled once (a .pkl has thousands of names); the patterns are constants.
    typealias Rules = [(NSRegularExpression, String)]
    static func rules(_ list: [(String, String)]) -> Rules {
        list.map { (try! NSRegularExpression(pattern: $0.0), $0.1) }
    }

    static func apply(_ rules: Rules, to s: String) -> String {
        rules.reduce(s) { k, rule in
            rule.0.stringByReplacingMatches(in: k, range: NSRange(k.startIndex..., in: k), withTemplate: rule.1)
        }
    }

    static let basicRules = rules([("\\.b$", ".bias"), ("\\.w$", ".weight"),
                                   ("bn\\.s$", "norm.weight"), ("bn\\.bias$", "norm.bias"), ("bn\\.rm", "norm.running_mean"),
                                   ("bn\\.running\\.mean$", "norm.running_mean"), ("bn\\.riv$", "norm.running_var"),
                                   ("bn\\.running\\.var$", "norm.running_var"), ("bn\\.gamma$", "norm.weight"), ("bn\\.beta$", "norm.bias"),
                                   ("gn\\.s$", "norm.weight"), ("gn\\.bias$", "norm.bias"),
                                   ("^res\\.conv1\\.norm\\.", "conv1.norm."), ("^conv1\\.", "stem.conv1.")])
    static let headRules = rules([("^bbox\\.pred", "bbox_pred"), ("^cls\\.score", "cls_score"), ("^fc6\\.", "box_head.fc1."),
                                  ("^fc7\\.", "box_head.fc2."), ("^head\\.conv", "box_head.conv")])

    /// The backbone-level renaming: "_" to ".", w/b to weight/bias, bn/gn to norm, branch to conv.
    public static func basic(_ name: String) -> String {
        var k = ["pred_b": "linear_b", "pred_w": "linear_w"][name] ?? name
        k = k.replacingOccurrences(of: "_", with: ".")
        k = apply(basicRules, to: k)
        for (a, b) in [(".branch1.", ".shortcut."), (".branch2a.", ".conv1."), (".branch2b.", ".conv2."), (".branch2c.", ".conv3.")] {
            k = k.replacingOccurrences(of: a, with: b)
        }
        return k
    }

    /// Full Detectron (C2) names: RPN, box head and FPN convolutions as well.
    public static func detectron(_ name: String) -> String {
        var k = basic(name)
        for (a, b) in [("conv.rpn.fpn2", "proposal_generator.rpn_head.conv"), ("conv.rpn", "proposal_generator.rpn_head.conv"),
                       ("rpn.bbox.pred.fpn2", "proposal_generator.rpn_head.anchor_deltas"),
                       ("rpn.cls.logits.fpn2", "proposal_generator.rpn_head.objectness_logits"),
                       ("rpn.bbox.pred", "proposal_generator.rpn_head.anchor_deltas"),
                       ("rpn.cls.logits", "proposal_generator.rpn_head.objectness_logits")] {
            k = k.replacingOccurrences(of: a, with: b)
        }
        k = apply(headRules, to: k)
        let parts = k.split(separator: ".").map(String.init)
        let norm = parts.contains("norm") ? ".norm" : ""
        if k.hasPrefix("fpn.inner."), parts.count > 2, let stage = Int(parts[2].dropFirst(3)) {
            k = "fpn_lateral\(stage)\(norm).\(parts.last!)"
        } else if k.hasPrefix("fpn.res"), parts.count > 1, let stage = Int(parts[1].dropFirst(3)) {
            k = "fpn_output\(stage)\(norm).\(parts.last!)"
        }
        return k
    }

    /// Renames a Caffe2 state dict; the box predictor drops its background box and moves the
    /// background score from the first class to the last, as Detectron2 does.
    public static func convert(_ weights: [(name: String, tensor: Tensor)]) throws -> [(name: String, tensor: Tensor)] {
        var seen = Set<String>()
        return try weights.map { name, t in
            let renamed = detectron(name)
            guard seen.insert(renamed).inserted else { throw CheckpointError("two Caffe2 names map to \(renamed)") }
            if renamed.hasPrefix("bbox_pred.") { return (renamed, try t.narrow(0, start: 4, length: t.shape[0] - 4)) }
            if renamed.hasPrefix("cls_score.") {
                return (renamed, try Tensor.cat([try t.narrow(0, start: 1, length: t.shape[0] - 1), try t.narrow(0, start: 0, length: 1)]))
            }
            return (renamed, t)
        }
    }

    /// For each model key, the checkpoint key that equals it or is a "."-suffix of it (the
    /// longest when several are).
    public static func align(modelKeys: [String], checkpointKeys: [String]) throws -> [String: String] {
        var result: [String: String] = [:]
        var used: [String: String] = [:]
        for m in modelKeys {
            let candidates = checkpointKeys.filter { m == $0 || m.hasSuffix("." + $0) }
            guard let best = candidates.max(by: { $0.count < $1.count }) else { continue }
            if let other = used[best] {
                throw CheckpointError("checkpoint key \(best) matches two model keys (\(other) and \(m))")
            }
            used[best] = m
            result[m] = best
        }
        return result
    }
}
