import Foundation
import Support
import Torch

/// What a checkpoint file holds, as Detectron2's DetectionCheckpointer sees it.
public struct LoadedCheckpoint {
    /// The model's tensors by state-dict name, in file order.
    public var model: [(name: String, tensor: Tensor)]
    /// The training iteration, when the file records one.
    public var iteration: Int?
    /// Everything else at the top level (optimizer, scheduler, ...), when the file is a dict.
    public var extra: PyDict?
    /// "torch-zip", "torch-legacy", "pickle" or "safetensors".
    public var format: String
    /// True for Caffe2-style names (model-zoo ImageNet .pkl files) that need renaming.
    public var caffe2Names: Bool

    public var stateDict: [String: Tensor] { Dictionary(model.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }) }
}

/// Why a tensor cannot be built from its storage; becomes an error naming the tensor.
struct TensorRebuildError: Error {
    let why: String
}

/// Reads Detectron2 checkpoints without Python and without running code: model_final.pth (zip
/// or the older single-pickle layout), model-zoo .pkl files (pickled numpy arrays), safetensors.
public enum Checkpoint {
    public static func load(_ path: String) throws -> LoadedCheckpoint {
        let head: [UInt8]
        do { head = try InputFile.head(path, count: 16) } catch let e as FileError { throw CheckpointError(e.message) }
        guard head.count >= 8 else { throw CheckpointError("\(path): too short to be a checkpoint (\(head.count) bytes)") }
        if head[0] == 0x50 && head[1] == 0x4B { return try loadTorchZip(path) }
        if head[0] == 0x80 { return try loadPickleFile(path) }
        if head.count > 8 && head[8] == UInt8(ascii: "{") {
            let f = try SafeTensors.read(path)
            return LoadedCheckpoint(model: f.tensors, iteration: f.metadata["iteration"].flatMap { Int($0) }, extra: nil,
                                    format: "safetensors", caffe2Names: false)
        }
        throw CheckpointError("\(path): not a checkpoint Lunette knows (torch .pth, Detectron2 .pkl or .safetensors)")
    }

