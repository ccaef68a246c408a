import Core
import Domain
import Foundation
import Testing

@Suite("calor outcomes import: what leads went on to do, at its time")
struct OutcomeImportTests {
    func write(_ text: String, in world: World) throws -> String {
        let path = world.folder.appendingPathComponent("outcomes-\(UUID().uuidString).csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("moves at their time with reason import; further along the path they become current; again: no change")
    func importsOutcomes() async throws {
        let world = try await World()
        _ = try await world.administration.apply(incrementalCriteria, author: "t", comment: nil, at: World.now)
        let ana = try await world.lead("ana@out.example")
        let bo = try await world.lead("bo@out.example")
        // Bo was moved back by hand after the date of the imported deal: the person's decision stands.
        _ = try await StageMoves(storage: world.storage, cache: CriteriaCache())
            .move(bo.id, to: Stage("sql"), note: nil, value: nil, actor: "rep", at: World.now)
        let path = try write(
            """
            email,stage,at,value
            ana@out.example,opportunity,2026-09-01,
            ana@out.example,customer,2026-10-01T12:00:00Z,12000
            bo@out.example,customer,2026-10-02,500
            cy@out.example,customer,2026-10-03,
            ana@out.example,champion,2026-10-04,
            ana@out.example,customer,someday,

            """,
            in: world
        )
        let summary = try await OutcomeImport(storage: world.storage).run(path: path)
        #expect(summary.rows == 6 && summary.imported == 3)
        #expect(summary.problems.map(\.line) == [5, 6, 7])
        #expect(summary.problems.first?.message == "no lead has the email cy@out.example")
        let history = try await world.storage.stages.history(of: ana.id)
        #expect(history.map(\.to) == [Stage("opportunity"), Stage("customer")])
        #expect(history.map(\.reason) == [.imported, .imported])
        #expect(history.last?.at == WireFormat.parseTime("2026-10-01T12:00:00Z"))
        #expect(history.last?.value == 12000)
        #expect(history.last?.from == Stage("opportunity"))
        #expect(try await world.storage.leads.find(ana.id)?.stage == Stage("customer"))
        #expect(try await world.storage.leads.find(bo.id)?.stage == Stage("sql"), "a later manual move stands")
        #expect(try await world.storage.stages.history(of: bo.id).count == 2)

        let again = try await OutcomeImport(storage: world.storage).run(path: path)
        #expect(again.imported == 3)
        #expect(try await world.storage.stages.history(of: ana.id) == history, "importing again changes nothing")
        await world.close()
    }
}
