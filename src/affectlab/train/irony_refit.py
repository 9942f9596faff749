"""Recipe for the irony refit (``affectlab train irony``): the irony output learns that ordinary comments and
plainly emotional tweets are mostly not ironic.

``affectlab train text`` learns the irony output from SemEval-2018 tweets alone, half of them ironic, and never
shows it an ordinary comment as a counter-example. On GoEmotions dev its irony probability then passes 0.95 for
15% of the comments, mostly plain praise and thanks, so no rule threshold keeps the cost of discounting their
positive reading within bounds (:mod:`affectlab.train.irony_rule`) and the model ships with no rule: ironic
praise stays positive. Comments alone are not enough either: a row refitted with them still flagged 13% of
EmoInt's joyful dev tweets ("best day ever!!!") at the rule's threshold, because exclamations, hashtags and
slang were ironic in the only tweets it saw. This step fixes both causes in the data, on the trained model's
frozen sentence vectors:

1. **Vectors** (:meth:`affectlab.text.analyzer.Analyzer.sentence_vectors`) of the irony tweets (train and dev
   parts), of a seeded sample of ``ordinary`` GoEmotions train comments (``[NAME]`` filled as in training), of
   the EmoInt train tweets of each emotion in ``literal_tweets``, and of GoEmotions and EmoInt dev.
2. **Fit** the irony row again, a logistic regression on the irony tweets (gold), the sampled comments and the
   EmoInt tweets (all taken as not ironic: some are sarcastic, but far fewer than the irony tweets' half;
   EmoInt chose its tweets by emotion words, not by irony hashtags), for each penalty in ``l2s``; the
   penalty with the best F1 of the ironic class on the dev tweets is kept (weights rounded to fp16 first, as
   shipped), and the detection threshold (``thresholds["irony"]``) is tuned there too.
3. **Rule**: :func:`~affectlab.train.irony_rule.choose_irony_rule` on GoEmotions dev read through the new row;
   the class blocks' thresholds are re-tuned with the rule applied, as the analyzer reads them. The share of
   EmoInt dev tweets the rule flags, per emotion, is recorded (``dev["literal_tweets_flagged"]``).

Only the irony row, the rule's threshold and the class thresholds change; the encoder and every other row are
copied as they are. The result's irony probability is for ordinary text, where irony is rare: it is lower than
the tweet-only output's on the same text, so read it against its own threshold. Test splits are not read.

>>> config = train_irony(IronyRecipe(model="runs/text-minilm-student", out_dir=Path("runs/text-minilm-irony")))
>>> config.irony_rule, config.trained["irony_refit"]["dev"]["irony_f1"]
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from affectlab.datasets import DEFAULT_DATA_DIR, load_emoint, load_goemotions, load_irony
from affectlab.errors import OptionError
from affectlab.heads.layout import EMOINT_EMOTIONS, head_slices
from affectlab.metrics import f1_per_label, tune_thresholds
from affectlab.registry import DEFAULTS, check_output_folder
from affectlab.text.analyzer import Analyzer
from affectlab.text.artifact import TASK, ArtifactConfig, resolve_artifact
from affectlab.text.probabilities import sigmoid
from affectlab.train.class_blocks import class_targets
from affectlab.train.head_rows import as_shipped, frozen_vectors, refit_record, source_head, write_refitted
from affectlab.train.irony_rule import choose_irony_rule
from affectlab.train.linear_head import fit_path
from affectlab.train.name_fill import fill_names

CARD_SECTION = "## Irony refit"


@dataclass
class IronyRecipe:
    model: str = DEFAULTS["text"]  # a text model with an irony block: a shipped name or a folder
    out_dir: Path = Path("runs/text-minilm-irony")
    data_dir: Path = DEFAULT_DATA_DIR
    ordinary: int = 15_000  # GoEmotions train comments taken as not ironic (a seeded sample)
    literal_tweets: tuple[str, ...] = EMOINT_EMOTIONS  # the EmoInt train tweets taken as not ironic, by emotion
    l2s: tuple[float, ...] = (1e-3, 1e-2, 1e-1)
    seed: int = 13
    threads: int = 2
    batch_size: int = 64
    limit: int | None = None  # at most this many irony tweets of each part, EmoInt tweets of each emotion and
    # split, and GoEmotions dev comments (smoke runs)


def train_irony(recipe: IronyRecipe, on_progress: Callable[[dict], None] | None = None) -> ArtifactConfig:
    """Refit ``recipe.model``'s irony row and rule, and write the copy to ``recipe.out_dir``."""
    source = resolve_artifact(recipe.model)
    out_dir = Path(recipe.out_dir)
    check_output_folder(out_dir, TASK, source)
    literal_tweets = tuple(dict.fromkeys(recipe.literal_tweets))
    unknown = [name for name in literal_tweets if name not in EMOINT_EMOTIONS]
    if unknown:
        raise OptionError(f"literal tweets must be EmoInt emotions ({', '.join(EMOINT_EMOTIONS)}), not {unknown[0]!r}")
    config = ArtifactConfig.load(source)
    if "irony" not in config.blocks:
        raise OptionError(f"text model {recipe.model} has no irony block (it has {list(config.blocks)}); train one "
                          "with `affectlab train text` (irony is on by default)")
    ge_train, ge_dev = load_goemotions("train", recipe.data_dir), load_goemotions("dev", recipe.data_dir)
    tweets, dev_tweets = load_irony("train", recipe.data_dir), load_irony("dev", recipe.data_dir)
    n = recipe.limit
    tweets = replace(tweets, texts=tweets.texts[:n], ironic=tweets.ironic[:n])
    dev_tweets = replace(dev_tweets, texts=dev_tweets.texts[:n], ironic=dev_tweets.ironic[:n])
    ge_dev = replace(ge_dev, texts=ge_dev.texts[:n], labels=ge_dev.labels[:n])
    if recipe.ordinary > len(ge_train.texts):
        raise OptionError(f"--ordinary {recipe.ordinary} is more than the {len(ge_train.texts)} comments of "
                          "GoEmotions train")
    analyzer = Analyzer(source, runtime="torch", threads=recipe.threads, batch_size=recipe.batch_size)
    sample = random.Random(recipe.seed).sample(range(len(ge_train.texts)), recipe.ordinary)
    to_read = {"irony train": tweets.texts, "irony dev": dev_tweets.texts,
               "goemotions train sample": fill_names([ge_train.texts[i] for i in sample], recipe.seed),
               "goemotions dev": fill_names(ge_dev.texts, recipe.seed)}
    for emotion in literal_tweets:
        to_read[f"emoint train {emotion}"] = load_emoint(emotion, "train", recipe.data_dir).texts[:n]
    for emotion in EMOINT_EMOTIONS:
        to_read[f"emoint dev {emotion}"] = load_emoint(emotion, "dev", recipe.data_dir).texts[:n]
    vectors = frozen_vectors(analyzer, to_read, on_progress)

    literal = [vectors["goemotions train sample"], *(vectors[f"emoint train {e}"] for e in literal_tweets)]
    x = np.concatenate([vectors["irony train"], *literal])
    y = np.concatenate([np.array(tweets.ironic, np.float64), np.zeros(sum(map(len, literal)))])[:, None]
    dev_gold = np.array(dev_tweets.ironic, np.float64)[:, None]
    candidates = []
    for l2, (weight, bias) in zip(recipe.l2s, fit_path(x, y, multi_label=True, l2s=recipe.l2s)):
        weight, bias = as_shipped(weight), as_shipped(bias)
        probs = sigmoid(vectors["irony dev"] @ weight.T + bias)
        threshold = tune_thresholds(probs, dev_gold)
        f1 = float(f1_per_label(probs >= threshold, dev_gold)[0])
        candidates.append({"l2": l2, "irony_f1": f1, "threshold": float(threshold[0]), "row": (weight, bias)})
        if on_progress:
            on_progress({"task": "dev", "l2": l2, "irony_f1": round(f1, 4)})
    best = max(candidates, key=lambda c: c["irony_f1"])  # ties: the first, the least penalized

    tensors, metadata, head_weight, head_bias = source_head(source)
    slices = head_slices(tuple(config.blocks))
    head_weight[slices["irony"]], head_bias[slices["irony"]] = best["row"]
    raw = vectors["goemotions dev"] @ head_weight.T + head_bias
    rule = choose_irony_rule(raw, class_targets(ge_dev.labels), slices)

    record = refit_record(recipe, source, config)
    record["data"] = {"irony_train": len(tweets.texts), "irony_dev": len(dev_tweets.texts),
                      "goemotions_train_sample": recipe.ordinary, "goemotions_dev": len(ge_dev.texts),
                      "emoint_train": {e: len(vectors[f"emoint train {e}"]) for e in literal_tweets}}
    record["dev"] = {"candidates": [{k: v for k, v in c.items() if k != "row"} for c in candidates],
                     "l2": best["l2"], "irony_f1": best["irony_f1"], "irony_threshold": best["threshold"],
                     "rule": rule.report, "class_macro_f1": rule.macro_f1,
                     "literal_tweets_flagged": flagged_shares(vectors, best["row"], rule.threshold)}
    thresholds = {**config.thresholds, **rule.thresholds, "irony": [best["threshold"]]}
    refitted = ArtifactConfig(**{**asdict(config), "thresholds": thresholds, "irony_rule": rule.threshold,
                                 "trained": {**config.trained, "irony_refit": record}})
    write_refitted(out_dir, source, (tensors, metadata), (head_weight, head_bias), refitted, CARD_SECTION,
                   irony_section(record))
    return refitted


