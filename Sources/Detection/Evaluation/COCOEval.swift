import Foundation
import Support

/// Ground truth as pycocotools keeps it: every annotation with its own id, area and crowd flag.
public struct COCOGroundTruth: Sendable {
    public struct Annotation: Sendable {
        public var id: Int64
        public var imageID: Int64
        public var categoryID: Int64
        /// [x, y, w, h]
        public var bbox: [Double]
        public var area: Double
        public var isCrowd: Bool
    }

    public var imageIDs: [Int64]
    /// Category ids and names, sorted by id.
    public var categories: [(id: Int64, name: String)]
    public var annotations: [Annotation]

    public init(imageIDs: [Int64], categories: [(id: Int64, name: String)], annotations: [Annotation]) {
        self.imageIDs = imageIDs
        self.categories = categories.sorted { $0.id < $1.id }
        self.annotations = annotations
    }

    /// Reads a COCO instances JSON. A missing `area` is taken from the box, with a warning.
    public static func load(_ path: String) throws -> COCOGroundTruth {
        let root = try JSON.parseFile(path)
        guard let images = root["images"]?.array, let anns = root["annotations"]?.array, let cats = root["categories"]?.array else {
            throw DataError("\(path): a COCO instances file needs 'images', 'annotations' and 'categories' arrays")
        }
        var imageIDs: [Int64] = []
        for (i, im) in images.enumerated() {
            guard let id = im["id"]?.integer else { throw DataError("\(path): images[\(i)] has no integer 'id'") }
            imageIDs.append(id)
        }
        var categories: [(Int64, String)] = []
        for (i, c) in cats.enumerated() {
            guard let id = c["id"]?.integer, let name = c["name"]?.string else { throw DataError("\(path): categories[\(i)] needs 'id' and 'name'") }
            categories.append((id, name))
        }
        var annotations: [Annotation] = []
        var missingArea = 0
        for (i, a) in anns.enumerated() {
            guard let id = a["id"]?.integer else { throw DataError("\(path): annotations[\(i)] has no integer 'id'") }
            guard let image = a["image_id"]?.integer, let cat = a["category_id"]?.integer else {
                throw DataError("\(path): annotation \(id) needs 'image_id' and 'category_id'")
            }
            guard let b = a["bbox"]?.array?.compactMap(\.number), b.count == 4 else { throw DataError("\(path): annotation \(id) needs a 'bbox' of 4 numbers") }
            var area = a["area"]?.number
            if let given = a["area"], given != .null, area == nil {
                throw DataError("\(path): annotation \(id): 'area' must be a number, found \(given.typeName)")
            }
            if area == nil { missingArea += 1; area = b[2] * b[3] }
            var crowd = false
            if case .bool(let c)? = a["iscrowd"] { crowd = c } else if let c = a["iscrowd"]?.integer { crowd = c != 0 }
            annotations.append(Annotation(id: id, imageID: image, categoryID: cat, bbox: b, area: area!, isCrowd: crowd))
        }
        if missingArea > 0 {
            DetectionLog.shared.warn("COCOeval", "\(path): \(missingArea) annotations have no 'area'; using the box area (w * h) for the small/medium/large ranges")
        }
        return COCOGroundTruth(imageIDs: imageIDs, categories: categories, annotations: annotations)
    }
}

/// One detection in COCO results form.
public struct COCODetection: Sendable {
    public var imageID: Int64
    public var categoryID: Int64
    /// [x, y, w, h]
    public var bbox: [Double]
    public var score: Double

    public init(imageID: Int64, categoryID: Int64, bbox: [Double], score: Double) {
        self.imageID = imageID
        self.categoryID = categoryID
        self.bbox = bbox
        self.score = score
    }

