import Crypto
import Foundation

/// The hex SHA-256 of a document: two versions with the same hash have the same content.
enum ContentHash {
    static func of(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
