import CVision
import Foundation
import Support

/// An 8-bit image in OpenCV's layout: height x width x channels, BGR (or BGRA, or gray).
public final class Image {
    let handle: cv_image
    /// The order of the colour channels: images are read as BGR; rgb() makes an RGB copy.
    public var order: ChannelOrder

    public enum ChannelOrder: String, Sendable { case bgr, rgb, gray, bgra }

    init(handle: cv_image, order: ChannelOrder? = nil) {
        self.handle = handle
        let c = cv_image_channels(handle)
        self.order = order ?? (c == 1 ? .gray : c == 4 ? .bgra : .bgr)
    }
    deinit { cv_image_free(handle) }

    static func make(_ body: (UnsafeMutablePointer<cv_image?>) -> Int32) throws -> Image {
        var out: cv_image?
        try check(body(&out))
        guard let out else { throw VisionError("OpenCV returned no image") }
        return Image(handle: out)
    }

    public var width: Int { Int(cv_image_width(handle)) }
    public var height: Int { Int(cv_image_height(handle)) }
    public var channels: Int { Int(cv_image_channels(handle)) }
    /// Row-major HWC bytes (valid while the image lives).
    public var data: UnsafeMutablePointer<UInt8> { cv_image_data(handle) }
    public var byteCount: Int { width * height * channels }

    /// A zero-filled image, or a copy of `bytes` (height * width * channels of them).
    public convenience init(width: Int, height: Int, channels: Int = 3, bytes: [UInt8]? = nil) throws {
        if let bytes, bytes.count != width * height * channels {
            throw VisionError("\(bytes.count) bytes for a \(width)x\(height)x\(channels) image")
        }
        var out: cv_image?
        try check(cv_image_new(try Checked.int32(width, "width"), try Checked.int32(height, "height"), try Checked.int32(channels, "channels"), bytes, &out))
        self.init(handle: out!)
    }

    public enum DecodeMode: Int32 { case bgr = 0, unchanged = 1, gray = 2 }

    /// Reads an image file: BGR with EXIF orientation applied (grayscale and alpha become BGR),
    /// or unchanged (keeps alpha), or gray. The file goes through the one file reader (a folder
    /// or a FIFO is an error naming it), and a JPEG or PNG that ends before its format's end
    /// marker is refused as truncated: decoders would fill the missing rows with grey and say
    /// nothing, and a model would train on them.
    public static func read(_ path: String, mode: DecodeMode = .bgr) throws -> Image {
        let file: FileBytes
        do { file = try InputFile.read(path) } catch let e as FileError { throw VisionError(e.message) }
        return try decode(file.bytes, mode: mode, source: path)
    }

    /// Decodes encoded bytes (`source` names them in errors). Refused before the decoder runs:
    /// a truncated JPEG or PNG, and a header that claims more pixels than `ImageHeader.maxPixels`
    /// (the error says how much memory decoding would need).
    public static func decode(_ bytes: UnsafeRawBufferPointer, mode: DecodeMode = .bgr, source: String) throws -> Image {
        if let problem = truncation(bytes) { throw VisionError("\(source): \(problem)") }
        if let claim = ImageHeader.claim(bytes), let problem = ImageHeader.refusal(claim) { throw VisionError("\(source): \(problem)") }
        do {
            return try make { cv_decode_bytes(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, mode.rawValue, $0) }
        } catch let e as VisionError {
            throw VisionError("\(source): \(e.message)")
        }
    }

