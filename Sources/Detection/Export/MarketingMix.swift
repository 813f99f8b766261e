import Foundation
import Support

/// The marketing-mix table (`d2.export.mmm`): the creative feature table (one row per creative,
/// `<object>_present` among its columns) joined to the ad platform's delivery file (one row per
/// creative, date and channel with impressions and spend), summed per period (ISO week, labelled
/// by its Monday, or day) with no gaps, and per channel split by each object into the
/// impressions and spend of creatives with and without it — the split channels an MMM reads.
///
/// Columns: the date column, then per channel (sorted) `<ch>_impressions`, `<ch>_spend`, and per
/// object (in the feature table's order) `<ch>_<obj>_impressions`, `<ch>_no<obj>_impressions`,
/// `<ch>_<obj>_spend`, `<ch>_no<obj>_spend`; with and without add up to the channel's total for
/// creatives found in the feature table. Creatives the feature table lacks are never dropped:
/// they count in the totals and in `<ch>_unmatched_impressions` / `<ch>_unmatched_spend` (only
/// for channels that have some), a warning names them, and the result lists them all.
///
/// Amounts are summed exactly in millionths (a decimal input is read to six decimals), so the
/// table's numbers are the file's numbers added up, written as integers where they are whole.
public enum MarketingMix {
    /// What one row of the table covers.
    public enum Period: String, CaseIterable, Sendable {
        /// ISO weeks, Monday to Sunday, each labelled by its Monday.
        case week
        case day

        public static func named(_ name: String) throws -> Period {
            guard let p = Period(rawValue: name) else {
                throw DataError("period must be \"week\" or \"day\", not '\(name)'")
            }
            return p
        }
    }

    /// The column names an MMM tool's documentation and demo data use.
    public enum Preset: String, CaseIterable, Sendable {
        /// `week` (or `day`), `<ch>_impressions`, `<ch>_spend`.
        case none
        /// Robyn's demo data (dt_simulated_weekly): `DATE`, `facebook_I` (paid_media_vars), `facebook_S` (paid_media_spends).
        case robyn
        /// Meridian's sample data (CoordToColumns): `time`, `Channel0_impression`, `Channel0_spend`.
        case meridian
        /// PyMC-Marketing's examples: `MMM(date_column="date_week", ...)`, `<ch>_impressions`, `<ch>_spend`.
        case pymc

        public static func named(_ name: String) throws -> Preset {
            guard let p = Preset(rawValue: name) else {
                let known = allCases.filter { $0 != .none }.map(\.rawValue)
                throw DataError("unknown preset '\(name)'\(Suggestion.hint(for: name, among: known)) (presets: \(known.joined(separator: ", ")); "
                                + "leave it out for the plain names week, <channel>_impressions, <channel>_spend)")
            }
            return p
        }

        public func dateColumn(_ period: Period) -> String {
            switch self {
            case .none: return period.rawValue
            case .robyn: return "DATE"
            case .meridian: return "time"
            case .pymc: return period == .week ? "date_week" : "date"
            }
        }

        public var impressionsSuffix: String {
            switch self {
            case .none, .pymc: return "_impressions"
            case .robyn: return "_I"
            case .meridian: return "_impression"
            }
        }

        public var spendSuffix: String { self == .robyn ? "_S" : "_spend" }
    }

    /// The delivery file's column names (the ad platform's export names them its own way).
    public struct Columns: Sendable, Equatable {
        public var creativeID: String
        public var date: String
        public var channel: String
        public var impressions: String
        public var spend: String

        public init(creativeID: String = "creative_id", date: String = "date", channel: String = "channel",
                    impressions: String = "impressions", spend: String = "spend") {
            self.creativeID = creativeID
            self.date = date
            self.channel = channel
            self.impressions = impressions
            self.spend = spend
        }

        /// The option names (as Lua's `columns = {...}` spells them), in the order they are checked.
        public static let keys = ["creative_id", "date", "channel", "impressions", "spend"]

        /// `columns = {creative_id = "ad_id", ...}`: unknown keys and empty names are errors.
        public init(_ names: [String: String]) throws {
            self.init()
            for (key, name) in names.sorted(by: { $0.key < $1.key }) {
                guard !name.isEmpty else { throw DataError("columns.\(key) is empty; give the delivery file's column name") }
                switch key {
                case "creative_id": creativeID = name
                case "date": date = name
                case "channel": channel = name
                case "impressions": impressions = name
                case "spend": spend = name
                default:
                    throw DataError("columns: unknown key '\(key)'\(Suggestion.hint(for: key, among: Self.keys)) (the keys are \(Self.keys.joined(separator: ", ")))")
                }
            }
        }

