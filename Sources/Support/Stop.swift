/// The one stop convention for long work: Ctrl-C (or any caller) requests a stop; the work
/// polls `LongWork.stopRequested` at its safe points, stops there, keeps what is finished and
/// throws `Stopped`, whose one message says what was kept and how to continue. The host sets
/// the poll and the acknowledgement once (the Lua host's interrupt flag).
public enum LongWork {
    nonisolated(unsafe) public static var poll: () -> Bool = { false }
    nonisolated(unsafe) public static var acknowledge: () -> Void = {}

    public static var stopRequested: Bool { poll() }
}

/// Long work stopped on request at a safe point.
public struct Stopped: Error, CustomStringConvertible {
    /// What stopped and where ("training stopped after iteration 41 of 400").
    public let what: String
    /// What was kept ("checkpoint output/model_0000041.pth").
    public let kept: String
    /// How to continue ("trainer:resume_or_load{resume = true}; trainer:train() continues from iteration 42").
    public let howToContinue: String

    public init(_ what: String, kept: String, howToContinue: String) {
        self.what = what
        self.kept = kept
        self.howToContinue = howToContinue
    }

    public var description: String { "\(what); kept: \(kept). To continue: \(howToContinue)" }
}
