import Foundation
import Glibc

/// Detectron2's checkpoint catalog (detectron2/checkpoint/catalog.py; named apart from the
/// data catalog's Catalog.swift, as SwiftPM wants): a `detectron2://` link, or the same file's dl.fbaipublicfiles.com address, names a model-zoo file. Lunette reads
/// local files only, so a link is looked up, under the same relative path, in the local model
/// zoo (LUNETTE_MODEL_ZOO, default ~/.cache/lunette/model_zoo) and in Detectron2's own download
/// cache (~/.torch/iopath_cache/detectron2); a missing file is an error that says which file to
/// put where.
public enum ModelZooFiles {
    public static let scheme = "detectron2://"
    /// Where Detectron2 downloads `detectron2://` links from.
    public static let downloadPrefix = "https://dl.fbaipublicfiles.com/detectron2/"

    static var home: String { getenv("HOME").map { String(cString: $0) } ?? "." }

    /// The local model-zoo folder.
    public static var folder: String {
        if let env = getenv("LUNETTE_MODEL_ZOO").map({ String(cString: $0) }), !env.isEmpty { return env }
        return home + "/.cache/lunette/model_zoo"
    }

    /// The folders searched, in order.
    public static var folders: [String] { [folder, home + "/.torch/iopath_cache/detectron2"] }

    /// The model-zoo path inside a link ("COCO-Detection/.../model_final_280758.pkl"), nil when
    /// the text is not a model-zoo link.
    public static func relativePath(of link: String) -> String? {
        for prefix in [scheme, downloadPrefix] where link.hasPrefix(prefix) {
            return String(link.dropFirst(prefix.count))
        }
        return nil
    }

    /// A weights path as given: a local file stays as it is, a model-zoo link becomes the local
    /// file it names, another download link is an error (`key` names where it came from).
    public static func localPath(_ path: String, key: String = "MODEL.WEIGHTS") throws -> String {
        guard let relative = relativePath(of: path) else {
            if path.hasPrefix("http://") || path.hasPrefix("https://") {
                throw ConfigError("\(key) \(path) is a download link; Lunette reads local files only: download it once and give its path")
            }
            return path
        }
        guard !relative.isEmpty, !relative.split(separator: "/").contains("..") else {
            throw ConfigError("\(key) \(path) names no model-zoo file")
        }
        for folder in folders {
            let candidate = folder + "/" + relative
            if FileManager.default.isReadableFile(atPath: candidate) { return candidate }
        }
        throw ConfigError("\(key) \(path) is not on this machine (Lunette reads local files only). Download \(downloadPrefix)\(relative) "
                          + "and put it at \(folder)/\(relative) (the model-zoo folder is LUNETTE_MODEL_ZOO; Detectron2's cache "
                          + "\(folders[1])/\(relative) is read too)")
    }
}
