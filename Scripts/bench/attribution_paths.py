"""Generates a ChannelAttribution path file: 1,000,000 journeys over 8 channels, about 70,000 distinct paths.

Deterministic (seeded). Journey lengths are geometric (mean about 2.2, at most 30 touches); channels are drawn with
fixed weights, and each channel nudges the chance of converting; a conversion's value is drawn around 100-500.

    python3 attribution_paths.py OUT.csv [--journeys N]
"""
import argparse
import random
from collections import defaultdict

CHANNELS = ["direct", "organic_search", "paid_search", "email", "social", "display", "referral", "webinar"]
WEIGHTS = [0.22, 0.18, 0.16, 0.14, 0.12, 0.08, 0.06, 0.04]
LIFT = {"direct": 0.02, "organic_search": 0.03, "paid_search": 0.04, "email": 0.05, "social": 0.01,
        "display": 0.005, "referral": 0.03, "webinar": 0.08}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--journeys", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = random.Random(42)
    paths = defaultdict(lambda: [0, 0.0, 0])
    for _ in range(args.journeys):
        length = 1
        while length < 30 and rng.random() < 0.55:
            length += 1
        touches = rng.choices(CHANNELS, WEIGHTS, k=length)
        chance = min(0.9, 0.02 + sum(LIFT[c] for c in set(touches)))
        row = paths[" > ".join(touches)]
        if rng.random() < chance:
            row[0] += 1
            row[1] += round(rng.uniform(100, 500), 2)
        else:
            row[2] += 1
    with open(args.out, "w") as out:
        out.write("path;total_conversions;total_conversion_value;total_null\n")
        for path, (conversions, value, nulls) in paths.items():
            out.write(f"{path};{conversions};{value:.2f};{nulls}\n")
    print(f"{args.journeys} journeys, {len(paths)} distinct paths")


if __name__ == "__main__":
    main()
