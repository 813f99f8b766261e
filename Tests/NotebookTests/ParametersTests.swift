import Foundation
import Support
import XCTest
@testable import Notebook

/// papermill's parameters in Lua, the .ipynb layout, and the HTML page.
final class ParametersTests: XCTestCase {
    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    func testValuesAreTypedAsPapermillTypesThem() throws {
        let cases: [(String, JSONValue)] = [
            ("True", .bool(true)), ("false", .bool(false)), ("None", .null), ("nil", .null),
            ("3", .int(3)), ("-12", .int(-12)), ("0.5", .double(0.5)), ("1e-3", .double(0.001)), (".5", .double(0.5)),
            ("brandA", .string("brandA")), ("", .string("")), ("inf", .string("inf")), ("1.2.3", .string("1.2.3")),
            ("3 apples", .string("3 apples")), ("[1, 2]", .array([.int(1), .int(2)])),
            ("[logo, product]", .array([.string("logo"), .string("product")])),
            ("{a: 1}", .object([("a", .int(1))])),
        ]
        for (raw, want) in cases { XCTAssertEqual(try Parameters.typed(raw, name: "p"), want, raw) }
    }

    func testValuesThatDoNotParseAreRefused() {
        XCTAssertTrue(message { try Parameters.typed("[1, 2", name: "classes") }.hasPrefix("-p classes: [1, 2 does not parse as a list"))
        XCTAssertTrue(message { try Parameters.typed("{a: 1", name: "m") }.contains("does not parse as a table"))
        XCTAssertTrue(message { try Parameters.typed("99999999999999999999", name: "n") }.contains("-p n: 99999999999999999999 is an integer too large for Lua"))
        XCTAssertTrue(message { try Parameters.typed("1e999", name: "x") }.contains("-p x: 1e999 is not a finite number"))
        XCTAssertTrue(message { try Parameters.checkName("2x", from: "-p") }.contains("\"2x\" cannot be a parameter"))
        XCTAssertTrue(message { try Parameters.checkName("end", from: "-p") }.contains("not a keyword"))
    }

    func testLuaLiterals() {
        XCTAssertEqual(Parameters.lua(.string("a \"b\"\n\\")), "\"a \\\"b\\\"\\n\\\\\"")
        XCTAssertEqual(Parameters.lua(.string("\u{1}2\u{0}")), "\"\\0012\\000\"")     // a digit after an escape stays a digit
        XCTAssertEqual(Parameters.lua(.int(3)), "3")
        XCTAssertEqual(Parameters.lua(.double(2)), "2.0")
        XCTAssertEqual(Parameters.lua(.double(0.25)), "0.25")
        XCTAssertEqual(Parameters.lua(.null), "nil")
        XCTAssertEqual(Parameters.lua(.array([.bool(true), .string("x")])), "{true, \"x\"}")
        XCTAssertEqual(Parameters.lua(.object([("a", .int(1)), ("b c", .int(2))])), "{a = 1, [\"b c\"] = 2}")
    }

    func testNamesOfAParametersCell() {
        let source = "brand = \"demo\"\nlocal object = \"logo\" -- what to detect\nw, h = 1, 2\n  indented = 1\nif x == 1 then end\nlocal k <const> = 3"
        XCTAssertEqual(Parameters.names(in: source), ["brand", "object", "w", "h", "k"])
    }

    func testInjectionAfterTheParametersCellWithWarnings() throws {
        var nb = try PercentFormat.parse("-- %%\nprint(1)\n\n-- %% tags=[\"parameters\"]\nbrand = \"demo\"\n\n-- %%\nprint(brand)\n", path: "nb.lua")
        let warnings = Parameters.inject([("brand", .string("brandA")), ("iters", .int(20))], into: &nb)
        XCTAssertEqual(warnings, ["passed unknown parameter: iters (the parameters cell defines brand)"])
        XCTAssertEqual(nb.cells.count, 4)
        XCTAssertEqual(nb.cells[2].tags, ["injected-parameters"])
        XCTAssertEqual(nb.cells[2].source, "-- Parameters\nbrand = \"brandA\"\niters = 20")
        // Run again on the output notebook: the old injected cell is replaced, not kept.
        Parameters.inject([("brand", .string("brandB"))], into: &nb)
        XCTAssertEqual(nb.cells.filter { $0.tags.contains("injected-parameters") }.map(\.source), ["-- Parameters\nbrand = \"brandB\""])
        XCTAssertEqual(Set(nb.cells.map(\.id)).count, nb.cells.count)
        // Without a parameters cell, the values come first, with a warning.
        var plain = try PercentFormat.parse("-- %%\nprint(x)\n", path: "nb.lua")
        XCTAssertEqual(Parameters.inject([("x", .int(1))], into: &plain).count, 1)
        XCTAssertEqual(plain.cells[0].tags, ["injected-parameters"])
    }

