import Foundation
import XCTest

/// The Detectron2 reference outputs: shared/fixtures found walking up from this file (beside the
/// checkout, or inside it as CI lays it), else /work/shared. Tests skip, naming the file, without them.
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
        guard FileManager.default.fileExists(atPath: p) else { throw XCTSkip("fixture \(relative) is not available") }
        return p
    }
}
