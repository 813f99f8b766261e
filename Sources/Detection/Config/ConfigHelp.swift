/// What help(cfg.X) and ?cfg.X.Y show: each key's value, type and default, its meaning (from
/// DefaultsHelp.swift, beside the defaults) and what Lunette does with it.
extension CfgNode {
    /// The meaning of a key of the default tree (a node or a leaf, by its full dotted path).
    public static func meaning(of key: String) -> String? { detectron2KeyMeanings[key] }

    /// What Lunette does with a leaf: nothing to say when it is honoured.
    static func supportNote(_ key: String) -> String? {
        if let d = ConfigSupport.defaultOnly.first(where: { $0.key == key }) { return "only the default is supported: \(d.reason)" }
        if let d = ConfigSupport.dependents.first(where: { key == $0.key || ($0.key.hasSuffix(".") && key.hasPrefix($0.key)) }) {
            return "unused while \(d.switchKey) is not \(d.enabling), as in Detectron2 (Lunette keeps it off)"
        }
        return nil
    }

    /// The default of a full key, when the default tree has it.
    static func defaultValue(of key: String) -> CfgValue? { try? CfgNode.defaultTree.value(at: key) }

    /// Help for this node: its meaning, then each key with value, type, default and meaning.
    public func helpText(name: String = "cfg") -> String {
        let prefix = path.isEmpty ? name : "\(name).\(path)"
        var lines = ["\(prefix): " + (path.isEmpty ? "Detectron2's config (get_cfg()): the keys below, each typed by its default"
                                                        : CfgNode.meaning(of: path) ?? "a config node")]
        let width = keys.map(\.count).max() ?? 0
        for key in keys {
            let full = qualified(key)
            let value = entries[key]!
            let label = key.padding(toLength: width, withPad: " ", startingAt: 0)
            if case .node(let child) = value {
                lines.append("  \(label)  (\(child.keys.count) keys)  \(CfgNode.meaning(of: full) ?? "")")
                continue
            }
            var shown = "\(label) = \(CfgNode.short(value))  (\(value.typeName)"
            if let d = CfgNode.defaultValue(of: full), d != value { shown += ", default \(CfgNode.short(d))" }
            shown += ")"
            lines.append("  \(shown)  \(CfgNode.meaning(of: full) ?? "")")
        }
        lines.append("help(\(prefix).KEY) or ?\(prefix).KEY for one key")
        return lines.joined(separator: "\n")
    }

    /// Help for one key of this node (a leaf or a child node).
    public func helpText(key: String, name: String = "cfg") -> String {
        let full = qualified(key)
        guard let value = entries[key] else {
            return "\(name).\(full) is not a config key\(suggestion(for: full))"
        }
        if case .node(let child) = value { return child.helpText(name: name) }
        var lines = ["\(name).\(full) = \(value)", "  type \(value.typeName)" + (CfgNode.defaultValue(of: full).map { ", default \($0)" } ?? ", not in Detectron2's defaults")]
        if let m = CfgNode.meaning(of: full) { lines.append("  " + m) }
        if let note = CfgNode.supportNote(full) { lines.append("  Lunette: " + note) }
        return lines.joined(separator: "\n")
    }

    /// A value cut to a readable length for a listing.
    static func short(_ v: CfgValue) -> String {
        let text = v.description
        return text.count <= 40 ? text : String(text.prefix(37)) + "..."
    }
}