    /// Reads a COCO results JSON (a list of {image_id, category_id, bbox, score}), checked against
    /// the ground truth: unknown images are an error (as in pycocotools), NaN scores too; unknown
    /// categories and negative sizes or scores are warned about.
    public static func load(_ path: String, groundTruth gt: COCOGroundTruth) throws -> [COCODetection] {
        let root = try JSON.parseFile(path)
        guard let list = root.array else { throw DataError("\(path): COCO results are a JSON array of detections") }
        var out: [COCODetection] = []
        out.reserveCapacity(list.count)
        for (i, r) in list.enumerated() {
            guard let image = r["image_id"]?.integer, let cat = r["category_id"]?.integer,
                  let b = r["bbox"]?.array?.compactMap(\.number), b.count == 4, let score = r["score"]?.number else {
                throw DataError("\(path): result [\(i)] needs image_id, category_id, bbox [x, y, w, h] and score")
            }
            out.append(COCODetection(imageID: image, categoryID: cat, bbox: b, score: score))
        }
        try validate(out, against: gt, source: path)
        return out
    }

    public static func validate(_ dets: [COCODetection], against gt: COCOGroundTruth, source: String) throws {
        let images = Set(gt.imageIDs), cats = Set(gt.categories.map(\.id))
        var unknownCats: [Int64: Int] = [:]
        var negative = 0, negativeScores = 0
        for (i, d) in dets.enumerated() {
            guard images.contains(d.imageID) else {
                throw DataError("\(source): result [\(i)] is for image \(d.imageID), which the ground truth does not have (Results do not correspond to current coco set)")
            }
            guard !d.score.isNaN else { throw DataError("\(source): result [\(i)] (image \(d.imageID)) has a NaN score") }
            guard d.bbox.allSatisfy({ $0.isFinite }) else { throw DataError("\(source): result [\(i)] (image \(d.imageID)) has a non-finite box") }
            if !cats.contains(d.categoryID) { unknownCats[d.categoryID, default: 0] += 1 }
            if d.bbox[2] < 0 || d.bbox[3] < 0 { negative += 1 }
            if d.score < 0 { negativeScores += 1 }
        }
        for (c, n) in unknownCats.sorted(by: { $0.key < $1.key }) {
            DetectionLog.shared.warn("COCOeval", "\(source): \(n) results have category_id \(c), which the ground truth does not have; they are not evaluated")
        }
        if negative > 0 { DetectionLog.shared.warn("COCOeval", "\(source): \(negative) results have a negative width or height") }
        if negativeScores > 0 { DetectionLog.shared.warn("COCOeval", "\(source): \(negativeScores) results have a negative score") }
        if dets.isEmpty { DetectionLog.shared.warn("COCOeval", "\(source): No predictions from the model!") }
    }
}

/// pycocotools' COCOeval for boxes, number for number: the same matching (greedy by score,
/// crowd IoU over the detection's area, ignored ground truth), the same accumulation (101 recall
/// points, precision made monotone), the same 12 summary numbers.
public final class COCOEval: @unchecked Sendable {
    public let iouThresholds: [Double]
    public let recallThresholds: [Double]
    public let maxDets: [Int]
    public let areaRanges: [(String, Double, Double)] = [("all", 0, 1e10), ("small", 0, 32 * 32), ("medium", 32 * 32, 96 * 96), ("large", 96 * 96, 1e10)]
    public let imageIDs: [Int64]
    public let categoryIDs: [Int64]

    struct GT { var id: Int64; var bbox: (Double, Double, Double, Double); var area: Double; var crowd: Bool }
    struct DT { var id: Int64; var bbox: (Double, Double, Double, Double); var area: Double; var score: Double }

    /// Per (category, image): ground truth and detections in file order.
    private var gts: [[GT]] = []
    private var dts: [[DT]] = []

    /// evaluateImg results for (category, area, image), nil where there was nothing.
    struct ImageEval {
        var dtScores: [Double]
        /// T x D, row-major: matched to a ground truth with a nonzero id (pycocotools' dtm != 0).
        var dtMatched: [Bool]
        /// T x D, row-major.
        var dtIgnore: [Bool]
        /// Ground truth that counts (not ignored).
        var gtCounted: Int
    }
    private var evalImgs: [ImageEval?] = []

