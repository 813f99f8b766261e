import Foundation
import GRDB

/// A store's error: what failed and which file.
public struct StoreError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The one way Lunette opens a SQLite file (through GRDB): WAL, so readers never block the
/// writer and several processes share it; a 30-second busy timeout; a `meta` table with the
/// layout number, and a file written by a newer Lunette (a larger layout) refused; every change
/// one IMMEDIATE transaction (the write lock is taken at BEGIN, so two processes never both read
/// a row as free and both take it). `what` names the file in errors ("grid search store").
public final class SQLiteFile: @unchecked Sendable {
    public let path: String
    public let what: String
    let pool: DatabasePool

    public init(path: String, what: String, layout: Int, version: String, schema: String, newerHint: String) throws {
        self.path = path
        self.what = what
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.label = what
        do { pool = try DatabasePool(path: path, configuration: config) } catch {
            throw StoreError("\(what) \(path) cannot be opened: \(Self.describe(error))")
        }
        try write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);" + schema)
            let stored = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'schema'").flatMap(Int.init)
            if let stored, stored > layout {
                let by = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'written_by'") ?? "a newer Lunette"
                throw StoreError("\(what) \(path) was written by Lunette \(by) (store layout \(stored)); this Lunette \(version) reads layout \(layout) and older: open it with that Lunette or \(newerHint)")
            }
            if stored == nil {
                try db.execute(sql: "INSERT OR REPLACE INTO meta VALUES ('schema', ?), ('written_by', ?)", arguments: [String(layout), version])
            }
            if let kind = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'kind'") {
                if kind != what { throw StoreError("\(path) is a \(kind), not a \(what): give the right file") }
            } else {
                try db.execute(sql: "INSERT INTO meta VALUES ('kind', ?)", arguments: [what])
            }
        }
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? DatabaseError { return e.message ?? "\(e.resultCode)" }
        return "\(error)"
    }

    /// One IMMEDIATE transaction.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let e as DatabaseError {
            throw StoreError("\(what) \(path): \(Self.describe(e))")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch let e as DatabaseError {
            throw StoreError("\(what) \(path): \(Self.describe(e))")
        }
    }

    public func meta(_ key: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    public func setMeta(_ key: String, _ value: String) throws {
        try write { db in try db.execute(sql: "INSERT OR REPLACE INTO meta VALUES (?, ?)", arguments: [key, value]) }
    }
}

/// A process that holds a store's work (a grid-search run, a bulk-detection store): its host
/// and pid. A dead holder on this host is noticed at once (its pid is gone); one on another
/// host when its heartbeat is older than a grace period.
public struct Holder: Sendable, Equatable {
    public var host: String
    public var pid: Int
    public var name: String { "\(host):\(pid)" }
    public init(host: String, pid: Int) {
        self.host = host
        self.pid = pid
    }

    /// This process.
    public static var current: Holder {
        var buffer = [UInt8](repeating: 0, count: 256)
        _ = buffer.withUnsafeMutableBufferPointer { p in p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: 255) { gethostname($0, 255) } }
        return Holder(host: String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self), pid: Int(getpid()))
    }

    /// Whether the holder recorded as (host, pid, heartbeat) is gone, as this process sees it: a
    /// pid gone from this host, or a heartbeat older than `grace`.
    public func considersGone(host: String?, pid: Int?, heartbeat: Double?, now: Double, grace: Double) -> Bool {
        if host == self.host, let pid {
            if pid == self.pid { return true }   // this process: an earlier call that ended without releasing it
            if kill(pid_t(pid), 0) != 0 && errno == ESRCH { return true }
        }
        // Another host, or a pid that is alive but silent (reused after a reboot): the heartbeat decides.
        return now - (heartbeat ?? 0) > grace
    }
}
