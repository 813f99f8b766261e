import Foundation
import Jupyter
import Support
import XCTest

final class WireTests: XCTestCase {
    let parts: [[UInt8]] = [Array(#"{"msg_type":"kernel_info_request"}"#.utf8), Array("{}".utf8), Array("{}".utf8), Array("{}".utf8)]

    /// Digests from Python's hmac module over the same four frames.
    func testSignaturesMatchPythonsHMAC() throws {
        let sha256 = try Signer(scheme: "hmac-sha256", key: Array("secret-key".utf8))
        XCTAssertEqual(String(decoding: sha256.signature(parts), as: UTF8.self), "d17a518f90349ab4b45de23230479bdf374054dd63a38de80b2e81572e765d0f")
        let sha512 = try Signer(scheme: "hmac-sha512", key: Array("secret-key".utf8))
        XCTAssertEqual(String(decoding: sha512.signature(parts), as: UTF8.self),
                       "cfdd517f2aee11cd536686a7a2a9d262e0b6eb23bf645c70831607ca4cb85a34d15e84d0842fd06e91c2fda7ff2aa571d7f0cb506e4245eb0518b9d613388a3c")
        XCTAssertTrue(sha256.verify(Array("D17A518F90349AB4B45DE23230479BDF374054DD63A38DE80B2E81572E765D0F".utf8), parts))
        XCTAssertFalse(sha256.verify(Array("d17a518f90349ab4b45de23230479bdf374054dd63a38de80b2e81572e765d0e".utf8), parts))
        XCTAssertFalse(sha256.verify([], parts))
        // An empty key: nothing is signed and nothing is checked.
        let none = try Signer(scheme: "hmac-sha256", key: [])
        XCTAssertEqual(none.signature(parts), [])
        XCTAssertTrue(none.verify(Array("anything".utf8), parts))
        XCTAssertThrowsError(try Signer(scheme: "hmac-md5", key: [1])) { e in
            XCTAssertEqual("\(e)", "signature_scheme \"hmac-md5\" is not one Lunette signs with (hmac-sha256, hmac-sha384, hmac-sha512)")
        }
    }

    func testMessagesRoundTripAndBadOnesAreRefusedWithTheReason() throws {
        let signer = try Signer(scheme: "hmac-sha256", key: Array("k".utf8))
        let m = WireMessage(identities: [Array("client".utf8)], header: WireMessage.header(type: "execute_request", session: "s"),
                            parentHeader: .object([]), metadata: .object([("a", .int(1))]),
                            content: .object([("code", .string("print('é')"))]), buffers: [[0, 1, 2]])
        let frames = Wire.encode(m, signer: signer)
        XCTAssertEqual(frames[1], Wire.delimiter)
        let back = try Wire.decode(frames, signer: signer)
        XCTAssertEqual(back.identities, m.identities)
        XCTAssertEqual(back.header, m.header)
        XCTAssertEqual(back.content, m.content)
        XCTAssertEqual(back.metadata, m.metadata)
        XCTAssertEqual(back.buffers, [[0, 1, 2]])
        XCTAssertEqual(back.type, "execute_request")

        func refused(_ frames: [[UInt8]], _ reason: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try Wire.decode(frames, signer: signer), file: file, line: line) { e in
                XCTAssertEqual("\(e)", reason, file: file, line: line)
            }
        }
        var tampered = frames
        tampered[5] = Array(#"{"code":"os.exit()"}"#.utf8)
        refused(tampered, "bad signature")
        refused(Array(frames.prefix(5)), "3 frames after the delimiter; a message has a signature and four JSON frames")
        refused([Array("x".utf8)], "no <IDS|MSG> delimiter among 1 frames")
        let wrongKey = Wire.encode(m, signer: try Signer(scheme: "hmac-sha256", key: Array("other".utf8)))
        refused(wrongKey, "bad signature")
        // Well signed but not a message.
        let unsigned = try Signer(scheme: "hmac-sha256", key: [])
        func unsignedFrames(_ header: String) -> [[UInt8]] { [Wire.delimiter, [], Array(header.utf8), Array("{}".utf8), Array("{}".utf8), Array("{}".utf8)] }
        XCTAssertThrowsError(try Wire.decode(unsignedFrames("[1]"), signer: unsigned)) { XCTAssertEqual("\($0)", "header is a JSON array, not an object") }
        XCTAssertThrowsError(try Wire.decode(unsignedFrames("{}"), signer: unsigned)) { XCTAssertEqual("\($0)", "header has no msg_type") }
        XCTAssertThrowsError(try Wire.decode(unsignedFrames("{"), signer: unsigned)) { XCTAssertTrue("\($0)".hasPrefix("header is not JSON: ")) }
    }

    func testReplayedSignaturesAreRecognisedWithinTheHistory() {
        var h = SignatureHistory(capacity: 3)
        XCTAssertTrue(h.insert([1]))
        XCTAssertFalse(h.insert([1]))
        XCTAssertTrue(h.insert([2]))
        XCTAssertTrue(h.insert([3]))
        XCTAssertTrue(h.insert([4]))      // pushes [1] out
        XCTAssertTrue(h.insert([1]))
        XCTAssertFalse(h.insert([4]))
        XCTAssertTrue(h.insert([]))       // unsigned messages are not tracked
        XCTAssertTrue(h.insert([]))
        // The check takes either case of hex digits, so a replay in the other case is one too.
        var cased = SignatureHistory()
        XCTAssertTrue(cased.insert(Array("ab12".utf8)))
        XCTAssertFalse(cased.insert(Array("AB12".utf8)))
    }

    func testTimestampsAreISO8601WithMicroseconds() {
        XCTAssertEqual(WireMessage.timestamp(Date(timeIntervalSince1970: 1_764_660_000.25)), "2025-12-02T07:20:00.250000Z")
    }
}

final class ConnectionTests: XCTestCase {
    func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "lunette-connection-\(UUID().uuidString).json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testAConnectionFileAsJupyterWritesIt() throws {
        let path = try write("""
            {"shell_port": 5001, "iopub_port": 5002, "stdin_port": 5003, "control_port": 5004, "hb_port": 5005,
             "ip": "127.0.0.1", "key": "a0b1", "transport": "tcp", "signature_scheme": "hmac-sha256", "kernel_name": "lunette"}
            """)
        let c = try ConnectionInfo.read(path)
        XCTAssertEqual(c.endpoint(.shell), "tcp://127.0.0.1:5001")
        XCTAssertEqual(c.endpoint(.hb), "tcp://127.0.0.1:5005")
        XCTAssertEqual(c.key, Array("a0b1".utf8))
        XCTAssertEqual(c.kernelName, "lunette")
        var ipc = c
        ipc.transport = "ipc"
        ipc.ip = "/tmp/kernel-1"
        XCTAssertEqual(ipc.endpoint(.iopub), "ipc:///tmp/kernel-1-5002")
        var v6 = c
        v6.ip = "::1"
        XCTAssertEqual(v6.endpoint(.control), "tcp://[::1]:5004")
    }

    func testBadConnectionFilesNameTheFileAndKey() throws {
        let ports = #""shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4"#
        let cases: [(String, String)] = [
            ("{\(ports)}", "no \"hb_port\""),
            ("{\(ports), \"hb_port\": 70000}", "\"hb_port\" is 70000, not a port from 1 to 65535"),
            ("{\(ports), \"hb_port\": \"5\"}", "\"hb_port\" is \"5\", not a port from 1 to 65535"),
            ("{\(ports), \"hb_port\": 4}", "two channels share a port (shell_port 1, iopub_port 2, stdin_port 3, control_port 4, hb_port 4)"),
            ("{\(ports), \"hb_port\": 5, \"transport\": \"udp\"}", "transport \"udp\" is not tcp or ipc"),
            ("{\(ports), \"hb_port\": 5, \"key\": 7}", "\"key\" is a number, not text"),
            ("{\(ports), \"hb_port\": 5, \"signature_scheme\": \"hmac-md5\"}",
             "signature_scheme \"hmac-md5\" is not one Lunette signs with (hmac-sha256, hmac-sha384, hmac-sha512)"),
            ("[1]", "a JSON object is expected, not array"),
        ]
        for (text, reason) in cases {
            let path = try write(text)
            XCTAssertThrowsError(try ConnectionInfo.read(path), text) { e in
                XCTAssertEqual("\(e)", "connection file \(path): \(reason)", text)
            }
        }
        let notJSON = try write("{")
        XCTAssertThrowsError(try ConnectionInfo.read(notJSON)) { XCTAssertTrue("\($0)".hasPrefix("connection file \(notJSON) is not JSON: ")) }
        XCTAssertThrowsError(try ConnectionInfo.read("/nonexistent/c.json")) { XCTAssertTrue("\($0)".hasPrefix("connection file /nonexistent/c.json: ")) }
    }
}

final class KernelSpecTests: XCTestCase {
    func testKernelJSONAndWhereJupyterLooks() {
        let spec = KernelSpec.json(argv: ["/usr/bin/lunette", "kernel", "-f", "{connection_file}"], displayName: "Lunette (Lua 5.4)")
        XCTAssertEqual(JSON.text(spec), #"{"argv":["/usr/bin/lunette","kernel","-f","{connection_file}"],"display_name":"Lunette (Lua 5.4)","language":"lua","interrupt_mode":"signal","metadata":{"debugger":false}}"#)
        XCTAssertEqual(KernelSpec.userDataDirectory(environment: ["JUPYTER_DATA_DIR": "/j", "HOME": "/h"]), "/j")
        XCTAssertEqual(KernelSpec.userDataDirectory(environment: ["XDG_DATA_HOME": "/x", "HOME": "/h"]), "/x/jupyter")
        XCTAssertEqual(KernelSpec.userDataDirectory(environment: ["HOME": "/h"]), "/h/.local/share/jupyter")
        XCTAssertEqual(KernelSpec.kernelsDirectory(data: KernelSpec.dataDirectory(prefix: "/venv")), "/venv/share/jupyter/kernels")
        XCTAssertNoThrow(try KernelSpec.checkName("lunette-2.cuda_12"))
        for bad in ["", "my kernel", "lünette", "a/b"] { XCTAssertThrowsError(try KernelSpec.checkName(bad), bad) }
    }
}