    /// T x R x K x A x M, -1 where undefined.
    public private(set) var precision: [Double] = []
    /// T x K x A x M
    public private(set) var recall: [Double] = []
    public private(set) var stats: [Double] = []

    static func linspace(_ start: Double, _ stop: Double, _ num: Int) -> [Double] {
        let step = (stop - start) / Double(num - 1)
        var v = (0..<num).map { Double($0) * step + start }
        v[num - 1] = stop
        return v
    }

    public init(groundTruth: COCOGroundTruth, detections: [COCODetection], maxDets: [Int] = [1, 10, 100]) {
        iouThresholds = COCOEval.linspace(0.5, 0.95, 10)
        recallThresholds = COCOEval.linspace(0, 1, 101)
        self.maxDets = maxDets
        imageIDs = Array(Set(groundTruth.imageIDs)).sorted()
        categoryIDs = Array(Set(groundTruth.categories.map(\.id))).sorted()
        let imageIndex = Dictionary(uniqueKeysWithValues: imageIDs.enumerated().map { ($1, $0) })
        let catIndex = Dictionary(uniqueKeysWithValues: categoryIDs.enumerated().map { ($1, $0) })
        let I = imageIDs.count, K = categoryIDs.count
        gts = Array(repeating: [], count: I * K)
        dts = Array(repeating: [], count: I * K)
        for a in groundTruth.annotations {
            guard let i = imageIndex[a.imageID], let k = catIndex[a.categoryID] else { continue }
            gts[k * I + i].append(GT(id: a.id, bbox: (a.bbox[0], a.bbox[1], a.bbox[2], a.bbox[3]), area: a.area, crowd: a.isCrowd))
        }
        // loadRes: ids 1..n in file order, area = w * h.
        for (n, d) in detections.enumerated() {
            guard let i = imageIndex[d.imageID], let k = catIndex[d.categoryID] else { continue }
            dts[k * I + i].append(DT(id: Int64(n + 1), bbox: (d.bbox[0], d.bbox[1], d.bbox[2], d.bbox[3]), area: d.bbox[2] * d.bbox[3], score: d.score))
        }
    }

    /// Stable sort by descending score (numpy's mergesort on -score).
    static func byScore(_ dt: [DT]) -> [Int] {
        Array(dt.indices).sorted { a, b in
            let sa = -dt[a].score, sb = -dt[b].score
            return sa < sb || (sa == sb && a < b)
        }
    }

