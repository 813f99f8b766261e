import XCTest
import TestFixtures
import Torch
import Vision
@testable import Detection

/// Decoding and resizing against what Detectron2 (Pillow) produced for the same file.
final class ImageParityTests: XCTestCase {
    func testDecodeMatchesDetectron2() throws {
        let jpg = try Fixtures.path("random/inference/messi5/messi5.jpg")
        let expected = try NPY.read(try Fixtures.path("random/inference/messi5/original_bgr.npy"))
        let image = try Image.read(jpg)
        XCTAssertEqual([image.height, image.width, 3], expected.shape)
        let ours = try Tensor.wrapping(UnsafeMutableRawPointer(image.data), shape: [image.height, image.width, 3], dtype: .uint8) { withExtendedLifetime(image) {} }
        let diff = try (ours.to(dtype: .int32) - expected.to(dtype: .int32)).abs()
        let worst = try diff.max().item()
        XCTAssertEqual(worst, 0, "JPEG decode differs from Pillow's by up to \(worst)")
    }

    func testPillowResizeMatchesDetectron2Input() throws {
        let original = try NPY.read(try Fixtures.path("random/inference/messi5/original_bgr.npy"))
        let expected = try NPY.read(try Fixtures.path("random/inference/messi5/image.npy"))   // (3, H, W) float32
        let (h, w) = (original.shape[0], original.shape[1])
        let bytes = try original.contiguous().toArray(UInt8.self)
        let image = try Image(width: w, height: h, channels: 3, bytes: bytes)
        let (nh, nw) = ResizeShortestEdge.outputShape(height: h, width: w, shortEdge: 320, maxSize: 512)
        XCTAssertEqual([nh, nw], [expected.shape[1], expected.shape[2]])
        let resized = try image.resizedLikePIL(width: nw, height: nh).chwTensor()
        XCTAssertTrue(try resized.to(dtype: .float32).equal(expected), "resize differs from Pillow's")
    }
}
