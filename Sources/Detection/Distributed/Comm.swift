import Foundation
import Support
import Torch

/// Detectron2's detectron2.utils.comm: this process's rank in the job, and the collectives the
/// engine needs. A process started alone is rank 0 of 1 and every collective is the identity.
/// A process started by torchrun, `srun` or `lunette --launch` joins its world the first time
/// training needs it (`Comm.join`), on gloo (MODEL.DEVICE cpu) or nccl (cuda).
public enum Comm {
    nonisolated(unsafe) static var current: DistributedWorld?

    /// The world this process has joined (nil: single process, or not joined yet).
    public static var world: DistributedWorld? { current }

    /// Where the environment places this process (nil: alone).
    public static func placement() throws -> Placement? {
        return try Placement.fromEnvironment()
    }

    public static var rank: Int { current?.rank ?? ((try? placement())??.rank ?? 0) }
    public static var worldSize: Int { current?.size ?? ((try? placement())??.worldSize ?? 1) }
    public static var localRank: Int { current?.placement.localRank ?? ((try? placement())??.localRank ?? 0) }
    public static var isMainProcess: Bool { rank == 0 }

    /// Joins the world the environment describes (once per process; later calls check the
    /// backend agrees). Returns nil for a single process.
    @discardableResult
    public static func join(backend: String) throws -> DistributedWorld? {
        if let w = current {
            guard w.backend == backend else {
                throw ConfigError("this process already joined its world on \(w.backend); MODEL.DEVICE now asks for \(backend) (one backend per process)")
            }
            return w
        }
        guard let p = try placement() else { return nil }
        let w = try DistributedWorld(placement: p, backend: backend, timeout: Self.timeout(), joinTimeout: Self.joinTimeout())
        current = w
        DetectionLog.shared.rank = p.rank
        StatusConsole.progressSuppressed = p.rank > 0
        atexit { Comm.current?.leave() }
        return w
    }

    /// The backend for a device, as Detectron2 and torch.distributed choose it: gloo on the CPU,
    /// nccl on CUDA (gloo, which also reduces CUDA tensors, when this build has no nccl).
    public static func backend(for device: Device) -> String {
        if device == .cpu { return "gloo" }
        if ProcessGroup.isAvailable("nccl") { return "nccl" }
        DetectionLog.shared.warn("comm", "this libtorch build has no nccl; CUDA gradients are reduced through gloo (slower across GPUs)")
        return "gloo"
    }

    /// LUNETTE_DIST_TIMEOUT seconds for every collective (30 minutes, as torch.distributed).
    static func timeout() throws -> Double { try seconds("LUNETTE_DIST_TIMEOUT", default: 1800) }
    /// LUNETTE_JOIN_TIMEOUT seconds for every rank to join (5 minutes).
    static func joinTimeout() throws -> Double { try seconds("LUNETTE_JOIN_TIMEOUT", default: 300) }

    static func seconds(_ key: String, default value: Double) throws -> Double {
        guard let text = ProcessInfo.processInfo.environment[key], !text.isEmpty else { return value }
        guard let v = Double(text), v > 0, v.isFinite else { throw ConfigError("\(key) must be a positive number of seconds, got '\(text)'") }
        return v
    }

    /// synchronize(): waits for every rank (a no-op alone).
    public static func synchronize() throws { try current?.barrier() }
}

/// A joined data-parallel world: the rendezvous store (served by rank 0), the process group,
/// and a heartbeat that lets a failing collective say which rank is gone.
public final class DistributedWorld: @unchecked Sendable {
    public let placement: Placement
    public let backend: String
    public var rank: Int { placement.rank }
    public var size: Int { placement.worldSize }
    let store: TCPStore
    let group: ProcessGroup
    let timeout: Double
    private var heartbeat: Thread?
    private let stopLock = NSCondition()
    private var stopping = false
    private var left = false

