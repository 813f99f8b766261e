import CLua
import XCTest
@testable import LuaHost

/// Counts live instances, to prove Lua's collector releases Swift objects.
final class Tracked {
    nonisolated(unsafe) static var live = 0
    var value: Int
    init(_ value: Int) { self.value = value; Tracked.live += 1 }
    deinit { Tracked.live -= 1 }
}

class Shape {
    var name: String
    init(name: String) { self.name = name }
    func area() -> Double { 0 }
}

final class Square: Shape {
    var side: Double
    init(side: Double) { self.side = side; super.init(name: "square") }
    override func area() -> Double { side * side }
}

final class BoundaryTests: XCTestCase {
    func makeState() throws -> LuaState {
        let state = try LuaState()
        try state.defineModule("t", doc: "Test functions.") { m in
            m.function("div", [LuaParameter("a", .number), LuaParameter("b", .number)], returns: "number", doc: "Divides.") { call in
                let b = try call.number(2)
                if b == 0 { throw LuaError.message("division by zero") }
                return call.push(try call.number(1) / b)
            }
            m.function("track", [LuaParameter("v", .integer)], returns: "Tracked", doc: "A tracked object.") { call in
                call.push(object: Tracked(try call.integer(1)))
            }
            m.function("failing", [], doc: "Allocates a Swift object, then fails.") { call in
                let scratch = Tracked(0)
                throw LuaError.message("failed with \(scratch.value)")
            }
            m.function("call", [LuaParameter("f", .function)], returns: "...", doc: "Calls f from Swift.") { call in
                let f = try call.function(1)
                let results = try call.state.call(f, [.integer(7)])
                for r in results { call.push(r) }
                return call.results
            }
            m.function("square", [LuaParameter("side", .number)], returns: "Square", doc: "A square.") { call in
                call.push(object: Square(side: try call.number(1)))
            }
            m.function("shape", [LuaParameter("name", .string)], returns: "Shape", doc: "A shape.") { call in
                call.push(object: Shape(name: try call.string(1)))
            }
            m.function("area", [LuaParameter("s", .object("t.Shape"))], returns: "number", doc: "Area of any shape.") { call in
                call.push(try call.object(Shape.self, 1).area())
            }
            m.function("names", [LuaParameter("list", .table)], returns: "string", doc: "Joins an array of strings.") { call in
                call.push(try call.decode([String].self, 1).joined(separator: ","))
            }
        }
        try state.defineClass(Tracked.self, name: "t.Tracked", doc: "A tracked value.") { c in
            c.method("get", [], returns: "integer", doc: "The value.") { o, call in call.push(o.value) }
            c.method("add", [LuaParameter("n", .integer)], returns: "Tracked", doc: "Adds n; returns self.") { o, call in
                o.value += try call.integer(2)
                return call.push(object: o)
            }
            c.property("value", type: "integer", doc: "The value.", get: { o, call in call.push(o.value) },
                       set: { o, call in o.value = try call.integer(3) })
            c.tostring { "Tracked(\($0.value))" }
            c.equals { $0.value == $1.value }
        }
        let shape = try state.defineClass(Shape.self, name: "t.Shape", doc: "A shape.") { c in
            c.method("area", [], returns: "number", doc: "Its area.") { o, call in call.push(o.area()) }
            c.property("name", type: "string", doc: "Its name.", get: { o, call in call.push(o.name) })
            c.tostring { "Shape(\($0.name))" }
        }
        try state.defineClass(Square.self, name: "t.Square", doc: "A square.", parent: shape) { c in
            c.property("side", type: "number", doc: "Side length.", get: { o, call in call.push(o.side) })
        }
        state.run("t = require 't'")
        return state
    }

