import Foundation
import Support
import XCTest
import TestFixtures
import Torch
import Vision
@testable import Detection

final class VisionTests: XCTestCase {
    let samples = "/usr/share/doc/opencv-doc/examples/data"

    func sample(_ name: String) throws -> String {
        let p = "\(samples)/\(name)"
        guard FileManager.default.fileExists(atPath: p) else { throw Missing.requirement("\(p) is missing (opencv-doc)") }
        return p
    }

    func testVideoFramesNeverTrustTheContainer() throws {
        let out = try scratch("frames")
        let tree = try Video.extractFrames(from: try sample("tree.avi"), every: 10, to: out)
        XCTAssertEqual(tree.claimedFrames, 444)
        XCTAssertEqual(tree.framesRead, 68, "tree.avi claims 444 frames and yields 68")
        XCTAssertEqual(tree.written.map(\.frame), [0, 10, 20, 30, 40, 50, 60])
        XCTAssertEqual((tree.written[1].path as NSString).lastPathComponent, "tree_000010.jpg")
        let mega = try Video.extractFrames(from: try sample("Megamind.avi"), every: 10, to: out, format: "png")
        XCTAssertEqual(mega.framesRead, 270)
        XCTAssertEqual(mega.written.count, 27)
        XCTAssertEqual(try Image.read(mega.written[3].path).width, 720)
        XCTAssertThrowsError(try Video.extractFrames(from: "/no/such.avi", every: 10, to: out)) {
            XCTAssertTrue("\($0)".contains("cannot open video /no/such.avi"))
        }
        let notVideo = out + "/not_a_video.avi"
        try "hello".write(toFile: notVideo, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Video.extractFrames(from: notVideo, every: 10, to: out))
    }

    func testHaarCascadeFindsTheFaceWithAScore() throws {
        let image = try Image.read(try sample("messi5.jpg"))
        let cascade = try Cascade(path: "haarcascade_frontalface_default.xml")
        let faces = try cascade.detect(image, scaleFactor: 1.1, minNeighbors: 5, minSize: (30, 30), equalize: true)
        // The one real face is near (200, 90) in this photo.
        XCTAssertTrue(faces.contains { abs($0.x + $0.width / 2 - 210) < 40 && abs($0.y + $0.height / 2 - 100) < 40 }, "\(faces)")
        XCTAssertTrue(faces.allSatisfy { $0.score != 0 }, "reject levels give scores")
        XCTAssertThrowsError(try Cascade(path: "no_such_cascade.xml")) { XCTAssertTrue("\($0)".contains("cannot find cascade")) }
    }

    func testDecodingBadFilesAndEXIFOrientation() throws {
        let dir = try scratch("images")
        XCTAssertThrowsError(try Image.read("\(dir)/missing.jpg")) { XCTAssertTrue("\($0)".contains("missing.jpg")) }
        FileManager.default.createFile(atPath: "\(dir)/empty.jpg", contents: Data())
        XCTAssertThrowsError(try Image.read("\(dir)/empty.jpg")) { XCTAssertTrue("\($0)".contains("empty (0 bytes)"), "\($0)") }
        XCTAssertThrowsError(try Image.read(dir)) { XCTAssertTrue("\($0)".contains("\(dir): it is a folder"), "\($0)") }
        let jpeg = try Image(width: 40, height: 20).encode(".jpg")
        FileManager.default.createFile(atPath: "\(dir)/truncated.jpg", contents: Data(jpeg.prefix(jpeg.count / 3)))
        XCTAssertThrowsError(try Image.read("\(dir)/truncated.jpg")) { XCTAssertTrue("\($0)".contains("truncated.jpg"), "\($0)") }
        // A JPEG whose EXIF says "rotate 90°" (orientation 6) decodes upright: 20 wide, 40 high.
        var exif: [UInt8] = Array("Exif".utf8) + [0, 0] + Array("MM".utf8) + [0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]
        exif = [0xFF, 0xE1, UInt8((exif.count + 2) >> 8), UInt8((exif.count + 2) & 0xFF)] + exif
        let rotated = [jpeg[0], jpeg[1]] + exif + jpeg[2...]
        let upright = try Image.decode(Array(rotated))
        XCTAssertEqual([upright.width, upright.height], [20, 40])
        // Gray and alpha images come out as 3-channel BGR.
        try Image(width: 5, height: 4, channels: 1).write("\(dir)/gray.png")
        XCTAssertEqual(try Image.read("\(dir)/gray.png").channels, 3)
        try Image(width: 5, height: 4, channels: 4).write("\(dir)/alpha.png")
        XCTAssertEqual(try Image.read("\(dir)/alpha.png").channels, 3)
        XCTAssertEqual(try Image.read("\(dir)/alpha.png", mode: .unchanged).channels, 4)
    }

    /// Pillow itself, when the Python on PATH has it: random sizes up and down, exact bytes.
    func testPillowResizeAgainstPillow() throws {
        let dir = try scratch("pil")
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import PIL"]
        check.standardError = FileHandle.nullDevice
        try check.run()
        check.waitUntilExit()
        guard check.terminationStatus == 0 else { throw Missing.requirement("python3 with Pillow is not available") }
        var rng = SplitMix64(seed: 5)
        let source = try Image(width: 97, height: 61, bytes: (0..<(97 * 61 * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        try source.write("\(dir)/src.png")
        for (w, h) in [(40, 25), (200, 130), (97, 30), (33, 61), (1, 1)] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3", "-c", "from PIL import Image; Image.open('\(dir)/src.png').resize((\(w), \(h)), Image.BILINEAR).save('\(dir)/pil.png')"]
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
            let theirs = try Image.read("\(dir)/pil.png")
            let ours = try source.resizedLikePIL(width: w, height: h)
            let a = Array(UnsafeBufferPointer(start: ours.data, count: ours.byteCount))
            let b = Array(UnsafeBufferPointer(start: theirs.data, count: theirs.byteCount))
            XCTAssertEqual(a, b, "\(w)x\(h)")
        }
    }
}
