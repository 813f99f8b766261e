import CTorch
import Foundation

/// Writes a torch.save zip archive through libtorch's own writer: named records, stored and
/// aligned as torch.load expects. `close()` finishes the file; a failed write throws.
public final class TorchArchiveWriter {
    private var handle: ct_zip_writer?
    public let path: String

    public init(path: String) throws {
        self.path = path
        var h: ct_zip_writer?
        try check(path.withCString { ct_zip_writer_open($0, &h) })
        handle = h
    }

    public func write(_ name: String, bytes: UnsafeRawBufferPointer) throws {
        guard let handle else { throw TorchError("\(path): the archive is already closed") }
        try check(name.withCString { ct_zip_writer_record(handle, $0, bytes.baseAddress, bytes.count) })
    }

    public func write(_ name: String, data: [UInt8]) throws {
        try data.withUnsafeBytes { try write(name, bytes: $0) }
    }

    /// A tensor's bytes (made contiguous on the CPU first).
    public func write(_ name: String, tensor: Tensor) throws {
        let t = try tensor.to(device: .cpu).contiguous()
        let size = t.numel * t.dtype.byteSize
        guard size > 0, let p = t.dataPointer else { return try write(name, data: []) }
        try withExtendedLifetime(t) { try write(name, bytes: UnsafeRawBufferPointer(start: p, count: size)) }
    }

    public func close() throws {
        guard let h = handle else { return }
        handle = nil
        try check(ct_zip_writer_close(h))
    }

    deinit { if let h = handle { _ = ct_zip_writer_close(h) } }
}
