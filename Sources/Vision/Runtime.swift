import CVision

/// Facts about the OpenCV in use.
public enum VisionRuntime {
    /// OpenCV's version, e.g. "4.6.0".
    public static var version: String { String(cString: cv_version()) }
}
