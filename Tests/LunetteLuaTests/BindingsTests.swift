import CLua
import XCTest
import LuaHost
@testable import LunetteLua

final class BindingsTests: XCTestCase {
    func makeState() throws -> LuaState {
        let state = try LuaState()
        try LunetteBindings.install(in: state)
        return state
    }

    static let stdlib = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("stdlib").path

    /// The stdlib's Lua modules by require name ("detectron2.model_zoo", "detectron2" for init.lua).
    static func stdlibModules() throws -> [String] {
        let files = FileManager.default.enumerator(atPath: stdlib)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".lua") } ?? []
        return files.map { f in
            var name = String(f.dropLast(4))
            if name.hasSuffix("/init") { name = String(name.dropLast(5)) }
            return name.replacingOccurrences(of: "/", with: ".")
        }.sorted()
    }

    /// Every name a module exports is documented in the registry, so help() never says
    /// "undocumented": the Swift modules, classes and their members, and every module of the
    /// stdlib with each of its functions (documented by --- comments in its file).
    func testEveryExportedNameIsDocumented() throws {
        let state = try makeState()
        _ = try state.evaluate("package.path = '\(Self.stdlib)/?.lua;\(Self.stdlib)/?/init.lua;' .. package.path")
        let luaModules = try Self.stdlibModules()
        XCTAssertTrue(luaModules.contains("detectron2") && luaModules.contains("detectron2.model_zoo"), "\(luaModules)")
        for name in luaModules { _ = try state.evaluate("require '\(name)'") }
        for name in luaModules {
            guard let module = state.registry.modules[name] else { XCTFail("stdlib module \(name) is not in the registry"); continue }
            for (member, doc) in module.values { XCTAssertFalse(doc.isEmpty, "\(name).\(member) has no --- doc") }
            XCTAssertNotNil(state.helpText(named: name), name)
        }
        for (name, module) in state.registry.modules {
            XCTAssertFalse(module.doc.isEmpty, "module \(name) has no doc")
            let exported = try state.evaluate("""
                local names = {}
                for k in pairs(package.loaded['\(name)']) do names[#names + 1] = k end
                return names
                """)
            guard case .table(let t)? = exported.first else { return XCTFail("no table for \(name)") }
            let keys = try [String].decode(.table(t), at: "")
            XCTAssertEqual(Set(keys), Set(module.members), "module \(name): exported names differ from the registry")
            for k in keys {
                XCTAssertNotNil(state.helpText(named: "\(name).\(k)"), "\(name).\(k) has no help")
            }
        }
        for (name, f) in state.registry.functions { XCTAssertFalse(f.doc.isEmpty, "\(name) has no doc") }
        for (name, c) in state.registry.classes {
            XCTAssertFalse(c.doc.isEmpty, "class \(name) has no doc")
            for (p, spec) in c.allProperties { XCTAssertFalse(spec.doc.isEmpty, "\(name).\(p) has no doc") }
            for (m, spec) in c.allMethods { XCTAssertFalse(spec.doc.isEmpty, "\(name):\(m) has no doc") }
            for (m, spec) in c.allMetamethods { XCTAssertFalse(spec.doc.isEmpty, "\(name).\(m) has no doc") }
        }
        // help(value) finds a stdlib function by its value, as it finds a Swift one.
        _ = try state.evaluate("__f = require('detectron2.model_zoo').get_checkpoint_url")
        lua_getglobal(state.L, "__f")
        XCTAssertTrue(state.helpText(at: -1, name: nil).hasPrefix("detectron2.model_zoo.get_checkpoint_url(name)\n  The link of the model"))
        lua_settop(state.L, 0)
    }

    func testVersionsReportTheLibrariesInUse() throws {
        let state = try makeState()
        let r = try state.evaluate("local v = require('lunette').versions(); return v.lua, v.torch, v.opencv, v.threads, v.cuda")
        guard case .string(let lua) = r[0], case .string(let torch) = r[1], case .string(let cv) = r[2],
              case .integer(let threads) = r[3], case .boolean(let cuda) = r[4] else { return XCTFail("\(r)") }
        XCTAssertTrue(lua.hasPrefix("Lua 5.4."), lua)
        XCTAssertEqual(torch.split(separator: ".").count, 3, torch)
        XCTAssertEqual(cv.split(separator: ".").first, "4")
        XCTAssertGreaterThanOrEqual(threads, 1)
        // libtorch uses every core unless OMP_NUM_THREADS says otherwise.
        if ProcessInfo.processInfo.environment["OMP_NUM_THREADS"] == nil {
            XCTAssertEqual(Int(threads), ProcessInfo.processInfo.activeProcessorCount)
        }
        let cudaExpected = try state.evaluate("return require('torch').cuda.device_count() > 0")
        guard case .boolean(let hasDevices) = cudaExpected[0] else { return XCTFail() }
        XCTAssertEqual(cuda, hasDevices)
    }

    func testTimer() throws {
        let state = try makeState()
        let r = try state.evaluate("local t = require('lunette').Timer(); local a = t:elapsed(); local b = t.seconds; return a >= 0, b >= a, tostring(t):match('^Timer%(') ~= nil")
        XCTAssertEqual(r.count, 3)
        for v in r { guard case .boolean(true) = v else { return XCTFail("\(r)") } }
    }
}
