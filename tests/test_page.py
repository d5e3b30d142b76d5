"""The page in a real browser: Debian's Chromium, headless, driven by Playwright over
the real app (real index, real model). Skipped, with the reason, where Chromium is not
installed (``make test`` installs it when it can)."""

from __future__ import annotations

import pytest

from tests.browser import (
    CHROMIUM,
    FRUGAL_REPORT,
    QUESTION,
    SCREENSHOTS,
    Watch,
    _ask,
    _open,
    _title,
    serving,
)

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(
        not CHROMIUM,
        reason="no Chromium: install Debian's chromium (make test does when run as root)",
    ),
]


def test_ask_stream_and_open_a_citation(browser, site):
    url, _ = site
    page, watch = _open(browser, url, color_scheme="light")
    deltas = []
    page.on("response", lambda r: deltas.append(r.url) if r.url.endswith("/v1/ask") else None)
    page.fill("#question", QUESTION)
    page.click("#ask-button")
    turn = page.locator(".turn").last
    turn.locator(".a[aria-busy='true']").wait_for(state="attached")
    turn.locator(".a[aria-busy='true']").wait_for(state="detached", timeout=120_000)
    assert deltas, "the answer did not come from /v1/ask"
    answer = turn.locator(".a").inner_text()
    assert "api" in answer.lower() and not turn.evaluate("e => e.classList.contains('refused')")
    # documents, sources and the quote panel go by title; the file name stays visible
    title = _title(page, FRUGAL_REPORT)
    assert page.locator(f"#docs .doc-title:text-is('{title}')").count() == 1
    sources = turn.locator(".sources").inner_text()
    assert title in sources and ".txt" not in sources
    marker = turn.locator("button.cite").first
    marker.click()
    mark = page.locator("#source-text mark.quote").first
    mark.wait_for()
    assert page.locator("#source").is_visible()
    quote = mark.inner_text()
    assert len(quote) > 10 and quote.split()[0] in page.locator("#source-text").inner_text()
    assert page.locator("#source-title").inner_text() == title
    where = page.locator("#source-where").inner_text()
    assert FRUGAL_REPORT in where
    # rendered, not raw: no Markdown hashes, no HTML tags shown as text
    shown = page.locator("#source-text").inner_text()
    assert "###" not in shown and "<img" not in shown
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "answer-light.png"), full_page=True)
    page.emulate_media(color_scheme="dark")
    page.evaluate("localStorage.removeItem('rag-theme')")
    page.click("#theme")  # the toggle works whatever the system scheme
    assert page.evaluate("document.documentElement.dataset.theme") in ("dark", "light")
    if page.evaluate("document.documentElement.dataset.theme") != "dark":
        page.click("#theme")
    page.screenshot(path=str(SCREENSHOTS / "answer-dark.png"), full_page=True)
    watch.check()
    page.close()


def test_refusal_and_follow_up_and_new_conversation(browser, site):
    url, _ = site
    page, watch = _open(browser, url)
    chat_calls = []
    page.on("request", lambda r: chat_calls.append(r.url) if "/chat/" in r.url else None)
    turn = _ask(page, "What is the best sourdough bread recipe?")
    assert turn.evaluate("e => e.classList.contains('refused')")
    assert turn.locator(".a").inner_text() == "The reports don't cover this."
    assert turn.locator(".closest li").count() >= 1  # passages to look at
    page.click("#new-conversation")
    assert page.locator(".turn").count() == 0
    _ask(page, "What is Riptide?")
    assert not chat_calls  # a first question goes to /v1/ask
    follow = _ask(page, "Which venue was it presented at?")
    assert chat_calls, "the follow-up did not use the chat endpoint"
    assert follow.locator(".error").count() == 0
    watch.check()
    page.close()


def test_upload_ask_delete(browser, site, tmp_path):
    url, root = site
    page, watch = _open(browser, url)
    report = tmp_path / "plover-radio.md"
    report.write_text(
        "# Plover Radio Notes\n\n## Radio\n\nThe Plover radio transmits at 868 MHz.\n",
        encoding="utf-8",
    )
    page.set_input_files("#upload-file", str(report))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#docs li:has-text('plover-radio.md')")
    assert page.locator("#docs li:has-text('plover-radio.md') .doc-title").inner_text() == (
        "Plover Radio Notes"
    )
    turn = _ask(page, "What frequency does the Plover radio transmit at?")
    assert "868" in turn.locator(".a").inner_text()
    assert "Plover Radio Notes" in turn.locator(".sources").inner_text()
    page.click("button[aria-label='Delete Plover Radio Notes']")
    page.wait_for_selector("#docs li:has-text('plover-radio.md')", state="detached")
    assert not (root / "corpus" / "plover-radio.md").exists()
    watch.check()
    page.close()


def test_the_page_asks_for_a_key_when_keys_are_on(browser, pipeline):
    from api.app import create_app
    from rag.serving.pipeline import Pipeline

    keyed = pipeline.settings.model_copy(update={"api_keys": "page-test-key"})
    app = create_app(pipeline=Pipeline(keyed, pipeline.retriever, pipeline.generator))
    with serving(app) as url:
        page = browser.new_page()
        watch = Watch(page)
        page.goto(url)
        dialog = page.locator("#key-dialog")
        dialog.wait_for(state="visible")
        page.fill("#key-input", "wrong-key")
        page.click("#key-save")
        page.wait_for_selector("#key-reason:has-text('refused')")
        page.fill("#key-input", "page-test-key")
        page.click("#key-save")
        page.wait_for_selector("#docs li")
        assert page.evaluate("sessionStorage.getItem('rag-api-key')") == "page-test-key"
        watch.errors = [e for e in watch.errors if "401" not in e]  # the refused calls
        watch.check()
        page.close()


def test_usable_at_phone_width_and_by_keyboard(browser, site):
    url, _ = site
    page, watch = _open(browser, url, viewport={"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for control in ("#question", "#ask-button", "#new-conversation", "#theme"):
        assert page.locator(control).is_visible()
    assert page.locator("label[for=question]").inner_text()
    page.focus("#question")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "ask-button"
    watch.check()
    page.close()


def test_busy_server_is_retried_after_retry_after(browser, site):
    """A 503 (the model's queue is full) shows "retrying in N s" and retries when
    Retry-After says; the answer then arrives."""
    url, _ = site
    page, watch = _open(browser, url)
    refused = []

    def busy_once(route) -> None:
        if refused:
            route.continue_()
            return
        refused.append(route.request.url)
        route.fulfill(
            status=503,
            headers={"Retry-After": "2", "Content-Type": "application/json"},
            body='{"error": {"message": "the model queue is full", "type": "server_busy"}}',
        )

    page.route("**/v1/ask", busy_once)
    page.fill("#question", "What is Riptide?")
    page.keyboard.press("Enter")
    page.wait_for_selector("#status:has-text('retrying in 2 s')")
    assert "queue is full" in page.locator("#status").inner_text()
    turn = page.locator(".turn").last
    turn.locator(".a[aria-busy='true']").wait_for(state="detached", timeout=120_000)
    assert refused and turn.locator("button.cite").count() >= 1
    watch.errors = [e for e in watch.errors if "503" not in e]  # the one refused call
    watch.check()
    page.close()
