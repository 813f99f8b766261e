import Foundation
import Support
import TestFixtures
import XCTest
@testable import Notebook

/// The `-- %%` format: what a file means (cells, kinds, titles, metadata, Markdown), and that
/// reading then writing — directly, or through .ipynb — gives back the same bytes.
final class PercentFormatTests: XCTestCase {
    let tutorialShape = """
    -- %% [markdown]
    -- # Datasets
    --
    -- Register the *demo* creatives.

    -- %% Parameters tags=["parameters"]
    out = "out/tutorials"
    n = 3

    -- %% Register
    local d2 = require "detectron2"
    d2.data.datasets.register_coco_instances("demo_train", {}, out .. "/a.json", out)

    -- %%
    n * 2

    """

    func parse(_ text: String) throws -> Notebook { try PercentFormat.parse(text, path: "nb.lua") }

    /// .lua → notebook → .lua, and .lua → .ipynb text → notebook → .lua.
    func assertRoundTrips(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let nb = try parse(text)
        XCTAssertEqual(PercentFormat.render(nb), text, "direct", file: file, line: line)
        let json = IPYNB.text(nb)
        let back = try IPYNB.notebook(try JSON.parse(Array(json.utf8)), path: "nb.ipynb")
        XCTAssertEqual(PercentFormat.render(back), text, "through .ipynb", file: file, line: line)
    }

    func testCellsOfATutorial() throws {
        let nb = try parse(tutorialShape)
        XCTAssertEqual(nb.cells.map(\.kind), [.markdown, .code, .code, .code])
        XCTAssertEqual(nb.cells[0].source, "# Datasets\n\nRegister the *demo* creatives.")
        XCTAssertEqual(nb.cells[1].title, "Parameters")
        XCTAssertEqual(nb.cells[1].tags, ["parameters"])
        XCTAssertEqual(nb.cells[1].source, "out = \"out/tutorials\"\nn = 3")
        XCTAssertEqual(nb.cells[2].title, "Register")
        XCTAssertEqual(nb.cells[3].source, "n * 2")
        XCTAssertEqual(nb.cells.map(\.id), ["cell-1", "cell-2", "cell-3", "cell-4"])
        // The canonical layout needs no layout hints in the metadata.
        for c in nb.cells { XCTAssertNil(c.metadata.value("lunette")); XCTAssertNil(c.metadata.value("lines_to_next_cell")) }
        XCTAssertTrue(nb.metadata.isEmpty)
        try assertRoundTrips(tutorialShape)
    }

    func testLayoutsThatAreNotCanonicalComeBackExactly() throws {
        let texts = [
            "",
            "\n",
            "print(1)",                                   // no marker, no final newline
            "print(1)\nprint(2)\n",                       // no marker: one cell
            "local x = 1\n\n-- %%\nx\n",                  // code before the first marker
            "\n\n-- %%\nx\n",                             // blank lines before the first marker
            "-- %%\na\n\n\n\n-- %%\nb\n\n",              // three blank lines, then trailing ones
            "-- %%\na\n-- %%\nb\n",                       // no blank line between cells
            "-- %%  Two  spaces   [markdown]\n--x\n--\n\n-- still markdown\n",   // spacing, "--x", blank inside
            "-- %% [md]\n-- a\n",                         // jupytext's short type name
            "-- %% tags=[\"a\", \"b\"]  key=1 [raw]\n-- raw text\n",
            "-- ---\n-- jupyter:\n--   kernelspec:\n--     name: lunette\n-- ---\n\n-- %%\nx = 1\n",   // jupytext's header
            "-- ---\n-- jupyter: {}\n-- ---\n-- %%\nx = 1\n",                                          // header, no blank line
            "-- ---\n-- jupyter: {}\n-- ---\n",                                                       // a header only
            "-- %%\r\nx = 1\r\n",                        // CR LF kept as it is
            "-- %%\r\nx = 1\n-- %%\r\n",                  // mixed line endings
            "-- %%\r\na\r\n\r\n-- %% [markdown]\r\n-- b",   // CR LF, no final newline
            "-- %%\n  \n-- %%\n\t\n",                     // whitespace-only lines are content
            "-- %% é 日本 😀\nprint('ü')\n",
            "-- %%\n-- %%\n-- %%\n",                      // empty cells
            "-- %%%\nnot a marker above\n",               // "-- %%%" is not a marker
        ]
        for t in texts { try assertRoundTrips(t) }
    }

    func testRandomNotebooksComeBackExactly() throws {
        // Lines drawn from what notebooks hold, markers and near-markers included.
        let pieces = ["-- %%", "-- %% Title", "-- %% [markdown]", "-- %% tags=[\"parameters\"]", "-- %% [raw] k=\"v\"",
                      "-- text", "--", "--x", "", " ", "x = 1", "print(\"a\")", "local t = {", "}", "-- ---", "-- %%%",
                      "é", "\t-- %% indented", "end", "return 1"]
        var g = SplitMix(seed: 16)
        for _ in 0..<400 {
            var lines: [String] = []
            for _ in 0..<g.int(12) { lines.append(pieces[g.int(pieces.count)]) }
            var text = lines.joined(separator: "\n")
            if g.int(4) != 0 && !text.isEmpty { text += "\n" }
            try assertRoundTrips(text)
        }
    }

