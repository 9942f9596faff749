"""The internals evaluations: layer-wise probes (with zero-shot prompting and persistence beside them) and
closed-loop steering (a sweep on dev prompts, then the test prompts; or the test prompts alone at the shipped
settings)."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from affectlab.datasets import DEFAULT_DATA_DIR, load_dailydialog, load_goemotions
from affectlab.errors import check_count
from affectlab.evaluate.report import judge_record, rescore_in_place
from affectlab.internals.capture import capture_pooled
from affectlab.internals.closed_loop import (
    ARMS,
    ArmResult,
    arm_intervals,
    check_records,
    load_prompts,
    overall,
    rejudged,
    results_from_records,
    run_arms,
)
from affectlab.internals.directions import METHODS, EmotionDirections, ScenarioStates, scenario_states
from affectlab.internals.layers import InternalsError, check_layer, decoder_layers
from affectlab.internals.packaged import TASK as DIRECTIONS_TASK
from affectlab.internals.packaged import packaged_directions, steering_settings
from affectlab.internals.probes import best_layer, score_probes, train_probes
from affectlab.internals.steering import steering_layers
from affectlab.internals.text_directions import TextStates, check_shares, text_states
from affectlab.internals.zero_shot import zero_shot_scores
from affectlab.metrics import macro_f1_single
from affectlab.registry import DEFAULTS, DIRECTIONS_FILE, read_config, resolve
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
COMPARED_ARMS = ("prompted", "steered", "steered_per_emotion", "prompted_steered", "prompted_steered_per_emotion")
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
    check_count("samples", samples)
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

    test = _test_arms(llm, analyzer, own_directions, per_emotion, layers=pick["layers"],
                      one=(chosen_directions, pick["strength"]), prompts=test_prompts, template=template,
                      samples=samples, seed=seed, on_progress=on_progress)
    return {
        "model": llm.name, **judge_record(analyzer), "method": method,
        "caveats": steering_caveats(method),
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
        "test": steering_test_figures(test, seed=seed),
    }


def _test_arms(llm, analyzer, own: EmotionDirections, strengths: Mapping[str, float], *, layers: Sequence[int],
               one: tuple[EmotionDirections, float] | None = None, own_arms: Sequence[str] = ("steered",),
               prompts: Sequence[str], template: str, samples: int, seed: int,
               on_progress: Progress) -> list[ArmResult]:
    """Every test arm, on the test seed (``seed`` + 1000): unsteered and prompted; with ``one`` (directions and
    one strength for every emotion) steered and prompted_steered; and ``own_arms`` with each emotion at its own
    directions and strength, named ``<arm>_per_emotion``. Each arm's outputs depend on its own settings and the
    seed alone, so the same setting gives the same texts whichever other arms run beside it."""
    run = {"layer": layers, "samples": samples, "seed": seed + 1000, "template": template, "on_progress": on_progress}
    if one is None:
        results = run_arms(llm, analyzer, own, prompts, arms=("unsteered", "prompted"), **run)
    else:
        results = run_arms(llm, analyzer, one[0], prompts, strength=one[1], arms=tuple(ARMS), **run)
    return results + [replace(r, arm=f"{r.arm}_per_emotion")
                      for r in run_arms(llm, analyzer, own, prompts, strength=strengths, arms=own_arms, **run)]


def shipped_report_name() -> str:
    """The report :func:`eval_steering_shipped` fills: ``eval-steering-<the shipped directions' method>-shipped``."""
    shipped = EmotionDirections.load(str(resolve(DEFAULTS[DIRECTIONS_TASK], DIRECTIONS_TASK) / DIRECTIONS_FILE))
    return f"eval-steering-{_method_word(shipped)}-shipped"


def _method_word(directions: EmotionDirections) -> str:
    return directions.method.partition(",")[0]


