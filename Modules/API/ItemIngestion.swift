import Core
import Foundation

extension GroupCommit {
    /// Ingests the items that were read well and answers every item, in order: those that could not be read with
    /// their own rejection, the others with Core's outcome, whose rejected fields are placed under the item's pointer
    /// (`/batch/3` and `/timestamp` make `/batch/3/timestamp`). Counts the outcomes in the metrics.
    func ingest(
        _ items: [(pointer: String, item: Result<IngestItem, IngestRejection>)],
        metrics: CalorMetrics,
        receivedAt: Date? = nil
    ) async throws -> [IngestOutcome] {
        var stored = try await ingest(items.compactMap { try? $0.item.get() }, receivedAt: receivedAt).makeIterator()
        let outcomes = items.map { pointer, item -> IngestOutcome in
            switch item {
            case .failure(let rejection): return .rejected(rejection)
            case .success:
                let outcome = stored.next()!
                guard case .rejected(var rejection) = outcome else { return outcome }
                rejection.fields = rejection.fields.map {
                    FieldProblem(pointer: pointer + $0.pointer, detail: $0.detail)
                }
                return .rejected(rejection)
            }
        }
        metrics.events(outcomes)
        return outcomes
    }
}
