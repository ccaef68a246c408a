public import Foundation

/// One immutable version of the admin's qualification criteria.
public struct CriteriaVersion: Sendable, Hashable {
    /// Versions are numbered 1, 2, 3, … in the order they were stored.
    public typealias Number = Identifier<CriteriaVersion, Int64>

    public var number: Number
    /// The document as the admin wrote it (YAML or JSON).
    public var document: String
    public var format: CriteriaFormat
    /// A hash of the document (hex SHA-256), to tell versions with the same content apart from different ones.
    public var contentHash: String
    public var author: String
    public var comment: String?
    public var createdAt: Date
    public var isActive: Bool

    public init(
        number: Number,
        document: String,
        format: CriteriaFormat,
        contentHash: String,
        author: String,
        comment: String?,
        createdAt: Date,
        isActive: Bool
    ) {
        self.number = number
        self.document = document
        self.format = format
        self.contentHash = contentHash
        self.author = author
        self.comment = comment
        self.createdAt = createdAt
        self.isActive = isActive
    }
}

/// A criteria version about to be stored.
public struct NewCriteriaVersion: Sendable, Hashable {
    public var document: String
    public var format: CriteriaFormat
    public var contentHash: String
    public var author: String
    public var comment: String?
    public var createdAt: Date

    public init(
        document: String,
        format: CriteriaFormat,
        contentHash: String,
        author: String,
        comment: String?,
        createdAt: Date
    ) {
        self.document = document
        self.format = format
        self.contentHash = contentHash
        self.author = author
        self.comment = comment
        self.createdAt = createdAt
    }
}

/// The language a criteria document is written in.
public enum CriteriaFormat: String, Sendable, Hashable, Codable {
    case yaml, json
}
