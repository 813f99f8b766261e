import Foundation
import Support
import XCTest
import Torch
import Vision
@testable import Detection

final class LoaderTests: XCTestCase {
    override func setUp() { DetectionLog.shared.echo = false }

    func testResizeShortestEdgeShapes() {
        XCTAssertTrue(ResizeShortestEdge.outputShape(height: 342, width: 548, shortEdge: 320, maxSize: 512) == (320, 512))
        XCTAssertTrue(ResizeShortestEdge.outputShape(height: 480, width: 640, shortEdge: 800, maxSize: 1333) == (800, 1067))
        XCTAssertTrue(ResizeShortestEdge.outputShape(height: 640, width: 480, shortEdge: 800, maxSize: 1333) == (1067, 800))
        XCTAssertTrue(ResizeShortestEdge.outputShape(height: 100, width: 1000, shortEdge: 800, maxSize: 1333) == (133, 1333))
    }

    /// A 200x100 image with one box, one crowd box and one box outside the image.
    func makeDataset(count: Int = 1) throws -> [DatasetDict] {
        let dir = try scratch("loader")
        var dicts: [DatasetDict] = []
        for i in 0..<count {
            let w = i % 2 == 0 ? 200 : 100, h = i % 2 == 0 ? 100 : 200
            let img = try Image(width: w, height: h)
            try img.fillRectangle(x1: 0, y1: 0, x2: w, y2: h, color: Color(r: 10 * i % 255, g: 100, b: 50))
            let path = "\(dir)/img\(i).png"
            try img.write(path)
            dicts.append(DatasetDict(fileName: path, height: h, width: w, imageID: Int64(i + 1), annotations: [
                Annotation(bbox: [10, 20, 40, 30], categoryID: 1),
                Annotation(bbox: [0, 0, 5, 5], categoryID: 0, isCrowd: 1),
                Annotation(bbox: [500, 500, 10, 10], categoryID: 0),
            ]))
        }
        return dicts
    }

    func testMapperTransformsBoxesWithTheImage() throws {
        let d = try makeDataset()[0]
        let resize = try ResizeShortestEdge(shortEdgeLengths: [200], maxSize: 1000)
        var mapper = DatasetMapper(isTrain: true, resize: resize, flipProbability: 0)
        var rng = SplitMix64(seed: 1)
        let s = try mapper.map(d, rng: &rng)
        XCTAssertEqual(s.image.shape, [3, 200, 400])
        XCTAssertEqual(s.image.dtype, .uint8)
        XCTAssertEqual(try s.gtBoxes!.toArray(Float.self), [20, 40, 100, 100], "x2 scale; crowd and out-of-image boxes dropped")
        XCTAssertEqual(try s.gtClasses!.toArray(Int64.self), [1])
        mapper.flipProbability = 1
        let f = try mapper.map(d, rng: &rng)
        XCTAssertEqual(try f.gtBoxes!.toArray(Float.self), [300, 40, 380, 100], "flipped: x' = W - x")
        let test = try DatasetMapper(isTrain: false, resize: resize).map(d, rng: &rng)
        XCTAssertNil(test.gtBoxes)
        XCTAssertEqual(test.height, 100)
        var wrong = d
        wrong.width = 201
        XCTAssertThrowsError(try mapper.map(wrong, rng: &rng)) { XCTAssertTrue("\($0)".contains("Mismatched image shape"), "\($0)") }
    }

    func testLoaderIsDeterministicWhateverTheWorkerCount() throws {
        let dicts = try makeDataset(count: 6)
        func run(workers: Int) throws -> [[Int64]] {
            var s = LoaderSettings()
            s.minSizeTrain = [64, 96]
            s.maxSizeTrain = 512
            s.imsPerBatch = 2
            s.numWorkers = workers
            s.seed = 7
            let loader = try TrainLoader(dicts: dicts, settings: s)
            defer { loader.close() }
            return try (0..<6).map { _ in
                let batch = try loader.next()
                // Aspect-ratio grouping: both images of a batch have the same orientation.
                XCTAssertEqual(batch[0].image.shape[2] > batch[0].image.shape[1], batch[1].image.shape[2] > batch[1].image.shape[1])
                return batch.map(\.imageID) + batch.map { Int64($0.image.shape[1]) }
            }
        }
        XCTAssertEqual(try run(workers: 0), try run(workers: 2))
    }

