import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("The OpenAPI document against the running server")
struct ContractTests {
    @Test(
        "schemathesis, every phase (stateful too, along the document's links): no 5xx, every answer as /openapi.yaml says, valid requests accepted, other methods 405",
        arguments: ServerHarness.Backend.allCases
    )
    func schemathesis(backend: ServerHarness.Backend) async throws {
        guard let tool = ProcessInfo.processInfo.environment["CALOR_TEST_SCHEMATHESIS"] else {
            // Scripts/test always sets it (it installs schemathesis in .build-py); with CI=true it is required.
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "CALOR_TEST_SCHEMATHESIS is not set")
            return
        }
        guard let harness = try await ServerHarness.start(backend) else { return }
        let (status, printed) = try await ServerHarness.runTool(
            tool,
            [
                "--no-color", "--config-file", ServerHarness.pythonFile("schemathesis.toml"), "run",
                "\(harness.address)/openapi.yaml", "-H", "Authorization: Bearer \(harness.keys[.admin]!)", "--seed",
                "1",
            ],
            in: harness.scratch.url
        )
        #expect(status == 0, "\(printed)")
        // The stateful phase ran and followed links (the document's own, and those schemathesis infers).
        #expect(printed.contains("✅ Stateful"), "\(printed)")
        let covered = printed.firstMatch(of: /API Links:\s+(\d+) covered/).flatMap { Int($0.1) } ?? 0
        #expect(covered >= 10, "links covered: \(covered)")
        try await harness.stop()
    }

    @Test("openapi-spec-validator: the served /openapi.yaml is a valid OpenAPI 3.1 document")
    func validDocument() async throws {
        guard let python = ProcessInfo.processInfo.environment["CALOR_TEST_PYTHON"] else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "CALOR_TEST_PYTHON is not set")
            return
        }
        guard let harness = try await ServerHarness.start(.sqlite) else { return }
        let (data, response) = try await URLSession.shared.data(from: URL(string: "\(harness.address)/openapi.yaml")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let file = harness.scratch.url.appendingPathComponent("openapi.yaml")
        try data.write(to: file)
        let validator = URL(fileURLWithPath: python).deletingLastPathComponent()
            .appendingPathComponent("openapi-spec-validator").path
        let (status, printed) = try await ServerHarness.runTool(validator, ["--schema", "3.1.0", file.path])
        #expect(status == 0, "\(printed)")
        #expect(printed.contains("OK"), "\(printed)")
        try await harness.stop()
    }
}
