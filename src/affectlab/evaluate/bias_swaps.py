"""The counterfactual half of the bias audit: the same sentence about people who differ only in name, gender,
nationality or religion should get the same emotions.

Each template's ``{who}`` is filled with every noun phrase of a dimension (:func:`load_templates`). A *swap*
is two fillings of one template: for names and nationalities and religions, two fillers of different
groups; for gender, the two sides of one pair (my brother, my sister). For each swap and each output (every
probability of ``emotions``, ``ekman`` and ``sentiment``: 28, 7 and 4 for the shipped model) the *move* is the
difference of the two probabilities. The bound (:data:`BOUND`) is on emotion probabilities, ``emotions`` and
``ekman``: in each dimension, no emotion may move by more than ``threshold`` on more than ``max_share`` of the
swaps.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from itertools import combinations
from pathlib import Path

import numpy as np

from affectlab.errors import OptionError
from affectlab.text.analyzer import Analyzer
from affectlab.text.result import TextAffect

BOUND = {"threshold": 0.1, "max_share": 0.05}
BLOCKS = {"emotion": "emotions", "ekman": "ekman", "sentiment": "sentiment"}  # output prefix → TextAffect field
UNBOUNDED = ("sentiment",)


@dataclass(frozen=True)
class Filler:
    """One noun phrase for ``{who}`` and the group it stands for."""

    text: str
    group: str


def load_templates(path: Path | None = None) -> dict:
    """The packaged templates and dimensions (``bias_templates.json``), or a file in the same form."""
    source = Path(path) if path is not None else files("affectlab.evaluate").joinpath("bias_templates.json")
    try:
        spec = json.loads(source.read_text(encoding="utf-8"))
        templates = [t["text"] for t in spec["templates"]]
        dimensions = spec["dimensions"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OptionError(f"{source}: not a bias template file ({exc})") from None
    bad = [t for t in templates if t.count("{who}") != 1]
    if bad:
        raise OptionError(f"{source}: every template needs exactly one {{who}}; these do not: {bad}")
    return {"templates": templates, "dimensions": dimensions}


def fillers(dimension: dict) -> tuple[list[Filler], list[tuple[int, int]]]:
    """A dimension's fillers and its swaps, as pairs of filler indices."""
    if "pairs" in dimension:  # gender: each pair is one swap, its sides the two groups
        found = [Filler(phrase, side) for pair in dimension["pairs"] for phrase, side in zip(pair, ("male", "female"))]
        return found, [(i, i + 1) for i in range(0, len(found), 2)]
    if "groups" in dimension:
        found = [Filler(name, group) for group, names in dimension["groups"].items() for name in names]
    else:
        found = [Filler(dimension["pattern"].format(value), value) for value in dimension["values"]]
    return found, [(i, j) for i, j in combinations(range(len(found)), 2) if found[i].group != found[j].group]


def fill(template: str, phrase: str) -> str:
    text = template.replace("{who}", phrase)
    return text[0].upper() + text[1:]


def output_names(result: TextAffect) -> tuple[str, ...]:
    """``block:label`` for every probability the model gives (``emotion:joy``, ``ekman:joy``, ...)."""
    return tuple(f"{prefix}:{label}" for prefix, field in BLOCKS.items() for label in getattr(result, field))


def _bounded(outputs: tuple[str, ...]) -> np.ndarray:
    """The indices of the outputs the bound applies to: emotions, not sentiment."""
    return np.array([i for i, name in enumerate(outputs) if name.split(":")[0] not in UNBOUNDED])


def _probabilities(result: TextAffect, outputs: tuple[str, ...]) -> list[float]:
    if result.error is not None:
        raise OptionError(f"the model could not read a template text: {result.error}")
    return [getattr(result, BLOCKS[prefix])[label] for prefix, label in (name.split(":") for name in outputs)]


def eval_swaps(analyzer: Analyzer, spec: dict, *, threshold: float = BOUND["threshold"],
               max_share: float = BOUND["max_share"], worst: int = 10,
               on_progress: Callable[[int], None] | None = None) -> dict:
    """Every dimension's swaps scored by ``analyzer``: moves per output, the bound, the worst swaps and pairs,
    and how far each group's scores sit from the mean over all of the dimension's fillers."""
    templates = spec["templates"]
    dimensions = {}
    for name, dimension in spec["dimensions"].items():
        found, pairs = fillers(dimension)
        texts = [fill(t, f.text) for t in templates for f in found]
        results = analyzer.analyze_batch(texts, on_progress=on_progress)
        outputs = output_names(results[0])
        probs = np.array([_probabilities(r, outputs) for r in results])
        probs = probs.reshape(len(templates), len(found), len(outputs))
        dimensions[name] = _dimension_report(dimension, templates, found, pairs, probs, outputs, threshold,
                                             max_share, worst)
    holds = all(d["bound"]["holds"] for d in dimensions.values())
    return {"bound": {"threshold": threshold, "max_share": max_share, "holds": holds,
                      "rule": "in every dimension, no GoEmotions or Ekman probability moves by more than threshold "
                              "on more than max_share of the swaps"},
            "templates": len(templates), "dimensions": dimensions}


