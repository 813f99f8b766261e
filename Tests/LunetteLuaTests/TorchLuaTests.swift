import Foundation
import XCTest
import LuaHost
@testable import LunetteLua

/// The torch module as Lua code sees it.
final class TorchLuaTests: XCTestCase {
    var state: LuaState!

    override func setUpWithError() throws {
        state = try LuaState()
        try LunetteBindings.install(in: state)
        try state.evaluate("torch = require 'torch'")
    }

    func lua(_ code: String, file: StaticString = #filePath, line: UInt = #line) throws -> [LuaValue] {
        do { return try state.evaluate(code) } catch {
            XCTFail("\(error)", file: file, line: line)
            throw error
        }
    }

    func string(_ code: String) throws -> String {
        guard case .string(let s)? = try lua(code).first else { XCTFail("not a string: \(code)"); return "" }
        return s
    }

    func failure(_ code: String) -> String {
        do {
            try state.evaluate(code)
            XCTFail("no error from \(code)")
            return ""
        } catch {
            return "\(error)"
        }
    }

    /// Methods taking sizes or 1-based dimensions, as varargs or one table.
    func testSizeAndDimensionMethods() throws {
        let t = "local t = torch.tensor{{1, 2, 3}, {4, 5, 6}} "
        func values(_ exprs: String) throws -> String { try string(t + "return table.concat({" + exprs + "}, ' ')") }
        XCTAssertEqual(try values("t:view(3, 2)[3][1], t:reshape{-1}:size(1), t:permute(2, 1)[3][2]"), "5 6 6")
        XCTAssertEqual(try values("t:flip{2}[1][1], t:flip(1, 2)[1][1]"), "3 6")
        XCTAssertEqual(try values("t[{1, {}}]:reshape(1, 3):expand(4, -1):size(1), t:repeat_(2, 1):size(1), t:repeat_(2, 1)[4][3]"), "4 4 6")
        XCTAssertEqual(try values("t[-1][-3], t[{-1, 2}]"), "4 5")
        XCTAssertTrue(failure(t + "return t:permute(3, 1)").contains("3"))
        XCTAssertTrue(failure(t + "return t[3]").contains("index 3 is out of range for a dimension of size 2"))
        XCTAssertTrue(failure(t + "return t[{1, -4}]").contains("index -4 (item 2) is out of range"))
    }

    func testCreationDtypesAndPrinting() throws {
        XCTAssertEqual(try string("return torch.tensor{{1, 2}, {3, 4}}:dtype()"), "int64")
        XCTAssertEqual(try string("return torch.tensor{1.5, 2}:dtype()"), "float32")
        XCTAssertEqual(try string("return torch.tensor{true, false}:dtype()"), "bool")
        XCTAssertEqual(try string("return torch.zeros(2, 3, {dtype = 'float64'}):dtype()"), "float64")
        XCTAssertEqual(try string("return tostring(torch.tensor{{1, 2}, {3, 4}})"), "tensor int64 [2, 2]\n[[1, 2],\n [3, 4]]")
        XCTAssertEqual(try string("return tostring(torch.ones{2}:requires_grad())"), "tensor float32 [2] requires_grad\n[1., 1.]")
        XCTAssertEqual(try string("return table.concat(torch.zeros{4, 5}:size(), 'x')"), "4x5")
        XCTAssertEqual(try string("return tostring(torch.arange(5))"), "tensor int64 [5]\n[0, 1, 2, 3, 4]")
        XCTAssertEqual(try string("return tostring(torch.tensor(9007199254740993))"), "tensor int64 []\n9007199254740993")
        let r = try lua("torch.manual_seed(5); local a = torch.randn{3}:totable(); torch.manual_seed(5); local b = torch.randn{3}:totable(); return a[1] == b[1] and a[3] == b[3]")
        guard case .boolean(true) = r[0] else { return XCTFail("seeded randn differs") }
    }

    func testArithmeticAndComparisons() throws {
        XCTAssertEqual(try string("return tostring((torch.tensor{1, 2} + 1) * 2)"), "tensor int64 [2]\n[4, 6]")
        XCTAssertEqual(try string("return tostring(10 - torch.tensor{1, 2})"), "tensor int64 [2]\n[9, 8]")
        XCTAssertEqual(try string("return tostring(torch.tensor{1, 2} / 2)"), "tensor float32 [2]\n[0.5000, 1.0000]")
        XCTAssertEqual(try string("return tostring(-torch.tensor{1.5})"), "tensor float32 [1]\n[-1.5000]")
        XCTAssertEqual(try string("return tostring(torch.tensor{1, 5}:gt(2))"), "tensor bool [2]\n[false,  true]")
        let r = try lua("return torch.tensor{1, 2} == torch.tensor{1, 2}, torch.tensor{1} < torch.tensor{2}, #torch.zeros{7, 2}")
        XCTAssertEqual("\(r)", "[true, true, 7]")
        XCTAssertTrue(failure("return torch.tensor{1, 2} < torch.tensor{3, 4}").contains("use a:lt(b)"))
        XCTAssertTrue(failure("return torch.zeros{2, 3} + torch.zeros{4}").contains("must match the size of tensor b"))
    }

