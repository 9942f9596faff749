"""``affectlab eval bias``: WEAT/WEFAT on the text model's encoder and counterfactual swaps through the
analyzer, against the bound of :data:`affectlab.evaluate.bias_swaps.BOUND`.

>>> from affectlab import Analyzer
>>> report = eval_bias(Analyzer(), permutations=999)
>>> report["counterfactual"]["bound"]["holds"]  # False for text-minilm: first-name swaps move neutral too often
>>> report["weat"]["results"]["fine-tuned"]["sentence"]["tests"][0]["effect_size"]  # flowers vs insects
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from affectlab.evaluate.bias_swaps import BOUND, eval_swaps, load_templates
from affectlab.evaluate.bias_weat import CONTEXTS, eval_weat, load_word_sets
from affectlab.registry import fingerprint
from affectlab.text.analyzer import Analyzer


def eval_bias(analyzer: Analyzer, *, words: Path | None = None, templates: Path | None = None,
              permutations: int = 10_000, seed: int = 0, on_progress: Callable[[int], None] | None = None) -> dict:
    """Both halves of the audit for ``analyzer``'s model; ``words`` and ``templates`` replace the packaged
    word sets and templates (files in the same form)."""
    word_sets = load_word_sets(words)
    spec = load_templates(templates)
    counterfactual = eval_swaps(analyzer, spec, threshold=BOUND["threshold"], max_share=BOUND["max_share"],
                                on_progress=on_progress)
    return {
        "model": {"name": analyzer.model_name, "fingerprint": fingerprint(analyzer.folder),
                  "runtime": analyzer.runtime_name, "base_encoder": analyzer.config.base_model},
        "weat": {
            "permutations": permutations, "seed": seed, "contexts": {k: list(v) for k, v in CONTEXTS.items()},
            "attributes": ["pleasant", "unpleasant"], "sources": word_sets["sources"],
            "results": eval_weat(analyzer, word_sets, permutations=permutations, seed=seed),
        },
        "counterfactual": counterfactual,
    }
