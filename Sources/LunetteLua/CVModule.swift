import CLua
import Detection
import Foundation
import Support
import LuaHost
import Torch
import Vision

/// The `cv` module: images, drawing, video frames and Haar cascades through OpenCV.
extension LunetteBindings {
    static let imageClass = "cv.Image"

    static func color(_ call: LuaCall, _ value: LuaValue?, default d: Color) throws -> Color {
        guard let value else { return d }
        let c = try [Int].decode(value, at: "color")
        guard c.count == 3, c.allSatisfy({ (0...255).contains($0) }) else {
            throw LuaError.message("a colour is {r, g, b} with values 0..255, got \(c)")
        }
        return Color(r: c[0], g: c[1], b: c[2])
    }

    static func installCVModule(in state: LuaState) throws {
        try registerImageClass(in: state)
        try registerCascadeClassifierClass(in: state)
        try registerVideoCaptureClass(in: state)
        try registerCVModule(in: state)
    }

    static func registerImageClass(in state: LuaState) throws {
        let I = imageClass
        try state.defineClass(Image.self, name: I, doc: "An 8-bit image (height x width x channels), BGR as read; rgb() gives an RGB copy.") { c in
            c.tostring { "cv.Image \($0.width)x\($0.height) \($0.order.rawValue)" }
            c.externalSize { $0.byteCount }
            c.property("width", type: "integer", doc: "Width in pixels.") { i, call in call.push(i.width) }
            c.property("height", type: "integer", doc: "Height in pixels.") { i, call in call.push(i.height) }
            c.property("channels", type: "integer", doc: "1 (gray), 3 (BGR or RGB) or 4 (with alpha).") { i, call in call.push(i.channels) }
            c.property("order", type: "string", doc: "\"bgr\", \"rgb\", \"gray\" or \"bgra\".") { i, call in call.push(i.order.rawValue) }
            c.method("size", [], returns: "integer, integer", doc: "Width and height.") { i, call in
                call.push(i.width)
                return call.push(i.height)
            }
            c.method("rgb", [], returns: "cv.Image", doc: "An RGB copy (what the Visualizer takes).") { i, call in call.push(object: try i.rgb()) }
            c.method("bgr", [], returns: "cv.Image", doc: "A BGR copy (what models take).") { i, call in call.push(object: try i.bgr()) }
            c.method("gray", [], returns: "cv.Image", doc: "A grayscale copy.") { i, call in call.push(object: try i.converted(.bgrToGray)) }
            c.method("clone", [], returns: "cv.Image", doc: "A copy.") { i, call in call.push(object: try i.clone()) }
            c.method("resize", [LuaParameter("width", .integer), LuaParameter("height", .integer), LuaParameter("options", .table, optional: true)],
                     returns: "cv.Image", doc: "A resized copy: OpenCV bilinear, or {pil = true} for Pillow's antialiased bilinear (Detectron2's).") { i, call in
                let opts = try call.options(4, allowed: ["pil"])
                let w = try call.integer(2), h = try call.integer(3)
                if case .boolean(true)? = opts["pil"] { return call.push(object: try i.resizedLikePIL(width: w, height: h)) }
                return call.push(object: try i.resized(width: w, height: h))
            }
            c.method("crop", [LuaParameter("x", .integer), LuaParameter("y", .integer), LuaParameter("width", .integer), LuaParameter("height", .integer)],
                     returns: "cv.Image", doc: "The region with its top-left corner at (x, y) (0-based pixels).") { i, call in
                call.push(object: try i.cropped(x: try call.integer(2), y: try call.integer(3), width: try call.integer(4), height: try call.integer(5)))
            }
            c.method("flip", [LuaParameter("direction", .string, optional: true)], returns: "cv.Image",
                     doc: "A mirrored copy: \"horizontal\" (default) or \"vertical\".") { i, call in
                switch try call.optionalString(2) ?? "horizontal" {
                case "horizontal": return call.push(object: try i.flippedHorizontally())
                case "vertical": return call.push(object: try i.flippedVertically())
                case let d: throw call.argumentError(2, "direction must be \"horizontal\" or \"vertical\", got \"\(d)\"")
                }
            }
            c.method("paste", [LuaParameter("image", .any), LuaParameter("x", .integer), LuaParameter("y", .integer)], returns: "cv.Image",
                     doc: "Pastes another image (alpha-blended if it has alpha) at (x, y), in place; returns self.") { i, call in
                try i.paste(try imageArgument(call, 2), x: try call.integer(3), y: try call.integer(4))
                return call.push(object: i)
            }
            c.method("pixel", [LuaParameter("x", .integer), LuaParameter("y", .integer)], returns: "table", doc: "Channel values at (x, y), 0-based.") { i, call in
                let x = try call.integer(2), y = try call.integer(3)
                guard x >= 0, x < i.width, y >= 0, y < i.height else { throw LuaError.message("pixel (\(x), \(y)) is outside the \(i.width)x\(i.height) image") }
                return call.push(i.pixel(x: x, y: y).map(Int.init))
            }
            c.method("opaque_box", [], returns: "table or nil",
                     doc: "{x, y, width, height} of the non-transparent pixels (the whole image without alpha; nil if all transparent).") { i, call in
                guard let b = i.opaqueBox() else { return call.pushNil() }
                return call.push([b.x, b.y, b.width, b.height])
            }
            c.method("tensor", [], returns: "torch.Tensor", doc: "The pixels as an uint8 (channels, height, width) tensor.") { i, call in
                call.push(object: try i.chwTensor())
            }
            c.method("save", [LuaParameter("path", .string), LuaParameter("quality", .integer, optional: true)], returns: "cv.Image",
                     doc: "Writes the image (format from the extension: .png, .jpg, ...); returns self.") { i, call in
                try i.write(try call.string(2), quality: try call.optionalInteger(3))
                return call.push(object: i)
            }
            c.method("encode", [LuaParameter("extension", .string), LuaParameter("quality", .integer, optional: true)], returns: "string",
                     doc: "The encoded bytes (\".png\", \".jpg\") as a Lua string.") { i, call in
                let bytes = try (i.order == .rgb ? i.bgr() : i).encode(try call.string(2), quality: try call.optionalInteger(3))
                return call.push(bytes: bytes)
            }
            c.method("draw_rectangle", [LuaParameter("box", .table), LuaParameter("options", .table, optional: true)], returns: "cv.Image",
                     doc: "Draws {x1, y1, x2, y2} in place; options {color = {r, g, b}, thickness = 2}.") { i, call in
                let b = try call.decode([Double].self, 2)
                guard b.count == 4 else { throw call.argumentError(2, "box must be {x1, y1, x2, y2}") }
                let o = try call.options(3, allowed: ["color", "thickness"])
                let thickness = try o.option("thickness", as: Int.self) ?? 2
                let p = try b.enumerated().map { try Checked.coordinate($1, "box[\($0 + 1)]") }
                try i.drawRectangle(x1: p[0], y1: p[1], x2: p[2], y2: p[3],
                                    color: try color(call, o["color"], default: Color(r: 0, g: 255, b: 0)), thickness: thickness)
                return call.push(object: i)
            }
            c.method("fill_rectangle", [LuaParameter("box", .table), LuaParameter("options", .table, optional: true)], returns: "cv.Image",
                     doc: "Fills {x1, y1, x2, y2} in place; options {color = {r, g, b}, alpha = 0.5}.") { i, call in
                let b = try call.decode([Double].self, 2)
                guard b.count == 4 else { throw call.argumentError(2, "box must be {x1, y1, x2, y2}") }
                let o = try call.options(3, allowed: ["alpha", "color"])
                let alpha = try o.option("alpha", as: Double.self) ?? 0.5
                let p = try b.enumerated().map { try Checked.coordinate($1, "box[\($0 + 1)]") }
                try i.fillRectangle(x1: p[0], y1: p[1], x2: p[2], y2: p[3],
                                    color: try color(call, o["color"], default: Color(r: 0, g: 255, b: 0)), alpha: alpha)
                return call.push(object: i)
            }
            c.method("draw_line", [LuaParameter("from", .table), LuaParameter("to", .table), LuaParameter("options", .table, optional: true)],
                     returns: "cv.Image", doc: "Draws a line {x, y} to {x, y} in place; options {color, thickness}.") { i, call in
                let a = try call.decode([Double].self, 2), b = try call.decode([Double].self, 3)
                guard a.count == 2, b.count == 2 else { throw LuaError.message("points are {x, y}") }
                let o = try call.options(4, allowed: ["color", "thickness"])
                try i.drawLine(x1: try Checked.coordinate(a[0], "from[1]"), y1: try Checked.coordinate(a[1], "from[2]"),
                               x2: try Checked.coordinate(b[0], "to[1]"), y2: try Checked.coordinate(b[1], "to[2]"),
                               color: try color(call, o["color"], default: Color(r: 255, g: 255, b: 255)),
                               thickness: try o.option("thickness", as: Int.self) ?? 1)
                return call.push(object: i)
            }
            c.method("draw_text", [LuaParameter("text", .string), LuaParameter("x", .number), LuaParameter("y", .number),
                                   LuaParameter("options", .table, optional: true)], returns: "cv.Image",
                     doc: "Draws text (any Unicode, DejaVu Sans through Pango) with its baseline at (x, y) in place; options {color, height = 12 (a capital's height in pixels), background = {r, g, b}, alpha = 1}.") { i, call in
                let o = try call.options(5, allowed: ["alpha", "background", "color", "height"])
                let background = try o["background"].map { try color(call, $0, default: Color(r: 0, g: 0, b: 0)) }
                try drawText(try call.string(2), on: i, x: Double(try Checked.coordinate(try call.number(3), "x")),
                             y: Double(try Checked.coordinate(try call.number(4), "y")),
                             height: try o.option("height", as: Double.self) ?? 12,
                             color: try color(call, o["color"], default: Color(r: 255, g: 255, b: 255)),
                             background: background, alpha: try o.option("alpha", as: Double.self) ?? 1)
                return call.push(object: i)
            }
        }
    }