    func testIndexingIsOneBased() throws {
        try lua("t = torch.arange(12):reshape(3, 4)")
        XCTAssertEqual("\(try lua("return t[1][1], t[3][4], t[-1][-1], t[{2, 3}]"))", "[0, 11, 11, 6]")
        XCTAssertEqual(try string("return tostring(t[{{2, 3}, {}}]:sum())"), "tensor int64 []\n60")
        XCTAssertEqual(try string("return tostring(t[{{}, {2, 3}}])"), "tensor int64 [3, 2]\n[[ 1,  2],\n [ 5,  6],\n [ 9, 10]]")
        XCTAssertEqual(try string("return tostring(t:narrow(2, 2, 2):select(1, 1))"), "tensor int64 [2]\n[1, 2]")
        try lua("t[1] = 0; t[{3, 4}] = -1; t[t:gt(8)] = 100")
        XCTAssertEqual(try string("return tostring(t)"), "tensor int64 [3, 4]\n[[  0,   0,   0,   0],\n [  4,   5,   6,   7],\n [  8, 100, 100,  -1]]")
        XCTAssertTrue(failure("return t[4]").contains("index 4 is out of range for a dimension of size 3 (indices are 1-based)"))
        XCTAssertTrue(failure("return t[0]").contains("out of range"))
        XCTAssertTrue(failure("return t:size(3)").contains("dimension 3 is out of range for a tensor of 2 dimensions"))
        XCTAssertEqual("\(try lua("return t:size(-1), t:sum(2):size(1)"))", "[4, 3]")
    }

    func testAutogradFromLua() throws {
        let r = try lua("""
            local x = torch.tensor{1.0, 2.0, 3.0}:requires_grad()
            local y = (x * x):sum()
            y:backward()
            return x.grad:totable()
            """)
        XCTAssertEqual("\(r)", "[{2.0, 4.0, 6.0}]")
        XCTAssertTrue(failure("torch.zeros{2}:requires_grad():backward()").contains("needs a one-element tensor"))
        XCTAssertEqual("\(try lua("return torch.no_grad(function() return torch.ones{1}:requires_grad() * 2 end).requires_grad_"))", "[false]")
    }

    func testBadInputsGiveClearErrors() throws {
        XCTAssertTrue(failure("torch.zeros{2, 'x'}").contains("bad argument #1 to 'torch.zeros' ([2]: integer expected, got string)"))
        XCTAssertTrue(failure("torch.tensor{{1, 2}, {3}}").contains("ragged nesting"))
        XCTAssertTrue(failure("torch.tensor{1, 'a'}").contains("is a string; tensors hold numbers and booleans"))
        XCTAssertTrue(failure("torch.zeros({2}, {dtype = 'float128'})").contains("unknown dtype 'float128'"))
        XCTAssertTrue(failure("torch.zeros({2}):to('tpu')").contains("'tpu' is neither a dtype nor a device"))
        XCTAssertTrue(failure("torch.nms(torch.zeros{2, 4}, torch.tensor{0.5, 0/0}, 0.5)").contains("nms: score 1 is NaN"))
        // A tensor released with <close> cannot be used afterwards, and says so.
        let released = failure("local kept; do local t <close> = torch.zeros{2}; kept = t end; return kept:sum()")
        XCTAssertTrue(released.contains("torch.Tensor has been released"), released)
    }

    func testROIAlignAndSafetensorsFromLua() throws {
        let r = try lua("""
            local x = torch.arange(16):reshape(1, 1, 4, 4):double()
            local out = torch.roi_align(x, torch.tensor{{0, 1, 1, 3, 3}}:double(), 2, 1, 0, true)
            return out:flatten():totable()
            """)
        XCTAssertEqual("\(r)", "[{5.0, 6.0, 9.0, 10.0}]")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lua-\(UUID().uuidString).safetensors").path
        let back = try lua("""
            torch.save({w = torch.arange(6):reshape(2, 3), b = torch.ones{3}}, '\(path)')
            local t = torch.load('\(path)')
            return t.w:sum():item(), t.b:dtype()
            """)
        XCTAssertEqual("\(back)", "[15, \"float32\"]")
    }
}
