public import Domain

/// A rule of the criteria document's `channels:` section: events of these types (any type when none are given)
/// that meet the condition are touchpoints of `channel`. Rules are tried in order before the default grouping; the
/// first that matches names the channel.
public struct ChannelRule: Sendable, Hashable {
    public var channel: String
    public var eventTypes: Set<String>?
    /// A condition on the event (`context.` reaches its context).
    public var condition: Condition?

    public init(channel: String, eventTypes: Set<String>? = nil, condition: Condition? = nil) {
        self.channel = channel
        self.eventTypes = eventTypes
        self.condition = condition
    }

    public func matches(_ event: Event) -> Bool {
        if let eventTypes, !eventTypes.contains(event.type.rawValue) { return false }
        return condition?.holds(for: EventFields(event: event)) ?? true
    }
}

/// The criteria document's `conversion:` section: what counts as a conversion for attribution and the value reports.
public struct ConversionDefinition: Sendable, Hashable {
    /// Reaching this stage converts (`nil`: stages do not).
    public var stage: Stage?
    /// An event of this type converts (`nil`: events do not); each such event is an order in the value report.
    public var event: String?
    /// The event property that holds the conversion's value.
    public var valueProperty: String
    /// Seconds before the conversion within which touches count.
    public var lookback: Double

    public init(stage: Stage?, event: String?, valueProperty: String = "revenue", lookback: Double = 90 * 86_400) {
        self.stage = stage
        self.event = event
        self.valueProperty = valueProperty
        self.lookback = lookback
    }

    /// Whether the event is a conversion (an order).
    public func isConversion(_ event: Event) -> Bool {
        event.type.rawValue == self.event
    }

    /// A conversion event's value: its value property, a number or a numeric string (read as the criteria language
    /// reads numbers); 0 without one.
    public func value(of event: Event) -> Double {
        event.properties[valueProperty].flatMap(Comparison.number) ?? 0
    }

    /// Reaching `customer`, or an `order_completed` event (its `revenue` property as the value), whichever comes
    /// first; touches of the last 90 days.
    public static let standard = ConversionDefinition(stage: .customer, event: "order_completed")
}

extension CriteriaReader {
    /// `channels:` — a list of `{ channel, event?, where? }`.
    mutating func readChannels(_ node: DocumentNode) -> [ChannelRule] {
        if case .scalar(.null, _) = node { return [] }
        guard case .sequence(let items, _) = node else {
            problem(node.line, nil, "channels must be a list of { channel, event, where }")
            return []
        }
        var rules: [ChannelRule] = []
        for (number, item) in items.enumerated() {
            let rule = "channels.\(number + 1)"
            guard case .mapping(let pairs, _) = item else {
                problem(item.line, rule, "each channel rule must be a mapping: { channel: …, where: … }")
                continue
            }
            var fields: [String: DocumentNode] = [:]
            for pair in pairs {
                if ["channel", "event", "where", "description"].contains(pair.key) {
                    fields[pair.key] = pair.value
                } else {
                    problem(
                        pair.keyLine,
                        rule,
                        "unknown key '\(pair.key)' (expected channel, description, event, where)"
                    )
                }
            }
            var channel: String?
            switch fields["channel"] {
            case .scalar(.string(let text), let line)?:
                if Self.isName(text) {
                    channel = text.lowercased()
                } else {
                    problem(line, rule, "a channel name is made of letters, digits, '-' and '_'")
                }
            case let other?:
                problem(other.line, rule, "channel must be a channel name, not \(other.kindName)")
            case nil:
                problem(item.line, rule, "a channel rule needs channel (the channel it gives)")
            }
            if fields["event"] == nil, fields["where"] == nil {
                problem(item.line, rule, "a channel rule needs event, where, or both")
            }
            let types = fields["event"].map { readEventTypes($0, rule: rule) }
            let condition = fields["where"].map { readCondition($0, rule: rule) }
            guard let channel, types != .some(nil), condition != .some(nil) else { continue }
            rules.append(ChannelRule(channel: channel, eventTypes: types ?? nil, condition: condition ?? nil))
        }
        return rules
    }

    /// `conversion:` — `{ stage, event, value, lookback }`, each optional; `stage: null` or `event: null` turns
    /// that kind of conversion off.
    mutating func readConversion(_ node: DocumentNode) -> ConversionDefinition {
        var conversion = ConversionDefinition.standard
        guard case .mapping(let pairs, _) = node else {
            problem(node.line, nil, "conversion must be a mapping like { stage: customer, event: order_completed }")
            return conversion
        }
        for pair in pairs {
            let value = pair.value
            switch (pair.key, value) {
            case ("stage", .scalar(.null, _)): conversion.stage = nil
            case ("stage", .scalar(.string(let text), _)) where !text.isEmpty: conversion.stage = Stage(text)
            case ("event", .scalar(.null, _)): conversion.event = nil
            case ("event", .scalar(.string(let text), _)) where !text.isEmpty: conversion.event = text
            case ("value", .scalar(.string(let text), _)) where !text.isEmpty: conversion.valueProperty = text
            case ("lookback", .scalar(.string(let text), _)) where Self.seconds(text) != nil:
                conversion.lookback = Self.seconds(text) ?? conversion.lookback
            case ("stage", _), ("event", _), ("value", _):
                problem(value.line, nil, "conversion.\(pair.key) must be a name, not \(value.kindName)")
            case ("lookback", _):
                problem(
                    value.line,
                    nil,
                    "bad duration for conversion.lookback: a positive number and m, h, d or w (90d)"
                )
            default:
                problem(
                    pair.keyLine,
                    nil,
                    "unknown key '\(pair.key)' in conversion (expected event, lookback, stage, value)"
                )
            }
        }
        if conversion.stage == nil, conversion.event == nil {
            problem(node.line, nil, "conversion needs a stage, an event, or both")
        }
        return conversion
    }
}
