import CTorch
import Foundation

/// A libtorch failure, with libtorch's own message.
public struct TorchError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    static func last() -> TorchError {
        var m = String(cString: ct_last_error())
        // libtorch appends "Exception raised from ..." lines in some builds; keep the first paragraph.
        if let r = m.range(of: "\nException raised from") { m = String(m[..<r.lowerBound]) }
        return TorchError(m)
    }
}

@inline(__always)
func check(_ rc: Int32) throws {
    if rc != 0 { throw TorchError.last() }
}

/// Process-wide facts and settings of the libtorch in use.
public enum TorchRuntime {
    /// libtorch's version, e.g. "1.13.0".
    public static var version: String { String(cString: ct_version()) }

    /// Uses every online core unless OMP_NUM_THREADS says otherwise (Debian's libtorch starts with one).
    @discardableResult
    public static func initialize() -> Int { Int(ct_init_threads()) }

    public static var numThreads: Int { Int(ct_get_num_threads()) }

    /// Intra-op threads: from 1 to `maximumThreads` (more only contend, and libtorch hangs
    /// creating a million of them).
    public static func setNumThreads(_ n: Int) throws {
        guard n > 0, n <= maximumThreads else {
            throw TorchError("thread count must be from 1 to \(maximumThreads) (this machine has \(ProcessInfo.processInfo.activeProcessorCount) cores), got \(n)")
        }
        try check(ct_set_num_threads(Int32(n)))
    }

    public static let maximumThreads = 1024

    /// True when libtorch has CUDA and a GPU is present.
    public static var cudaIsAvailable: Bool { ct_cuda_is_available() != 0 }
    public static var cudaDeviceCount: Int { Int(ct_cuda_device_count()) }
    /// True when this binary was linked against a CUDA libtorch (LIBTORCH at build time).
    public static var builtWithCUDA: Bool { ct_built_with_cuda() != 0 }

    /// Seeds libtorch's default generators (CPU and CUDA).
    public static func manualSeed(_ seed: UInt64) throws { try check(ct_manual_seed(seed)) }

    public static var isGradEnabled: Bool { ct_is_grad_enabled() != 0 }

    /// The CPU's native bf16 instructions, as oneDNN uses them ("AVX-512 BF16", "AMX BF16"),
    /// nil when it has none (oneDNN then emulates bf16, slower than fp32). Read from the
    /// kernel's CPU flags; LUNETTE_CPU_BF16=0 says "none" (to check the fallback on any CPU).
    nonisolated(unsafe) public static var cpuBF16Instructions: String? = {
        if ProcessInfo.processInfo.environment["LUNETTE_CPU_BF16"] == "0" { return nil }
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(flagsLine.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" }).map(String.init))
        let found = [("avx512_bf16", "AVX-512 BF16"), ("amx_bf16", "AMX BF16")].filter { flags.contains($0.0) }.map(\.1)
        return found.isEmpty ? nil : found.joined(separator: " and ")
    }()
}

/// Runs body without recording gradients (restoring the previous mode after, also on throw).
public func noGrad<R>(_ body: () throws -> R) rethrows -> R {
    let previous = ct_set_grad_enabled(0)
    defer { _ = ct_set_grad_enabled(previous) }
    return try body()
}
