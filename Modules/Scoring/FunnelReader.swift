import Domain

extension CriteriaReader {
    /// The `funnel:` section: `stages` (the path), `exits`, and `rules` (`{ id?, to, when }`).
    mutating func readFunnel(_ node: DocumentNode) -> FunnelDefinition? {
        guard case .mapping(let pairs, _) = node else {
            problem(node.line, nil, "funnel must be a mapping with stages, exits and rules")
            return nil
        }
        var fields: [String: DocumentNode] = [:]
        for entry in pairs {
            if ["stages", "exits", "rules"].contains(entry.key) {
                fields[entry.key] = entry.value
            } else {
                problem(entry.keyLine, nil, "unknown key '\(entry.key)' in funnel (expected exits, rules, stages)")
            }
        }
        let stages = fields["stages"].map { readStages($0, name: "stages") } ?? FunnelDefinition.standard.stages
        let exits = fields["exits"].map { readStages($0, name: "exits") } ?? FunnelDefinition.standard.exits
        if stages.isEmpty, fields["stages"] != nil {
            problem(fields["stages"]?.line, nil, "funnel stages must list at least one stage")
        }
        for exit in exits where stages.contains(exit) {
            problem(fields["exits"]?.line, nil, "'\(exit)' is both a stage of the path and an exit")
        }
        var rules: [FunnelRule] = []
        switch fields["rules"] {
        case nil:
            rules = FunnelDefinition.standard.rules.filter { stages.contains($0.to) || exits.contains($0.to) }
        case .scalar(.null, _)?:
            break
        case .sequence(let items, _)?:
            for (index, item) in items.enumerated() {
                if let rule = readFunnelRule(item, number: index + 1, targets: Set(stages + exits)) {
                    rules.append(rule)
                }
            }
        case let other?:
            problem(other.line, nil, "funnel rules must be a list of { to, when }")
        }
        return FunnelDefinition(stages: stages, exits: exits, rules: rules)
    }

    private mutating func readStages(_ node: DocumentNode, name: String) -> [Stage] {
        guard case .sequence(let items, _) = node else {
            problem(node.line, nil, "funnel \(name) must be a list of stage names")
            return []
        }
        var stages: [Stage] = []
        for item in items {
            guard case .scalar(.string(let text), let line) = item, Self.isName(text) else {
                problem(item.line, nil, "a stage name is made of letters, digits, '-' and '_'")
                continue
            }
            if stages.contains(Stage(text)) {
                problem(line, nil, "stage '\(text)' is listed twice")
            } else {
                stages.append(Stage(text))
            }
        }
        return stages
    }

    private mutating func readFunnelRule(_ node: DocumentNode, number: Int, targets: Set<Stage>) -> FunnelRule? {
        guard case .mapping(let pairs, _) = node else {
            problem(node.line, nil, "each funnel rule must be a mapping: { to: stage, when: … }")
            return nil
        }
        var fields: [String: DocumentNode] = [:]
        var id = "funnel.\(number)"
        for entry in pairs {
            switch entry.key {
            case "to", "when", "description": fields[entry.key] = entry.value
            case "id":
                if case .scalar(.string(let text), _) = entry.value, !text.isEmpty {
                    id = text
                } else {
                    problem(entry.value.line, nil, "a funnel rule id must be text")
                }
            default:
                problem(entry.keyLine, id, "unknown key '\(entry.key)' (expected description, id, to, when)")
            }
        }
        var target: Stage?
        switch fields["to"] {
        case .scalar(.string(let text), let line)?:
            if targets.contains(Stage(text)) {
                target = Stage(text)
            } else {
                problem(line, id, "'\(text)' is neither a stage of the funnel nor an exit")
            }
        case let other?:
            problem(other.line, id, "to must be a stage name")
        case nil:
            problem(node.line, id, "a funnel rule needs to (the stage it moves leads to)")
        }
        guard let when = fields["when"] else {
            problem(node.line, id, "a funnel rule needs when")
            return nil
        }
        guard let trigger = readTrigger(when, rule: id), let target else { return nil }
        return FunnelRule(id: id, to: target, trigger: trigger)
    }

    private mutating func readTrigger(_ node: DocumentNode, rule: String) -> FunnelTrigger? {
        guard case .mapping(let pairs, _) = node else {
            problem(
                node.line,
                rule,
                "when must be a mapping: { temperature: … }, { disqualified: … }, { event: … } or a condition"
            )
            return nil
        }
        let keys = Set(pairs.map(\.key))
        if keys.contains("temperature") {
            guard keys == ["temperature"], let value = pairs.first?.value else {
                problem(node.line, rule, "temperature must be alone in its when")
                return nil
            }
            var names: [DocumentNode] = []
            if case .sequence(let items, _) = value { names = items } else { names = [value] }
            var temperatures: Set<Temperature> = []
            for name in names {
                guard case .scalar(.string(let text), _) = name, let temperature = Temperature(rawValue: text) else {
                    problem(name.line, rule, "temperature must be cold, warm, hot or disqualified (or a list of them)")
                    return nil
                }
                temperatures.insert(temperature)
            }
            return temperatures.isEmpty ? nil : .temperature(temperatures)
        }
        if keys.contains("disqualified") {
            guard keys == ["disqualified"], case .scalar(.bool(let value), _)? = pairs.first?.value else {
                problem(node.line, rule, "disqualified takes true or false, alone in its when")
                return nil
            }
            return .disqualified(value)
        }
        if keys.contains("event") {
            var fields: [String: DocumentNode] = [:]
            for pair in pairs { fields[pair.key] = pair.value }
            for key in keys.subtracting(["event", "where"]).sorted() {
                problem(node.line, rule, "unknown key '\(key)' with event (expected event, where)")
            }
            guard let types = fields["event"].flatMap({ readEventTypes($0, rule: rule) }) else { return nil }
            let condition = fields["where"].flatMap { readCondition($0, rule: rule) }
            if fields["where"] != nil, condition == nil { return nil }
            return .event(types: types, condition: condition)
        }
        return readCondition(node, rule: rule).map(FunnelTrigger.condition)
    }
}