    func testSwiftFunctionsAndTheirErrors() throws {
        let state = try makeState()
        XCTAssertTrue(same(state.run("return t.div(7, 2)")[0], .number(3.5)))
        XCTAssertTrue(same(state.run("return select(2, pcall(t.div, 1, 0))")[0], .string("t.div: division by zero")))
        XCTAssertTrue(same(state.run("return select(2, pcall(t.div, 'x', 1))")[0],
                           .string("bad argument #1 to 't.div' (number expected, got string)")))
        XCTAssertTrue(same(state.run("return select(2, pcall(t.div, 1))")[0],
                           .string("bad argument #2 to 't.div' (number expected, got no value)")))
        XCTAssertTrue(same(state.run("return select(2, pcall(t.div, 1, nil))")[0],
                           .string("bad argument #2 to 't.div' (number expected, got nil)")))
        XCTAssertTrue(same(state.run("return select(2, pcall(t.names, {'a', 3}))")[0],
                           .string("bad argument #1 to 't.names' ([2]: string expected, got number)")))
        // Errors raised from Lua code carry the caller's position.
        XCTAssertEqual(state.failure("local x = t.div(1, 0)"), "(swift):1: t.div: division by zero\nstack traceback:\n\t[C]: in function 't.div'\n\t(swift):1: in main chunk")
        XCTAssertEqual(lua_gettop(state.L), 0)
    }

    func testErrorTablePassesThroughSwiftUnchanged() throws {
        let state = try makeState()
        let r = state.run("""
            local e = {code = 42}
            local ok, got = pcall(t.call, function(x) error(e) end)
            return ok, rawequal(got, e), got.code
            """)
        XCTAssertTrue(same(.table(LuaTable(array: r)), .table(LuaTable(array: [.boolean(false), .boolean(true), .integer(42)]))))
        let r2 = state.run("return t.call(function(x) return x * 6, 'ok' end)")
        XCTAssertTrue(same(.table(LuaTable(array: r2)), .table(LuaTable(array: [.integer(42), .string("ok")]))))
        // A string error from Lua keeps its own position and is not prefixed again.
        XCTAssertTrue(same(state.run("return select(2, pcall(t.call, function() error('inner') end))")[0],
                           .string("(swift):1: inner")))
    }

    func testHundredThousandErrorRoundTripsLeakNothing() throws {
        let state = try makeState()
        let before = Tracked.live
        let r = state.run("""
            local failures = 0
            for i = 1, 100000 do
              if not pcall(t.failing) then failures = failures + 1 end
            end
            collectgarbage()
            return failures, collectgarbage('count')
            """)
        XCTAssertTrue(same(r[0], .integer(100_000)))
        XCTAssertEqual(Tracked.live, before, "every Swift object made on the error path was released")
        XCTAssertEqual(lua_gettop(state.L), 0)
        // Lua's heap does not grow with the number of errors.
        let r2 = state.run("""
            for i = 1, 100000 do pcall(t.failing) end
            collectgarbage()
            return collectgarbage('count')
            """)
        guard case .number(let k1) = r[1], case .number(let k2) = r2[0] else { return XCTFail("counts") }
        XCTAssertLessThan(abs(k2 - k1), 64, "Lua heap grew from \(k1) KB to \(k2) KB")
    }

    func testObjectsAreReleasedWhenLuaCollectsThem() throws {
        let state = try makeState()
        let before = Tracked.live
        state.run("local a = t.track(1); local b = t.track(2); keep = t.track(3)")
        state.run("collectgarbage(); collectgarbage()")
        XCTAssertEqual(Tracked.live, before + 1, "only the object still referenced lives")
        state.run("keep = nil; collectgarbage(); collectgarbage()")
        XCTAssertEqual(Tracked.live, before)
        // Closing a state releases what it still holds.
        do {
            let other = try makeState()
            other.run("held = {t.track(1), t.track(2)}")
            XCTAssertEqual(Tracked.live, before + 2)
        }
        XCTAssertEqual(Tracked.live, before)
        // <close> releases at once.
        let r = state.run("local x <close> = t.track(5); return x:get()")
        XCTAssertTrue(same(r[0], .integer(5)))
        XCTAssertEqual(Tracked.live, before)
    }

