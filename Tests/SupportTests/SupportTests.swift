import Foundation
import XCTest
@testable import Support

final class AtomicFileTests: XCTestCase {
    var scratch = ""
    override func setUp() {
        scratch = NSTemporaryDirectory() + "lunette-support-\(getpid())-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: scratch) }

    func testWritesReplacesAndLeavesNoTemporaryFile() throws {
        let path = scratch + "/sub/dir/a.txt"
        try AtomicFile.write("one", to: path)
        try AtomicFile.write("two", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "two")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch + "/sub/dir"), ["a.txt"])
    }

    func testAFailingProducerKeepsThePreviousFile() throws {
        let path = scratch + "/keep.txt"
        try AtomicFile.write("old", to: path)
        struct Boom: Error {}
        XCTAssertThrowsError(try AtomicFile.write(to: path) { tmp in
            try "half".write(toFile: tmp, atomically: false, encoding: .utf8)
            throw Boom()
        })
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), ["keep.txt"])
    }

    func testErrorsNameThePathAndTheReason() throws {
        try FileManager.default.createDirectory(atPath: scratch + "/folder", withIntermediateDirectories: true)
        XCTAssertThrowsError(try AtomicFile.write("x", to: scratch + "/folder")) { e in
            XCTAssertEqual((e as? FileError)?.message, "cannot write \(scratch)/folder: it is a folder")
        }
        XCTAssertThrowsError(try AtomicFile.write("x", to: "/proc/no-such/file.txt")) { e in
            let m = String(describing: e)
            XCTAssertTrue(m.contains("/proc/no-such"), m)
        }
        // A full disk: the file-size limit makes write() fail with EFBIG part-way.
        var old = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        signal(SIGXFSZ, SIG_IGN)
        let path = scratch + "/big.bin"
        try AtomicFile.write([UInt8](repeating: 1, count: 10), to: path)
        var small = old
        small.rlim_cur = 4096
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &small)
        XCTAssertThrowsError(try AtomicFile.write([UInt8](repeating: 2, count: 100_000), to: path)) { e in
            let m = String(describing: e)
            XCTAssertTrue(m.contains("cannot write \(path)") && m.contains("errno \(EFBIG)"), m)
        }
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), Data(repeating: 1, count: 10))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch).sorted(), ["big.bin", "folder"])
    }
}

final class CSVWriterTests: XCTestCase {
    func testQuotesAsRFC4180AndPythonsCSVModule() {
        var t = CSVWriter(header: ["name", "value"])
        t.append(["plain", "1"])
        t.append(["a,b", "say \"hi\""])
        t.append(["two\nlines", " spaced "])
        t.append(["", "\r"])
        // What Python's csv.writer(lineterminator="\n") writes for the same rows.
        XCTAssertEqual(t.text, "name,value\nplain,1\n\"a,b\",\"say \"\"hi\"\"\"\n\"two\nlines\", spaced \n,\"\r\"\n")
    }
}

final class ProgressMeterTests: XCTestCase {
    func testRateAndETACountOnlyThisRunsItems() {
        var now = 100.0
        let p = ProgressMeter(title: "train", total: 100, interactive: false, plainEvery: 1e9, clock: { now })
        p.begin(alreadyDone: 40)               // resumed at 40
        XCTAssertNil(p.rate)
        XCTAssertNil(p.eta)
        now += 10
        p.update(done: 50)                     // 10 items in 10 s this run
        XCTAssertEqual(p.rate!, 1, accuracy: 1e-12)
        XCTAssertEqual(p.eta!, 50, accuracy: 1e-12)
        now += 10
        p.update(done: 70)
        XCTAssertEqual(p.rate!, 1.5, accuracy: 1e-12)
        XCTAssertEqual(p.eta!, 20, accuracy: 1e-12)
        p.update(done: 100)
        XCTAssertEqual(p.eta, 0)
    }

    func testLines() {
        var now = 0.0
        let p = ProgressMeter(title: "inference", total: 4, unit: "img", interactive: false, clock: { now })
        p.begin()
        now = 2
        p.update(done: 1)
        XCTAssertEqual(p.plainLine(status: "", eta: p.eta), "[inference] 1/4 img  0.5 img/s  ETA 0:00:06")
        XCTAssertEqual(p.barLine(status: "loss 1.000", eta: 3725), "inference 1/4  █████░░░░░░░░░░░░░░░   25%  loss 1.000  0.50 img/s  ETA 1:02:05")
    }

    func testDurationsAsPythonsTimedelta() {
        XCTAssertEqual(ProgressMeter.duration(0), "0:00:00")
        XCTAssertEqual(ProgressMeter.duration(59.9), "0:00:59")
        XCTAssertEqual(ProgressMeter.duration(90061), "1 day, 1:01:01")
        XCTAssertEqual(ProgressMeter.duration(2 * 86400), "2 days, 0:00:00")
        XCTAssertEqual(ProgressMeter.duration(.nan), "?")
        XCTAssertEqual(ProgressMeter.duration(.infinity), "?")
        XCTAssertEqual(ProgressMeter.duration(-1), "?")
    }

    func testStoppedSaysWhatWasKeptAndHowToContinue() {
        let s = Stopped("training interrupted after iteration 4 of 10", kept: "checkpoint out/model_0000004.pth",
                        howToContinue: "trainer:train() continues from iteration 5")
        XCTAssertEqual(s.description, "training interrupted after iteration 4 of 10; kept: checkpoint out/model_0000004.pth. To continue: trainer:train() continues from iteration 5")
    }
}

final class PathNameTests: XCTestCase {
    /// Foundation's deletingLastPathComponent traps on one-character paths here; PathName.parent
    /// must not, and must agree with it everywhere else.
    func testParentOfPaths() {
        for (path, parent) in [("a", ""), ("g", ""), ("a.json", ""), ("out/a", "out"), ("out/runs/", "out"), ("/a", "/"), ("/", "/"),
                               ("a/b/c", "a/b"), ("a//b", "a"), ("", ""), ("./x", "."), ("../x", "..")] {
            XCTAssertEqual(PathName.parent(path), parent, path)
        }
        for path in ["ab", "out/model.pth", "/tmp/x/y", "a/b/", "../x"] {
            XCTAssertEqual(PathName.parent(path), (path as NSString).deletingLastPathComponent, path)
        }
    }

    func testAtomicWriteToAOneLetterName() throws {
        let dir = NSTemporaryDirectory() + "pathname-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(dir)
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        try AtomicFile.write(to: "a") { tmp in try "x".write(toFile: tmp, atomically: false, encoding: .utf8) }
        XCTAssertEqual(try String(contentsOfFile: dir + "/a", encoding: .utf8), "x")
    }
}
