import Foundation
import Testing

@Suite("calor's output: formats, help texts, authors")
struct CLIOutputTests {
    func calor(
        _ arguments: [String],
        database: String? = nil,
        environment: [String: String] = [:]
    ) async throws -> (Int32, String) {
        let process = try RunningProcess(
            "calor",
            arguments + (database.map { ["--database", $0] } ?? []),
            environment: environment
        )
        let code = try await process.exitCode()
        return (code, process.text)
    }

    /// The JSON document a command printed as its last line (progress lines on standard error come before it).
    func lastJSON(_ text: String) throws -> Any {
        let line = try #require(text.split(separator: "\n").last, "no output")
        return try JSONSerialization.jsonObject(with: Data(line.utf8))
    }

    /// Every command's path, from the parser's own description of the command tree.
    func commandPaths() async throws -> [[String]] {
        let (code, text) = try await calor(["--experimental-dump-help"])
        try #require(code == 0, "\(text)")
        let dump = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        var paths: [[String]] = []
        func walk(_ command: [String: Any], _ path: [String]) {
            paths.append(path)
            for sub in command["subcommands"] as? [[String: Any]] ?? [] {
                guard let name = sub["commandName"] as? String, name != "help" else { continue }
                walk(sub, path + [name])
            }
        }
        walk(try #require(dump["command"] as? [String: Any]), [])
        return paths
    }

    @Test("every command's --help reads as sentences: no runs of spaces inside a line of text")
    func helpTexts() async throws {
        let paths = try await commandPaths()
        #expect(paths.count > 20, "the tree has every command: \(paths)")
        #expect(paths.contains(["report", "attribution"]))
        for path in paths {
            let (code, help) = try await calor(path + ["--help"])
            #expect(code == 0, "\(path)")
            for line in help.split(separator: "\n") {
                // Help aligns option names and their texts with spaces: look only at the text after that gap.
                let text = line.trimmingCharacters(in: .whitespaces)
                let sentence = text.range(of: "  ").map { String(text[$0.upperBound...]) } ?? text
                let body = sentence.trimmingCharacters(in: .whitespaces)
                #expect(!body.contains("  "), "calor \(path.joined(separator: " ")) --help: '\(line)'")
            }
        }
    }

    @Test("criteria history, diff, migrate --status and rescore print json and csv as well as tables")
    func formats() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = scratch.path("f.sqlite")
        #expect(try await calor(["init"], database: database).0 == 0)
        let file = scratch.path("c.yaml")
        try "thresholds: { warm: 20, hot: 50 }\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await calor(["criteria", "apply", file, "--author", "ana"], database: database).0 == 0)

        let (_, historyJSON) = try await calor(["criteria", "history", "--format", "json"], database: database)
        let history = try #require(try lastJSON(historyJSON) as? [String: Any])
        let versions = try #require(history["data"] as? [[String: Any]])
        #expect(versions.map { $0["version"] as? Int } == [2, 1])
        #expect(versions.first?["author"] as? String == "ana")
        #expect(versions.first?["active"] as? Bool == true)
        #expect(versions.last?["author"] as? String == "calor")
        let (_, historyCSV) = try await calor(["criteria", "history", "--format", "csv"], database: database)
        #expect(historyCSV.hasPrefix("version,active,created,author,hash,comment\n2,*,"))

        let (_, diffJSON) = try await calor(["criteria", "diff", "1", "2", "--format", "json"], database: database)
        let diff = try #require(try lastJSON(diffJSON) as? [String: Any])
        #expect(diff["from"] as? Int == 1 && diff["to"] as? Int == 2 && diff["changed"] as? Bool == true)
        #expect((diff["diff"] as? String)?.contains("+ thresholds: { warm: 20, hot: 50 }") == true)
        let (_, diffCSV) = try await calor(["criteria", "diff", "1", "2", "--format", "csv"], database: database)
        #expect(diffCSV.hasPrefix("change,line\n"))
        #expect(diffCSV.contains("\n+,\"thresholds: { warm: 20, hot: 50 }\"\n"))

        let (_, statusJSON) = try await calor(["migrate", "--status", "--format", "json"], database: database)
        let status = try #require(try lastJSON(statusJSON) as? [String: Any])
        #expect(status["current"] as? Bool == true)
        let migrations = try #require(status["migrations"] as? [[String: Any]])
        #expect(migrations.first?["name"] as? String == "0001_initial")
        #expect(migrations.allSatisfy { $0["state"] as? String == "applied" })
        let (_, statusCSV) = try await calor(["migrate", "--status", "--format", "csv"], database: database)
        #expect(statusCSV.hasPrefix("state,migration\napplied,0001_initial\n"))

        let (rescoreCode, rescoreJSON) = try await calor(["rescore", "--format", "json"], database: database)
        #expect(rescoreCode == 0)
        let summary = try #require(try lastJSON(rescoreJSON) as? [String: Any])
        #expect(summary["leads"] as? Int == 0)
        #expect(summary["temperature_changes"] as? Int == 0)
        #expect(summary["seconds"] is Double || summary["seconds"] is Int)
        let (_, rescoreCSV) = try await calor(["rescore", "--format", "csv"], database: database)
        #expect(rescoreCSV.split(separator: "\n").suffix(2).first == "leads,temperature_changes,stage_moves,seconds")
    }

    @Test("without --author, the criteria history names the operating-system user, even without $USER")
    func authorFromTheSystem() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = scratch.path("a.sqlite")
        #expect(try await calor(["init"], database: database).0 == 0)
        let file = scratch.path("c.yaml")
        try "thresholds: { warm: 20, hot: 50 }\n".write(toFile: file, atomically: true, encoding: .utf8)
        // No USER, no LOGNAME: the name comes from the password database.
        let (code, text) = try await calor(
            ["criteria", "apply", file],
            database: database,
            environment: ["USER": "", "LOGNAME": ""]
        )
        #expect(code == 0, "\(text)")
        let expected = try await systemUserName()
        let (_, history) = try await calor(["criteria", "history", "--format", "json"], database: database)
        let versions = try #require((try lastJSON(history) as? [String: Any])?["data"] as? [[String: Any]])
        #expect(versions.first?["author"] as? String == "cli:\(expected)")
    }

    /// `id -un`: the name the system gives the user running the tests.
    func systemUserName() async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/id")
        process.arguments = ["-un"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
