"""Drives the vigil console in headless Chromium (Playwright, Debian's chromium binary).

Usage: console.py CHROMIUM BASE_URL TOKEN HOSTILE_ARN SCREENSHOT_DIR [PASSWORD [SSO_USER]]

With SSO_USER, a new browser signs in with "Sign in with SSO" through the test OpenID Connect
provider (on another site), which signs SSO_USER in as an analyst, and lands on the dashboard
with its session.

With PASSWORD, the users `vera` (viewer), `ana` (analyst) and `adam` (admin) share it: each
logs in with the password form; the viewer's mute is refused with the reason shown, the
analyst mutes but cannot add a user, and the admin's audit page lists those changes.

Logs in, opens the dashboard, filters and groups findings, opens a resource with its history,
mutes a finding from its page, and opens the exposure, identities, activity and scans pages.
Fails (exit 1, with the reason) on any console error, uncaught page error, dialog (a script
payload that ran), request to another origin, or page that does not show what it should.
Screenshots of every page go to SCREENSHOT_DIR.
"""

import os
import sys
import urllib.parse

from playwright.sync_api import sync_playwright

chromium, base, token, hostile_arn, shots = sys.argv[1:6]
password = sys.argv[6] if len(sys.argv) > 6 else None
sso_user = sys.argv[7] if len(sys.argv) > 7 else None
os.makedirs(shots, exist_ok=True)
problems = []


def check(condition, message):
    if not condition:
        problems.append(message)


