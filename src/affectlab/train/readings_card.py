"""The model card section that ``affectlab train readings`` appends for the fitted reading blocks."""

from __future__ import annotations

import textwrap

CARD_SECTION = "## Fitted readings"

DATA = {
    "emoint": ("EmoInt (WASSA-2017 shared task on emotion intensity): tweets rated 0-1 for the intensity of one "
               "of anger, fear, joy, sadness", "research use (WASSA-2017 EmoInt)"),
    "emobank": ("EmoBank: English sentences rated 1-5 for valence, arousal, dominance from the writer's and the "
                "reader's perspective (`writer.csv`, `reader.csv`)", "CC BY-SA 4.0"),
    "wassa22": ("WASSA-22 essays written in reaction to news stories, with the writer's empathy and personal "
                "distress (Batson scales, 1-7)", "research use (WASSA-22 shared task)"),
}


def _family(key: str) -> str:
    return key.split("-")[0]


def readings_section(readings: dict) -> str:
    """Markdown for ``trained["readings"]`` of a grown text model: data and licences, recipe, dev figures."""
    recipe, source = readings["recipe"], readings["source"]
    intro = (
        f"Added {readings['date'][:10]} by `affectlab train readings --model {recipe['model']} -o "
        f"{recipe['out_dir']}` (source model `{source['name']}`, fingerprint `{source['fingerprint']}`). "
        "Each output below is a ridge regression on the source model's frozen sentence vector (mean-pooled, "
        "a long text's windows averaged by length), fitted on train with its penalty chosen by Pearson r on "
        "dev, and stored as rows of the same linear head: no extra cost per text, and every other output is "
        "unchanged. Values are clipped to each scale. See docs/readings.md for what they mean and their "
        "limits, and `affectlab eval emoint`, `eval wassa22`, `eval emobank-perspectives` for the held-out "
        "figures."
    )
    licences = ("The research-use licences of EmoInt and WASSA-22 carry over to these outputs: the `intensity`, "
                "`empathy` and `distress` blocks are for research use.")
    lines = [
        CARD_SECTION,
        "",
        textwrap.fill(intro, 110, break_on_hyphens=False, break_long_words=False),
        "",
        "| data | what it holds | licence |",
        "|---|---|---|",
    ]
    used = sorted({_family(r["data"]) for block in readings["blocks"].values() for r in block.values()})
    lines += [f"| {name} | {DATA[name][0]} | {DATA[name][1]} |" for name in used]
    lines += [
        "",
        textwrap.fill(licences, 110, break_on_hyphens=False, break_long_words=False),
        "",
        "| block | output | data | train / dev texts | penalty | dev Pearson r | dev MAE |",
        "|---|---|---|---|---|---|---|",
    ]
    for block, outputs in readings["blocks"].items():
        for label, r in outputs.items():
            edge = " (grid edge)" if r["alpha_at_grid_edge"] else ""
            lines.append(f"| {block} | {label} | {r['data']} | {r['train_texts']:,} / {r['dev_texts']:,} | "
                         f"{r['alpha']:,.4g}{edge} | {r['dev_pearson']:.3f} | {r['dev_mae']:.3f} |")
    return "\n".join(lines) + "\n"
