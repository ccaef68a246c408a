"""A generated CRM history with a known truth, for the backtest and suggest tests and benchmarks.

    known_truth.py OUTDIR [--leads N] [--seed S]

Writes OUTDIR/leads.csv (email, industry, company_size, country, created_at), OUTDIR/events.ndjson (native events with
their past timestamps and message ids), OUTDIR/outcomes.csv (email, stage, at, value) and OUTDIR/crm_updates.csv
(email, deal_size, updated_at: a field the CRM fills once a lead has converted, leakage): leads created through
January to August 2025. What drives conversion (to `sql`, some then `customer`): being in software, having 200 people
or more, and a burst of intent (pricing pages and a quote request) a few days to a month before converting. Country and
blog reading are noise. Deterministic for a given seed.
"""

import csv
import json
import math
import os
import random
import sys
from datetime import datetime, timedelta, timezone

START = datetime(2025, 1, 1, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    out = sys.argv[1]
    args = sys.argv[2:]
    leads, seed = 4000, 7
    while args:
        flag, value = args.pop(0), args.pop(0)
        if flag == "--leads":
            leads = int(value)
        elif flag == "--seed":
            seed = int(value)
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    message = 0
    with open(os.path.join(out, "leads.csv"), "w", newline="") as leads_file, \
            open(os.path.join(out, "events.ndjson"), "w") as events_file, \
            open(os.path.join(out, "outcomes.csv"), "w", newline="") as outcomes_file, \
            open(os.path.join(out, "crm_updates.csv"), "w", newline="") as updates_file:
        updates = csv.writer(updates_file)
        updates.writerow(["email", "deal_size", "updated_at"])
        lead_rows = csv.writer(leads_file)
        lead_rows.writerow(["email", "industry", "company_size", "country", "created_at"])
        outcomes = csv.writer(outcomes_file)
        outcomes.writerow(["email", "stage", "at", "value"])

        def event(email, kind, moment, path=None):
            nonlocal message
            message += 1
            body = {"type": kind, "lead": {"email": email}, "timestamp": stamp(moment), "message_id": f"kt-{seed}-{message}"}
            if path:
                body["properties"] = {"path": path}
            events_file.write(json.dumps(body, separators=(",", ":")) + "\n")

        for number in range(leads):
            email = f"lead{number}@truth.example"
            created = START + timedelta(seconds=rng.randrange(0, 242 * 86400))
            industry = rng.choice(["software", "retail", "energy", "fintech"])
            size = int(math.exp(rng.uniform(math.log(5), math.log(5000))))
            country = rng.choice(["FR", "DE", "US", "BR"])
            lead_rows.writerow([email, industry, size, country, stamp(created)])
            # Noise: blog reading over the lead's life, whatever it does.
            for _ in range(rng.randrange(0, 8)):
                event(email, "page_viewed", created + timedelta(seconds=rng.randrange(0, 300 * 86400)), "/blog/post")
            logit = -2.2 + 1.8 * (industry == "software") + 1.4 * (size >= 200)
            if rng.random() < 1 / (1 + math.exp(-logit)):
                # Intent: pricing pages and a quote, then (mostly) a conversion a few days to a month later.
                intent = created + timedelta(seconds=rng.randrange(5 * 86400, 200 * 86400))
                for view in range(rng.randrange(1, 4)):
                    event(email, "page_viewed", intent - timedelta(hours=view * 5), "/pricing")
                if rng.random() < 0.85:
                    event(email, "quote_requested", intent)
                if rng.random() < 0.7:
                    converted = intent + timedelta(seconds=rng.randrange(2 * 86400, 30 * 86400))
                    outcomes.writerow([email, "sql", stamp(converted), ""])
                    updates.writerow([email, rng.randrange(1, 20) * 5000, stamp(converted + 3 * DAY)])
                    if rng.random() < 0.4:
                        outcomes.writerow([email, "customer", stamp(converted + 20 * DAY), rng.randrange(5, 50) * 1000])
            elif rng.random() < 0.03:
                outcomes.writerow([email, "sql", stamp(created + timedelta(seconds=rng.randrange(86400, 200 * 86400))), ""])


if __name__ == "__main__":
    main()
