import Detection
import Jupyter
import LuaHost
import Notebook
import Foundation
import Support
import Torch
import Vision

/// The fuzz targets: each takes arbitrary bytes to one of Lunette's public readers, through a
/// file where the reader takes a path (so the one file opener is on the path too). A thrown
/// error is the expected outcome for nearly every input; a crash, a hang, a sanitizer report or
/// an allocation beyond the fuzzer's limit is a bug.
enum FuzzTarget: String, CaseIterable {
    /// The restricted pickle machine: Detectron2 .pkl files and torch's legacy .pth layout.
    case pickle
    /// torch.save's zip layout: the stored zip reader, data.pkl and storages.
    case torchzip
    /// .safetensors: header length, JSON header, dtypes, shapes, offsets.
    case safetensors
    /// COCO instances JSON, as register_coco_instances reads it.
    case coco
    /// A YAML config merged over the defaults, with `_BASE_` resolved beside it.
    case config
    /// Encoded images (JPEG, PNG, BMP, ...) as imread decodes them.
    case image
    /// Video containers: opened and read frame by frame.
    case video
    /// Lua module sources, as require's documenter reads their --- comments.
    case luadoc
    /// Detectron2's metrics.json (JSON lines), as plot_training reads it, drawn and written as SVG.
    case metrics
    /// COCO results JSON (coco_instances_results.json), as a threshold sweep reads stored
    /// predictions back and scores them.
    case results
    /// An ad platform's delivery CSV (creative_id, date, channel, impressions, spend), as
    /// d2.export.mmm reads it (CSVReader, then MarketingMix) and joins it to a small feature table.
    case delivery
    /// A `-- %%` Lua notebook: parsed, then written back, which must give the same bytes
    /// (directly and through .ipynb); a difference is a bug like a crash.
    case notebook
    /// An .ipynb file, as `lunette notebook run/convert` reads it, written as .lua and HTML.
    case ipynb
    /// What reaches the Jupyter kernel from outside: an input holding a 0xFF byte is split there
    /// into the frames of a message (checked unsigned and signed; one read must encode and read
    /// back the same); any other input is a connection file.
    case jupyter
    /// What a scheduler hands a process: an input starting with "{" is a grid search's
    /// tasks.json (as `lunette tune worker DIR --task k` reads it); any other is an environment,
    /// one KEY=VALUE per line (torchrun's and Slurm's variables, host lists, array indices).
    case scheduler

    /// Where each input is written: a folder of this process's own in memory where possible.
    static let folder: String = {
        let root = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = "\(root)/lunette-fuzz-\(getpid())"
        DetectionLog.shared.echo = false   // warnings are expected outcomes; millions of them are noise
        try? FileManager.default.createDirectory(atPath: path + "/configs", withIntermediateDirectories: true)
        // A base for `_BASE_: ../Base.yaml` (the model zoo's shape): a few keys over the defaults.
        try? "MODEL:\n  META_ARCHITECTURE: GeneralizedRCNN\n  RPN:\n    IN_FEATURES: [p2, p3, p4, p5, p6]\nSOLVER:\n  BASE_LR: 0.02\n"
            .write(toFile: path + "/Base.yaml", atomically: false, encoding: .utf8)
        return path
    }()

    /// The feature table the delivery target joins to: two objects, three creatives.
    static let featureTable = """
        creative_id,path,kind,width,height,duration_s,logo_present,logo_count,logo_max_score,logo_area_share,logo_frame_share,logo_first_seen_s,logo_screen_s,face_present,face_count,face_max_score,face_area_share,face_frame_share,face_first_seen_s,face_screen_s
        c1,creatives/c1.jpg,image,1080,1080,,1,1,0.93,0.12,1,0,,0,0,,0,0,,
        c2,"creatives/a, b.mp4",video,1920,1080,15,0,0,,0,0,,0,1,2,0.88,0.3,0.5,1.5,7.5
        c3,creatives/c3.png,image,800,600,,1,2,0.71,0.05,1,0,,1,1,0.66,0.1,1,0,

        """

