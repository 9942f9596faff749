"""Retake the web app's pictures in docs/serve.md against a running server with the shipped models:

    affectlab serve --port 8000 &
    python docs/img/screenshots.py http://127.0.0.1:8000 docs/img

Needs Playwright (the dev extra) and a Chromium (Debian's package at /usr/bin/chromium, as in .ci/run).
"""

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

TEXT = "I finally got the letter: they accepted me! I still can't quite believe it."
CONVERSATION = ("Maya: The café I wanted to open my stall at said no, after three weeks of waiting.\n"
                "Tom: Oh no, that's so frustrating. Did they say why?\n"
                "Maya: They said no outside vendors. Honestly I'm scared I wasted my savings on the cart.")


def main(url: str, folder: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(url)
        page.fill("#text-input", TEXT)
        page.press("#text-input", "Control+Enter")
        page.wait_for_selector("#text-result:not([hidden])", timeout=120_000)
        page.wait_for_selector("#text-evidence mark", timeout=120_000)
        page.screenshot(path=folder / "serve-text.png", full_page=True)
        page.click("#tab-conversation")
        page.fill("#conversation-input", CONVERSATION)
        page.press("#conversation-input", "Control+Enter")
        page.wait_for_selector("#conversation-turns .turn >> nth=2", timeout=120_000)
        page.click("#conversation-turns .turn >> nth=2")
        page.click("#reply-button")
        page.wait_for_selector("#reply:not([hidden])", timeout=300_000)
        page.screenshot(path=folder / "serve-conversation.png", full_page=True)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
