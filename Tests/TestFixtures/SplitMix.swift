import Support

/// The tests draw generated cases from the one generator the code uses (Support's SplitMix64).
public typealias SplitMix = SplitMix64
