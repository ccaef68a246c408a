import ArgumentParser
import Core
import Domain
import Foundation

struct AudiencesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audiences",
        abstract: "Export ad audiences: the leads worth advertising to.",
        subcommands: [ExportAudience.self]
    )
}

struct ExportAudience: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an audience file to standard output (Google Customer Match, Meta, CSV or JSON lines).",
        discussion: """
            Leads without an email, and those whose consent attribute (marketing_consent unless mapped) is false, \
            are left out. Emails are trimmed and lower-cased; --hashed writes them (and phones and names) as \
            lower-case hex SHA-256. Attributes are read from first_name, last_name, phone, city, state, zip and \
            country unless --map says otherwise (--map phone=contact.mobile).
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "Temperatures to keep, comma-separated (cold, warm, hot).") var temperature: String?
    @Option(help: "Stages to keep, comma-separated.") var stage: String?
    @Option(help: "Grades to keep, comma-separated (A, B, C, D).") var grade: String?
    @Option(help: "Stages to leave out, comma-separated (customer, disqualified).") var excludeStage: String?
    @Option(help: "google, meta, csv or jsonl.") var format: String
    @Flag(help: "Write SHA-256 hashes instead of emails, phones and names.") var hashed = false
    @Option(help: "Which attribute holds a field: FIELD=ATTRIBUTE (repeatable).") var map: [String] = []

    func run() async throws {
        guard let format = AudienceExport.Format(rawValue: format) else {
            throw ValidationError("unknown format '\(format)': use google, meta, csv or jsonl")
        }
        let filter = try AudienceCommandInput.filter(
            temperature: temperature,
            stage: stage,
            grade: grade,
            excludeStage: excludeStage
        )
        var fields = AudienceExport.Fields()
        for mapping in map {
            let parts = mapping.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty, fields.set(parts[0], to: parts[1]) else {
                throw ValidationError(
                    "--map takes FIELD=ATTRIBUTE, FIELD one of \(AudienceExport.Fields.names.joined(separator: ", "))"
                )
            }
        }
        let storage = try await global.openStorage()
        let hashed = self.hashed
        let written = try await storage.using { [fields] storage in
            try await AudienceExport(storage: storage, fields: fields).export(filter, format: format, hashed: hashed) {
                FileHandle.standardOutput.write(Data($0.utf8))
            }
        }
        FileHandle.standardError.write(Data("\(written) lead\(written == 1 ? "" : "s") exported.\n".utf8))
    }
}

/// The filters of an audience, from comma lists.
enum AudienceCommandInput {
    static func filter(
        temperature: String?,
        stage: String?,
        grade: String?,
        excludeStage: String?
    ) throws -> AudienceExport.Filter {
        func list(_ text: String?) -> [String] {
            (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        var filter = AudienceExport.Filter()
        for name in list(temperature) {
            guard let value = Temperature(rawValue: name.lowercased()) else {
                throw ValidationError("unknown temperature '\(name)': use cold, warm, hot or disqualified")
            }
            filter.temperatures.insert(value)
        }
        for name in list(grade) {
            guard let value = Grade(rawValue: name.uppercased()) else {
                throw ValidationError("unknown grade '\(name)': use A, B, C or D")
            }
            filter.grades.insert(value)
        }
        filter.stages = Set(list(stage).map { Stage($0) })
        filter.excludedStages = Set(list(excludeStage).map { Stage($0) })
        return filter
    }
}