    /// Whether `path` is a whole checkpoint file, cheaply: a zip (torch.save) ends with its
    /// end-of-central-directory record; other formats only need to exist and be non-empty.
    public static func looksComplete(_ path: String) -> Bool {
        guard let head = try? InputFile.head(path, count: 4), head.count == 4 else { return false }
        guard head[0] == 0x50 && head[1] == 0x4B else { return true }
        guard let fd = try? InputFile.open(path) else { return false }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return false }
        let size = Int(st.st_size), tail = min(size, 66_000)
        var bytes = [UInt8](repeating: 0, count: tail)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, tail, off_t(size - tail)) }
        guard n == tail, tail >= 22 else { return false }
        return stride(from: tail - 22, through: 0, by: -1).contains { bytes[$0] == 0x50 && bytes[$0 + 1] == 0x4B && bytes[$0 + 2] == 0x05 && bytes[$0 + 3] == 0x06 }
    }

    /// torch._utils._rebuild_tensor_v2: a view of a storage, copied out. The view must lie in
    /// the storage (sizes, strides and offset from the file are checked, with overflow, first).
    static func rebuild(_ storage: Tensor, offset: Int, size: [Int], stride: [Int], source: String, key: String) throws -> Tensor {
        func refuse(_ why: String) -> TensorRebuildError {
            TensorRebuildError(why: "of size \(size), stride \(stride) and offset \(offset) in storage \(key) (\(storage.numel) elements) \(why)")
        }
        guard size.count == stride.count else { throw refuse("does not have one stride per size") }
        guard offset >= 0, size.allSatisfy({ $0 >= 0 }), stride.allSatisfy({ $0 >= 0 }) else { throw refuse("has a negative size, stride or offset") }
        if !size.contains(0) {
            var last = offset
            for (n, st) in zip(size, stride) {
                let (span, o1) = (n - 1).multipliedReportingOverflow(by: st)
                let (sum, o2) = last.addingReportingOverflow(span)
                guard !o1, !o2 else { throw refuse("reaches beyond any storage") }
                last = sum
            }
            guard last < storage.numel else { throw refuse("reaches past the storage's end") }
        }
        return try storage.asStrided(size, strides: stride, offset: offset).contiguous()
    }

    static func storageTensor(_ data: Data, dtype: DType, source: String, key: String) throws -> Tensor {
        guard data.count % dtype.byteSize == 0 else { throw CheckpointError("\(source): storage \(key) has \(data.count) bytes, not a whole number of \(dtype)") }
        return try data.withUnsafeBytes { try Tensor(rawBytes: $0, shape: [data.count / dtype.byteSize], dtype: dtype) }
    }

    static func storageFromPID(_ pid: PyValue, source: String) throws -> PickleStorage {
        guard case .tuple(let tuple) = pid, case let t = tuple.items, t.count >= 3, t[0].string == "storage", case .global(_, let typeName) = t[1] else {
            throw CheckpointError("\(source): unsupported persistent id \(pid)")
        }
        guard let dtype = PickleMachine.storageTypes[typeName] else { throw CheckpointError("\(source): unsupported storage type \(typeName)") }
        let key: String
        switch t[2] {
        case .string(let s): key = s
        case .int(let i): key = String(i)
        default: throw CheckpointError("\(source): unsupported storage key \(t[2])")
        }
        return PickleStorage(dtype: dtype, key: key)
    }

    static func loadTorchZip(_ path: String) throws -> LoadedCheckpoint {
        let zip = try StoredZip(path: path)
        guard let pkl = zip.member(endingWith: "/data.pkl") ?? zip.member(endingWith: "data.pkl") else {
            throw CheckpointError("\(path): a torch zip checkpoint needs data.pkl")
        }
        let root = String(pkl.dropLast("data.pkl".count))
        var storages: [String: Tensor] = [:]
        var machine = PickleMachine([UInt8](try zip.bytes(pkl)), source: path)
        machine.persistentLoad = { pid in .storage(try storageFromPID(pid, source: path)) }
        machine.rebuildTensor = { s, offset, size, stride in
            let storage: Tensor
            if let cached = storages[s.key] { storage = cached } else {
                storage = try storageTensor(try zip.bytes(root + "data/" + s.key), dtype: s.dtype, source: path, key: s.key)
                storages[s.key] = storage
            }
            return try rebuild(storage, offset: offset, size: size, stride: stride, source: path, key: s.key)
        }
        return try interpret(try machine.run(), source: path, format: "torch-zip")
    }

    static func loadPickleFile(_ path: String) throws -> LoadedCheckpoint {
        let data: Data
        do { data = try InputFile.data(path) } catch let e as FileError { throw CheckpointError(e.message) }
        let bytes = [UInt8](data)
        var first = PickleMachine(bytes, source: path)
        let head = try first.run()
        // torch's legacy layout: magic, protocol, sys info, the object, storage keys, raw storages.
        if case .bytes(let magic) = head, magic == [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19] {
            var offset = first.i
            func next(_ persistent: ((PyValue) throws -> PyValue)? = nil, rebuildTensor: ((PickleStorage, Int, [Int], [Int]) throws -> Tensor)? = nil) throws -> PyValue {
                // Each part is read in place from the whole file (offsets in errors are file offsets).
                var m = PickleMachine(bytes, source: path)
                m.i = offset
                m.persistentLoad = persistent
                m.rebuildTensor = rebuildTensor
                let v = try m.run()
                offset = m.i
                return v
            }
            _ = try next()   // protocol version
            _ = try next()   // sys info
            // The storages come after the object, so the object is read twice: once to learn
            // which storages it needs (nothing is allocated from the sizes it claims), and once
            // the storages are read, to build its tensors from them (checked against their sizes).
            let objectStart = offset
            var dtypes: [String: DType] = [:]
            _ = try next({ pid in .storage(try storageFromPID(pid, source: path)) }) { s, _, _, _ in
                dtypes[s.key] = s.dtype
                return try Tensor.empty([0], dtype: s.dtype)
            }
            guard case .list(let keyList) = try next() else { throw CheckpointError("\(path): legacy checkpoint without a storage list") }
            let reader = LittleEndian(data, source: path)   // the file as read, not a third copy
            var storages: [String: Tensor] = [:]
            for k in keyList.items {
                guard let key = k.string ?? { if case .int(let i) = k { return String(i) }; return nil }() else { continue }
                let count: Int
                do { count = try reader.u64(offset, "the element count of storage \(key)") } catch let e as InputError { throw CheckpointError(e.message) }
                offset += 8
                guard let dtype = dtypes[key] else { continue }
                let (size, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
                guard !overflow, reader.contains(offset, size) else {
                    throw CheckpointError("\(path): storage \(key) claims \(count) elements of \(dtype) and the file ends first (truncated?)")
                }
                storages[key] = try storageTensor(Data(bytes[offset..<(offset + size)]), dtype: dtype, source: path, key: key)
                offset += size
            }
            let end = offset
            offset = objectStart
            let object = try next({ pid in .storage(try storageFromPID(pid, source: path)) }) { s, off, size, stride in
                guard let storage = storages[s.key] else { throw CheckpointError("\(path): storage \(s.key) is missing") }
                return try rebuild(storage, offset: off, size: size, stride: stride, source: path, key: s.key)
            }
            offset = end
            return try interpret(object, source: path, format: "torch-legacy")
        }
        return try interpret(head, source: path, format: "pickle")
    }

    /// The state dict inside: {"model": {...}, ...} (Detectron2), {"blobs": ...} (Caffe2), or a bare state dict.
    static func interpret(_ object: PyValue, source: String, format: String) throws -> LoadedCheckpoint {
        guard case .dict(let top) = object else { throw CheckpointError("\(source): the checkpoint is a \(object), not a dict") }
        var modelDict = top
        var caffe2 = false
        var iteration: Int?
        if case .int(let it)? = top["iteration"] { iteration = Int(it) }
        if case .dict(let blobs)? = top["blobs"] {
            modelDict = blobs
            caffe2 = true
        } else if case .dict(let m)? = top["model"] {
            modelDict = m
            if case .string(let author)? = top["__author__"], author.lowercased().contains("caffe2") { caffe2 = true }
        }
        var model: [(String, Tensor)] = []
        var skipped: [String] = []
        for (name, value) in modelDict.stringItems {
            if caffe2 && name.hasSuffix("_momentum") { continue }
            switch value {
            case .tensor(let t): model.append((name, t))
            case .int(let i): model.append((name, try Tensor([i], shape: [])))
            case .float(let d): model.append((name, try Tensor.scalar(d, dtype: .float64)))
            case .unreadable(let why): throw CheckpointError("\(source): tensor '\(name)' \(why)")
            default: skipped.append(name)
            }
        }
        if !skipped.isEmpty {
            DetectionLog.shared.warn("checkpoint", "\(source): \(skipped.count) entries are not tensors and were left out (\(skipped.prefix(5).joined(separator: ", "))\(skipped.count > 5 ? ", ..." : ""))")
        }
        guard !model.isEmpty else { throw CheckpointError("\(source): no tensors found (expected a state dict, or {\"model\": state_dict})") }
        return LoadedCheckpoint(model: model, iteration: iteration, extra: modelDict === top ? nil : top, format: format, caffe2Names: caffe2)
    }
}
