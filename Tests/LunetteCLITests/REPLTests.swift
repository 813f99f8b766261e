import CPty
import Foundation
import XCTest

/// Drives `lunette` on a pseudo-terminal, as a person at a keyboard would.
final class Terminal {
    let pid: pid_t
    let fd: Int32
    private(set) var output = ""

    init(environment: [String: String] = [:]) throws {
        let history = FileManager.default.temporaryDirectory.appendingPathComponent("lunette-history-\(UUID().uuidString)").path
        var env = ["TERM=xterm", "LUNETTE_HISTORY=\(history)"]
        for (k, v) in environment { env.append("\(k)=\(v)") }
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(lunettePath), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        var master: Int32 = -1
        pid = pty_spawn(lunettePath, argv, envp, 40, 120, &master)
        fd = master
        guard pid > 0 else { throw NSError(domain: "pty", code: 1) }
    }

    /// Reads until the accumulated output (after `from`) contains text, or fails after a timeout.
    @discardableResult
    func expect(_ text: String, after from: String.Index? = nil, timeout: Double = 20,
                file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [CChar](repeating: 0, count: 4096)
        while Date() < deadline {
            if output[(from ?? output.startIndex)...].contains(text) { return true }
            let n = pty_read(fd, &buffer, Int32(buffer.count), 100)
            if n < 0 { break }
            if n > 0 { output += String(decoding: buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        }
        if output[(from ?? output.startIndex)...].contains(text) { return true }
        XCTFail("did not see \(text.debugDescription) in:\n\(output)", file: file, line: line)
        return false
    }

    var mark: String.Index { output.endIndex }

    func send(_ text: String) {
        var bytes = Array(text.utf8)
        _ = write(fd, &bytes, bytes.count)
    }

    /// Sends a line and waits for the next prompt after it.
    func line(_ text: String, expecting: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        let m = mark
        send(text + "\r")
        if let expecting { expect(expecting, after: m, file: file, line: line) }
    }

    func finish() -> Int32 {
        usleep(200_000)  // let the last output and the prompt settle
        send("\u{4}")
        let status = pty_wait(pid, 10_000)
        close(fd)
        if status < 0 { kill(pid, SIGKILL); _ = pty_wait(pid, 1000) }
        return status
    }
}

final class REPLTests: XCTestCase {
    func testAutoPrintSilencingLocalsAndMultiLine() throws {
        let t = try Terminal(environment: ["NO_COLOR": "1"])
        t.expect("> ")
        t.line("1 + 41", expecting: "42\r\n")
        t.line("local x = 5", expecting: "> ")
        var m = t.mark
        t.line("x * 2", expecting: "10\r\n")
        m = t.mark
        t.line("x;", expecting: "> ")
        t.line("print('after silence')", expecting: "after silence")
        XCTAssertFalse(t.output[m...].contains("5\r\n"), "a trailing ; silences the result")
        t.line("function twice(a)", expecting: ">> ")
        t.line("  return a * 2", expecting: ">> ")
        t.line("end", expecting: "> ")
        t.line("twice(21)", expecting: "42")
        t.line("{b = 2, a = {1, 2}}", expecting: "{ a = { 1, 2 }, b = 2 }")
        m = t.mark
        t.line("error('oops')", expecting: "stdin:1: oops")
        t.line("'still here'", expecting: "\"still here\"")
        XCTAssertFalse(t.output.contains("\u{1B}[31m"), "NO_COLOR turns colour off")
        XCTAssertEqual(t.finish(), 0)
    }

    func testCompletionOfAClassMethodAndHelp() throws {
        let t = try Terminal(environment: ["NO_COLOR": "1"])
        t.expect("> ")
        t.line("timer = require('lunette').Timer()", expecting: "> ")
        var m = t.mark
        t.send("timer:el\t")
        t.expect("timer:elapsed", after: m)
        t.send("() >= 0\r")
        t.expect("true", after: m)
        t.line("torch = require 'torch'", expecting: "> ")
        m = t.mark
        t.send("torch.cu\t")
        t.expect("torch.cuda", after: m)
        t.send(".is\t")
        t.expect("torch.cuda.is_available", after: m)
        t.line("()", expecting: "false")
        m = t.mark
        t.line("?timer", expecting: "class lunette.Timer")
        t.expect(":elapsed() -> number", after: m)
        m = t.mark
        t.line("help(require('lunette').Timer)", expecting: "lunette.Timer() -> lunette.Timer")
        XCTAssertEqual(t.finish(), 0)
    }

    func testCompletionOfConfigKeysDatasetNamesMetadataAndHelpNames() throws {
        let t = try Terminal(environment: ["NO_COLOR": "1"])
        t.expect("> ")
        t.line("d2 = require 'detectron2'; cfg = d2.config.get_cfg()", expecting: "> ")
        var m = t.mark
        t.send("cfg.SO\t")
        t.expect("cfg.SOLVER", after: m)
        t.send(".MAX_I\t")
        t.expect("cfg.SOLVER.MAX_ITER", after: m)
        t.line("", expecting: "40000")
        m = t.mark
        t.send("cfg.MODEL.ROI_HE\t")
        t.expect("cfg.MODEL.ROI_HEADS", after: m)
        t.send(".BATCH\t")
        t.expect("cfg.MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE", after: m)
        t.line("", expecting: "512")
        t.line("d2.data.DatasetCatalog.register('brand_logo_train', function() return {} end)", expecting: "> ")
        m = t.mark
        t.send("d2.data.DatasetCatalog.get(\"brand_l\t")
        t.expect("get(\"brand_logo_train\"", after: m)   // readline closes the quote
        t.line(")", expecting: "Dataset 'brand_logo_train'")
        t.line("meta = d2.data.MetadataCatalog.get('brand_logo_train')", expecting: "> ")
        m = t.mark
        t.send("meta.thing_c\t")
        t.expect("meta.thing_classes", after: m)
        t.line("", expecting: "> ")
        m = t.mark
        t.send("?detectron2.model_zoo.get_ch\t")
        t.expect("?detectron2.model_zoo.get_checkpoint_url", after: m)
        t.line("", expecting: "The link of the model Detectron2 trained")
        m = t.mark
        t.line("?cfg.SOLVER.BASE_LR", expecting: "type float, default 0.001")
        t.expect("Learning rate", after: m)
        XCTAssertEqual(t.finish(), 0)
    }

    func testCtrlCStopsRunningCodeAndKeepsTheSession() throws {
        let t = try Terminal(environment: ["NO_COLOR": "1"])
        t.expect("> ")
        t.line("kept = 'session state'", expecting: "> ")
        let m = t.mark
        t.send("print('spinning') while true do end\r")
        t.expect("spinning\r\n", after: m)
        usleep(100_000)
        kill(t.pid, SIGINT)
        t.expect("interrupted!", after: m)
        t.expect("> ", after: m)
        t.line("kept", expecting: "\"session state\"")
        // A Swift primitive polls the interrupt flag between steps.
        let m2 = t.mark
        t.send("print('sleeping') require('lunette').sleep(30)\r")
        t.expect("sleeping\r\n", after: m2)
        usleep(100_000)
        kill(t.pid, SIGINT)
        t.expect("interrupted!", after: m2)
        t.line("1 + 1", expecting: "2")
        XCTAssertEqual(t.finish(), 0)
    }

    func testCtrlCAtThePromptClearsTheLine() throws {
        let t = try Terminal(environment: ["NO_COLOR": "1"])
        t.expect("> ")
        t.send("this is not lua")
        t.expect("this is not lua")
        let m = t.mark
        kill(t.pid, SIGINT)
        t.expect("> ", after: m)
        t.line("3 * 3", expecting: "9")
        XCTAssertFalse(t.output.contains("syntax error"), "the cleared line was never run")
        XCTAssertEqual(t.finish(), 0)
    }

    func testColourOnATerminalWithoutNO_COLOR() throws {
        let t = try Terminal(environment: ["NO_COLOR": ""])
        t.expect("> ")
        t.line("error('red')", expecting: "stdin:1: red")
        t.expect("> ")
        XCTAssertTrue(t.output.contains("\u{1B}[31m"), "errors are red on a terminal")
        XCTAssertEqual(t.finish(), 0)
    }
}
