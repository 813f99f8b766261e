import CLua
import XCTest
@testable import LuaHost

final class PrettyTests: XCTestCase {
    func render(_ code: String, width: Int = 80, items: Int = 40, depth: Int = 4) throws -> String {
        let state = try LuaState()
        let f = try state.load("return " + code, name: "=test")
        f.push(state.L)
        XCTAssertEqual(lh_pcall(state.L, 0, 1), LUA_OK)
        var printer = PrettyPrinter(color: false, width: width)
        printer.maxItems = items
        printer.maxDepth = depth
        let s = printer.render(state, at: -1)
        lh_pop(state.L, 1)
        XCTAssertEqual(lua_gettop(state.L), 0)
        return s
    }

    func testScalarsAndStrings() throws {
        XCTAssertEqual(try render("42"), "42")
        XCTAssertEqual(try render("1.5"), "1.5")
        XCTAssertEqual(try render("2^53"), "9.007199254741e+15")
        XCTAssertEqual(try render("'a\"b\\n'"), "\"a\\\"b\\n\"")
        XCTAssertEqual(try render("nil"), "nil")
    }

    func testTablesSortKeysAndFitOnOneLine() throws {
        XCTAssertEqual(try render("{}"), "{}")
        XCTAssertEqual(try render("{3, 1, 2}"), "{ 3, 1, 2 }")
        XCTAssertEqual(try render("{b = 1, a = 2, [10] = 'x', ['not id'] = true, 'first'}"),
                       "{ \"first\", [10] = \"x\", a = 2, b = 1, [\"not id\"] = true }")
    }

    func testWideTablesBreakIntoLines() throws {
        XCTAssertEqual(try render("{alpha = 'aaaaaaaaaa', beta = 'bbbbbbbbbb', gamma = {1, 2}}", width: 30),
                       "{\n  alpha = \"aaaaaaaaaa\",\n  beta = \"bbbbbbbbbb\",\n  gamma = { 1, 2 }\n}")
    }

    func testCyclesDepthAndItemLimits() throws {
        let cyc = try render("(function() local t = {name = 'root'}; t.self = t; return t end)()")
        XCTAssertTrue(cyc.hasPrefix("{ name = \"root\", self = <cycle: table: 0x"), cyc)
        XCTAssertEqual(try render("{{{{1}}}}", depth: 2), "{ { {...} (1 item) } }")
        XCTAssertEqual(try render("{1, 2, 3, 4, 5, x = 1}", items: 3), "{ 1, 2, 3, ... (3 more) }")
    }

    func testToStringMetamethodsAreUsedAndProtected() throws {
        XCTAssertEqual(try render("setmetatable({}, {__tostring = function() return 'custom' end})"), "custom")
        let failing = try render("setmetatable({}, {__tostring = function() error('bad', 0) end})")
        XCTAssertEqual(failing, "<__tostring failed: bad>")
    }
}
