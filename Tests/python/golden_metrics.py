"""Golden values for Calor's backtest metrics, computed with the pinned scikit-learn (Tests/python/requirements.txt).

    golden_metrics.py OUT.json

Writes, for each case (scores, labels, ids), what scikit-learn and SciPy compute: ROC AUC (`roc_auc_score`), average
precision (`average_precision_score`), KS (`scipy.stats.ks_2samp`), precision/recall (`precision_score`,
`recall_score`) with lift and the share flagged at thresholds, and the decile gains table (rows sorted by score
descending then id, cut with `numpy.array_split`); and Wilson 95% intervals from their closed form. Deterministic:
the same versions give the same file. Scripts/regenerate-golden runs it into Tests/LearningTests/Fixtures.
"""

import json
import math
import sys

import numpy as np
import scipy
import sklearn
from scipy.stats import ks_2samp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, precision_score, recall_score, roc_auc_score


def case(name, scores, labels, thresholds):
    scores = [float(s) for s in scores]
    labels = [int(y) for y in labels]
    ids = list(range(len(scores)))
    y = np.array(labels)
    s = np.array(scores)
    both = 0 < y.sum() < len(y)
    result = {
        "name": name,
        "scores": scores,
        "labels": labels,
        "auc": float(roc_auc_score(y, s)) if both else None,
        "average_precision": float(average_precision_score(y, s)) if y.sum() > 0 else None,
        "ks": float(ks_2samp(s[y == 1], s[y == 0]).statistic) if both else None,
        "thresholds": [],
    }
    for t in thresholds:
        flagged = (s >= t).astype(int)
        entry = {"threshold": t, "flagged": int(flagged.sum())}
        entry["precision"] = float(precision_score(y, flagged, zero_division=0)) if flagged.sum() > 0 else None
        entry["recall"] = float(recall_score(y, flagged, zero_division=0)) if y.sum() > 0 else None
        base = y.mean()
        entry["lift"] = entry["precision"] / base if entry["precision"] is not None and base > 0 else None
        entry["flagged_share"] = float(flagged.mean())
        result["thresholds"].append(entry)
    order = sorted(ids, key=lambda i: (-scores[i], i))
    ranked = y[order]
    deciles = []
    captured = 0
    for number, part in enumerate(np.array_split(ranked, 10), start=1):
        captured += int(part.sum())
        rate = float(part.mean()) if len(part) else None
        deciles.append({
            "decile": number,
            "n": int(len(part)),
            "conversions": int(part.sum()),
            "rate": rate,
            "lift": rate / y.mean() if rate is not None and y.mean() > 0 else None,
            "cumulative_capture": captured / int(y.sum()) if y.sum() > 0 else None,
        })
    result["deciles"] = deciles
    return result


def logistic(name, X, y, C):
    """scikit-learn's L1 logistic regression (saga, tol 1e-8) and its objective in Calor's scale."""
    model = LogisticRegression(penalty="l1", C=C, solver="saga", tol=1e-8, max_iter=1_000_000, fit_intercept=True,
                               random_state=0)
    model.fit(X, y)
    n = len(y)
    lam = 1.0 / (C * n)
    margins = X @ model.coef_[0] + model.intercept_[0]
    signed = np.where(y == 1, -margins, margins)
    loss = float(np.mean(np.logaddexp(0.0, signed)))
    return {
        "name": name,
        "features": [[float(v) for v in row] for row in X],
        "labels": [int(v) for v in y],
        "C": C,
        "lambda": lam,
        "coef": [float(v) for v in model.coef_[0]],
        "intercept": float(model.intercept_[0]),
        "objective": loss + lam * float(np.abs(model.coef_[0]).sum()),
        "decision": [float(v) for v in margins],
    }