    /// Why encoded image bytes are a truncated file, or nil: a JPEG needs its end-of-image
    /// marker after its last start-of-scan (the entropy-coded data never holds FF D9, so a
    /// thumbnail's own marker earlier in the file does not count); a PNG needs its IEND chunk.
    /// Other formats are not checked.
    public static func truncation(_ b: UnsafeRawBufferPointer) -> String? {
        let n = b.count
        if n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF {
            var i = n - 2
            while i >= 2 {
                if b[i] == 0xFF && b[i + 1] == 0xD9 { return nil }
                if b[i] == 0xFF && b[i + 1] == 0xDA { break }
                i -= 1
            }
            return "the JPEG ends before its end-of-image marker (a truncated file, \(n) bytes)"
        }
        if n >= 8 && Array(b[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] {
            let tail = Array(b[max(8, n - 4096)..<n])
            let iend: [UInt8] = Array("IEND".utf8)
            if tail.count >= 4, (0...(tail.count - 4)).contains(where: { Array(tail[$0..<($0 + 4)]) == iend }) { return nil }
            return "the PNG ends before its IEND chunk (a truncated file, \(n) bytes)"
        }
        return nil
    }

    public static func decode(_ bytes: [UInt8], mode: DecodeMode = .bgr, source: String = "image bytes") throws -> Image {
        try bytes.withUnsafeBytes { try decode($0, mode: mode, source: source) }
    }

    /// Encodes as ".png" or ".jpg" (quality 0-100 for JPEG).
    public func encode(_ extension: String, quality: Int? = nil) throws -> [UInt8] {
        var bytes: UnsafeMutablePointer<UInt8>?
        var length = 0
        try check(cv_encode(handle, `extension`, Int32(min(max(quality ?? -1, -1), 100)), &bytes, &length))
        defer { cv_free_bytes(bytes) }
        return Array(UnsafeBufferPointer(start: bytes, count: length))
    }

    /// Writes by extension (PNG, JPEG, ...), atomically: encoded in memory, then through the
    /// one atomic writer, so a kill or a full disk never leaves a half-written image.
    public func write(_ path: String, quality: Int? = nil) throws {
        let ext = (path as NSString).pathExtension
        guard !ext.isEmpty else { throw VisionError("cannot write \(path): the file name needs an extension (.png, .jpg, ...) that names the format") }
        // Files store BGR: an RGB image is swapped back first.
        let source = order == .rgb ? try converted(.bgrToRGB) : self
        let bytes: [UInt8]
        do { bytes = try source.encode("." + ext, quality: quality) } catch { throw VisionError("cannot write \(path): \(error)") }
        do { try AtomicFile.write(bytes, to: path) } catch let e as FileError { throw VisionError(e.message) }
    }

    public func clone() throws -> Image { try Image.make { cv_image_clone(handle, $0) }.keeping(order) }

    func keeping(_ o: ChannelOrder) -> Image {
        order = o
        return self
    }

    /// OpenCV's bilinear resize.
    public func resized(width: Int, height: Int) throws -> Image {
        let (w, h) = (try Checked.int32(width, "width"), try Checked.int32(height, "height"))
        return try Image.make { cv_resize_bilinear(handle, w, h, $0) }.keeping(order)
    }

    /// Pillow's antialiased bilinear resize: what Detectron2's ResizeShortestEdge does to uint8 images.
    public func resizedLikePIL(width: Int, height: Int) throws -> Image {
        let (w, h) = (try Checked.int32(width, "width"), try Checked.int32(height, "height"))
        return try Image.make { cv_resize_pil_bilinear(handle, w, h, $0) }.keeping(order)
    }

    public enum Conversion: Int32 { case bgrToRGB = 0, bgrToGray = 1, grayToBGR = 2, bgraToBGR = 3 }

    public func converted(_ c: Conversion) throws -> Image {
        let result = try Image.make { cv_convert(handle, c.rawValue, $0) }
        switch c {
        case .bgrToRGB: result.order = channels == 1 ? .gray : (order == .rgb ? .bgr : .rgb)
        case .bgrToGray: result.order = .gray
        case .grayToBGR, .bgraToBGR: result.order = order == .rgb ? .rgb : .bgr
        }
        return result
    }

    /// An RGB copy (or this image's data in RGB order).
    public func rgb() throws -> Image { order == .rgb ? self : try converted(.bgrToRGB) }
    /// A BGR copy.
    public func bgr() throws -> Image {
        switch order {
        case .bgr: return self
        case .rgb: return try converted(.bgrToRGB)
        case .gray, .bgra: return try converted(.grayToBGR)
        }
    }

    public func cropped(x: Int, y: Int, width: Int, height: Int) throws -> Image {
        let r = (try Checked.int32(x, "x"), try Checked.int32(y, "y"), try Checked.int32(width, "width"), try Checked.int32(height, "height"))
        return try Image.make { cv_crop(handle, r.0, r.1, r.2, r.3, $0) }.keeping(order)
    }

    public func flippedHorizontally() throws -> Image { try Image.make { cv_flip(handle, 1, $0) }.keeping(order) }
    public func flippedVertically() throws -> Image { try Image.make { cv_flip(handle, 0, $0) }.keeping(order) }

    /// Pastes another image (alpha-blended when it has alpha) with its top-left corner at (x, y).
    public func paste(_ other: Image, x: Int, y: Int) throws {
        try check(cv_paste(handle, other.handle, try Checked.int32(x, "x"), try Checked.int32(y, "y")))
    }

    public func rotatedCounterClockwise() throws -> Image { try Image.make { cv_rotate_ccw(handle, $0) }.keeping(order) }

    public func equalizedHistogram() throws -> Image { try Image.make { cv_equalize_hist(handle, $0) } }

    /// The pixel at (x, y) as channel values.
    public func pixel(x: Int, y: Int) -> [UInt8] {
        precondition(x >= 0 && x < width && y >= 0 && y < height)
        let p = data + (y * width + x) * channels
        return (0..<channels).map { p[$0] }
    }
}

/// A colour given as R, G, B; drawing puts it in the image's own channel order.
public struct Color: Equatable, Sendable {
    public var r: Int, g: Int, b: Int
    public init(r: Int, g: Int, b: Int) { self.r = r; self.g = g; self.b = b }
}

extension Image {
    /// The three values to hand OpenCV (which writes them as channels 0, 1, 2).
    func channelValues(_ c: Color) -> (Int32, Int32, Int32) {
        order == .rgb ? (Int32(clamping: c.r), Int32(clamping: c.g), Int32(clamping: c.b)) : (Int32(clamping: c.b), Int32(clamping: c.g), Int32(clamping: c.r))
    }
}

extension Image {
    /// Line thickness: 1 to 1000 pixels (-1 fills, as OpenCV's FILLED).
    static func thickness(_ t: Int) throws -> Int32 {
        guard t == -1 || (1...1000).contains(t) else { throw VisionError("thickness must be from 1 to 1000 pixels (or -1 to fill), not \(t)") }
        return Int32(t)
    }

