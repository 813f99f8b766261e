import XCTest
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