    /// OpenCV's VideoCapture as Lua sees it: the video (nil once released) and the frames read.
    final class VideoCaptureObject {
        var video: Video?
        let path: String
        var framesRead = 0
        init(video: Video, path: String) {
            self.video = video
            self.path = path
        }
    }

    static func registerCascadeClassifierClass(in state: LuaState) throws {
        let I = imageClass
        try state.defineClass(Cascade.self, name: "cv.CascadeClassifier", doc: "An OpenCV Haar/LBP cascade: the pretrained face and smile baseline.") { c in
            c.tostring { "cv.CascadeClassifier(\($0.path))" }
            c.method("detect", [LuaParameter("image", .object(I)), LuaParameter("options", .table, optional: true)], returns: "table",
                     doc: "Detections {box = {x1, y1, x2, y2}, score} (score: the last stage's level weight); options {scale_factor = 1.1, min_neighbors = 3, min_size = {w, h}, max_size = {w, h}, equalize = false}.") { cascade, call in
                let o = try call.options(3, allowed: ["equalize", "max_size", "min_neighbors", "min_size", "scale_factor"])
                func pair(_ key: String) throws -> (Int, Int) {
                    guard let v = o[key] else { return (0, 0) }
                    let p = try [Int].decode(v, at: key)
                    guard p.count == 2 else { throw LuaError.message("\(key) must be {width, height}") }
                    return (p[0], p[1])
                }
                var equalize = false
                if case .boolean(let b)? = o["equalize"] { equalize = b }
                let found = try cascade.detect(try call.object(Image.self, 2),
                                               scaleFactor: try o.option("scale_factor", as: Double.self) ?? 1.1,
                                               minNeighbors: try o.option("min_neighbors", as: Int.self) ?? 3,
                                               minSize: try pair("min_size"), maxSize: try pair("max_size"), equalize: equalize)
                let list = found.map { d -> LuaValue in
                    var t = LuaTable()
                    t.hash[.string("box")] = .table(LuaTable(array: [.integer(Int64(d.x)), .integer(Int64(d.y)),
                                                                     .integer(Int64(d.x + d.width)), .integer(Int64(d.y + d.height))]))
                    t.hash[.string("score")] = .number(d.score)
                    return .table(t)
                }
                return call.push(.table(LuaTable(array: list)))
            }
            c.method("detectMultiScale", [LuaParameter("image", .object(I)), LuaParameter("options", .table, optional: true)], returns: "table",
                     doc: "OpenCV's detectMultiScale: a list of {x, y, w, h} (as the rectangles OpenCV returns); options with OpenCV's names {scaleFactor = 1.1, minNeighbors = 3, minSize = {w, h}, maxSize = {w, h}}.") { cascade, call in
                let o = try call.options(3, allowed: ["maxSize", "minNeighbors", "minSize", "scaleFactor"], ignored: ["flags"])
                func pair(_ key: String) throws -> (Int, Int) {
                    guard let v = o[key] else { return (0, 0) }
                    let p = try [Int].decode(v, at: key)
                    guard p.count == 2, p[0] >= 0, p[1] >= 0 else { throw call.argumentError(3, "\(key) must be {width, height}, both 0 or more") }
                    return (p[0], p[1])
                }
                let scale = try o.option("scaleFactor", as: Double.self) ?? 1.1
                guard scale > 1 else { throw call.argumentError(3, "scaleFactor must be greater than 1 (OpenCV's rule), not \(scale)") }
                let neighbors = try o.option("minNeighbors", as: Int.self) ?? 3
                guard neighbors >= 0 else { throw call.argumentError(3, "minNeighbors must be 0 or more, not \(neighbors)") }
                let found = try cascade.detect(try call.object(Image.self, 2), scaleFactor: scale, minNeighbors: neighbors,
                                               minSize: try pair("minSize"), maxSize: try pair("maxSize"), equalize: false)
                return call.push(.table(LuaTable(array: found.map { d in
                    .table(LuaTable(array: [.integer(Int64(d.x)), .integer(Int64(d.y)), .integer(Int64(d.width)), .integer(Int64(d.height))]))
                }, kind: .array)))
            }
        }
    }

