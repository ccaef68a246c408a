import API
import Core
import Testing

@Suite("Problem types")
struct ProblemTypeTests {
    static let kinds: [ProblemType] = [
        .malformedJSON, .malformedBody, .invalidRequest, .invalidEvent, .invalidText, .invalidCriteria,
        .invalidStageMove, .invalidWebhook, .forbiddenTarget, .reportUnavailable, .unauthorized, .forbidden, .notFound,
        .leadNotFound, .methodNotAllowed,
        .conflict, .identityConflict, .bodyTooLarge, .batchTooLarge, .unsupportedMediaType, .unsupportedEncoding,
        .notReady, .unavailable, .contention, .overloaded, .internalError,
    ]

    @Test("every kind has its own slug, a title, and an error status")
    func distinct() {
        #expect(Set(Self.kinds.map(\.slug)).count == Self.kinds.count)
        for kind in Self.kinds {
            #expect(!kind.title.isEmpty)
            #expect(kind.status.code >= 400, "\(kind)")
            #expect(kind.slug.allSatisfy { $0.isLowercase || $0 == "-" }, "\(kind.slug)")
        }
    }

    @Test(
        "an ingest rejection's problem type ends with the rejection's reason",
        arguments: IngestRejection.Reason.allCases
    )
    func rejections(reason: IngestRejection.Reason) {
        let field = FieldProblem(pointer: "/lead/email", detail: "is not an email address")
        let problem = Problem(IngestRejection(reason: reason, detail: "why", fields: [field]))
        #expect(problem.type == "https://calor.dev/problems/\(reason.rawValue)")
        #expect(problem.detail == "why")
        switch reason {
        case .leadNotFound: #expect(problem.status == .notFound && problem.errors.isEmpty)
        case .identityConflict: #expect(problem.status == .conflict && problem.errors.isEmpty)
        case .invalidEvent, .invalidText: #expect(problem.status == .badRequest && problem.errors == [field])
        }
    }

    @Test("another HTTP error keeps its status; a missing route is not-found")
    func otherErrors() {
        #expect(ProblemType.http(.notFound).slug == "not-found")
        #expect(ProblemType.http(.requestTimeout).slug == "http-408")
        #expect(ProblemType.http(.requestTimeout).status == .requestTimeout)
    }
}
