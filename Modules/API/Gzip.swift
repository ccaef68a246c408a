import CZlib

/// Inflating request bodies that clients sent gzip-compressed (Segment's and RudderStack's libraries do).
enum Gzip {
    enum Failure: Error, Equatable {
        /// The inflated body would be larger than the limit.
        case tooLarge
        /// Not gzip (or zlib) data, or truncated.
        case corrupt
    }

    /// The inflated bytes, refusing to inflate past `limit` bytes (a small body may inflate to gigabytes).
    static func inflate(_ compressed: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard calor_inflate_init(&stream) == Z_OK else { throw .corrupt }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = compressed
        enum Outcome { case done, tooLarge, corrupt }
        let outcome: Outcome = input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = UInt32(inputBuffer.count)
            while true {
                let result: Int32 = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = UInt32(chunkBuffer.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                guard output.count + produced <= limit else { return .tooLarge }
                output.append(contentsOf: chunk[0..<produced])
                switch result {
                case Z_STREAM_END: return .done
                // Z_BUF_ERROR with input left means the output chunk was full: go on.
                case Z_OK: continue
                case Z_BUF_ERROR where stream.avail_in > 0: continue
                default: return .corrupt
                }
            }
        }
        switch outcome {
        case .done: return output
        case .tooLarge: throw .tooLarge
        case .corrupt: throw .corrupt
        }
    }
}
