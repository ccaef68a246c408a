"""Sends identify, track and page calls to a Calor server through the official Segment and RudderStack libraries.

Usage: sdk_clients.py ADDRESS WRITE_KEY
"""
import sys

import segment.analytics as segment
from rudderstack.analytics import Client as RudderClient

address, write_key = sys.argv[1], sys.argv[2]
failures = []


def on_error(error, items):
    failures.append(repr(error))


# Segment: gzip bodies, write key as Basic auth and in the body.
segment.write_key = write_key
segment.host = address
segment.sync_mode = True
segment.gzip = True
segment.on_error = on_error
segment.page(anonymous_id="seg-visitor", name="Pricing", properties={"path": "/pricing"})
segment.page(anonymous_id="seg-visitor", name="Features", properties={"path": "/features"})
segment.identify(
    "seg-user",
    {"email": "segment.user@acme.example", "firstName": "Sam", "title": "CTO",
     "company": {"name": "Acme", "industry": "software", "employee_count": 250}},
    anonymous_id="seg-visitor",
)
segment.track("seg-user", "Quote Requested", {"plan": "pro"},
              context={"campaign": {"source": "google", "medium": "cpc", "name": "spring"}})
segment.flush()

# RudderStack: its own client, traits in context.traits.
rudder = RudderClient(write_key, address, sync_mode=True, on_error=on_error)
rudder.identify("rudder-user", {"email": "rudder.user@acme.example", "employees": 10})
rudder.track("rudder-user", "Email Opened")
rudder.track("rudder-user", "Email Opened")
rudder.page("rudder-user", name="Home", properties={"path": "/"})
rudder.flush()

if failures:
    print("FAILED", failures)
    sys.exit(1)
print("SENT")