    public func drawRectangle(x1: Int, y1: Int, x2: Int, y2: Int, color: Color, thickness: Int = 2) throws {
        let cv = channelValues(color)
        try check(cv_draw_rectangle(handle, try Checked.coordinate(x1, "x1"), try Checked.coordinate(y1, "y1"), try Checked.coordinate(x2, "x2"),
                                    try Checked.coordinate(y2, "y2"), cv.0, cv.1, cv.2, try Self.thickness(thickness)))
    }

    /// A filled rectangle with opacity alpha (0 transparent, 1 opaque).
    public func fillRectangle(x1: Int, y1: Int, x2: Int, y2: Int, color: Color, alpha: Double = 1) throws {
        let cv = channelValues(color)
        guard alpha.isFinite else { throw VisionError("alpha must be a number from 0 to 1, not \(alpha)") }
        try check(cv_fill_rectangle(handle, try Checked.coordinate(x1, "x1"), try Checked.coordinate(y1, "y1"), try Checked.coordinate(x2, "x2"),
                                    try Checked.coordinate(y2, "y2"), cv.0, cv.1, cv.2, min(max(alpha, 0), 1)))
    }

    public func drawLine(x1: Int, y1: Int, x2: Int, y2: Int, color: Color, thickness: Int = 1) throws {
        let cv = channelValues(color)
        try check(cv_draw_line(handle, try Checked.coordinate(x1, "x1"), try Checked.coordinate(y1, "y1"), try Checked.coordinate(x2, "x2"),
                               try Checked.coordinate(y2, "y2"), cv.0, cv.1, cv.2, try Self.thickness(thickness)))
    }

    public func drawCircle(x: Int, y: Int, radius: Int, color: Color, thickness: Int = 1) throws {
        let cv = channelValues(color)
        try check(cv_draw_circle(handle, try Checked.coordinate(x, "x"), try Checked.coordinate(y, "y"), try Checked.coordinate(radius, "radius"),
                                 cv.0, cv.1, cv.2, try Self.thickness(thickness)))
    }

}

extension Image {
    /// The smallest box (x, y, width, height) holding every pixel with alpha > threshold; the whole
    /// image when it has no alpha channel; nil when every pixel is transparent.
    public func opaqueBox(threshold: UInt8 = 0) -> (x: Int, y: Int, width: Int, height: Int)? {
        guard channels == 4 else { return (0, 0, width, height) }
        var minX = width, minY = height, maxX = -1, maxY = -1
        let p = data
        for y in 0..<height {
            let row = p + y * width * 4
            for x in 0..<width where row[x * 4 + 3] > threshold {
                if x < minX { minX = x }
                if x > maxX { maxX = x }
                if y < minY { minY = y }
                if y > maxY { maxY = y }
            }
        }
        guard maxX >= 0 else { return nil }
        return (minX, minY, maxX - minX + 1, maxY - minY + 1)
    }
}
