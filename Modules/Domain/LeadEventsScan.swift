/// Every lead with its events, fetched a batch at a time as it is iterated.
///
/// The next batch is read only when the previous one has been consumed, so memory holds one batch whatever the
/// number of leads. Adapters make one from a closure that reads the batch after a given lead id.
public struct LeadEventsScan: AsyncSequence, Sendable {
    public typealias Element = LeadWithEvents

    /// Reads the leads (with their events) that come after the given lead id in id order; an empty array ends
    /// the scan.
    public typealias FetchBatch = @Sendable (_ after: Lead.ID?) async throws -> [LeadWithEvents]

    private let fetchBatch: FetchBatch

    public init(fetchBatch: @escaping FetchBatch) {
        self.fetchBatch = fetchBatch
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(fetchBatch: fetchBatch)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let fetchBatch: FetchBatch
        var buffer: [LeadWithEvents] = []
        var index = 0
        var last: Lead.ID?
        var finished = false

        public mutating func next() async throws -> LeadWithEvents? {
            if index == buffer.count {
                guard !finished else { return nil }
                buffer = try await fetchBatch(last)
                index = 0
                guard let tail = buffer.last else {
                    finished = true
                    return nil
                }
                last = tail.lead.id
            }
            defer { index += 1 }
            return buffer[index]
        }
    }
}