with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("console", lambda message: message.type == "error" and problems.append(f"console error: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def on_dialog(dialog):
        problems.append(f"a dialog opened (a script ran): {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda request: request.url.startswith(base) or request.url.startswith("data:")
            or problems.append(f"request to another origin: {request.url}"))

    def shot(name):
        page.screenshot(path=os.path.join(shots, f"{name}.png"), full_page=True)

    # Unauthenticated: the dashboard sends the browser to the login form.
    page.goto(base + "/")
    check(page.url.endswith("/login"), f"not redirected to /login: {page.url}")
    page.fill("input[name=token]", token)
    page.click("#token-login button[type=submit]")
    page.wait_for_url(base + "/")
    check(page.locator("figure.chart svg").count() >= 5, "the dashboard has fewer than 5 charts")
    check(int(page.inner_text("#failing-count")) > 0, "the dashboard shows no failing finding")
    check(page.locator("svg.stacked").count() >= 4, "compliance bars missing for the frameworks")
    # The top risks come first, then what changed since the previous scan, then the charts.
    order = page.evaluate("""() => [...document.querySelectorAll('#top-risks, #since-previous, figure.chart')]
        .map(element => element.id || 'chart')""")
    check(order[:2] == ["top-risks", "since-previous"], f"the dashboard does not open with its top risks: {order[:3]}")
    labels = page.locator("figure.chart").first.locator("text.label").all_text_contents()
    check(labels == [name for name in ["critical", "high", "medium", "low", "informational"] if name in labels],
          f"severities are not critical first: {labels}")
    shot("dashboard")

    # The dashboard's failing link keeps `failing` through the filter form.
    page.click("a[href='/findings?failing=1']")
    page.wait_for_load_state()
    check(page.is_checked("#finding-filters input[name=failing]"), "the failing filter is not shown in the form")
    page.select_option("select[name=severity]", "medium")
    page.click("#finding-filters button[type=submit]")
    page.wait_for_load_state()
    check("failing=1" in page.url, f"filtering again dropped the failing filter: {page.url}")
    lifecycles = page.locator("#findings tbody tr td:nth-child(3)").all_inner_texts()
    check(len(lifecycles) > 0 and all(text in ("new", "open") for text in lifecycles), f"not only failing findings: {lifecycles[:5]}")
    check(page.locator("#findings .check-title").count() == len(lifecycles), "check titles are missing beside their ids")
    messages = page.locator("#findings tbody tr td:nth-child(7)").all_inner_texts()
    check(not any("`" in message for message in messages), f"a message shows raw Markdown: {[m for m in messages if '`' in m][:2]}")

    # Findings: filter by severity, then group by service.
    page.goto(base + "/findings")
    page.select_option("select[name=severity]", "high")
    page.click("#finding-filters button[type=submit]")
    page.wait_for_load_state()
    severities = page.locator("#findings tbody tr td:first-child").all_inner_texts()
    check(len(severities) > 0 and all(text == "high" for text in severities), f"severity filter failed: {severities[:5]}")
    shot("findings-high")
    page.select_option("select[name=group]", "service")
    page.click("#finding-filters button[type=submit]")
    page.wait_for_load_state()
    check(page.locator("#groups tr").count() > 0, "grouping by service shows no group")
    shot("findings-grouped")
    # A group's count is the number of findings its link opens.
    first_group = page.locator("#groups tr").first
    count = int(first_group.locator("td.count").inner_text())
    first_group.locator("a").click()
    page.wait_for_load_state()
    rows = page.locator("#findings tbody tr").count()
    check(count > 200 or rows == count, f"a group counts {count} but its link opens {rows} findings")

    # A resource whose tags hold script payloads: rendered as text, with its history.
    page.goto(base + "/resource?arn=" + urllib.parse.quote(hostile_arn, safe=""))
    tags = page.inner_text("#tags")
    check("<script>" in tags and "onerror" in tags, f"hostile tags not shown as text: {tags!r}")
    check(page.locator("#tags script, #tags img").count() == 0, "hostile tags became elements")
    check(page.locator("#history h3").count() >= 2, "the resource's history shows fewer than 2 versions")
    check(page.locator("#history li code").count() >= 1, "the history shows no changed field")
    shot("resource")

    # Mute a failing finding from its page; the script sends the CSRF header.
    page.goto(base + "/findings?lifecycle=open&severity=medium")
    page.locator("#findings tbody tr td:nth-child(4) a").first.click()
    page.wait_for_load_state()
    check(page.locator("#evidence").count() == 1, "the finding page shows no evidence")
    page.fill("#mute input[name=reason]", "accepted risk: browser test")
    page.click("#mute button[type=submit]")
    page.wait_for_selector("#mute-reason")
    check(page.inner_text("#mute-reason") == "accepted risk: browser test", "the mute reason is not shown after muting")
    check("muted" in page.inner_text("#finding-status"), "the finding is not muted")
    check(page.locator("#finding-history tbody tr").count() >= 1, "the finding's history is empty")
    shot("finding-muted")

    for name, selector in [("exposure", "table.exposure"), ("identities", "#admins"), ("activity", "#alerts"), ("scans", "#changes"), ("vulnerabilities", "#vulns-by-cve")]:
        page.goto(f"{base}/{name}")
        check(page.locator(selector).count() == 1, f"/{name} lacks {selector}")
        shot(name)
    page.goto(base + "/scans")
    headers = page.locator("#scans th").all_inner_texts()
    check("Newly failing" in headers and "Fixed" in headers, f"the scans table lacks each scan's changes: {headers}")
    check(page.locator("#scans tbody tr").count() >= 2, "the scans table shows fewer than 2 scans")
    page.goto(base + "/activity")
    check(page.locator("#alerts tbody tr").count() >= 1, "the activity page shows no alert")
    check(page.locator("#alerts script, #alerts img").count() == 0, "an alert's event fields became elements")

    if password:
        def log_in_as(user):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            person = context.new_page()
            person.on("console", lambda message: message.type == "error" and "403" not in message.text
                      and problems.append(f"{user}: console error: {message.text}"))
            person.on("pageerror", lambda error: problems.append(f"{user}: page error: {error}"))
            person.goto(base + "/login")
            person.fill("#password-login input[name=user]", user)
            person.fill("#password-login input[name=password]", password)
            person.click("#password-login button[type=submit]")
            person.wait_for_url(base + "/")
            return person

        def open_failing_finding(person):
            person.goto(base + "/findings?lifecycle=open&severity=high")
            person.locator("#findings tbody tr td:nth-child(4) a").first.click()
            person.wait_for_load_state()

        # A viewer reads, and its mute is refused with the reason shown; it is offered no audit log.
        viewer = log_in_as("vera")
        check("vera" in viewer.inner_text("nav"), "the viewer's name is not shown")
        check(viewer.locator("nav a[href='/audit']").count() == 0, "a viewer is offered the audit log")
        open_failing_finding(viewer)
        viewer.fill("#mute input[name=reason]", "a viewer tries")
        viewer.click("#mute button[type=submit]")
        viewer.wait_for_function("document.getElementById('mute-status').textContent.length > 0")
        check("analyst" in viewer.inner_text("#mute-status"), f"the viewer's refusal does not say why: {viewer.inner_text('#mute-status')!r}")
        check(viewer.locator("#mute-reason").count() == 0, "the viewer's mute went through")
        shot_page = viewer
        shot_page.screenshot(path=os.path.join(shots, "viewer-refused.png"), full_page=True)

        # An analyst mutes, but adding a user is refused.
        analyst = log_in_as("ana")
        open_failing_finding(analyst)
        analyst.fill("#mute input[name=reason]", "analyst accepts")
        analyst.click("#mute button[type=submit]")
        analyst.wait_for_selector("#mute-reason")
        status = analyst.evaluate("""async () => (await fetch('/api/users', {method: 'POST', credentials: 'same-origin',
            headers: {'Content-Type': 'application/json',
                      'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content},
            body: JSON.stringify({name: 'mallory', role: 'admin'})})).status""")
        check(status == 403, f"an analyst's user change answered {status}, not 403")

        # The admin's audit log lists the analyst's mute and the refused login-free changes.
        admin = log_in_as("adam")
        admin.click("nav a[href='/audit']")
        admin.wait_for_selector("#audit")
        audit = admin.inner_text("#audit")
        check("finding.mute" in audit and "user:ana" in audit and "analyst accepts" in audit, "the audit log lacks the analyst's mute")
        check("mallory" not in audit, "a refused user change is in the audit log as a change")
        check(audit.count("login") >= 3, "the audit log lacks the three logins")
        admin.screenshot(path=os.path.join(shots, "audit.png"), full_page=True)

    if sso_user:
        # Single sign-on: the login page's link, the provider (another site) and back; the
        # session cookie (SameSite=Strict) must be sent on the way to the dashboard.
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        person = context.new_page()
        person.on("pageerror", lambda error: problems.append(f"sso: page error: {error}"))
        person.goto(base + "/login")
        person.click("#sso-login")
        person.wait_for_selector("#consent")
        check(not person.url.startswith(base), f"the sign-in did not go to the provider: {person.url}")
        person.click("#consent")
        person.wait_for_url(base + "/")
        nav = person.inner_text("nav")
        check(f"user:{sso_user} (analyst)" in nav, f"the SSO user is not signed in as an analyst: {nav!r}")
        check(person.locator("meta[name=csrf-token]").count() == 1, "the SSO session's page carries no CSRF token")
        person.screenshot(path=os.path.join(shots, "sso.png"), full_page=True)
    browser.close()

if problems:
    print("\n".join(problems))
    sys.exit(1)
print("console browser test passed")
