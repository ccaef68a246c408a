"""Fault trials for calor-server (driven by Scripts/chaos, which builds the binaries and starts PostgreSQL).

Scenarios, each printing one line of figures (JSON) and failing loudly when a promise breaks:
  kill        N trials of `kill -9` at random moments while 4 clients send batches; restart; at the end every
              acknowledged event is stored exactly once, the database reads whole, scores equal a full recomputation.
  pg-restart  PostgreSQL stopped for a while under load: the server answers 503 with Retry-After, never exits, and
              serves again by itself once PostgreSQL is back; nothing acknowledged is lost.
  disk-full   SQLite on a small tmpfs that fills up under load: 503 meanwhile, no corruption, serves again once space
              returns; nothing acknowledged is lost.
  two-servers two servers on one PostgreSQL, sustained concurrent load on the same leads: the stored scores equal a
              full recomputation.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

CRITERIA = """
thresholds: { warm: 20, hot: 50 }
fit:
  - { id: big, if: { field: company_size, gte: 100 }, points: 30 }
engagement:
  - { id: quote, event: [quote_requested, demo_requested], points: 40 }
  - { id: visits, event: page_viewed, points: 2, cap: 10 }
  - { id: opens, event: email_opened, points: 1 }
"""
TYPES = ["page_viewed", "email_opened", "quote_requested", "demo_requested"]


def log(message):
    print(f"chaos: {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Calor:
    """A database with criteria and an ingest key, and the server processes serving it."""

    def __init__(self, bin_dir, database, work):
        self.bin = bin_dir
        self.database = database
        self.work = work
        self.servers = {}
        self.cli("init")
        path = os.path.join(work, "criteria.yaml")
        with open(path, "w") as f:
            f.write(CRITERIA)
        self.cli("criteria", "apply", path)
        self.key = json.loads(self.cli("keys", "create", "--scope", "ingest", "--name", "chaos", "--format", "json"))[
            "key"
        ]

    def cli(self, *arguments):
        done = subprocess.run(
            [os.path.join(self.bin, "calor"), *arguments, "--database", self.database],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"calor {' '.join(arguments)} failed: {done.stderr}")
        return done.stdout

    def start(self, port):
        logfile = open(os.path.join(self.work, f"server-{port}.log"), "a")
        process = subprocess.Popen(
            [os.path.join(self.bin, "calor-server"), "--port", str(port), "--database", self.database],
            stdout=logfile,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_UNBLOCK, range(1, signal.NSIG)),
        )
        self.servers[port] = process
        deadline = time.time() + 60
        while time.time() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"calor-server exited with {process.returncode} at start (see {logfile.name})")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    return process
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        raise RuntimeError("calor-server did not start within a minute")

    def kill(self, port):
        process = self.servers.pop(port)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self, port):
        process = self.servers.pop(port)
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
        if code != 0:
            raise RuntimeError(f"calor-server exited with {code} on SIGTERM")

    def alive(self, port):
        return self.servers[port].poll() is None


class Client(threading.Thread):
    """Sends batches of 50 new events (some for leads other clients write too), retrying each until acknowledged."""

    def __init__(self, number, calor, ports, stop):
        super().__init__(daemon=True)
        self.number = number
        self.calor = calor
        self.ports = ports
        self.halt = stop
        self.acknowledged = set()
        self.sent = 0
        self.statuses = {}
        self.retry_after = 0
        self.prefix = f"c{number}-{random.getrandbits(32):08x}"

    def post(self, port, body):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/events",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.calor.key}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as answer:
                return answer.status, json.loads(answer.read()), answer.headers
        except urllib.error.HTTPError as error:
            return error.code, None, error.headers
        except (urllib.error.URLError, OSError, TimeoutError):
            return "no answer", None, {}

    def run(self):
        batch = 0
        while not self.halt.is_set():
            ids = [f"{self.prefix}-b{batch}-e{i}" for i in range(50)]
            events = [
                {
                    "type": TYPES[(batch + i) % len(TYPES)],
                    "message_id": message_id,
                    "lead": {"email": f"lead{(self.number * 7 + batch + i) % 40}@chaos.example"},
                }
                for i, message_id in enumerate(ids)
            ]
            self.sent += len(ids)
            while not self.halt.is_set():
                port = self.ports[(batch + self.number) % len(self.ports)]
                status, answer, headers = self.post(port, {"batch": events})
                self.statuses[status] = self.statuses.get(status, 0) + 1
                if status == 503 and headers.get("Retry-After"):
                    self.retry_after += 1
                if status == 200 and all(r["status"] in ("accepted", "duplicate") for r in answer["results"]):
                    self.acknowledged.update(ids)
                    break
                time.sleep(0.05)
            batch += 1


def stored_message_ids(database):
    """Every stored event's message id, read straight from the database (which must read whole)."""
    if database.startswith("host="):
        done = subprocess.run(
            ["psql", database, "-At", "-c", "SELECT message_id FROM events"],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.split()
    connection = sqlite3.connect(database)
    check = connection.execute("PRAGMA integrity_check").fetchall()
    if check != [("ok",)]:
        raise AssertionError(f"integrity_check: {check}")
    ids = [row[0] for row in connection.execute("SELECT message_id FROM events")]
    connection.close()
    return ids


def scores(database):
    query = (
        "SELECT lead_id, fit, engagement, total, temperature, grade, disqualified, explanation FROM scores "
        "ORDER BY lead_id"
    )
    if database.startswith("host="):
        done = subprocess.run(["psql", database, "-At", "-c", query], capture_output=True, text=True, check=True)
        return done.stdout.splitlines()
    connection = sqlite3.connect(database)
    rows = ["|".join(map(str, row)) for row in connection.execute(query)]
    connection.close()
    return rows


def verify(calor, clients, figures):
    """Exactly once, readable, and scores equal to a full recomputation (`calor rescore --full`)."""
    stored = stored_message_ids(calor.database)
    acknowledged = set().union(*(c.acknowledged for c in clients))
    ours = [m for m in stored if m.startswith("c")]
    lost = acknowledged - set(ours)
    figures.update(
        events_sent=sum(c.sent for c in clients),
        acknowledged=len(acknowledged),
        stored=len(ours),
        lost=len(lost),
        duplicates=len(ours) - len(set(ours)),
    )
    if lost or figures["duplicates"]:
        raise AssertionError(f"{len(lost)} acknowledged events lost, {figures['duplicates']} stored twice")
    before = scores(calor.database)
    calor.cli("rescore", "--full")
    after = scores(calor.database)
    figures["leads"] = len(before)
    figures["scores_differing_from_full"] = sum(1 for a, b in zip(before, after) if a != b) + abs(
        len(before) - len(after)
    )
    if figures["scores_differing_from_full"]:
        raise AssertionError(f"{figures['scores_differing_from_full']} stored scores differ from a full recomputation")


def run_clients(calor, ports, count=4):
    stop = threading.Event()
    clients = [Client(n, calor, ports, stop) for n in range(count)]
    for client in clients:
        client.start()
    return clients, stop


def finish(clients, stop):
    stop.set()
    for client in clients:
        client.join(timeout=60)


def statuses(clients):
    merged = {}
    for client in clients:
        for status, count in client.statuses.items():
            merged[str(status)] = merged.get(str(status), 0) + count
    return merged


def await_recovery(clients, since):
    """Seconds from `since` until a client's batch is acknowledged again; None when none is within a minute."""
    acknowledged = sum(len(c.acknowledged) for c in clients)
    while time.time() - since < 60:
        time.sleep(0.1)
        if sum(len(c.acknowledged) for c in clients) > acknowledged:
            return time.time() - since
    return None


def scenario_kill(args, backend, database, work):
    calor = Calor(args.bin, database, work)
    port = free_port()
    calor.start(port)
    clients, stop = run_clients(calor, [port])
    started = time.time()
    for trial in range(args.trials):
        time.sleep(random.uniform(0.3, 2.5))
        calor.kill(port)
        calor.start(port)
        log(f"kill: trial {trial + 1}/{args.trials} ({backend})")
    time.sleep(1)
    finish(clients, stop)
    figures = {"scenario": "kill", "backend": backend, "trials": args.trials, "seconds": round(time.time() - started)}
    figures["answers"] = statuses(clients)
    calor.stop(port)
    verify(calor, clients, figures)
    return figures


def scenario_pg_restart(args, backend, database, work):
    calor = Calor(args.bin, database, work)
    port = free_port()
    calor.start(port)
    clients, stop = run_clients(calor, [port])
    time.sleep(3)
    before = statuses(clients)
    pg = os.environ["CALOR_PG_CTL"].split()
    subprocess.run(pg + ["stop", "-m", "fast"], check=True, capture_output=True)
    stopped = time.time()
    time.sleep(args.outage)
    if not calor.alive(port):
        raise AssertionError("calor-server exited while PostgreSQL was down")
    during = {k: v - before.get(k, 0) for k, v in statuses(clients).items()}
    retry_after = sum(c.retry_after for c in clients)
    subprocess.run(
        pg + ["start", "-w", "-l", os.environ["CALOR_PG_LOG"], "-o", os.environ["CALOR_PG_OPTIONS"]],
        check=True,
        capture_output=True,
    )
    restarted = time.time()
    recovered = await_recovery(clients, restarted)
    time.sleep(2)
    finish(clients, stop)
    if recovered is None:
        raise AssertionError("the server did not serve again within a minute of PostgreSQL's restart")
    if not calor.alive(port):
        raise AssertionError("calor-server exited")
    figures = {
        "scenario": "pg-restart",
        "backend": backend,
        "outage_seconds": round(restarted - stopped, 1),
        "answers_during_outage": during,
        "503_with_retry_after": retry_after,
        "recovered_after_seconds": round(recovered, 2),
    }
    bad = {k: v for k, v in during.items() if k not in ("200", "503")}
    if bad:
        raise AssertionError(f"answers other than 503 while PostgreSQL was down: {bad}")
    calor.stop(port)
    verify(calor, clients, figures)
    return figures


def scenario_disk_full(args, backend, database, work):
    mount = os.path.join(work, "small")
    os.makedirs(mount)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", mount], check=True)
    try:
        database = os.path.join(mount, "calor.sqlite")
        calor = Calor(args.bin, database, work)
        port = free_port()
        calor.start(port)
        clients, stop = run_clients(calor, [port])
        time.sleep(2)
        filler = os.path.join(mount, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * (1 << 20))
                    f.flush()
            except OSError:
                pass
        full_at = time.time()
        filler_bytes = os.path.getsize(filler)
        before = statuses(clients)
        time.sleep(args.outage)
        if not calor.alive(port):
            raise AssertionError("calor-server exited on a full disk")
        during = {k: v - before.get(k, 0) for k, v in statuses(clients).items()}
        os.remove(filler)
        freed = time.time()
        recovered = await_recovery(clients, freed)
        time.sleep(2)
        finish(clients, stop)
        if recovered is None:
            raise AssertionError("the server did not serve again within a minute of space returning")
        figures = {
            "scenario": "disk-full",
            "backend": backend,
            "full_seconds": round(freed - full_at, 1),
            "filler_mb": round(filler_bytes / 2**20),
            "answers_while_full": during,
            "503_with_retry_after": sum(c.retry_after for c in clients),
            "recovered_after_seconds": round(recovered, 2),
        }
        bad = {k: v for k, v in during.items() if k not in ("200", "503")}
        if bad:
            raise AssertionError(f"answers other than 503 on a full disk: {bad}")
        calor.stop(port)
        verify(calor, clients, figures)
        return figures
    finally:
        subprocess.run(["umount", "-l", mount], check=False)


def scenario_two_servers(args, backend, database, work):
    calor = Calor(args.bin, database, work)
    ports = [free_port(), free_port()]
    for port in ports:
        calor.start(port)
    clients, stop = run_clients(calor, ports, count=8)
    time.sleep(args.seconds)
    finish(clients, stop)
    figures = {"scenario": "two-servers", "backend": backend, "seconds": args.seconds, "answers": statuses(clients)}
    for port in ports:
        calor.stop(port)
    verify(calor, clients, figures)
    return figures


SCENARIOS = {
    "kill": (scenario_kill, ["sqlite", "postgres"]),
    "pg-restart": (scenario_pg_restart, ["postgres"]),
    "disk-full": (scenario_disk_full, ["sqlite"]),
    "two-servers": (scenario_two_servers, ["postgres"]),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--outage", type=float, default=8)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    args = parser.parse_args()
    failed = False
    for name in args.scenarios:
        function, backends = SCENARIOS[name]
        for backend in backends:
            work = tempfile.mkdtemp(prefix="calor-chaos.")
            if backend == "postgres":
                database_name = f"chaos_{random.getrandbits(32):08x}"
                subprocess.run(["psql", os.environ["CALOR_PG_URL"], "-qc", f"CREATE DATABASE {database_name}"], check=True)
                database = os.environ["CALOR_PG_URL"].replace("dbname=postgres", f"dbname={database_name}")
            else:
                database = os.path.join(work, "calor.sqlite")
            try:
                figures = function(args, backend, database, work)
                figures["result"] = "passed"
            except Exception as error:  # a broken promise: report it and go on with the other scenarios
                figures = {"scenario": name, "backend": backend, "result": f"FAILED: {error}", "work": work}
                failed = True
            print(json.dumps(figures), flush=True)
            if figures["result"] == "passed":
                shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
