import Foundation
import Support

/// Where this process stands in a data-parallel job, read from the launcher's environment as
/// torch.distributed reads it: torchrun's (and `lunette --launch`'s) RANK, WORLD_SIZE, LOCAL_RANK,
/// MASTER_ADDR, MASTER_PORT, or, inside an `srun` step, Slurm's SLURM_PROCID, SLURM_STEP_NUM_TASKS
/// (SLURM_NTASKS), SLURM_LOCALID and the first host of SLURM_STEP_NODELIST (SLURM_JOB_NODELIST).
public struct Placement: Sendable, Equatable, CustomStringConvertible {
    public var rank: Int
    public var worldSize: Int
    public var localRank: Int
    public var masterAddress: String
    public var masterPort: Int
    /// "torchrun" or "slurm": which variables it came from (for messages).
    public var source: String

    public var description: String { "rank \(rank) of \(worldSize) (local rank \(localRank), rendezvous \(masterAddress):\(masterPort), from \(source))" }

    /// The placement the environment describes, or nil for a single process (no variables, or a
    /// world of one). Inconsistent variables are an error naming them.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> Placement? {
        func int(_ key: String) throws -> Int? {
            guard let text = env[key]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            guard let v = Int(text) else { throw ConfigError("\(key) must be a whole number, got '\(text)'") }
            return v
        }
        func port(_ key: String) throws -> Int? {
            guard let p = try int(key) else { return nil }
            guard (1...65535).contains(p) else { throw ConfigError("\(key) must be a port from 1 to 65535, got \(p)") }
            return p
        }
        if env["RANK"] != nil || env["WORLD_SIZE"] != nil {
            guard let rank = try int("RANK"), let size = try int("WORLD_SIZE") else {
                throw ConfigError("RANK and WORLD_SIZE must be set together (torch.distributed's env:// rendezvous); only \(env["RANK"] != nil ? "RANK" : "WORLD_SIZE") is")
            }
            try check(rank: rank, size: size, names: ("RANK", "WORLD_SIZE"))
            guard size > 1 else { return nil }
            guard let addr = env["MASTER_ADDR"], !addr.isEmpty else { throw ConfigError("WORLD_SIZE is \(size) but MASTER_ADDR is not set: name the host of rank 0") }
            guard let p = try port("MASTER_PORT") else { throw ConfigError("WORLD_SIZE is \(size) but MASTER_PORT is not set: name a free port on \(addr)") }
            let local = try int("LOCAL_RANK") ?? rank
            return Placement(rank: rank, worldSize: size, localRank: local, masterAddress: addr, masterPort: p, source: "torchrun")
        }
        // Slurm: only inside a job step (srun), where every task has its own SLURM_PROCID. The
        // batch script itself also sees SLURM_NTASKS, and must not wait for tasks that srun starts.
        guard env["SLURM_STEP_ID"] != nil || env["SLURM_STEPID"] != nil, let rank = try int("SLURM_PROCID") else { return nil }
        guard let size = try int("SLURM_STEP_NUM_TASKS") ?? int("SLURM_NTASKS") else { return nil }
        try check(rank: rank, size: size, names: ("SLURM_PROCID", "SLURM_STEP_NUM_TASKS"))
        guard size > 1 else { return nil }
        let nodes = env["SLURM_STEP_NODELIST"] ?? env["SLURM_JOB_NODELIST"] ?? env["SLURM_NODELIST"] ?? ""
        let addr: String
        if let a = env["MASTER_ADDR"], !a.isEmpty { addr = a } else {
            guard let first = try HostList.expand(nodes, upTo: 1).first else { throw ConfigError("SLURM_JOB_NODELIST is empty: cannot tell which host runs rank 0 (set MASTER_ADDR)") }
            addr = first
        }
        let p: Int
        if let given = try port("MASTER_PORT") { p = given } else {
            // One port per job, so two jobs sharing a node do not meet.
            let job = try int("SLURM_JOB_ID") ?? 0
            p = 20000 + job % 20000
        }
        return Placement(rank: rank, worldSize: size, localRank: try int("SLURM_LOCALID") ?? 0, masterAddress: addr, masterPort: p, source: "slurm")
    }

    static func check(rank: Int, size: Int, names: (String, String)) throws {
        guard size >= 1 else { throw ConfigError("\(names.1) must be at least 1, got \(size)") }
        guard (0..<size).contains(rank) else { throw ConfigError("\(names.0) \(rank) is not a rank of a world of \(size) (\(names.0) must be from 0 to \(size - 1))") }
    }
}

/// Slurm's host lists: "node[01-03,07],gpu5" → node01, node02, node03, node07, gpu5.
public enum HostList {
    /// The hosts, at most `upTo` of them (the rest are not generated); a list naming more than
    /// `limit` hosts is an error.
    public static func expand(_ list: String, upTo: Int = .max, limit: Int = 1 << 16) throws -> [String] {
        var hosts: [String] = []
        var i = list.startIndex
        while i < list.endIndex {
            var prefix = ""
            while i < list.endIndex, list[i] != ",", list[i] != "[" { prefix.append(list[i]); i = list.index(after: i) }
            if i < list.endIndex, list[i] == "[" {
                guard let close = list[i...].firstIndex(of: "]") else { throw ConfigError("host list '\(list.prefix(200))' has a '[' without ']'") }
                let ranges = list[list.index(after: i)..<close]
                var suffix = ""
                var j = list.index(after: close)
                while j < list.endIndex, list[j] != "," { suffix.append(list[j]); j = list.index(after: j) }
                for part in ranges.split(separator: ",") {
                    let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
                    guard bounds.count <= 2, let low = Int(bounds[0]), let high = Int(bounds.last!), low <= high else {
                        throw ConfigError("host list '\(list.prefix(200))' has a bad range '\(part.prefix(50))'")
                    }
                    let width = bounds[0].count
                    guard high - low < limit - hosts.count else { throw ConfigError("host list '\(list.prefix(200))' names more than \(limit) hosts") }
                    for n in low...high {
                        if hosts.count >= upTo { return hosts }
                        let digits = String(n)
                        hosts.append(prefix + String(repeating: "0", count: max(0, width - digits.count)) + digits + suffix)
                    }
                }
                i = j
            } else if !prefix.isEmpty {
                guard hosts.count < limit else { throw ConfigError("host list '\(list.prefix(200))' names more than \(limit) hosts") }
                hosts.append(prefix)
            }
            if hosts.count >= upTo { return Array(hosts.prefix(upTo)) }
            if i < list.endIndex, list[i] == "," { i = list.index(after: i) }
        }
        return hosts
    }
}
