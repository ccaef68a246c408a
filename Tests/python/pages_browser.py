"""Calor's pages in a real browser: Debian's headless Chromium, driven by Selenium through chromedriver.

Run by Tests/EndToEndTests/PagesBrowserTests.swift against a running calor-server with the test criteria:

    pages_browser.py --base URL --calor BIN --database DB --keys JSON --shots DIR

Seeds leads through the API, adds one person per role with the real `calor users create --password-stdin`, then
checks, as each role, that every page shows what the API says, that forms need a session's CSRF token and the right
role, that hostile attribute values stay inert text, that logout ends the session and that repeated failed sign-ins
get 429, and runs axe-core on every page (no serious or critical violation). Screenshots of each page go to DIR.
Prints what it checked; exits 1 with the first failure.
"""

import argparse
import importlib.resources
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

PASSWORD = "correct horse battery"
PEOPLE = {
    "admin": "admin@corp.example",
    "sales": "sam@corp.example",
    "marketing": "mark@corp.example",
    "viewer": "vera@corp.example",
}
SCRIPT = '<script>window.__pwned = 1</script>'
IMAGE = '"><img src=x onerror="window.__pwned = 2">'
JAVASCRIPT_URL = 'javascript:window.__pwned = 3'


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)
    print("ok:", message)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http(method, url, body=None, headers=None, follow=False):
    """(status, headers, text) of one request; never raises on an HTTP status."""
    data = None
    headers = dict(headers or {})
    if isinstance(body, dict):
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        data = body.encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


class Calor:
    def __init__(self, base, keys):
        self.base = base
        self.keys = keys

    def api(self, method, path, body=None, scope="admin"):
        status, _, text = http(method, self.base + path, body, {"Authorization": "Bearer " + self.keys[scope]})
        if status >= 300:
            raise Failure(f"{method} {path}: {status} {text}")
        return json.loads(text) if text else None


def seed(calor):
    """Five leads: three hot (one carrying hostile text), one warm, one cold; scores by the test criteria."""
    leads = [
        ("alice@acme.example", {"company_size": 250, "company": "Acme"}, "paid_search", ["quote_requested"]),
        ("bob@big.example", {"company_size": 500, "company": "Big"}, "paid_search",
         ["quote_requested", "page_viewed", "page_viewed", "page_viewed"]),
        ("carol@mid.example", {"company_size": 120, "company": "Mid"}, "organic", []),
        ("dan@small.example", {"company_size": 5, "company": "Small"}, "email", ["email_opened", "email_opened"]),
        ("eve@evil.example",
         {"company_size": 300, "company": SCRIPT, "title": IMAGE, "website": JAVASCRIPT_URL}, "organic",
         ["quote_requested"]),
    ]
    ids = {}
    for email, attributes, channel, events in leads:
        answer = calor.api("PUT", "/v1/leads", {"email": email, "attributes": attributes,
                                                 "source": {"channel": channel, "campaign": "spring"}})
        ids[email] = answer["id"]
        for number, kind in enumerate(events):
            calor.api("POST", "/v1/events", {"message_id": f"{email}-{number}", "type": kind,
                                              "lead": {"email": email}, "timestamp": f"2026-11-0{number + 1}T10:00:00Z"},
                      scope="ingest")
    # A customer with an order's value, and what paid search cost: the sources page's revenue, cost and ROI.
    calor.api("POST", f"/v1/leads/{ids['bob@big.example']}/stage", {"stage": "customer", "value": 9000}, scope="sales")
    return ids


def import_costs(arguments, folder):
    path = f"{folder}/costs.csv"
    # Periods that have ended: a cost whose period runs past now is prorated to the second, and the page and the API,
    # asked a moment apart, could then differ by a cent.
    with open(path, "w") as file:
        file.write("channel,campaign,start_date,end_date,amount,currency\n"
                   "paid_search,spring,2026-10-01,2026-11-30,1500.00,EUR\n"
                   "email,spring,2026-10-01,2026-11-30,300,EUR\n")
    done = subprocess.run([arguments.calor, "costs", "import", path, "--database", arguments.database],
                          text=True, capture_output=True, timeout=120)
    if done.returncode != 0:
        raise Failure(f"calor costs import: {done.stdout} {done.stderr}")