        var named: [(key: String, name: String)] {
            [("creative_id", creativeID), ("date", date), ("channel", channel), ("impressions", impressions), ("spend", spend)]
        }
    }

    // MARK: the feature table

    /// Which creatives show which objects.
    public struct Features: Sendable {
        public let source: String
        /// The objects used, in the feature table's column order.
        public let objects: [String]
        /// Per creative id, whether each object (in `objects` order) is present.
        public let presence: [String: [Bool]]
    }

    /// The feature table as `job:features{out = ...}` writes it: `creative_id`, ..., and per object
    /// `<obj>_present` (1 or 0) among its columns. `objects` keeps only those (each must be one).
    public static func features(_ table: CSVTable, objects wanted: [String]? = nil) throws -> Features {
        let src = table.source
        let idColumn = try uniqueColumn("creative_id", in: table, what: "the creative ids (a feature table from job:features{out = ...} starts creative_id,path,kind,...)")
        var objects: [(name: String, column: Int)] = []
        for (c, name) in table.header.enumerated() where name.hasSuffix("_present") && name.count > "_present".count {
            objects.append((String(name.dropLast("_present".count)), c))
        }
        guard !objects.isEmpty else {
            let long = table.header.contains("object") && table.header.contains("present")
            throw DataError("\(src) has no <object>_present columns, so no objects to split by; its header: \(table.header.joined(separator: ", "))"
                            + (long ? " (this is the long table, one row per creative and object; give the wide one, job:features{out = ...})" : ""))
        }
        let known = objects.map(\.name)
        if let wanted {
            guard !wanted.isEmpty else { throw DataError("objects is empty; leave it out to use every object of \(src) (\(known.joined(separator: ", ")))") }
            var seen = Set<String>()
            for w in wanted {
                guard known.contains(w) else {
                    throw DataError("objects: '\(w)' is not an object of \(src)\(Suggestion.hint(for: w, among: known)) (its objects: \(known.joined(separator: ", ")))")
                }
                guard seen.insert(w).inserted else { throw DataError("objects lists '\(w)' twice") }
            }
            objects = objects.filter { seen.contains($0.name) }
        }
        guard !table.rows.isEmpty else { throw DataError("\(src) has no creatives (only its header line)") }
        var presence: [String: [Bool]] = [:]
        var firstLine: [String: Int] = [:]
        presence.reserveCapacity(table.rows.count)
        for row in table.rows {
            let id = trimmed(row.fields[idColumn])
            guard !id.isEmpty else { throw DataError("\(src) line \(row.line), column 'creative_id': the creative id is empty") }
            if let first = firstLine[id] {
                throw DataError("\(src) line \(row.line): creative '\(id)' is listed again (first on line \(first)); a feature table has one row per creative")
            }
            firstLine[id] = row.line
            presence[id] = try objects.map { o in
                switch trimmed(row.fields[o.column]) {
                case "1": return true
                case "0": return false
                case let v:
                    throw DataError("\(src) line \(row.line), column '\(table.header[o.column])': '\(v)' is not 1 or 0")
                }
            }
        }
        return Features(source: src, objects: objects.map(\.name), presence: presence)
    }

    // MARK: the delivery file

    /// The delivery file read and checked: each row's creative, day, channel and amounts.
    public struct Delivery: Sendable {
        public struct Entry: Sendable {
            public let creativeID: String
            /// Days since 1970-01-01.
            public let day: Int
            /// Index into `channels`.
            public let channel: Int
            let impressionsMicros: Int64
            let spendMicros: Int64
            public let line: Int
            public var impressions: Double { Double(impressionsMicros) / 1e6 }
            public var spend: Double { Double(spendMicros) / 1e6 }
        }

        public let source: String
        /// Column-safe channel names ("Meta Ads" → meta_ads), sorted.
        public let channels: [String]
        /// Each channel's name as the file first wrote it, in `channels` order.
        public let channelNames: [String]
        public let entries: [Entry]
    }