    public func evaluate() {
        let I = imageIDs.count, K = categoryIDs.count, A = areaRanges.count, T = iouThresholds.count
        let maxDet = maxDets.last!
        let results = UnsafeMutableBufferPointer<ImageEval?>.allocate(capacity: K * A * I)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        nonisolated(unsafe) let out = results
        let thresholds = iouThresholds.map { min($0, 1 - 1e-10) }
        DispatchQueue.concurrentPerform(iterations: K) { k in
            for i in 0..<I {
                let gt = gts[k * I + i]
                let dtAll = dts[k * I + i]
                if gt.isEmpty && dtAll.isEmpty { continue }
                // computeIoU: detections by score, cut to the last maxDets.
                let order = COCOEval.byScore(dtAll)
                let dt = order.prefix(maxDet).map { dtAll[$0] }
                var ious = [Double](repeating: 0, count: dt.count * gt.count)
                for (di, d) in dt.enumerated() {
                    for (gi, g) in gt.enumerated() { ious[di * gt.count + gi] = Boxes.iou(xywh: d.bbox, g.bbox, crowd: g.crowd) }
                }
                for (ai, range) in areaRanges.enumerated() {
                    // Ground truth: ignored (crowd or outside the area range) last, stable.
                    let ignoreFlags = gt.map { $0.crowd || $0.area < range.1 || $0.area > range.2 }
                    let gtOrder = gt.indices.filter { !ignoreFlags[$0] } + gt.indices.filter { ignoreFlags[$0] }
                    let G = gt.count, D = dt.count
                    let gtIg = gtOrder.map { ignoreFlags[$0] }
                    var dtMatchID = [[Int64]](repeating: [Int64](repeating: 0, count: D), count: T)
                    var dtIg = [[Bool]](repeating: [Bool](repeating: false, count: D), count: T)
                    if D > 0 && G > 0 {
                        for (t, threshold) in thresholds.enumerated() {
                            var gtMatched = [Bool](repeating: false, count: G)
                            for di in 0..<D {
                                var best = threshold
                                var m = -1
                                for gj in 0..<G {
                                    let g = gt[gtOrder[gj]]
                                    if gtMatched[gj] && !g.crowd { continue }
                                    if m > -1 && !gtIg[m] && gtIg[gj] { break }
                                    let v = ious[di * G + gtOrder[gj]]
                                    if v < best { continue }
                                    best = v
                                    m = gj
                                }
                                if m == -1 { continue }
                                dtIg[t][di] = gtIg[m]
                                dtMatchID[t][di] = gt[gtOrder[m]].id
                                gtMatched[m] = true
                            }
                        }
                    }
                    // Unmatched detections outside the area range are ignored.
                    for t in 0..<T {
                        for di in 0..<D where dtMatchID[t][di] == 0 && (dt[di].area < range.1 || dt[di].area > range.2) {
                            dtIg[t][di] = true
                        }
                    }
                    out[(k * A + ai) * I + i] = ImageEval(dtScores: dt.map(\.score),
                                                          dtMatched: dtMatchID.flatMap { $0.map { $0 != 0 } },
                                                          dtIgnore: dtIg.flatMap { $0 }, gtCounted: gtIg.filter { !$0 }.count)
                }
            }
        }
        evalImgs = Array(results)
    }

    public func accumulate() {
        let T = iouThresholds.count, R = recallThresholds.count, K = categoryIDs.count, A = areaRanges.count, M = maxDets.count
        let I = imageIDs.count
        let eps = 2.220446049250313e-16  // np.spacing(1)
        let precisionOut = UnsafeMutableBufferPointer<Double>.allocate(capacity: T * R * K * A * M)
        let recallOut = UnsafeMutableBufferPointer<Double>.allocate(capacity: T * K * A * M)
        precisionOut.initialize(repeating: -1)
        recallOut.initialize(repeating: -1)
        defer { precisionOut.deallocate(); recallOut.deallocate() }
        nonisolated(unsafe) let pOut = precisionOut, rOut = recallOut
        let recThrs = recallThresholds
        DispatchQueue.concurrentPerform(iterations: K * A) { ka in
            let k = ka / A, a = ka % A
            let E = (0..<I).compactMap { evalImgs[(k * A + a) * I + $0] }
            if E.isEmpty { return }
            let npig = E.reduce(0) { $0 + $1.gtCounted }
            if npig == 0 { return }
            for (m, maxDet) in maxDets.enumerated() {
                // Every image's first maxDet detections, by descending score (stable, as mergesort).
                var scores: [Double] = [], owner: [Int32] = [], slot: [Int32] = []
                for (e, ev) in E.enumerated() {
                    for d in 0..<min(maxDet, ev.dtScores.count) {
                        scores.append(ev.dtScores[d])
                        owner.append(Int32(e))
                        slot.append(Int32(d))
                    }
                }
                let order = scores.indices.sorted { x, y in scores[x] > scores[y] || (scores[x] == scores[y] && x < y) }
                let nd = order.count
                var rc = [Double](repeating: 0, count: nd), pr = [Double](repeating: 0, count: nd)
                for t in 0..<T {
                    var tp = 0.0, fp = 0.0
                    for (n, o) in order.enumerated() {
                        let ev = E[Int(owner[o])]
                        let d = Int(slot[o]), D = ev.dtScores.count
                        // An ignored detection is neither a true nor a false positive, but still a point of the curve.
                        if !ev.dtIgnore[t * D + d] {
                            if ev.dtMatched[t * D + d] { tp += 1 } else { fp += 1 }
                        }
                        rc[n] = tp / Double(npig)
                        pr[n] = tp / (fp + tp + eps)
                    }
                    rOut[((t * K + k) * A + a) * M + m] = nd > 0 ? rc[nd - 1] : 0
                    if nd > 1 { for i in stride(from: nd - 1, to: 0, by: -1) where pr[i] > pr[i - 1] { pr[i - 1] = pr[i] } }
                    // q[r] = pr[searchsorted(rc, recThrs, 'left')[r]]; thresholds past the end of the
                    // curve keep 0 (pycocotools stops filling at the first IndexError).
                    var pi = 0
                    for ri in 0..<R {
                        while pi < nd && rc[pi] < recThrs[ri] { pi += 1 }
                        pOut[(((t * R + ri) * K + k) * A + a) * M + m] = pi < nd ? pr[pi] : 0
                    }
                }
            }
        }
        precision = Array(precisionOut)
        recall = Array(recallOut)
    }

