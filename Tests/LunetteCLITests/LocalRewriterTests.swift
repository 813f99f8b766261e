import XCTest
import CLua
@testable import Lunette

final class LocalRewriterTests: XCTestCase {
    func testTopLevelLocalsBecomeSessionVariables() {
        XCTAssertEqual(LocalRewriter.rewrite("local x = 1"), "x = 1")
        XCTAssertEqual(LocalRewriter.rewrite("local a, b = 1, 2"), "a, b = 1, 2")
        XCTAssertEqual(LocalRewriter.rewrite("local a"), "a = nil")
        XCTAssertEqual(LocalRewriter.rewrite("local k <const> = 5"), "k  = 5")
        XCTAssertEqual(LocalRewriter.rewrite("local function f() return 1 end"), "function f() return 1 end")
        XCTAssertEqual(LocalRewriter.rewrite("local x = 1; local y = x"), "x = 1; y = x")
    }

    func testNestedLocalsStringsAndCommentsAreLeftAlone() {
        let nested = "function g() local inner = 1 return inner end"
        XCTAssertEqual(LocalRewriter.rewrite(nested), nested)
        let loop = "for i = 1, 3 do local s = i end"
        XCTAssertEqual(LocalRewriter.rewrite(loop), loop)
        let text = "print('local x = 1') -- local y = 2\nprint([[local z]])"
        XCTAssertEqual(LocalRewriter.rewrite(text), text)
        XCTAssertEqual(LocalRewriter.rewrite("if c then local q = 1 end local r = 2"), "if c then local q = 1 end r = 2")
        XCTAssertEqual(LocalRewriter.rewrite("repeat local u = 1 until u local w = 3"), "repeat local u = 1 until u w = 3")
        let closing = "local f <close> = io.open('x')"
        XCTAssertEqual(LocalRewriter.rewrite(closing), closing)
    }
}

/// The REPL in-process: each entry leaves the Lua stack as it found it (compiling to decide
/// between expression and statement must not leave functions behind).
final class REPLStackTests: XCTestCase {
    func testEntriesKeepTheStackBalanced() throws {
        let repl = REPL(session: try Session(scriptDirectory: nil))
        let before = lua_gettop(repl.L)
        for entry in ["x = 1", "x + 1", "local y = 5", "y * 2;", "return 7, 8", "error('boom')", ")", "?print"] {
            _ = repl.isIncomplete(entry)
            repl.evaluate(entry)
            XCTAssertEqual(lua_gettop(repl.L), before, entry)
        }
        XCTAssertTrue(repl.isIncomplete("for i = 1, 2 do"))
        XCTAssertEqual(lua_gettop(repl.L), before)
    }
}