    init(placement p: Placement, backend: String, timeout: Double, joinTimeout: Double) throws {
        placement = p
        self.backend = backend
        self.timeout = timeout
        guard ProcessGroup.isAvailable(backend) else {
            throw ConfigError("the \(backend) backend is not in this libtorch build" + (backend == "nccl" ? " (build with a CUDA libtorch that has NCCL, or set MODEL.DEVICE = 'cpu' for gloo)" : ""))
        }
        let endpoint = "\(p.masterAddress):\(p.masterPort)"
        do {
            store = try TCPStore(host: p.masterAddress, port: p.masterPort, isServer: p.rank == 0, worldSize: p.worldSize, timeout: joinTimeout)
        } catch {
            if p.rank == 0 {
                throw ConfigError("rank 0 cannot serve the rendezvous on port \(p.masterPort) (MASTER_PORT): \(error). Is the port in use by another job? Choose another MASTER_PORT")
            }
            throw ConfigError("rank \(p.rank) cannot reach rank 0's rendezvous at \(endpoint) (MASTER_ADDR:MASTER_PORT) within \(Int(joinTimeout)) s: \(error)")
        }
        // Everyone says who it is, then waits for all: a rank that never comes is named.
        try store.set("lunette/joined/\(p.rank)", "\(ProcessInfo.processInfo.hostName) pid \(getpid()) world \(p.worldSize)")
        let keys = (0..<p.worldSize).map { "lunette/joined/\($0)" }
        do {
            try store.wait(keys, timeout: joinTimeout)
        } catch {
            let s = store
            let missing = (0..<p.worldSize).filter { !((try? s.contains(["lunette/joined/\($0)"])) ?? false) }
            let who = missing.isEmpty ? "the rendezvous failed"
                : "rank\(missing.count == 1 ? "" : "s") \(missing.map(String.init).joined(separator: ", ")) of \(p.worldSize) never joined"
            throw ConfigError("rank \(p.rank): \(who) (waited \(Int(joinTimeout)) s at \(endpoint); LUNETTE_JOIN_TIMEOUT sets the wait)")
        }
        for r in 0..<p.worldSize {
            let said = try store.text("lunette/joined/\(r)")
            if let w = said.components(separatedBy: " world ").last, w != String(p.worldSize) {
                throw ConfigError("rank \(r) (\(said)) was started with a world size of \(w), this rank with \(p.worldSize): every rank must be given the same WORLD_SIZE")
            }
        }
        let device: ProcessGroup.Device
        if let name = ProcessInfo.processInfo.environment["GLOO_SOCKET_IFNAME"], !name.isEmpty {
            device = .interface(name)
        } else if ["127.0.0.1", "localhost", "::1"].contains(p.masterAddress) {
            device = .hostname("127.0.0.1")
        } else {
            device = .automatic
        }
        group = try ProcessGroup(store: store, prefix: "lunette/pg", backend: backend, rank: p.rank, worldSize: p.worldSize, device: device, timeout: timeout)
        startHeartbeat()
        DetectionLog.shared.info("comm", "joined the world as \(p) on \(backend)")
    }

    // MARK: collectives, with errors that name the rank that went away

    public func barrier() throws { try named("barrier") { try group.barrier() } }

    /// In place: each tensor becomes the sum over the ranks.
    public func allReduceSum(_ tensors: [Tensor]) throws { try named("all_reduce") { try group.allReduceSum(tensors) } }

    public func broadcast(_ tensors: [Tensor], root: Int = 0) throws { try named("broadcast") { try group.broadcast(tensors, root: root) } }