def add_people(arguments):
    for role, email in PEOPLE.items():
        done = subprocess.run(
            [arguments.calor, "users", "create", "--email", email, "--role", role, "--password-stdin",
             "--database", arguments.database],
            input=PASSWORD + "\n", text=True, capture_output=True, timeout=120)
        if done.returncode != 0:
            raise Failure(f"calor users create {email}: {done.stdout} {done.stderr}")
    listed = subprocess.run([arguments.calor, "users", "list", "--format", "json", "--database", arguments.database],
                            text=True, capture_output=True, timeout=120)
    people = {person["email"]: person for person in json.loads(listed.stdout)}
    check(sorted(people) == sorted(PEOPLE.values()), "calor users list shows the four people")


def browser():
    options = webdriver.ChromeOptions()
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,1000", "--disable-extensions", "--no-first-run"]:
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(60)
    return driver


AXE = importlib.resources.files("axe_core_python").joinpath("axe.min.js").read_text()


def accessibility(driver, name):
    """axe-core on the page: no serious or critical violation."""
    driver.execute_script(AXE)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations)).catch(e => done(String(e)));")
    if isinstance(result, str):
        raise Failure(f"axe failed on {name}: {result}")
    bad = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
           for v in result if v.get("impact") in ("serious", "critical")]
    check(not bad, f"axe: no serious or critical violation on {name}" + ("" if not bad else f": {bad}"))


def heading(driver, expected=None, timeout=20):
    """The page's h1 once the page has loaded (and, given `expected`, once it reads so)."""
    deadline = time.monotonic() + timeout
    text = None
    while time.monotonic() < deadline:
        try:
            if driver.execute_script("return document.readyState") == "complete":
                text = driver.find_element(By.TAG_NAME, "h1").text
                if expected is None or text == expected:
                    return text
        except Exception:  # a page still loading: its elements go stale
            pass
        time.sleep(0.1)
    return text


