import Foundation
import Support
import Torch

/// Maps sequence numbers to items on background threads and hands them out in order, keeping
/// at most `capacity` items ahead of the consumer. With no workers it maps on the caller's thread.
/// The worker threads hold the core; dropping the prefetcher stops them.
final class OrderedPrefetcher<Item>: @unchecked Sendable {
    private let core: PrefetchCore<Item>

    init(workers: Int, capacity: Int, limit: Int?, produce: @escaping (Int) throws -> Item?) {
        core = PrefetchCore(workers: workers, capacity: capacity, limit: limit, produce: produce)
        core.start()
    }

    deinit { core.stop() }

    func stop() { core.stop() }
    func next() throws -> Item? { try core.next() }
}

final class PrefetchCore<Item>: @unchecked Sendable {
    private let produce: (Int) throws -> Item?
    private let limit: Int?
    private let workers: Int
    private let capacity: Int
    private let condition = NSCondition()
    private var nextToStart = 0
    private var nextToTake = 0
    private var done: [Int: Result<Item?, Error>] = [:]
    private var stopped = false
    private var running = 0
    private var threads: [Thread] = []

    /// produce(seq) returns nil to skip seq; limit is the number of sequence numbers (nil: endless).
    init(workers: Int, capacity: Int, limit: Int?, produce: @escaping (Int) throws -> Item?) {
        self.produce = produce
        self.limit = limit
        self.workers = workers
        self.capacity = Swift.max(capacity, workers)
    }

    func start() {
        running = workers
        for w in 0..<workers {
            let t = Thread { self.work() }
            t.name = "lunette-loader-\(w)"
            t.stackSize = 4 << 20
            threads.append(t)
            t.start()
        }
    }

