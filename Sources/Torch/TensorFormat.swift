/// Prints tensors the way numpy does: a header (dtype, shape, device), then the values with
/// the head and tail of long dimensions and "..." between — never thousands of lines.
extension Tensor: CustomStringConvertible {
    public var description: String {
        (try? TensorFormatter().format(self)) ?? "tensor(\(dtype), \(shape), \(device))"
    }
}

public struct TensorFormatter {
    /// Tensors with more elements than this are summarised.
    public var threshold = 1000
    /// Items kept at each end of a summarised dimension.
    public var edgeItems = 3
    public var lineWidth = 80

    public init() {}

    public func header(_ t: Tensor) -> String {
        var parts = ["tensor \(t.dtype)", "[\(t.shape.map(String.init).joined(separator: ", "))]"]
        if t.device != .cpu { parts.append(t.device.description) }
        if t.requiresGrad { parts.append("requires_grad") }
        return parts.joined(separator: " ")
    }

    public func format(_ t: Tensor) throws -> String {
        let summarise = t.numel > threshold
        // Keep only the elements that will be shown.
        var shown = try t.detach()
        var elided: [Bool] = []
        for (d, n) in t.shape.enumerated() {
            if summarise && n > 2 * edgeItems {
                let idx = Array(0..<edgeItems) + Array((n - edgeItems)..<n)
                shown = try shown.indexSelect(d, try Tensor(idx.map(Int64.init)).to(device: t.device))
                elided.append(true)
            } else {
                elided.append(false)
            }
        }
        let cpu = try shown.to(device: .cpu)
        let texts: [String]
        switch t.dtype {
        case .bool:
            texts = try cpu.toArray(Bool.self).map { $0 ? "true" : "false" }
        case .uint8, .int8, .int16, .int32, .int64:
            texts = try cpu.toArray(Int64.self).map(String.init)
        default:
            texts = formatFloats(try cpu.to(dtype: .float64).toArray(Double.self))
        }
        let width = texts.map(\.count).max() ?? 0
        let padded = texts.map { String(repeating: " ", count: width - $0.count) + $0 }
        if t.dim == 0 { return header(t) + "\n" + (padded.first ?? "") }
        var body = ""
        var position = 0
        render(shape: cpu.shape, elided: elided, dim: 0, indent: 1, values: padded, position: &position, into: &body)
        return header(t) + "\n" + body
    }

    private func render(shape: [Int], elided: [Bool], dim: Int, indent: Int, values: [String], position: inout Int, into out: inout String) {
        out += "["
        let n = shape[dim]
        if dim == shape.count - 1 {
            var line: [String] = []
            for i in 0..<n {
                if elided[dim] && i == edgeItems { line.append("...") }
                line.append(values[position])
                position += 1
            }
            out += wrap(line, indent: indent)
        } else {
            for i in 0..<n {
                if i > 0 {
                    out += "," + String(repeating: "\n", count: shape.count - dim - 1) + String(repeating: " ", count: indent)
                }
                if elided[dim] && i == edgeItems {
                    out += "...," + String(repeating: "\n", count: shape.count - dim - 1) + String(repeating: " ", count: indent)
                }
                render(shape: shape, elided: elided, dim: dim + 1, indent: indent + 1, values: values, position: &position, into: &out)
            }
        }
        out += "]"
    }

    private func wrap(_ items: [String], indent: Int) -> String {
        var lines: [String] = []
        var current = ""
        for item in items {
            let piece = current.isEmpty ? item : ", " + item
            if !current.isEmpty && current.count + piece.count + indent + 2 > lineWidth {
                lines.append(current + ",")
                current = item
            } else {
                current += piece
            }
        }
        lines.append(current)
        return lines.joined(separator: "\n" + String(repeating: " ", count: indent))
    }

    /// numpy's choice: whole numbers print as "3.", others with 4 decimals, scientific when the
    /// magnitudes span too much.
    func formatFloats(_ values: [Double]) -> [String] {
        let finite = values.filter { $0.isFinite }
        let magnitudes = finite.map { Swift.abs($0) }.filter { $0 > 0 }
        let maxAbs = magnitudes.max() ?? 0, minAbs = magnitudes.min() ?? 0
        let allWhole = finite.allSatisfy { $0 == $0.rounded() } && maxAbs < 1e16
        let scientific = maxAbs >= 1e8 || (minAbs > 0 && minAbs < 1e-4) || (minAbs > 0 && maxAbs / minAbs > 1e3 && !allWhole)
        return values.map { v in
            if v.isNaN { return "nan" }
            if v.isInfinite { return v > 0 ? "inf" : "-inf" }
            if allWhole && !scientific { return "\(Int64(v))." }
            if scientific { return scientificString(v) }
            return fixed(v, decimals: 4)
        }
    }

    private func fixed(_ v: Double, decimals: Int) -> String {
        let scale = Double(pow10(decimals))
        let r = (Swift.abs(v) * scale).rounded()
        let whole = Int64(r / scale)
        let frac = Int64(r) - whole * Int64(scale)
        let fracText = String(frac)
        return (v < 0 && r != 0 ? "-" : "") + "\(whole)." + String(repeating: "0", count: decimals - fracText.count) + fracText
    }

    private func scientificString(_ v: Double) -> String {
        if v == 0 { return "0.0000e+00" }
        var exponent = Int((Swift.abs(v)).log10Floor)
        var mantissa = v / pow10Double(exponent)
        if Swift.abs((Swift.abs(mantissa) * 10000).rounded() / 10000) >= 10 { exponent += 1; mantissa = v / pow10Double(exponent) }
        let e = Swift.abs(exponent)
        return fixed(mantissa, decimals: 4) + "e" + (exponent < 0 ? "-" : "+") + (e < 10 ? "0" : "") + String(e)
    }

    private func pow10(_ n: Int) -> Int64 { (0..<n).reduce(Int64(1)) { acc, _ in acc * 10 } }
    private func pow10Double(_ n: Int) -> Double {
        n >= 0 ? (0..<n).reduce(1.0) { a, _ in a * 10 } : (0..<(-n)).reduce(1.0) { a, _ in a / 10 }
    }
}

extension Double {
    var log10Floor: Double {
        var e = 0.0
        var x = self
        while x >= 10 { x /= 10; e += 1 }
        while x < 1 { x *= 10; e -= 1 }
        return e
    }
}
