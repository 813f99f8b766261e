import LuaHost
import Vision

extension LunetteBindings {
    static func installCVModule(in state: LuaState) throws {
        try state.defineModule("cv", doc: "Images and video through OpenCV.") { m in
            try m.value("version", .string(VisionRuntime.version), doc: "OpenCV's version.")
        }
    }
}
