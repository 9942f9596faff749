"""The documentation holds together: a short README, links that resolve, and figures that point at reports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / "docs" / "results.md"
CARDS = sorted([*(ROOT / "src" / "affectlab" / "artifacts").glob("*/MODEL_CARD.md"),
                *(ROOT / "packages").glob("*/src/*/*/MODEL_CARD.md")])
PAGES = [README, ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md")), *CARDS]

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
REPORT = re.compile(r"(?<![\w/.-])reports/[\w.*/-]*\w")  # a * is a glob
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def _prose(text: str) -> str:
    """The text without code blocks and inline code, where brackets and parentheses are not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown page (a repeated heading gets -1, -2...)."""
    seen: dict[str, int] = {}
    anchors = set()
    for line in FENCE.sub("", page.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _local_links(page: Path) -> list[str]:
    return [t for t in LINK.findall(_prose(page.read_text(encoding="utf-8"))) if not re.match(r"[a-z]+:", t)]


def test_readme_is_at_most_12_kb():
    size = README.stat().st_size
    assert size <= 12 * 1024, f"README.md is {size} bytes; move detail to docs/"


def test_readme_links_to_every_docs_page():
    linked = {(README.parent / t.split("#")[0]).resolve() for t in _local_links(README)}
    missing = [p.name for p in sorted((ROOT / "docs").glob("*.md")) if p.resolve() not in linked]
    assert not missing, f"README.md does not link to docs/{missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_local_links_resolve(page):
    broken = []
    for target in _local_links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{page.relative_to(ROOT)}: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_reports_exist(page):
    """Every report results.md names, and every one named in the prose of the other pages (their code examples
    may write new reports)."""
    text = page.read_text(encoding="utf-8")
    named = set(REPORT.findall(text if page == RESULTS else FENCE.sub("", text)))
    missing = sorted(n for n in named if not any(p.is_file() for p in ROOT.glob(n)))
    assert not missing, f"{page.relative_to(ROOT)} names reports that are not there: {missing}"


def test_every_results_section_gives_a_command_and_a_report():
    sections = re.split(r"^## ", RESULTS.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]
    assert sections
    for section in sections:
        title = section.splitlines()[0]
        assert re.search(r"^(affectlab|python -m affectlab) ", section, re.MULTILINE), f"{title}: no command"
        reports = [n for n in REPORT.findall(section) if n.endswith(".json")]
        assert reports, f"{title}: no report"
        for name in reports:
            report = json.loads((ROOT / name).read_text(encoding="utf-8"))
            assert report.get("command") and report.get("date"), f"{name} lacks its command or date"


@pytest.mark.parametrize("card", CARDS, ids=lambda p: p.parent.name)
def test_model_cards_link_their_metrics_to_the_results(card):
    targets = [t for t in _local_links(card) if t.split("#")[0].endswith("docs/results.md")]
    assert targets, f"{card.parent.name}: the card does not link to docs/results.md for its metrics"
    text = card.read_text(encoding="utf-8")
    for part in ("Date", "## Data and licence", "## Recipe", "## Metrics"):
        assert part in text, f"{card.parent.name}: the card lacks {part!r}"
