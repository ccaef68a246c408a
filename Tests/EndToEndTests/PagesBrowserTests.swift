import Domain
import Foundation
import Testing

/// The pages in a real browser: headless Chromium driven by Selenium (Tests/python/pages_browser.py) against a real
/// calor-server, on both backends.
@Suite("Pages, in a real browser")
struct PagesBrowserTests {
    @Test(
        "every role's pages show the API's figures; CSRF, roles, escaping, logout, lockout and axe-core hold",
        arguments: ServerHarness.Backend.allCases
    )
    func pages(backend: ServerHarness.Backend) async throws {
        guard let python = ProcessInfo.processInfo.environment["CALOR_TEST_PYTHON"] else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "CALOR_TEST_PYTHON is not set")
            return
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") else {
            // Scripts/test installs chromium and chromium-driver; with CI=true they are required.
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "chromium-driver is not installed")
            return
        }
        guard let harness = try await ServerHarness.start(backend) else { return }
        // Screenshots land in an ignored folder; the good ones are copied to docs/images by hand.
        let shots = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../.build-py/screenshots/\(backend.rawValue)").standardized
        try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)
        // A second server over the same database: sessions are rows, so it knows the first one's.
        let (other, otherAddress) = try await ServerHarness.launch(database: harness.database)
        var keys: [String: String] = [:]
        for (scope, key) in harness.keys { keys[scope.rawValue] = key }
        let (status, printed) = try await ServerHarness.runTool(
            python,
            [
                ServerHarness.pythonFile("pages_browser.py"), "--base", harness.address,
                "--calor", RunningProcess.binaryFolder.appendingPathComponent("calor").path,
                "--database", harness.database, "--keys", JSONValue.object(keys.mapValues(JSONValue.string)).jsonText,
                "--shots", shots.path, "--other", otherAddress,
            ]
        )
        other.signal(SIGTERM)
        #expect(try await other.exitCode() == 0)
        #expect(status == 0, "\(printed)")
        #expect(printed.contains("all checks passed"), "\(printed)")
        try await harness.stop()
    }
}
