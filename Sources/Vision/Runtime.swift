import CVision

/// An OpenCV failure, with a message that names the file where one is involved.
public struct VisionError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    static func last() -> VisionError { VisionError(String(cString: cv_last_error())) }
}

@inline(__always)
func check(_ rc: Int32) throws {
    if rc != 0 { throw VisionError.last() }
}

/// Facts about the OpenCV in use.
public enum VisionRuntime {
    /// OpenCV's version, e.g. "4.6.0".
    public static var version: String { String(cString: cv_version()) }
}
