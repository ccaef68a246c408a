"""Times Calor's pages as a signed-in person loads them: one request after another on one connection.

    pages_latency.py --base URL --email E --password P --key READ_KEY [--requests N] [--report-runs N]

Prints, per page, the median and 95th percentile over N requests (random lead ids for the lead page), and for the
report pages the median of their runs beside the median of the API route computing the same report.
"""

import argparse
import http.client
import random
import re
import statistics
import time
import urllib.parse


def connection(base):
    parsed = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=600)


def request(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    text = response.read().decode()
    return response.status, response.getheaders(), text


def sign_in(base, email, password):
    conn = connection(base)
    _, headers, text = request(conn, "GET", "/login")
    token = re.search(r'name="csrf" value="([^"]+)"', text).group(1)
    form_cookie = next(v for k, v in headers if k.lower() == "set-cookie").split(";")[0]
    body = urllib.parse.urlencode({"csrf": token, "email": email, "password": password, "next": "/"})
    status, headers, _ = request(conn, "POST", "/login", body,
                                 {"Content-Type": "application/x-www-form-urlencoded", "Cookie": form_cookie})
    assert status == 303, status
    return next(v for k, v in headers if k.lower() == "set-cookie" and v.startswith("calor_session")).split(";")[0]


def timed(conn, path, headers):
    start = time.perf_counter()
    status, _, text = request(conn, "GET", path, headers=headers)
    elapsed = (time.perf_counter() - start) * 1000
    assert status == 200, (path, status, text[:300])
    return elapsed, text


def summary(times):
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered) + 0.999) - 1)]
    return f"median {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms   ({len(ordered)} requests)"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--report-runs", type=int, default=3)
    arguments = parser.parse_args()
    cookie = {"Cookie": sign_in(arguments.base, arguments.email, arguments.password)}
    conn = connection(arguments.base)

    _, hot = timed(conn, "/", cookie)
    ids = re.findall(r'href="/leads/([0-9a-f-]{36})"', hot)
    _, listing = timed(conn, "/leads?sort=score", cookie)
    ids += re.findall(r'href="/leads/([0-9a-f-]{36})"', listing)
    cursor = re.search(r'href="(/leads\?[^"]*cursor=[^"]+)"', listing)
    pages = {
        "/ (hot leads)": lambda: "/",
        "/leads": lambda: "/leads",
        "/leads?temperature=warm&sort=score": lambda: "/leads?temperature=warm&sort=score",
        "/leads?channel=paid_search&min_score=30": lambda: "/leads?channel=paid_search&min_score=30",
        "/leads (second page)": lambda: cursor.group(1).replace("&amp;", "&"),
        "/leads/{id}": lambda: "/leads/" + random.choice(ids),
    }
    random.seed(7)
    print(f"pages, one request at a time ({arguments.requests} each):")
    for name, path in pages.items():
        times = [timed(conn, path(), cookie)[0] for _ in range(arguments.requests)]
        print(f"  {name:38s} {summary(times)}")

    key = {"Authorization": "Bearer " + arguments.key}
    reports = [
        ("/funnel", "/funnel", "/v1/reports/funnel", arguments.report_runs),
        ("/funnel?by=channel&cohort=month", "/funnel?by=channel&cohort=month",
         "/v1/reports/funnel?by=channel&cohort=month", arguments.report_runs),
        # A source report over every lead takes tens of seconds at a million leads: one run each.
        ("/sources?model=linear", "/sources?model=linear", "/v1/reports/sources?model=linear", 1),
    ]
    # The worst case: a filter that no lead matches reads every lead (no index serves that combination).
    times = [timed(conn, "/leads?channel=email&min_score=50", cookie)[0] for _ in range(20)]
    print(f"  {'/leads, a filter nothing matches':38s} {summary(times)}")

    print("report pages against their API route (medians):")
    for name, page_path, api, runs in reports:
        page_times = [timed(conn, page_path, cookie)[0] for _ in range(runs)]
        api_times = [timed(conn, api, key)[0] for _ in range(runs)]
        ratio = statistics.median(page_times) / statistics.median(api_times)
        print(f"  {name:38s} page {statistics.median(page_times):9.0f} ms   API {statistics.median(api_times):9.0f} ms"
              f"   ratio {ratio:.2f}   ({runs} run{'s' if runs > 1 else ''})")


if __name__ == "__main__":
    main()
