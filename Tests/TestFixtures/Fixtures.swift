import Foundation
import XCTest

/// The Detectron2 reference outputs: shared/fixtures found walking up from this file (beside the
/// checkout, or inside it as CI lays it), else /work/shared. Without them a test skips, naming
/// the file, on a developer's machine, and fails under CI=true (see `Missing`).
public enum Fixtures {
    public static let root: String = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("shared/fixtures/detectron2/public").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            let sibling = dir.deletingLastPathComponent().appendingPathComponent("shared/fixtures/detectron2/public").path
            if FileManager.default.fileExists(atPath: sibling) { return sibling }
            dir = dir.deletingLastPathComponent()
        }
        return "/work/shared/fixtures/detectron2/public"
    }()

    public static func path(_ relative: String) throws -> String {
        let p = (root as NSString).appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: p) else { throw Missing.requirement("fixture \(relative) is not available") }
        return p
    }
}

/// A fixture or peer a test compares with is not there. Under CI=true (where scripts/test
/// installs every peer) that is a failure, so no comparison passes vacuously; elsewhere the
/// test skips, saying what is missing. Only CUDA tests skip everywhere.
public struct Missing: Error, CustomStringConvertible {
    public let description: String

    public static func requirement(_ what: String) -> Error {
        if let ci = ProcessInfo.processInfo.environment["CI"], !ci.isEmpty, ci != "false", ci != "0" {
            return Missing(description: "\(what) (required under CI=true: scripts/test installs it)")
        }
        return XCTSkip(what)
    }
}
