import Foundation
import Testing

@Suite("calor CLI, as a process")
struct CLIProcessTests {
    @Test("init creates and migrates the database; migrate then has nothing to do")
    func initAndMigrate() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = scratch.path("admin.sqlite")
        let initialise = try RunningProcess("calor", ["--database", database, "init"])
        #expect(try await initialise.exitCode() == 0)
        #expect(initialise.text.contains("applied 0001_initial"))
        let migrate = try RunningProcess("calor", ["migrate"], environment: ["CALOR_DATABASE_URL": database])
        #expect(try await migrate.exitCode() == 0)
        #expect(migrate.text.contains("already up to date"))
        let status = try RunningProcess("calor", ["migrate", "--status", "--database", database])
        #expect(try await status.exitCode() == 0)
        #expect(status.text.contains("applied  0001_initial"))
    }

    @Test("a bad database URL, an unreachable server, a wrong password: one line, exit 1, no password")
    func connectionFailures() async throws {
        let cases = [
            ("mysql://root:hunter2@db/calor", "unsupported database URL scheme 'mysql'"),
            ("postgresql://calor:hunter2@127.0.0.1:1/calor?connect_timeout=3", "cannot connect to PostgreSQL at"),
            ("postgresql://calor:hunter2@db/calor?no_such_option=1", "invalid PostgreSQL connection string"),
        ]
        var all = cases
        if let base = ProcessInfo.processInfo.environment["CALOR_TEST_POSTGRES_URL"],
            let password = base.split(separator: " ").first(where: { $0.hasPrefix("password=") })
        {
            all.append(
                (base.replacingOccurrences(of: password, with: "password=hunter2"), "password authentication failed")
            )
        }
        for (url, expected) in all {
            let process = try RunningProcess("calor", ["migrate", "--database", url])
            #expect(try await process.exitCode() == 1, "\(url)")
            let text = process.text
            #expect(text.split(separator: "\n").count == 1, "one line: \(text)")
            #expect(text.contains(expected), "\(text)")
            #expect(!text.contains("hunter2"), "\(text)")
        }
    }

    @Test("a read-only database file: one line naming it, exit 1")
    func readOnlyFile() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = scratch.path("readonly.sqlite")
        let initialise = try RunningProcess("calor", ["--database", database, "init"])
        #expect(try await initialise.exitCode() == 0)
        // Leave no WAL behind, then make the file and its folder read-only. Root ignores file permissions, so as
        // root the command runs as `nobody`.
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: database)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: scratch.url.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: scratch.url.path) }
        let asUser = getuid() == 0 ? "65534" : nil  // nobody
        let migrate = try RunningProcess("calor", ["migrate", "--database", database], user: asUser)
        #expect(try await migrate.exitCode() == 1)
        let text = migrate.text
        #expect(text.split(separator: "\n").count == 1, "one line: \(text)")
        #expect(text.contains(database), "\(text)")
        #expect(text.contains("read") || text.contains("open"), "\(text)")
    }

    @Test("usage errors exit with 2, help with 0")
    func exitCodes() async throws {
        let unknown = try RunningProcess("calor", ["no-such-command"])
        #expect(try await unknown.exitCode() == 2)
        let help = try RunningProcess("calor", ["--help"])
        #expect(try await help.exitCode() == 0)
        #expect(help.text.contains("migrate"))
    }
}