def _dimension_report(dimension: dict, templates: list[str], found: list[Filler], pairs: list[tuple[int, int]],
                      probs: np.ndarray, outputs: tuple[str, ...], threshold: float, max_share: float,
                      worst: int) -> dict:
    a, b = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    moves = probs[:, b, :] - probs[:, a, :]  # templates × pairs × outputs
    flat = np.abs(moves).reshape(-1, len(outputs))
    over = flat > threshold
    shares = over.mean(0)
    bounded = _bounded(outputs)
    worst_output = int(bounded[np.argmax(shares[bounded])])
    per_output = {
        outputs[k]: {"mean_abs": round(float(flat[:, k].mean()), 4),
                     "p95_abs": round(float(np.quantile(flat[:, k], 0.95)), 4),
                     "max_abs": round(float(flat[:, k].max()), 4), "share_over": round(float(shares[k]), 4)}
        for k in range(len(outputs))
    }
    return {
        "about": dimension.get("about", ""),
        "source": dimension.get("source", ""),
        "fillers": len(found),
        "swaps": int(flat.shape[0]),
        "bound": {
            "worst_output": outputs[worst_output] if shares[worst_output] > 0 else None,  # None: nothing moved
            "worst_output_share": round(float(shares[worst_output]), 4),
            "any_emotion_share": round(float(over[:, bounded].any(1).mean()), 4),
            "holds": bool(shares[bounded].max() <= max_share),
        },
        "outputs": per_output,
        "worst_swaps": _worst_swaps(templates, found, a, b, probs, moves, outputs, worst),
        "worst_pairs": _worst_pairs(found, pairs, moves[:, :, bounded], worst),
        "most_moved_fillers": _most_moved(found, a, b, over[:, bounded].any(1).reshape(len(templates), -1), worst),
        "group_shifts": _group_shifts(found, probs, outputs),
    }


def _worst_swaps(templates, found, a, b, probs, moves, outputs, worst) -> list[dict]:
    bounded = _bounded(outputs)
    size = np.abs(moves[:, :, bounded])
    order = np.argsort(-size.max(2), axis=None)[:worst]
    swaps = []
    for flat_index in order:
        t, pair = np.unravel_index(flat_index, size.shape[:2])
        k = int(bounded[np.argmax(size[t, pair])])
        i, j = int(a[pair]), int(b[pair])
        swaps.append({"text_a": fill(templates[t], found[i].text), "text_b": fill(templates[t], found[j].text),
                      "output": outputs[k], "p_a": round(float(probs[t, i, k]), 4),
                      "p_b": round(float(probs[t, j, k]), 4), "move": round(float(moves[t, pair, k]), 4)})
    return swaps


def _worst_pairs(found, pairs, emotion_moves, worst) -> list[dict]:
    """Filler pairs by their largest emotion move, averaged over the templates."""
    size = np.abs(emotion_moves).max(2)  # templates × pairs
    order = np.argsort(-size.mean(0))[:worst]
    return [{"a": found[pairs[p][0]].text, "b": found[pairs[p][1]].text,
             "mean_largest_move": round(float(size[:, p].mean()), 4),
             "max_move": round(float(size[:, p].max()), 4)} for p in order]


def _most_moved(found, a, b, moved, worst) -> list[dict]:
    """Fillers by the share of their swaps in which some emotion moved past the threshold."""
    involved = np.zeros(len(found))
    over = np.zeros(len(found))
    np.add.at(involved, a, moved.shape[0])
    np.add.at(involved, b, moved.shape[0])
    np.add.at(over, a, moved.sum(0))
    np.add.at(over, b, moved.sum(0))
    share = over / np.maximum(involved, 1)
    return [{"filler": found[i].text, "group": found[i].group, "share_over": round(float(share[i]), 4)}
            for i in np.argsort(-share)[:worst]]


def _group_shifts(found, probs, outputs, top: int = 3) -> dict:
    """Per group, the outputs whose mean score sits farthest from the mean over all fillers (signed)."""
    deviation = probs - probs.mean(1, keepdims=True)  # templates × fillers × outputs
    groups: dict[str, list[int]] = {}
    for index, filler in enumerate(found):
        groups.setdefault(filler.group, []).append(index)
    shifts = {}
    for group, members in groups.items():
        mean = deviation[:, members, :].mean((0, 1))
        order = np.argsort(-np.abs(mean))[:top]
        shifts[group] = {outputs[k]: round(float(mean[k]), 4) for k in order}
    return shifts
