"""The web app as a user meets it: headless Chromium (Debian's, at /usr/bin/chromium, driven by Playwright from
PyPI; nothing is downloaded) against affectlab serve under a real uvicorn on 127.0.0.1, with stand-in models.
The text, conversation and corpus flows each save screenshots: under $AFFECTLAB_TEST_ARTIFACTS when set, else
under pytest's temporary folder (its path is printed)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the dev extra)")


from affectlab.serve import Settings  # noqa: E402
from test_serve import fake_models, served  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's "
                                                         "chromium package)")


EXPECTED_REFUSAL = "Failed to load resource: the server responded with a status of 4"  # the error flows' own


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    settings = Settings(jobs_dir=tmp_path_factory.mktemp("jobs"), job_chunk_rows=5)
    with served(settings, fake_models(), log_level="warning") as address:
        yield address


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("AFFECTLAB_TEST_ARTIFACTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, url):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    opened = context.new_page()
    problems = []
    opened.on("pageerror", lambda exc: problems.append(str(exc)))
    opened.on("console", lambda message: problems.append(message.text)
              if message.type == "error" and not message.text.startswith(EXPECTED_REFUSAL) else None)
    opened.goto(url)
    yield opened
    context.close()
    assert problems == []  # no script error, no resource the page's policy refused


def test_the_text_flow(page, shots):
    page.fill("#text-input", "so happy you came")
    page.press("#text-input", "Control+Enter")
    page.wait_for_selector("#text-result:not([hidden])")
    assert page.locator("#text-emotions li").count() == 28
    assert page.locator("#text-emotions li.on .name").inner_text() == "joy"
    assert page.inner_text("#text-status").startswith("joy — fake-text")
    page.screenshot(path=shots / "text.png", full_page=True)
    page.set_viewport_size({"width": 380, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 380  # no sideways scrolling on a phone
    page.screenshot(path=shots / "text-narrow.png", full_page=True)


def test_the_conversation_flow_from_the_keyboard(page, shots):
    page.focus("#tab-text")
    page.keyboard.press("ArrowRight")
    assert page.is_visible("#panel-conversation") and not page.is_visible("#panel-text")
    page.fill("#conversation-input", "A: I passed my driving test!\nB: No way, that's brilliant!")
    page.press("#conversation-input", "Control+Enter")
    page.wait_for_selector("#conversation-turns .turn >> nth=1")
    page.focus("#conversation-turns .turn >> nth=1")
    page.keyboard.press("Enter")
    assert page.get_attribute("#conversation-turns .turn >> nth=1", "aria-pressed") == "true"
    assert page.inner_text("#conversation-turns .turn.cause mark") == "I pa"
    page.click("#reply-button")
    page.wait_for_selector("#reply:not([hidden])")
    assert page.inner_text("#reply-text") == "That sounds hard."
    page.screenshot(path=shots / "conversation.png", full_page=True)


def test_the_corpus_flow_to_its_report(page, shots, tmp_path):
    table = tmp_path / "posts.csv"
    table.write_text("id,body\n" + "".join(f"{i},{'so happy' if i % 2 else 'a grey day'} {i}\n" for i in range(12)),
                     encoding="utf-8")
    page.click("#tab-corpus")
    page.set_input_files("#corpus-file", str(table))
    page.fill("#corpus-text", "body")
    page.click("#corpus-form button[type=submit]")
    page.wait_for_selector("#corpus-result:not([hidden])", timeout=60_000)
    assert "12 rows, 12 scored" in page.inner_text("#corpus-status")
    assert page.locator("#corpus-shares li").count() == 7
    page.screenshot(path=shots / "corpus.png", full_page=True)
    with page.expect_popup() as opened:
        page.click("#corpus-report")
    report = opened.value
    report.wait_for_load_state()
    assert report.inner_text("h1") == "Emotion in the corpus"
    report.screenshot(path=shots / "corpus-report.png", full_page=True)


def test_a_corpus_job_is_deleted_from_the_page(page, tmp_path):
    table = tmp_path / "posts.csv"
    table.write_text("text\nso happy\na grey day\n", encoding="utf-8")
    page.click("#tab-corpus")
    page.set_input_files("#corpus-file", str(table))
    page.click("#corpus-form button[type=submit]")
    page.wait_for_selector("#corpus-result:not([hidden])", timeout=60_000)
    assert "kept on the server until" in page.inner_text("#corpus-kept")
    job = page.get_attribute("#corpus-table", "href").split("/")[3]
    page.click("#corpus-delete")
    page.wait_for_selector("#corpus-actions[hidden]")
    assert page.inner_text("#corpus-status").startswith("deleted") and not page.is_visible("#corpus-result")
    assert page.evaluate(f"fetch('/v1/corpus/{job}').then((r) => r.status)") == 410


def test_an_error_is_shown_in_the_page(page):
    page.click("#tab-corpus")
    page.set_input_files("#corpus-file", {"name": "p.csv", "mimeType": "text/csv", "buffer": b"id,body\n1,hi\n"})
    page.click("#corpus-form button[type=submit]")
    page.wait_for_selector("#corpus-status.error")
    assert "no column 'text'" in page.inner_text("#corpus-status")


def test_the_jobs_list_opens_and_deletes_a_job_from_the_keyboard(page, shots, tmp_path):
    table = tmp_path / "posts.csv"
    table.write_text("text\nso happy\na grey day\nso happy again\n", encoding="utf-8")
    page.click("#tab-corpus")
    page.set_input_files("#corpus-file", str(table))
    page.click("#corpus-form button[type=submit]")
    page.wait_for_selector("#corpus-result:not([hidden])", timeout=60_000)
    job = page.get_attribute("#corpus-table", "href").split("/")[3]
    page.reload()  # a fresh page knows no job: it finds this one in the list
    page.focus("#tab-text")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    row = f"#corpus-jobs-rows tr[data-id='{job}']"
    page.wait_for_selector(row)
    assert page.inner_text(f"{row} td >> nth=1") == "complete" and page.inner_text(f"{row} td >> nth=2") == "3 of 3"
    assert "job" in page.inner_text("#corpus-jobs-status")
    page.focus(f"{row} button >> text=Open")
    page.keyboard.press("Enter")
    page.wait_for_selector("#corpus-result:not([hidden])")
    assert "3 rows, 3 scored" in page.inner_text("#corpus-status") and "shown" in page.get_attribute(row, "class")
    page.screenshot(path=shots / "corpus-jobs.png", full_page=True)
    page.set_viewport_size({"width": 380, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 380  # the table fits a phone
    page.screenshot(path=shots / "corpus-jobs-narrow.png", full_page=True)
    page.focus(f"{row} button >> text=Delete")
    page.keyboard.press("Enter")
    page.wait_for_selector(row, state="detached")
    assert page.inner_text("#corpus-status").startswith("deleted") and not page.is_visible("#corpus-result")
    assert page.evaluate(f"fetch('/v1/corpus/{job}').then((r) => r.status)") == 410
