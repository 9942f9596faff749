"""The embedding half of the bias audit: WEAT and WEFAT (:mod:`affectlab.evaluate.weat`) on a text model's
encoder, before and after fine-tuning, for pleasant/unpleasant attributes and identity target sets.

A term is embedded in two contexts: alone (``word``), and as the mean of its unit vectors in three bleached
sentences (``sentence``: "This is X.", "That is X.", "Here is X.", after May et al., 2019), since a sentence
encoder is trained on sentences, not single words.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import numpy as np

from affectlab.errors import OptionError
from affectlab.evaluate.sentence_vectors import embed, encoders
from affectlab.evaluate.weat import holm, weat, wefat
from affectlab.text.analyzer import Analyzer

CONTEXTS: dict[str, tuple[str, ...]] = {
    "word": ("{}",),
    "sentence": ("This is {}.", "That is {}.", "Here is {}."),
}
ATTRIBUTES = ("pleasant", "unpleasant")


def load_word_sets(path: Path | None = None) -> dict:
    """The packaged word sets and tests (``bias_words.json``), or a file in the same form."""
    source = Path(path) if path is not None else files("affectlab.evaluate").joinpath("bias_words.json")
    try:
        spec = json.loads(source.read_text(encoding="utf-8"))
        sets = {name: entry["words"] for name, entry in {**spec["attributes"], **spec["targets"]}.items()}
        tests = [(t["name"], t["x"], t["y"], t.get("about", "")) for t in spec["tests"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OptionError(f"{source}: not a bias word-set file ({exc})") from None
    missing = sorted({s for _, x, y, _ in tests for s in (x, y) if s not in sets} | (set(ATTRIBUTES) - set(sets)))
    if missing:
        raise OptionError(f"{source}: the tests name word sets it does not hold: {missing}")
    return {"sets": sets, "tests": tests, "sources": {n: e["source"] for n, e in spec["targets"].items()}
            | {n: e["source"] for n, e in spec["attributes"].items()}}


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _term_vectors(terms: list[str], encoder, tokenizer) -> dict[str, dict[str, np.ndarray]]:
    vectors = {}
    for context, frames in CONTEXTS.items():
        stacked = [_unit(embed([frame.format(term) for term in terms], encoder, tokenizer)) for frame in frames]
        mean = _unit(np.mean(stacked, axis=0))
        vectors[context] = dict(zip(terms, mean))
    return vectors


def eval_weat(analyzer: Analyzer, words: dict, *, permutations: int = 10_000, seed: int = 0) -> dict:
    """WEAT per test and WEFAT per target word, for each encoder and context; p-values from ``permutations``
    random re-partitions, Holm-adjusted over the tests of one encoder and context."""
    sets, tests = words["sets"], words["tests"]
    terms = sorted({term for members in sets.values() for term in members})
    pleasant, unpleasant = sets["pleasant"], sets["unpleasant"]
    targets = sorted({s for _, x, y, _ in tests for s in (x, y)})
    report = {}
    for name, (encoder, tokenizer) in encoders(analyzer).items():
        by_context = {}
        for context, vectors in _term_vectors(terms, encoder, tokenizer).items():
            def stack(members, vectors=vectors):
                return np.stack([vectors[m] for m in members])

            results = [{"name": test, "about": about, "x": x, "y": y,
                        **weat(stack(sets[x]), stack(sets[y]), stack(pleasant), stack(unpleasant),
                               permutations=permutations, seed=seed)}
                       for test, x, y, about in tests]
            for result, adjusted in zip(results, holm([r["p_two_sided"] for r in results])):
                result["p_two_sided_holm"] = adjusted
            by_context[context] = {"tests": results, "wefat": {
                target: _wefat_set(sets[target], stack, pleasant, unpleasant, permutations, seed)
                for target in targets
            }}
        report[name] = by_context
    return report


def _wefat_set(members: list[str], stack, pleasant, unpleasant, permutations: int, seed: int) -> dict:
    scores = wefat(stack(members), stack(pleasant), stack(unpleasant), permutations=permutations, seed=seed)
    return {"mean_score": round(float(np.mean([s["score"] for s in scores])), 4),
            "words": {m: {"score": round(s["score"], 4), "p_two_sided": s["p_two_sided"]}
                      for m, s in zip(members, scores)}}
