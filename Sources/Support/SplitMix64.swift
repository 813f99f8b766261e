/// SplitMix64: a small seeded generator; each data-loader sample gets its own stream so results
/// do not depend on which worker thread mapped it, and property tests draw their cases from it.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number from 0 to n - 1.
    public mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
