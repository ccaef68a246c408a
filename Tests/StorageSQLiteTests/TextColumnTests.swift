import Testing

@testable import StorageKit

@Suite("The funnel scan's text columns")
struct TextColumnTests {
    @Test("rows come back as they were appended, NULL and empty ones told apart")
    func roundTrip() {
        let rows: [String?] = [nil, "ab", nil, "", "cde", nil, "f"]
        var column = TextColumn(rows: 2, bytesPerRow: 1)  // grows past what it reserved
        for row in rows {
            if let row {
                Array(row.utf8).withUnsafeBufferPointer { column.append($0) }
            } else {
                column.append(nil)
            }
        }
        var read: [String?] = []
        var numbers: [Int] = []
        column.withEachText { number, text in
            numbers.append(number)
            read.append(text.map { String(decoding: $0, as: UTF8.self) })
        }
        #expect(read == rows)
        #expect(numbers == Array(rows.indices))
    }
}
