"""Pictures of a prompt-eval run: the change in accuracy against the plain prompt, with its interval, per
condition over all tasks and per task; a PNG, and a self-contained HTML page that embeds it with the table."""

from __future__ import annotations

import html
from pathlib import Path

from affectlab.io import atomic_write_text
from affectlab.plots import data_uri, literal, pyplot, save_png
from affectlab.prompting.harness import PromptEvalResult


def delta_figure(result: PromptEvalResult):
    import numpy as np

    plt = pyplot()

    conditions = [c.condition for c in result.overall]
    tasks = list(dict.fromkeys(c.scope for c in result.by_task))
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, max(4.0, 0.32 * len(tasks) + 1.5)),
                                      gridspec_kw={"width_ratios": [1, 2]})
    y = np.arange(len(conditions))
    deltas = np.array([c.delta for c in result.overall])
    errors = np.array([[c.delta - c.low for c in result.overall], [c.high - c.delta for c in result.overall]])
    colors = ["tab:blue" if c.significant else "tab:gray" for c in result.overall]
    left.barh(y, deltas, xerr=errors, color=colors, capsize=3)
    left.axvline(0, color="black", linewidth=0.8)
    left.set_yticks(y, [literal(c) for c in conditions])
    left.invert_yaxis()
    left.set_xlabel("accuracy change vs. no stimulus (95% CI)")
    left.set_title("all tasks (blue: interval excludes 0)")

    grid = np.full((len(tasks), len(conditions)), np.nan)
    marks = {}
    for c in result.by_task:
        i, j = tasks.index(c.scope), conditions.index(c.condition)
        grid[i, j] = c.delta
        marks[i, j] = "*" if c.significant else ""
    limit = max(0.05, float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 0.05)
    image = right.imshow(grid, cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
    right.set_xticks(range(len(conditions)), [literal(c) for c in conditions], rotation=45, ha="right")
    right.set_yticks(range(len(tasks)), [literal(t) for t in tasks])
    for (i, j), mark in marks.items():
        right.text(j, i, f"{grid[i, j]:+.2f}{mark}", ha="center", va="center", fontsize=7)
    right.set_title("per task (* interval excludes 0)")
    fig.colorbar(image, ax=right, label="accuracy change")
    fig.suptitle(f"Emotional stimuli on {literal(result.model)}")
    fig.tight_layout()
    return fig


def write_plots(result: PromptEvalResult, png: Path, page: Path) -> None:
    """``png``, and ``page``: one HTML file (the PNG inlined) viewable offline."""
    data = save_png(delta_figure(result), png)
    rows = "".join(
        f"<tr><td>{html.escape(c.scope)}</td><td>{html.escape(c.condition)}</td><td>{c.n}</td>"
        f"<td>{c.baseline:.3f}</td><td>{c.accuracy:.3f}</td><td>{c.delta:+.3f}</td>"
        f"<td>[{c.low:+.3f}, {c.high:+.3f}]</td><td>{'yes' if c.significant else ''}</td></tr>"
        for c in [*result.overall, *result.by_task])
    atomic_write_text(page, (
        "<!doctype html><meta charset='utf-8'><title>affectlab prompt-eval</title>"
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:right}</style>"
        f"<h1>Emotional stimuli on {html.escape(result.model)}</h1>"
        f"<img alt='accuracy changes' src='{data_uri(data)}'>"
        "<table><tr><th>scope</th><th>condition</th><th>items</th><th>no stimulus</th><th>with</th><th>change</th>"
        f"<th>95% CI</th><th>CI excludes 0</th></tr>{rows}</table>\n"))
