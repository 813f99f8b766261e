import Foundation

/// The size an encoded image claims in its header, read without decoding: what decoding would
/// allocate is known (and refused when too big) before the decoder allocates it. Covers the
/// formats creatives come in (JPEG, PNG, WebP, BMP, TIFF, PNM); others are bounded by OpenCV's
/// own limit of 2^30 pixels.
public enum ImageHeader {
    public struct Claim: Equatable, Sendable {
        public var format: String
        public var width: Int
        public var height: Int
    }

    /// The most pixels Lunette decodes: 2^28 (a 16384 × 16384 image, 768 MiB as BGR), or
    /// LUNETTE_MAX_IMAGE_PIXELS.
    public static let maxPixels: Int = {
        if let s = ProcessInfo.processInfo.environment["LUNETTE_MAX_IMAGE_PIXELS"], let n = Int(s), n > 0 { return n }
        return 1 << 28
    }()

    /// Why an image claiming this size is refused, or nil.
    public static func refusal(_ claim: Claim) -> String? {
        let (pixels, overflow) = claim.width.multipliedReportingOverflow(by: claim.height)
        guard overflow || pixels > maxPixels else { return nil }
        let bytes = Double(claim.width) * Double(claim.height) * 3
        let gib = Double(1 << 30), mib = Double(1 << 20)
        let need = bytes >= gib ? String(format: "%.1f GiB", bytes / gib) : String(format: "%.0f MiB", bytes / mib)
        return "the \(claim.format) header claims \(claim.width) × \(claim.height) pixels, which would need \(need) to decode; "
            + "Lunette decodes up to \(maxPixels) pixels (set LUNETTE_MAX_IMAGE_PIXELS to allow more)"
    }

    public static func claim(_ b: UnsafeRawBufferPointer) -> Claim? {
        let n = b.count
        func be16(_ i: Int) -> Int? { i >= 0 && i + 2 <= n ? Int(b[i]) << 8 | Int(b[i + 1]) : nil }
        func be32(_ i: Int) -> Int? { guard let h = be16(i), let l = be16(i + 2) else { return nil }; return h << 16 | l }
        func le16(_ i: Int) -> Int? { i >= 0 && i + 2 <= n ? Int(b[i]) | Int(b[i + 1]) << 8 : nil }
        func le24(_ i: Int) -> Int? { guard let l = le16(i), i + 3 <= n else { return nil }; return l | Int(b[i + 2]) << 16 }
        func le32(_ i: Int) -> Int? { guard let l = le16(i), let h = le16(i + 2) else { return nil }; return l | h << 16 }
        func starts(_ s: [UInt8], at i: Int = 0) -> Bool { i + s.count <= n && s.indices.allSatisfy { b[i + $0] == s[$0] } }

        if starts([0x89, 0x50, 0x4E, 0x47]), let w = be32(16), let h = be32(20) { return Claim(format: "PNG", width: w, height: h) }
        if starts([0xFF, 0xD8]) {
            // Markers up to the first start-of-frame: its height and width.
            var i = 2
            while i + 4 <= n {
                guard b[i] == 0xFF else { return nil }
                let m = b[i + 1]
                if m == 0xFF { i += 1; continue }
                if m == 0xD8 || m == 0x01 || (0xD0...0xD7).contains(m) { i += 2; continue }
                let isFrame = (0xC0...0xCF).contains(m) && m != 0xC4 && m != 0xC8 && m != 0xCC
                if isFrame, let h = be16(i + 5), let w = be16(i + 7) { return Claim(format: "JPEG", width: w, height: h) }
                if m == 0xDA { return nil }
                guard let length = be16(i + 2), length >= 2 else { return nil }
                i += 2 + length
            }
            return nil
        }
        if starts(Array("RIFF".utf8)), starts(Array("WEBP".utf8), at: 8) {
            if starts(Array("VP8X".utf8), at: 12), let w = le24(24), let h = le24(27) { return Claim(format: "WebP", width: w + 1, height: h + 1) }
            if starts(Array("VP8 ".utf8), at: 12), let w = le16(26), let h = le16(28) { return Claim(format: "WebP", width: w & 0x3FFF, height: h & 0x3FFF) }
            if starts(Array("VP8L".utf8), at: 12), let bits = le32(21) {
                return Claim(format: "WebP", width: (bits & 0x3FFF) + 1, height: (bits >> 14 & 0x3FFF) + 1)
            }
            return nil
        }
        if starts([0x42, 0x4D]), let w = le32(18), let h = le32(22) {
            // Signed 32-bit; a negative height means top-down rows.
            let sw = Int(Int32(truncatingIfNeeded: w)), sh = Int(Int32(truncatingIfNeeded: h))
            return Claim(format: "BMP", width: abs(sw), height: abs(sh))
        }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) {
            let little = b[0] == 0x49
            func u16(_ i: Int) -> Int? { little ? le16(i) : be16(i) }
            func u32(_ i: Int) -> Int? { little ? le32(i) : be32(i) }
            guard let ifd = u32(4), let entries = u16(ifd) else { return nil }
            var w: Int?, h: Int?
            for e in 0..<entries {
                let p = ifd + 2 + 12 * e
                guard let tag = u16(p), let type = u16(p + 2) else { break }
                guard tag == 256 || tag == 257 else { continue }
                let value = type == 3 ? u16(p + 8) : u32(p + 8)
                if tag == 256 { w = value } else { h = value }
            }
            if let w, let h { return Claim(format: "TIFF", width: w, height: h) }
            return nil
        }
        if n >= 2, b[0] == UInt8(ascii: "P"), (UInt8(ascii: "1")...UInt8(ascii: "6")).contains(b[1]) {
            // Netpbm: whitespace-separated ASCII width and height, '#' comments between.
            var numbers: [Int] = []
            var i = 2
            while numbers.count < 2 && i < n {
                let c = b[i]
                if c == UInt8(ascii: "#") {
                    while i < n && b[i] != 0x0A { i += 1 }
                } else if (0x30...0x39).contains(c) {
                    var v = 0
                    while i < n, (0x30...0x39).contains(b[i]) {
                        let (m, o1) = v.multipliedReportingOverflow(by: 10)
                        let (s, o2) = m.addingReportingOverflow(Int(b[i] - 0x30))
                        guard !o1, !o2 else { return Claim(format: "PNM", width: Int.max, height: Int.max) }
                        v = s
                        i += 1
                    }
                    numbers.append(v)
                    continue
                } else if ![0x20, 0x09, 0x0A, 0x0D].contains(c) {
                    return nil
                }
                i += 1
            }
            if numbers.count == 2 { return Claim(format: "PNM", width: numbers[0], height: numbers[1]) }
        }
        return nil
    }
}
