"""A webhook receiver for the end-to-end tests, and the check of what it received with the official
`standardwebhooks` library.

    webhook_receiver.py serve LOG [--port PORT] [--responses 500,429:1,sleep:3,410] [--always STATUS] [--delay S]
                                  [--location URL]
        Listens on 127.0.0.1 (PORT, or a free port; printed as `listening on PORT`), answers each request with the next of
        --responses (a status, `STATUS:RETRY_AFTER_SECONDS`, or `sleep:SECONDS` then 200), then with --always (200
        by default), each after S seconds (0 by default) and with a Location header when given, and appends each request it answered with 2xx to LOG, one JSON object a line: its headers and
        body. Stops by itself after 10 minutes.
    webhook_receiver.py verify LOG SECRET
        Verifies every logged request with standardwebhooks.Webhook(SECRET).verify and prints one JSON object a
        line: whether it verified, the message id, its type, its lead, its change's target, how many signatures.
"""

import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(log_path, port, responses, always, delay, location):
    lock = threading.Lock()
    script = list(responses)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            time.sleep(delay)
            with lock:
                step = script.pop(0) if script else str(always)
            if step.startswith("sleep:"):
                time.sleep(float(step.split(":")[1]))
                step = "200"
            status, _, retry_after = step.partition(":")
            status = int(status)
            self.send_response(status)
            if retry_after:
                self.send_header("Retry-After", retry_after)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            if 200 <= status < 300:
                entry = {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body.decode()}
                with lock, open(log_path, "a") as log:
                    log.write(json.dumps(entry) + "\n")

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    threading.Timer(600, server.shutdown).start()
    server.serve_forever()


def verify(log_path, secret):
    from standardwebhooks.webhooks import Webhook

    hook = Webhook(secret)
    with open(log_path) as log:
        for line in log:
            entry = json.loads(line)
            headers = entry["headers"]
            try:
                hook.verify(entry["body"], headers)
                verified = True
            except Exception:  # noqa: BLE001
                verified = False
            payload = json.loads(entry["body"])
            data = payload.get("data", {})
            lead = data.get("lead") or {}
            change = data.get("change") or {}
            print(json.dumps({
                "verified": verified,
                "id": headers["webhook-id"],
                "type": payload["type"],
                "lead": lead.get("id"),
                "email": lead.get("email"),
                "to": change.get("to"),
                "signatures": len(headers["webhook-signature"].split(" ")),
            }), flush=True)


def main():
    command, log_path = sys.argv[1], sys.argv[2]
    if command == "serve":
        responses, always, port, delay, location = [], 200, 0, 0.0, None
        args = sys.argv[3:]
        while args:
            flag, value = args.pop(0), args.pop(0)
            if flag == "--responses":
                responses = [step for step in value.split(",") if step]
            elif flag == "--always":
                always = int(value)
            elif flag == "--port":
                port = int(value)
            elif flag == "--delay":
                delay = float(value)
            elif flag == "--location":
                location = value
        serve(log_path, port, responses, always, delay, location)
    elif command == "verify":
        verify(log_path, sys.argv[3])
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    # A process started from the Swift test runner inherits its blocked signals: unblock those that stop us.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    main()
