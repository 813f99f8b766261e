// swift-tools-version:6.0
// Lunette: a Swift host embedding Lua 5.4, with Detectron2-style detection on libtorch and OpenCV.
//
// libtorch is found, not hard-coded: Debian's libtorch-dev by default, or the prefix named by the
// LIBTORCH environment variable (the `torch` folder of a pip wheel, or an unpacked libtorch archive).
// With LIBTORCH the libraries are linked by full path (a plain -L would lose to the system
// directory that pkg-config puts first) and an rpath is recorded, and a CUDA build's
// libtorch_cuda is linked with --no-as-needed so CUDA registers itself at load.
import PackageDescription
import Foundation

let environment = ProcessInfo.processInfo.environment

struct TorchLocation {
    var cxxFlags: [String]
    var linker: [LinkerSetting]
    var usesCUDA: Bool
}

func locateTorch() -> TorchLocation {
    if let root = environment["LIBTORCH"], !root.isEmpty {
        let lib = "\(root)/lib"
        var flags = ["-Xlinker", "-rpath", "-Xlinker", lib, "\(lib)/libtorch_cpu.so", "\(lib)/libc10.so"]
        let cudaLib = "\(lib)/libtorch_cuda.so"
        let cuda = FileManager.default.fileExists(atPath: cudaLib)
        if cuda {
            flags += ["-Xlinker", "--no-as-needed", cudaLib]
            if FileManager.default.fileExists(atPath: "\(lib)/libc10_cuda.so") { flags.append("\(lib)/libc10_cuda.so") }
            flags += ["-Xlinker", "--as-needed"]
        }
        // A pip wheel's NCCL headers sit beside torch (nvidia/nccl): with them the shim builds
        // the nccl backend for data-parallel training on CUDA.
        let nccl = "\(root)/../nvidia/nccl/include"
        let ncclFlags = cuda && FileManager.default.fileExists(atPath: "\(nccl)/nccl.h") ? ["-isystem", nccl] : []
        // gloo for data-parallel training on CPU, where this libtorch ships its headers.
        let gloo = FileManager.default.fileExists(atPath: "\(root)/include/gloo/config.h") ? ["-DLUNETTE_TORCH_GLOO=1"] : []
        return TorchLocation(
            cxxFlags: ["-isystem", "\(root)/include", "-isystem", "\(root)/include/torch/csrc/api/include", "-DLUNETTE_TORCH_EXTERNAL=1"]
                + (cuda ? ["-DLUNETTE_TORCH_CUDA=1"] : []) + ncclFlags + gloo,
            linker: [.unsafeFlags(flags)],
            usesCUDA: cuda)
    }
    return TorchLocation(
        cxxFlags: ["-isystem", "/usr/include/torch/csrc/api/include"],
        linker: [.linkedLibrary("torch_cpu"), .linkedLibrary("c10")],
        usesCUDA: false)
}

let torch = locateTorch()

/// OpenCV: Debian's libopencv-dev by default, or a static build installed under the prefix named
/// by LUNETTE_OPENCV (scripts/gpu/bundle makes one: core, imgproc, imgcodecs, videoio and
/// objdetect with their bundled codecs, so the bundle carries none of Debian's OpenCV closure).
func locateOpenCV() -> (cxxFlags: [String], linker: [LinkerSetting]) {
    let modules = ["objdetect", "calib3d", "features2d", "flann", "videoio", "imgcodecs", "imgproc", "core"]
    guard let prefix = environment["LUNETTE_OPENCV"], !prefix.isEmpty else {
        return (["-isystem", "/usr/include/opencv4"],
                ["core", "imgproc", "imgcodecs", "videoio", "objdetect"].map { .linkedLibrary("opencv_" + $0) })
    }
    let thirdParty = (try? FileManager.default.contentsOfDirectory(atPath: "\(prefix)/lib/opencv4/3rdparty"))?
        .filter { $0.hasSuffix(".a") }.sorted().map { "\(prefix)/lib/opencv4/3rdparty/\($0)" } ?? []
    let archives = modules.map { "\(prefix)/lib/libopencv_\($0).a" }.filter { FileManager.default.fileExists(atPath: $0) } + thirdParty
    return (["-isystem", "\(prefix)/include/opencv4"],
            [.unsafeFlags(["-Xlinker", "--start-group"] + archives.flatMap { ["-Xlinker", $0] } + ["-Xlinker", "--end-group"])])
}

let opencv = locateOpenCV()
let fuzzing = environment["LUNETTE_FUZZ"] == "1"

