"""The ``MODEL_CARD.md`` that ``affectlab train head`` writes beside a head of one's own, from its config alone."""

from __future__ import annotations

import shlex

from affectlab.encoders import BASE_MODEL
from affectlab.text.label_head import HeadConfig
from affectlab.version import __version__


def model_card(config: HeadConfig) -> str:
    """Markdown: what the head reads, how to use it, its data, recipe, dev figures and base model.

    >>> print(model_card(LabelHead.load(Path("runs/tickets-head")).config))
    """
    trained = config.trained
    data, recipe, dev = trained["data"], trained["recipe"], trained["dev"]
    kind = "multi-label (each label its own probability and dev-tuned threshold)" if config.multi_label else \
        "single-label (softmax over the labels; the top one is the label)"
    carved = (f"given in `{data['dev_file']}`" if data["dev_file"] else
              f"carved from the training file: {recipe['dev_share']:.0%} of the rows, seed {recipe['seed']}, "
              "stratified by each row's rarest label")
    lines = [
        f"# {config.name}: a head of one's own",
        "",
        f"Reads {len(config.labels)} labels of a text, {kind}, from the pooled sentence vectors of the text model "
        f"`{config.base_model}`. Trained by `affectlab train head` (affectlab {__version__}) on "
        f"{trained['date'][:10]}.",
        "",
        "## Use",
        "",
        "```bash",
        f'affectlab analyze "some text" --model path/to/{config.name}',
        "```",
        "",
        "```python",
        "from affectlab import Analyzer",
        f'result = Analyzer(model="path/to/{config.name}").analyze("some text")',
        "result.custom.labels, result.custom.scores",
        "```",
        "",
        "## Data",
        "",
        f"- file: `{data['file']}`, column `{recipe['text_column']}` (text) and `{recipe['label_column']}` (labels"
        + (f", joined by `{recipe['separator']}`)" if config.multi_label else ")"),
        f"- rows: {data['train_rows']:,} to train on, {data['dev_rows']:,} in dev ({carved})",
        "",
        "| label | train rows | dev rows | dev F1 |" + (" threshold |" if config.multi_label else ""),
        "|---|---:|---:|---:|" + ("---:|" if config.multi_label else ""),
    ]
    for i, label in enumerate(config.labels):
        row = (f"| {label} | {data['train_label_counts'].get(label, 0):,} | {data['dev_label_counts'].get(label, 0):,} "
               f"| {dev['per_label_f1'][label]:.3f} |")
        lines.append(row + (f" {config.thresholds[i]:.2f} |" if config.multi_label else ""))
    search = ", ".join(f"{s['l2']:g}: {s['dev_macro_f1']:.3f}" for s in trained["l2_search"])
    lines += [
        "",
        "## Recipe",
        "",
        "The text model stays frozen: each text's pooled sentence vector (the mean of its token states, the "
        "length-weighted mean of its windows' for a text over one window) is computed once through the "
        f"`{recipe['runtime']}` runtime. On those vectors, "
        + ("one logistic regression per label" if config.multi_label else "a softmax regression")
        + " with an L2 penalty (features standardized, the scaling folded into the weights), fitted to "
        "convergence; the penalty kept is the one with the best dev macro-F1"
        + (", each label's threshold tuned on dev first" if config.multi_label else "") + ".",
        "",
        f"- L2 kept: {trained['l2']:g} (dev macro-F1 by L2: {search})",
        f"- recipe: `{_recipe_line(recipe)}`",
        "",
        "## Dev figures",
        "",
    ]
    shown = {k: v for k, v in dev.items() if k != "per_label_f1"}
    lines += [f"- {name.replace('_', ' ')}: {value:.3f}" for name, value in shown.items()]
    lines += [
        "",
        "The dev split also chose the penalty" + (" and the thresholds" if config.multi_label else "")
        + ", so these figures are optimistic; measure the head on a file it has not seen before relying on it.",
        "",
        "## Base model",
        "",
        f"- text model: `{config.base_model}`, fingerprint `{config.base_fingerprint}` "
        f"(`affectlab.registry.fingerprint`), encoder `{config.encoder_fingerprint}`",
        f"- encoder: {BASE_MODEL}, fine-tuned by affectlab's text recipe",
        "- the head loads only beside a text model with this encoder fingerprint: its vectors would mean something "
        "else under another encoder",
        "",
    ]
    return "\n".join(lines)


def _recipe_line(recipe: dict) -> str:
    words = ["affectlab", "train", "head", "--data", recipe["data"], "--text-column", recipe["text_column"],
             "--label-column", recipe["label_column"]]
    if recipe["separator"] is not None:
        words += ["--separator", recipe["separator"]]
    if recipe["dev"] is not None:
        words += ["--dev", recipe["dev"]]
    else:
        words += ["--dev-share", str(recipe["dev_share"]), "--seed", str(recipe["seed"])]
    words += ["--base-model", recipe["base_model"], "--runtime", recipe["runtime"]]
    return shlex.join(words)
