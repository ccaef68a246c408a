public import ArgumentParser
import Foundation

extension AsyncParsableCommand {
    /// Parses and runs the command with Calor's exit codes: 0 success, 1 failure (one line on standard error, no
    /// stack trace), 2 usage error.
    ///
    /// - Parameter globalOptions: options (taking one value) that every subcommand declares and that may also come
    ///   before the subcommand's name (`calor --database x.sqlite init`): they are moved after it before parsing.
    public static func runWithCalorExitCodes(globalOptions: Set<String> = []) async {
        let arguments = movingGlobalOptions(globalOptions, in: Array(CommandLine.arguments.dropFirst()))
        let command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // Help and version requests: the library prints them and exits 0.
                self.exit(withError: error)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            terminate(2)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
        } catch let error as ExitCode {
            terminate(error.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success { self.exit(withError: error) }
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                terminate(2)
            }
            let name = configuration.commandName ?? "calor"
            let line = String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
            FileHandle.standardError.write(Data("\(name): error: \(line)\n".utf8))
            terminate(1)
        }
    }
}

/// `[--database, x, init, --flag]` → `[init, --flag, --database, x]`: global options found before the first
/// word that is not an option are moved to the end.
func movingGlobalOptions(_ names: Set<String>, in arguments: [String]) -> [String] {
    guard !names.isEmpty else { return arguments }
    var moved: [String] = []
    var index = 0
    while index < arguments.count, arguments[index].hasPrefix("-") {
        let argument = arguments[index]
        let name = String(argument.prefix { $0 != "=" })
        guard names.contains(name) else { break }
        if argument.contains("=") {
            moved.append(argument)
            index += 1
        } else {
            moved.append(contentsOf: arguments[index..<min(index + 2, arguments.count)])
            index += 2
        }
    }
    return Array(arguments[min(index, arguments.count)...]) + moved
}

private func terminate(_ code: Int32) -> Never {
    Foundation.exit(code)
}
