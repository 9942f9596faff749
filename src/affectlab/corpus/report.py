"""A corpus report: one self-contained HTML file (plots inlined as PNG, viewable offline) and the PNGs.

Plots: dominant-emotion shares over time, VAD means over time (each with 95% bands), groups side by
side, and the terms most associated with each emotion; then tables of terms, examples and what the
run could not read.

>>> build_report("results/", "report.html")     # also writes report-plots/*.png
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from affectlab.corpus.aggregate import AGGREGATES_DIR, ALL, EXAMPLE_LENGTH, ReportError, literal_glob, sql_path
from affectlab.corpus.run import MANIFEST, ROW_ERRORS_KEPT, ResumeError, load_manifest
from affectlab.extras import require
from affectlab.io.writers import atomic_write_text
from affectlab.plots import data_uri, literal, pyplot, save_png
from affectlab.taxonomy import EKMAN, VAD

MAX_GROUPS = 8
LABEL_CHARS = 40  # longer group names or terms are cut in plots (a 100,000-character label takes 26 s to draw)
COLORS = {"anger": "tab:red", "disgust": "tab:olive", "fear": "tab:purple", "joy": "tab:orange",
          "sadness": "tab:blue", "surprise": "tab:cyan", "neutral": "tab:gray"}


@dataclass(frozen=True)
class CorpusReport:
    html: str
    plots: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"html": self.html, "plots": self.plots}


def build_report(results: Path, target: Path) -> CorpusReport:
    duckdb = require("duckdb", "corpus")
    require("pandas", "corpus")  # the aggregates are read as DataFrames
    results, target = Path(results), Path(target)
    if target.is_dir():
        raise ReportError(f"{target}: is a folder; give the HTML file to write, e.g. {target / 'report.html'}")
    manifest = _manifest(results)
    con = duckdb.connect()  # its own: the module's default connection is shared with whatever the caller does
    try:
        tables = {
            p.stem: con.sql(f"SELECT * FROM read_parquet({sql_path(literal_glob(p))})").df()
            for p in (results / AGGREGATES_DIR).glob("*.parquet")
        }
    finally:
        con.close()
    missing = {"shares_over_time", "shares_by_group", "vad_over_time", "top_terms", "examples"} - set(tables)
    if missing:
        raise ReportError(
            f"{results}: aggregates missing ({', '.join(sorted(missing))}); run `affectlab corpus run` again"
        )
    plot_dir = target.with_name(target.stem + "-plots")
    figures = {
        "shares_over_time": ("Dominant emotion over time", _shares_over_time(tables["shares_over_time"])),
        "vad_over_time": ("Valence, arousal, dominance over time", _vad_over_time(tables["vad_over_time"])),
        "groups": ("Groups side by side", _groups(tables["shares_by_group"])),
        "top_terms": (
            "Terms most associated with each emotion (PMI, ranked with rare terms shrunk)",
            _terms(tables["top_terms"]),
        ),
    }
    sections, written = [], []
    for name, (title, fig) in figures.items():
        png = plot_dir / f"{name}.png"
        if fig is None:
            png.unlink(missing_ok=True)  # a plot of the corpus an earlier report at this path was made from
            sections.append(f"<h2>{html.escape(title)}</h2><p>Not available: {html.escape(_why(name, manifest))}</p>")
            continue
        data = save_png(fig, png)
        written.append(str(png))
        sections.append(
            f"<h2>{html.escape(title)}</h2><img class='plot' alt='{html.escape(title)}' src='{data_uri(data)}'>"
        )
    page = _page(manifest, sections, tables)
    atomic_write_text(target, page)
    return CorpusReport(str(target), written)


def _manifest(results: Path) -> dict:
    path = results / MANIFEST
    if not path.exists():
        raise ReportError(f"{results}: no {MANIFEST}; is this the output folder of `affectlab corpus run`?")
    try:
        manifest = load_manifest(results)
    except ResumeError as exc:
        raise ReportError(str(exc)) from None
    if manifest.get("state") != "complete":
        raise ReportError(
            f"{results}: the run is not complete (state {manifest.get('state')!r}); run it again to resume"
        )
    return manifest


def _why(name: str, manifest: dict) -> str:
    job = manifest["job"]
    if name in ("shares_over_time", "vad_over_time"):
        if not job.get("time_column"):
            return "the run was given no time column (--time-column)"
        return f"no scored row has a time that could be read from the column {job['time_column']!r}"
    if name == "groups":
        if not job.get("group_column"):
            return "the run was given no group column (--group-column)"
        return f"the scored rows fall in fewer than two groups of the column {job['group_column']!r}"
    return "no term reached the minimum count"


def _shares_over_time(frame):
    return _over_time(frame, "emotion", EKMAN, "share", "share of posts (95% CI)", COLORS)


def _vad_over_time(frame):
    return _over_time(frame, "dimension", VAD, "mean", "mean on EmoBank's 1-5 scale (95% CI)", {})


def _over_time(frame, series_column: str, series: tuple[str, ...], value: str, ylabel: str, colors: dict):
    """One line per series over the time buckets of ``(all)``, each with its 95% band."""
    frame = frame[frame["group"] == ALL]
    if frame.empty:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for name in series:
        rows = frame[frame[series_column] == name].sort_values("bucket")
        line, = ax.plot(rows["bucket"], rows[value], marker=".", label=name, color=colors.get(name))
        ax.fill_between(rows["bucket"], rows["ci_low"], rows["ci_high"], color=line.get_color(), alpha=0.15)
    ax.set_ylabel(ylabel)
    ax.legend(ncol=4, fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def _groups(frame):
    import numpy as np

    sizes = frame[frame["group"] != ALL].groupby("group")["n"].first().sort_values(ascending=False)
    groups = list(sizes.index[:MAX_GROUPS])
    if len(groups) < 2:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(groups)
    x = np.arange(len(EKMAN))
    bars = []
    for i, group in enumerate(groups):
        rows = frame[frame["group"] == group].set_index("emotion").loc[list(EKMAN)]
        # at a share of 0 or 1 the Wilson bound equals it up to rounding, which can make an error bar -1e-17
        errors = [(rows["share"] - rows["ci_low"]).clip(lower=0), (rows["ci_high"] - rows["share"]).clip(lower=0)]
        bars.append(ax.bar(x + i * width - 0.4 + width / 2, rows["share"], width, yerr=errors, capsize=2))
    ax.set_xticks(x, EKMAN)
    ax.set_ylabel("share of posts (95% CI)")
    # group names are the user's: drawn literally, and passed explicitly (legend() would drop "_"-names)
    ax.legend(bars, [f"{_label(group)} (n={sizes[group]:,})" for group in groups], fontsize=8)
    fig.tight_layout()
    return fig


def _label(name: str, width: int = LABEL_CHARS) -> str:
    """A user's name (group, term) as a plot shows it: on one line, cut to ``width``, drawn literally."""
    flat = " ".join(str(name).split())
    return literal(flat if len(flat) <= width else flat[: width - 1] + "…")