def logistic_problems(rng):
    problems = []
    # Binary features, three that matter, three that do not.
    X = (rng.random((400, 6)) < [0.3, 0.5, 0.2, 0.4, 0.5, 0.1]).astype(float)
    logit = -1.5 + 1.8 * X[:, 0] + 1.0 * X[:, 1] - 1.2 * X[:, 2]
    y = (rng.random(400) < 1 / (1 + np.exp(-logit))).astype(int)
    for C in [0.01, 0.05, 1.0]:
        problems.append(logistic(f"binary C={C}", X, y, C))
    # Event counts 0..3 and binary attributes, correlated.
    base = rng.random((1000, 1))
    counts = np.minimum(3, rng.poisson(base * [1.5, 0.5, 2.0, 0.2] + 0.1, size=(1000, 4))).astype(float)
    flags = (rng.random((1000, 8)) < np.clip(base * 0.6 + 0.1, 0, 1)).astype(float)
    X = np.hstack([counts, flags])
    logit = -2.0 + 0.7 * counts[:, 0] + 0.9 * flags[:, 0] - 0.5 * counts[:, 3]
    y = (rng.random(1000) < 1 / (1 + np.exp(-logit))).astype(int)
    for C in [0.002, 0.02, 0.5]:
        problems.append(logistic(f"counts C={C}", X, y, C))
    return problems


def wilson(k, n, z=1.959963984540054):
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return {"successes": k, "trials": n, "low": max(0.0, centre - half), "high": min(1.0, centre + half)}


def main():
    rng = np.random.default_rng(20261206)
    cases = []
    # Many ties: integer scores 0..20, conversion more likely with the score.
    tied = rng.integers(0, 21, size=600)
    cases.append(case("many ties", tied, rng.random(600) < 1 / (1 + np.exp(-(tied - 14) / 3)), [5, 10, 15, 20, 21]))
    # Scores on a continuous scale with cents, as Calor's totals are.
    smooth = np.round(rng.normal(40, 20, size=1500), 2)
    cases.append(case("cents", smooth, rng.random(1500) < 1 / (1 + np.exp(-(smooth - 60) / 10)), [40, 70]))
    # Four values only, 1003 rows: deciles cut through ties (the tie broken by id).
    few = rng.choice([0, 10, 20, 30], size=1003)
    cases.append(case("four values", few, rng.random(1003) < few / 60, [10, 30]))
    cases.append(case("all equal", [25.0] * 50, [1] * 7 + [0] * 43, [25, 26]))
    cases.append(case("one class", rng.integers(0, 50, size=40), [0] * 40, [10]))
    cases.append(case("only positives", rng.integers(0, 50, size=30), [1] * 30, [10]))
    cases.append(case("perfect separation", list(range(100)), [0] * 60 + [1] * 40, [50, 60, 61]))
    cases.append(case("reversed", list(range(100)), [1] * 30 + [0] * 70, [50]))
    cases.append(case("negative scores", np.round(rng.normal(-20, 15, size=300), 2), rng.random(300) < 0.2, [-20, 0]))
    intervals = [wilson(k, n) for k, n in [(0, 10), (10, 10), (1, 3), (7, 50), (120, 1000), (5000, 10000), (1, 1)]]
    out = {
        "generated_by": "Tests/python/golden_metrics.py",
        "versions": {"scikit-learn": sklearn.__version__, "scipy": scipy.__version__, "numpy": np.__version__},
        "cases": cases,
        "wilson": intervals,
        "logistic": logistic_problems(np.random.default_rng(17)),
    }
    with open(sys.argv[1], "w") as handle:
        # One line per case: the file stays readable in a diff without a line per number.
        handle.write("{\n")
        items = sorted(out.items())
        for index, (key, value) in enumerate(items):
            if isinstance(value, list):
                handle.write(f"{json.dumps(key)}: [\n")
                handle.write(",\n".join(json.dumps(item, sort_keys=True, separators=(",", ":")) for item in value))
                handle.write("\n]")
            else:
                handle.write(f"{json.dumps(key)}: {json.dumps(value, sort_keys=True)}")
            handle.write(",\n" if index < len(items) - 1 else "\n")
        handle.write("}")
        handle.write("\n")


if __name__ == "__main__":
    main()
