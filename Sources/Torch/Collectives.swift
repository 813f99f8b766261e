import CTorch
import Foundation

/// torch.distributed's TCPStore: a key-value store served by one process (rank 0) that every
/// rank reaches over TCP; the rendezvous of a process group and small shared facts go through it.
/// A store handle is one connection: use it from one thread at a time (a thread of its own
/// opens its own client).
public final class TCPStore: @unchecked Sendable {
    let handle: ct_store
    public let host: String
    public let port: Int
    public let isServer: Bool

    /// The server listens on `port` (failing when it is taken); a client connects to host:port,
    /// retrying until `timeout` seconds have passed.
    public init(host: String, port: Int, isServer: Bool, worldSize: Int, timeout: Double) throws {
        guard (1...65535).contains(port) else { throw TorchError("store port must be from 1 to 65535, got \(port)") }
        var out: ct_store?
        try check(ct_store_create(host, Int32(port), isServer ? 1 : 0, Int32(worldSize), Int64(timeout * 1000), &out))
        guard let out else { throw TorchError("libtorch returned no store") }
        handle = out
        self.host = host
        self.port = port
        self.isServer = isServer
    }

    deinit { ct_store_free(handle) }

    public func set(_ key: String, _ value: [UInt8]) throws {
        try value.withUnsafeBytes { try check(ct_store_set(handle, key, $0.baseAddress, Int64($0.count))) }
    }

    public func set(_ key: String, _ text: String) throws { try set(key, Array(text.utf8)) }

    /// The key's value, waiting for it up to the store's timeout.
    public func get(_ key: String) throws -> [UInt8] {
        var data: UnsafeMutableRawPointer?, length: Int64 = 0
        try check(ct_store_get(handle, key, &data, &length))
        defer { free(data) }
        guard let data else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: Int(length)))
    }

    public func text(_ key: String) throws -> String { String(decoding: try get(key), as: UTF8.self) }

    /// Adds to a counter (created at 0) and returns its new value.
    @discardableResult
    public func add(_ key: String, _ amount: Int) throws -> Int {
        var result: Int64 = 0
        try check(ct_store_add(handle, key, Int64(amount), &result))
        return Int(result)
    }

    /// Whether every key is set (no waiting).
    public func contains(_ keys: [String]) throws -> Bool {
        var present: Int32 = 0
        try withCStrings(keys) { try check(ct_store_check(handle, $0, Int32(keys.count), &present)) }
        return present != 0
    }

    /// Waits until every key is set; throws after `timeout` seconds.
    public func wait(_ keys: [String], timeout: Double) throws {
        try withCStrings(keys) { try check(ct_store_wait(handle, $0, Int32(keys.count), Int64(timeout * 1000))) }
    }
}

func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) throws -> R) rethrows -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer($0) }
    return try pointers.withUnsafeBufferPointer { try body($0.baseAddress!) }
}

/// A c10d process group (gloo on CPU, nccl on CUDA): the collectives of data-parallel training.
/// Every rank must call the same collectives in the same order with tensors of the same shapes.
public final class ProcessGroup: @unchecked Sendable {
    let handle: ct_group
    public let rank: Int
    public let worldSize: Int
    public let backend: String

    /// How gloo picks the network device: an interface by name, this host's address, or the
    /// address the host name resolves to.
    public enum Device: Sendable, Equatable {
        case interface(String)
        case hostname(String)
        case automatic
    }

    /// Whether the backend is compiled into this libtorch ("gloo", "nccl").
    public static func isAvailable(_ backend: String) -> Bool { ct_backend_available(backend) != 0 }

    /// Joins the group: blocks until every rank has (or fails after `timeout` seconds, which also
    /// bounds every collective).
    public init(store: TCPStore, prefix: String, backend: String, rank: Int, worldSize: Int, device: Device, timeout: Double) throws {
        var out: ct_group?
        let (kind, value): (String, String)
        switch device {
        case .interface(let name): (kind, value) = ("interface", name)
        case .hostname(let host): (kind, value) = ("hostname", host)
        case .automatic: (kind, value) = ("default", "")
        }
        try check(ct_group_create(store.handle, prefix, backend, Int32(rank), Int32(worldSize), kind, value, Int64(timeout * 1000), &out))
        guard let out else { throw TorchError("libtorch returned no process group") }
        handle = out
        self.rank = rank
        self.worldSize = worldSize
        self.backend = backend
    }

    deinit { ct_group_free(handle) }

    /// In place, each tensor becomes its sum over the ranks. All are issued before any is waited
    /// for, so the backend pipelines them.
    public func allReduceSum(_ tensors: [Tensor]) throws {
        guard !tensors.isEmpty else { return }
        var handles: [ct_tensor?] = tensors.map(\.handle)
        try check(ct_all_reduce_sum(handle, &handles, Int32(handles.count)))
        withExtendedLifetime(tensors) {}
    }

    /// In place, each tensor becomes `root`'s.
    public func broadcast(_ tensors: [Tensor], root: Int = 0) throws {
        guard !tensors.isEmpty else { return }
        var handles: [ct_tensor?] = tensors.map(\.handle)
        try check(ct_broadcast(handle, &handles, Int32(handles.count), Int32(root)))
        withExtendedLifetime(tensors) {}
    }

    /// Every rank's tensor (same shape and dtype everywhere), by rank.
    public func allGather(_ tensor: Tensor) throws -> [Tensor] {
        var outs = [ct_tensor?](repeating: nil, count: worldSize)
        try check(ct_all_gather(handle, tensor.handle, Int32(worldSize), &outs))
        return outs.map { Tensor(handle: $0!) }
    }

    public func barrier() throws { try check(ct_barrier(handle)) }
}
