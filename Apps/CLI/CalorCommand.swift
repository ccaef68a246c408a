import AppSupport
import ArgumentParser

@main
struct CalorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calor",
        abstract: "Administer Calor: its database, criteria, keys, costs and reports.",
        discussion: "Exit codes: 0 success, 1 failure, 2 usage error.",
        subcommands: [
            InitCommand.self, MigrateCommand.self, CriteriaCommand.self, RescoreCommand.self, LeadsCommand.self,
            EventsCommand.self, OutcomesCommand.self,
            KeysCommand.self, CostsCommand.self, ReportCommand.self, WebhooksCommand.self,
            AudiencesCommand.self, UsersCommand.self,
        ]
    )

    static func main() async {
        await runWithCalorExitCodes(globalOptions: ["--database"])
    }
}
