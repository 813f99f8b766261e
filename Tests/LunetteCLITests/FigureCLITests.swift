import Foundation
import XCTest

/// Figures from Lua: every chart function gives a Figure that saves as PNG, SVG or PDF, turns
/// into a cv.Image, and is taken where images are.
final class FigureCLITests: XCTestCase {
    func testChartsAreFiguresInEveryFormat() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = """
            local d2, cv = require "detectron2", require "cv"
            local ev = d2.evaluation
            local h = ev.plot_heatmap{ rows = {300, 500}, cols = {256, 512}, values = {{0.8, 0.9}, {0.85, 0/0}}, title = "Nestlé café", bar_label = "accuracy" }
            print(tostring(h):match("^Figure%(%d+ x %d+%)$") ~= nil, h.width > 100, h.height > 100)
            h:save("\(dir)/h.png"); h:save("\(dir)/h.svg"); h:save("\(dir)/h.pdf"); h:save("\(dir)/h2.png", 2)
            local img = h:image()
            print(img.width == h.width, img.height == h.height)
            cv.imwrite("\(dir)/h.jpg", h)
            local canvas = cv.new_image(h.width + 10, h.height + 10); canvas:paste(h, 5, 5)
            local texts = {}
            for _, t in ipairs(h:texts()) do texts[#texts + 1] = t.text end
            table.sort(texts); print(table.concat(texts, "|"))
            print(h:svg():find(">Nestlé café<", 1, true) ~= nil)
            local c = ev.ConfusionMatrix{ rows = {"logo", "background"}, counts = {{3, 1}, {2, 0}}, title = "m" }
            c:save("\(dir)/c.svg"); c:save("\(dir)/c.csv"); print(tostring(c:image()):match("^Figure") ~= nil)
            print(tostring(ev.plot_bars{ bars = {{"logo", 40}, {"smile", nil}} }):match("^Figure") ~= nil)
            print(tostring(ev.plot_curves{ series = { a = {{0, 0}, {1, 1}} }, marks = { a = {0.5, 0.5} } }):match("^Figure") ~= nil)
            print(pcall(h.save, h, "\(dir)/h.gif"))
            print(pcall(ev.plot_curves, { series = { a = {{0, 0}} }, marks = { b = {0, 0} } }))
            print(pcall(ev.plot_heatmap, { rows = {1}, cols = {1}, values = {{1}}, panels = {} }))
            local img2 = cv.new_image(120, 40)
            img2:draw_text("Nestlé", 5, 25, { height = 14, color = {255, 255, 255} })
            local lit = 0
            for y = 0, 39 do for x = 0, 119 do if img2:pixel(x, y)[1] > 128 then lit = lit + 1 end end end
            print(lit > 20)
            """
        let r = try runLunette(["-e", script])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "true\ttrue\ttrue")
        XCTAssertEqual(lines[1], "true\ttrue")
        XCTAssertEqual(lines[2], "0.80|0.800|0.82|0.84|0.850|0.86|0.88|0.90|0.900|256|300|500|512|Nestlé café|accuracy|n/a")
        XCTAssertEqual(lines[3], "true")
        XCTAssertEqual(lines[4], "true")
        XCTAssertEqual(lines[5], "true")
        XCTAssertEqual(lines[6], "true")
        XCTAssertTrue(lines[7].hasPrefix("false") && lines[7].contains("saved as .png, .svg or .pdf, not '.gif'"), lines[7])
        XCTAssertTrue(lines[8].hasPrefix("false") && lines[8].contains("marks.b: no series has that name"), lines[8])
        XCTAssertTrue(lines[9].hasPrefix("false") && lines[9].contains("give values or panels, not both"), lines[9])
        XCTAssertEqual(lines[10], "true", "draw_text draws with Pango")
        for (name, magic) in [("h.png", [UInt8]([0x89, 0x50, 0x4E, 0x47])), ("h2.png", [0x89, 0x50, 0x4E, 0x47]), ("h.pdf", Array("%PDF".utf8)),
                              ("h.svg", Array("<?xm".utf8)), ("h.jpg", [0xFF, 0xD8, 0xFF, 0xE0]), ("c.svg", Array("<?xm".utf8))] {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)"))
            XCTAssertEqual(Array(data.prefix(4)), magic, name)
        }
        XCTAssertEqual(try String(contentsOfFile: "\(dir)/c.csv", encoding: .utf8).split(separator: "\n").first, "truth\\predicted,logo,background")
    }
}
