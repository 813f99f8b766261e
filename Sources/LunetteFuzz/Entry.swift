import Foundation

// Two builds of one harness.
// - With -DLUNETTE_FUZZ and -sanitize=fuzzer (scripts/fuzz): libFuzzer's entry points; the
//   target is named by LUNETTE_FUZZ_TARGET.
// - Otherwise: a replay tool, `lunette-fuzz TARGET FILE|FOLDER...`, that runs each input once
//   (the seed corpora and every crash found stay regression inputs of the ordinary build);
//   LUNETTE_FUZZ_VERBOSE=1 prints each input's outcome.

func target(named name: String?) -> FuzzTarget {
    guard let name, let t = FuzzTarget(rawValue: name) else {
        let known = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write("lunette-fuzz: name a target (\(known)); got \(name ?? "none")\n".data(using: .utf8)!)
        exit(2)
    }
    return t
}

#if LUNETTE_FUZZ
import CFuzz

nonisolated(unsafe) var selected = FuzzTarget.pickle

@main
enum Fuzz {
    static func main() {
        selected = target(named: ProcessInfo.processInfo.environment["LUNETTE_FUZZ_TARGET"])
        _ = FuzzTarget.folder
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            selected.run(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
    }
}
#else
@main
enum Replay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        let t = target(named: arguments.first)
        let verbose = ProcessInfo.processInfo.environment["LUNETTE_FUZZ_VERBOSE"] == "1"
        var inputs: [String] = []
        for argument in arguments.dropFirst() {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder) else {
                FileHandle.standardError.write("lunette-fuzz: no such input \(argument)\n".data(using: .utf8)!)
                exit(2)
            }
            if isFolder.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []
                inputs += names.sorted().filter { !$0.hasPrefix(".") }.map { argument + "/" + $0 }
            } else {
                inputs.append(argument)
            }
        }
        for path in inputs {
            let data = FileManager.default.contents(atPath: path) ?? Data()
            let outcome = data.withUnsafeBytes { t.run($0) }
            if verbose { print("\(path): \(outcome ?? "read")") }
        }
        print("\(t.rawValue): \(inputs.count) inputs replayed")
        try? FileManager.default.removeItem(atPath: FuzzTarget.folder)
    }
}
#endif
