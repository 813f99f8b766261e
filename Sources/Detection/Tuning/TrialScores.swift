import Foundation
import Support

/// A trial's numbers, all made from its stored predictions: COCO AP, and image-level presence
/// per class and overall (the micro average over (image, class) pairs: the presence table's
/// overall row) at each threshold. Asking for another threshold or metric later scores the
/// stored predictions again; no model runs.
public struct TrialScores {
    /// AP, AP50, ... as COCOEvaluator reports them (×100, NaN where undefined).
    public var ap: [(name: String, value: Double)]
    /// The score the predictions were kept at (thresholds below it cannot be scored).
    public var floor: Double
    public var presence: PresenceEvaluation

    /// The search's value at a threshold: a presence metric of the overall row, or an AP (the
    /// same at every threshold, as a fraction like the presence metrics).
    public func value(_ metric: String, at threshold: Double) throws -> Double? {
        if metric.hasPrefix("AP") {
            guard let v = ap.first(where: { $0.name == metric })?.value else { throw DataError("no \(metric) was computed") }
            return v.isNaN ? nil : v / 100
        }
        return try presence.overall[try presence.thresholdIndex(threshold)].metric(metric)
    }

    /// The predictions of a COCO results JSON (the dataset's category ids) per image, with
    /// contiguous class ids.
    public static func predictions(cocoResultsJSON text: String, dicts: [DatasetDict], idMap: [Int64: Int]?, source: String) throws -> [Instances] {
        guard case .array(let items) = try JSON.parse(Array(text.utf8)) else { throw DataError("\(source): not a JSON list of detections") }
        var byImage: [Int64: (boxes: [[Double]], scores: [Double], classes: [Int])] = [:]
        for (i, item) in items.enumerated() {
            guard let image = item["image_id"]?.integer, let cat = item["category_id"]?.integer, let score = item["score"]?.number,
                  let b = item["bbox"]?.array?.compactMap(\.number), b.count == 4 else {
                throw DataError("\(source): detection \(i) needs image_id, category_id, bbox and score")
            }
            let k = idMap.map { $0[cat] } ?? Int(cat)
            guard let k else { throw DataError("\(source): detection \(i) has category_id \(cat), which the dataset does not have") }
            byImage[image, default: ([], [], [])].boxes.append(BoxMode.convert(b, from: .xywhAbs, to: .xyxyAbs))
            byImage[image, default: ([], [], [])].scores.append(score)
            byImage[image, default: ([], [], [])].classes.append(k)
        }
        return try dicts.map { d in
            let p = byImage[d.imageID] ?? ([], [], [])
            return try Instances(boxes: p.boxes, scores: p.scores, classes: p.classes, imageSize: (d.height, d.width), imageID: d.imageID)
        }
    }

    /// Scores stored predictions at `thresholds`, refusing thresholds below the stored floor.
    public static func score(predictions: [Instances], dicts: [DatasetDict], classes: [String], ap: [(name: String, value: Double)],
                             floor: Double, thresholds: [Double]) throws -> TrialScores {
        if let low = thresholds.first(where: { $0 < floor - 1e-12 }) {
            throw DataError("threshold \(low) is below \(floor), the score the trial's predictions were kept at; scoring it would need the model to run again")
        }
        return TrialScores(ap: ap, floor: floor,
                           presence: try PresenceEvaluation(dicts: dicts, predictions: predictions, classes: classes, thresholds: thresholds))
    }

    /// The metrics column: {"floor":…, "bbox":{AP…}, "at":[{threshold, accuracy, …, per_class:{…}}]}.
    public var json: String {
        func d(_ v: Double?) -> JSONValue { v.map { $0.isNaN ? .null : .double($0) } ?? .null }
        func counts(_ c: PresenceCounts) -> [(String, JSONValue)] {
            [("accuracy", d(c.accuracy)), ("precision", d(c.precision)), ("recall", d(c.recall)), ("f1", d(c.f1)),
             ("tp", .int(Int64(c.tp))), ("fp", .int(Int64(c.fp))), ("fn", .int(Int64(c.fn))), ("tn", .int(Int64(c.tn)))]
        }
        let at: [JSONValue] = presence.thresholds.indices.map { i in
            .object([("threshold", .double(presence.thresholds[i]))] + counts(presence.overall[i])
                    + [("per_class", .object(presence.classes.indices.map { k in (presence.classes[k], .object(counts(presence.counts[k][i]))) }))])
        }
        return JSON.text(.object([("floor", .double(floor)), ("bbox", .object(ap.map { ($0.name, d($0.value)) })), ("at", .array(at))]))
    }

    /// AP and the floor back from the metrics column.
    static func stored(_ text: String?) -> (ap: [(name: String, value: Double)], floor: Double)? {
        guard let text, case .object(let top)? = try? JSON.parse(Array(text.utf8)) else { return nil }
        let floor = top.first { $0.0 == "floor" }?.1.number ?? 0
        var ap: [(String, Double)] = []
        if case .object(let b)? = top.first(where: { $0.0 == "bbox" })?.1 {
            for (k, v) in b { ap.append((k, v.number ?? .nan)) }
        }
        return (ap, floor)
    }
}