def eval_steering_shipped(llm, analyzer, *, samples: int = 2, seed: int = 0, on_progress: Progress = None) -> dict:
    """The test arms alone, no dev sweep: the shipped directions at the settings in their ``config.json`` (the
    dev picks of the report named there), on ``eval_steering``'s test prompts, samples, seed and judge, so the
    arms that need no sweep give the same texts and figures as that report: unsteered, prompted and
    steered_per_emotion (what ``steer`` does); beside them prompted_steered_per_emotion (the emotion
    instruction as well). The steered and prompted_steered arms of a full eval use the sweep's one pick for all
    emotions, which the config does not keep.

    >>> report = eval_steering_shipped(load_llm(backend="transformers"), Analyzer())
    >>> report["test"]["steered_per_emotion"]["interval_95"]["accuracy"]  # [low, high] over test prompts
    """
    settings = steering_settings()
    directions = packaged_directions(llm)
    template, _, test_prompts = load_prompts()
    strengths = {e: settings.strength(e) for e in directions.emotions}
    test = _test_arms(llm, analyzer, directions, strengths, layers=settings.layers,
                      own_arms=("steered", "prompted_steered"), prompts=test_prompts, template=template,
                      samples=samples, seed=seed, on_progress=on_progress)
    method = _method_word(directions)
    config = read_config(resolve(DEFAULTS[DIRECTIONS_TASK], DIRECTIONS_TASK))
    return {
        "model": llm.name, **judge_record(analyzer), "method": method, "caveats": steering_caveats(method),
        "prompts": {"template": template, "test": len(test_prompts), "samples_per_prompt": samples},
        "settings": {"directions": DEFAULTS[DIRECTIONS_TASK], "made_with": directions.method,
                     "layers": list(settings.layers),
                     "per_emotion": {e: {"remove_shared": settings.remove_shared.get(e), "strength": strengths[e]}
                                     for e in directions.emotions},
                     "picked_in": config.get("trained", {}).get("settings_from"),
                     "rule": "no sweep: the settings in the directions' config.json"},
        "test": steering_test_figures(test, seed=seed),
    }


def steering_caveats(method: str) -> list[str]:
    """What a reader of a steering report's test figures should know beside them."""
    caveats = ["Test outputs cluster by prompt (every emotion and sample of a prompt start from the same "
               "question), so the intervals resample prompts, not single outputs; the figures rest on that "
               "handful of test prompts."]
    if method.startswith("goemotions"):
        caveats.insert(0, "The judge (affectlab's text model) was trained on GoEmotions, the comments these "
                          "directions were computed from: text steered towards those comments may read as its "
                          "target to this judge more readily than to an independent judge or a person, so the "
                          "steered accuracies may run high.")
    return caveats


def steering_test_figures(results: list[ArmResult], *, resamples: int = 2000, seed: int = 0) -> dict:
    """A steering report's ``test`` section from the test arms' results: each arm's figures (mean over
    emotions) with perplexity ratios against the unsteered arm and 95% intervals from a bootstrap over prompts
    (when the results keep their outputs' prompts), each (arm, emotion)'s figures, and every output judged."""
    records = [row for r in results for row in r.records()]
    figures = {}
    for arm in ("unsteered", *COMPARED_ARMS):
        if any(r.arm == arm for r in results):
            figures[arm] = overall(results, arm)
            if arm != "unsteered":
                figures[arm]["perplexity_ratio"] = figures[arm]["perplexity"] / figures["unsteered"]["perplexity"]
            if records:
                figures[arm]["interval_95"] = arm_intervals(records, arm, resamples=resamples, seed=seed)
    interval = f"95% percentile bootstrap over test prompts ({resamples} resamples, each with all its outputs)"
    return {**figures, **({"interval": interval} if records else {}),
            "per_emotion": [r.to_dict() for r in results], "outputs": records}


def rescore_steering(report: dict, analyzer, *, resamples: int = 2000, seed: int = 0) -> dict:
    """``report`` (an ``eval steering`` report) with every test output it keeps judged again by ``analyzer``
    (the text model), its test figures, intervals and caveats recomputed, and that judge named in ``test`` (the
    report's own ``classifier`` stays the judge of its dev sweep); nothing is generated again, and the outputs'
    perplexities and everything else stay as they were."""
    test = report.get("test")
    outputs = test.get("outputs") if isinstance(test, dict) else None
    if not outputs or not isinstance(outputs, list):
        raise InternalsError("this steering report keeps no test outputs (reports written before outputs were "
                             "kept hold three examples per arm and emotion), so it cannot be rescored; run "
                             "`affectlab eval steering` again")
    check_records(outputs)
    if not any(row["arm"] == "unsteered" for row in outputs):
        raise InternalsError("the report's test outputs have no unsteered arm to compare the others with")
    if not isinstance(report.get("method", ""), str):
        raise InternalsError(f"method must be a string, not {report['method']!r}")
    test = steering_test_figures(results_from_records(rejudged(outputs, analyzer)), resamples=resamples, seed=seed)
    return {**report, "caveats": steering_caveats(report.get("method", "")),
            "test": {**judge_record(analyzer), **test}}


def rescore_steering_file(path: Path, command: str, analyzer, *, resamples: int = 2000, seed: int = 0) -> dict:
    """Rescore the steering report at ``path`` in place (``rescore_steering``; see
    :func:`~affectlab.evaluate.report.rescore_in_place`).

    >>> rescore_steering_file(Path("reports/eval-steering-goemotions.json"), "affectlab eval steering --rescore ...",
    ...                       Analyzer())
    """
    return rescore_in_place(path, command, lambda report: rescore_steering(report, analyzer, resamples=resamples,
                                                                           seed=seed), "steering", InternalsError)
