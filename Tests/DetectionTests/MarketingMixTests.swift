import Foundation
import XCTest
import Support
@testable import Detection

/// The marketing-mix table: a hand-made feature table (four creatives, logo and face) and a
/// delivery file (two channels, three ISO weeks with an empty one between, a Sunday and a Monday
/// at the week boundaries, one creative the feature table lacks), checked cell by cell.
final class MarketingMixTests: XCTestCase {
    var dir = ""

    override func setUp() {
        DetectionLog.shared.echo = false
        _ = DetectionLog.shared.takeWarnings()
        dir = NSTemporaryDirectory() + "lunette-mmm-\(getpid())-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    static func objectColumns(_ o: String) -> [String] {
        ["present", "count", "max_score", "area_share", "frame_share", "first_seen_s", "screen_s"].map { "\(o)_\($0)" }
    }

    /// cr1 logo; cr2 face (a path with a comma); cr3 both; cr4 neither.
    static let features = (["creative_id", "path", "kind", "width", "height", "duration_s"] + objectColumns("logo") + objectColumns("face")).joined(separator: ",") + "\n"
        + "cr1,creatives/cr1.jpg,image,1080,1080,,1,1,0.91,0.12,1,0,,0,0,,0,0,,\n"
        + "cr2,\"creatives/summer, 2.mp4\",video,1920,1080,15,0,0,,0,0,,0,1,3,0.87,0.2,0.6,1.5,9\n"
        + "cr3,creatives/cr3.png,image,800,600,,1,2,0.75,0.05,1,0,,1,1,0.66,0.1,1,0,\n"
        + "cr4,creatives/cr4.jpg,image,800,600,,0,0,,0,0,,,0,0,,0,0,,\n"

    /// Week of 2024-01-01: Monday, a Wednesday with a time, two Sundays (the 7th); nothing in the
    /// week of the 8th; week of the 15th from its Monday to its Sunday. cr9 has no feature row.
    static let delivery = """
        creative_id,date,channel,impressions,spend
        cr1,2024-01-01,Meta Ads,1000,10.5
        cr2,2024-01-03T14:30:00,Meta Ads,2000,20.25
        cr3,2024-01-07,Google,300,3
        cr4,2024-01-07 23:59:59,Meta Ads,400,4.00
        cr9,2024-01-05,Google,50,0.5
        cr1,2024-01-15,Google,600,6.1
        cr3,2024-01-16,Meta Ads,700,7
        cr2,2024-01-17,Meta Ads,5,0.05
        cr9,2024-01-21,Google,10,0.125

        """

    func files(features: String = features, delivery: String = delivery) throws -> (String, String) {
        let f = dir + "/features.csv", d = dir + "/delivery.csv"
        try AtomicFile.write(features, to: f)
        try AtomicFile.write(delivery, to: d)
        return (f, d)
    }

