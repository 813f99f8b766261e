import LuaHost
import Support
import Torch

/// Installs every Lunette module into a Lua state: one file per Lua module, all registered
/// through LuaHost's registry so help, completion and argument checks see the same entries.
public enum LunetteBindings {
    /// Lunette's own version.
    public static let version = "0.1.0"

    public static func install(in state: LuaState) throws {
        TorchRuntime.initialize()
        // Long work's stop convention: a stop is Ctrl-C's interrupt request, and the error
        // that reports a stop clears it (so Lua does not raise "interrupted!" on top).
        LongWork.poll = { LuaInterrupt.isRequested }
        LongWork.acknowledge = { LuaInterrupt.clear() }
        try installLunetteModule(in: state)
        try installTorchModule(in: state)
        try installCVModule(in: state)
        try installDrawingModule(in: state)
        try installDataModule(in: state)
        try installStructuresModule(in: state)
        try installEvaluationModule(in: state)
        try installConfigModule(in: state)
        try installModelModule(in: state)
        try installBulkModule(in: state)
        try installEngineModule(in: state)
        try installTuningModule(in: state)
        try installExportModule(in: state)
        installHelp(in: state)
    }
}
