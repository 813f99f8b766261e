import Foundation
import Support

/// Detectron2's COCOEvaluator: collects predictions, writes coco_instances_results.json with the
/// dataset's own category ids, evaluates with COCOeval, and reports AP ×100 as Detectron2 does.
public final class COCOEvaluator {
    public let datasetName: String
    public let outputDir: String?
    let catalog: DataCatalog
    public private(set) var predictions: [Instances] = []
    /// Built on first use and kept, as Detectron2's evaluator keeps its COCO object: a dataset's
    /// registration and metadata cannot change once set, so every evaluate() compares with it.
    private var cachedGroundTruth: (COCOGroundTruth, [Int: Int64], [String])?

    public init(datasetName: String, outputDir: String? = nil, catalog: DataCatalog = .shared) throws {
        guard catalog.isRegistered(datasetName) else {
            throw DataError("COCOEvaluator: dataset '\(datasetName)' is not registered! Available datasets are: \(catalog.names.joined(separator: ", "))")
        }
        self.datasetName = datasetName
        self.outputDir = outputDir
        self.catalog = catalog
    }

    public func reset() { predictions = [] }
    /// One image's detections (in original-image coordinates, imageID set); kept on the CPU.
    public func process(_ instances: Instances) throws {
        guard instances.imageID != nil else { throw DataError("COCOEvaluator.process: the instances have no image id") }
        predictions.append(instances)
        _ = try instances.asLists()
    }

    public struct Results {
        /// AP, AP50, AP75, APs, APm, APl, then AP-<class>: ×100, NaN where pycocotools says -1.
        public var bbox: [(name: String, value: Double)]
        /// COCOeval's 12 numbers, unscaled (-1 where undefined).
        public var stats: [Double]
        public var classes: [String]
        public var eval: COCOEval?

        public subscript(name: String) -> Double? { bbox.first { $0.name == name }?.value }

        /// The two tables Detectron2 logs.
        public var table: String {
            func f(_ v: Double) -> String { v.isNaN ? "nan" : String(format: "%.3f", v) }
            let main = bbox.prefix(6)
            let widths = main.map { max($0.name.count, f($0.value).count) + 2 }
            func row(_ cells: [String]) -> String {
                "|" + cells.enumerated().map { i, c in
                    let pad = widths[i] - c.count
                    return String(repeating: " ", count: pad / 2) + c + String(repeating: " ", count: pad - pad / 2)
                }.joined(separator: "|") + "|"
            }
            var lines = ["Evaluation results for bbox:", row(main.map(\.name)),
                         "|" + widths.map { ":" + String(repeating: "-", count: $0 - 2) + ":" }.joined(separator: "|") + "|",
                         row(main.map { f($0.value) })]
            let per = bbox.dropFirst(6)
            if !per.isEmpty {
                lines.append("Per-category bbox AP:")
                let entries = per.map { (String($0.name.dropFirst(3)), f($0.value)) }
                let nw = max(8, entries.map(\.0.count).max() ?? 0), vw = max(2, entries.map(\.1.count).max() ?? 0)
                let header = "| " + (0..<min(3, entries.count)).map { _ in "category".padding(toLength: nw, withPad: " ", startingAt: 0) + " | " + "AP".padding(toLength: vw, withPad: " ", startingAt: 0) }.joined(separator: " | ") + " |"
                lines.append(header)
                for start in stride(from: 0, to: entries.count, by: 3) {
                    let chunk = entries[start..<min(start + 3, entries.count)]
                    lines.append("| " + chunk.map { $0.0.padding(toLength: nw, withPad: " ", startingAt: 0) + " | " + String(repeating: " ", count: vw - $0.1.count) + $0.1 }.joined(separator: " | ") + " |")
                }
            }
            if bbox.contains(where: { $0.value.isNaN }) {
                lines.append("nan: nothing to measure there (pycocotools reports -1: no ground truth of that size or class)")
            }
            return lines.joined(separator: "\n")
        }
    }

    /// The ground truth COCOeval compares with: the registered JSON when there is one, else the
    /// dataset dicts converted (areas from the boxes).
    public func groundTruth() throws -> (COCOGroundTruth, [Int: Int64], [String]) {
        if let cachedGroundTruth { return cachedGroundTruth }
        let made = try makeGroundTruth()
        cachedGroundTruth = made
        return made
    }

