import Foundation
import XCTest
@testable import Torch

final class Linear: Module {
    let weight: Parameter, bias: Parameter
    init(_ i: Int, _ o: Int) throws {
        weight = Parameter(try Tensor.zeros([o, i]))
        bias = Parameter(try Tensor.zeros([o]))
        super.init()
        try register("weight", weight)
        try register("bias", bias)
    }
}

final class Block: Module {
    init(hidden: Int = 3) throws {
        super.init()
        try child("0", Linear(2, 3))
        try child("fc", Linear(3, 1))
        try buffer("running_mean", Tensor.zeros([3]))
    }
}

final class ModuleTests: XCTestCase {
    func testDottedNamesAndStateDict() throws {
        let m = try Block()
        XCTAssertEqual(m.stateDict().map(\.name), ["running_mean", "0.weight", "0.bias", "fc.weight", "fc.bias"])
        XCTAssertEqual(m.namedParameters().count, 4)
        XCTAssertEqual(m.namedBuffers().map(\.name), ["running_mean"])
        XCTAssertThrowsError(try m.buffer("running_mean", Tensor.zeros([1])))
        m.eval()
        XCTAssertFalse(m.children[0].module.isTraining)
    }

    func testLoadingReportsMissingUnexpectedAndMismatched() throws {
        let m = try Block()
        let report = try m.load(stateDict: [
            "0.weight": try Tensor.ones([3, 2]),
            "fc.weight": try Tensor.ones([2, 3]),        // wrong shape: skipped
            "extra.weight": try Tensor.ones([1]),
        ])
        XCTAssertEqual(report.loaded, ["0.weight"])
        XCTAssertEqual(report.missing, ["running_mean", "0.bias", "fc.bias"])
        XCTAssertEqual(report.unexpected, ["extra.weight"])
        XCTAssertEqual(report.mismatched, [Module.ShapeMismatch(name: "fc.weight", expected: [1, 3], found: [2, 3])])
        XCTAssertEqual(try values(m.namedSlots()[1].slot.tensor), [1, 1, 1, 1, 1, 1])
        XCTAssertTrue(m.namedSlots()[1].slot.tensor.requiresGrad, "loading keeps the parameter trainable")
    }

    /// SGD with momentum and weight decay against the update written out by hand.
    func testSGDMatchesTheUpdateRule() throws {
        let p = Parameter(try Tensor([1, -2] as [Double]).requiresGrad())
        let sgd = try SGD(groups: [SGD.Group(parameters: [p], lr: 0.1, momentum: 0.9, weightDecay: 0.01)])
        var value = [1.0, -2.0], buffer = [0.0, 0.0]
        for step in 0..<3 {
            try sgd.zeroGrad()
            try (p.tensor * p.tensor).sum().backward()   // grad = 2p
            try sgd.step()
            for i in 0..<2 {
                let d = 2 * value[i] + 0.01 * value[i]
                buffer[i] = step == 0 ? d : 0.9 * buffer[i] + d
                value[i] -= 0.1 * buffer[i]
            }
            let got = try values(p.tensor)
            XCTAssertEqual(got[0], value[0], accuracy: 1e-12)
            XCTAssertEqual(got[1], value[1], accuracy: 1e-12)
        }
    }

    func testSafetensorsRoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("m.safetensors").path
        var tensors: [(name: String, tensor: Tensor)] = []
        for (i, dtype) in [DType.float32, .float64, .float16, .bfloat16, .int64, .int32, .int16, .int8, .uint8, .bool].enumerated() {
            tensors.append(("t\(i).\(dtype)", try Tensor.arange(0, 6, dtype: .float32).reshape([2, 3]).binary(.remainder, 2).to(dtype: dtype)))
        }
        tensors.append(("empty", try Tensor.zeros([0, 3])))
        tensors.append(("scalar", try Tensor.scalar(3.5)))
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: path)
        let file = try SafeTensors.read(path)
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(Set(file.tensors.map(\.name)), Set(tensors.map(\.name)))
        for (name, t) in tensors {
            let back = try XCTUnwrap(file[name])
            XCTAssertEqual(back.dtype, t.dtype, name)
            XCTAssertEqual(back.shape, t.shape, name)
            XCTAssertTrue(try back.equal(t), name)
        }
        // Changing a loaded tensor never changes the file (copy-on-write mapping).
        try XCTUnwrap(file["t0.float32"]).fill_(9)
        XCTAssertTrue(try XCTUnwrap(SafeTensors.read(path)["t0.float32"]).equal(tensors[0].tensor))
        // The header is padded so the data starts 8-byte aligned.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        XCTAssertEqual(headerLength % 8, 0)
    }

    func testSafetensorsBadFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("bad.safetensors").path
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SafeTensors.read(path)) { XCTAssertTrue("\($0)".contains("not a safetensors file"), "\($0)") }
        // A header promising more data than the file has.
        let header = #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        var data = Data()
        var n = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        data.append(contentsOf: [0, 0, 0, 0])
        try data.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SafeTensors.read(path)) { XCTAssertTrue("\($0)".contains("tensor 'w' has byte range 0..<16 outside the 4 data bytes"), "\($0)") }
        XCTAssertThrowsError(try SafeTensors.read(dir.appendingPathComponent("missing").path)) { XCTAssertTrue("\($0)".contains("cannot open"), "\($0)") }
    }
}