def flagged_shares(vectors: dict[str, np.ndarray], row: tuple[np.ndarray, np.ndarray],
                   threshold: float | None) -> dict[str, float] | None:
    """The share of each emotion's EmoInt dev tweets whose irony probability reaches the rule's ``threshold``."""
    if threshold is None:
        return None
    weight, bias = row
    return {e: round(float((sigmoid(vectors[f"emoint dev {e}"] @ weight.T + bias)[:, 0] >= threshold).mean()), 4)
            for e in EMOINT_EMOTIONS}


def irony_section(record: dict) -> str:
    """The model card section for a refitted irony row (``record``: ``trained["irony_refit"]``)."""
    dev, data, recipe = record["dev"], record["data"], record["recipe"]
    literal = data["emoint_train"]
    counter_tweets = (f" and {sum(literal.values()):,} EmoInt train tweets of {', '.join(literal)} (WASSA-2017, "
                      "research use)" if literal else "")
    rule = dev["rule"]
    if rule["threshold"] is None:
        rule_line = (f"No rule threshold kept the cost on GoEmotions dev within {rule['max_cost']} macro-F1 per block, "
                     "so the irony output does not change the other outputs.")
    else:
        tweets = ", ".join(f"{share:.1%} {emotion}" for emotion, share in dev["literal_tweets_flagged"].items())
        rule_line = (f"Rule threshold {rule['threshold']} (the lowest on the grid costing each class block at most "
                     f"0.005 macro-F1 on GoEmotions dev; cost {rule['cost']}); it flags "
                     f"{rule['flagged_share']:.1%} of GoEmotions dev and, of EmoInt's dev tweets, {tweets}.")
    return (f"{CARD_SECTION}\n\nRefitted {record['date'][:10]} by `affectlab train irony --model {recipe['model']} "
            f"-o {recipe['out_dir']}` (source fingerprint `{record['source']['fingerprint']}`; see "
            "`affectlab.train.irony_refit`). The irony row is a logistic regression on the model's frozen "
            f"sentence vectors: {data['irony_train']:,} SemEval-2018 Task 3A train tweets (CC BY-NC-SA 4.0) with "
            f"their gold, and as not ironic {data['goemotions_train_sample']:,} GoEmotions train comments "
            f"(Apache-2.0, a seeded sample){counter_tweets}. Penalty {dev['l2']:g}, chosen by the F1 of the ironic "
            f"class on the {data['irony_dev']:,} dev tweets: {dev['irony_f1']:.3f} at threshold "
            f"{dev['irony_threshold']}. "
            f"{rule_line} The irony probability is for ordinary text, where irony is rare; `affectlab eval irony` "
            "gives the held-out figure.\n")