    /// The 12 numbers of COCOeval.summarize(): AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl.
    @discardableResult
    public func summarize() -> [Double] {
        let T = iouThresholds.count, R = recallThresholds.count, K = categoryIDs.count, A = areaRanges.count, M = maxDets.count
        func mean(ap: Bool, iou: Double?, area: Int, maxDet: Int) -> Double {
            guard let m = maxDets.firstIndex(of: maxDet) else { return -1 }
            let ts = iou.map { v in iouThresholds.indices.filter { iouThresholds[$0] == v } } ?? Array(0..<T)
            var sum = 0.0, n = 0
            for t in ts {
                for k in 0..<K {
                    if ap {
                        for r in 0..<R {
                            let v = precision[(((t * R + r) * K + k) * A + area) * M + m]
                            if v > -1 { sum += v; n += 1 }
                        }
                    } else {
                        let v = recall[((t * K + k) * A + area) * M + m]
                        if v > -1 { sum += v; n += 1 }
                    }
                }
            }
            return n == 0 ? -1 : sum / Double(n)
        }
        let last = maxDets.last!
        stats = [mean(ap: true, iou: nil, area: 0, maxDet: last), mean(ap: true, iou: 0.5, area: 0, maxDet: last),
                 mean(ap: true, iou: 0.75, area: 0, maxDet: last), mean(ap: true, iou: nil, area: 1, maxDet: last),
                 mean(ap: true, iou: nil, area: 2, maxDet: last), mean(ap: true, iou: nil, area: 3, maxDet: last),
                 mean(ap: false, iou: nil, area: 0, maxDet: maxDets[0]), mean(ap: false, iou: nil, area: 0, maxDet: maxDets.count > 1 ? maxDets[1] : last),
                 mean(ap: false, iou: nil, area: 0, maxDet: last), mean(ap: false, iou: nil, area: 1, maxDet: last),
                 mean(ap: false, iou: nil, area: 2, maxDet: last), mean(ap: false, iou: nil, area: 3, maxDet: last)]
        return stats
    }

    /// Detectron2's per-category AP: the mean of precision over IoUs and recall points at area
    /// "all" and the last maxDets, over defined entries; nil where nothing is defined.
    public func perCategoryAP() -> [Double?] {
        let T = iouThresholds.count, R = recallThresholds.count, K = categoryIDs.count, A = areaRanges.count, M = maxDets.count
        return (0..<K).map { k in
            var sum = 0.0, n = 0
            for t in 0..<T {
                for r in 0..<R {
                    let v = precision[(((t * R + r) * K + k) * A + 0) * M + (M - 1)]
                    if v > -1 { sum += v; n += 1 }
                }
            }
            return n == 0 ? nil : sum / Double(n)
        }
    }

    /// evaluate, accumulate, summarize.
    public static func run(groundTruth: COCOGroundTruth, detections: [COCODetection]) -> COCOEval {
        let e = COCOEval(groundTruth: groundTruth, detections: detections)
        e.evaluate()
        e.accumulate()
        e.summarize()
        return e
    }
}
