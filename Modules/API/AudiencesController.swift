import Core
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/audiences/export` (read scope): an ad audience, streamed a page of leads at a time.
struct AudiencesController {
    let storage: any Storage
    let configuration: APIConfiguration

    func addRoutes(to group: RouterGroup<CalorRequestContext>) {
        group.get("/audiences/export") { request, _ in
            try await export(request)
        }
    }

    private func export(_ request: Request) async throws -> Response {
        var parameters = QueryParameters(request.uri.queryParameters)
        guard let format = try parameters.choice("format", AudienceExport.Format.init(rawValue:)) else {
            throw Problem.invalidParameter("format", "is required: google, meta, csv or jsonl")
        }
        let hashed = try parameters.boolean("hashed") ?? false
        func list(_ name: String) throws -> [String] {
            (try parameters.string(name) ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty }
        }
        var filter = AudienceExport.Filter()
        for name in try list("temperature") {
            guard let value = Temperature(rawValue: name.lowercased()) else {
                throw Problem.invalidParameter("temperature", "does not take '\(name)'")
            }
            filter.temperatures.insert(value)
        }
        for name in try list("grade") {
            guard let value = Grade(rawValue: name.uppercased()) else {
                throw Problem.invalidParameter("grade", "does not take '\(name)'")
            }
            filter.grades.insert(value)
        }
        filter.stages = Set(try list("stage").map { Stage($0) })
        filter.excludedStages = Set(try list("exclude_stage").map { Stage($0) })
        try parameters.refuseOthers()
        let export = AudienceExport(storage: storage, fields: configuration.audienceFields)
        let body = ResponseBody { [filter] writer in
            try await export.export(filter, format: format, hashed: hashed) { text in
                try await writer.write(ByteBuffer(string: text))
            }
            try await writer.finish(nil)
        }
        var headers = HTTPFields()
        headers[.contentType] = format.contentType
        headers[.contentDisposition] =
            "attachment; filename=\"calor-audience-\(format.rawValue).\(format == .jsonl ? "jsonl" : "csv")\""
        return Response(status: .ok, headers: headers, body: body)
    }
}
