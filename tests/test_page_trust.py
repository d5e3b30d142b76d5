"""The page a reader can trust, in Chromium over the real server and model: questions
within ticked reports (by keyboard alone), a hostile report shown as text with
nothing run, conversations kept across a reload, "wrong" feedback exported as a draft
eval item, and an axe-core scan with no serious or critical violation at desktop and
phone widths in the page's main states (screenshots of both in docs/)."""

from __future__ import annotations

import json

import pytest

from rag.serving.feedback import FeedbackLog, draft_items
from tests.browser import CHROMIUM, FRUGAL_REPORT, QUESTION, SCREENSHOTS, _ask, _open, _title
from tests.test_within import HOSTILE

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(not CHROMIUM, reason="no Chromium: install Debian's chromium"),
]


def _tick(page, name: str) -> None:
    """Tick a report's checkbox from the keyboard: focus it, press Space."""
    page.locator(f"#docs li:has-text('{name}') input[type=checkbox]").focus()
    page.keyboard.press("Space")


def test_within_ticked_reports_by_keyboard_feedback_and_reload(browser, site):
    url, root = site
    page, watch = _open(browser, url)
    bodies: list[dict] = []
    page.on(
        "request",
        lambda r: (
            bodies.append(json.loads(r.post_data or "{}"))
            if "/v1/" in r.url and r.method == "POST"
            else None
        ),
    )
    other = "004_9b10ea87354c9c7a.txt"
    _tick(page, FRUGAL_REPORT)
    _tick(page, other)
    titles = {_title(page, FRUGAL_REPORT), _title(page, other)}
    scope = page.locator("#scope-text").inner_text()
    assert scope.startswith("Asking within 2 selected reports") and all(t in scope for t in titles)
    page.focus("#question")
    turn = _ask(page, QUESTION)
    ask = next(b for b in bodies if "question" in b and "rating" not in b)
    assert len(ask["documents"]) == 2
    sources = turn.locator(".sources").inner_text()
    assert sources and all(part.split(" (p.")[0] in titles for part in sources[9:].split("; "))
    # open a source and close it with the keyboard; focus returns to its marker
    cite = turn.locator("button.cite").first
    cite.focus()
    page.keyboard.press("Enter")
    page.locator("#source-text mark.quote").first.wait_for()
    assert page.evaluate("document.activeElement.id") == "source"
    page.keyboard.press("Escape")
    assert page.locator("#source").is_hidden()
    assert page.evaluate("document.activeElement.classList.contains('cite')")
    # "wrong" with a note, by keyboard
    turn.locator("button:text-is('Wrong')").focus()
    page.keyboard.press("Enter")
    page.keyboard.type("It should also say what the second API costs.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    turn.locator(".feedback:has-text('recorded for review')").wait_for()
    drafts = draft_items(FeedbackLog(root / "feedback.jsonl").read())
    assert len(drafts) == 1 and drafts[0]["question"] == QUESTION
    assert drafts[0]["must_include"] == [] and "second API costs" in drafts[0]["note"]
    assert drafts[0]["sources"] and set(drafts[0]["sources"]) <= {FRUGAL_REPORT, other}
    # a reload brings the conversation, its feedback and its selection back
    answer = turn.locator(".a").inner_text()
    page.reload()
    page.wait_for_selector(".turn")
    again = page.locator(".turn").last
    assert again.locator(".a").inner_text() == answer
    assert "You marked this answer wrong" in again.locator(".feedback").inner_text()
    assert page.locator("#scope-text").inner_text() == scope
    assert page.locator("#history li").count() == 1
    # a follow-up in the reopened conversation goes to the chat endpoint, within the two
    bodies.clear()
    _ask(page, "Which paper does it come from?")
    chat = next(b for b in bodies if "messages" in b)
    assert len(chat["messages"]) == 3 and len(chat["documents"]) == 2
    # new conversation, then reopen the first from the list, then delete it
    page.click("#new-conversation")
    assert page.locator(".turn").count() == 0 and page.locator("#history li").count() == 1
    page.locator("#history li button.link").first.click()
    assert page.locator(".turn").count() == 2
    page.locator("#history li button:text-is('Delete')").first.click()
    assert page.locator("#history li").count() == 0
    page.reload()
    page.wait_for_selector("#docs li")
    assert page.locator(".turn").count() == 0
    watch.check()
    page.close()


def test_a_hostile_report_is_shown_as_text_with_nothing_run(browser, site, tmp_path):
    url, _ = site
    page, watch = _open(browser, url)
    report = tmp_path / "beacon.md"
    report.write_text(HOSTILE, encoding="utf-8")
    page.set_input_files("#upload-file", str(report))
    page.fill("#upload-title", "Beacon field notes")
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#docs .doc-title:text-is('Beacon field notes')")
    _tick(page, "beacon.md")
    turn = _ask(page, "What frequency does the Zephyrine beacon transmit at?")
    assert "433" in turn.locator(".a").inner_text()
    assert "Beacon field notes" in turn.locator(".sources").inner_text()
    turn.locator("button.cite").first.click()
    panel = page.locator("#source-text")
    panel.locator("mark.quote").first.wait_for()
    shown = panel.inner_text()
    assert "[image: Antenna diagram]" in shown and "see the spec" in shown
    for text in ("<script", "<img", "onerror", "javascript:", "pwned"):
        assert text not in shown, text
    assert panel.locator("script, img, [onerror], [onclick]").count() == 0
    assert panel.locator("a[href^='javascript']").count() == 0
    assert panel.locator("table td:text-is('40 kg')").count() == 1
    assert page.evaluate("window.pwned") is None
    page.locator("#source-text a:text-is('see the spec')").click()  # inert: no href
    assert page.evaluate("window.pwned") is None
    watch.check()
    page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_axe_finds_no_serious_violation(browser, site, width):
    axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")
    url, _ = site
    page, watch = _open(browser, url, viewport={"width": width, "height": 900})
    axe = axe_sync.Axe()

    def scan(state: str) -> None:
        violations = axe.run(page).response["violations"]
        bad = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in violations
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"{state} at {width}px: {bad}"

    scan("empty")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    turn = _ask(page, QUESTION)
    scan("answered")
    turn.locator("button.cite").first.click()
    page.locator("#source-text mark.quote").first.wait_for()
    scan("source open")
    page.screenshot(path=str(SCREENSHOTS / f"page-{width}.png"), full_page=True)
    page.keyboard.press("Escape")
    refused = _ask(page, "What is the best sourdough bread recipe?")
    assert refused.evaluate("e => e.classList.contains('refused')")
    scan("refused")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    watch.check()
    page.close()
