import Foundation
import Testing

@Suite("calor criteria, as a process")
struct CriteriaCLITests {
    func calor(_ arguments: [String], database: String) async throws -> (Int32, String) {
        let process = try RunningProcess("calor", arguments + ["--database", database])
        let code = try await process.exitCode()
        return (code, process.text)
    }

    @Test("init installs default criteria; validate, dry run, apply, history, diff, show and rollback")
    func criteriaLifecycle() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = scratch.path("c.sqlite")
        #expect(try await calor(["init"], database: database).0 == 0)

        let good = scratch.path("good.yaml")
        try
            "thresholds: { warm: 20, hot: 50 }\nfit:\n  - { id: big, if: { field: company_size, gte: 100 }, points: 30 }\n"
            .write(toFile: good, atomically: true, encoding: .utf8)
        let bad = scratch.path("bad.yaml")
        try "fit:\n  - id: a\n    if: { field: x, greater: 1 }\n".write(toFile: bad, atomically: true, encoding: .utf8)

        let (validCode, validText) = try await calor(["criteria", "validate", good], database: database)
        #expect(validCode == 0)
        #expect(validText.contains("is valid: 1 fit"))
        let (badCode, badText) = try await calor(["criteria", "validate", bad], database: database)
        #expect(badCode == 1)
        #expect(badText.contains("line 2, rule a: missing points"))
        #expect(badText.contains("line 3, rule a: unknown operator 'greater'"))
        #expect(try await calor(["criteria", "apply", bad], database: database).0 == 1)

        let (dryCode, dryText) = try await calor(["criteria", "apply", good, "--dry-run"], database: database)
        #expect(dryCode == 0)
        #expect(dryText.contains("+ thresholds: { warm: 20, hot: 50 }"))
        let (historyCode, history) = try await calor(["criteria", "history"], database: database)
        #expect(historyCode == 0)
        #expect(history.split(separator: "\n").count == 3, "header, rule, version 1 only: \(history)")

        let (applyCode, applied) = try await calor(
            ["criteria", "apply", good, "--comment", "smaller", "--author", "ana"],
            database: database
        )
        #expect(applyCode == 0)
        #expect(applied.contains("Version 2 is active."))
        #expect(applied.contains("Rescored 0 leads"))
        let (_, diff) = try await calor(["criteria", "diff", "1", "2"], database: database)
        #expect(diff.contains("- thresholds: { warm: 40, hot: 70 }"))
        #expect(diff.contains("+ thresholds: { warm: 20, hot: 50 }"))
        let (rollbackCode, rolledBack) = try await calor(["criteria", "rollback", "1"], database: database)
        #expect(rollbackCode == 0)
        #expect(rolledBack.contains("Version 3 is active (the content of version 1)."))
        let (_, shown) = try await calor(["criteria", "show", "--version", "2"], database: database)
        #expect(shown.contains("# version 2, by ana"))
        let (_, after) = try await calor(["criteria", "history"], database: database)
        #expect(after.contains("smaller") && after.contains("rollback to version 1"))
        let (missingCode, missing) = try await calor(["criteria", "rollback", "9"], database: database)
        #expect(missingCode == 1)
        #expect(missing.contains("criteria version 9"))
    }

    @Test("leads list and show answer on an empty database, and refuse unknown filter values")
    func leads() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = scratch.path("l.sqlite")
        #expect(try await calor(["init"], database: database).0 == 0)
        let (listCode, list) = try await calor(
            ["leads", "list", "--sort", "score", "--format", "json"],
            database: database
        )
        #expect(listCode == 0)
        #expect(list.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        let (badCode, bad) = try await calor(["leads", "list", "--temperature", "lukewarm"], database: database)
        #expect(badCode == 2)
        #expect(bad.contains("'lukewarm' is not one of cold, warm, hot, disqualified"))
        let (showCode, show) = try await calor(["leads", "show", "nobody@example.com"], database: database)
        #expect(showCode == 1)
        #expect(show.contains("no lead is nobody@example.com"))
    }
}
