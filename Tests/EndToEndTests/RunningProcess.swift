import Foundation
import Synchronization

/// A built binary of this package, started with arguments and environment, its output collected as it comes.
final class RunningProcess: Sendable {
    /// Where `swift build` put the binaries: beside the test bundle.
    static let binaryFolder: URL = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug"),
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("calor").path) }
            ?? candidates[1]
    }()

    private let process: Process
    /// When the process was first seen ended but not reaped.
    private let zombieSince = Mutex<Date?>(nil)
    private let output = OutputBuffer()

    /// Starts `binary` (`calor` or `calor-server`, or any program by its absolute path); when `user` is given (and the
    /// tests run as root), as that user.
    init(
        _ binary: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        directory: URL? = nil,
        user: String? = nil
    ) throws {
        let process = Process()
        let path = binary.hasPrefix("/") ? binary : Self.binaryFolder.appendingPathComponent(binary).path
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(user)", "--regid=\(user)", "--clear-groups", path] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
        }
        var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CALOR_") }
        merged.merge(environment) { _, new in new }
        process.environment = merged
        if let directory { process.currentDirectoryURL = directory }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        self.process = process
        try process.run()
        // Blocking reads on a thread of their own, not `readabilityHandler`: tearing down its dispatch read source
        // races the descriptor's close on Linux and crashes the test process in `_dispatch_event_loop_drain`
        // (swiftlang/swift-corelibs-libdispatch#949), which tests that start many processes met.
        let output = self.output
        let descriptor = pipe.fileHandleForReading.fileDescriptor
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                output.append(bytes: buffer[..<count])
            }
            output.finish()
            _ = pipe  // keeps the pipe, and so the descriptor, open until the end
        }
        reader.start()
    }

    /// Everything written to standard output and standard error so far.
    var text: String { output.text }

    /// Waits up to `seconds` for the output to match `pattern` and returns the first capture group.
    func waitFor(_ pattern: String, seconds: Double = 60) async throws -> String {
        let regex = try NSRegularExpression(pattern: pattern)
        let deadline = Date().addingTimeInterval(seconds)
        // Looked at once more after the deadline: on a loaded machine this task may wake only after it.
        var last = false
        while !last {
            last = Date() >= deadline || !process.isRunning
            let current = text
            if let match = regex.firstMatch(in: current, range: NSRange(current.startIndex..., in: current)),
                let range = Range(match.range(at: match.numberOfRanges > 1 ? 1 : 0), in: current)
            {
                return String(current[range])
            }
            if !last { try await Task.sleep(for: .milliseconds(50)) }
        }
        throw ProcessFailure("output never matched \(pattern); output was:\n\(text)")
    }

    /// When the process has been a zombie (ended, not reaped) for over a second: reaps it and returns its exit code (a
    /// signal's number plus 128); `nil` otherwise, or when Foundation reaped it meanwhile.
    private func reapIfEnded() -> Int32? {
        let pid = process.processIdentifier
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")"), stat[stat.index(after: close)...].hasPrefix(" Z")
        else {
            zombieSince.withLock { $0 = nil }
            return nil
        }
        let since = zombieSince.withLock { value in
            if value == nil { value = Date() }
            return value!
        }
        guard Date().timeIntervalSince(since) > 1 else { return nil }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Waits up to `seconds` for the process to end and returns its exit code.
    func exitCode(seconds: Double = 60) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        var reaped: Int32?
        while process.isRunning {
            // Foundation learns of a child's end from SIGCHLD, and on a loaded machine has been seen to miss it: a
            // child that has ended (a zombie) for a second is reaped here, and its status taken from the kernel.
            if let status = reapIfEnded() {
                reaped = status
                break
            }
            guard Date() < deadline else {
                process.terminate()
                throw ProcessFailure("the process did not end within \(seconds) s; output:\n\(text)")
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        // Let the last output arrive: the pipe ends once the process (and anything it started) closed it.
        let outputDeadline = Date().addingTimeInterval(5)
        while !output.finished, Date() < outputDeadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        return reaped ?? process.terminationStatus
    }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

/// Output collected from a pipe's reader thread and read by the test.
final class OutputBuffer: Sendable {
    private let storage = Mutex((text: "", pending: [UInt8]()))
    private let ended = Mutex(false)

    /// Bytes as they arrive; a character cut between two reads waits for the rest.
    func append(bytes: ArraySlice<UInt8>) {
        storage.withLock { state in
            state.pending += bytes
            // A UTF-8 sequence that has not ended yet: its lead byte, then fewer continuation bytes than it needs.
            var lead = state.pending.count - 1
            while lead >= 0, state.pending.count - lead <= 3, state.pending[lead] & 0xC0 == 0x80 { lead -= 1 }
            var end = state.pending.count
            if lead >= 0 {
                let byte = state.pending[lead]
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                if state.pending.count - lead < length { end = lead }
            }
            state.text += String(decoding: state.pending[..<end], as: UTF8.self)
            state.pending.removeFirst(end)
        }
    }

    /// The pipe reached its end: everything the process wrote is in `text`.
    func finish() {
        storage.withLock { state in
            state.text += String(decoding: state.pending, as: UTF8.self)
            state.pending = []
        }
        ended.withLock { $0 = true }
    }

    var text: String { storage.withLock { $0.text } }
    var finished: Bool { ended.withLock { $0 } }
}

struct ProcessFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// A folder of its own for one test.
struct Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("calor-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}
