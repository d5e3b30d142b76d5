"""What the browser tests share: Debian's Chromium driven by Playwright, the real app
over a writable copy of the seeds and their index, and helpers to ask and watch.
Registered as a plugin by ``tests/conftest.py``, so each page test module uses the same
browser and site."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from rag.config import REPO_ROOT, Settings
from tests.conftest import serving

CHROMIUM = os.environ.get("RAG_TEST_CHROMIUM") or shutil.which("chromium") or ""
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
QUESTION = "What does FrugalML do when the base API is not confident?"
FRUGAL_REPORT = "002_e83699b88746142b.txt"  # the seed report that answers QUESTION


@pytest.fixture(scope="session")
def browser() -> Iterator:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture(scope="session")
def site(tmp_path_factory, settings: Settings, embedder, pipeline) -> Iterator[tuple[str, Path]]:
    """The app with document writes on, over a copy of the seeds and their index."""
    from api.app import create_app
    from rag.ingest.indexing import build_index
    from rag.serving.loading import load_retriever
    from rag.serving.pipeline import Pipeline

    root = tmp_path_factory.mktemp("site")
    shutil.copytree(settings.seeds_path, root / "corpus")
    shutil.copytree(settings.index_path, root / "index")  # its per-document cache too
    s = settings.model_copy(
        update={
            "seeds_dir": root / "corpus",
            "index_dir": root / "index",
            "document_writes": True,
            "feedback_file": root / "feedback.jsonl",
        }
    )
    build_index(s.seeds_path, s.index_path, embedder)
    p = Pipeline(s, load_retriever(s, embedder), pipeline.generator)
    with serving(create_app(pipeline=p)) as url:
        yield url, root


class Watch:
    """What a page did: console errors and every URL it requested."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.urls: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.urls.append(r.url))

    def check(self) -> None:
        assert not self.errors, self.errors
        hosts = {urlparse(u).hostname for u in self.urls if not u.startswith("data:")}
        assert hosts == {"127.0.0.1"}, hosts


def _open(browser, url: str, **kwargs):
    page = browser.new_page(**kwargs)
    watch = Watch(page)
    page.goto(url)
    page.wait_for_selector("#docs li")
    return page, watch


def _title(page, name: str) -> str:
    """The title the page's document list shows for the file ``name``."""
    return page.locator(f"#docs li:has-text('{name}') .doc-title").inner_text()


def _ask(page, question: str):
    page.fill("#question", question)
    page.keyboard.press("Enter")
    turn = page.locator(".turn").last
    turn.locator(".a[aria-busy='true']").wait_for(state="detached", timeout=120_000)
    return turn
