"""The internals evaluations: layer-wise probes (with zero-shot prompting and persistence beside them) and
closed-loop steering (a sweep on dev prompts, then the test prompts)."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from affectlab.datasets import DEFAULT_DATA_DIR, load_dailydialog, load_goemotions
from affectlab.metrics import macro_f1_single
from affectlab.internals.capture import capture_pooled
from affectlab.internals.closed_loop import ARMS, load_prompts, overall, run_arms
from affectlab.internals.directions import METHODS, ScenarioStates, scenario_states
from affectlab.internals.layers import InternalsError, check_layer, decoder_layers
from affectlab.internals.probes import best_layer, score_probes, train_probes
from affectlab.internals.steering import steering_layers
from affectlab.internals.text_directions import TextStates, check_shares, text_states
from affectlab.internals.zero_shot import zero_shot_scores
from affectlab.internals.packaged import steering_settings
from affectlab.taxonomy import EKMAN, GOEMOTIONS_TO_EKMAN, group_labels

PROBE_DATASETS = ("goemotions-ekman", "dailydialog")
SPLITS = {"goemotions-ekman": ("train", "dev", "test"), "dailydialog": ("train", "validation", "test")}
# a neutral run-on sentence appended after a text to ask whether its emotion is still readable N tokens on
FILLER = (" After that I walked to the corner shop, bought a loaf of bread and a carton of milk, paid at the"
          " counter and went back home along the main road, where the buses were running on time as usual.")
PERSISTENCE_TOKENS = (0, 8, 32)
# the scenario methods, and directions from GoEmotions' train texts (each Ekman group against neutral)
STEERING_METHODS = (*METHODS, "goemotions")
# the test arms compared with the unsteered one (perplexity ratios), in the order reports list them
COMPARED_ARMS = ("prompted", "steered", "steered_per_emotion", "prompted_steered")
# the share of the emotions' common part taken out of each GoEmotions direction (text_directions.py), as shipped:
# each emotion's own dev pick (reports/eval-steering-goemotions-two-layers.json)
REMOVE_SHARED = steering_settings().remove_shared  # what the shipped directions were made with
# the shares `eval steering --method goemotions` sweeps unless told otherwise
SWEPT_SHARES = (0.0, 0.25, 0.5)
Progress = Callable[[int], None] | None


def labelled_texts(dataset: str, split: str, data_dir: Path) -> list[tuple[str, int]]:
    """(text, Ekman-7 id) pairs: GoEmotions texts whose labels fall in exactly one Ekman group, or
    DailyDialog turns."""
    if dataset == "goemotions-ekman":
        data = load_goemotions(split, data_dir)
        pairs = []
        for text, labels in zip(data.texts, data.labels):
            groups = group_labels(labels, GOEMOTIONS_TO_EKMAN)
            if len(groups) == 1:
                pairs.append((text, EKMAN.index(groups[0])))
        return pairs
    if dataset == "dailydialog":
        return [(t, EKMAN.index(e)) for d in load_dailydialog(split, data_dir) for t, e in zip(d.texts, d.emotions)]
    raise InternalsError(f"unknown probe data {dataset!r}; use one of {', '.join(PROBE_DATASETS)}")


def balanced(pairs: list[tuple[str, int]], per_label: int, seed: int) -> list[tuple[str, int]]:
    """Up to ``per_label`` pairs of each label (seeded), so accuracy is not carried by the majority class."""
    rng = random.Random(seed)
    chosen = []
    for label in sorted({y for _, y in pairs}):
        mine = [p for p in pairs if p[1] == label]
        rng.shuffle(mine)
        chosen += mine[:per_label]
    rng.shuffle(chosen)
    return chosen


def with_filler(llm, texts: list[str], tokens: int) -> list[str]:
    if tokens == 0:
        return texts
    filler_ids = llm.tokenizer(FILLER, add_special_tokens=False).input_ids[:tokens]
    return [t + llm.tokenizer.decode(filler_ids) for t in texts]


def eval_probes(llm, dataset: str = "goemotions-ekman", data_dir: Path = DEFAULT_DATA_DIR, *,
                train_per_label: int = 200, dev_per_label: int = 50, test_per_label: int = 70, seed: int = 0,
                batch_size: int = 16, on_progress: Progress = None) -> dict:
    """Probe accuracy and macro-F1 per layer on dev and held-out test items, the best layer picked on dev (its
    test figures reported; each layer's regularization is picked on the same dev items, so dev accuracies run
    a little high), the LM's zero-shot accuracy on the test items, and persistence: last-token probes read the
    emotion N filler tokens after the text ended."""
    train_split, dev_split, test_split = SPLITS.get(dataset, ("train", "dev", "test"))
    train = balanced(labelled_texts(dataset, train_split, data_dir), train_per_label, seed)
    dev = balanced(labelled_texts(dataset, dev_split, data_dir), dev_per_label, seed)
    test = balanced(labelled_texts(dataset, test_split, data_dir), test_per_label, seed)

    def states(pairs, poolings=("mean", "last"), tokens=0):
        texts = with_filler(llm, [t for t, _ in pairs], tokens)
        return capture_pooled(llm, texts, poolings=poolings, batch_size=batch_size, max_tokens=128,
                              on_progress=on_progress)

    y_train, y_dev, y_test = ([y for _, y in s] for s in (train, dev, test))
    x_train, x_dev, x_test = states(train), states(dev), states(test)
    probes = train_probes(x_train["mean"], y_train, dev=(x_dev["mean"], y_dev), seed=seed)
    dev_scores = score_probes(probes, x_dev["mean"], y_dev)
    layer_scores = score_probes(probes, x_test["mean"], y_test)
    chosen = best_layer(dev_scores)
    best = next(s for s in layer_scores if s.layer == chosen)

    zero_shot = zero_shot_scores(llm, [t for t, _ in test], EKMAN, on_progress=on_progress).argmax(1)
    last_probes = train_probes(x_train["last"], y_train, dev=(x_dev["last"], y_dev), seed=seed)
    persistence = {"0": [s.accuracy for s in score_probes(last_probes, x_test["last"], y_test)]}
    for tokens in PERSISTENCE_TOKENS[1:]:
        later = states(test, ("last",), tokens)["last"]
        persistence[str(tokens)] = [s.accuracy for s in score_probes(last_probes, later, y_test)]
    counts = np.bincount(y_train, minlength=len(EKMAN))
    majority = int(np.argmax(counts))
    n_layers = len(decoder_layers(llm))
    return {
        "model": llm.name, "dataset": dataset, "labels": list(EKMAN), "layers": n_layers,
        "items": {"train": len(train), "dev": len(dev), "test": len(test)},
        "per_label_cap": {"train": train_per_label, "dev": dev_per_label, "test": test_per_label},
        "test_label_counts": np.bincount(y_test, minlength=len(EKMAN)).tolist(),
        "probes": [{**s.to_dict(), "dev_accuracy": d.accuracy, "dev_macro_f1": d.macro_f1, "c": c}
                   for s, d, c in zip(layer_scores, dev_scores, probes.c)],
        "best_layer": {"layer": best.layer, "chosen_on": "dev accuracy (ties: the earlier layer)",
                       "dev_accuracy": next(d.accuracy for d in dev_scores if d.layer == chosen),
                       "accuracy": best.accuracy, "macro_f1": best.macro_f1,
                       "relative_depth": round(best.layer / (n_layers - 1), 2)},
        "zero_shot_prompting": {"accuracy": float((zero_shot == np.array(y_test)).mean()),
                                "macro_f1": macro_f1_single(zero_shot, np.array(y_test), len(EKMAN)),
                                "predicted_label_counts": np.bincount(zero_shot, minlength=len(EKMAN)).tolist()},
        "chance": {"majority_of_train": float((np.array(y_test) == majority).mean()),
                   "uniform": 1 / len(EKMAN)},
        "persistence": {"pooling": "last token", "filler": FILLER, "accuracy_by_layer": persistence},
    }


def goemotions_states(llm, data_dir: Path = DEFAULT_DATA_DIR, *, per_label: int = 200, seed: int = 0,
                      on_progress: Progress = None) -> TextStates:
    """The captured states of ``per_label`` GoEmotions train comments per Ekman group (seeded; comments whose
    labels fall in exactly one group)."""
    pairs = balanced(labelled_texts("goemotions-ekman", "train", data_dir), per_label, seed)
    return text_states(llm, [t for t, _ in pairs], [EKMAN[y] for _, y in pairs], EKMAN[:-1], source="goemotions",
                       seed=seed, on_progress=on_progress)


def goemotions_directions(llm, data_dir: Path = DEFAULT_DATA_DIR, *, per_label: int = 200, seed: int = 0,
                          remove_shared: float | Mapping[str, float] = REMOVE_SHARED,
                          states: TextStates | None = None,
                          scenarios: ScenarioStates | None = None, on_progress: Progress = None):
    """Directions from GoEmotions train comments (``goemotions_states``; ``states`` if already captured), each
    emotion's mean state minus the neutral comments', less ``remove_shared`` of what the six differences
    share, at the length of the scenario mean difference (as ``pca`` and ``centered`` are): the comments' own
    differences are uneven (anger's is a quarter to a third of the scenario one in the middle layers, joy's
    nearly all of it)."""
    if states is None:
        states = goemotions_states(llm, data_dir, per_label=per_label, seed=seed, on_progress=on_progress)
    return states.directions(remove_shared).scaled_to((scenarios or scenario_states(llm)).directions("mean_diff"))


def _best(points: list[dict], max_perplexity_ratio: float) -> dict:
    """The point with the best fluent accuracy (degenerate outputs count as misses: perplexity alone lets
    a phrase repeated over and over pass) whose perplexity ratio is within bounds (all points if none is);
    ties go to the lower perplexity."""
    fluent = [p for p in points if p["perplexity_ratio"] <= max_perplexity_ratio] or points
    return max(fluent, key=lambda p: (p["accuracy_fluent"], -p["perplexity_ratio"]))


def _setting(point: dict) -> dict:
    """What a sweep point set: its share removed (text directions only) and its strength."""
    return {k: point[k] for k in ("remove_shared", "strength") if k in point}


def eval_steering(llm, analyzer, *, layers: list[int | tuple[int, ...]], strengths: list[float],
                  max_perplexity_ratio: float = 2.0, method: str = "mean_diff",
                  remove_shared: list[float] | None = None, samples: int = 2, seed: int = 0,
                  data_dir: Path = DEFAULT_DATA_DIR, on_progress: Progress = None) -> dict:
    """Directions from the packaged scenarios (for ``goemotions``: from GoEmotions train under ``data_dir``,
    with each share in ``remove_shared`` of the emotions' common part taken out, default ``SWEPT_SHARES``);
    (layers, share, strength) chosen on the dev prompts as the best fluent expression accuracy whose perplexity
    stays within ``max_perplexity_ratio`` of the unsteered output's (each entry of ``layers`` is one layer or a
    tuple steered together), and at those layers a share and strength for each emotion chosen the same way
    from that emotion's dev figures; then every arm on the test prompts (``steered``: one share and strength,
    ``steered_per_emotion``: each emotion its own, ``prompted_steered``: the one share and strength on top of
    the emotion instruction). The ``goemotions`` directions are recomputed with ``seed`` (at 0, the shipped ones)."""
    template, dev_prompts, test_prompts = load_prompts()
    if method not in STEERING_METHODS:
        raise InternalsError(f"method must be one of {', '.join(STEERING_METHODS)}, not {method!r}")
    if remove_shared is not None and method != "goemotions":
        raise InternalsError("remove_shared applies to the goemotions directions only")
    check_shares(remove_shared or [])
    for entry in layers:  # before any capture or generation, so a bad layer fails at once
        for layer in steering_layers(entry):
            check_layer(llm, layer)
    states = scenario_states(llm)
    directions = {m: states.directions(m) for m in METHODS}
    candidates = {None: directions.get(method)}  # share removed (None: not a text method) -> directions
    if method == "goemotions":
        comments = goemotions_states(llm, data_dir, seed=seed, on_progress=on_progress)
        candidates = {share: goemotions_directions(llm, states=comments, remove_shared=share, scenarios=states)
                      for share in (remove_shared or SWEPT_SHARES)}

    dev_plain = overall(run_arms(llm, analyzer, None, dev_prompts, arms=("unsteered",), seed=seed,
                                 template=template, on_progress=on_progress), "unsteered")
    sweep = []
    for layer in layers:
        for share, swept in candidates.items():
            for strength in strengths:
                results = run_arms(llm, analyzer, swept, dev_prompts, layer=layer, strength=strength,
                                   seed=seed, template=template, on_progress=on_progress)
                figures = overall(results, "steered")
                sweep.append({"layers": list(steering_layers(layer)),
                              **({} if share is None else {"remove_shared": share}), "strength": strength,
                              **figures, "perplexity_ratio": figures["perplexity"] / dev_plain["perplexity"],
                              "per_emotion": {r.emotion: {"accuracy": r.accuracy,
                                                          "accuracy_fluent": r.accuracy_fluent,
                                                          "perplexity_ratio": r.perplexity / dev_plain["perplexity"]}
                                              for r in results}})
    pick = _best(sweep, max_perplexity_ratio)
    chosen_directions = directions[method] = candidates[pick.get("remove_shared")]
    at_layers = [s for s in sweep if s["layers"] == pick["layers"]]
    own = {e: _setting(_best([_setting(s) | s["per_emotion"][e] for s in at_layers], max_perplexity_ratio))
           for e in chosen_directions.emotions}
    per_emotion = {e: p["strength"] for e, p in own.items()}
    own_directions = chosen_directions if method != "goemotions" else goemotions_directions(
        llm, states=comments, remove_shared={e: p["remove_shared"] for e, p in own.items()}, scenarios=states)

    test = run_arms(llm, analyzer, chosen_directions, test_prompts, layer=pick["layers"], strength=pick["strength"],
                    arms=tuple(ARMS), samples=samples, seed=seed + 1000, template=template, on_progress=on_progress)
    test += [replace(r, arm="steered_per_emotion") for r in run_arms(
        llm, analyzer, own_directions, test_prompts, layer=pick["layers"], strength=per_emotion,
        samples=samples, seed=seed + 1000, template=template, on_progress=on_progress)]
    plain = overall(test, "unsteered")
    arms = {arm: overall(test, arm) for arm in COMPARED_ARMS}
    for figures in arms.values():
        figures["perplexity_ratio"] = figures["perplexity"] / plain["perplexity"]
    return {
        "model": llm.name, "classifier": analyzer.model_name, "method": method,
        "prompts": {"template": template, "dev": len(dev_prompts), "test": len(test_prompts),
                    "samples_per_prompt": samples},
        "directions": {m: {"consistency_by_layer": d.consistency,
                           "adjacent_layer_cosine": {e: d.layer_agreement(e) for e in d.emotions},
                           "emotion_cosine_at_chosen_layers": {str(at): d.emotion_similarity(at)
                                                               for at in pick["layers"]}}
                       for m, d in directions.items()},
        "cosine_with_mean_diff": {m: {e: [float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) for a, b in
                                          zip(directions["mean_diff"].vectors[e], d.vectors[e])]
                                      for e in d.emotions}
                                  for m, d in directions.items() if m != "mean_diff"},
        "sweep": {"dev_unsteered": dev_plain, "points": sweep, "chosen": pick,
                  "chosen_per_emotion": own,
                  "rule": f"best dev fluent accuracy with perplexity ratio <= {max_perplexity_ratio}"},
        "test": {"unsteered": plain, **arms, "per_emotion": [r.to_dict() for r in test]},
    }