    /// Runs one input; returns the error's message, or nil when the input was read.
    @discardableResult
    func run(_ bytes: UnsafeRawBufferPointer) -> String? {
        let name: String
        switch self {
        case .pickle: name = "input.pkl"
        case .torchzip: name = "input.pth"
        case .safetensors: name = "input.safetensors"
        case .coco: name = "input.json"
        case .config: name = "configs/input.yaml"
        case .image: name = "input.img"
        case .video: name = "input.mp4"
        case .luadoc: name = "input.lua"
        case .metrics: name = "metrics.json"
        case .results: name = "results.json"
        case .delivery: name = "delivery.csv"
        case .notebook: name = "notebook.lua"
        case .ipynb: name = "notebook.ipynb"
        case .jupyter: name = "connection.json"
        case .scheduler: name = GridSearch.taskPlanName
        }
        let path = FuzzTarget.folder + "/" + name
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fatalError("cannot write \(path)") }
        do {
            switch self {
            case .pickle, .torchzip:
                let loaded = try Checkpoint.load(path)
                for (_, t) in loaded.model { _ = t.shape }
            case .safetensors:
                let file = try SafeTensors.read(path)
                for (_, t) in file.tensors { _ = try t.sum() }
            case .coco:
                let loaded = try COCO.load(jsonFile: path, imageRoot: FuzzTarget.folder)
                _ = loaded.dicts.count
            case .config:
                let cfg = CfgNode.defaults()
                try cfg.mergeFromFile(path)
                try ConfigSupport.validate(cfg)
            case .image:
                let image = try Image.read(path)
                _ = image.width * image.height
            case .luadoc:
                let source = try String(contentsOfFile: path, encoding: .utf8)
                let (module, members) = LuaState.docComments(in: source)
                _ = module.count + members.reduce(0) { $0 + $1.doc.count + ($1.parameters?.count ?? 0) }
            case .metrics:
                let fig = try Plots.trainingCurves(metricsFile: path)
                _ = fig.svg().count
            case .results:
                let dicts = (1...3).map { DatasetDict(fileName: "\($0).jpg", height: 100, width: 100, imageID: Int64($0),
                                                       annotations: [Annotation(bbox: [1, 1, 9, 9], categoryID: $0 % 2)]) }
                let predictions = try TrialScores.predictions(cocoResultsJSON: try InputFile.text(path, limit: 1 << 26), dicts: dicts,
                                                              idMap: [1: 0, 2: 1], source: path)
                let sweep = try ThresholdSweep(dicts: dicts, predictions: predictions, classes: ["logo", "product"], from: 0.2, to: 0.99,
                                               step: 0.01, metric: "f1", source: path)
                _ = try sweep.bestPerClass().count
            case .delivery:
                let delivery = try MarketingMix.delivery(try CSVReader.read(path))
                let features = try MarketingMix.features(try CSVReader.parse(FuzzTarget.featureTable, source: "features.csv"))
                for (period, preset) in [(MarketingMix.Period.week, MarketingMix.Preset.none), (.day, .robyn)] {
                    let table = try MarketingMix.table(features: features, delivery: delivery, period: period, preset: preset, cellLimit: 1_000_000)
                    _ = table.csv.utf8.count + table.unmatched.count
                }
            case .notebook:
                guard let text = String(validatingUTF8: Array(bytes).map { CChar(bitPattern: $0) } + [0]), text.utf8.count == bytes.count else {
                    return "not UTF-8"
                }
                let nb = try PercentFormat.parse(text, path: path)
                guard PercentFormat.render(nb) == text else { fatalError("notebook: writing back changed the text") }
                let again = try IPYNB.notebook(try JSON.parse(Array(IPYNB.text(nb).utf8)), path: "x.ipynb")
                guard PercentFormat.render(again) == text else { fatalError("notebook: the round trip through .ipynb changed the text") }
                _ = HTMLPage.render(nb, title: "x").utf8.count
            case .ipynb:
                let nb = try IPYNB.read(path)
                _ = PercentFormat.render(nb).utf8.count + HTMLPage.render(nb, title: "x").utf8.count + IPYNB.text(nb).utf8.count
            case .jupyter:
                guard Array(bytes).contains(0xFF) else {
                    let c = try ConnectionInfo.read(path)
                    _ = Channel.allCases.map { c.endpoint($0) }
                    break
                }
                let frames = Array(bytes).split(separator: 0xFF, omittingEmptySubsequences: false).map(Array.init)
                var failure: Error?
                var read = false
                for signer in [try Signer(scheme: "hmac-sha256", key: []), try Signer(scheme: "hmac-sha256", key: Array("fuzz".utf8))] {
                    let m: WireMessage
                    do { m = try Wire.decode(frames, signer: signer) } catch { failure = error; continue }
                    read = true
                    let again = try Wire.decode(Wire.encode(m, signer: signer), signer: signer)
                    guard again.header == m.header, again.parentHeader == m.parentHeader, again.metadata == m.metadata,
                          again.content == m.content, again.identities == m.identities, again.buffers == m.buffers else {
                        fatalError("jupyter: a message read, written and read again changed")
                    }
                }
                if !read, let failure { throw failure }
            case .scheduler:
                if bytes.first == UInt8(ascii: "{") {
                    let plan = try GridSearch.TaskPlan.read(outputDir: FuzzTarget.folder)
                    _ = plan.runs.count + plan.specText.count
                    break
                }
                var env: [String: String] = [:]
                for line in String(decoding: Array(bytes), as: UTF8.self).split(separator: "\n") {
                    guard let eq = line.firstIndex(of: "=") else { continue }
                    env[String(line[..<eq])] = String(line[line.index(after: eq)...])
                }
                var failure: Error?
                do { _ = try Placement.fromEnvironment(env) } catch { failure = error }
                do { _ = try BulkDetection.Shard.fromEnvironment(env, count: nil) } catch { failure = error }
                for key in ["SLURM_JOB_NODELIST", "SLURM_STEP_NODELIST"] {
                    if let list = env[key] { do { _ = try HostList.expand(list) } catch { failure = error } }
                }
                if let failure { throw failure }
            case .video:
                let video = try Video(path: path)
                for _ in 0..<4 {
                    guard case .frame = try video.next(decode: true) else { break }
                }
            }
        } catch {
            // Every error must have a message; an empty one hides what was wrong.
            let message = "\(error)"
            if message.isEmpty { fatalError("\(self): an error without a message: \(type(of: error))") }
            return message
        }
        return nil
    }
}