    func testParametersFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nbparams-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "brand: brandA\niters: 20\nclasses: [logo, product]\n".write(toFile: dir + "/p.yaml", atomically: true, encoding: .utf8)
        let values = try Parameters.file(dir + "/p.yaml")
        XCTAssertEqual(JSONValue.object(values), .object([("brand", .string("brandA")), ("iters", .int(20)), ("classes", .array([.string("logo"), .string("product")]))]))   // the file's order
        try "- a\n- b\n".write(toFile: dir + "/list.yaml", atomically: true, encoding: .utf8)
        XCTAssertTrue(message { try Parameters.file(dir + "/list.yaml") }.contains("list.yaml: a parameters file is a mapping of names to values"))
        try "a: [1, 2\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        XCTAssertTrue(message { try Parameters.file(dir + "/bad.yaml") }.contains("bad.yaml: not valid YAML"))
        try "2x: 1\n".write(toFile: dir + "/name.yaml", atomically: true, encoding: .utf8)
        XCTAssertTrue(message { try Parameters.file(dir + "/name.yaml") }.contains("\"2x\" cannot be a parameter"))
        XCTAssertTrue(message { try Parameters.file(dir + "/none.yaml") }.contains("none.yaml"))
    }

    func testIPYNBLayout() throws {
        var nb = try PercentFormat.parse("-- %% [markdown]\n-- # T\n\n-- %%\nx = 1\nx\n", path: "nb.lua")
        nb.cells[1].executionCount = 1
        nb.cells[1].outputs = [.stream(name: "stdout", text: "a\nb\n"), .executeResult(count: 1, data: [("text/plain", .string("1"))], metadata: []),
                               .error(name: "LuaError", value: "boom", traceback: ["boom", "stack traceback:"])]
        let text = IPYNB.text(nb)
        XCTAssertTrue(text.hasPrefix("{\n \"cells\": [\n  {\n   \"cell_type\": \"markdown\",\n"), text)
        let json = try JSON.parse(Array(text.utf8))
        XCTAssertEqual(json["nbformat"], .int(4))
        XCTAssertEqual(json["nbformat_minor"], .int(5))
        XCTAssertEqual(json["metadata"]?["kernelspec"]?["name"], .string("lunette"))
        XCTAssertEqual(json["metadata"]?["language_info"]?["name"], .string("lua"))
        let code = json["cells"]!.array![1]
        XCTAssertEqual(code["source"], .array([.string("x = 1\n"), .string("x")]))
        XCTAssertEqual(code["outputs"]!.array![0]["text"], .array([.string("a\n"), .string("b\n")]))
        XCTAssertEqual(code["outputs"]!.array![2]["ename"], .string("LuaError"))
        XCTAssertNil(json["cells"]!.array![0]["outputs"])        // Markdown cells have none
        let back = try IPYNB.notebook(json, path: "x.ipynb")
        XCTAssertEqual(back.cells[1].executionCount, 1)
        XCTAssertEqual(back.cells[1].outputs.count, 3)
    }

    func testBadNotebookFilesAreNamed() throws {
        func read(_ json: String) -> String { message { try IPYNB.notebook(try JSON.parse(Array(json.utf8)), path: "x.ipynb") } }
        XCTAssertTrue(read("[]").contains("x.ipynb: not a notebook: the JSON is a array"))
        XCTAssertTrue(read("{\"nbformat\": 3, \"cells\": []}").contains("x.ipynb: nbformat 3 notebooks are not read"))
        XCTAssertTrue(read("{\"nbformat\": 4}").contains("no \"cells\" list"))
        XCTAssertTrue(read("{\"nbformat\": 4, \"cells\": [{\"cell_type\": \"python\"}]}").contains("x.ipynb: cell 1: cell_type \"python\""))
        XCTAssertTrue(read("{\"nbformat\": 4, \"cells\": [{\"cell_type\": \"code\", \"source\": [1]}]}").contains("cell 1's source holds a number"))
        XCTAssertTrue(message { try IPYNB.read("/nonexistent/x.ipynb") }.contains("/nonexistent/x.ipynb"))
    }

    func testHTMLPage() throws {
        var nb = try PercentFormat.parse("-- %% [markdown]\n-- # Title <script>x</script>\n--\n-- *em*\n\n-- %%\nif a < b then print(\"&\") end\n", path: "nb.lua")
        nb.cells[1].executionCount = 1
        nb.cells[1].outputs = [.stream(name: "stderr", text: "\u{1B}[31mred\u{1B}[0m\n"),
                               .displayData(data: [("text/plain", .string("Figure")), ("image/png", .string("iVBORw0KGgo="))], metadata: [])]
        let html = HTMLPage.render(nb, title: "nb.lua")
        XCTAssertTrue(html.contains("<h1>Title"), html)
        XCTAssertTrue(html.contains("<em>em</em>"))
        XCTAssertFalse(html.contains("<script>"))                       // raw HTML in Markdown is left out
        XCTAssertTrue(html.contains("if a &lt; b then print(&quot;&amp;&quot;) end"))
        XCTAssertTrue(html.contains("<pre class=\"stderr\">red\n</pre>"))   // colour codes stripped
        XCTAssertTrue(html.contains("<img src=\"data:image/png;base64,iVBORw0KGgo=\""))
        XCTAssertTrue(html.contains("In [1]:"))
    }
}
