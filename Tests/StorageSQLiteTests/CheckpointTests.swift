import Domain
import Foundation
import Testing

@testable import StorageSQLite

@Suite("SQLite's WAL copied into the database file beside the writer")
struct CheckpointTests {
    /// A migrated database in `folder` whose writer never checkpoints by itself.
    private func storage(
        in folder: TemporaryFolder,
        checkpointEvery interval: Duration?,
        restartingAt pages: Int? = nil
    ) async throws -> SQLiteStorage {
        let storage = try SQLiteStorage(
            configuration: SQLiteConfiguration(
                path: folder.databasePath,
                walAutocheckpointPages: 1_000_000,
                backgroundCheckpointInterval: interval,
                walRestartPages: pages
            )
        )
        try await storage.migrate()
        return storage
    }

    /// Writes 3,000 leads of about 500 bytes, with the writer's own checkpoint out of reach, and returns the size of
    /// the database file once the leads are in it (or after 5 s).
    private func mainFileSize(checkpointEvery interval: Duration?) async throws -> Int {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let storage = try await storage(in: folder, checkpointEvery: interval)
        let padding = String(repeating: "x", count: 400)
        for part in 0..<3 {
            try await storage.unitOfWork { stores in
                for index in 0..<1_000 {
                    let upsert = LeadUpsert(
                        email: EmailAddress("lead\(part)-\(index)@example.com"),
                        externalID: nil,
                        attributes: ["notes": .string(padding)]
                    )!
                    _ = try await stores.leads.upsert(upsert, at: Date())
                }
            }
        }
        // Until the pages are there, or (without background checkpoints) for half a second.
        var size = 0
        for round in 0..<50 {
            try await Task.sleep(for: .milliseconds(100))
            size = try FileManager.default.attributesOfItem(atPath: folder.databasePath)[.size] as? Int ?? 0
            if size > 1_000_000 || (interval == nil && round >= 4) { break }
        }
        await storage.close()
        return size
    }

    @Test("with background checkpoints, committed pages reach the database file while the writer never checkpoints")
    func copied() async throws {
        let without = try await mainFileSize(checkpointEvery: nil)
        let with = try await mainFileSize(checkpointEvery: .milliseconds(20))
        // 3,000 leads of ~500 bytes: about 1.5 MB, which stays in the WAL unless something checkpoints it.
        #expect(without < 500_000)
        #expect(with > 1_000_000)
    }

    /// Writes `units` units of work back to back (one lead of about 500 bytes each), with the writer's own
    /// checkpoint out of reach and background passes every 5 ms, and returns the largest size the WAL file reached.
    private func largestWAL(units: Int, restartingAt pages: Int?) async throws -> Int {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let storage = try await storage(in: folder, checkpointEvery: .milliseconds(5), restartingAt: pages)
        let padding = String(repeating: "x", count: 400)
        var largest = 0
        for index in 0..<units {
            try await storage.unitOfWork { stores in
                let upsert = LeadUpsert(
                    email: EmailAddress("lead\(index)@example.com"),
                    externalID: nil,
                    attributes: ["notes": .string(padding)]
                )!
                _ = try await stores.leads.upsert(upsert, at: Date())
            }
            if index % 50 == 0 {
                let size = try FileManager.default.attributesOfItem(atPath: folder.databasePath + "-wal")[.size] as? Int
                largest = max(largest, size ?? 0)
            }
        }
        await storage.close()
        return largest
    }

    @Test("under writes that never pause, the WAL starts over once it holds the restart's pages")
    func walStartsOver() async throws {
        // 1,500 units of about ten pages each: some 70 MB of WAL when it never starts over (passes beside a writer
        // that never pauses never catch up), a few MB when it does (more when the machine is busy: the passes then
        // fall behind for a while).
        let restarting = try await largestWAL(units: 1_500, restartingAt: 100)
        let never = try await largestWAL(units: 1_500, restartingAt: nil)
        #expect(restarting > 0)
        #expect(never > 4 * restarting, "without restarts the WAL reached \(never) bytes, with them \(restarting)")
    }

    @Test("a chain of passes hands the last pages to the writer once few arrive during a pass")
    func restartSteps() {
        let restart = WALRestart(startingAt: 6_000, fewPages: 100, maximumPasses: 5)
        // The round's first pass: the WAL is small, or large enough to chain.
        #expect(restart.step(frames: 5_999, previous: nil, passes: 1) == .wait)
        #expect(restart.step(frames: 6_000, previous: nil, passes: 1) == .passAgain)
        // 2,000 pages arrived during the pass before: again; 100 or fewer: the writer finishes.
        #expect(restart.step(frames: 8_000, previous: 6_000, passes: 2) == .passAgain)
        #expect(restart.step(frames: 8_100, previous: 8_000, passes: 3) == .handToWriter)
        #expect(restart.step(frames: 8_000, previous: 8_000, passes: 3) == .handToWriter)
        // Fewer pages than the pass before found: the WAL started over meanwhile.
        #expect(restart.step(frames: 50, previous: 8_000, passes: 3) == .wait)
        // Writes faster than the passes copy: the chain ends after the most passes.
        #expect(restart.step(frames: 20_000, previous: 10_000, passes: 4) == .passAgain)
        #expect(restart.step(frames: 30_000, previous: 20_000, passes: 5) == .wait)
    }
}
