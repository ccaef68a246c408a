import Foundation

/// Features column by column, sparse: most features of leads are 0 most of the time.
public struct SparseColumns: Sendable {
    public let rows: Int
    /// For each feature, the rows where it is not 0 (ascending) and its values there.
    public private(set) var indices: [[Int32]]
    public private(set) var values: [[Double]]

    public init(rows: Int, features: Int) {
        self.rows = rows
        indices = Array(repeating: [], count: features)
        values = Array(repeating: [], count: features)
    }

    public var features: Int { indices.count }

    /// Sets feature `feature` of row `row` (rows in ascending order per feature; 0 is not stored).
    public mutating func set(row: Int, feature: Int, value: Double) {
        guard value != 0 else { return }
        indices[feature].append(Int32(row))
        values[feature].append(value)
    }

    /// Only these rows, renumbered in order.
    public func subset(_ keep: [Bool]) -> SparseColumns {
        var number = [Int32](repeating: -1, count: rows)
        var count: Int32 = 0
        for row in 0..<rows where keep[row] {
            number[row] = count
            count += 1
        }
        var result = SparseColumns(rows: Int(count), features: features)
        for feature in 0..<features {
            for (position, row) in indices[feature].enumerated() where number[Int(row)] >= 0 {
                result.indices[feature].append(number[Int(row)])
                result.values[feature].append(values[feature][position])
            }
        }
        return result
    }
}

/// L1-regularised logistic regression, solved deterministically by proximal Newton steps whose quadratic models are
/// minimised by cyclic coordinate descent (as glmnet does), with a backtracking line search on the true objective.
///
/// It minimises `(1/n) Σ log(1 + exp(−sᵢ (b + xᵢ·w))) + λ ‖w‖₁` (sᵢ = ±1; the intercept b is not penalised): scikit-learn's
/// `LogisticRegression(penalty="l1", C=1/(n λ))` minimises the same function times `n λ`.
public struct L1Logistic: Sendable {
    public var intercept: Double
    public var weights: [Double]
    /// The objective at the solution.
    public var objective: Double
    /// Outer (Newton) iterations used.
    public var iterations: Int

    /// The objective of `intercept` and `weights` on these rows.
    public static func objective(
        _ columns: SparseColumns,
        labels: [Bool],
        intercept: Double,
        weights: [Double],
        lambda: Double
    ) -> Double {
        let margins = linear(columns, intercept: intercept, weights: weights)
        return loss(margins, labels) + lambda * weights.reduce(0) { $0 + abs($1) }
    }

    static func linear(_ columns: SparseColumns, intercept: Double, weights: [Double]) -> [Double] {
        var margins = [Double](repeating: intercept, count: columns.rows)
        for feature in 0..<columns.features where weights[feature] != 0 {
            let weight = weights[feature]
            let values = columns.values[feature]
            for (position, row) in columns.indices[feature].enumerated() {
                margins[Int(row)] += values[position] * weight
            }
        }
        return margins
    }

