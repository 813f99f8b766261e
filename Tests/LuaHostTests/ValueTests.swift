import CLua
import TestFixtures
import XCTest
@testable import LuaHost

final class ValueTests: XCTestCase {
    func testScalarsRoundTrip() throws {
        let state = try LuaState()
        let values: [LuaValue] = [.nil, .boolean(true), .boolean(false), .integer(0), .integer(Int64.max), .integer(Int64.min),
                                  .number(0.5), .number(-1e300), .number(.infinity), .string(""), .string("héllo ✓"),
                                  .string("a\u{0}b")]
        for v in values {
            state.push(v)
            let back = try state.value(at: -1)
            lh_pop(state.L, 1)
            XCTAssertTrue(same(v, back), "\(v) came back as \(back)")
        }
        XCTAssertEqual(lua_gettop(state.L), 0)
    }

    func testLuaSeesTheRightTypes() throws {
        let state = try LuaState()
        try state.setGlobal("v", .table(LuaTable(array: [.integer(3), .number(3.5), .string("x")],
                                                hash: [.string("flag"): .boolean(true)])))
        let r = state.run("return math.type(v[1]), math.type(v[2]), type(v[3]), v.flag, #v")
        XCTAssertTrue(same(.table(LuaTable(array: r)), .table(LuaTable(array: [.string("integer"), .string("float"), .string("string"), .boolean(true), .integer(3)]))))
    }

    /// Property: any generated nested value survives Swift -> Lua -> Swift unchanged.
    func testGeneratedNestedValuesRoundTrip() throws {
        let state = try LuaState()
        var rng = SplitMix(state: 42)
        func scalar() -> LuaValue {
            switch rng.int(5) {
            case 0: return .boolean(rng.int(2) == 0)
            case 1: return .integer(Int64(bitPattern: rng.next()))
            case 2: return .number(Double(Int64(bitPattern: rng.next())) / 7.0)
            case 3: return .string(String(repeating: "λx", count: rng.int(4)))
            default: return .integer(Int64(rng.int(100)))
            }
        }
        func generate(_ depth: Int) -> LuaValue {
            if depth == 0 || rng.int(3) == 0 { return scalar() }
            var t = LuaTable()
            for _ in 0..<rng.int(6) { t.array.append(generate(depth - 1)) }
            for _ in 0..<rng.int(4) {
                let key: LuaKey = rng.int(2) == 0 ? .string("k\(rng.int(50))") : .integer(Int64(100 + rng.int(50)))
                t.hash[key] = generate(depth - 1)
            }
            return .table(t)
        }
        for _ in 0..<500 {
            let v = generate(4)
            try state.setGlobal("g", v)
            let back = try state.global("g")
            XCTAssertTrue(same(v, back), "\(v) came back as \(back)")
        }
        XCTAssertEqual(lua_gettop(state.L), 0)
    }

    func testDecodingTypedValues() throws {
        let state = try LuaState()
        let v = state.run("return {1, 2, 3}, {a = 1.5, b = 2}, {{'x'}, {'y', 'z'}}")
        XCTAssertEqual(try [Int].decode(v[0], at: ""), [1, 2, 3])
        XCTAssertEqual(try [String: Double].decode(v[1], at: ""), ["a": 1.5, "b": 2])
        XCTAssertEqual(try [[String]].decode(v[2], at: ""), [["x"], ["y", "z"]])
    }

    func testDecodingMismatchesNameTheElement() throws {
        let state = try LuaState()
        let v = state.run("return {1, 'two', 3}, {1, 2, x = 3}, {a = {1, 2.5}}, 3.5")
        XCTAssertEqual("\(try expectError { try [Int].decode(v[0], at: "") })", "[2]: integer expected, got string")
        XCTAssertEqual("\(try expectError { try [Int].decode(v[1], at: "") })",
                       "array of integer expected, but the table has key 'x' outside the sequence 1..2")
        XCTAssertEqual("\(try expectError { try [String: [Int]].decode(v[2], at: "") })",
                       "a[2]: number 2.5 has no integer representation")
        XCTAssertEqual("\(try expectError { try Int.decode(v[3], at: "") })", "number 3.5 has no integer representation")
    }

    func testCyclesAndOddKeysAreErrors() throws {
        let state = try LuaState()
        state.run("cyc = {inner = {}}; cyc.inner.back = cyc; odd = {[{}] = 1}")
        XCTAssertTrue("\(try expectError { try state.global("cyc") })".contains("contains itself"))
        XCTAssertTrue("\(try expectError { try state.global("odd") })".contains("has a table key"))
        XCTAssertEqual(lua_gettop(state.L), 0)
    }

    func testFunctionsComeBackAsReferencesAndCanBeCalled() throws {
        let state = try LuaState()
        let f = state.run("return function(a, b) return a + b, a * b end")
        guard case .reference(let ref, let type) = f[0] else { return XCTFail("not a reference: \(f[0])") }
        XCTAssertEqual(type, "function")
        let r = try state.call(ref, [.integer(6), .integer(7)])
        XCTAssertTrue(same(.table(LuaTable(array: r)), .table(LuaTable(array: [.integer(13), .integer(42)]))))
    }

    private func expectError<T>(_ body: () throws -> T) throws -> Error {
        do {
            _ = try body()
        } catch {
            return error
        }
        XCTFail("no error")
        return LuaError.message("no error")
    }
}
