import Foundation
import Support
import Vision

/// OpenCV's pretrained Haar cascades scored with the models' presence metric, so the final-models
/// table shows what a custom detector gains. Faces: the face cascade on the whole image. Smiles
/// (`inner` cascade): the smile cascade inside each detected face (the study's setup), a smile
/// counting where it lies in the face's lower half.
///
/// A cascade has no confidence in 0..1: an image with a detection is predicted present at every
/// threshold, so the baseline's metric is the same at each (its operating point is set by
/// min_neighbors instead).
public struct HaarBaseline {
    public let className: String
    public let cascade: String
    public let inner: String?
    public let presence: PresenceEvaluation

    public init(dicts: [DatasetDict], classes: [String], className: String, cascade cascadeName: String, inner innerName: String?,
                thresholds: [Double], scaleFactor: Double = 1.1, minNeighbors: Int = 3, minSize: Int = 0, dataset: String) throws {
        guard let k = classes.firstIndex(of: className) else {
            throw DataError("haar_baseline: dataset '\(dataset)' has no class '\(className)'\(Suggestion.hint(for: className, among: classes)); its classes are \(classes.joined(separator: ", "))")
        }
        guard scaleFactor > 1 else { throw DataError("haar_baseline: scale_factor must be greater than 1, got \(scaleFactor)") }
        guard minNeighbors >= 0 else { throw DataError("haar_baseline: min_neighbors must be >= 0, got \(minNeighbors)") }
        let outer = try Cascade(path: cascadeName)
        let smile = try innerName.map { try Cascade(path: $0) }
        var predictions: [Instances] = []
        let progress = ProgressMeter(title: "haar baseline on \(dataset)", total: dicts.count, unit: "img")
        progress.begin()
        defer { progress.finish() }
        for (n, d) in dicts.enumerated() {
            if LongWork.stopRequested {
                throw Stopped("haar baseline stopped after \(n) of \(dicts.count) images", kept: "nothing (the baseline is scored over the whole set)",
                              howToContinue: "call haar_baseline again")
            }
            let image = try Image.read(d.fileName)
            let faces = try outer.detect(image, scaleFactor: scaleFactor, minNeighbors: minNeighbors, minSize: (minSize, minSize))
            var boxes: [[Double]] = []
            if let smile {
                let smiles = try smile.detect(image, scaleFactor: scaleFactor, minNeighbors: max(minNeighbors, 1))
                for f in faces {
                    let inFace = smiles.contains { s in
                        let cx = Double(s.x) + Double(s.width) / 2, cy = Double(s.y) + Double(s.height) / 2
                        return cx >= Double(f.x) && cx <= Double(f.x + f.width) && cy >= Double(f.y) + Double(f.height) / 2 && cy <= Double(f.y + f.height)
                    }
                    if inFace { boxes.append([Double(f.x), Double(f.y + f.height / 2), Double(f.x + f.width), Double(f.y + f.height)]) }
                }
            } else {
                boxes = faces.map { [Double($0.x), Double($0.y), Double($0.x + $0.width), Double($0.y + $0.height)] }
            }
            predictions.append(try Instances(boxes: boxes, scores: boxes.map { _ in 1.0 }, classes: boxes.map { _ in 0 },
                                             imageSize: (d.height, d.width), imageID: d.imageID))
            progress.update(done: n + 1)
        }
        // The class alone, as class 0.
        let one = dicts.map { d in
            DatasetDict(fileName: d.fileName, height: d.height, width: d.width, imageID: d.imageID,
                        annotations: d.annotations.filter { $0.categoryID == k }.map { var a = $0; a.categoryID = 0; return a })
        }
        presence = try PresenceEvaluation(dicts: one, predictions: predictions, classes: [className], thresholds: thresholds)
        self.className = className
        cascade = cascadeName
        inner = innerName
    }

    /// "haar: haarcascade_frontalface_default.xml" (with the smile cascade when there is one).
    public var name: String { "haar: " + ([(cascade as NSString).lastPathComponent] + (inner.map { [($0 as NSString).lastPathComponent] } ?? [])).joined(separator: " + ") }

    public func value(_ metric: String) throws -> Double? { try presence.counts[0][0].metric(metric) }
}
