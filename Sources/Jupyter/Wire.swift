import Crypto
import Foundation
import Support

/// One message of the Jupyter messaging protocol (5.3), as it travels over ZeroMQ:
/// `[identities..., "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers...]`.
public struct WireMessage {
    /// The routing identities before the delimiter (where a ROUTER socket sends the reply).
    public var identities: [[UInt8]] = []
    public var header: JSONValue
    public var parentHeader: JSONValue
    public var metadata: JSONValue
    public var content: JSONValue
    /// Binary frames after the content (kept, never interpreted).
    public var buffers: [[UInt8]] = []

    public init(identities: [[UInt8]] = [], header: JSONValue, parentHeader: JSONValue = .object([]),
                metadata: JSONValue = .object([]), content: JSONValue, buffers: [[UInt8]] = []) {
        self.identities = identities
        self.header = header
        self.parentHeader = parentHeader
        self.metadata = metadata
        self.content = content
        self.buffers = buffers
    }

    public var type: String { header["msg_type"]?.string ?? "" }
    public var id: String { header["msg_id"]?.string ?? "" }

    /// A header for a new message of `type` in `session`.
    public static func header(type: String, session: String, username: String = "lunette", date: Date = Date()) -> JSONValue {
        .object([
            ("msg_id", .string(UUID().uuidString.lowercased())),
            ("session", .string(session)),
            ("username", .string(username)),
            ("date", .string(timestamp(date))),
            ("msg_type", .string(type)),
            ("version", .string(Wire.protocolVersion)),
        ])
    }

    /// ISO 8601 in UTC with microseconds, as jupyter_client writes dates.
    public static func timestamp(_ d: Date) -> String {
        let seconds = floor(d.timeIntervalSince1970)
        let micros = Int((d.timeIntervalSince1970 - seconds) * 1_000_000)
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, micros)
    }
}

/// Why a message read off a socket was not taken.
public struct WireError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// The HMAC that signs a connection's messages (the connection file's `key` and
/// `signature_scheme`); an empty key means messages are neither signed nor checked.
public struct Signer: @unchecked Sendable {
    public enum Scheme: String, Sendable, CaseIterable {
        case sha256 = "hmac-sha256", sha384 = "hmac-sha384", sha512 = "hmac-sha512"
    }
    public let scheme: Scheme
    let key: SymmetricKey?

    public init(scheme: String, key: [UInt8]) throws {
        guard let s = Scheme(rawValue: scheme) else {
            throw WireError("signature_scheme \"\(scheme)\" is not one Lunette signs with (\(Scheme.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.scheme = s
        self.key = key.isEmpty ? nil : SymmetricKey(data: key)
    }

    public var signs: Bool { key != nil }

    /// The hex digest over the four JSON frames (header, parent header, metadata, content).
    public func signature(_ parts: [[UInt8]]) -> [UInt8] {
        guard let key else { return [] }
        func hex<H: HashFunction>(_: H.Type) -> [UInt8] {
            var mac = HMAC<H>(key: key)
            for p in parts { mac.update(data: p) }
            return Self.hex(Array(mac.finalize()))
        }
        switch scheme {
        case .sha256: return hex(SHA256.self)
        case .sha384: return hex(SHA384.self)
        case .sha512: return hex(SHA512.self)
        }
    }

    static func hex(_ bytes: [UInt8]) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return out
    }

    /// Whether `signature` is right for the parts, compared in constant time.
    public func verify(_ signature: [UInt8], _ parts: [[UInt8]]) -> Bool {
        guard signs else { return true }
        let expected = self.signature(parts)
        let given = signature.map { $0 >= 65 && $0 <= 70 ? $0 + 32 : $0 }     // hex digits in either case
        guard given.count == expected.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(given, expected) { difference |= a ^ b }
        return difference == 0
    }
}

public enum Wire {
    public static let protocolVersion = "5.3"
    public static let delimiter = Array("<IDS|MSG>".utf8)

    /// Reads a message from its frames; the signature is checked before any JSON is parsed.
    public static func decode(_ frames: [[UInt8]], signer: Signer) throws -> WireMessage {
        guard let d = frames.firstIndex(of: delimiter) else { throw WireError("no <IDS|MSG> delimiter among \(frames.count) frames") }
        guard frames.count - d - 1 >= 5 else {
            throw WireError("\(frames.count - d - 1) frames after the delimiter; a message has a signature and four JSON frames")
        }
        let signature = frames[d + 1]
        let parts = Array(frames[(d + 2)..<(d + 6)])
        guard signer.verify(signature, parts) else { throw WireError("bad signature") }
        let names = ["header", "parent_header", "metadata", "content"]
        var values: [JSONValue] = []
        for (name, bytes) in zip(names, parts) {
            let v: JSONValue
            do { v = try JSON.parse(bytes) } catch { throw WireError("\(name) is not JSON: \(error)") }
            guard case .object = v else { throw WireError("\(name) is a JSON \(v.typeName), not an object") }
            values.append(v)
        }
        guard values[0]["msg_type"]?.string != nil else { throw WireError("header has no msg_type") }
        return WireMessage(identities: Array(frames[..<d]), header: values[0], parentHeader: values[1],
                           metadata: values[2], content: values[3], buffers: Array(frames[(d + 6)...]))
    }

    /// The frames of a message, signed.
    public static func encode(_ m: WireMessage, signer: Signer) -> [[UInt8]] {
        let parts = [m.header, m.parentHeader, m.metadata, m.content].map { v -> [UInt8] in
            var out: [UInt8] = []
            JSON.serialize(v, into: &out)
            return out
        }
        return m.identities + [delimiter, signer.signature(parts)] + parts + m.buffers
    }
}

/// The signatures of recent messages: a message whose signature was seen before is a replay
/// and is dropped (as ipykernel does), remembered up to `capacity` signatures.
public struct SignatureHistory {
    private var seen: Set<[UInt8]> = []
    private var order: [[UInt8]] = []
    private var next = 0
    public let capacity: Int

    public init(capacity: Int = 1 << 16) { self.capacity = capacity }

    /// Records the signature; false when it was already there (in either case of hex digits:
    /// the check takes both, so a replay cannot pass by changing the case).
    public mutating func insert(_ signature: [UInt8]) -> Bool {
        guard !signature.isEmpty else { return true }
        let signature = signature.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        guard !seen.contains(signature) else { return false }
        if order.count < capacity {
            order.append(signature)
        } else {
            seen.remove(order[next])
            order[next] = signature
            next = (next + 1) % capacity
        }
        seen.insert(signature)
        return true
    }

    /// The signature frame of raw frames (nil when there is no delimiter).
    public static func signature(in frames: [[UInt8]]) -> [UInt8]? {
        guard let d = frames.firstIndex(of: Wire.delimiter), d + 1 < frames.count else { return nil }
        return frames[d + 1]
    }
}