    private func makeGroundTruth() throws -> (COCOGroundTruth, [Int: Int64], [String]) {
        let meta = catalog.metadata(datasetName)
        let dicts = try catalog.get(datasetName)
        let classes = meta.thingClasses ?? []
        var toDataset: [Int: Int64] = [:]
        if case .idMap(let m)? = try meta.get("thing_dataset_id_to_contiguous_id") {
            for (datasetID, contiguous) in m { toDataset[contiguous] = datasetID }
        }
        if case .string(let json)? = try meta.get("json_file") {
            return (try COCOGroundTruth.load(json), toDataset, classes)
        }
        var anns: [COCOGroundTruth.Annotation] = []
        var id: Int64 = 1
        for d in dicts {
            for a in d.annotations {
                let b = a.xyxy
                anns.append(.init(id: id, imageID: d.imageID, categoryID: toDataset[a.categoryID] ?? Int64(a.categoryID),
                                  bbox: [b[0], b[1], b[2] - b[0], b[3] - b[1]], area: (b[2] - b[0]) * (b[3] - b[1]), isCrowd: a.isCrowd != 0))
                id += 1
            }
        }
        let cats = classes.enumerated().map { (toDataset[$0.offset] ?? Int64($0.offset), $0.element) }
        return (COCOGroundTruth(imageIDs: dicts.map(\.imageID), categories: cats, annotations: anns), toDataset, classes)
    }

    /// COCO results with the dataset's category ids (XYXY converted to XYWH).
    public func cocoResults(mapping toDataset: [Int: Int64]) throws -> [COCODetection] {
        try predictions.flatMap { p in
            let (boxes, scores, classes) = try p.asLists()
            return boxes.indices.map { i in
                COCODetection(imageID: p.imageID!, categoryID: toDataset[classes[i]] ?? Int64(classes[i]),
                              bbox: BoxMode.convert(boxes[i], from: .xyxyAbs, to: .xywhAbs), score: scores[i])
            }
        }
    }

    public func evaluate() throws -> Results {
        let (gt, toDataset, classes) = try groundTruth()
        let dets = try cocoResults(mapping: toDataset)
        if let outputDir {
            try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
            try COCOEvaluator.writeResults(dets, to: (outputDir as NSString).appendingPathComponent("coco_instances_results.json"))
        }
        try COCODetection.validate(dets, against: gt, source: "predictions for '\(datasetName)'")
        return COCOEvaluator.results(groundTruth: gt, detections: dets, classes: classes.isEmpty ? gt.categories.map(\.name) : classes)
    }

    /// Evaluates detections against ground truth and names the numbers as Detectron2 does.
    public static func results(groundTruth gt: COCOGroundTruth, detections dets: [COCODetection], classes: [String]) -> Results {
        if dets.isEmpty {
            let names = ["AP", "AP50", "AP75", "APs", "APm", "APl"] + classes.map { "AP-\($0)" }
            return Results(bbox: names.map { ($0, Double.nan) }, stats: Array(repeating: -1, count: 12), classes: classes, eval: nil)
        }
        let e = COCOEval.run(groundTruth: gt, detections: dets)
        var bbox: [(String, Double)] = []
        for (i, name) in ["AP", "AP50", "AP75", "APs", "APm", "APl"].enumerated() {
            bbox.append((name, e.stats[i] >= 0 ? e.stats[i] * 100 : .nan))
        }
        let per = e.perCategoryAP()
        // COCOeval orders categories by id, which is the contiguous order of thing_classes.
        for (k, ap) in per.enumerated() {
            let name = k < classes.count ? classes[k] : gt.categories[k].name
            bbox.append(("AP-\(name)", ap.map { $0 * 100 } ?? .nan))
        }
        return Results(bbox: bbox, stats: e.stats, classes: classes, eval: e)
    }

    /// coco_instances_results.json, written atomically.
    public static func writeResults(_ dets: [COCODetection], to path: String) throws {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        for (i, d) in dets.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            JSON.serialize(.object([("image_id", .int(d.imageID)), ("category_id", .int(d.categoryID)),
                                    ("bbox", .array(d.bbox.map { .double($0) })), ("score", .double(d.score))]), into: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
        try AtomicFile.write(bytes, to: path)
    }
}