    /// Every rank's bytes, by rank (all_gather of small objects: lengths first, then padded bytes).
    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        try named("all_gather") {
            let sizes = try group.allGather(try Tensor([Int64(bytes.count)])).map { try $0.toArray(Int64.self)[0] }
            let longest = Int(sizes.max() ?? 0)
            var padded = bytes
            padded += [UInt8](repeating: 0, count: longest - bytes.count)
            if padded.isEmpty { padded = [0] }
            let parts = try group.allGather(try Tensor(padded))
            return try zip(parts, sizes).map { Array(try $0.toArray(UInt8.self).prefix(Int($1))) }
        }
    }

    /// Doubles summed over ranks.
    public func allGatherDoubles(_ values: [Double]) throws -> [[Double]] {
        try named("all_gather") { try group.allGather(try Tensor(values)).map { try $0.toArray(Double.self) } }
    }

    /// Tells the others why this rank stops (they name it when their next collective fails).
    public func recordFailure(_ message: String) {
        try? store.set("lunette/failed/\(rank)", String(message.prefix(2000)))
    }

    func named<R>(_ what: String, _ body: () throws -> R) throws -> R {
        do { return try body() } catch { throw DistributedError(what: what, rank: rank, size: size, underlying: "\(error)", culprits: diagnose()) }
    }

    /// Which other ranks failed (their own message) or stopped beating; a fresh connection, as
    /// the main one may be what broke.
    func diagnose() -> [String] {
        guard let probe = try? TCPStore(host: placement.masterAddress, port: placement.masterPort, isServer: false, worldSize: size, timeout: 5) else {
            return rank == 0 ? [] : ["rank 0 (which serves the rendezvous at \(placement.masterAddress):\(placement.masterPort)) is gone"]
        }
        var found: [String] = []
        var silent: [Int: Int] = [:]
        for r in 0..<size where r != rank {
            if (try? probe.contains(["lunette/failed/\(r)"])) == true, let m = try? probe.text("lunette/failed/\(r)") {
                found.append("rank \(r) failed: \(m)")
            } else if (try? probe.contains(["lunette/left/\(r)"])) == true {
                found.append("rank \(r) had already finished its script without making this call (every rank must make the same calls: train, test, synchronize)")
            } else if let beats = try? probe.add("lunette/alive/\(r)", 0) {
                silent[r] = beats
            }
        }
        if !silent.isEmpty {
            Thread.sleep(forTimeInterval: 2.5)
            for (r, beats) in silent.sorted(by: { $0.key < $1.key }) where ((try? probe.add("lunette/alive/\(r)", 0)) ?? beats) == beats {
                found.append("rank \(r) stopped responding (its process died or hangs)")
            }
        }
        return found
    }

    private func startHeartbeat() {
        let p = placement
        let t = Thread { [weak self] in
            guard let client = try? TCPStore(host: p.masterAddress, port: p.masterPort, isServer: false, worldSize: p.worldSize, timeout: 30) else { return }
            while let self, !self.waitStop(seconds: 1) { _ = try? client.add("lunette/alive/\(p.rank)", 1) }
        }
        t.name = "lunette-heartbeat"
        t.start()
        heartbeat = t
    }

    /// True once stopping; otherwise waits up to `seconds`.
    private func waitStop(seconds: Double) -> Bool {
        stopLock.lock()
        defer { stopLock.unlock() }
        if !stopping { _ = stopLock.wait(until: Date(timeIntervalSinceNow: seconds)) }
        return stopping
    }

    /// At exit: says this rank is done; rank 0, which serves the store, waits (a minute at most,
    /// less when the others are gone) until every rank has said so, so no one loses the store early.
    func leave() {
        guard !left else { return }
        left = true
        try? store.set("lunette/left/\(rank)", "1")
        _ = try? store.add("lunette/finished", 1)
        if rank == 0 {
            // Until all are done, a minute passes, or none of the others has beaten for 3 s.
            let deadline = Date(timeIntervalSinceNow: 60)
            var beats = -1, lastChange = Date()
            while Date() < deadline, ((try? store.add("lunette/finished", 0)) ?? size) < size {
                let now = (1..<size).reduce(0) { $0 + ((try? store.add("lunette/alive/\($1)", 0)) ?? 0) }
                if now != beats { beats = now; lastChange = Date() } else if Date().timeIntervalSince(lastChange) > 3 { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        stopLock.lock()
        stopping = true
        stopLock.broadcast()
        stopLock.unlock()
    }
}

/// A collective that failed: which one, on which rank, and what the others' state says.
public struct DistributedError: Error, CustomStringConvertible {
    public let what: String
    public let rank: Int
    public let size: Int
    public let underlying: String
    public let culprits: [String]

    public var description: String {
        let cause = culprits.isEmpty ? "" : culprits.joined(separator: "; ") + ". "
        return "rank \(rank) of \(size): \(what) failed. \(cause)(\(underlying))"
    }
}
