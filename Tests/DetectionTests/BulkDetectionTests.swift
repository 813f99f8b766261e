import Foundation
import Store
import Support
import TestFixtures
import Torch
import Vision
import XCTest
@testable import Detection

/// Bulk detection: the store against DefaultPredictor, failures, resume, shards, the features.
final class BulkDetectionTests: XCTestCase {
    static let samples = "/usr/share/doc/opencv-doc/examples/data"

    func scratch(_ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "lunette-bulk-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The fixture's random R50-FPN (FREEZE_AT 2) and a second model fine-tuned from it, as far
    /// as bulk detection can tell: the same stem and res2, other heads.
    func twoModels(_ dir: String) throws -> [BulkDetection.ModelSpec] {
        let cfg = CfgNode.defaults()
        try cfg.mergeFromFile(try Fixtures.path("random/config.yaml"))
        try cfg.set("MODEL.DEVICE", .string("cpu"))
        try cfg.set("DATASETS.TEST", .list([]))
        try cfg.set("DATASETS.TRAIN", .list([]))
        let original = try Checkpoint.load(try Fixtures.path("random/model_final.pth")).model
        try SafeTensors.write(original, to: dir + "/a.safetensors")
        let changed = try original.map { name, t in
            (name, name.hasPrefix("roi_heads.") || name.contains("res5") ? try t * 1.05 : t)
        }
        try SafeTensors.write(changed, to: dir + "/b.safetensors")
        let classes = ["c0", "c1", "c2", "c3", "c4"]
        return [BulkDetection.ModelSpec(name: "logo", weights: dir + "/a.safetensors", cfg: cfg, thresholds: [("c0", 0.3)], threshold: 0.2, classes: classes),
                BulkDetection.ModelSpec(name: "face", weights: dir + "/b.safetensors", cfg: cfg, threshold: 0.25, classes: classes)]
    }

    func creatives(_ dir: String, corrupt: Bool = false) throws -> [String] {
        var paths = ["messi5.jpg", "board.jpg", "tree.avi", "fruits.jpg"].map { "\(Self.samples)/\($0)" }
        if corrupt {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(Self.samples)/apple.jpg"))
            try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: dir + "/truncated.jpg"))
            try Data("not an image".utf8).write(to: URL(fileURLWithPath: dir + "/fake.png"))
            paths.insert(dir + "/truncated.jpg", at: 2)
            paths.insert(dir + "/fake.png", at: 1)
        }
        return paths
    }

    func job(_ specs: [BulkDetection.ModelSpec], _ paths: [String], out: String, shard: BulkDetection.Shard? = nil, batch: Int = 2, inferenceBatch: Int = 1) throws -> BulkDetection {
        var o = BulkDetection.Options(out: out)
        o.batchSize = batch
        o.shard = shard
        o.inferenceBatch = inferenceBatch
        return try BulkDetection(models: specs, listing: Creatives.Listing(paths: paths, root: Self.samples, source: "test"), options: o, version: "test")
    }

    /// Every stored detection (creative path, model, frame, class, score, box), sorted.
    func rows(_ store: DetectionStore) throws -> [String] {
        var out: [String] = []
        try store.eachCreative { c, dets in
            for d in dets { out.append("\(c.path) \(d.model) \(d.frame ?? -1) \(d.classIndex) \(d.score) \(d.x1) \(d.y1) \(d.x2) \(d.y2)") }
        }
        return out.sorted()
    }

    /// The store holds what DefaultPredictor gives on each image and each sampled frame, for both
    /// models, the one that reuses the other's stem and res2 included; the two share.
    func testStoreEqualsDefaultPredictor() throws {
        let dir = try scratch("parity")
        let specs = try twoModels(dir)
        let j = try job(specs, try creatives(dir), out: dir + "/out.sqlite", inferenceBatch: 2)
        XCTAssertEqual(j.sharing, [["logo", "face"]])
        let report = try j.run()
        XCTAssertEqual(report.done, 4)
        XCTAssertEqual(report.failed, 0)
        XCTAssertEqual(try j.store.inconsistencies(), [])
        var stored: [String: [DetectionStore.DetectionRow]] = [:]
        try j.store.eachCreative { c, dets in stored[c.path] = dets }
        var compared = 0
        for spec in specs {
            let cfg = spec.cfg.clone()
            try cfg.set("MODEL.WEIGHTS", .string(spec.weights))
            try cfg.set("MODEL.ROI_HEADS.SCORE_THRESH_TEST", .float(0.05))
            let predictor = try DefaultPredictor(cfg: cfg)
            for path in try creatives(dir) {
                var frames: [(Int?, Image)] = []
                if path.hasSuffix(".avi") {
                    let v = try Video(path: path)
                    var i = 0
                    while case .frame(let img) = try v.next(decode: i % 10 == 0) {
                        if let img { frames.append((i, img)) }
                        i += 1
                    }
                    XCTAssertEqual(frames.count, 7, "tree.avi yields 68 frames: 0, 10, ..., 60")
                } else { frames = [(nil, try Image.read(path))] }
                for (frame, image) in frames {
                    let expected = try predictor.predict([image])[0].asLists()
                    let got = (stored[path] ?? []).filter { $0.model == spec.name && $0.frame == frame }
                    XCTAssertEqual(got.count, expected.scores.count, "\(spec.name) \(path) frame \(frame ?? -1)")
                    for (g, k) in zip(got, expected.scores.indices) {
                        XCTAssertEqual(g.score, expected.scores[k], accuracy: 1e-6)
                        XCTAssertEqual(g.classIndex, expected.classes[k])
                        XCTAssertEqual(g.label, spec.classes![expected.classes[k]])
                        for (a, b) in zip([g.x1, g.y1, g.x2, g.y2], expected.boxes[k]) { XCTAssertEqual(a, b, accuracy: 1e-3) }
                        compared += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(compared, 100)
        // Video rows: frames sampled, frames read, duration from the frame count and fps.
        let tree = try j.store.creatives().first { $0.path.hasSuffix("tree.avi") }!
        XCTAssertEqual(tree.kind, "video")
        XCTAssertEqual(tree.frames, 7)
        XCTAssertEqual(tree.framesRead, 68)
        XCTAssertEqual(tree.duration!, 68 / tree.fps!, accuracy: 1e-9)
        XCTAssertEqual(tree.sha256, try Digest.sha256(file: tree.path))
    }

    /// An unreadable file in the middle is recorded with its reason and the job goes on; a rerun
    /// does nothing twice; a model whose weights change is recomputed alone.
    func testFailuresResumeAndChangedWeights() throws {
        let dir = try scratch("resume")
        var specs = try twoModels(dir)
        let paths = try creatives(dir, corrupt: true)
        let first = try job(specs, paths, out: dir + "/out.sqlite")
        let r1 = try first.run()
        XCTAssertEqual(r1.done, 4)
        XCTAssertEqual(r1.failed, 2)
        let failed = try BulkResults(store: first.store).failed()
        XCTAssertEqual(failed.map(\.path), [dir + "/fake.png", dir + "/truncated.jpg"])
        XCTAssertTrue(failed.allSatisfy { !$0.reason.isEmpty })
        let before = try rows(first.store)

        let again = try job(specs, paths, out: dir + "/out.sqlite")
        let r2 = try again.run()
        XCTAssertEqual(r2.skipped, 4)
        XCTAssertEqual(r2.modelImages, 0, "nothing done is done again; the two failed files are tried again")
        XCTAssertEqual(try rows(again.store), before)

        // New weights for face: only face runs, logo's rows stay as they were.
        let w = try Checkpoint.load(specs[1].weights).model.map { ($0.name, $0.name == "roi_heads.box_predictor.cls_score.bias" ? try $0.tensor + 0.5 : $0.tensor) }
        try SafeTensors.write(w, to: dir + "/b2.safetensors")
        specs[1].weights = dir + "/b2.safetensors"
        let changed = try job(specs, paths, out: dir + "/out.sqlite")
        let r3 = try changed.run()
        XCTAssertEqual(r3.recomputed, ["face"])
        XCTAssertEqual(r3.modelImages, 1 + 1 + 7 + 1, "face alone over 3 images and 7 frames")
        let after = try rows(changed.store)
        XCTAssertEqual(after.filter { $0.contains(" logo ") }, before.filter { $0.contains(" logo ") })
        XCTAssertNotEqual(after.filter { $0.contains(" face ") }, before.filter { $0.contains(" face ") })
        XCTAssertEqual(try changed.store.inconsistencies(), [])

        // Another set of models on the same store is refused, naming both.
        XCTAssertThrowsError(try job([specs[0]], paths, out: dir + "/out.sqlite").run()) { e in
            XCTAssertTrue("\(e)".contains("holds the detections of models logo, face; this job has logo"), "\(e)")
        }
    }

    /// Three shards merged hold what one unsharded run holds; merging stores of different jobs is refused.
    func testShardsMergeToTheUnshardedStore() throws {
        let dir = try scratch("shards")
        let specs = try twoModels(dir)
        let paths = try creatives(dir)
        let whole = try job(specs, paths, out: dir + "/whole.sqlite")
        try whole.run()
        var parts: [String] = []
        var covered = 0
        for i in 1...3 {
            let s = try job(specs, paths, out: dir + "/part.sqlite", shard: try BulkDetection.Shard(index: i, count: 3))
            covered += s.paths.count
            try s.run()
            parts.append(s.store.path)
        }
        XCTAssertEqual(covered, paths.count, "every creative in exactly one shard")
        XCTAssertEqual(parts[0], dir + "/part.shard-1-of-3.sqlite")
        let merged = try BulkResults.merge(parts, into: dir + "/merged.sqlite", version: "test")
        XCTAssertEqual(merged.copied, paths.count)
        XCTAssertEqual(try rows(try DetectionStore(path: dir + "/merged.sqlite", version: "test")), try rows(whole.store))
        let a = try BulkResults(path: dir + "/merged.sqlite", version: "test").features()
        let b = try BulkResults(store: whole.store).features()
        for (x, y) in zip(a.wide.text.split(separator: "\n"), b.wide.text.split(separator: "\n")) { XCTAssertEqual(x, y) }
        XCTAssertEqual(a.wide.text.count, b.wide.text.count)

        let other = try job([specs[0]], paths, out: dir + "/other.sqlite")
        try other.run()
        XCTAssertThrowsError(try BulkResults.merge([dir + "/whole.sqlite", dir + "/other.sqlite"], into: dir + "/m2.sqlite", version: "test")) { e in
            XCTAssertTrue("\(e)".contains("different jobs"), "\(e)")
        }
        // The same shard of the same store held by a live process is refused, naming it.
        let held = try DetectionStore(path: dir + "/whole.sqlite", version: "test")
        let parent = Holder(host: Holder.current.host, pid: Int(getppid()))
        _ = try held.acquire(parent, now: Date().timeIntervalSince1970, grace: 60)
        XCTAssertThrowsError(try job(specs, paths, out: dir + "/whole.sqlite").run()) { e in
            XCTAssertTrue("\(e)".contains("is in use by process \(getppid()) on \(parent.host)"), "\(e)")
        }
    }

    /// The feature table on a hand-built store: counts, the union of overlapping boxes, video frame
    /// shares, first appearance and on-screen seconds, thresholds per class.
    func testFeaturesOnAHandBuiltStore() throws {
        let dir = try scratch("features")
        let store = try DetectionStore(path: dir + "/s.sqlite", version: "test")
        let classes = JSON.text(.array([.string("logo"), .string("face")]))
        try store.setManifest(settings: ["every": "10", "floor": "0.05"], models: [
            .init(name: "m", weights: "w", sha256: "s", digest: "d", config: "", classes: classes,
                  thresholds: JSON.text(.array([.array([.string("logo"), .double(0.5)]), .array([.string("face"), .double(0.3)])])), objects: classes, shares: nil),
        ])
        let run = try store.startRun(started: 0, version: "t", device: "cpu", precision: "fp32", holder: .current, manifest: "[]")
        func d(_ frame: Int?, _ time: Double?, _ cls: Int, _ score: Double, _ b: [Double]) -> DetectionStore.DetectionRow {
            .init(model: "m", frame: frame, time: time, classIndex: cls, label: cls == 0 ? "logo" : "face", score: score, x1: b[0], y1: b[1], x2: b[2], y2: b[3])
        }
        var image = DetectionStore.CreativeRow(path: "/c/ad1.jpg", kind: "image", state: "done")
        image.width = 100; image.height = 50
        var video = DetectionStore.CreativeRow(path: "/c/ad2.mp4", kind: "video", state: "done")
        video.width = 10; video.height = 10; video.frames = 4; video.framesRead = 40; video.fps = 20; video.duration = 2
        try store.commit([
            // Two logos overlapping by 10x10 (union 20x10 + 20x10 - 10x10 = 300 px of 5000), one below threshold, one box half outside.
            .init(creative: image, models: [("m", "d")], detections: [
                d(nil, nil, 0, 0.9, [0, 0, 20, 10]), d(nil, nil, 0, 0.8, [10, 0, 30, 10]), d(nil, nil, 0, 0.4, [50, 0, 100, 50]),
                d(nil, nil, 1, 0.35, [90, 40, 120, 60])]),
            // The logo in frames 10 and 20 (two boxes in 20), the face only below its threshold.
            .init(creative: video, models: [("m", "d")], detections: [
                d(10, 0.5, 0, 0.7, [0, 0, 5, 10]), d(20, 1.0, 0, 0.6, [0, 0, 10, 10]), d(20, 1.0, 0, 0.55, [0, 0, 2, 2]), d(30, 1.5, 1, 0.2, [0, 0, 1, 1])]),
        ], run: run, now: 0)
        let results = try BulkResults(store: store)
        let (rows, excluded) = try results.featureRows()
        XCTAssertTrue(excluded.isEmpty)
        let logo = rows[0].features[0], face = rows[0].features[1]
        XCTAssertEqual(logo, BulkResults.Feature(present: true, count: 2, maxScore: 0.9, areaShare: 300.0 / 5000, frameShare: nil, firstSeen: nil, screenSeconds: nil))
        XCTAssertEqual(face, BulkResults.Feature(present: true, count: 1, maxScore: 0.35, areaShare: 100.0 / 5000, frameShare: nil, firstSeen: nil, screenSeconds: nil))
        let vlogo = rows[1].features[0], vface = rows[1].features[1]
        XCTAssertEqual(vlogo.count, 2, "at most two logos in one frame")
        XCTAssertEqual(vlogo.areaShare, (0.5 + 1.0) / 4, accuracy: 1e-12, "the mean over the 4 sampled frames")
        XCTAssertEqual(vlogo.frameShare, 0.5)
        XCTAssertEqual(vlogo.firstSeen, 0.5)
        XCTAssertEqual(vlogo.screenSeconds!, 2 * 10 / 20.0, accuracy: 1e-12, "two sampled frames, each standing for 10 frames at 20 fps")
        XCTAssertEqual(vface, BulkResults.Feature(present: false, count: 0, maxScore: 0.2, areaShare: 0, frameShare: 0, firstSeen: nil, screenSeconds: 0))
        let f = try results.features()
        let lines = f.wide.text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "creative_id,path,kind,width,height,duration_s,logo_present,logo_count,logo_max_score,logo_area_share,logo_frame_share,logo_first_seen_s,logo_screen_s,"
                       + "face_present,face_count,face_max_score,face_area_share,face_frame_share,face_first_seen_s,face_screen_s")
        XCTAssertEqual(lines[1], "ad1,/c/ad1.jpg,image,100,50,,1,2,0.9,0.06,,,,1,1,0.35,0.02,,,")
        XCTAssertEqual(lines[2], "ad2,/c/ad2.mp4,video,10,10,2,1,2,0.7,0.375,0.5,0.5,1,0,0,0.2,0,0,,0")
        // Detections CSV at the thresholds, and all of them.
        let csv = try results.detectionsCSV().text.split(separator: "\n")
        XCTAssertEqual(csv[0], "creative_id,path,frame,time_s,model,class,label,score,x1,y1,x2,y2")
        XCTAssertEqual(csv.count - 1, 2 + 1 + 3)
        XCTAssertTrue(csv.contains("ad2,/c/ad2.mp4,20,1,m,0,logo,0.6,0,0,10,10"))
        XCTAssertEqual(try results.detectionsCSV(all: true).text.split(separator: "\n").count - 1, 8)
        // Two creatives with one stem need an id map.
        XCTAssertEqual(try results.featureRows(ids: ["ad1.jpg": "A-1"]).rows[0].creativeID, "A-1")
    }

    func testUnionArea() {
        XCTAssertEqual(BulkResults.unionArea([], width: 10, height: 10), 0)
        XCTAssertEqual(BulkResults.unionArea([(0, 0, 4, 4), (2, 2, 6, 6), (1, 1, 3, 3)], width: 10, height: 10), 16 + 16 - 4)
        XCTAssertEqual(BulkResults.unionArea([(-5, -5, 5, 5)], width: 10, height: 10), 25, "clipped to the image")
        // Against a pixel count on random boxes.
        var g = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let boxes = (0..<5).map { _ -> (Double, Double, Double, Double) in
                let x = Double(Int.random(in: 0..<20, using: &g)), y = Double(Int.random(in: 0..<20, using: &g))
                return (x, y, x + Double(Int.random(in: 1..<10, using: &g)), y + Double(Int.random(in: 1..<10, using: &g)))
            }
            var pixels = 0
            for px in 0..<24 { for py in 0..<24 where boxes.contains(where: { Double(px) >= $0.0 && Double(px) < $0.2 && Double(py) >= $0.1 && Double(py) < $0.3 }) { pixels += 1 } }
            XCTAssertEqual(BulkResults.unionArea(boxes, width: 24, height: 24), Double(pixels))
        }
    }

    func testShardsAndListings() throws {
        let counts = (1...4).map { i in (0..<400).filter { Creatives.shard(of: "ad\($0).jpg", count: 4) == i }.count }
        XCTAssertEqual(counts.reduce(0, +), 400)
        XCTAssertTrue(counts.allSatisfy { $0 > 60 }, "\(counts)")
        XCTAssertEqual(Creatives.shard(of: "x/ad1.jpg", count: 8), Creatives.shard(of: "x/ad1.jpg", count: 8))
        XCTAssertEqual(try BulkDetection.Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "8"]), try BulkDetection.Shard(index: 4, count: 8))
        XCTAssertEqual(try BulkDetection.Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "8"]), try BulkDetection.Shard(index: 3, count: 8))
        XCTAssertEqual(try BulkDetection.Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "0"], count: 2), try BulkDetection.Shard(index: 1, count: 2))
        XCTAssertThrowsError(try BulkDetection.Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "0"]))
        XCTAssertThrowsError(try BulkDetection.Shard(parsing: "9/8"))
        XCTAssertEqual(BulkDetection.storePath("out/a.sqlite", shard: try BulkDetection.Shard(index: 2, count: 5)), "out/a.shard-2-of-5.sqlite")

        let dir = try scratch("listing")
        try FileManager.default.createDirectory(atPath: dir + "/sub/.hidden", withIntermediateDirectories: true)
        for f in ["a.jpg", "sub/b.MP4", "sub/.hidden/c.jpg", "notes.txt", ".d.png"] { FileManager.default.createFile(atPath: dir + "/" + f, contents: Data()) }
        XCTAssertEqual(try Creatives.list(dir).paths, [dir + "/a.jpg", dir + "/sub/b.MP4"])
        XCTAssertEqual(try Creatives.list(dir + "/*.jpg").paths, [dir + "/a.jpg"])
        try "a.jpg\n# a comment\n\nsub/b.MP4\n".write(toFile: dir + "/list.txt", atomically: true, encoding: .utf8)
        XCTAssertEqual(try Creatives.list(dir + "/list.txt").paths, [dir + "/a.jpg", dir + "/sub/b.MP4"])
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        XCTAssertThrowsError(try Creatives.list(dir + "/empty")) { XCTAssertTrue("\($0)".contains("holds no file"), "\($0)") }
        try FileManager.default.createDirectory(atPath: dir + "/text", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/text/readme.md", contents: Data())
        XCTAssertThrowsError(try Creatives.list(dir + "/text")) { XCTAssertTrue("\($0)".contains("holds no image or video (1 other file: readme.md)"), "\($0)") }
    }
}