let package = Package(
    name: "Lunette",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lunette", targets: ["Lunette"]),
        .executable(name: "lunette-fuzz", targets: ["LunetteFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        // SQLite stores (grid searches, final models): WAL, several processes, atomic claims.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // SHA-256 of trial keys and of the weights a final model names.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // System libraries found through pkg-config.
        // Lua's headers (Debian's liblua5.4-dev); the library is linked statically by CLua.
        .systemLibrary(name: "LuaSystem", providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "ReadlineSystem", pkgConfig: "readline", providers: [.apt(["libreadline-dev"])]),
        .systemLibrary(name: "PangoCairoSystem", pkgConfig: "pangocairo", providers: [.apt(["libpango1.0-dev", "libcairo2-dev"])]),
        // CommonMark: the Markdown cells of a notebook as HTML.
        .systemLibrary(name: "CMarkSystem", pkgConfig: "libcmark", providers: [.apt(["libcmark-dev"])]),
        // ZeroMQ: the Jupyter kernel's sockets. Only the Jupyter target imports it.
        .systemLibrary(name: "ZMQSystem", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),

        // C glue: Lua's macros, the error trampoline, the interrupt hook (the only code that may longjmp).
        // Lua is linked statically, as the lua5.4 interpreter is: calls into the Lua API then skip
        // the shared library's PLT, which is most of the cost of a Lua-to-Swift call.
        .target(name: "CLua", dependencies: ["LuaSystem"],
                linkerSettings: [.unsafeFlags(["-Xlinker", "/usr/lib/x86_64-linux-gnu/liblua5.4.a"])]),
        // C glue: readline's callback interface, Ctrl-C at the prompt, completion hook.
        .target(name: "CReadline", dependencies: ["ReadlineSystem"]),
        // The only code that includes Cairo and Pango headers: a flat C API for drawing and text.
        .target(name: "CDrawing", dependencies: ["PangoCairoSystem"]),
        // The only code that includes libtorch headers: a flat C API.
        .target(
            name: "CTorch",
            cxxSettings: [.unsafeFlags(torch.cxxFlags)],
            linkerSettings: torch.linker),
        // The only code that includes OpenCV headers: a flat C API.
        .target(
            name: "CVision",
            cxxSettings: [.unsafeFlags(opencv.cxxFlags)],
            linkerSettings: opencv.linker),

        .target(name: "LuaHost", dependencies: ["CLua", "Support"]),
        // Foundation-only mechanisms every layer shares: atomic files, CSV, progress, the stop convention.
        .target(name: "Support"),
        .target(name: "Torch", dependencies: ["CTorch", "Support"]),
        .target(name: "Vision", dependencies: ["CVision", "Support"]),
        // Figures (a display list of marks) with Pango's text metrics, rendered by Cairo (PNG, PDF,
        // pixels) or written as SVG with text kept as text.
        .target(name: "Drawing", dependencies: ["CDrawing", "Support"]),
        // SQLite through GRDB: the one place that speaks SQL (grid-search stores, the final-models registry).
        .target(name: "Store", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "Detection", dependencies: ["Drawing", "Store", "Support", "Torch", "Vision", .product(name: "Yams", package: "Yams"),
                                                  .product(name: "Crypto", package: "swift-crypto")]),
        // Notebooks: the `-- %%` format, .ipynb (nbformat 4.5), papermill's parameters, the HTML page.
        .target(name: "Notebook", dependencies: ["CMarkSystem", "LuaHost", "Support", .product(name: "Yams", package: "Yams")]),
        // The Jupyter messaging protocol (5.3): ZeroMQ sockets, signed wire messages, connection
        // files, kernelspecs. The kernel itself (which runs Lua) is the executable's.
        .target(name: "Jupyter", dependencies: ["ZMQSystem", "Support", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "LunetteLua", dependencies: ["LuaHost", "Support", "Torch", "Vision", "Drawing", "Detection"]),
        .executableTarget(name: "Lunette", dependencies: ["LunetteLua", "LuaHost", "Notebook", "Jupyter", "Drawing", "Support", "CReadline", "CLua"]),
        // Fuzz harnesses over the readers of outside data (scripts/fuzz); in an ordinary build, a replay tool.
        // LUNETTE_FUZZ=1 (set by scripts/fuzz) builds libFuzzer's entry points instead of the replay main.
        .target(name: "CFuzz"),
        .executableTarget(name: "LunetteFuzz", dependencies: ["CFuzz", "Detection", "Jupyter", "LuaHost", "Notebook", "Support", "Torch", "Vision"],
                          swiftSettings: fuzzing ? [.define("LUNETTE_FUZZ")] : []),

        // Test support: spawning the CLI on a pseudo-terminal needs forkpty, which Swift cannot call safely.
        .target(name: "CPty", path: "Tests/CPty", linkerSettings: [.linkedLibrary("util")]),
        .testTarget(name: "LuaHostTests", dependencies: ["LuaHost", "CLua", "TestFixtures"]),
        .testTarget(name: "SupportTests", dependencies: ["Support", "TestFixtures"]),
        .testTarget(name: "TorchTests", dependencies: ["Torch", "Support"]),
        .target(name: "TestFixtures", dependencies: ["Support"], path: "Tests/TestFixtures"),
        .testTarget(name: "DetectionTests", dependencies: ["Detection", "Drawing", "Store", "Support", "Torch", "Vision", "TestFixtures"], exclude: ["Data"]),
        .testTarget(name: "JupyterTests", dependencies: ["Jupyter", "Support"]),
        .testTarget(name: "NotebookTests", dependencies: ["Notebook", "Support", "TestFixtures"]),
        .testTarget(name: "LunetteLuaTests", dependencies: ["LunetteLua", "LuaHost"]),
        .testTarget(name: "LunetteCLITests", dependencies: ["CPty", "Lunette", "LunetteFuzz", "TestFixtures"], exclude: ["Scripts"]),
    ],
    cLanguageStandard: .gnu11,
    cxxLanguageStandard: .cxx17
)
