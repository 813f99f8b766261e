import CLua
import XCTest
@testable import LuaHost

/// Structural equality for values copied out of Lua (objects by identity).
func same(_ a: LuaValue, _ b: LuaValue) -> Bool {
    switch (a, b) {
    case (.nil, .nil): return true
    case (.boolean(let x), .boolean(let y)): return x == y
    case (.integer(let x), .integer(let y)): return x == y
    case (.number(let x), .number(let y)): return x == y || (x.isNaN && y.isNaN)
    case (.string(let x), .string(let y)): return x == y
    case (.object(let x), .object(let y)): return x === y
    case (.table(let x), .table(let y)):
        guard x.array.count == y.array.count, x.hash.count == y.hash.count else { return false }
        for (u, v) in zip(x.array, y.array) where !same(u, v) { return false }
        for (k, v) in x.hash {
            guard let w = y.hash[k], same(v, w) else { return false }
        }
        return true
    default: return false
    }
}


extension LuaState {
    /// Runs Lua code, failing the test with the Lua error if it throws.
    @discardableResult
    func run(_ code: String, file: StaticString = #filePath, line: UInt = #line) -> [LuaValue] {
        do {
            return try evaluate(code)
        } catch {
            XCTFail("Lua error: \(error)", file: file, line: line)
            return []
        }
    }

    /// Runs Lua code expected to fail; returns the error's description.
    func failure(_ code: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            try evaluate(code)
            XCTFail("expected a Lua error from: \(code)", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }
}
