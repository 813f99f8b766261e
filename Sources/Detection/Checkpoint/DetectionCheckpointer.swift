import Foundation
import Torch

/// Detectron2's DetectionCheckpointer (loading): a checkpoint's weights into a model, Caffe2
/// names (model-zoo ImageNet .pkl files) renamed and matched by suffix; tensors whose shapes
/// differ (another NUM_CLASSES) are skipped with a warning each, and missing or unexpected keys
/// are listed, as Detectron2 reports them.
public struct DetectionCheckpointer {
    public let model: Module

    public init(_ model: Module) { self.model = model }

    @discardableResult
    public func load(_ path: String) throws -> Module.LoadReport {
        let path = try ModelZooFiles.localPath(path, key: "weights")
        let checkpoint = try Checkpoint.load(path)
        var weights = checkpoint.stateDict
        if checkpoint.caffe2Names {
            let renamed = try Caffe2Names.convert(checkpoint.model)
            let byName = Dictionary(renamed.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
            let mapping = try Caffe2Names.align(modelKeys: model.namedSlots().map(\.name), checkpointKeys: Array(byName.keys))
            weights = [:]
            for (modelKey, fileKey) in mapping { if let t = byName[fileKey] { weights[modelKey] = t } }
            let unused = Set(byName.keys).subtracting(mapping.values)
            if !unused.isEmpty {
                DetectionLog.shared.warn("checkpoint", "\(path): \(unused.count) Caffe2 weights are not used by the model: \(unused.sorted().prefix(8).joined(separator: ", "))\(unused.count > 8 ? ", ..." : "")")
            }
        }
        var report = try model.load(stateDict: weights)
        if checkpoint.caffe2Names { report.unexpected = [] }
        let log = DetectionLog.shared
        for m in report.mismatched {
            log.warn("checkpoint", "Skip loading parameter '\(m.name)' to the model due to incompatible shapes: \(m.found) in the checkpoint but \(m.expected) in the model! You might want to double check if this is expected.")
        }
        if !report.missing.isEmpty { log.warn("checkpoint", "Some model parameters or buffers are not found in the checkpoint: \(report.missing.joined(separator: ", "))") }
        let unexpected = report.unexpected.filter { !$0.hasPrefix("pixel_") }
        if !unexpected.isEmpty { log.warn("checkpoint", "The checkpoint state_dict contains keys that are not used by the model: \(unexpected.joined(separator: ", "))") }
        model.resetAllCaches()
        return report
    }
}
