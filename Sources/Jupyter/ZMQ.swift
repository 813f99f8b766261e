import Glibc
import ZMQSystem

/// A ZeroMQ failure, with what was being done ("bind tcp://127.0.0.1:5555: Address already in use").
public struct ZMQError: Error, CustomStringConvertible {
    public let description: String
    public let code: Int32
    init(_ what: String, code: Int32 = zmq_errno()) {
        self.code = code
        description = "\(what): \(String(cString: zmq_strerror(code)))"
    }
}

/// One ZeroMQ context for the process (its I/O threads carry every socket).
public final class ZMQContext: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer

    public init() throws {
        guard let c = zmq_ctx_new() else { throw ZMQError("zmq_ctx_new") }
        raw = c
    }

    /// Waits until the messages queued on closed sockets are sent (at most their linger time).
    public func terminate() {
        while zmq_ctx_term(raw) != 0 && zmq_errno() == EINTR {}
    }
}

/// A ZeroMQ socket sending and receiving multipart messages as lists of frames. Not safe to use
/// from two threads at once; a socket shared between threads is guarded by its user.
public final class ZMQSocket: @unchecked Sendable {
    public enum Kind {
        case router, dealer, pub, sub, rep, req, pair
        var value: Int32 {
            switch self {
            case .router: return ZMQ_ROUTER
            case .dealer: return ZMQ_DEALER
            case .pub: return ZMQ_PUB
            case .sub: return ZMQ_SUB
            case .rep: return ZMQ_REP
            case .req: return ZMQ_REQ
            case .pair: return ZMQ_PAIR
            }
        }
    }

    let raw: UnsafeMutableRawPointer
    private var closed = false

    public init(_ context: ZMQContext, _ kind: Kind) throws {
        guard let s = zmq_socket(context.raw, kind.value) else { throw ZMQError("zmq_socket") }
        raw = s
        // Messages still queued when the socket closes get a moment to go out, never for ever.
        try setOption(ZMQ_LINGER, Int32(1000))
        // A peer cannot make the kernel hold more than this for one message (it is read whole
        // before its signature is checked); a larger one drops the connection.
        var limit = ZMQSocket.maxMessageBytes
        guard zmq_setsockopt(raw, ZMQ_MAXMSGSIZE, &limit, MemoryLayout<Int64>.size) == 0 else { throw ZMQError("zmq_setsockopt ZMQ_MAXMSGSIZE") }
    }

    /// The largest message a socket takes: 256 MiB.
    public static let maxMessageBytes: Int64 = 256 << 20

    public func setOption(_ option: Int32, _ value: Int32) throws {
        var v = value
        guard zmq_setsockopt(raw, option, &v, MemoryLayout<Int32>.size) == 0 else { throw ZMQError("zmq_setsockopt \(option)") }
    }

    public func setOption(_ option: Int32, bytes: [UInt8]) throws {
        guard bytes.withUnsafeBytes({ zmq_setsockopt(raw, option, $0.baseAddress, $0.count) }) == 0 else {
            throw ZMQError("zmq_setsockopt \(option)")
        }
    }

    /// Subscribes a SUB socket to every message (a test's client).
    public func subscribeAll() throws { try setOption(ZMQ_SUBSCRIBE, bytes: []) }

    public func bind(_ endpoint: String) throws {
        if endpoint.hasPrefix("tcp://[") { try setOption(ZMQ_IPV6, Int32(1)) }     // an IPv6 address
        guard zmq_bind(raw, endpoint) == 0 else { throw ZMQError("bind \(endpoint)") }
    }

    public func connect(_ endpoint: String) throws {
        guard zmq_connect(raw, endpoint) == 0 else { throw ZMQError("connect \(endpoint)") }
    }

    /// Sends the frames as one multipart message (retrying when a signal interrupts the call).
    public func send(_ frames: [[UInt8]]) throws {
        for (i, frame) in frames.enumerated() {
            let flags = i < frames.count - 1 ? ZMQ_SNDMORE : 0
            while true {
                let n = frame.withUnsafeBytes { zmq_send(raw, $0.baseAddress, $0.count, flags) }
                if n >= 0 { break }
                if zmq_errno() == EINTR { continue }
                throw ZMQError("send")
            }
        }
    }

    /// Whether a message can be read within `timeoutMS` (-1: wait for ever). A signal ends the
    /// wait early (false), so the caller can look at what the signal asked for.
    public func waitReadable(timeoutMS: Int) throws -> Bool {
        var item = zmq_pollitem_t(socket: raw, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        let n = zmq_poll(&item, 1, timeoutMS)
        if n < 0 {
            if zmq_errno() == EINTR { return false }
            throw ZMQError("poll")
        }
        return n > 0 && item.revents & Int16(ZMQ_POLLIN) != 0
    }

    /// The next multipart message, or nil when none came within `timeoutMS` (-1: wait for ever).
    public func receive(timeoutMS: Int = -1) throws -> [[UInt8]]? {
        guard try waitReadable(timeoutMS: timeoutMS) else { return nil }
        var frames: [[UInt8]] = []
        var more = true
        while more {
            var msg = zmq_msg_t()
            zmq_msg_init(&msg)
            defer { zmq_msg_close(&msg) }
            while zmq_msg_recv(&msg, raw, 0) < 0 {
                if zmq_errno() == EINTR { continue }
                throw ZMQError("receive")
            }
            let size = zmq_msg_size(&msg)
            if size > 0, let p = zmq_msg_data(&msg) {
                frames.append(Array(UnsafeRawBufferPointer(start: p, count: size)))
            } else {
                frames.append([])
            }
            more = zmq_msg_more(&msg) != 0
        }
        return frames
    }

    public func close() {
        guard !closed else { return }
        closed = true
        zmq_close(raw)
    }

    /// The endpoint a socket bound to "tcp://127.0.0.1:*" got (a test's kernel on free ports).
    public var lastEndpoint: String? {
        var buffer = [CChar](repeating: 0, count: 256)
        var size = buffer.count
        guard zmq_getsockopt(raw, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else { return nil }
        return String(cString: buffer)
    }

    /// libzmq's version ("4.3.4").
    public static var libraryVersion: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}
