/// A value from outside (a file, a config, Lua) that Lunette cannot use, with what it is.
public struct InputError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The one way numbers from outside become integers: a Double that is NaN, infinite or beyond
/// the target's range never reaches `Int(x)` (which traps); it is an error naming the value.
public enum Checked {
    /// `x` rounded to the nearest integer.
    public static func int(_ x: Double, _ what: @autoclosure () -> String) throws -> Int {
        guard x.isFinite else { throw InputError("\(what()) is \(x.isNaN ? "NaN" : (x > 0 ? "infinite" : "-infinite")), not a usable number") }
        guard let i = Int(exactly: x.rounded()) else { throw InputError("\(what()) = \(x) is too large to be an integer") }
        return i
    }

    /// `x` for a C API that takes 32-bit integers.
    public static func int32(_ x: Int, _ what: @autoclosure () -> String) throws -> Int32 {
        guard let i = Int32(exactly: x) else { throw InputError("\(what()) = \(x) is beyond the 32-bit range") }
        return i
    }

    /// Drawing coordinates and sizes: within a million pixels either way (OpenCV draws in
    /// fixed point and overflows far beyond that; nothing that far is visible anyway).
    public static let drawingLimit = 1_000_000

    public static func coordinate(_ x: Int, _ what: @autoclosure () -> String) throws -> Int32 {
        guard abs(x) <= drawingLimit else { throw InputError("\(what()) = \(x) is outside the drawable range (±\(drawingLimit) pixels)") }
        return Int32(x)
    }

    /// A Double drawing coordinate, rounded.
    public static func coordinate(_ x: Double, _ what: @autoclosure () -> String) throws -> Int {
        let i = try int(x, what())
        _ = try coordinate(i, what())
        return i
    }
}