    static func registerVideoCaptureClass(in state: LuaState) throws {
        try state.defineClass(VideoCaptureObject.self, name: "cv.VideoCapture",
                              doc: "OpenCV's VideoCapture over a file: local ok, frame = cap:read() until ok is false; cap:get(cv.CAP_PROP_FPS); cap:release().") { c in
            c.tostring { v in "cv.VideoCapture(\(v.path), \(v.video == nil ? "released" : "\(v.framesRead) frames read"))" }
            c.method("read", [], returns: "boolean, cv.Image", doc: "The next frame: true and the BGR image, or false and nil at the end (or after release).") { v, call in
                guard let video = v.video, case .frame(let img?) = try video.next() else {
                    lua_pushboolean(call.L, 0)
                    lua_pushnil(call.L)
                    return 2
                }
                v.framesRead += 1
                lua_pushboolean(call.L, 1)
                _ = call.push(object: img)
                return 2
            }
            c.method("isOpened", [], returns: "boolean", doc: "Whether the capture is open (false after release).") { v, call in call.push(v.video != nil) }
            c.method("get", [LuaParameter("prop", .integer)], returns: "number",
                     doc: "A property: cv.CAP_PROP_FPS, CAP_PROP_FRAME_COUNT (what the container claims), CAP_PROP_FRAME_WIDTH, CAP_PROP_FRAME_HEIGHT, CAP_PROP_POS_FRAMES (frames read).") { v, call in
                let prop = try call.integer(2)
                guard let video = v.video else { return call.push(0.0) }   // OpenCV answers 0 once released
                let info = video.info
                switch prop {
                case 1: return call.push(Double(v.framesRead))
                case 3: return call.push(Double(info.width))
                case 4: return call.push(Double(info.height))
                case 5: return call.push(info.fps)
                case 7: return call.push(Double(info.claimedFrames))
                default:
                    throw call.argumentError(2, "property \(prop) is not supported; use cv.CAP_PROP_POS_FRAMES (1), FRAME_WIDTH (3), FRAME_HEIGHT (4), FPS (5) or FRAME_COUNT (7)")
                }
            }
            c.method("release", [], doc: "Closes the file.") { v, call in
                v.video = nil
                return 0
            }
        }
    }