    /// RepeatFactorTrainingSampler: Detectron2's factors, and epochs that repeat rare images
    /// floor(r) or ceil(r) times with the right mean; starting at a later batch continues the
    /// same stream.
    func testRepeatFactorSampling() throws {
        func dict(_ id: Int64, _ classes: [Int]) -> DatasetDict {
            DatasetDict(fileName: "\(id)", height: 10, width: 20, imageID: id, annotations: classes.map { Annotation(bbox: [0, 0, 5, 5], categoryID: $0) })
        }
        // Class 0 is in 9 of 10 images, class 1 in 1, class 2 in 2; one image has none.
        let dicts = (0..<8).map { dict(Int64($0), [0]) } + [dict(8, [0, 1, 2, 0]), dict(9, [2])]
        let r = TrainLoader.repeatFactors(dicts, threshold: 0.5, sqrt: true)
        XCTAssertEqual(r[0], 1)
        XCTAssertEqual(r[8], (0.5 / 0.1).squareRoot(), accuracy: 1e-12)        // its rarest class decides
        XCTAssertEqual(r[9], (0.5 / 0.2).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(TrainLoader.repeatFactors(dicts, threshold: 0.5, sqrt: false)[8], 5, accuracy: 1e-12)
        XCTAssertEqual(TrainLoader.repeatFactors([dict(0, [])], threshold: 0.5, sqrt: true), [1])

        // Each epoch repeats image i floor(r) or ceil(r) times, r on average; the stream is the
        // epochs one after another, and the same for the same seed.
        let sampler = EpochSampler(repeatFactors: r, seed: 3)
        var totals = [Double](repeating: 0, count: 10)
        var stream: [Int] = []
        for e in 0..<400 {
            let list = sampler.epochList(e)
            stream += list
            for i in 0..<10 {
                let n = list.filter { $0 == i }.count
                XCTAssertTrue(n == Int(r[i].rounded(.down)) || n == Int(r[i].rounded(.up)), "epoch \(e): image \(i) \(n) times (r = \(r[i]))")
                totals[i] += Double(n)
            }
        }
        XCTAssertEqual(totals[8] / 400, r[8], accuracy: 0.12)
        XCTAssertEqual(totals[9] / 400, r[9], accuracy: 0.12)
        let again = EpochSampler(repeatFactors: r, seed: 3)
        XCTAssertEqual((0..<stream.count).map { again.index($0) }, stream)
        XCTAssertNotEqual(EpochSampler(repeatFactors: r, seed: 4).epochList(0), sampler.epochList(0))

        let cfg = CfgNode.defaults()
        try cfg.mergeFromList(["DATALOADER.SAMPLER_TRAIN", "RandomSubsetTrainingSampler"])
        XCTAssertThrowsError(try LoaderSettings(cfg: cfg)) { XCTAssertTrue("\($0)".contains("DATALOADER.SAMPLER_TRAIN"), "\($0)") }
    }

    func testUnreadableImagesFailWithTheirNameOrAreSkippedAndCounted() throws {
        var dicts = try makeDataset(count: 3)
        let broken = dicts[1].fileName + ".broken.png"
        FileManager.default.createFile(atPath: broken, contents: Data())
        dicts[1].fileName = broken
        var s = LoaderSettings()
        s.minSizeTest = 50
        s.numWorkers = 2
        let strict = try TestLoader(dicts: dicts, settings: s)
        XCTAssertNotNil(try strict.next())
        XCTAssertThrowsError(try strict.next()) { XCTAssertTrue("\($0)".contains("image 2 (\(broken))"), "\($0)") }
        strict.close()
        s.skipUnreadable = true
        let lenient = try TestLoader(dicts: dicts, settings: s)
        var ids: [Int64] = []
        while let sample = try lenient.next() { ids.append(sample.imageID) }
        XCTAssertEqual(ids, [1, 3])
        XCTAssertEqual(lenient.skippedImages, 1)
    }
}
