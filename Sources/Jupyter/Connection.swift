import Foundation
import Support

/// The five channels of a kernel, named as a connection file names their ports.
public enum Channel: String, CaseIterable, Sendable {
    case shell, iopub, stdin, control, hb
    public var portKey: String { rawValue + "_port" }
}

/// A connection file as Jupyter writes it for the kernel it starts: where to bind and the key
/// that signs every message.
public struct ConnectionInfo: Sendable {
    public var transport: String
    public var ip: String
    public var ports: [Channel: Int]
    public var key: [UInt8]
    public var signatureScheme: String
    public var kernelName: String?

    public init(transport: String = "tcp", ip: String = "127.0.0.1", ports: [Channel: Int], key: [UInt8],
                signatureScheme: String = "hmac-sha256", kernelName: String? = nil) {
        self.transport = transport
        self.ip = ip
        self.ports = ports
        self.key = key
        self.signatureScheme = signatureScheme
        self.kernelName = kernelName
    }

    /// Reads and checks a connection file; every error names the file and the key.
    public static func read(_ path: String) throws -> ConnectionInfo {
        let data: Data
        do { data = try InputFile.data(path, limit: 1 << 20) } catch let e as FileError {
            throw WireError("connection file \(path): \(e.message)")
        }
        let v: JSONValue
        do { v = try JSON.parse(Array(data)) } catch { throw WireError("connection file \(path) is not JSON: \(error)") }
        return try parse(v, path: path)
    }

    public static func parse(_ v: JSONValue, path: String) throws -> ConnectionInfo {
        guard case .object = v else { throw WireError("connection file \(path): a JSON object is expected, not \(v.typeName)") }
        func text(_ key: String, default d: String?) throws -> String {
            guard let value = v[key], value != .null else {
                if let d { return d }
                throw WireError("connection file \(path): no \"\(key)\"")
            }
            guard let s = value.string else { throw WireError("connection file \(path): \"\(key)\" is a \(value.typeName), not text") }
            return s
        }
        let transport = try text("transport", default: "tcp")
        guard transport == "tcp" || transport == "ipc" else {
            throw WireError("connection file \(path): transport \"\(transport)\" is not tcp or ipc")
        }
        let ip = try text("ip", default: "127.0.0.1")
        guard !ip.isEmpty, !ip.contains(where: { $0.isWhitespace || $0 == "/" && transport == "tcp" }) else {
            throw WireError("connection file \(path): ip \"\(ip)\" is not an address")
        }
        var ports: [Channel: Int] = [:]
        for c in Channel.allCases {
            guard let p = v[c.portKey] else { throw WireError("connection file \(path): no \"\(c.portKey)\"") }
            guard let n = p.integer, p.number == Double(n), (1...65535).contains(n) else {
                throw WireError("connection file \(path): \"\(c.portKey)\" is \(JSON.text(p)), not a port from 1 to 65535")
            }
            ports[c] = Int(n)
        }
        if Set(ports.values).count < ports.count {
            throw WireError("connection file \(path): two channels share a port (\(Channel.allCases.map { "\($0.portKey) \(ports[$0]!)" }.joined(separator: ", ")))")
        }
        let key = try text("key", default: "")
        let scheme = try text("signature_scheme", default: "hmac-sha256")
        do { _ = try Signer(scheme: scheme, key: []) } catch let e as WireError { throw WireError("connection file \(path): \(e.description)") }
        let name = try? text("kernel_name", default: nil)
        return ConnectionInfo(transport: transport, ip: ip, ports: ports, key: Array(key.utf8), signatureScheme: scheme, kernelName: name)
    }

    /// The address a channel binds to ("tcp://127.0.0.1:5555"; with ipc, "ipc://NAME-5555", as
    /// jupyter_client names its sockets).
    public func endpoint(_ c: Channel) -> String {
        transport == "ipc" ? "ipc://\(ip)-\(ports[c]!)" : "tcp://\(ip.contains(":") ? "[\(ip)]" : ip):\(ports[c]!)"
    }
}