    /// The delivery file's rows: creative id, date (YYYY-MM-DD, or with a time after T or a
    /// space; the date part is used as written), channel, impressions and spend (non-negative numbers).
    public static func delivery(_ table: CSVTable, columns: Columns = Columns()) throws -> Delivery {
        let src = table.source
        var seenNames: [String: String] = [:]
        for (key, name) in columns.named {
            if let other = seenNames[name] { throw DataError("columns: \(other) and \(key) both name the column '\(name)' of \(src)") }
            seenNames[name] = key
        }
        var index: [String: Int] = [:]
        for (key, name) in columns.named {
            let found = table.columns(named: name)
            if found.isEmpty {
                let renamed = name != Columns().named.first(where: { $0.key == key })!.name
                throw DataError("\(src) has no column '\(name)'" + (renamed ? " (columns.\(key))" : "") + Suggestion.hint(for: name, among: table.header)
                                + "; its header: \(table.header.joined(separator: ", "))"
                                + (renamed ? "" : " (name the file's \(key.replacingOccurrences(of: "_", with: " ")) column with columns = {\(key) = \"...\"})"))
            }
            guard found.count == 1 else {
                throw DataError("\(src) has \(found.count) columns named '\(name)' (columns \(found.map { String($0 + 1) }.joined(separator: " and "))); which is the \(key)?")
            }
            index[key] = found[0]
        }
        let idColumn = index["creative_id"]!, dateColumn = index["date"]!, channelColumn = index["channel"]!
        let impressionsColumn = index["impressions"]!, spendColumn = index["spend"]!
        guard !table.rows.isEmpty else { throw DataError("\(src) has no delivery rows (only its header line)") }

        // Channels by raw name, then by column-safe name (two raw names may not share one).
        var rawChannels: [String: Int] = [:]         // raw name -> index into safeNames (first-seen order)
        var safeIndex: [String: Int] = [:]
        var safeNames: [String] = [], firstRaw: [String] = [], firstLine: [Int] = []
        var entries: [(id: String, day: Int, channel: Int, imp: Int64, spend: Int64, line: Int)] = []
        entries.reserveCapacity(table.rows.count)
        for row in table.rows {
            let f = row.fields
            func at(_ c: Int) -> String { trimmed(f[c]) }
            let id = at(idColumn)
            guard !id.isEmpty else {
                throw DataError("\(src) line \(row.line), column '\(columns.creativeID)': the creative id is empty (a totals row? leave it out)")
            }
            let dateText = at(dateColumn)
            guard let day = day(of: dateText) else {
                throw DataError("\(src) line \(row.line), column '\(columns.date)': '\(dateText)' is not a date; write YYYY-MM-DD "
                                + "(or YYYY-MM-DDTHH:MM:SS, YYYY-MM-DD HH:MM:SS: the date part is used)")
            }
            let raw = at(channelColumn)
            guard !raw.isEmpty else { throw DataError("\(src) line \(row.line), column '\(columns.channel)': the channel is empty") }
            let channel: Int
            if let c = rawChannels[raw] {
                channel = c
            } else {
                let safe = columnSafe(raw)
                guard !safe.isEmpty else {
                    throw DataError("\(src) line \(row.line), column '\(columns.channel)': channel '\(raw)' has no letters or digits to make a column name of")
                }
                if let c = safeIndex[safe] {
                    throw DataError("\(src): channels '\(firstRaw[c])' (line \(firstLine[c])) and '\(raw)' (line \(row.line)) both become the column name '\(safe)'; "
                                    + "rename one of them in the file")
                }
                channel = safeNames.count
                safeIndex[safe] = channel
                safeNames.append(safe)
                firstRaw.append(raw)
                firstLine.append(row.line)
                rawChannels[raw] = channel
            }
            let imp = try amount(at(impressionsColumn), what: "impressions", column: columns.impressions, line: row.line, source: src)
            let spend = try amount(at(spendColumn), what: "spend", column: columns.spend, line: row.line, source: src)
            entries.append((id, day, channel, imp, spend, row.line))
        }
        // Channels sorted by their column names; entries renumbered to match.
        let order = safeNames.indices.sorted { safeNames[$0] < safeNames[$1] }
        var rank = [Int](repeating: 0, count: order.count)
        for (r, c) in order.enumerated() { rank[c] = r }
        return Delivery(source: src, channels: order.map { safeNames[$0] }, channelNames: order.map { firstRaw[$0] },
                        entries: entries.map { Delivery.Entry(creativeID: $0.id, day: $0.day, channel: rank[$0.channel], impressionsMicros: $0.imp,
                                                              spendMicros: $0.spend, line: $0.line) })
    }

