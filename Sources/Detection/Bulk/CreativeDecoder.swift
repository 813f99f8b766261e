import Foundation
import Store
import Support
import Torch
import Vision

/// Decodes creatives on worker threads ahead of inference: each worker takes the next creative,
/// reads it once (an image, or a video's every Nth frame, decoded on the fly, no files written),
/// resizes each frame once per distinct input setting, and hands the frames over through the
/// creative's own small queue, so memory stays bounded by workers × queue depth.
final class CreativeDecoder: @unchecked Sendable {
    struct Unit {
        var frame: Int?
        var time: Double?
        var height: Int, width: Int
        /// One input tensor per distinct input setting.
        var inputs: [Tensor]
    }

    enum Item {
        case unit(Unit)
        /// The creative is read to its end: its row (state done; the caller may still fail it).
        case end(DetectionStore.CreativeRow)
        case failed(DetectionStore.CreativeRow)
    }

    /// One creative's frames, in order.
    final class Stream: @unchecked Sendable {
        private let condition = NSCondition()
        private var items: [Item] = []
        private var closed = false
        private var cancelled = false
        let capacity: Int
        init(capacity: Int) { self.capacity = capacity }

        /// Blocks while full; false when the reader has gone.
        func put(_ item: Item) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while items.count >= capacity && !cancelled { condition.wait() }
            if cancelled { return false }
            items.append(item)
            if case .unit = item {} else { closed = true }
            condition.broadcast()
            return true
        }

        func next() -> Item {
            condition.lock()
            defer { condition.unlock() }
            while items.isEmpty { condition.wait() }
            let item = items.removeFirst()
            condition.broadcast()
            return item
        }

        func cancel() {
            condition.lock()
            cancelled = true
            items.removeAll()
            condition.broadcast()
            condition.unlock()
        }
    }

    private let work: [String]
    private let inputs: [(resize: ResizeShortestEdge, format: String)]
    private let every: Int
    private let lock = NSCondition()
    private var streams: [Int: Stream] = [:]
    /// Streams being written (a reader may hold one already): cancelled with the decoder.
    private var live: [Int: Stream] = [:]
    private var nextToTake = 0
    private var consumed = 0
    private var cancelled = false
    private let lookahead: Int

    init(work: [String], inputs: [(resize: ResizeShortestEdge, format: String)], every: Int, workers: Int) {
        self.work = work
        self.inputs = inputs
        self.every = every
        lookahead = workers + 1
        for _ in 0..<min(workers, max(work.count, 1)) {
            let t = Thread { [self] in loop() }
            t.stackSize = 8 << 20
            t.start()
        }
    }

    /// The stream of the creative at `position` (waits until a worker has taken it).
    func stream(_ position: Int) -> Stream {
        lock.lock()
        defer { lock.unlock() }
        while streams[position] == nil { lock.wait() }
        let s = streams.removeValue(forKey: position)!
        consumed = position + 1
        lock.broadcast()
        return s
    }

    private var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }

    func cancel() {
        lock.lock()
        cancelled = true
        let open = Array(live.values)
        streams.removeAll()
        lock.broadcast()
        lock.unlock()
        for s in open { s.cancel() }
    }

    private func loop() {
        while true {
            lock.lock()
            // Not too far ahead: at most `lookahead` creatives taken and not yet read.
            while !cancelled && nextToTake < work.count && nextToTake - consumed >= lookahead { lock.wait() }
            if cancelled || nextToTake >= work.count { lock.unlock(); return }
            let position = nextToTake
            nextToTake += 1
            let stream = Stream(capacity: 3)
            streams[position] = stream
            live[position] = stream
            lock.broadcast()
            lock.unlock()
            decode(work[position], into: stream)
            lock.lock()
            live.removeValue(forKey: position)
            lock.unlock()
        }
    }

    private func decode(_ path: String, into stream: Stream) {
        guard let kind = Creatives.kind(of: path) else {
            var row = DetectionStore.CreativeRow(path: path, kind: "unknown", state: "failed")
            row.reason = "unsupported file type '.\((path as NSString).pathExtension)' (images: \(Creatives.imageExtensions.sorted().joined(separator: ", ")); videos: \(Creatives.videoExtensions.sorted().joined(separator: ", ")))"
            _ = stream.put(.failed(row))
            return
        }
        var row = DetectionStore.CreativeRow(path: path, kind: kind.rawValue, state: "done")
        do {
            switch kind {
            case .image: try decodeImage(path, &row, stream)
            case .video: try decodeVideo(path, &row, stream)
            }
        } catch is CancelledDecode {
            return
        } catch {
            row.state = "failed"
            row.reason = Self.reason(error, path: path)
            _ = stream.put(.failed(row))
        }
    }

    struct CancelledDecode: Error {}

    /// The error's text without a leading copy of the path (the row names it).
    static func reason(_ error: Error, path: String) -> String {
        var s = "\(error)"
        for prefix in ["\(path): ", "cannot open video \(path): ", "\(path) "] where s.hasPrefix(prefix) { s = String(s.dropFirst(prefix.count)) }
        return s
    }

    private func tensors(_ image: Image) throws -> [Tensor] {
        try inputs.map { try DefaultPredictor.input(image, resize: $0.resize, format: $0.format) }
    }

    private func decodeImage(_ path: String, _ row: inout DetectionStore.CreativeRow, _ stream: Stream) throws {
        let bytes = try InputFile.read(path, limit: 1 << 31)
        let image: Image = try withExtendedLifetime(bytes) {
            row.bytes = bytes.count
            row.sha256 = Digest.sha256(bytes: bytes.bytes)
            return try Image.decode(bytes.bytes, source: path)
        }
        row.width = image.width
        row.height = image.height
        let unit = Unit(frame: nil, time: nil, height: image.height, width: image.width, inputs: try tensors(image))
        guard stream.put(.unit(unit)) else { throw CancelledDecode() }
        guard stream.put(.end(row)) else { throw CancelledDecode() }
    }

    private func decodeVideo(_ path: String, _ row: inout DetectionStore.CreativeRow, _ stream: Stream) throws {
        let video = try Video(path: path)     // first: it refuses a folder or a FIFO, which hashing would wait on
        row.sha256 = try Digest.sha256(file: path)
        row.bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        let info = video.info
        let fps = info.fps > 0 && info.fps.isFinite ? info.fps : nil
        row.fps = fps
        var index = 0, sampled = 0
        while true {
            let wanted = index % every == 0
            guard case .frame(let image) = try video.next(decode: wanted) else { break }
            if wanted, let image {
                if row.width == nil { row.width = image.width; row.height = image.height }
                let unit = Unit(frame: index, time: fps.map { Double(index) / $0 }, height: image.height, width: image.width, inputs: try tensors(image))
                guard stream.put(.unit(unit)) else { throw CancelledDecode() }
                sampled += 1
            }
            index += 1
            if isCancelled { throw CancelledDecode() }
        }
        guard index > 0 else { throw VisionError("no frame could be read (not a video, or damaged)") }
        row.frames = sampled
        row.framesRead = index
        row.duration = fps.map { Double(index) / $0 }
        guard stream.put(.end(row)) else { throw CancelledDecode() }
    }
}
