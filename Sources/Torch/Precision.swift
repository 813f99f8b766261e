import Foundation

/// The arithmetic a model's convolutions and linear layers run in: exact fp32 (the default
/// everywhere), or bf16 / fp16 where the hardware does them natively. Weights stay fp32; the
/// parts that keep detections stable (box decoding, ROIAlign's sampling, NMS, the score
/// softmax, the losses) stay fp32 whatever the precision.
public enum Precision: String, CaseIterable, Sendable, CustomStringConvertible {
    case fp32, bf16, fp16

    public var description: String { rawValue }

    /// The element type the convolutions and linear layers compute in.
    public var dtype: DType {
        switch self {
        case .fp32: return .float32
        case .bf16: return .bfloat16
        case .fp16: return .float16
        }
    }

    /// "fp32", "bf16" or "fp16" (also "float32", "bfloat16", "float16"); `key` names the option
    /// in the error ("precision", "--precision").
    public init(parsing text: String, key: String = "precision") throws {
        switch text.lowercased() {
        case "fp32", "float32", "float": self = .fp32
        case "bf16", "bfloat16": self = .bf16
        case "fp16", "float16", "half": self = .fp16
        default:
            throw TorchError("\(key) = '\(text)' is not a precision Lunette offers: use \"fp32\" (exact, the default), \"bf16\" or \"fp16\"")
        }
    }

    /// What running at this precision on a device comes to.
    public enum Support: Equatable, Sendable {
        /// The hardware does it natively.
        case native
        /// No native support here: runs fp32 instead (the reason, said once).
        case fallback(String)
        /// Not offered on this device (the reason, as an error).
        case refused(String)
    }

    /// LUNETTE_PRECISION_TRIAL=1: a precision not offered on a device runs anyway, to measure
    /// it (scripts/bench/precision.lua); tests set it here.
    nonisolated(unsafe) public static var trial = ProcessInfo.processInfo.environment["LUNETTE_PRECISION_TRIAL"] == "1"

    /// Why a CPU without bf16 instructions runs fp32 when bf16 is asked for.
    static let noBF16Instructions = "this CPU has no bf16 instructions (AVX-512 BF16 or AMX), so oneDNN would emulate bf16 more slowly than fp32"

    /// Why bf16 is not offered on the CPU: what it measured against fp32 (scripts/bench/precision.lua).
    static let bf16OnCPU = "bf16 is not offered on the CPU: measured against fp32 it keeps 49 % of the fixture model's "
        + "detections and 95 to 98 % of a confident model's (same class, IoU >= 0.9, score within 0.02), short of the "
        + "98 % and 0.3 AP points a reduced precision must keep; use \"fp32\" (LUNETTE_PRECISION_TRIAL=1 runs it to measure it)"

    /// SOLVER.AMP.ENABLED: what mixed-precision training runs its convolutions and linear
    /// layers at on a device, with fp32 weights, losses and checkpoints: fp16 with a gradient
    /// scaler on CUDA (Detectron2's AMPTrainer), bf16 on a CPU with bf16 instructions (bf16
    /// has fp32's range, so no scaler), or fp32 where neither is native, with the reason.
    public static func mixedTraining(on device: Device) -> (precision: Precision, fallback: String?) {
        switch device {
        case .cuda: return (.fp16, nil)
        case .cpu:
            guard TorchRuntime.cpuBF16Instructions != nil else {
                return (.fp32, Precision.noBF16Instructions + "; training in fp32")
            }
            return (.bf16, nil)
        }
    }

    public func support(on device: Device) -> Support {
        switch (self, device) {
        case (.fp32, _):
            return .native
        case (.bf16, .cpu):
            guard Precision.trial else { return .refused(Precision.bf16OnCPU) }
            if TorchRuntime.cpuBF16Instructions != nil { return .native }
            return .fallback(Precision.noBF16Instructions + "; running fp32")
        case (.fp16, .cpu):
            return .refused("fp16 is not offered on the CPU: libtorch's CPU convolutions have no fp16 kernels and bf16 there keeps too few of fp32's detections; use \"fp32\"")
        case (_, .cuda):
            return .native
        }
    }
}