    // MARK: the table

    /// A creative of the delivery file that the feature table lacks, with everything it delivered.
    public struct Unmatched: Sendable, Equatable {
        public let creativeID: String
        public let impressions: Double
        public let spend: Double
        /// The delivery file's rows for it.
        public let rows: Int
    }

    public struct Result: Sendable {
        public let header: [String]
        /// One row per period, cells as written (the date, then the amounts).
        public let rows: [[String]]
        public var periods: Int { rows.count }
        public let dateColumn: String
        /// Column-safe channel names, in the table's order.
        public let channels: [String]
        public let objects: [String]
        /// Creatives with delivery but no feature row, most impressions first.
        public let unmatched: [Unmatched]

        public var csv: String {
            var w = CSVWriter(header: header)
            for r in rows { w.append(r) }
            return w.text
        }

        /// Writes the table atomically.
        public func write(to path: String) throws { try AtomicFile.write(csv, to: path) }
    }

    /// The marketing-mix table from a feature table CSV and a delivery CSV (paths).
    public static func table(features: String, delivery: String, columns: Columns = Columns(), period: Period = .week,
                             preset: Preset = .none, objects: [String]? = nil) throws -> Result {
        let f = try self.features(try readCSV(features), objects: objects)
        let d = try self.delivery(try readCSV(delivery), columns: columns)
        return try table(features: f, delivery: d, period: period, preset: preset)
    }

    /// The marketing-mix table from a bulk job's own feature table (no file in between).
    public static func table(features results: BulkResults, delivery: String, columns: Columns = Columns(), period: Period = .week,
                             preset: Preset = .none, objects: [String]? = nil) throws -> Result {
        let text = try results.features().wide.text
        let table: CSVTable
        do { table = try CSVReader.parse(text, source: "the feature table of \(results.store.path)") } catch let e as CSVError { throw DataError(e.message) }
        let f = try self.features(table, objects: objects)
        let d = try self.delivery(try readCSV(delivery), columns: columns)
        return try self.table(features: f, delivery: d, period: period, preset: preset)
    }

    /// A CSV file, its reader's errors as DataError (they name the file and the line).
    static func readCSV(_ path: String) throws -> CSVTable {
        do { return try CSVReader.read(path) } catch let e as CSVError { throw DataError(e.message) }
    }

    /// How many cells (rows × columns) a table may have: far beyond a real study (ten years of
    /// weeks, 50 channels, 100 objects is 10 million), short of exhausting memory on a bad date.
    public static let defaultCellLimit = 50_000_000

