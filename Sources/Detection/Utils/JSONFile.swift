import Foundation
import Support

extension JSON {
    /// A JSON file; an unreadable file or bad JSON is a DataError naming the path.
    public static func parseFile(_ path: String) throws -> JSONValue {
        let data: Data
        do { data = try InputFile.data(path) } catch let e as FileError { throw DataError(e.message) }
        do { return try parse([UInt8](data)) } catch let e as JSONError { throw DataError("\(path): not valid JSON: \(e.message)") }
    }
}
