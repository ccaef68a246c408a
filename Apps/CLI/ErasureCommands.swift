import ArgumentParser
import Core
import Domain
import Foundation

struct EraseLead: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase a person: the lead and everything derived from it; later data for them is refused.",
        discussion: """
            Removes the lead, its identities, events, scores, histories, touchpoints and pending webhook messages in \
            one transaction, and keeps only suppression entries (keyed hashes of its email, external id and \
            anonymous ids): later events, upserts and identifies for them are answered 'suppressed' and stored \
            nowhere. Audited with the lead id and your name. Undo the suppression (not the erasure) with \
            'calor leads unsuppress'.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The lead's id, email or external id.") var lead: String
    @OptionGroup var author: AuthorOption

    func run() async throws {
        let storage = try await global.openStorage()
        let (reference, actor) = (lead, author.name)
        let summary = try await storage.using { storage -> ErasureSummary? in
            guard let found = try await LeadLookup(stores: storage).find(reference) else { return nil }
            return try await Erasure(storage: storage).erase(found.id, actor: actor, at: Date())
        }
        guard let summary else { throw CommandFailure("no lead is \(reference)") }
        print(
            "Lead \(summary.leadID) erased; \(summary.suppressedIdentities) identit"
                + "\(summary.suppressedIdentities == 1 ? "y" : "ies") suppressed."
        )
    }
}

struct UnsuppressIdentity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unsuppress",
        abstract: "Accept data for an erased identity again (an email, or --external-id, or --anonymous-id)."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The email.") var email: String?
    @Option(help: "An external id instead.") var externalID: String?
    @Option(help: "An anonymous id instead.") var anonymousID: String?
    @OptionGroup var author: AuthorOption

    func run() async throws {
        let identity: SuppressedIdentity
        switch (email, externalID, anonymousID) {
        case (let email?, nil, nil):
            guard let address = EmailAddress(email) else { throw ValidationError("'\(email)' is not an email address") }
            identity = .email(address)
        case (nil, let id?, nil): identity = .externalID(id)
        case (nil, nil, let id?): identity = .anonymousID(AnonymousID(id))
        default: throw ValidationError("name one identity: an email, --external-id or --anonymous-id")
        }
        let storage = try await global.openStorage()
        let actor = author.name
        let lifted = try await storage.using { storage in
            try await Erasure(storage: storage).unsuppress(identity, actor: actor, at: Date())
        }
        guard lifted else { throw CommandFailure("that identity is not suppressed") }
        print("Suppression lifted: data for it is accepted again.")
    }
}

struct ExportLeadData: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-data",
        abstract: "Print everything Calor holds on a person as one JSON document (an access request)."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The lead's id, email or external id.") var lead: String

    func run() async throws {
        let storage = try await global.openStorage()
        let reference = lead
        let document = try await storage.using { storage -> JSONValue? in
            let lookup = LeadLookup(stores: storage)
            guard let found = try await lookup.find(reference) else { return nil }
            return try await lookup.export(found.id, at: Date())
        }
        guard let document else { throw CommandFailure("no lead is \(reference)") }
        print(document.jsonText)
    }
}
