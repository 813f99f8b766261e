import Detection
import Foundation
import LuaHost
import Support

/// `detectron2.export`: tables for the tools downstream of detection (the marketing-mix table).
extension LunetteBindings {
    static func installExportModule(in state: LuaState) throws {
        state.defineModule("detectron2.export", doc: "Tables for the tools downstream of detection: the weekly marketing-mix table (mmm).") { m in
            m.function("mmm", [LuaParameter("options", .table)], returns: "table", doc: """
                The marketing-mix table: the creative feature table (features = path, from job:features{out = ...}, or the DetectJob itself) joined to the ad platform's delivery file (delivery = path: creative_id, date, channel, impressions, spend; other names with columns = {creative_id = "ad_id", date = "day", channel = "platform", impressions = "impr", spend = "cost"}), written to out = path. One row per period = "week" (ISO weeks from Monday, labelled by the Monday; default) or "day", from the first to the last with delivery, zeros where nothing ran. Per channel (column-safe: "Meta Ads" -> meta_ads) its impressions and spend, and per object (objects = {"logo", ...} keeps some) <ch>_<obj>_impressions, <ch>_no<obj>_impressions, <ch>_<obj>_spend, <ch>_no<obj>_spend; creatives without a feature row count in the totals and in <ch>_unmatched_impressions/_spend, and a warning names them. preset = "robyn" (DATE, <ch>_I, <ch>_S), "meridian" (time, <ch>_impression, <ch>_spend) or "pymc" (date_week, <ch>_impressions, <ch>_spend). Returns {out, periods, date_column, channels, objects, columns (the header), unmatched = {{creative_id, impressions, spend, rows}, ...}}.
                """) { call in
                let o = try call.options(1, allowed: ["columns", "delivery", "features", "objects", "out", "period", "preset"])
                guard let value = o["features"] else {
                    throw LuaError.message("mmm needs features = <path of the feature table CSV> (from job:features{out = ...})")
                }
                let job: DetectJobObject?
                switch value {
                case .string: job = nil
                case .object(let x as DetectJobObject): job = x
                default: throw LuaError.message("mmm: features must be the path of a feature table CSV (from job:features{out = ...}) or a DetectJob")
                }
                guard let delivery = try o.option("delivery", as: String.self) else {
                    throw LuaError.message("mmm needs delivery = <path of the ad platform's delivery CSV> (creative_id, date, channel, impressions, spend)")
                }
                guard let out = try o.option("out", as: String.self) else { throw LuaError.message("mmm needs out = <path of the CSV to write>") }
                let columns = try MarketingMix.Columns(try o.option("columns", as: [String: String].self) ?? [:])
                let period = try MarketingMix.Period.named(try o.option("period", as: String.self) ?? "week")
                let preset = try MarketingMix.Preset.named(try o.option("preset", as: String.self) ?? "none")
                let objects = try o.option("objects", as: [String].self)
                let result = try job.map { try MarketingMix.table(features: $0.results, delivery: delivery, columns: columns, period: period, preset: preset, objects: objects) }
                    ?? MarketingMix.table(features: try String.decode(value, at: "features"), delivery: delivery, columns: columns, period: period, preset: preset, objects: objects)
                try result.write(to: out)
                return call.push(mmmTable(result, out: out))
            }
        }
    }

    static func mmmTable(_ r: MarketingMix.Result, out: String) -> LuaValue {
        func strings(_ s: [String]) -> LuaValue { .table(LuaTable(array: s.map { .string($0) }, kind: .array)) }
        func amount(_ x: Double) -> LuaValue {
            if let i = Int64(exactly: x) { return .integer(i) }
            return .number(x)
        }
        var t = LuaTable()
        t.hash[.string("out")] = .string(out)
        t.hash[.string("periods")] = .integer(Int64(r.periods))
        t.hash[.string("date_column")] = .string(r.dateColumn)
        t.hash[.string("channels")] = strings(r.channels)
        t.hash[.string("objects")] = strings(r.objects)
        t.hash[.string("columns")] = strings(r.header)
        t.hash[.string("unmatched")] = .table(LuaTable(array: r.unmatched.map { u in
            .table(LuaTable(hash: [.string("creative_id"): .string(u.creativeID), .string("impressions"): amount(u.impressions),
                                   .string("spend"): amount(u.spend), .string("rows"): .integer(Int64(u.rows))]))
        }, kind: .array))
        return .table(t)
    }
}
