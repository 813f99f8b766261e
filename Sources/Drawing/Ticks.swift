import Foundation

/// Axis ticks at 1-2-5 steps (as matplotlib's MaxNLocator picks them), labelled with just enough
/// decimals that no two labels are the same.
public struct Ticks: Sendable {
    public let values: [Double]
    public let decimals: Int

    public init(lo: Double, hi: Double, target: Int = 5) {
        var lo = lo, hi = hi
        if !(lo.isFinite && hi.isFinite) { lo = 0; hi = 1 }
        if hi < lo { swap(&lo, &hi) }
        if hi == lo { lo -= 0.5; hi += 0.5 }
        let raw = (hi - lo) / Double(max(target, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw * 0.999 } ?? 10 * magnitude
        let first = (lo / step - 1e-9).rounded(.up) * step, last = (hi / step + 1e-9).rounded(.down) * step
        var v: [Double] = []
        var x = first
        while x <= last + step * 1e-9 && v.count < 100 {
            v.append(abs(x) < step * 1e-9 ? 0 : x)
            x += step
        }
        values = v
        // Enough decimals for the step (2.5 needs one more than 2).
        var d = max(0, Int(-floor(log10(step) + 1e-9)))
        if (step / pow(10, -Double(d))).truncatingRemainder(dividingBy: 1) > 1e-6 { d += 1 }
        decimals = min(d, 10)
    }

    public func label(_ v: Double) -> String { String(format: "%.\(decimals)f", v) }

    /// The range widened to the ticks around it (so an axis ends on a labelled tick).
    public static func niceExtent(lo: Double, hi: Double, target: Int = 5) -> (Double, Double) {
        let t = Ticks(lo: lo, hi: hi, target: target)
        guard t.values.count >= 2 else { return (lo, hi) }
        let step = t.values[1] - t.values[0]
        let a = t.values.first! > lo + step * 1e-9 ? t.values.first! - step : t.values.first!
        let b = t.values.last! < hi - step * 1e-9 ? t.values.last! + step : t.values.last!
        return (min(a, lo), max(b, hi))
    }
    public var labels: [String] { values.map(label) }
}

/// A linear map from data to figure units.
public struct LinearScale: Sendable {
    public let lo, hi, start, end: Double
    public init(lo: Double, hi: Double, start: Double, end: Double) {
        self.lo = lo
        self.hi = hi == lo ? lo + 1 : hi
        self.start = start
        self.end = end
    }
    public func callAsFunction(_ v: Double) -> Double { start + (v - lo) / (hi - lo) * (end - start) }
}

/// Perceptual colour maps.
public enum ColorMap {
    /// matplotlib's viridis at eleven points, interpolated.
    static let viridisAnchors: [(Double, Double, Double)] = [
        (68, 1, 84), (72, 36, 117), (65, 68, 135), (53, 95, 141), (42, 120, 142), (33, 145, 140),
        (34, 168, 132), (68, 191, 112), (122, 209, 81), (189, 223, 38), (253, 231, 37),
    ]

    /// Viridis at t in 0...1 (clamped; NaN as 0).
    public static func viridis(_ t: Double) -> RGBA {
        let a = viridisAnchors
        let x = min(max(t.isNaN ? 0 : t, 0), 1) * Double(a.count - 1)
        let i = min(Int(x), a.count - 2), f = x - Double(i)
        let p = a[i], q = a[i + 1]
        return RGBA(r: (p.0 + (q.0 - p.0) * f) / 255, g: (p.1 + (q.1 - p.1) * f) / 255, b: (p.2 + (q.2 - p.2) * f) / 255)
    }

    /// matplotlib's tab10, for series and classes.
    public static let tab10: [RGBA] = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
                                       (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
        .map { RGBA($0.0, $0.1, $0.2) }
}
