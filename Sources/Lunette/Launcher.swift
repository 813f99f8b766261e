import Detection
import LuaHost
import Foundation
import Glibc

/// `lunette --launch N [options] script [args]`: N local processes of one data-parallel job,
/// as Detectron2's `launch` or `torchrun --nproc-per-node N`: each runs the rest of the command
/// line with RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR (127.0.0.1) and
/// MASTER_PORT (MASTER_PORT if set, else a free port) in its environment, and OMP_NUM_THREADS
/// set to its share of the cores unless already set. Output passes straight through. When one
/// process fails the others are given time to notice (their collectives fail naming it), then
/// stopped; the launcher exits with the first failure's status.
enum Launcher {
    static func main(_ argv: [String]) -> Int32? {
        guard argv.count >= 2, argv[1] == "--launch" || argv[1].hasPrefix("--launch=") else { return nil }
        var rest = Array(argv.dropFirst(2))
        var countText: String
        if argv[1].hasPrefix("--launch=") {
            countText = String(argv[1].dropFirst("--launch=".count))
        } else {
            guard let first = rest.first else { return usage("--launch needs a number of processes") }
            countText = first
            rest.removeFirst()
        }
        guard let n = Int(countText), n >= 1, n <= 256 else { return usage("--launch takes a number of processes from 1 to 256, not '\(countText)'") }
        guard !rest.isEmpty else { return usage("--launch \(n) needs a script to run (lunette --launch \(n) train.lua)") }
        var env = ProcessInfo.processInfo.environment
        let port: Int
        if let text = env["MASTER_PORT"], !text.isEmpty {
            guard let p = Int(text), (1...65535).contains(p) else { return usage("MASTER_PORT must be a port from 1 to 65535, got '\(text)'") }
            port = p
        } else {
            guard let p = freePort() else { return usage("no free local port for the rendezvous; set MASTER_PORT") }
            port = p
        }
        env["MASTER_ADDR"] = env["MASTER_ADDR"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        env["MASTER_PORT"] = String(port)
        env["WORLD_SIZE"] = String(n)
        env["LOCAL_WORLD_SIZE"] = String(n)
        if env["OMP_NUM_THREADS"] == nil {
            env["OMP_NUM_THREADS"] = String(max(1, ProcessInfo.processInfo.activeProcessorCount / n))
        }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? argv[0]
        var children: [pid_t: Int] = [:]
        for rank in 0..<n {
            var e = env
            e["RANK"] = String(rank)
            e["LOCAL_RANK"] = String(rank)
            guard let pid = spawn(exe, [exe] + rest, e) else {
                Console.err("lunette --launch: cannot start rank \(rank): \(String(cString: strerror(errno)))\n")
                for (p, _) in children { kill(p, SIGTERM) }
                return 1
            }
            children[pid] = rank
        }
        // Ctrl-C reaches the children from the terminal; the launcher waits for them.
        signal(SIGINT, SIG_IGN)
        var status: Int32 = 0
        var failedAt: Date?
        while !children.isEmpty {
            var raw: Int32 = 0
            let pid = waitpid(-1, &raw, failedAt == nil ? 0 : WNOHANG)
            if pid > 0, let rank = children.removeValue(forKey: pid) {
                let code = exitCode(raw)
                if code != 0 && status == 0 {
                    status = code
                    failedAt = Date()
                    Console.err("lunette --launch: rank \(rank) of \(n) \(describe(raw))\(children.isEmpty ? "" : "; waiting for the other ranks to stop")\n")
                }
                continue
            }
            if pid < 0 && errno != EINTR { break }
            if let t = failedAt {
                // The others' collectives fail within seconds of a death; after 30 s they are stopped.
                let waited = Date().timeIntervalSince(t)
                if waited > 30 { for (p, _) in children { kill(p, waited > 35 ? SIGKILL : SIGTERM) } }
                usleep(100_000)
            }
        }
        return status
    }

    static func usage(_ message: String) -> Int32 {
        Console.err("lunette: \(message)\n")
        return 2
    }

    static func exitCode(_ raw: Int32) -> Int32 {
        let signalled = raw & 0x7f
        return signalled == 0 ? (raw >> 8) & 0xff : 128 + signalled
    }

    static func describe(_ raw: Int32) -> String {
        let signalled = raw & 0x7f
        return signalled == 0 ? "exited with status \((raw >> 8) & 0xff)" : "was killed by signal \(signalled)"
    }

    /// A port the kernel says is free now (bound to port 0 and released).
    static func freePort() -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { return nil }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        guard named == 0 else { return nil }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func spawn(_ path: String, _ args: [String], _ env: [String: String]) -> pid_t? {
        let argv = args.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, nil, nil, argv, envp)
        guard rc == 0 else { errno = rc; return nil }
        return pid
    }
}
