import CLua
import Foundation
import Glibc
import Jupyter
import LuaHost
import LunetteLua
import Notebook
import Support

/// `lunette kernel -f CONNECTION.json`: Lunette as a Jupyter kernel (messaging protocol 5.3).
///
/// Threads: the main thread serves the shell socket and runs the Lua state (one request at a
/// time, as a kernel does); the control thread answers interrupt, shutdown and kernel_info even
/// while a cell runs; the heartbeat thread echoes; a flusher publishes what a running cell
/// prints every 0.2 s. iopub is shared, behind a lock. What the process writes to stdout and
/// stderr (Lua's print, log lines, C libraries, child processes) is captured at the fd level and
/// published as streams; the kernel's own log lines go to the stderr it started with.
final class Kernel: @unchecked Sendable {
    let connection: ConnectionInfo
    let signer: Signer
    let context: ZMQContext
    let shell: ZMQSocket
    let control: ZMQSocket
    let stdinSocket: ZMQSocket
    let iopub: ZMQSocket
    let heartbeat: ZMQSocket
    let sessionID = UUID().uuidString.lowercased()
    let session: Session
    let runner: CellRunner
    let capture: OutputCapture
    private let logFD: Int32

    private let iopubLock = NSLock()
    /// Guards `parent` and `silent`, and keeps one flush of the captured streams at a time.
    private let outputLock = NSLock()
    /// The request whose outputs iopub carries now.
    private var parent: WireMessage?
    private var silent = false
    /// The execute request running now (io.read asks its front end for input).
    private var running: WireMessage?
    private var inputAllowed = false
    private var inputBuffer: [UInt8] = []
    /// The display_id of the progress bar shown now.
    private var barDisplay: String?

    private var executionCount = 0
    /// The signatures the shell socket has taken (a replay is dropped).
    private var shellSeen = SignatureHistory()
    private(set) var kernelInfo: [(String, JSONValue)] = []
    private var history: [(line: Int, input: String)] = []

    private let stateLock = NSLock()
    private var stopping = false
    private var executing = false
    private var finished = 0       // helper threads that ended

    /// The thread that runs Lua: signals (Jupyter's interrupt) go to it alone.
    let mainThread = pthread_self()

