import Foundation
import Testing

@Suite("The OpenAPI document against the running server")
struct ContractTests {
    @Test(
        "schemathesis: no 5xx, every answer as /openapi.yaml says, valid requests accepted, other methods 405",
        arguments: ServerHarness.Backend.allCases
    )
    func schemathesis(backend: ServerHarness.Backend) async throws {
        guard let tool = ProcessInfo.processInfo.environment["CALOR_TEST_SCHEMATHESIS"] else {
            // Scripts/test always sets it (it installs schemathesis in .build-py); with CI=true it is required.
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "CALOR_TEST_SCHEMATHESIS is not set")
            return
        }
        guard let harness = try await ServerHarness.start(backend) else { return }
        let (status, printed) = try ServerHarness.runTool(
            tool,
            [
                "--no-color", "--config-file", ServerHarness.pythonFile("schemathesis.toml"), "run",
                "\(harness.address)/openapi.yaml", "-H", "Authorization: Bearer \(harness.keys[.admin]!)", "--seed",
                "1",
            ],
            in: harness.scratch.url
        )
        #expect(status == 0, "\(printed)")
        try await harness.stop()
    }
}
