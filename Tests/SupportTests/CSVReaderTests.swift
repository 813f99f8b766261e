import Foundation
import XCTest
@testable import Support
import TestFixtures

final class CSVReaderTests: XCTestCase {
    func parse(_ text: String, _ source: String = "t.csv") throws -> CSVTable { try CSVReader.parse(text, source: source) }

    func message(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    /// Fields made of the characters that need care: commas, quotes, CR, LF, CR LF (one Character
    /// to Swift, which CSVWriter once left unquoted), spaces, non-ASCII.
    func randomField(_ g: inout SplitMix) -> String {
        let alphabet: [String] = ["a", "b", "Z", "0", "7", ",", "\"", "\n", "\r", "\r\n", " ", "é", "日", "😀", "\t", "''"]
        var field = ""
        for _ in 0..<Int(g.next() % 8) {
            let piece = alphabet[Int(g.next() % UInt64(alphabet.count))]
            field += piece
        }
        return field
    }

    func testRoundTripWithCSVWriter() throws {
        var g = SplitMix(seed: 42)
        for trial in 0..<200 {
            let columns = 2 + Int(g.next() % 5)
            let header = (0..<columns).map { "col\($0)" + (g.next() % 4 == 0 ? ", \"x\"" : "") }
            var w = CSVWriter(header: header)
            var rows: [[String]] = []
            for _ in 0..<Int(g.next() % 20) {
                let r = (0..<columns).map { _ in randomField(&g) }
                rows.append(r)
                w.append(r)
            }
            let t = try parse(w.text)
            XCTAssertEqual(t.header, header, "trial \(trial)")
            XCTAssertEqual(t.rows.map(\.fields), rows, "trial \(trial)\n\(w.text)")
            // Each row starts on the line after the previous record's last line.
            var line = 2
            for (k, r) in t.rows.enumerated() {
                XCTAssertEqual(r.line, line, "trial \(trial) row \(k)")
                let text = rows[k].joined(separator: ",")
                line += text.reduce(0) { $0 + ($1 == "\n" || $1 == "\r" || $1 == "\r\n" ? 1 : 0) } + 1
            }
        }
    }

    func testQuotesLineEndsAndBOM() throws {
        let t = try parse("\u{FEFF}name,note\r\n\"a, b\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",x\nplain,\"\"\rlast,end")
        XCTAssertEqual(t.header, ["name", "note"])
        XCTAssertEqual(t.headerLine, 1)
        XCTAssertEqual(t.rows.map(\.fields), [["a, b", "say \"hi\""], ["two\nlines", "x"], ["plain", ""], ["last", "end"]])
        XCTAssertEqual(t.rows.map(\.line), [2, 3, 5, 6])
    }

    func testBlankLinesAreSkippedAndCounted() throws {
        let t = try parse("\n\na,b\n\n1,2\r\n\r\n3,4\n\n")
        XCTAssertEqual(t.header, ["a", "b"])
        XCTAssertEqual(t.headerLine, 3)
        XCTAssertEqual(t.rows.map(\.fields), [["1", "2"], ["3", "4"]])
        XCTAssertEqual(t.rows.map(\.line), [5, 7])
    }

    func testEmptyFieldsAndTrailingCommas() throws {
        let t = try parse("a,b,c\n,,\n1,,\n,2,")
        XCTAssertEqual(t.rows.map(\.fields), [["", "", ""], ["1", "", ""], ["", "2", ""]])
        XCTAssertEqual(try parse("a,b\n1,").rows.map(\.fields), [["1", ""]])
    }

    func testAQuoteInsideAnUnquotedFieldIsKept() throws {
        XCTAssertEqual(try parse("a,b\n12\" screen,x\n").rows[0].fields, ["12\" screen", "x"])
    }

    func testHeaderOnlyAndColumns() throws {
        let t = try parse("creative_id,date,spend,date\n")
        XCTAssertTrue(t.rows.isEmpty)
        XCTAssertEqual(t.column("date"), 1)
        XCTAssertEqual(t.columns(named: "date"), [1, 3])
        XCTAssertNil(t.column("impressions"))
    }

    func testErrorsNameTheFileAndTheLine() {
        XCTAssertEqual(message { try self.parse("a,b,c\n1,2,3\n1,2\n", "d.csv") }, "d.csv line 3: 2 fields, but the header (line 1) has 3")
        XCTAssertEqual(message { try self.parse("a,b\n1,2,3\n", "d.csv") },
                       "d.csv line 2: 3 fields, but the header (line 1) has 2 (a value holding a comma must be in double quotes)")
        XCTAssertEqual(message { try self.parse("a,b\n1,2\n3,\"open\n4,5\n6,7\n", "d.csv") }, "d.csv line 3: field 2 opens a double quote that is never closed")
        XCTAssertEqual(message { try self.parse("a,b\n\"x\"y,2\n", "d.csv") },
                       "d.csv line 2: field 1 has text ('y') after its closing quote; inside a quoted field a quote is written twice (\"\")")
        XCTAssertEqual(message { try self.parse("", "d.csv") }, "d.csv is empty: it has no header line")
        XCTAssertEqual(message { try self.parse("\u{FEFF}\n\n", "d.csv") }, "d.csv is empty: it has no header line")
        let bad: [UInt8] = Array("a,b\n1,T".utf8) + [0xE9] + Array("l\n".utf8)
        XCTAssertEqual(message { try bad.withUnsafeBytes { try CSVReader.parse($0, source: "d.csv") } }, "d.csv line 2: field 2 is not valid UTF-8 text")
        do {
            _ = try parse("a\n\"x", "d.csv")
            XCTFail("no error")
        } catch let e as CSVError {
            XCTAssertEqual(e.line, 2)
            XCTAssertEqual(e.source, "d.csv")
        } catch {
            XCTFail("\(error)")
        }
    }

    func testReadsAFile() throws {
        let path = NSTemporaryDirectory() + "lunette-csv-\(getpid())-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try AtomicFile.write("x,y\n\"1,5\",2\n", to: path)
        let t = try CSVReader.read(path)
        XCTAssertEqual(t.source, path)
        XCTAssertEqual(t.rows[0].fields, ["1,5", "2"])
        XCTAssertTrue(message { try CSVReader.read(path + ".missing") }.contains(path + ".missing"))
    }

    func testLargeInputIsQuick() throws {
        var text = "creative_id,date,channel,impressions,spend\n"
        for i in 0..<200_000 { text += "ad\(i % 977),2024-01-\(10 + i % 20),\"Meta, Ads\",\(i),\(i % 100).25\n" }
        let start = Date()
        let t = try parse(text)
        XCTAssertEqual(t.rows.count, 200_000)
        XCTAssertEqual(t.rows[199_999].fields[2], "Meta, Ads")
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }
}
