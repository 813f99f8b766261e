import CVision
import Support
import Foundation

/// Frames of a video file, read sequentially (grab, and decode only the frames wanted).
public final class Video {
    let handle: cv_video
    public let path: String

    public init(path: String) throws {
        // The one check of what a path is: a folder or a FIFO (which would block FFmpeg's open
        // for ever) is an error naming it.
        do { close(try InputFile.open(path)) } catch let e as FileError {
            let reason = e.message.range(of: "\(path): ").map { String(e.message[$0.upperBound...]) } ?? e.message
            throw VisionError("cannot open video \(path): \(reason)")
        }
        var out: cv_video?
        try check(cv_video_open(path, &out))
        handle = out!
        self.path = path
    }

    deinit { cv_video_close(handle) }

    public struct Info {
        public var fps: Double
        /// What the container claims; often wrong, never relied on.
        public var claimedFrames: Int
        public var width: Int, height: Int
    }

    public var info: Info {
        var fps = 0.0, frames = 0.0
        var w: Int32 = 0, h: Int32 = 0
        _ = cv_video_info(handle, &fps, &frames, &w, &h)
        return Info(fps: fps, claimedFrames: Int(frames), width: Int(w), height: Int(h))
    }

    /// The next frame: .frame(image or nil when not decoded), or .end at the end or the first
    /// unreadable frame.
    public enum Next { case frame(Image?), end }

    public func next(decode: Bool = true) throws -> Next {
        var out: cv_image?
        let r = cv_video_next(handle, decode ? 1 : 0, &out)
        if r < 0 { throw VisionError.last() }
        if r == 0 { return .end }
        return .frame(out.map { Image(handle: $0) })
    }

    public struct Extraction {
        /// Frames read before the end (or the first unreadable one).
        public var framesRead: Int
        /// Files written: (frame index, path).
        public var written: [(frame: Int, path: String)]
        public var claimedFrames: Int
    }

    /// Writes every Nth frame (0, N, 2N, ...) as `<video name>_<frame index, 6 digits>.<ext>` in a
    /// folder. Never trusts the container's frame count: reads until the stream ends or a frame
    /// cannot be read, and reports how many were read. `shouldStop` is polled between frames.
    public static func extractFrames(from path: String, every n: Int, to folder: String, format: String = "jpg",
                                     quality: Int = 95, shouldStop: () -> Bool = { false }) throws -> Extraction {
        guard n >= 1 else { throw VisionError("every must be at least 1, got \(n)") }
        guard ["jpg", "jpeg", "png"].contains(format.lowercased()) else { throw VisionError("frames are written as jpg or png, not \(format)") }
        let video = try Video(path: path)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), !isFolder.boolValue {
            throw VisionError("cannot write frames to \(folder): it is a file, not a folder")
        }
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw VisionError("cannot create the folder \(folder) for frames: \((error as NSError).localizedDescription)")
        }
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        var result = Extraction(framesRead: 0, written: [], claimedFrames: video.info.claimedFrames)
        var index = 0
        while !shouldStop() {
            let wanted = index % n == 0
            guard case .frame(let image) = try video.next(decode: wanted) else { break }
            if wanted, let image {
                let name = "\(stem)_\(String(format: "%06d", index)).\(format)"
                let target = (folder as NSString).appendingPathComponent(name)
                try image.write(target, quality: format.lowercased() == "png" ? nil : quality)
                result.written.append((index, target))
            }
            index += 1
        }
        result.framesRead = index
        // A file FFmpeg opens but yields no frame from is no video (an image, or damaged).
        if index == 0 && !shouldStop() { throw VisionError("\(path): no frame could be read (not a video, or damaged)") }
        return result
    }
}

/// An OpenCV Haar cascade (the pretrained baseline for faces and smiles).
public final class Cascade {
    let handle: cv_cascade
    public let path: String

    /// Loads a cascade XML; a bare name ("haarcascade_frontalface_default.xml") is looked up in
    /// Debian's opencv-data folders.
    public init(path: String) throws {
        let candidates = path.contains("/") ? [path] : Cascade.searchFolders.map { "\($0)/\(path)" }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw VisionError("cannot find cascade \(path) (looked in \(candidates.joined(separator: ", ")))")
        }
        var out: cv_cascade?
        try check(cv_cascade_load(found, &out))
        handle = out!
        self.path = found
    }

    deinit { cv_cascade_free(handle) }

    public static let searchFolders = ["/usr/share/opencv4/haarcascades", "/usr/share/opencv4/lbpcascades"]

    public struct Detection: Equatable {
        public var x: Int, y: Int, width: Int, height: Int
        /// The level weight of the last stage: a confidence usable for AP and thresholds.
        public var score: Double
    }

    /// detectMultiScale with reject levels on a grayscale image (BGR is converted first).
    public func detect(_ image: Image, scaleFactor: Double = 1.1, minNeighbors: Int = 3, minSize: (Int, Int) = (0, 0),
                       maxSize: (Int, Int) = (0, 0), equalize: Bool = false) throws -> [Detection] {
        var gray = image.channels == 1 ? image : try image.converted(.bgrToGray)
        if equalize { gray = try gray.equalizedHistogram() }
        var capacity = 256
        while true {
            var boxes = [Int32](repeating: 0, count: capacity * 4)
            var scores = [Double](repeating: 0, count: capacity)
            var count: Int32 = 0
            try check(cv_cascade_detect(handle, gray.handle, scaleFactor, try Checked.int32(minNeighbors, "min_neighbors"),
                                        try Checked.int32(minSize.0, "min_size"), try Checked.int32(minSize.1, "min_size"),
                                        try Checked.int32(maxSize.0, "max_size"), try Checked.int32(maxSize.1, "max_size"), &boxes, &scores,
                                        try Checked.int32(capacity, "capacity"), &count))
            if Int(count) <= capacity {
                return (0..<Int(count)).map { i in
                    Detection(x: Int(boxes[i * 4]), y: Int(boxes[i * 4 + 1]), width: Int(boxes[i * 4 + 2]),
                              height: Int(boxes[i * 4 + 3]), score: scores[i])
                }
            }
            capacity = Int(count)
        }
    }
}