    /// Made on the thread that will serve; SIGINT is blocked there until `serve` starts, so every
    /// thread started meanwhile (output readers, helpers) keeps it blocked and the signal always
    /// lands on the thread running Lua, as lua.c's handler expects.
    init(connectionFile: String) throws {
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGINT)
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        connection = try ConnectionInfo.read(connectionFile)
        signer = try Signer(scheme: connection.signatureScheme, key: connection.key)
        context = try ZMQContext()
        shell = try ZMQSocket(context, .router)
        control = try ZMQSocket(context, .router)
        stdinSocket = try ZMQSocket(context, .router)
        iopub = try ZMQSocket(context, .pub)
        heartbeat = try ZMQSocket(context, .rep)
        for (socket, channel) in [(shell, Channel.shell), (control, .control), (stdinSocket, .stdin), (iopub, .iopub), (heartbeat, .hb)] {
            do { try socket.bind(connection.endpoint(channel)) } catch let e as ZMQError {
                throw WireError("cannot bind the \(channel.rawValue) channel (\(connectionFile)): \(e.description)")
            }
        }
        session = try Session(scriptDirectory: nil)
        session.setArgTable(argv: ["lunette"], scriptIndex: nil)
        runner = CellRunner(session: session)
        capture = try OutputCapture(cap: 1 << 20)
        logFD = capture.terminalError
        kernelInfo = Self.info(session)
    }

    var isStopping: Bool { stateLock.lock(); defer { stateLock.unlock() }; return stopping }

    func log(_ text: String) {
        var line = "[lunette kernel] " + text + "\n"
        line.withUTF8 { b in _ = write(logFD, b.baseAddress, b.count) }
    }

    // MARK: serving

    func serve() -> Int32 {
        lh_count_sigint_between_calls()      // Ctrl-C (Jupyter's interrupt) between cells is never fatal
        installHooks()
        let helpers: [(String, @Sendable (Kernel) -> Void)] = [
            ("heartbeat", { $0.heartbeatLoop() }), ("control", { $0.controlLoop() }), ("flusher", { $0.flushLoop() }),
            ("parent watch", { $0.watchParent() }),
        ]
        for (name, body) in helpers {
            let t = Thread { [self] in
                body(self)
                stateLock.lock(); finished += 1; stateLock.unlock()
            }
            t.name = "lunette kernel \(name)"
            t.stackSize = 1 << 20
            t.start()
        }
        log("Lunette \(LunetteBindings.version) kernel on \(connection.transport)://\(connection.ip) (shell \(connection.ports[.shell]!), iopub \(connection.ports[.iopub]!)), session \(sessionID)")
        // Jupyter's interrupt goes to this thread only (the others were started with it blocked).
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &blocked, nil)
        while !isStopping {
            guard let message = nextMessage(shell, channel: "shell", seen: &shellSeen) else { continue }
            handleShell(message)
        }
        // Shutting down: the helpers end within their poll time, then every socket closes and
        // the context sends what is queued (at most the linger time) before the process ends.
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline {
            stateLock.lock(); let n = finished; stateLock.unlock()
            if n == helpers.count { break }
            usleep(10_000)
        }
        flush(closing: true)
        for s in [shell, control, stdinSocket, iopub, heartbeat] { s.close() }
        context.terminate()
        capture.stop()
        return 0
    }

    /// The next message on a socket within the time (nil: none came, or it was dropped).
    private func nextMessage(_ socket: ZMQSocket, channel: String, seen: inout SignatureHistory, timeoutMS: Int = 200) -> WireMessage? {
        do {
            guard let frames = try socket.receive(timeoutMS: timeoutMS) else { return nil }
            return accept(frames, channel: channel, seen: &seen)
        } catch {
            log("\(channel): \(error)")
            return nil
        }
    }

    /// A message off a socket if it is signed right and not a replay; else nil, logged.
    private func accept(_ frames: [[UInt8]], channel: String, seen: inout SignatureHistory) -> WireMessage? {
        let message: WireMessage
        do { message = try Wire.decode(frames, signer: signer) } catch {
            log("dropped a message on \(channel): \(error)")
            return nil
        }
        if signer.signs, let signature = SignatureHistory.signature(in: frames), !seen.insert(signature) {
            log("dropped a message on \(channel): its signature was seen before (a replay), \(message.type) \(message.id)")
            return nil
        }
        return message
    }

    private func requestStop() {
        stateLock.lock()
        stopping = true
        stateLock.unlock()
        // The running cell (or a help lookup) stops as Ctrl-C stops it, on its own thread; an
        // idle main thread counts it and its wait for the next request ends.
        pthread_kill(mainThread, SIGINT)
    }

    // MARK: sending

    private func message(_ type: String, _ content: JSONValue, parent: WireMessage?, identities: [[UInt8]] = [],
                         metadata: JSONValue = .object([])) -> WireMessage {
        WireMessage(identities: identities, header: WireMessage.header(type: type, session: sessionID),
                    parentHeader: parent?.header ?? .object([]), metadata: metadata, content: content)
    }

    private func reply(_ request: WireMessage, on socket: ZMQSocket, _ content: [(String, JSONValue)], metadata: JSONValue = .object([])) {
        let type = request.type.hasSuffix("_request") ? String(request.type.dropLast(8)) + "_reply" : request.type + "_reply"
        send(message(type, .object(content), parent: request, identities: request.identities, metadata: metadata), on: socket)
    }

    private func send(_ m: WireMessage, on socket: ZMQSocket) {
        do { try socket.send(Wire.encode(m, signer: signer)) } catch { log("cannot send \(m.type): \(error)") }
    }

    func publish(_ type: String, _ content: [(String, JSONValue)], parent: WireMessage?) {
        var m = message(type, .object(content), parent: parent)
        m.identities = [Array("kernel.\(sessionID).\(type)".utf8)]
        iopubLock.lock()
        defer { iopubLock.unlock() }
        send(m, on: iopub)
    }

    private func status(_ state: String, _ request: WireMessage) {
        publish("status", [("execution_state", .string(state))], parent: request)
    }

    // MARK: outputs of a running request

    /// Publishes what was captured since the last flush, as streams of the running request
    /// (nothing for a silent one). `closing` at the end of a request: everything written by then,
    /// and a note for a stream that went past its cap.
    func flush(closing: Bool, settle: Double = 1) {
        outputLock.lock()
        defer { outputLock.unlock() }
        let chunks = capture.take(closing: closing, settle: settle)
        guard !silent else { return }
        for (name, text) in chunks where !text.isEmpty {
            publish("stream", [("name", .string(name)), ("text", .string(text))], parent: parent)
        }
    }

    /// Publishes an output of the running request after what it printed before it, and before
    /// it the `notes` (lines of stderr: what was changed to show it).
    private func output(_ type: String, _ content: [(String, JSONValue)], notes: [String] = []) {
        flush(closing: false, settle: 0.2)
        outputLock.lock()
        defer { outputLock.unlock() }
        guard !silent, let parent else { return }
        for note in notes {
            publish("stream", [("name", .string("stderr")), ("text", .string(note))], parent: parent)
        }
        publish(type, content, parent: parent)
    }

    private func bundle(_ v: RichValue) -> [(String, JSONValue)] {
        [("data", .object(v.data)), ("metadata", .object(v.metadata))]
    }

    private func installHooks() {
        LunetteBindings.displaySink = { [unowned self] value in
            output("display_data", bundle(value) + [("transient", .object([]))], notes: value.noteLines)
        }
        StatusConsole.barSink = { [unowned self] event in
            switch event {
            case .show(let bar):
                let v = LunetteBindings.richValue(of: bar)
                if let id = barDisplay {
                    output("update_display_data", bundle(v) + [("transient", .object([("display_id", .string(id))]))])
                } else {
                    let id = "lunette-progress-" + UUID().uuidString.lowercased()
                    barDisplay = id
                    output("display_data", bundle(v) + [("transient", .object([("display_id", .string(id))]))])
                }
            case .end:
                barDisplay = nil
            }
        }
        installInput()
    }

    // MARK: helper threads

    private func heartbeatLoop() {
        while !isStopping {
            do {
                if let frames = try heartbeat.receive(timeoutMS: 200) { try heartbeat.send(frames) }
            } catch {
                log("heartbeat: \(error)")
                usleep(100_000)
            }
        }
    }

    private func flushLoop() {
        while !isStopping {
            usleep(200_000)
            stateLock.lock(); let busy = executing; stateLock.unlock()
            if busy { flush(closing: false, settle: 0) }
        }
    }

    /// Ends the kernel when the process that started it is gone (jupyter_client sets
    /// JPY_PARENT_PID), so a kernel is never left running alone.
    private func watchParent() {
        guard ProcessInfo.processInfo.environment["JPY_PARENT_PID"] != nil else { return }
        let original = getppid()
        while !isStopping {
            usleep(500_000)
            if getppid() != original {
                log("the process that started this kernel is gone; shutting down")
                requestStop()
            }
        }
    }

    private func controlLoop() {
        var seen = SignatureHistory()
        while !isStopping {
            guard let request = nextMessage(control, channel: "control", seen: &seen) else { continue }
            status("busy", request)
            switch request.type {
            case "interrupt_request":
                // The same path as the signal Jupyter sends with interrupt_mode "signal".
                pthread_kill(mainThread, SIGINT)
                reply(request, on: control, [("status", .string("ok"))])
            case "shutdown_request":
                shutdown(request, on: control)
            case "kernel_info_request":
                reply(request, on: control, kernelInfo)
            default:
                log("control: no handler for \(request.type)")
            }
            status("idle", request)
        }
    }

    private func shutdown(_ request: WireMessage, on socket: ZMQSocket) {
        let restart = request.content["restart"] == .bool(true)
        reply(request, on: socket, [("status", .string("ok")), ("restart", .bool(restart))])
        log("shutdown requested\(restart ? " (to restart)" : "")")
        requestStop()
        // A cell stuck in C code that never looks at the interrupt must not keep the kernel alive.
        Thread.detachNewThread {
            sleep(5)
            _exit(0)
        }
    }

    // MARK: shell requests

    /// kernel_info_reply's content (made once: the control thread answers it too).
    static func info(_ session: Session) -> [(String, JSONValue)] {
        var language = IPYNB.languageInfo(version: session.state.version.replacingOccurrences(of: "Lua ", with: ""))
        if case .object(var fields) = language {
            fields.set("pygments_lexer", .string("lua"))
            fields.set("codemirror_mode", .string("lua"))
            language = .object(fields)
        }
        return [
            ("status", .string("ok")),
            ("protocol_version", .string(Wire.protocolVersion)),
            ("implementation", .string("lunette")),
            ("implementation_version", .string(LunetteBindings.version)),
            ("language_info", language),
            ("banner", .string(versionLine(session) + "\nhelp() lists the modules; ?name, or Shift-Tab on a name, shows its documentation; Tab completes.")),
            ("help_links", .array([
                .object([("text", .string("Lua 5.4 reference manual")), ("url", .string("https://www.lua.org/manual/5.4/"))]),
                .object([("text", .string("Detectron2 documentation")), ("url", .string("https://detectron2.readthedocs.io/"))]),
            ])),
            ("debugger", .bool(false)),
        ]
    }

    private func handleShell(_ request: WireMessage) {
        status("busy", request)
        defer { status("idle", request) }
        let c = request.content
        switch request.type {
        case "kernel_info_request":
            reply(request, on: shell, kernelInfo)
        case "execute_request":
            execute(request)
        case "complete_request":
            let code = c["code"]?.string ?? ""
            let r = complete(code, cursor: c["cursor_pos"]?.integer.map(Int.init) ?? code.unicodeScalars.count)
            reply(request, on: shell, [("status", .string("ok")), ("matches", .array(r.matches.map { .string($0) })),
                                       ("cursor_start", .int(Int64(r.start))), ("cursor_end", .int(Int64(r.end))),
                                       ("metadata", .object([]))])
        case "inspect_request":
            let code = c["code"]?.string ?? ""
            let text = inspect(code, cursor: c["cursor_pos"]?.integer.map(Int.init) ?? code.unicodeScalars.count)
            reply(request, on: shell, [("status", .string("ok")), ("found", .bool(text != nil)),
                                       ("data", .object(text.map { [("text/plain", .string($0))] } ?? [])), ("metadata", .object([]))])
        case "is_complete_request":
            reply(request, on: shell, isComplete(c["code"]?.string ?? ""))
        case "history_request":
            reply(request, on: shell, [("status", .string("ok")), ("history", .array(historyEntries(c)))])
        case "comm_info_request":
            reply(request, on: shell, [("status", .string("ok")), ("comms", .object([]))])
        case "comm_open":
            // No comm targets: the front end is told the comm is closed.
            publish("comm_close", [("comm_id", c["comm_id"] ?? .string("")), ("data", .object([]))], parent: request)
        case "comm_msg", "comm_close":
            break
        case "shutdown_request":
            shutdown(request, on: shell)
        default:
            log("shell: no handler for \(request.type)")
        }
    }

    private func errorContent(_ f: CellRunner.Failure) -> [(String, JSONValue)] {
        [("ename", .string(f.name)), ("evalue", .string(f.value)), ("traceback", .array(f.traceback.map { .string($0) }))]
    }

    private func execute(_ request: WireMessage) {
        let c = request.content
        guard let code = c["code"]?.string else {
            let f = CellRunner.Failure(name: "ProtocolError", value: "execute_request without \"code\" text", traceback: [])
            reply(request, on: shell, [("status", .string("error")), ("execution_count", .int(Int64(executionCount)))] + errorContent(f))
            return
        }
        let isSilent = c["silent"] == .bool(true)
        let storeHistory = !isSilent && c["store_history"] != .bool(false)
        let stopOnError = c["stop_on_error"] != .bool(false)
        if storeHistory {
            executionCount += 1
            history.append((executionCount, code))
        }
        let count = executionCount
        flush(closing: true)              // anything written between requests belongs to no cell
        outputLock.lock()
        parent = request
        silent = isSilent
        outputLock.unlock()
        running = request
        inputAllowed = c["allow_stdin"] != .bool(false)
        inputBuffer = []                  // what an earlier cell left unread is not this cell's input
        barDisplay = nil
        if !isSilent { publish("execute_input", [("code", .string(code)), ("execution_count", .int(Int64(count)))], parent: request) }

        let sigints = lh_sigint_count()
        stateLock.lock(); executing = true; stateLock.unlock()
        let outcome: CellRunner.Outcome
        let trimmed = code.trimmingSpaces
        if trimmed.hasPrefix("?"), !trimmed.contains("\n") {
            Console.out((inspect(String(trimmed.dropFirst()), cursor: nil) ?? "No documentation for '\(trimmed.dropFirst())'. Try help() for the list of modules.") + "\n")
            outcome = .values([])
        } else {
            outcome = runner.run(code, name: CellRunner.chunkName(number: count))
        }
        stateLock.lock(); executing = false; stateLock.unlock()
        lh_clear_hook(session.L)
        LuaInterrupt.clear()
        flush(closing: true)

        var replyContent: [(String, JSONValue)]
        switch outcome {
        case .values(let values):
            for v in values {
                output("execute_result", [("execution_count", .int(Int64(count)))] + bundle(v), notes: v.noteLines)
            }
            replyContent = [("status", .string("ok")), ("execution_count", .int(Int64(count))),
                            ("user_expressions", userExpressions(c["user_expressions"])), ("payload", .array([]))]
        case .failed(var f):
            if lh_sigint_count() != sigints { f.name = "KeyboardInterrupt" }
            output("error", errorContent(f))
            replyContent = [("status", .string("error")), ("execution_count", .int(Int64(count)))] + errorContent(f)
        }
        flush(closing: true)
        outputLock.lock()
        parent = nil
        silent = false
        outputLock.unlock()
        running = nil
        let failed = replyContent.value("status") == .string("error")
        reply(request, on: shell, replyContent, metadata: .object([("status", replyContent.value("status")!)]))
        if failed && stopOnError { abortQueued() }
    }

    /// After an error, requests already queued behind the failed cell are answered "aborted"
    /// (as ipykernel does): Run All stops at the first error.
    /// Other requests (a shutdown, a completion) are served as usual.
    private func abortQueued() {
        while let request = nextMessage(shell, channel: "shell", seen: &shellSeen, timeoutMS: 0) {
            guard request.type == "execute_request" else { handleShell(request); continue }
            status("busy", request)
            reply(request, on: shell, [("status", .string("aborted")), ("execution_count", .int(Int64(executionCount)))],
                  metadata: .object([("status", .string("aborted"))]))
            status("idle", request)
        }
    }

    /// Each user expression's value as a MIME bundle, or its error.
    private func userExpressions(_ expressions: JSONValue?) -> JSONValue {
        guard case .object(let pairs)? = expressions else { return .object([]) }
        let L = session.L
        var out: [(String, JSONValue)] = []
        for (name, value) in pairs {
            let source = value.string ?? ""
            let top = lua_gettop(L)
            defer { lua_settop(L, top) }
            if session.state.pushLoaded("return " + source, name: "=[user expression]") == LUA_OK, lh_docall(L, 0, 1, 1) == LUA_OK {
                out.append((name, .object([("status", .string("ok"))] + bundle(LunetteBindings.richValue(session.state, at: -1)))))
            } else {
                var len = 0
                let text = lh_tostring(L, -1, &len).map { String(cString: $0) } ?? "error"
                out.append((name, .object([("status", .string("error"))] + errorContent(CellRunner.failure(text)))))
            }
        }
        return .object(out)
    }

    // MARK: completion, help, completeness, history

    static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
        c == "_" || (c.isASCII && (CharacterSet.alphanumerics.contains(c)))
    }

    /// Completions at the cursor (in Unicode scalars, as protocol 5.2+ counts it): the word
    /// before the cursor (a dotted name, a method after ':', a `?name`, a dataset's name inside
    /// DatasetCatalog.get("...")); the matches are the last part of each name, and
    /// cursor_start..cursor_end is the part they replace.
    func complete(_ code: String, cursor: Int) -> (matches: [String], start: Int, end: Int) {
        let scalars = Array(code.unicodeScalars)
        let pos = max(0, min(cursor, scalars.count))
        var start = pos
        while start > 0, Self.isNameCharacter(scalars[start - 1]) || scalars[start - 1] == "." || scalars[start - 1] == ":" { start -= 1 }
        if start > 0, scalars[start - 1] == "?", start == 1 || CharacterSet.whitespacesAndNewlines.contains(scalars[start - 2]) { start -= 1 }
        var end = pos
        while end < scalars.count, Self.isNameCharacter(scalars[end]) { end += 1 }
        let word = String(String.UnicodeScalarView(scalars[start..<pos]))
        var lineStart = start
        while lineStart > 0, scalars[lineStart - 1] != "\n" { lineStart -= 1 }
        let before = String(String.UnicodeScalarView(scalars[lineStart..<start]))
        let candidates = Completion.candidates(for: word, before: before, in: session.state)
        // The matches replace what follows the last '.', ':' or '?' of the word.
        let wordScalars = Array(word.unicodeScalars)
        var keep = wordScalars.count
        while keep > 0, wordScalars[keep - 1] != ".", wordScalars[keep - 1] != ":", wordScalars[keep - 1] != "?" { keep -= 1 }
        let prefix = String(String.UnicodeScalarView(wordScalars[..<keep]))
        let matches = candidates.compactMap { $0.hasPrefix(prefix) ? String($0.unicodeScalars.dropFirst(keep).map(Character.init)) : nil }
        return (matches, start + keep, end)
    }

    /// The name at the cursor ("d2.engine.DefaultPredictor", "t:size"), or nil.
    static func name(in code: String, cursor: Int?) -> String? {
        let scalars = Array(code.unicodeScalars)
        let pos = max(0, min(cursor ?? scalars.count, scalars.count))
        let inName: (Unicode.Scalar) -> Bool = { isNameCharacter($0) || $0 == "." || $0 == ":" }
        var start = pos, end = pos
        while start > 0, inName(scalars[start - 1]) { start -= 1 }
        while end < scalars.count, inName(scalars[end]) { end += 1 }
        var name = String(String.UnicodeScalarView(scalars[start..<end]))
        while let last = name.last, last == "." || last == ":" { name.removeLast() }
        while let first = name.first, first == "." || first == ":" { name.removeFirst() }
        let parts = name.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "." || $0 == ":" })
        guard !parts.isEmpty, parts.allSatisfy({ p in
            guard let f = p.unicodeScalars.first, !CharacterSet.decimalDigits.contains(f) else { return false }
            return p.unicodeScalars.allSatisfy(isNameCharacter)
        }) else { return nil }
        return name
    }

    /// The help text of the name at the cursor, as the REPL's `?name` shows it; nil when there
    /// is no name there or nothing documents it. Only a dotted name is evaluated (an __index
    /// metamethod may run; an interrupt stops it as it stops a cell).
    func inspect(_ code: String, cursor: Int?) -> String? {
        guard let name = Self.name(in: code, cursor: cursor) else { return nil }
        let state = session.state
        let L = state.L
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        let expression = name.replacingOccurrences(of: ":", with: ".")
        if state.pushLoaded("return " + expression, name: "=(inspect)") != LUA_OK || lh_docall(L, 0, 1, 1) != LUA_OK {
            lua_settop(L, top)
            lua_pushnil(L)
        }
        let text = state.helpText(at: -1, name: name)
        return text.hasPrefix("No documentation") ? nil : text
    }

    func isComplete(_ code: String) -> [(String, JSONValue)] {
        let state = session.state
        let verdict = CellRunner.completeness(of: code) { candidate in
            let status = state.pushLoaded(candidate, name: "=(is_complete)")
            var len = 0
            let message = status == LUA_OK ? "" : lh_tostring(state.L, -1, &len).map { String(cString: $0) } ?? ""
            lh_pop(state.L, 1)
            return (status == LUA_OK, message)
        }
        switch verdict {
        case .complete: return [("status", .string("complete"))]
        case .invalid: return [("status", .string("invalid"))]
        case .incomplete: return [("status", .string("incomplete")), ("indent", .string(Self.indent(after: code)))]
        }
    }

    /// The indent for the next line of an unfinished entry: the last line's, two spaces more
    /// when that line opens a block.
    static func indent(after code: String) -> String {
        let lines = code.split(separator: "\n", omittingEmptySubsequences: false)
        guard let last = lines.last(where: { !$0.allSatisfy(\.isWhitespace) }) else { return "" }
        let current = String(last.prefix(while: { $0 == " " || $0 == "\t" }))
        var lexer = LuaLexer(Array(last.utf8))
        let words = lexer.tokens().map(\.word)
        var depth = 0
        for w in words {
            switch w {
            case "do", "then", "repeat", "function", "{", "(": depth += 1
            case "end", "until", "}", ")": depth -= 1
            default: break
            }
        }
        if words.first == "else" { depth += 1 }       // its branch opens below it
        return current + (depth > 0 ? "  " : "")
    }

    /// history_request: this kernel's inputs, as `tail` (the last n), `range` (lines start..<stop)
    /// or `search` (a glob pattern); sessions are numbered 0 (this one).
    private func historyEntries(_ c: JSONValue) -> [JSONValue] {
        var entries = history
        switch c["hist_access_type"]?.string ?? "tail" {
        case "range":
            let start = Int(c["start"]?.integer ?? 0), stop = c["stop"]?.integer.map(Int.init)
            entries = entries.filter { $0.line >= start && (stop == nil || $0.line < stop!) }
        case "search":
            let pattern = c["pattern"]?.string ?? "*"
            entries = entries.filter { fnmatch(pattern, $0.input, 0) == 0 }
            if c["unique"] == .bool(true) {
                var seenInputs = Set<String>()
                entries = entries.reversed().filter { seenInputs.insert($0.input).inserted }.reversed()
            }
            if let n = c["n"]?.integer { entries = Array(entries.suffix(Int(max(0, n)))) }
        default:
            if let n = c["n"]?.integer { entries = Array(entries.suffix(Int(max(0, n)))) }
        }
        // With `output`, each entry's third item is [input, output]; outputs are not kept (null).
        let withOutput = c["output"] == .bool(true)
        return entries.map { .array([.int(0), .int(Int64($0.line)), withOutput ? .array([.string($0.input), .null]) : .string($0.input)]) }
    }

    // MARK: input

    /// io.read and io.lines() without a file ask the front end (input_request on the stdin
    /// channel) when the running request allows it; io.stdin itself is the process's stdin.
    private func installInput() {
        let state = session.state
        let L = state.L
        lua_getglobal(L, "io")
        _ = state.pushFunction("io.read", [LuaParameter("formats", .any, optional: true)],
                               doc: "io.read(...): in a Jupyter kernel, reads from the notebook: each format (\"l\" a line, \"L\" a line with its newline, \"n\" a number, \"a\" the next reply, or a count of bytes) asks the front end for a line of input when none is left. A front end that takes no input (allow_stdin false, as nbconvert and papermill run notebooks) makes it an error.") { [unowned self] call in
            var results: Int32 = 0
            let formats: [LuaValue] = call.count == 0 ? [.string("l")] : try (1...call.count).map { try call.value($0) }
            for format in formats {
                guard let value = try readFormat(format) else { lua_pushnil(call.L); return results + 1 }
                switch value {
                case .text(let bytes): _ = call.push(bytes: bytes)
                case .number(let text):
                    // Lua's own reading of a numeral (hex, exponents, integers kept integers)
                    if lua_stringtonumber(call.L, text) == 0 { lua_pushnil(call.L); return results + 1 }
                }
                results += 1
            }
            return results
        }
        lua_setfield(L, -2, "read")
        lh_pop(L, 1)
        _ = try? state.evaluate("""
            local read, lines = io.read, io.lines
            io.lines = function(file, ...)
              if file == nil then return function() return read("l") end end
              return lines(file, ...)
            end
            """, name: "=(kernel)")
    }

    private enum ReadValue { case text([UInt8]), number(String) }

    private func readFormat(_ format: LuaValue) throws -> ReadValue? {
        switch format {
        case .integer(let n):
            if n <= 0 { return .text([]) }
            if inputBuffer.isEmpty { try requestInput() }
            let k = min(Int(n), inputBuffer.count)
            defer { inputBuffer.removeFirst(k) }
            return .text(Array(inputBuffer[..<k]))
        case .string(var f):
            if f.hasPrefix("*") { f.removeFirst() }
            switch f.first {
            case "l", "L":
                if !inputBuffer.contains(10) { try requestInput() }
                let nl = inputBuffer.firstIndex(of: 10) ?? inputBuffer.count
                let line = Array(inputBuffer[..<nl])
                inputBuffer.removeFirst(min(nl + 1, inputBuffer.count))
                return .text(f.first == "L" ? line + [10] : line)
            case "n":
                if !inputBuffer.contains(10) { try requestInput() }
                let nl = inputBuffer.firstIndex(of: 10) ?? inputBuffer.count
                let line = String(decoding: inputBuffer[..<nl], as: UTF8.self).trimmingSpaces
                inputBuffer.removeFirst(min(nl + 1, inputBuffer.count))
                return .number(line)
            case "a":
                if inputBuffer.isEmpty { try requestInput() }
                defer { inputBuffer.removeAll() }
                return .text(inputBuffer)
            default:
                throw LuaError.message("bad argument to 'read' (invalid format \"\(f)\")")
            }
        default:
            throw LuaError.message("bad argument to 'read' (invalid format)")
        }
    }

    /// Asks the front end of the running request for a line; it joins the buffer with a newline.
    private func requestInput() throws {
        guard let request = running, inputAllowed else {
            throw LuaError.message("this front end takes no input (its execute_request says allow_stdin false); give values as notebook parameters instead")
        }
        flush(closing: false)
        let ask = message("input_request", .object([("prompt", .string("")), ("password", .bool(false))]), parent: request,
                          identities: request.identities)
        send(ask, on: stdinSocket)
        var seen = SignatureHistory()
        while true {
            if LuaInterrupt.isRequested || isStopping { throw LuaError.message("interrupted!") }
            guard let frames = try? stdinSocket.receive(timeoutMS: 100) else { continue }
            guard let m = accept(frames, channel: "stdin", seen: &seen) else { continue }
            guard m.type == "input_reply" else { log("stdin: \(m.type) ignored while waiting for input_reply"); continue }
            // A reply to an earlier request (one interrupted while it waited) is not this one's.
            if let answered = m.parentHeader["msg_id"]?.string, answered != ask.id {
                log("stdin: an input_reply to \(answered) dropped (waiting for \(ask.id))")
                continue
            }
            let value = m.content["value"]?.string ?? ""
            inputBuffer += Array(value.utf8) + [10]
            return
        }
    }
}