    static func registerCVModule(in state: LuaState) throws {
        try state.defineModule("cv", doc: "Images and video through OpenCV.") { m in
            try m.value("version", .string(VisionRuntime.version), doc: "OpenCV's version.")
            m.function("imread", [LuaParameter("path", .string), LuaParameter("mode", .string, optional: true)], returns: "cv.Image",
                       doc: "Reads an image file: BGR with EXIF orientation applied (mode \"color\"), \"unchanged\" (keeps alpha) or \"gray\".") { call in
                let mode: Image.DecodeMode
                switch try call.optionalString(2) ?? "color" {
                case "color": mode = .bgr
                case "unchanged": mode = .unchanged
                case "gray": mode = .gray
                case let other: throw call.argumentError(2, "mode must be \"color\", \"unchanged\" or \"gray\", got \"\(other)\"")
                }
                return call.push(object: try Image.read(try call.string(1), mode: mode))
            }
            m.function("imdecode", [LuaParameter("bytes", .string)], returns: "cv.Image", doc: "Decodes image bytes (a Lua string) as BGR.") { call in
                return call.push(object: try Image.decode(try call.bytes(1)))
            }
            m.function("imwrite", [LuaParameter("path", .string), LuaParameter("image", .any), LuaParameter("quality", .integer, optional: true)],
                       doc: "Writes an image (format from the extension); a Figure is drawn to one first.") { call in
                try imageArgument(call, 2).write(try call.string(1), quality: try call.optionalInteger(3))
                return 0
            }
            m.function("new_image", [LuaParameter("width", .integer), LuaParameter("height", .integer), LuaParameter("color", .table, optional: true)],
                       returns: "cv.Image", doc: "A BGR image filled with a colour {r, g, b} (default black).") { call in
                let img = try Image(width: try call.integer(1), height: try call.integer(2))
                if !call.isNone(3) {
                    try img.fillRectangle(x1: 0, y1: 0, x2: img.width, y2: img.height, color: try color(call, try call.value(3), default: Color(r: 0, g: 0, b: 0)))
                }
                return call.push(object: img)
            }
            m.function("extract_frames", [LuaParameter("video", .string), LuaParameter("options", .table)], returns: "table",
                       doc: "Writes every Nth frame as <video>_<frame>.jpg: options {every = 10, out = folder, format = \"jpg\"}. Reads until the stream really ends, whatever the container claims; returns {frames_read, written, claimed_frames, files}.") { call in
                let o = try call.options(2, allowed: ["every", "format", "out"])
                guard case .string(let out)? = o["out"] else { throw call.argumentError(2, "options need out = folder") }
                let every = try o.option("every", as: Int.self) ?? 10
                let format = try o.option("format", as: String.self) ?? "jpg"
                let video = try call.string(1)
                let r = try Video.extractFrames(from: video, every: every, to: out, format: format, shouldStop: { LongWork.stopRequested })
                var t = LuaTable()
                t.hash[.string("frames_read")] = .integer(Int64(r.framesRead))
                t.hash[.string("written")] = .integer(Int64(r.written.count))
                t.hash[.string("claimed_frames")] = .integer(Int64(r.claimedFrames))
                t.hash[.string("files")] = .table(LuaTable(array: r.written.map { .string($0.path) }))
                if LongWork.stopRequested {
                    throw Stopped("frame extraction from \(video) interrupted after \(r.framesRead) frames", kept: "\(r.written.count) frames written to \(out)",
                                  howToContinue: "run cv.extract_frames again (it rewrites the same files)")
                }
                return call.push(.table(t))
            }
            m.function("VideoCapture", [LuaParameter("path", .string)], returns: "cv.VideoCapture",
                       doc: "Opens a video file for frame-by-frame reading, as OpenCV's VideoCapture; a file that cannot be opened is an error naming it (OpenCV would give a capture that reads nothing).") { call in
                let path = try call.string(1)
                return call.push(object: VideoCaptureObject(video: try Video(path: path), path: path))
            }
            for (name, value) in [("CAP_PROP_POS_FRAMES", 1), ("CAP_PROP_FRAME_WIDTH", 3), ("CAP_PROP_FRAME_HEIGHT", 4), ("CAP_PROP_FPS", 5), ("CAP_PROP_FRAME_COUNT", 7)] {
                try m.value(name, .integer(Int64(value)), doc: "VideoCapture:get property \(value), as OpenCV's.")
            }
            m.function("CascadeClassifier", [LuaParameter("path", .string)], returns: "cv.CascadeClassifier",
                       doc: "Loads a cascade XML; a bare file name is looked up in Debian's opencv-data (e.g. \"haarcascade_frontalface_default.xml\").") { call in
                call.push(object: try Cascade(path: try call.string(1)))
            }
        }
    }
}