    func testCRLFFilesAreReadAsLines() throws {
        let nb = try parse("-- %% One\r\nx = 1\r\n\r\n-- %% [markdown]\r\n-- text\r\n")
        XCTAssertEqual(nb.cells.map(\.kind), [.code, .markdown])
        XCTAssertEqual(nb.cells[0].title, "One")
        XCTAssertEqual(nb.cells[0].source, "x = 1")
        XCTAssertEqual(nb.cells[1].source, "text")
        let mixed = try parse("-- %%\r\nx = 1\n-- %%\ny\n")
        XCTAssertEqual(mixed.cells.count, 2)
    }

    func testMarkers() throws {
        var m = try PercentFormat.parseMarker(" Train the model [markdown] tags=[\"x\"] order=2", path: "nb.lua", line: 1)
        XCTAssertEqual(m.title, "Train the model")
        XCTAssertEqual(m.kind, .markdown)
        XCTAssertEqual(JSONValue.object(m.metadata), .object([("tags", .array([.string("x")])), ("order", .int(2))]))
        m = try PercentFormat.parseMarker(" key=\"a b\" flag=true", path: "nb.lua", line: 1)
        XCTAssertNil(m.title)
        XCTAssertEqual(JSONValue.object(m.metadata), .object([("key", .string("a b")), ("flag", .bool(true))]))
        XCTAssertTrue(PercentFormat.isMarker("-- %%"))
        XCTAssertTrue(PercentFormat.isMarker("-- %% x"))
        XCTAssertFalse(PercentFormat.isMarker("-- %%x"))
        XCTAssertFalse(PercentFormat.isMarker(" -- %%"))
        XCTAssertFalse(PercentFormat.isMarker("--%%"))
    }

    func testBadMarkersNameTheLine() {
        let cases: [(String, String)] = [
            ("x = 1\n\n-- %% [markdown\n-- a\n", "nb.lua:3: the cell marker's `[` is not closed"),
            ("-- %% tags=[\"parameters\"\n", "nb.lua:1: the cell marker has a `[` that is not closed"),
            ("-- %%\n\n-- %% title=\"open\n", "nb.lua:3: the cell marker has a string that is not closed"),
            ("-- %% tags=[parameters]\n", "nb.lua:1: the value of `tags` is not JSON"),
            ("-- %% [python]\n", "nb.lua:1: `[python]` is not a cell type (markdown, md or raw)"),
            ("-- %% k=}\n", "nb.lua:1: the cell marker has an unmatched `}`"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try parse(text), message) { e in
                XCTAssertTrue("\(e)".hasPrefix(message), "\(e)")
            }
        }
    }

    func testEditedCellsAreWrittenCanonically() throws {
        var nb = try parse("-- %%  odd   spacing\nx = 1\n\n-- %%\ny = 2\n")
        XCTAssertNotNil(nb.cells[0].metadata.value("lunette"))
        nb.cells[0].source = "x = 10"     // an edit: the kept text no longer holds
        XCTAssertEqual(PercentFormat.render(nb), "-- %% odd spacing\nx = 10\n\n-- %%\ny = 2\n")
    }

    /// What Jupyter allows and a marker line could misread: titles with brackets, quotes or `=`,
    /// Markdown lines that start with %%; and keys this model does not hold (attachments).
    func testJupyterNotebooksThatAMarkerCouldMisread() throws {
        var nb = Notebook(cells: [
            Cell(kind: .code, source: "x = 1", metadata: [("title", .string("Results [draft]"))]),
            Cell(kind: .code, source: "y = 2", metadata: [("title", .string("a=1 \"q"))]),
            Cell(kind: .markdown, source: "%% not a marker\n-- %% nor this"),
        ])
        nb.cells[2].extra = [("attachments", .object([("a.png", .object([("image/png", .string("iVBOR"))]))]))]
        nb.assignIDs()
        let text = PercentFormat.render(nb)
        let back = try parse(text)
        XCTAssertEqual(back.cells.map(\.title), ["Results [draft]", "a=1 \"q", nil])
        XCTAssertEqual(back.cells.map(\.source), ["x = 1", "y = 2", "%% not a marker\n-- %% nor this"])
        XCTAssertEqual(back.cells.map(\.kind), [.code, .code, .markdown])
        let json = try JSON.parse(Array(IPYNB.text(nb).utf8))
        XCTAssertNotNil(json["cells"]?.array?[2]["attachments"]?["a.png"])
        XCTAssertNotNil(try IPYNB.notebook(json, path: "x.ipynb").cells[2].extra.value("attachments"))
    }

    func testNotebooksFromJupyterAreWrittenAsMarkers() throws {
        var nb = Notebook(cells: [
            Cell(kind: .markdown, source: "# Title\n\nText"),
            Cell(kind: .code, source: "x = 1\nx\n", metadata: [("tags", .array([.string("parameters")])), ("scrolled", .bool(true))]),
            Cell(kind: .code, source: "", metadata: [("title", .string("Empty"))]),
        ])
        nb.assignIDs()
        XCTAssertEqual(PercentFormat.render(nb), "-- %% [markdown]\n-- # Title\n--\n-- Text\n\n-- %% tags=[\"parameters\"]\nx = 1\nx\n\n-- %% Empty\n")
    }
}