def wait_for(driver, selector, timeout=20):
    """The elements `selector` finds, once there are some (an empty list after `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = driver.find_elements(By.CSS_SELECTOR, selector)
            if found:
                return found
        except Exception:  # a page still loading
            pass
        time.sleep(0.1)
    return []


def sign_in(driver, base, role, keyboard=False):
    driver.delete_all_cookies()
    driver.get(base + "/login")
    if keyboard:
        # The keyboard alone: tab to the email field, type, tab to the password, type, Enter.
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys(Keys.TAB)
        for _ in range(10):
            if driver.switch_to.active_element.get_attribute("id") == "email":
                break
            driver.switch_to.active_element.send_keys(Keys.TAB)
        check(driver.switch_to.active_element.get_attribute("id") == "email", "the keyboard reaches the email field")
        driver.switch_to.active_element.send_keys(PEOPLE[role], Keys.TAB)
        check(driver.switch_to.active_element.get_attribute("id") == "password", "Tab goes on to the password")
        driver.switch_to.active_element.send_keys(PASSWORD, Keys.ENTER)
    else:
        driver.find_element(By.ID, "email").send_keys(PEOPLE[role])
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    check(heading(driver, "Hot leads") == "Hot leads", f"{role} signs in and lands on the hot leads")


def cookie_header(driver):
    return "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())


def csrf_of(driver):
    return driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] input[name='csrf']").get_attribute("value")


def number(text):
    return float(text.replace(",", "")) if text not in ("—", "") else None


def table(driver, selector):
    rows = driver.find_elements(By.CSS_SELECTOR, selector + " tbody tr")
    return [[cell.text for cell in row.find_elements(By.CSS_SELECTOR, "th, td")] for row in rows]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--calor", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--keys", required=True)
    parser.add_argument("--shots", required=True)
    parser.add_argument("--other", help="a second server over the same database: sessions are shared")
    arguments = parser.parse_args()
    base = arguments.base
    calor = Calor(base, json.loads(arguments.keys))
    ids = seed(calor)
    import_costs(arguments, arguments.shots)
    add_people(arguments)

    hot_api = calor.api("GET", "/v1/leads?temperature=hot&exclude_disqualified=true&sort=score", scope="read")["data"]
    check(len(hot_api) == 3, "the API has three hot leads")

    driver = browser()
    try:
        # Pages need a session.
        status, headers, _ = http("GET", base + "/leads")
        check(status == 303 and headers.get("Location", "").startswith("/login"), "a page without a session goes to /login")

        # As admin, by keyboard alone; every page, its numbers against the API's, axe, screenshots.
        sign_in(driver, base, "admin", keyboard=True)
        page_headers = http("GET", base + "/login")[1]
        csp = page_headers.get("Content-Security-Policy", "")
        check("unsafe-inline" not in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp,
              "the Content-Security-Policy forbids scripts and framing")
        check(page_headers.get("X-Content-Type-Options") == "nosniff" and page_headers.get("Referrer-Policy"),
              "nosniff and a Referrer-Policy")
        session = next(c for c in driver.get_cookies() if c["name"] == "calor_session")
        check(session["httpOnly"] and session.get("sameSite") == "Lax", "the session cookie is HttpOnly, SameSite=Lax")

        hot_page = [row[0] for row in table(driver, "#leads")]
        check(hot_page == [lead["email"] for lead in hot_api], f"the hot list is exactly the API's hot leads, best first: {hot_page}")
        reasons = table(driver, "#leads")[0][6]
        check("quote" in reasons, f"each hot lead shows its top reasons ({reasons})")
        driver.save_screenshot(f"{arguments.shots}/hot-leads.png")
        accessibility(driver, "/")

        # Keyboard: Tab to the first lead's link and Enter opens its page.
        first = driver.find_element(By.CSS_SELECTOR, "#leads tbody tr a")
        for _ in range(30):
            driver.switch_to.active_element.send_keys(Keys.TAB)
            if driver.switch_to.active_element == first:
                break
        check(driver.switch_to.active_element == first, "Tab reaches the first lead")
        first.send_keys(Keys.ENTER)
        check(heading(driver, hot_api[0]["email"]) == hot_api[0]["email"], "Enter opens the lead's page")

        driver.get(base + "/leads?temperature=warm")
        check([row[0] for row in table(driver, "#leads")] == ["carol@mid.example"], "/leads filters by temperature")
        driver.get(base + "/leads?sort=score&min_score=20")
        api = calor.api("GET", "/v1/leads?sort=score&min_score=20", scope="read")["data"]
        check([row[0] for row in table(driver, "#leads")] == [lead["email"] for lead in api],
              "/leads sorts and filters by score as the API")
        driver.save_screenshot(f"{arguments.shots}/leads.png")
        accessibility(driver, "/leads")
        driver.get(base + "/leads?grade=Z")
        error = driver.find_element(By.CSS_SELECTOR, ".notice.error").text
        check("'grade'" in error and "'Z'" in error, f"a bad filter is explained as the API explains it ({error})")

        bob = ids["bob@big.example"]
        driver.get(base + f"/leads/{bob}")
        rules = table(driver, "#score-rules")
        total = number(driver.find_element(By.ID, "score-total").text)
        api_lead = calor.api("GET", f"/v1/leads/{bob}", scope="read")
        check(total == api_lead["score"]["total"], f"the lead page's total is the API's ({total})")
        check(abs(sum(number(row[2]) for row in rules) - total) < 1e-9, "the rules' points add up to the total")
        bars = driver.find_elements(By.CSS_SELECTOR, ".chart svg rect")
        check(len(bars) >= len(rules) + 1, "each rule and the total are drawn as bars")
        check(len(table(driver, "#events-table")) == 4, "the event timeline lists the lead's events")
        check(driver.find_elements(By.CSS_SELECTOR, "#temperature svg, h2#temperature + .chart svg"),
              "the temperature history is drawn")
        driver.save_screenshot(f"{arguments.shots}/lead.png")
        accessibility(driver, "/leads/{id}")

        driver.get(base + "/funnel")
        funnel_api = calor.api("GET", "/v1/reports/funnel", scope="read")
        page_rows = table(driver, "table.funnel")
        api_rows = funnel_api["rows"][0]["stages"]
        check([(row[0], int(row[1])) for row in page_rows] == [(s["stage"], s["reached"]) for s in api_rows],
              "the funnel page shows the API's figures")
        driver.save_screenshot(f"{arguments.shots}/funnel.png")
        accessibility(driver, "/funnel")
        driver.get(base + "/funnel?by=channel&cohort=month&window=30d")
        check(len(driver.find_elements(By.CSS_SELECTOR, "table.funnel")) >= 3, "the funnel breaks down by channel")

        driver.get(base + "/sources?model=linear")
        sources_api = calor.api("GET", "/v1/reports/sources?model=linear", scope="read")
        page_sources = {row[0]: (int(row[1]), int(row[3]), number(row[6])) for row in table(driver, "#sources-table")}
        api_sources = {row["group"]: (row["leads"], row["customers"], None if row["cost"] is None else round(row["cost"], 2))
                       for row in sources_api["rows"]}
        check(page_sources == api_sources,
              f"the sources page shows the API's leads, customers and costs per channel ({page_sources})")
        check(page_sources["paid_search"][1] == 1 and page_sources["paid_search"][2] > 0,
              "with the customer, and the period's share of the cost")
        driver.find_element(By.PARTIAL_LINK_TEXT, "Compare every attribution model").click()
        check(len(wait_for(driver, "#models-table tbody tr")) >= 1, "the models side by side")
        driver.save_screenshot(f"{arguments.shots}/sources.png")
        accessibility(driver, "/sources")

        driver.get(base + "/settings")
        check(driver.find_elements(By.CSS_SELECTOR, "form[action='/settings/users']"), "an admin sees the people form")
        driver.find_element(By.ID, "k-name").send_keys("from the page")
        driver.find_element(By.CSS_SELECTOR, "#k-scope option[value='read']").click()
        driver.find_element(By.CSS_SELECTOR, "form[action='/settings/keys'] button").click()
        secret = wait_for(driver, "#secret")[0].text
        check(secret.startswith("calor_"), "a key created on the page is shown once")
        status, _, _ = http("GET", base + "/v1/leads", headers={"Authorization": "Bearer " + secret})
        check(status == 200, "and it reads through the API")
        driver.get(base + "/settings")
        check(not driver.find_elements(By.ID, "secret"), "and is not shown again")
        driver.save_screenshot(f"{arguments.shots}/settings.png")
        accessibility(driver, "/settings")

        # Hostile attribute values stay text.
        eve = ids["eve@evil.example"]
        driver.get(base + f"/leads/{eve}")
        attributes = dict((row[0], row[1]) for row in table(driver, "#attributes-table"))
        check(attributes.get("company") == SCRIPT and attributes.get("title") == IMAGE
              and attributes.get("website") == JAVASCRIPT_URL, "hostile attribute values are shown as text")
        check(driver.execute_script("return window.__pwned === undefined"), "and none of them ran")
        check(not driver.find_elements(By.CSS_SELECTOR, "main img, main script, a[href^='javascript:']"),
              "no image, script or javascript: link came from them")

        # As sales: move a stage, and see it in the history.
        sign_in(driver, base, "sales")
        alice = ids["alice@acme.example"]
        driver.get(base + f"/leads/{alice}")
        driver.find_element(By.CSS_SELECTOR, "#move-stage option[value='sql']").click()
        driver.find_element(By.ID, "move-note").send_keys("called, ready to talk")
        driver.find_element(By.CSS_SELECTOR, "form[action$='/stage'] button").click()
        notices = wait_for(driver, "p.notice[role='status']")
        check(notices and "The stage was moved." in notices[0].text, "sales moves the stage")
        history = table(driver, "#stage-history")
        check(history[0][2] == "sql" and "by sam@corp.example: called, ready to talk" in history[0][3],
              "the stage history shows the move, who made it and why")
        check(calor.api("GET", f"/v1/leads/{alice}", scope="read")["stage"] == "sql", "the API agrees")
        status, _, text = http("POST", base + f"/leads/{alice}/stage", "stage=opportunity",
                               {"Cookie": cookie_header(driver)})
        check(status == 403 and "Refused" in text, "a POST without the CSRF token is refused (403)")
        check(calor.api("GET", f"/v1/leads/{alice}", scope="read")["stage"] == "sql", "and changed nothing")
        status, _, _ = http("POST", base + "/settings/keys", f"csrf={csrf_of(driver)}&name=x&scope=admin",
                            {"Cookie": cookie_header(driver)})
        check(status == 403, "sales may not create keys (403)")

        # Sessions live in the database: another server over it knows this one.
        old_cookie = cookie_header(driver)
        if arguments.other:
            status, _, text = http("GET", arguments.other + "/", headers={"Cookie": old_cookie})
            check(status == 200 and "sam@corp.example" in text, "another server over the database knows the session")

        # Logout ends the session: the old cookie no longer opens anything.
        driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
        check(heading(driver, "Sign in") == "Sign in", "sign out goes to the sign-in page")
        status, headers, _ = http("GET", base + "/", headers={"Cookie": old_cookie})
        check(status == 303 and headers.get("Location") == "/login", "the ended session's cookie opens nothing")
        if arguments.other:
            status, headers, _ = http("GET", arguments.other + "/", headers={"Cookie": old_cookie})
            check(status == 303 and headers.get("Location") == "/login", "on the other server too")

        # As a viewer: no form to move stages, and a forged move is refused.
        sign_in(driver, base, "viewer")
        driver.get(base + f"/leads/{bob}")
        check(not driver.find_elements(By.CSS_SELECTOR, "form[action$='/stage']"), "a viewer sees no stage-move form")
        driver.get(base + "/sources")
        check(not driver.find_elements(By.CSS_SELECTOR, "form[action='/sources/costs']"), "nor a cost import form")
        status, _, _ = http("POST", base + "/sources/costs", f"csrf={csrf_of(driver)}&csv=x",
                            {"Cookie": cookie_header(driver)})
        check(status == 403, "and a forged cost import is refused (403)")
        status, _, _ = http("POST", base + f"/leads/{bob}/stage", f"csrf={csrf_of(driver)}&stage=lost",
                            {"Cookie": cookie_header(driver)})
        check(status == 403, "a viewer's forged stage move is refused (403)")
        check(calor.api("GET", f"/v1/leads/{bob}", scope="read")["stage"] == "customer", "and changed nothing")
        driver.get(base + "/settings")
        check(not driver.find_elements(By.CSS_SELECTOR, "#settings form, main form"), "a viewer sees no settings form")

        # As marketing: reads every page.
        sign_in(driver, base, "marketing")
        for path in ["/leads", "/funnel", "/sources", "/settings", f"/leads/{alice}", "/criteria"]:
            status, _, _ = http("GET", base + path, headers={"Cookie": cookie_header(driver)})
            check(status == 200, f"marketing reads {path}")

        # Costs: marketing imports them on the sources page; a bad row is named, the good ones go in.
        driver.get(base + "/sources?model=linear")
        driver.find_element(By.ID, "costs-csv").send_keys(
            "channel,campaign,start_date,end_date,amount,currency\n"
            "organic,spring,2026-11-01,2026-12-31,600,EUR\n"
            "organic,spring,2026-12-31,2026-11-01,5,EUR\n")
        driver.find_element(By.CSS_SELECTOR, "form[action='/sources/costs'] button").click()
        notice = wait_for(driver, "#costs + p.notice, p.notice[role='status']")
        check(notice and "1 cost imported." in notice[0].text, "marketing imports costs on the sources page")
        check("line 3" in driver.find_element(By.CSS_SELECTOR, "ul.notice.error").text, "and sees the bad row's line")
        organic = next(row for row in calor.api("GET", "/v1/reports/sources?model=linear", scope="read")["rows"]
                       if row["group"] == "organic")
        check(organic["cost"] is not None and organic["cost"] > 0, "the imported cost counts in the report")

        # Criteria: marketing previews an edit; only an admin applies it, with a comment; then rolls back.
        driver.get(base + "/criteria")
        active = calor.api("GET", "/v1/criteria", scope="admin")
        editor = driver.find_element(By.ID, "document")
        check(editor.get_attribute("value").strip() == active["document"].strip(), "the edit form holds the active document")
        stricter = active["document"].replace("hot: 50", "hot: 75")
        driver.execute_script("arguments[0].value = arguments[1]", editor, stricter)
        driver.find_element(By.CSS_SELECTOR, "form[action='/criteria/preview'] button").click()
        moves = [row for row in (table(driver, "#temperature-moves") if wait_for(driver, "#temperature-moves") else [])]
        check(moves == [["hot", "warm", "2"]], f"the preview shows the dry run's moves: alice and eve, 70, fall to warm ({moves})")
        check("+" in driver.find_element(By.ID, "preview-diff").text and "hot: 75" in driver.find_element(By.ID, "preview-diff").text,
              "and the diff")
        check(not driver.find_elements(By.CSS_SELECTOR, "form[action='/criteria/apply']"), "marketing may not apply")
        driver.save_screenshot(f"{arguments.shots}/criteria.png")
        status, _, _ = http("POST", base + "/criteria/apply",
                            f"csrf={csrf_of(driver)}&comment=x&document=" + urllib.parse.quote(stricter),
                            {"Cookie": cookie_header(driver)})
        check(status == 403, "a forged apply by marketing is refused (403)")
        check(calor.api("GET", "/v1/criteria", scope="admin")["version"] == active["version"], "and changed nothing")
        accessibility(driver, "/criteria (preview)")

        sign_in(driver, base, "admin")
        driver.get(base + "/criteria")
        editor = driver.find_element(By.ID, "document")
        driver.execute_script("arguments[0].value = arguments[1]", editor, stricter)
        driver.find_element(By.CSS_SELECTOR, "form[action='/criteria/preview'] button").click()
        wait_for(driver, "#apply-comment")[0].send_keys("hot from 75 points")
        driver.find_element(By.CSS_SELECTOR, "form[action='/criteria/apply'] button").click()
        wait_for(driver, "p.notice[role='status']")
        applied = calor.api("GET", "/v1/criteria", scope="admin")
        check(applied["version"] == active["version"] + 1 and applied["comment"] == "hot from 75 points"
              and "hot: 75" in applied["document"], "an admin applies it as a new version, with the comment")
        check(applied["document"].count("\r") == 0, "with the document's line ends as written")
        driver.get(base + f"/criteria?a={active['version']}&b={applied['version']}")
        check("hot: 75" in driver.find_element(By.ID, "version-diff").text, "the diff of two versions")
        accessibility(driver, "/criteria")
        driver.find_element(By.CSS_SELECTOR,
                            f"form[action='/criteria/rollback'] input[value='{active['version']}'] + button").click()
        wait_for(driver, "p.notice[role='status']")
        rolled = calor.api("GET", "/v1/criteria", scope="admin")
        check(rolled["version"] == applied["version"] + 1 and "hot: 50" in rolled["document"], "and rolls back")

        # Failed sign-ins are limited: the sixth in a row gets 429 with Retry-After.
        driver.delete_all_cookies()
        driver.get(base + "/login")
        driver.save_screenshot(f"{arguments.shots}/login.png")
        accessibility(driver, "/login")
        statuses = []
        for _ in range(6):
            status, headers, text = http("GET", base + "/login")
            token = re.search(r'name="csrf" value="([^"]+)"', text).group(1)
            form_cookie = headers["Set-Cookie"].split(";")[0]
            status, headers, _ = http("POST", base + "/login",
                                      f"csrf={token}&email=vera%40corp.example&password=wrong+password",
                                      {"Cookie": form_cookie})
            statuses.append(status)
        check(statuses[:5] == [401] * 5 and statuses[5] == 429 and int(headers.get("Retry-After", "0")) > 0,
              f"five wrong passwords, then 429 with Retry-After ({statuses})")
        status, _, _ = http("POST", base + "/login", "email=vera%40corp.example&password=x")
        check(status == 403, "a sign-in without the form's CSRF token is refused (403)")
    finally:
        driver.quit()
    print("all checks passed")


if __name__ == "__main__":
    try:
        main()
    except Failure as failure:
        print("FAILED:", failure)
        sys.exit(1)