    /// Mean log loss, computed stably.
    static func loss(_ margins: [Double], _ labels: [Bool]) -> Double {
        var total = 0.0
        for (margin, label) in zip(margins, labels) {
            let z = label ? -margin : margin
            total += z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))
        }
        return total / Double(max(margins.count, 1))
    }

    /// The smallest λ at which every weight is 0.
    public static func lambdaMax(_ columns: SparseColumns, labels: [Bool]) -> Double {
        let n = Double(columns.rows)
        let rate = Double(labels.count { $0 }) / n
        var best = 0.0
        for feature in 0..<columns.features {
            var gradient = 0.0
            for (position, row) in columns.indices[feature].enumerated() {
                gradient += columns.values[feature][position] * ((labels[Int(row)] ? 1 : 0) - rate)
            }
            best = max(best, abs(gradient) / n)
        }
        return best
    }

    /// Fits the model; `start` warm-starts it (a path of decreasing λ).
    public static func fit(
        _ columns: SparseColumns,
        labels: [Bool],
        lambda: Double,
        start: L1Logistic? = nil,
        tolerance: Double = 1e-12,
        innerTolerance: Double = 1e-20,
        maximumIterations: Int = 200,
        maximumSweeps: Int = 10_000
    ) -> L1Logistic {
        let n = Double(columns.rows)
        let d = columns.features
        var weights = start?.weights ?? [Double](repeating: 0, count: d)
        let positives = Double(labels.count { $0 })
        var intercept =
            start?.intercept ?? log(max(positives, 0.5) / max(n - positives, 0.5))
        var objective = Self.objective(columns, labels: labels, intercept: intercept, weights: weights, lambda: lambda)
        var iteration = 0
        var curvature = [Double](repeating: 0, count: Int(n))
        var residual = [Double](repeating: 0, count: Int(n))
        while iteration < maximumIterations {
            iteration += 1
            let margins = linear(columns, intercept: intercept, weights: weights)
            // The quadratic model: curvature p(1 − p), working residual (y − p) / (p(1 − p)).
            for row in 0..<Int(n) {
                let p = 1 / (1 + exp(-margins[row]))
                let w = max(p * (1 - p), 1e-10)
                curvature[row] = w
                residual[row] = ((labels[row] ? 1 : 0) - p) / w
            }
            var newIntercept = intercept
            var newWeights = weights
            // Per feature: Σ w x² / n, fixed within this model.
            var scale = [Double](repeating: 0, count: d)
            for feature in 0..<d {
                var sum = 0.0
                for (position, row) in columns.indices[feature].enumerated() {
                    let x = columns.values[feature][position]
                    sum += curvature[Int(row)] * x * x
                }
                scale[feature] = sum / n
            }
            let totalCurvature = curvature.reduce(0, +)
            // Cyclic coordinate descent on the model: full sweeps, and between them sweeps over the features with a
            // weight only (most stay at 0), until a full sweep changes nothing.
            var sweepAll = true
            for _ in 0..<maximumSweeps {
                var largest = 0.0
                // The intercept, unpenalised.
                var shift = 0.0
                for row in 0..<Int(n) { shift += curvature[row] * residual[row] }
                shift /= totalCurvature
                if shift != 0 {
                    newIntercept += shift
                    for row in 0..<Int(n) { residual[row] -= shift }
                    largest = max(largest, totalCurvature / n * shift * shift)
                }
                for feature in 0..<d where scale[feature] > 0 && (sweepAll || newWeights[feature] != 0) {
                    let indices = columns.indices[feature]
                    let values = columns.values[feature]
                    var gradient = 0.0
                    for (position, row) in indices.enumerated() {
                        gradient += curvature[Int(row)] * values[position] * residual[Int(row)]
                    }
                    let old = newWeights[feature]
                    let target = gradient / n + scale[feature] * old
                    let updated = softThreshold(target, lambda) / scale[feature]
                    let change = updated - old
                    guard change != 0 else { continue }
                    newWeights[feature] = updated
                    for (position, row) in indices.enumerated() { residual[Int(row)] -= values[position] * change }
                    // The change's effect on the model (its curvature times its square), as glmnet measures it.
                    largest = max(largest, scale[feature] * change * change)
                }
                if largest < innerTolerance {
                    if sweepAll { break }
                    sweepAll = true
                } else {
                    sweepAll = false
                }
            }
            // Line search on the true objective along the step.
            var step = 1.0
            var accepted = false
            var candidateObjective = objective
            var candidateIntercept = intercept
            var candidateWeights = weights
            for _ in 0..<40 {
                candidateIntercept = intercept + step * (newIntercept - intercept)
                candidateWeights = zip(weights, newWeights).map { $0 + step * ($1 - $0) }
                candidateObjective = Self.objective(
                    columns,
                    labels: labels,
                    intercept: candidateIntercept,
                    weights: candidateWeights,
                    lambda: lambda
                )
                if candidateObjective <= objective {
                    accepted = true
                    break
                }
                step /= 2
            }
            guard accepted else { break }
            let improvement = objective - candidateObjective
            let moved = zip(weights, candidateWeights).map { abs($0 - $1) }.max() ?? 0
            intercept = candidateIntercept
            weights = candidateWeights
            objective = candidateObjective
            // Converged when a Newton step no longer improves the objective (relative to its size), or no longer moves.
            if improvement <= tolerance * max(1, abs(objective)) || moved < 1e-12 { break }
        }
        return L1Logistic(intercept: intercept, weights: weights, objective: objective, iterations: iteration)
    }

    static func softThreshold(_ value: Double, _ threshold: Double) -> Double {
        value > threshold ? value - threshold : value < -threshold ? value + threshold : 0
    }

    /// `b + x·w` for each row.
    public func decisionValues(_ columns: SparseColumns) -> [Double] {
        Self.linear(columns, intercept: intercept, weights: weights)
    }
}