def _terms(frame):
    emotions = [e for e in EKMAN if e in set(frame["emotion"])]
    if not emotions:
        return None
    plt = pyplot()
    columns = 3
    rows_needed = (len(emotions) + columns - 1) // columns
    fig, axes = plt.subplots(rows_needed, columns, figsize=(12, 3.2 * rows_needed), squeeze=False)
    for ax, emotion in zip(axes.flat, emotions):
        rows = frame[frame["emotion"] == emotion].sort_values("rank").head(10)
        ax.barh([_label(t) for t in rows["term"][::-1]], rows["pmi_shrunk"][::-1], color=COLORS[emotion])
        ax.set_title(emotion)
        ax.set_xlabel("PMI, shrunk towards 0 for rare terms (bits)")
    for ax in list(axes.flat)[len(emotions):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def _page(manifest: dict, sections: list[str], tables: dict) -> str:
    counts = manifest["counts"]
    facts = {
        "inputs": ", ".join(f["path"] for f in manifest["files"]) or "none",
        "rows": f"{counts['rows']:,} ({counts['ok']:,} scored, {counts['skipped']:,} without text, "
        f"{counts['errors']:,} unreadable)",
        "times": f"{counts['time_missing']:,} missing, {counts['time_unparsed']:,} not understood",
        "model": f"{manifest['model']['name']} (trained {manifest['model']['trained']})",
        "engine": ", ".join(f"{k} {v}" for k, v in manifest["engine"].items()),
        "finished": manifest.get("finished") or "",
    }
    head = "".join(f"<tr><th>{k}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts.items())
    if manifest.get("file_errors"):
        head += "".join(
            f"<tr><th>file error</th><td>{html.escape(e['error'])}</td></tr>" for e in manifest["file_errors"]
        )
    terms = tables["top_terms"]
    term_rows = "".join(
        f"<tr><td>{e}</td>"
        f"<td>{html.escape(', '.join(terms[terms['emotion'] == e].sort_values('rank')['term']))}</td></tr>"
        for e in EKMAN if (terms["emotion"] == e).any()
    )
    examples = tables["examples"]
    example_rows = "".join(
        f"<tr><td>{r.emotion}</td><td>{r.score:.2f}</td><td>{html.escape(str(r.text))}</td></tr>"
        for r in examples.sort_values(["emotion", "rank"]).itertuples()
    ) or (f"<tr><td colspan='3'>None: no scored post is {EXAMPLE_LENGTH[0]}-{EXAMPLE_LENGTH[1]} characters long, the "
          "length shown here</td></tr>")
    error_rows = "".join(
        f"<tr><td>{html.escape(str(e['source']))}</td><td>{e['row']}</td><td>{html.escape(str(e['error']))}</td></tr>"
        for e in manifest.get("row_errors", [])[:20]
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>affectlab corpus report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}} th{{text-align:left;padding-right:1em}}
td{{padding:2px 8px;vertical-align:top}} img.plot{{max-width:100%}}</style></head>
<body><h1>Emotion in the corpus</h1><table>{head}</table>
{''.join(sections)}
<h2>Top terms</h2><table>{term_rows}</table>
<h2>Representative posts</h2><table><tr><th>emotion</th><th>score</th><th>text</th></tr>{example_rows}</table>
<h2>Rows with problems (the first 20; manifest.json keeps the first {ROW_ERRORS_KEPT:,}, scores/ all)</h2>
<table><tr><th>source</th><th>row</th><th>problem</th></tr>{error_rows}</table>
<script>
window.addEventListener("load", function () {{
  var plots = Array.prototype.slice.call(document.querySelectorAll("img.plot"));
  var drawn = plots.filter(function (img) {{ return img.complete && img.naturalWidth > 0; }});
  document.body.setAttribute("data-plots", drawn.length + "/" + plots.length);
}});
</script></body></html>
"""