    /// The marketing-mix table from checked inputs.
    public static func table(features: Features, delivery: Delivery, period: Period = .week, preset: Preset = .none,
                             cellLimit: Int = defaultCellLimit) throws -> Result {
        let src = delivery.source
        let entries = delivery.entries
        guard let firstEntry = entries.min(by: { $0.day < $1.day }), let lastEntry = entries.max(by: { $0.day < $1.day }) else {
            throw DataError("\(src) has no delivery rows")
        }
        let step = period == .week ? 7 : 1
        func start(_ day: Int) -> Int { period == .week ? monday(of: day) : day }
        let first = start(firstEntry.day), last = start(lastEntry.day)
        let years = Double(lastEntry.day - firstEntry.day) / 365.25
        if years > 100 {
            throw DataError("\(src): the dates run from \(isoDate(firstEntry.day)) (line \(firstEntry.line)) to \(isoDate(lastEntry.day)) (line \(lastEntry.line)), "
                            + "more than a hundred years; is a year mistyped?")
        }
        if years > 10 {
            DetectionLog.shared.warn("mmm", "\(src): the dates run from \(isoDate(firstEntry.day)) (line \(firstEntry.line)) to \(isoDate(lastEntry.day)) "
                                     + "(line \(lastEntry.line)), \(Int(years)) years; is a year mistyped?")
        }
        let periods = (last - first) / step + 1
        let nChannels = delivery.channels.count, nObjects = features.objects.count
        // Per (period, channel): total impressions and spend, with-object impressions and spend, unmatched impressions and spend.
        let width = 4 + 2 * nObjects
        var cells: [Int: [Int64]] = [:]
        var unmatched: [String: (imp: Int64, spend: Int64, rows: Int)] = [:]
        var unmatchedChannels = Set<Int>()
        func add(_ a: inout Int64, _ b: Int64, line: Int) throws {
            let (s, overflow) = a.addingReportingOverflow(b)
            guard !overflow else { throw DataError("\(src) line \(line): the sums grow beyond \(format(Int64.max)); split the file") }
            a = s
        }
        for e in entries {
            let key = ((start(e.day) - first) / step) * nChannels + e.channel
            var cell = cells[key] ?? [Int64](repeating: 0, count: width)
            try add(&cell[0], e.impressionsMicros, line: e.line)
            try add(&cell[1], e.spendMicros, line: e.line)
            if let present = features.presence[e.creativeID] {
                for o in 0..<nObjects where present[o] {
                    try add(&cell[4 + 2 * o], e.impressionsMicros, line: e.line)
                    try add(&cell[5 + 2 * o], e.spendMicros, line: e.line)
                }
            } else {
                try add(&cell[2], e.impressionsMicros, line: e.line)
                try add(&cell[3], e.spendMicros, line: e.line)
                var u = unmatched[e.creativeID] ?? (0, 0, 0)
                try add(&u.imp, e.impressionsMicros, line: e.line)
                try add(&u.spend, e.spendMicros, line: e.line)
                u.rows += 1
                unmatched[e.creativeID] = u
                unmatchedChannels.insert(e.channel)
            }
            cells[key] = cell
        }

        // The header; two names that come out the same (channel "meta_logo" and "meta" with object "logo") are an error.
        let dateColumn = preset.dateColumn(period)
        let si = preset.impressionsSuffix, ss = preset.spendSuffix
        var header = [dateColumn]
        var origin: [String: String] = [dateColumn: "the date column"]
        func column(_ name: String, _ from: String) throws {
            if let other = origin[name] {
                throw DataError("the table would have the column '\(name)' twice: from \(other) and from \(from); rename a channel in \(src)")
            }
            origin[name] = from
            header.append(name)
        }
        for (c, ch) in delivery.channels.enumerated() {
            try column(ch + si, "channel '\(ch)'")
            try column(ch + ss, "channel '\(ch)'")
            for object in features.objects {
                // Column-safe as channels are ("brand cue" becomes brand_cue).
                let o = columnSafe(object), from = "channel '\(ch)' with object '\(object)'"
                try column("\(ch)_\(o)\(si)", from)
                try column("\(ch)_no\(o)\(si)", from)
                try column("\(ch)_\(o)\(ss)", from)
                try column("\(ch)_no\(o)\(ss)", from)
            }
            if unmatchedChannels.contains(c) {
                try column("\(ch)_unmatched\(si)", "channel '\(ch)' (its unmatched creatives)")
                try column("\(ch)_unmatched\(ss)", "channel '\(ch)' (its unmatched creatives)")
            }
        }

        guard periods <= cellLimit / header.count else {
            throw DataError("\(src): the table would have \(periods) rows of \(header.count) columns, more than the \(cellLimit) cells allowed; "
                            + "the dates run from \(isoDate(firstEntry.day)) (line \(firstEntry.line)) to \(isoDate(lastEntry.day)) (line \(lastEntry.line))"
                            + (period == .day ? "; period = \"week\" makes a seventh of the rows" : "") + "; objects = {...} keeps fewer objects")
        }
        let zero = [Int64](repeating: 0, count: width)
        var rows: [[String]] = []
        rows.reserveCapacity(periods)
        for p in 0..<periods {
            var row = [isoDate(first + p * step)]
            row.reserveCapacity(header.count)
            for c in 0..<nChannels {
                let cell = cells[p * nChannels + c] ?? zero
                row.append(format(cell[0]))
                row.append(format(cell[1]))
                let matchedImp = cell[0] - cell[2], matchedSpend = cell[1] - cell[3]
                for o in 0..<nObjects {
                    let withImp = cell[4 + 2 * o], withSpend = cell[5 + 2 * o]
                    row.append(format(withImp))
                    row.append(format(matchedImp - withImp))
                    row.append(format(withSpend))
                    row.append(format(matchedSpend - withSpend))
                }
                if unmatchedChannels.contains(c) {
                    row.append(format(cell[2]))
                    row.append(format(cell[3]))
                }
            }
            rows.append(row)
        }

        let missing = unmatched.map { Unmatched(creativeID: $0.key, impressions: Double($0.value.imp) / 1e6, spend: Double($0.value.spend) / 1e6, rows: $0.value.rows) }
            .sorted { ($0.impressions, $0.spend, $1.creativeID) > ($1.impressions, $1.spend, $0.creativeID) }
        if !missing.isEmpty {
            let shown = missing.prefix(10).map(\.creativeID).joined(separator: ", ")
            let totalImp = unmatched.values.reduce(Int64(0)) { $0 &+ $1.imp }, totalSpend = unmatched.values.reduce(Int64(0)) { $0 &+ $1.spend }
            DetectionLog.shared.warn("mmm", "\(src): \(missing.count) creative id\(missing.count == 1 ? " has" : "s have") no row in \(features.source) "
                                     + "(\(format(totalImp)) impressions, \(format(totalSpend)) spend; counted in the channel totals and the <channel>_unmatched columns): "
                                     + shown + (missing.count > 10 ? " and \(missing.count - 10) more" : ""))
        }
        return Result(header: header, rows: rows, dateColumn: dateColumn, channels: delivery.channels, objects: features.objects, unmatched: missing)
    }

