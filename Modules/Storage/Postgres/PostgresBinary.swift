import CLibPQ
import Domain
import Foundation
import StorageKit

/// PostgreSQL's binary wire formats for the types Calor uses.
enum PostgresBinary {
    enum OID {
        static let bool: Oid = 16
        static let bytea: Oid = 17
        static let name: Oid = 19
        static let int8: Oid = 20
        static let int2: Oid = 21
        static let int4: Oid = 23
        static let text: Oid = 25
        static let json: Oid = 114
        static let float4: Oid = 700
        static let float8: Oid = 701
        static let bpchar: Oid = 1042
        static let varchar: Oid = 1043
        static let date: Oid = 1082
        static let timestamp: Oid = 1114
        static let timestamptz: Oid = 1184
        static let numeric: Oid = 1700
        static let uuid: Oid = 2950
        static let jsonb: Oid = 3802
    }

    /// Microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01.
    static let epochOffset: Int64 = 946_684_800_000_000

    /// The parameters of one statement, encoded into one buffer.
    struct Parameters {
        private var bytes: [UInt8] = []
        private var offsets: [Int] = []
        private var lengths: [Int32] = []
        /// Each parameter's type (0 for NULL: PostgreSQL infers it).
        private(set) var types: [Oid] = []
        private var formats: [Int32] = []

        init(count: Int) {
            offsets.reserveCapacity(count)
            lengths.reserveCapacity(count)
            types.reserveCapacity(count)
            formats.reserveCapacity(count)
            bytes.reserveCapacity(count * 16)
        }

        mutating func append(_ value: SQLValue) {
            // Written straight into the one buffer: a statement of 500 rows binds thousands of values.
            switch value {
            case .null:
                types.append(0)
                formats.append(1)
                offsets.append(-1)
                lengths.append(0)
            case .integer(let value):
                add(type: OID.int8, bigEndian: UInt64(bitPattern: value))
            case .real(let value):
                add(type: OID.float8, bigEndian: value.bitPattern)
            case .text(let value):
                add(type: OID.text) { $0.append(contentsOf: value.utf8) }
            case .bytes(let value):
                add(type: OID.bytea) { $0.append(contentsOf: value) }
            case .uuid(let value):
                add(type: OID.uuid) { bytes in withUnsafeBytes(of: value.uuid) { bytes.append(contentsOf: $0) } }
            case .timestamp(let value):
                add(type: OID.timestamptz, bigEndian: UInt64(bitPattern: value.microsecondsSince1970 - epochOffset))
            case .json(let value):
                // Binary jsonb: a version byte (1), then the text.
                add(type: OID.jsonb) { bytes in
                    bytes.append(1)
                    bytes.append(contentsOf: value.utf8)
                }
            case .bool(let value):
                add(type: OID.bool) { $0.append(value ? 1 : 0) }
            case .day(let value):
                add(type: OID.date, format: 0) { bytes in
                    bytes.append(contentsOf: value.utf8)
                    bytes.append(0)
                }
            case .decimal(let value):
                add(type: OID.numeric, format: 0) { bytes in
                    bytes.append(contentsOf: value.utf8)
                    bytes.append(0)
                }
            }
        }

        private mutating func add(type: Oid, bigEndian value: UInt64) {
            add(type: type) { bytes in withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
        }

        /// A value of `type` whose bytes `write` appends.
        private mutating func add(type: Oid, format: Int32 = 1, _ write: (inout [UInt8]) -> Void) {
            types.append(type)
            formats.append(format)
            let start = bytes.count
            offsets.append(start)
            write(&bytes)
            lengths.append(Int32(bytes.count - start))
        }

        /// Calls `body` with the arrays `PQexecParams` takes; the pointers are valid only inside it.
        func withPointers<R>(
            _ body: (
                UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?
            ) -> R
        ) -> R {
            bytes.withUnsafeBufferPointer { buffer in
                let base = UnsafeRawPointer(buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                let values: [UnsafePointer<CChar>?] = offsets.map { offset in
                    offset < 0 ? nil : (base + offset).assumingMemoryBound(to: CChar.self)
                }
                return types.withUnsafeBufferPointer { types in
                    values.withUnsafeBufferPointer { values in
                        lengths.withUnsafeBufferPointer { lengths in
                            formats.withUnsafeBufferPointer { formats in
                                body(types.baseAddress, values.baseAddress, lengths.baseAddress, formats.baseAddress)
                            }
                        }
                    }
                }
            }
        }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, type: Oid) throws -> SQLValue {
        func integer() -> Int64 {
            var value: Int64 = 0
            for byte in bytes { value = value << 8 | Int64(byte) }
            // Sign-extend 2- and 4-byte integers.
            let shift = 64 - 8 * bytes.count
            return shift > 0 ? (value << shift) >> shift : value
        }
        switch type {
        case OID.bool:
            return .bool(bytes.first == 1)
        case OID.int2, OID.int4, OID.int8:
            return .integer(integer())
        case OID.float8:
            return .real(Double(bitPattern: UInt64(bitPattern: integer())))
        case OID.float4:
            return .real(Double(Float(bitPattern: UInt32(truncatingIfNeeded: integer()))))
        case OID.uuid:
            guard let uuid = UUID(bytes: bytes) else {
                throw StoreError.schema("a uuid column holds \(bytes.count) bytes")
            }
            return .uuid(uuid)
        case OID.timestamptz, OID.timestamp:
            return .timestamp(Date(microsecondsSince1970: integer() + epochOffset))
        case OID.jsonb:
            return .json(String(decoding: bytes.dropFirst(), as: UTF8.self))
        case OID.json:
            return .json(String(decoding: bytes, as: UTF8.self))
        case OID.bytea:
            return .bytes(Array(bytes))
        case OID.text, OID.varchar, OID.name, OID.bpchar:
            return .text(String(decoding: bytes, as: UTF8.self))
        default:
            throw StoreError.schema("a result column has PostgreSQL type \(type), which Calor does not read")
        }
    }
}
