import Foundation
import Support

/// The files evaluation results and stored predictions are written as, all through the one
/// atomic writer.
extension COCOEvaluator.Results {
    /// metric,value lines (NaN as an empty field).
    public var csv: String {
        var table = CSVWriter(header: ["metric", "value"])
        for (name, value) in bbox { table.append([name, value.isNaN ? "" : String(value)]) }
        return table.text
    }

    /// {"bbox": {"AP": ..., ...}} with NaN as null.
    public var json: String {
        JSON.text(.object([("bbox", .object(bbox.map { ($0.name, $0.value.isNaN ? .null : .double($0.value)) }))]))
    }

    /// Precision against recall (COCOeval's 101 recall points, area "all", the largest maxDets)
    /// per class at one of the IoU thresholds; classes with no ground truth are left out.
    public func precisionRecallCurves(iou: Double) throws -> [(className: String, points: [(recall: Double, precision: Double)])] {
        guard let e = eval else { throw DataError("no predictions were evaluated") }
        guard let t = e.iouThresholds.firstIndex(where: { abs($0 - iou) < 1e-9 }) else {
            throw DataError("iou must be one of 0.50, 0.55, ..., 0.95, not \(iou)")
        }
        let (R, K, A, M) = (e.recallThresholds.count, e.categoryIDs.count, e.areaRanges.count, e.maxDets.count)
        return (0..<K).compactMap { k in
            let points = (0..<R).map { ri in (recall: e.recallThresholds[ri], precision: e.precision[(((t * R + ri) * K + k) * A + 0) * M + (M - 1)]) }
            guard points.contains(where: { $0.precision >= 0 }) else { return nil }
            return (k < classes.count ? classes[k] : "class \(k)", points.filter { $0.precision >= 0 })
        }
    }
}

/// Stored predictions as JSON: one {image_id, boxes (XYXY), scores, classes} per image.
public enum PredictionsFile {
    public static func json(_ predictions: [Instances]) throws -> String {
        JSON.text(.array(try predictions.map { x in
            let (boxes, scores, classes) = try x.asLists()
            return .object([("image_id", .int(x.imageID ?? 0)), ("boxes", .array(boxes.map { .array($0.map { .double($0) }) })),
                            ("scores", .array(scores.map { .double($0) })), ("classes", .array(classes.map { .int(Int64($0)) }))])
        }))
    }
}