    /// Stops the workers and waits until each has finished its current item, so no decoding
    /// runs on after the loader is gone (or while the process exits).
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    private func work() {
        defer {
            condition.lock()
            running -= 1
            condition.broadcast()
            condition.unlock()
        }
        while true {
            condition.lock()
            while !stopped && (nextToStart - nextToTake >= capacity || (limit.map { nextToStart >= $0 } ?? false)) {
                if let limit, nextToStart >= limit { condition.unlock(); return }
                condition.wait()
            }
            if stopped { condition.unlock(); return }
            let seq = nextToStart
            nextToStart += 1
            condition.unlock()
            let result = Result { try produce(seq) }
            condition.lock()
            done[seq] = result
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The next produced item in sequence order; nil when the sequence is exhausted.
    func next() throws -> Item? {
        while true {
            if let limit, nextToTake >= limit { return nil }
            let result: Result<Item?, Error>
            if workers == 0 {
                result = Result { try produce(nextToTake) }
                nextToTake += 1
            } else {
                condition.lock()
                while done[nextToTake] == nil && !stopped { condition.wait() }
                guard let r = done.removeValue(forKey: nextToTake) else { condition.unlock(); return nil }
                nextToTake += 1
                condition.broadcast()
                condition.unlock()
                result = r
            }
            if let item = try result.get() { return item }
        }
    }
}

/// Data loader settings, with Detectron2's config names and defaults.
/// The loader keys of a config (INPUT.*, DATALOADER.*, SOLVER.IMS_PER_BATCH, SEED). Values
/// come only from a config: `LoaderSettings()` reads Detectron2's defaults, so the defaults live
/// in one place, the default tree.
public struct LoaderSettings: Sendable {
    public var minSizeTrain: [Int]
    public var maxSizeTrain: Int
    public var minSizeTrainSampling: ResizeShortestEdge.SampleStyle
    public var minSizeTest: Int
    public var maxSizeTest: Int
    public var randomFlip: String
    public var imsPerBatch: Int
    public var numWorkers: Int
    public var filterEmptyAnnotations: Bool
    public var aspectRatioGrouping: Bool
    /// SEED: negative picks a random seed.
    public var seed: Int
    /// DATALOADER.SAMPLER_TRAIN: TrainingSampler, or RepeatFactorTrainingSampler (images with
    /// rare classes repeated; REPEAT_THRESHOLD, REPEAT_SQRT).
    public var repeatFactorSampling: Bool
    public var repeatThreshold: Double
    public var repeatSqrt: Bool
    /// Skip images that cannot be read (counting them) instead of failing. Not a config key.
    public var skipUnreadable = false

    /// Decoding threads beyond this only contend (each holds a decoded image in memory).
    public static let maximumWorkers = 64

    /// Detectron2's defaults (the built-in default tree always reads).
    public init() {
        // swiftlint:disable:next force_try
        try! self.init(cfg: CfgNode.defaults())
    }

    public init(cfg: CfgNode) throws {
        try ConfigSupport.validate(cfg)
        minSizeTrain = try cfg.ints("INPUT.MIN_SIZE_TRAIN")
        maxSizeTrain = try cfg.int("INPUT.MAX_SIZE_TRAIN")
        let style = try cfg.string("INPUT.MIN_SIZE_TRAIN_SAMPLING")
        guard let st = ResizeShortestEdge.SampleStyle(rawValue: style) else { throw ConfigError("INPUT.MIN_SIZE_TRAIN_SAMPLING must be \"choice\" or \"range\", got '\(style)'") }
        minSizeTrainSampling = st
        minSizeTest = try cfg.int("INPUT.MIN_SIZE_TEST")
        maxSizeTest = try cfg.int("INPUT.MAX_SIZE_TEST")
        randomFlip = try cfg.string("INPUT.RANDOM_FLIP")
        guard ["none", "horizontal"].contains(randomFlip) else { throw ConfigError("INPUT.RANDOM_FLIP must be \"horizontal\" or \"none\", got '\(randomFlip)'") }
        imsPerBatch = try cfg.int("SOLVER.IMS_PER_BATCH")
        let workers = try cfg.int("DATALOADER.NUM_WORKERS")
        numWorkers = Swift.min(Swift.max(0, workers), Self.maximumWorkers)
        if workers > Self.maximumWorkers {
            DetectionLog.shared.warn("build_detection_loader", "DATALOADER.NUM_WORKERS = \(workers) is more threads than helps; using \(Self.maximumWorkers)")
        }
        filterEmptyAnnotations = try cfg.bool("DATALOADER.FILTER_EMPTY_ANNOTATIONS")
        aspectRatioGrouping = try cfg.bool("DATALOADER.ASPECT_RATIO_GROUPING")
        seed = try cfg.int("SEED")
        switch try cfg.string("DATALOADER.SAMPLER_TRAIN") {
        case "TrainingSampler": repeatFactorSampling = false
        case "RepeatFactorTrainingSampler": repeatFactorSampling = true
        case let other: throw ConfigError("DATALOADER.SAMPLER_TRAIN '\(other)' is not supported; use TrainingSampler or RepeatFactorTrainingSampler")
        }
        repeatThreshold = try cfg.double("DATALOADER.REPEAT_THRESHOLD")
        repeatSqrt = try cfg.bool("DATALOADER.REPEAT_SQRT")
    }
}

/// Detectron2's TrainingSampler (endless per-epoch shuffles), AspectRatioGroupedDataset and
/// batching, with images decoded and resized on background threads.
public final class TrainLoader: @unchecked Sendable {
    public let dicts: [DatasetDict]
    public let settings: LoaderSettings
    private let prefetcher: OrderedPrefetcher<MappedSample>
    private var buckets: [[MappedSample]] = [[], []]

    /// `startBatch` resumes the stream where batch number `startBatch` begins (the same
    /// batches an uninterrupted run would see next, when no image is skipped as unreadable).
    ///
    /// In a data-parallel job each rank reads its shard of the one stream, as Detectron2's
    /// TrainingSampler: rank r takes positions r, r + W, r + 2W, ... (W = `worldSize`), and
    /// `settings.imsPerBatch` is the rank's own batch. A sample's flip, size and sampling seed
    /// follow its position in the stream, so they do not depend on the rank that reads it.
    public init(dicts inputDicts: [DatasetDict], settings: LoaderSettings, startBatch: Int = 0, rank: Int = 0, worldSize: Int = 1) throws {
        precondition(worldSize >= 1 && (0..<worldSize).contains(rank), "rank \(rank) of \(worldSize)")
        var dicts = inputDicts
        if settings.filterEmptyAnnotations {
            let before = dicts.count
            dicts = dicts.filter { $0.annotations.contains { $0.isCrowd == 0 } }
            if dicts.count < before {
                DetectionLog.shared.info("build_detection_train_loader", "Removed \(before - dicts.count) images with no usable annotations. \(dicts.count) images left.")
            }
        }
        guard !dicts.isEmpty else { throw DataError("the training set has no images with annotations") }
        guard settings.imsPerBatch > 0 else { throw DataError("SOLVER.IMS_PER_BATCH must be positive, got \(settings.imsPerBatch)") }
        self.dicts = dicts
        self.settings = settings
        let seed = settings.seed >= 0 ? UInt64(settings.seed) : UInt64.random(in: 0..<UInt64.max)
        let resize = try ResizeShortestEdge(shortEdgeLengths: settings.minSizeTrain, maxSize: settings.maxSizeTrain,
                                            sampleStyle: settings.minSizeTrainSampling)
        let mapper = DatasetMapper(isTrain: true, resize: resize, flipProbability: settings.randomFlip == "none" ? 0 : 0.5)
        let sampler: EpochSampler
        if settings.repeatFactorSampling {
            sampler = EpochSampler(repeatFactors: Self.repeatFactors(dicts, threshold: settings.repeatThreshold, sqrt: settings.repeatSqrt), seed: seed)
            DetectionLog.shared.info("build_detection_train_loader", "Using training sampler RepeatFactorTrainingSampler")
        } else {
            sampler = EpochSampler(count: dicts.count, seed: seed)
        }
        let skip = settings.skipUnreadable
        let box = SkipCounter()
        let frozen = dicts
        // `seq` counts this rank's samples; `position` is where it stands in the whole stream.
        let produce: (Int) throws -> MappedSample? = { seq in
            let position = seq * worldSize + rank
            let s = try box.map(frozen[sampler.index(position)], with: mapper, seed: seed &+ UInt64(position) &* 0x9E37_79B9_7F4A_7C15, skip: skip)
            s?.samplingSeed = (seed ^ 0xA076_1D64_78BD_642F) &+ UInt64(position) &* 0xE703_7ED1_A0B4_28DB
            return s
        }
        // Replay the grouping of the batches already taken (it needs only the sizes in the dicts),
        // then start decoding after them and refill the half-full buckets they left.
        var first = 0
        var pending: [[Int]] = [[], []]
        if startBatch > 0 {
            var batches = 0
            while batches < startBatch {
                let d = dicts[sampler.index(first * worldSize + rank)]
                let b = settings.aspectRatioGrouping ? Self.bucket(width: d.width, height: d.height) : 0
                pending[b].append(first)
                first += 1
                if pending[b].count == settings.imsPerBatch { pending[b] = []; batches += 1 }
            }
        }
        let offset = first
        prefetcher = OrderedPrefetcher(workers: settings.numWorkers, capacity: Swift.max(2 * settings.numWorkers, settings.imsPerBatch),
                                       limit: nil) { seq in try produce(seq + offset) }
        skipCounter = box
        for b in 0..<2 { buckets[b] = try pending[b].compactMap { try produce($0) } }
    }

    /// repeat_factors_from_category_frequency: f(c) = the fraction of images with class c;
    /// r(c) = max(1, sqrt(t / f(c))) (t / f(c) without sqrt); an image takes the largest r of
    /// its classes (1 with none).
    public static func repeatFactors(_ dicts: [DatasetDict], threshold: Double, sqrt: Bool) -> [Double] {
        var frequency: [Int: Double] = [:]
        for d in dicts { for c in Set(d.annotations.map(\.categoryID)) { frequency[c, default: 0] += 1 } }
        let n = Double(dicts.count)
        let repeatOf = frequency.mapValues { count -> Double in
            let ratio = threshold / (count / n)
            return Swift.max(1, sqrt ? ratio.squareRoot() : ratio)
        }
        return dicts.map { d in Set(d.annotations.map(\.categoryID)).map { repeatOf[$0]! }.max() ?? 1 }
    }

    /// Detectron2's two aspect-ratio groups: landscape (width > height) and the rest. Decided on
    /// the image's own size, which resizing keeps.
    static func bucket(width: Int, height: Int) -> Int { width > height ? 0 : 1 }

    private let skipCounter: SkipCounter

    /// The number of images skipped as unreadable so far.
    public var skippedImages: Int { skipCounter.count }

    /// The next batch of IMS_PER_BATCH samples (grouped by aspect ratio when enabled).
    public func next() throws -> [MappedSample] {
        let size = settings.imsPerBatch
        while true {
            guard let s = try prefetcher.next() else { throw DataError("the training stream ended") }
            let bucket = settings.aspectRatioGrouping ? Self.bucket(width: s.width, height: s.height) : 0
            buckets[bucket].append(s)
            if buckets[bucket].count == size {
                defer { buckets[bucket] = [] }
                return buckets[bucket]
            }
        }
    }

    public func close() { prefetcher.stop() }
}

/// The in-order test loader: one image per batch, every image, no filtering. Like a PyTorch
/// DataLoader it can be gone through again: `restart()` begins a new pass from the first image
/// (inference_on_dataset starts each run with one).
public final class TestLoader: @unchecked Sendable {
    public let dicts: [DatasetDict]
    private var prefetcher: OrderedPrefetcher<MappedSample>
    /// A pass over the images, counting what it skips into the counter given.
    private let makePass: (SkipCounter) -> OrderedPrefetcher<MappedSample>
    private var skipCounter = SkipCounter()
    private let lock = NSLock()
    /// Whether this pass has handed out an image (a fresh pass needs no restart).
    private var started = false

    public init(dicts: [DatasetDict], settings: LoaderSettings) throws {
        self.dicts = dicts
        let resize = try ResizeShortestEdge(shortEdgeLengths: [settings.minSizeTest], maxSize: settings.maxSizeTest)
        let mapper = DatasetMapper(isTrain: false, resize: resize)
        let skip = settings.skipUnreadable
        makePass = { counter in
            OrderedPrefetcher<MappedSample>(workers: settings.numWorkers, capacity: Swift.max(2 * settings.numWorkers, 1), limit: dicts.count) { seq in
                try counter.map(dicts[seq], with: mapper, seed: UInt64(seq), skip: skip)
            }
        }
        prefetcher = makePass(skipCounter)
    }

    public var count: Int { dicts.count }
    /// Images skipped as unreadable in this pass.
    public var skippedImages: Int { lock.withLock { skipCounter.count } }

    /// The next image of this pass, or nil after the last.
    public func next() throws -> MappedSample? {
        let p = lock.withLock { started = true; return prefetcher }
        return try p.next()
    }

    /// Begins a new pass from the first image (nothing to do on a pass not yet begun).
    public func restart() {
        lock.lock()
        defer { lock.unlock() }
        guard started else { return }
        prefetcher.stop()
        skipCounter = SkipCounter()
        prefetcher = makePass(skipCounter)
        started = false
    }

    public func close() { lock.withLock { prefetcher.stop() } }
}

/// Per-epoch random permutations, the same for a seed whatever the thread that asks. With
/// repeat factors (RepeatFactorTrainingSampler) each epoch first repeats every image floor(r)
/// times plus once more with probability frac(r), so epochs differ in length.
final class EpochSampler: @unchecked Sendable {
    let count: Int
    let seed: UInt64
    let repeatFactors: [Double]?
    private var epochs: [Int: [Int]] = [:]
    /// Where each epoch generated so far ends, in sequence numbers.
    private var ends: [Int] = []
    private let lock = NSLock()

    init(count: Int, seed: UInt64) {
        self.count = count
        self.seed = seed
        repeatFactors = nil
    }

    init(repeatFactors: [Double], seed: UInt64) {
        count = repeatFactors.count
        self.seed = seed
        self.repeatFactors = repeatFactors
    }

    func epochList(_ epoch: Int) -> [Int] {
        if let p = epochs[epoch] { return p }
        var rng = SplitMix64(seed: seed ^ (UInt64(epoch) &* 0xD1B5_4A32_D192_ED03))
        var items = Array(0..<count)
        if let repeatFactors {
            items = []
            for (i, r) in repeatFactors.enumerated() {
                let whole = r.rounded(.down)
                let times = Int(whole) + (Double.random(in: 0..<1, using: &rng) < r - whole ? 1 : 0)
                items += Array(repeating: i, count: times)
            }
        }
        let p = items.shuffled(using: &rng)
        epochs[epoch] = p
        if epochs.count > 3, let oldest = epochs.keys.min() { epochs[oldest] = nil }
        return p
    }

    func index(_ seq: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        guard repeatFactors != nil else { return epochList(seq / count)[seq % count] }
        while (ends.last ?? 0) <= seq { ends.append((ends.last ?? 0) + epochList(ends.count).count) }
        var e = ends.count - 1
        while e > 0 && ends[e - 1] > seq { e -= 1 }
        return epochList(e)[seq - (e == 0 ? 0 : ends[e - 1])]
    }
}

final class SkipCounter: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var count = 0

    func add(_ d: DatasetDict, _ error: Error) {
        lock.withLock { count += 1 }
        DetectionLog.shared.warn("data loader", "skipping image \(d.imageID) (\(d.fileName)): \(error)")
    }

    /// Maps one dict; with `skip`, a failure is counted and warned about (nil) instead of thrown.
    func map(_ d: DatasetDict, with mapper: DatasetMapper, seed: UInt64, skip: Bool) throws -> MappedSample? {
        var rng = SplitMix64(seed: seed)
        do {
            return try mapper.map(d, rng: &rng)
        } catch where skip {
            add(d, error)
            return nil
        }
    }
}