    func testMethodsPropertiesToStringAndEquality() throws {
        let state = try makeState()
        let r = state.run("""
            local a = t.track(1)
            local b = a:add(4)
            local c = t.track(5)
            a.value = a.value + 1
            return rawequal(a, b), a == c, tostring(a), a.value, a:get(), a.nosuch
            """)
        XCTAssertTrue(same(.table(LuaTable(array: r)), .table(LuaTable(array: [
            .boolean(true), .boolean(false), .string("Tracked(6)"), .integer(6), .integer(6), .nil]))))
        XCTAssertTrue(same(state.run("return t.track(5) == t.track(5)")[0], .boolean(true)))
        XCTAssertEqual(state.failure("t.track(1).nosuch = 3").split(separator: "\n")[0], "(swift):1: t.Tracked has no field 'nosuch' to set")
        XCTAssertTrue(state.failure("local o = t.track(1); o.get()").contains("calling 'get' on bad self"))
        XCTAssertTrue(state.failure("local o = t.track(1); o:add('x')").contains("bad argument #1 to 'add' (integer expected, got string)"))
        XCTAssertTrue(state.failure("t.shape('s').name = 'x'").contains("t.Shape.name is read-only"))
    }

    func testInheritance() throws {
        let state = try makeState()
        let r = state.run("""
            local s = t.square(3)
            return s:area(), s.name, s.side, tostring(s), t.area(s), t.area(t.shape('blob'))
            """)
        XCTAssertTrue(same(.table(LuaTable(array: r)), .table(LuaTable(array: [
            .number(9), .string("square"), .number(3), .string("Shape(square)"), .number(9), .number(0)]))))
        XCTAssertTrue(state.failure("t.area(t.track(1))").contains("bad argument #1 to 't.area' (t.Shape expected, got t.Tracked)"))
        XCTAssertEqual(state.registry.classes["t.Square"]?.allMethods.keys.sorted(), ["area"])
    }

    func testSameObjectIsSameLuaValue() throws {
        let state = try makeState()
        let tracked = Tracked(9)
        try state.setGlobal("x", .object(tracked))
        try state.setGlobal("y", .object(tracked))
        XCTAssertTrue(same(state.run("return rawequal(x, y)")[0], .boolean(true)))
        let back = try state.global("x")
        guard case .object(let o) = back else { return XCTFail("not an object") }
        XCTAssertTrue(o === tracked)
    }

    func testUnregisteredObjectsAreAnError() throws {
        let state = try makeState()
        final class Stranger {}
        XCTAssertThrowsError(try state.setGlobal("s", .object(Stranger()))) { error in
            XCTAssertTrue("\(error)".contains("no Lua class is registered for Swift type"))
        }
    }

    func testHelpReadsTheRegistry() throws {
        let state = try makeState()
        XCTAssertEqual(state.helpText(named: "t.div"), "t.div(a, b) -> number\n  Divides.\n  parameters:\n    a: number\n    b: number")
        XCTAssertEqual(state.helpText(named: "t.Tracked:add"), "t.Tracked:add(n) -> Tracked\n  Adds n; returns self.\n  parameters:\n    n: integer")
        XCTAssertEqual(state.helpText(named: "t.Square")?.split(separator: "\n").first, "class t.Square (inherits t.Shape)")
        // Operators are documented, inherited ones included (and they work on the subclass).
        XCTAssertTrue(state.helpText(named: "t.Tracked")?.hasSuffix("  operators:\n    __eq  a == b\n    __tostring  tostring(obj)") == true)
        XCTAssertTrue(state.helpText(named: "t.Square")?.hasSuffix("  operators:\n    __tostring  tostring(obj)") == true)
        XCTAssertNil(state.helpText(named: "t.nothing"))
        // By value: a method fetched from an object is the registered function.
        state.run("m = t.track(1).add")
        lua_getglobal(state.L, "m")
        XCTAssertTrue(state.helpText(at: -1, name: "m").hasPrefix("t.Tracked:add(n) -> Tracked"))
        lh_pop(state.L, 1)
    }

    func testRegistryDocumentsEverything() throws {
        let state = try makeState()
        for (name, f) in state.registry.functions {
            XCTAssertFalse(f.doc.isEmpty, "\(name) has no doc")
        }
        XCTAssertEqual(state.registry.modules["t"]?.members.count, 8)
    }
}