    func message(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    static let objectHeader = ["logo_impressions", "nologo_impressions", "logo_spend", "nologo_spend", "face_impressions", "noface_impressions", "face_spend", "noface_spend"]

    func testTheWeeklyTableCellByCell() throws {
        let (f, d) = try files()
        let r = try MarketingMix.table(features: f, delivery: d)
        XCTAssertEqual(r.header, ["week", "google_impressions", "google_spend"] + Self.objectHeader.map { "google_" + $0 }
                       + ["google_unmatched_impressions", "google_unmatched_spend", "meta_ads_impressions", "meta_ads_spend"] + Self.objectHeader.map { "meta_ads_" + $0 })
        XCTAssertEqual(r.channels, ["google", "meta_ads"])
        XCTAssertEqual(r.objects, ["logo", "face"])
        XCTAssertEqual(r.periods, 3)
        XCTAssertEqual(r.dateColumn, "week")
        let expected: [[String]] = [
            // google: total, logo/nologo, face/noface, unmatched; meta_ads: total, logo/nologo, face/noface
            ["2024-01-01", "350", "3.5", "300", "0", "3", "0", "300", "0", "3", "0", "50", "0.5",
             "3400", "34.75", "1000", "2400", "10.5", "24.25", "2000", "1400", "20.25", "14.5"],
            ["2024-01-08"] + Array(repeating: "0", count: 22),
            ["2024-01-15", "610", "6.225", "600", "0", "6.1", "0", "0", "600", "0", "6.1", "10", "0.125",
             "705", "7.05", "700", "5", "7", "0.05", "705", "0", "7.05", "0"],
        ]
        XCTAssertEqual(r.rows.count, expected.count)
        for (p, row) in expected.enumerated() {
            XCTAssertEqual(r.rows[p].count, r.header.count)
            for (c, cell) in row.enumerated() {
                XCTAssertEqual(r.rows[p][c], cell, "row \(p) (\(r.rows[p][0])), column \(r.header[c])")
            }
        }
        XCTAssertEqual(r.unmatched, [MarketingMix.Unmatched(creativeID: "cr9", impressions: 60, spend: 0.625, rows: 2)])
        let warnings = DetectionLog.shared.takeWarnings()
        XCTAssertEqual(warnings, ["WARNING [mmm] \(d): 1 creative id has no row in \(f) (60 impressions, 0.625 spend; counted in the channel totals and the <channel>_unmatched columns): cr9"])

        // Written atomically, as CSV, and read back the same.
        let out = dir + "/out/mmm.csv"
        try r.write(to: out)
        let back = try CSVReader.read(out)
        XCTAssertEqual(back.header, r.header)
        XCTAssertEqual(back.rows.map(\.fields), r.rows)
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), r.csv)
    }

    func testWithAndWithoutAddUpToTheMatchedTotal() throws {
        let (f, d) = try files()
        for period in MarketingMix.Period.allCases {
            let r = try MarketingMix.table(features: f, delivery: d, period: period)
            for row in r.rows {
                for ch in r.channels {
                    func v(_ name: String) -> Double { r.header.firstIndex(of: name).map { Double(row[$0])! } ?? 0 }
                    for kind in ["impressions", "spend"] {
                        let matched = v("\(ch)_\(kind)") - v("\(ch)_unmatched_\(kind)")
                        for o in r.objects { XCTAssertEqual(v("\(ch)_\(o)_\(kind)") + v("\(ch)_no\(o)_\(kind)"), matched, accuracy: 1e-9) }
                    }
                }
            }
        }
    }

    func testTheDailyTable() throws {
        let (f, d) = try files()
        let r = try MarketingMix.table(features: f, delivery: d, period: .day)
        XCTAssertEqual(r.header[0], "day")
        XCTAssertEqual(r.periods, 21)
        XCTAssertEqual(r.rows.first?[0], "2024-01-01")
        XCTAssertEqual(r.rows.last?[0], "2024-01-21")
        XCTAssertEqual(r.rows.map { $0[0] }, (1...21).map { String(format: "2024-01-%02d", $0) })
        // The 7th: cr3 on Google (logo and face), cr4 on Meta (neither).
        XCTAssertEqual(r.rows[6], ["2024-01-07", "300", "3", "300", "0", "3", "0", "300", "0", "3", "0", "0", "0",
                                   "400", "4", "0", "400", "0", "4", "0", "400", "0", "4"])
        // The 21st: only cr9, unmatched, on Google.
        XCTAssertEqual(r.rows[20], ["2024-01-21", "10", "0.125"] + Array(repeating: "0", count: 8) + ["10", "0.125"] + Array(repeating: "0", count: 10))
        // The days add up to the weeks.
        let weeks = try MarketingMix.table(features: f, delivery: d)
        for c in 1..<r.header.count {
            let daily = r.rows.reduce(0.0) { $0 + Double($1[c])! }, weekly = weeks.rows.reduce(0.0) { $0 + Double($1[c])! }
            XCTAssertEqual(daily, weekly, accuracy: 1e-9, r.header[c])
        }
    }

    func testPresetHeaders() throws {
        let (f, d) = try files()
        func header(_ preset: MarketingMix.Preset, _ period: MarketingMix.Period = .week) throws -> [String] {
            try MarketingMix.table(features: f, delivery: d, period: period, preset: preset, objects: ["logo"]).header
        }
        func names(_ date: String, _ i: String, _ s: String) -> [String] {
            [date] + ["google", "meta_ads"].flatMap { ch in
                ["\(ch)\(i)", "\(ch)\(s)", "\(ch)_logo\(i)", "\(ch)_nologo\(i)", "\(ch)_logo\(s)", "\(ch)_nologo\(s)"]
                    + (ch == "google" ? ["\(ch)_unmatched\(i)", "\(ch)_unmatched\(s)"] : [])
            }
        }
        XCTAssertEqual(try header(.none), names("week", "_impressions", "_spend"))
        XCTAssertEqual(try header(.none, .day), names("day", "_impressions", "_spend"))
        // Robyn's demo data (dt_simulated_weekly): DATE, facebook_I, facebook_S.
        XCTAssertEqual(try header(.robyn), names("DATE", "_I", "_S"))
        XCTAssertEqual(try header(.robyn, .day), names("DATE", "_I", "_S"))
        // Meridian's sample data: time, Channel0_impression, Channel0_spend.
        XCTAssertEqual(try header(.meridian), names("time", "_impression", "_spend"))
        // PyMC-Marketing's examples: date_week.
        XCTAssertEqual(try header(.pymc), names("date_week", "_impressions", "_spend"))
        XCTAssertEqual(try header(.pymc, .day), names("date", "_impressions", "_spend"))
        XCTAssertEqual(try MarketingMix.Preset.named("robyn"), .robyn)
        XCTAssertEqual(message { try MarketingMix.Preset.named("robin") },
                       "unknown preset 'robin'; did you mean robyn? (presets: robyn, meridian, pymc; leave it out for the plain names week, <channel>_impressions, <channel>_spend)")
        XCTAssertEqual(message { try MarketingMix.Period.named("month") }, "period must be \"week\" or \"day\", not 'month'")
    }

    func testObjectsKeepTheFeatureTablesOrder() throws {
        let (f, d) = try files()
        let r = try MarketingMix.table(features: f, delivery: d, objects: ["face", "logo"])
        XCTAssertEqual(r.objects, ["logo", "face"])
        let faceOnly = try MarketingMix.table(features: f, delivery: d, objects: ["face"])
        XCTAssertEqual(faceOnly.header, ["week", "google_impressions", "google_spend", "google_face_impressions", "google_noface_impressions", "google_face_spend",
                                         "google_noface_spend", "google_unmatched_impressions", "google_unmatched_spend", "meta_ads_impressions", "meta_ads_spend",
                                         "meta_ads_face_impressions", "meta_ads_noface_impressions", "meta_ads_face_spend", "meta_ads_noface_spend"])
        XCTAssertEqual(faceOnly.rows[0], ["2024-01-01", "350", "3.5", "300", "0", "3", "0", "50", "0.5", "3400", "34.75", "2000", "1400", "20.25", "14.5"])
    }

    func testAPlatformsOwnColumnNamesQuotesAndBOM() throws {
        let delivery = "\u{FEFF}Ad ID,Day,Platform,Impr,Cost,Campaign\r\n"
            + "cr1,2024-01-02,\"Meta, Inc.\",\"1200\",\"12.34\",\"spring, \"\"A\"\"\"\r\n"
            + "cr2,2024-01-02T08:00:00+01:00,TikTok,  300 ,0.66,\"two\r\nlines\"\r\n"
        let (f, d) = try files(delivery: delivery)
        let columns = try MarketingMix.Columns(["creative_id": "Ad ID", "date": "Day", "channel": "Platform", "impressions": "Impr", "spend": "Cost"])
        let r = try MarketingMix.table(features: f, delivery: d, columns: columns)
        XCTAssertEqual(r.channels, ["meta_inc", "tiktok"])
        XCTAssertEqual(r.rows, [["2024-01-01", "1200", "12.34", "1200", "0", "12.34", "0", "0", "1200", "0", "12.34",
                                 "300", "0.66", "0", "300", "0", "0.66", "300", "0", "0.66", "0"]])
        XCTAssertTrue(r.unmatched.isEmpty)
        XCTAssertTrue(DetectionLog.shared.takeWarnings().isEmpty)
    }

    func testManyUnmatchedAreNamedUpToTen() throws {
        var delivery = "creative_id,date,channel,impressions,spend\ncr1,2024-01-01,Meta,1,1\n"
        for i in 0..<12 { delivery += "x\(i),2024-01-01,Meta,\(100 - i),1\n" }
        let (f, d) = try files(delivery: delivery)
        let r = try MarketingMix.table(features: f, delivery: d)
        XCTAssertEqual(r.unmatched.map(\.creativeID), (0..<12).map { "x\($0)" })
        let w = DetectionLog.shared.takeWarnings()
        XCTAssertEqual(w.count, 1)
        XCTAssertTrue(w[0].contains("12 creative ids have no row in"), w[0])
        XCTAssertTrue(w[0].hasSuffix(": x0, x1, x2, x3, x4, x5, x6, x7, x8, x9 and 2 more"), w[0])
        XCTAssertEqual(r.rows[0][r.header.firstIndex(of: "meta_unmatched_impressions")!], "1134")
    }

    func testBadInputsNameTheFileTheLineAndTheValue() throws {
        let header = "creative_id,date,channel,impressions,spend\n"
        func error(features: String = Self.features, delivery: String, objects: [String]? = nil, columns: MarketingMix.Columns = .init()) throws -> String {
            let (f, d) = try files(features: features, delivery: delivery)
            return message { try MarketingMix.table(features: f, delivery: d, columns: columns, objects: objects) }
        }
        let d = dir + "/delivery.csv", f = dir + "/features.csv"
        XCTAssertEqual(try error(delivery: "creative_id,date,channel,impressions\ncr1,2024-01-01,Meta,1\n"),
                       "\(d) has no column 'spend'; its header: creative_id, date, channel, impressions (name the file's spend column with columns = {spend = \"...\"})")
        XCTAssertEqual(try error(delivery: header + "cr1,2024-01-01,Meta,1,1\n", columns: .init(impressions: "impr")),
                       "\(d) has no column 'impr' (columns.impressions); its header: creative_id, date, channel, impressions, spend")
        XCTAssertEqual(try error(delivery: header + "cr1,2024-01-01,Meta,1,1\ncr2,01/08/2024,Meta,1,1\n"),
                       "\(d) line 3, column 'date': '01/08/2024' is not a date; write YYYY-MM-DD (or YYYY-MM-DDTHH:MM:SS, YYYY-MM-DD HH:MM:SS: the date part is used)")
        XCTAssertEqual(try error(delivery: header + "cr1,2024-01-01,Meta,-3,1\n"), "\(d) line 2, column 'impressions': impressions '-3' is negative")
        XCTAssertEqual(try error(delivery: header + "cr1,2024-01-01,Meta,3,-1.5\n"), "\(d) line 2, column 'spend': spend '-1.5' is negative")
        XCTAssertEqual(try error(delivery: header + "cr1,2024-01-01,Meta,3,\n"), "\(d) line 2, column 'spend': empty spend; write 0 where nothing ran")
        XCTAssertEqual(try error(delivery: header + "cr1,2024-01-01,Meta, ,1\n"), "\(d) line 2, column 'impressions': empty impressions; write 0 where nothing ran")
        XCTAssertEqual(try error(delivery: header + "cr1,2024-01-01,Meta,3,\"1,5\"\n"),
                       "\(d) line 2, column 'spend': spend '1,5' is not a number; write plain numbers such as 1200 or 35.5, without thousands separators or currency signs")
        XCTAssertEqual(try error(delivery: header + "cr1,2024-01-01,Meta Ads,1,1\ncr2,2024-01-01,Google,1,1\ncr3,2024-01-02,META ADS,1,1\n"),
                       "\(d): channels 'Meta Ads' (line 2) and 'META ADS' (line 4) both become the column name 'meta_ads'; rename one of them in the file")
        XCTAssertEqual(try error(delivery: header + "cr1,2024-01-01,Meta,1,1\n", objects: ["logo", "fase"]),
                       "objects: 'fase' is not an object of \(f); did you mean face? (its objects: logo, face)")
        XCTAssertEqual(try error(features: "creative_id,logo_present\ncr1,2\n", delivery: header + "cr1,2024-01-01,Meta,1,1\n"),
                       "\(f) line 2, column 'logo_present': '2' is not 1 or 0")
        XCTAssertEqual(try error(delivery: header + "cr1,2024-01-01,Meta,1,1\ncr1,2024-01-01,Meta,1\n"),
                       "\(d) line 3: 4 fields, but the header (line 1) has 5")
        XCTAssertEqual(try error(delivery: header + "cr1,2024-01-01,\"Meta,1,1\n"), "\(d) line 2: field 3 opens a double quote that is never closed")
        XCTAssertEqual(try error(delivery: header + "cr1,2024-01-01,Meta,1,1\ncr2,2024-01-01,meta,1,1\ncr3,2024-01-01,meta_logo,1,1\n"),
                       "\(d): channels 'Meta' (line 2) and 'meta' (line 3) both become the column name 'meta'; rename one of them in the file")
        XCTAssertEqual(try error(delivery: header + "cr1,2024-01-01,meta,1,1\ncr3,2024-01-01,meta_logo,1,1\n"),
                       "the table would have the column 'meta_logo_impressions' twice: from channel 'meta' with object 'logo' and from channel 'meta_logo'; rename a channel in \(d)")
        XCTAssertEqual(message { try MarketingMix.Columns(["impresions": "x"]) },
                       "columns: unknown key 'impresions'; did you mean impressions? (the keys are creative_id, date, channel, impressions, spend)")
    }

    func testDates() {
        XCTAssertEqual(MarketingMix.day(of: "1970-01-01"), 0)
        XCTAssertEqual(MarketingMix.day(of: "2024-01-07"), MarketingMix.day(of: "2024-01-07T23:59"))
        for accepted in ["2024-02-29", "2024-01-07T10:30", "2024-01-07T10:30:59", "2024-01-07T10:30:59.123Z", "2024-01-07 10:30:00",
                         "2024-01-07T10:30:00+05:30", "2024-01-07T10:30:00-0800", "2024-01-07T10:30Z"] {
            XCTAssertNotNil(MarketingMix.day(of: accepted), accepted)
        }
        for refused in ["2023-02-29", "2024-13-01", "2024-00-10", "2024-01-32", "2024-1-7", "24-01-07", "2024/01/07", "07.01.2024", "2024-01-07T",
                        "2024-01-07T25:00", "2024-01-07T10", "2024-01-07T10:30:", "2024-01-07x", "2024-01-07T10:30:00+5", "", "today"] {
            XCTAssertNil(MarketingMix.day(of: refused), refused)
        }
        // Day numbers and ISO dates agree across four centuries; weeks start on Monday.
        let start = MarketingMix.day(of: "1900-01-01")!, end = MarketingMix.day(of: "2300-12-31")!
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        for day in stride(from: start, through: end, by: 37) {
            let iso = MarketingMix.isoDate(day)
            XCTAssertEqual(MarketingMix.day(of: iso), day)
            XCTAssertEqual(iso, f.string(from: Date(timeIntervalSince1970: Double(day) * 86400)))
            let monday = MarketingMix.monday(of: day)
            XCTAssertTrue(day - monday >= 0 && day - monday < 7)
            XCTAssertEqual(Calendar(identifier: .iso8601).component(.weekday, from: Date(timeIntervalSince1970: Double(monday) * 86400 + 43200)), 2)
        }
        XCTAssertEqual(MarketingMix.isoDate(MarketingMix.monday(of: MarketingMix.day(of: "2024-01-07")!)), "2024-01-01")   // Sunday
        XCTAssertEqual(MarketingMix.isoDate(MarketingMix.monday(of: MarketingMix.day(of: "2024-01-08")!)), "2024-01-08")   // Monday
        XCTAssertEqual(MarketingMix.isoDate(MarketingMix.monday(of: MarketingMix.day(of: "2021-01-01")!)), "2020-12-28")   // ISO week 53 of 2020
    }

    func testAmountsAreExact() {
        func m(_ s: String) -> Int64? { if case .success(let v)? = MarketingMix.micros(s) { return v }; return nil }
        XCTAssertEqual(m("0"), 0)
        XCTAssertEqual(m("-0"), 0)
        XCTAssertEqual(m("12"), 12_000_000)
        XCTAssertEqual(m("+12.5"), 12_500_000)
        XCTAssertEqual(m(".5"), 500_000)
        XCTAssertEqual(m("5."), 5_000_000)
        XCTAssertEqual(m("0.000001"), 1)
        XCTAssertEqual(m("0.0000005"), 1)
        XCTAssertEqual(m("0.0000004"), 0)
        XCTAssertEqual(m("1e3"), 1_000_000_000)
        XCTAssertEqual(m("1.5E-2"), 15_000)
        XCTAssertEqual(m("007"), 7_000_000)
        XCTAssertEqual(m("9223372036854"), 9_223_372_036_854_000_000)
        XCTAssertNil(m("9223372036855"))
        for bad in ["1,5", "$3", "1.2.3", "e5", "1e", "1e+", "0x10", "--1", "1 2", "."] {
            guard case .failure(.notANumber)? = MarketingMix.micros(bad) else { XCTFail(bad); continue }
        }
        for bad in ["inf", "-Infinity", "nan", "NaN"] {
            guard case .failure(.notFinite)? = MarketingMix.micros(bad) else { XCTFail(bad); continue }
        }
        guard case .failure(.negative)? = MarketingMix.micros("-0.01") else { return XCTFail("-0.01") }
        guard case .failure(.tooLarge)? = MarketingMix.micros("1e300") else { return XCTFail("1e300") }
        XCTAssertNil(MarketingMix.micros(""))
        XCTAssertEqual(MarketingMix.format(0), "0")
        XCTAssertEqual(MarketingMix.format(1_000_000), "1")
        XCTAssertEqual(MarketingMix.format(1_500_000), "1.5")
        XCTAssertEqual(MarketingMix.format(1), "0.000001")
        XCTAssertEqual(MarketingMix.format(123_456_789_012), "123456.789012")
        // A thousand cents add up to ten exactly (Doubles would give 9.99999999999998).
        var sum: Int64 = 0
        for _ in 0..<1000 { sum += m("0.01")! }
        XCTAssertEqual(MarketingMix.format(sum), "10")
    }

    func testColumnSafeChannelNames() {
        XCTAssertEqual(MarketingMix.columnSafe("Meta Ads"), "meta_ads")
        XCTAssertEqual(MarketingMix.columnSafe("  Google -- Search!! "), "google_search")
        XCTAssertEqual(MarketingMix.columnSafe("TikTok, Inc."), "tiktok_inc")
        XCTAssertEqual(MarketingMix.columnSafe("Télé 2"), "télé_2")
        XCTAssertEqual(MarketingMix.columnSafe("!!!"), "")
    }

    func testTheDeliveryParseInMemory() throws {
        let t = try CSVReader.parse(Self.delivery, source: "memory.csv")
        let d = try MarketingMix.delivery(t)
        XCTAssertEqual(d.channels, ["google", "meta_ads"])
        XCTAssertEqual(d.channelNames, ["Google", "Meta Ads"])
        XCTAssertEqual(d.entries.count, 9)
        XCTAssertEqual(d.entries[1].impressions, 2000)
        XCTAssertEqual(d.entries[1].spend, 20.25)
        XCTAssertEqual(d.entries[1].line, 3)
        XCTAssertEqual(MarketingMix.isoDate(d.entries[1].day), "2024-01-03")
    }
}