    // MARK: pieces

    static func uniqueColumn(_ name: String, in table: CSVTable, what: String) throws -> Int {
        let found = table.columns(named: name)
        guard let c = found.first else {
            throw DataError("\(table.source) has no column '\(name)' with \(what); its header: \(table.header.joined(separator: ", "))")
        }
        guard found.count == 1 else { throw DataError("\(table.source) has \(found.count) columns named '\(name)'") }
        return c
    }

    static func trimmed(_ s: String) -> String {
        guard let f = s.utf8.first, let l = s.utf8.last, f == 0x20 || f == 0x09 || l == 0x20 || l == 0x09 else { return s }
        return s.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
    }

    /// A channel as a column name: lowercased, each run of characters other than letters and digits one `_`, none at the ends.
    public static func columnSafe(_ name: String) -> String {
        var out = ""
        var pendingUnderscore = false
        for ch in name.lowercased() {
            if ch.isLetter || ch.isNumber {
                if pendingUnderscore && !out.isEmpty { out.append("_") }
                pendingUnderscore = false
                out.append(ch)
            } else {
                pendingUnderscore = true
            }
        }
        return out
    }

    /// Days since 1970-01-01 of `YYYY-MM-DD`, optionally followed by `T` or a space and a time
    /// `HH:MM[:SS[.fraction]]` with an optional zone (`Z`, `+HH:MM`, `-HHMM`); nil for anything else.
    public static func day(of text: String) -> Int? {
        let b = Array(text.utf8)
        guard b.count >= 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for i in from..<from + count {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        guard let y = digits(0, 4), let m = digits(5, 2), let d = digits(8, 2), (1...12).contains(m), d >= 1, d <= daysIn(month: m, year: y) else { return nil }
        if b.count > 10 {
            guard b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " "), let hh = digits(11, 2), b.count > 13, b[13] == UInt8(ascii: ":"),
                  let mm = digits(14, 2), hh < 24, mm < 60 else { return nil }
            var i = 16
            if i < b.count && b[i] == UInt8(ascii: ":") {
                guard let ss = digits(i + 1, 2), ss <= 60 else { return nil }
                i += 3
                if i < b.count && b[i] == UInt8(ascii: ".") {
                    i += 1
                    let from = i
                    while i < b.count && b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
                    guard i > from else { return nil }
                }
            }
            if i < b.count {
                if b[i] == UInt8(ascii: "Z") {
                    i += 1
                } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                    guard let zh = digits(i + 1, 2), zh < 24 else { return nil }
                    i += 3
                    if i < b.count && b[i] == UInt8(ascii: ":") { i += 1 }
                    guard let zm = digits(i, 2), zm < 60 else { return nil }
                    i += 2
                }
            }
            guard i == b.count else { return nil }
        }
        return daysFromCivil(y, m, d)
    }

    static func daysIn(month m: Int, year y: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// YYYY-MM-DD of a day number.
    public static func isoDate(_ z0: Int) -> String {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let year = String(y)
        return String(repeating: "0", count: max(0, 4 - year.count)) + year + "-" + two(m) + "-" + two(d)
    }

    /// The Monday that starts the ISO week of a day (1970-01-01 was a Thursday).
    public static func monday(of day: Int) -> Int {
        let weekday = ((day + 3) % 7 + 7) % 7   // 0 = Monday
        return day - weekday
    }

    // MARK: amounts, exactly, in millionths

    static let scale: Int64 = 1_000_000

    /// An amount in millionths, written as an integer where it is whole and otherwise with up to six decimals.
    static func format(_ micros: Int64) -> String {
        let whole = micros / scale, fraction = micros % scale
        if fraction == 0 { return String(whole) }
        var f = String(abs(fraction))
        f = String(repeating: "0", count: 6 - f.count) + f
        while f.hasSuffix("0") { f.removeLast() }
        return (micros < 0 && whole == 0 ? "-" : "") + String(whole) + "." + f
    }

    enum AmountProblem: Error { case notANumber, notFinite, negative, tooLarge }

    /// A non-negative decimal number (digits, one optional point, an optional exponent) in millionths, rounded half up.
    static func micros(_ s: String) -> Swift.Result<Int64, AmountProblem>? {
        var b = Array(s.utf8)[...]
        guard !b.isEmpty else { return nil }
        let lower = s.lowercased()
        if ["inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan", "+nan", "-nan"].contains(lower) { return .failure(.notFinite) }
        var negative = false
        if b.first == UInt8(ascii: "+") || b.first == UInt8(ascii: "-") {
            negative = b.first == UInt8(ascii: "-")
            b = b.dropFirst()
        }
        var digits: [UInt8] = []
        var fractionDigits = 0, seenPoint = false, any = false
        while let c = b.first, (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: ".") {
            b = b.dropFirst()
            if c == UInt8(ascii: ".") {
                guard !seenPoint else { return .failure(.notANumber) }
                seenPoint = true
                continue
            }
            any = true
            if digits.isEmpty && c == 0x30 {
                if seenPoint { fractionDigits += 1 }
                continue
            }
            digits.append(c - 0x30)
            if seenPoint { fractionDigits += 1 }
        }
        guard any else { return .failure(.notANumber) }
        var exponent = 0
        if let e = b.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            b = b.dropFirst()
            var expNegative = false
            if b.first == UInt8(ascii: "+") || b.first == UInt8(ascii: "-") {
                expNegative = b.first == UInt8(ascii: "-")
                b = b.dropFirst()
            }
            guard !b.isEmpty else { return .failure(.notANumber) }
            while let c = b.first, c >= 0x30 && c <= 0x39 {
                b = b.dropFirst()
                if exponent < 10_000 { exponent = exponent * 10 + Int(c - 0x30) }
            }
            if expNegative { exponent = -exponent }
        }
        guard b.isEmpty else { return .failure(.notANumber) }
        if digits.isEmpty { return .success(0) }
        if negative { return .failure(.negative) }
        // value = digits × 10^(exponent − fractionDigits); millionths = digits × 10^k.
        let k = exponent - fractionDigits + 6
        var kept = digits.count
        var roundUp = false
        if k < 0 {
            kept = digits.count + k
            if kept < 0 { return .success(0) }
            roundUp = kept < digits.count && digits[kept] >= 5
        }
        var v: Int64 = 0
        for d in digits.prefix(kept) {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(d))
            guard !o1 && !o2 else { return .failure(.tooLarge) }
            v = a
        }
        if k > 0 {
            for _ in 0..<k {
                let (m, o) = v.multipliedReportingOverflow(by: 10)
                guard !o else { return .failure(.tooLarge) }
                v = m
            }
        }
        if roundUp {
            let (a, o) = v.addingReportingOverflow(1)
            guard !o else { return .failure(.tooLarge) }
            v = a
        }
        return .success(v)
    }

    static func amount(_ text: String, what: String, column: String, line: Int, source: String) throws -> Int64 {
        let at = "\(source) line \(line), column '\(column)'"
        switch micros(text) {
        case nil: throw DataError("\(at): empty \(what); write 0 where nothing ran")
        case .success(let v)?: return v
        case .failure(.negative)?: throw DataError("\(at): \(what) '\(text)' is negative")
        case .failure(.notFinite)?: throw DataError("\(at): \(what) '\(text)' is not a finite number")
        case .failure(.tooLarge)?: throw DataError("\(at): \(what) '\(text)' is too large (at most \(format(Int64.max)))")
        case .failure(.notANumber)?:
            throw DataError("\(at): \(what) '\(text)' is not a number; write plain numbers such as 1200 or 35.5, without thousands separators or currency signs")
        }
    }
}
