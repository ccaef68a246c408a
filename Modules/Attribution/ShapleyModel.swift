/// Shapley values in closed form: with the characteristic function of a channel set S the conversions (value) of
/// the journeys whose channel set is within S, φ_i = Σ_{T ∋ i} R(T) ÷ |T|, R(T) the conversions (value) of the
/// journeys whose channel set is exactly T.
public enum ShapleyModel {
    public static func attribute(_ journeys: [Journey]) -> [String: ChannelCredit] {
        var credit: [String: ChannelCredit] = [:]
        for journey in journeys { self.credit(journey, to: &credit) }
        return credit
    }

    /// Adds one journey's share to `credit`: its conversions and value, split equally among its distinct channels.
    static func credit(_ journey: Journey, to credit: inout [String: ChannelCredit]) {
        guard journey.conversions > 0 || journey.value > 0 else { return }
        let set = Set(journey.channels)
        for channel in set {
            credit[channel, default: ChannelCredit()].conversions += journey.conversions / Double(set.count)
            credit[channel, default: ChannelCredit()].value += journey.value / Double(set.count)
        }
    }
}
