"""``affectlab eval memory``: does weighing how a memory felt recall memories of the same emotion, and what
does it cost in meaning?

EmpatheticDialogues' train situations are the memories (each labelled with the emotion its writer was asked
to describe), valid and test situations the queries. For each query and strategy the memory recalls k=5:

- ``same_emotion_at_k``: the share of the k recalled memories whose label is the query's label;
- ``hit_at_k``: whether at least one of them has it;
- ``semantic_similarity``: the mean cosine similarity of their sentence embeddings to the query's (the
  topical closeness that emotional weighting may give up).

The parameter of ``combined`` (emotion_weight) and of the two sequential strategies (candidates) is chosen
on valid: the value with the highest same-emotion share whose semantic similarity keeps at least
``keep`` (0.90) of ``semantic``'s; test is then run once. Intervals are 95% percentile bootstraps over
queries resampled in clusters: the EmpatheticDialogues task (HIT) each conversation came from, so that the
two conversations one crowd worker wrote in one task count as one draw. Differences against ``semantic``
are paired (the same resampled queries for both).

The 32-emotion reading of the memories comes from a model trained on EmpatheticDialogues' train
conversations, so the train memories' readings are not out of sample; the test queries are then also
recalled from a memory of the valid situations, which that model never trained on (``semantic`` and
``combined`` at the chosen weight).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from affectlab.datasets import DEFAULT_DATA_DIR, load_empathetic_dialogues
from affectlab.memory import AffectEncoder, EmotionalMemory, Encoded
from affectlab.memory.encoding import MemoryEncoder
from affectlab.metrics import cluster_bootstrap_interval, cluster_bootstrap_statistic

Step = Callable[[str], None] | None
Progress = Callable[[int], None] | None

K = 5
EMOTION_WEIGHTS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8)
CANDIDATES = (10, 15, 20, 30, 50, 100)
KEEP = 0.90  # of semantic's similarity, the bound
TARGET_GAIN = 0.15  # same-emotion recall@5 over semantic


def situations(split: str, data_dir: Path, limit: int | None = None) -> tuple[list[str], list[str], list[str]]:
    """Texts, emotion labels and clusters (the crowd task, ``hit:N``) of a split's non-empty situations."""
    examples = [e for e in load_empathetic_dialogues(split, data_dir) if e.situation.strip()]
    examples = examples[:limit] if limit else examples
    return ([e.situation.strip() for e in examples], [e.label for e in examples],
            [e.id.split("_")[0] for e in examples])


def encoded_texts(encoder: MemoryEncoder, texts: list[str], cache: Path, on_progress: Progress = None) -> Encoded:
    """The texts' vectors, read from ``cache`` (an .npz) when it holds these texts from this model."""
    key = hashlib.sha256("\n".join([encoder.model_id, *texts]).encode()).hexdigest()
    if cache.exists():
        saved = np.load(cache)
        if str(saved["key"]) == key:
            if on_progress is not None:
                on_progress(len(texts))
            return Encoded(saved["semantic"], saved["emotions"], saved["vad"], saved["situations"], encoder.model_id)
    encoded = encoder.encode(texts, on_progress)
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(".part.npz")
    np.savez(partial, key=key, semantic=encoded.semantic, emotions=encoded.emotions, vad=encoded.vad,
             situations=encoded.situations)
    partial.replace(cache)
    return encoded


def built_memory(folder: Path, encoder: MemoryEncoder, texts: list[str], labels: list[str],
                 encoded: Encoded) -> EmotionalMemory:
    """The memory of the train situations (the label kept as metadata), rebuilt unless it already holds them."""
    if folder.exists():
        memory = EmotionalMemory(folder, encoder=encoder)
        if len(memory) == len(texts) and not memory.info().stale:
            return memory
        shutil.rmtree(folder)
    memory = EmotionalMemory(folder, encoder=encoder)
    memory.add(texts, metadata=[{"emotion": label} for label in labels], encoded=encoded)
    return memory


def per_query(memory: EmotionalMemory, queries: list[str], labels: list[str], encoded: Encoded, strategy: str,
              on_progress: Progress = None, **options) -> dict[str, np.ndarray]:
    """Each query's same-emotion share, hit and mean semantic and emotion similarity of its k recalled."""
    same, hit, semantic, emotion = (np.zeros(len(queries)) for _ in range(4))
    for i, (query, label) in enumerate(zip(queries, labels)):
        hits = memory.recall(query, K, strategy=strategy, encoded=encoded.take([i]), **options).hits
        matches = [h.metadata["emotion"] == label for h in hits]
        same[i], hit[i] = np.mean(matches), float(any(matches))
        semantic[i], emotion[i] = np.mean([h.semantic for h in hits]), np.mean([h.emotion for h in hits])
        if on_progress is not None:
            on_progress(1)
    return {"same_emotion": same, "hit": hit, "semantic": semantic, "emotion": emotion}


def _summary(scores: dict[str, np.ndarray]) -> dict:
    return {name: round(float(values.mean()), 4) for name, values in scores.items()}


def _interval(values: np.ndarray, clusters: list[str]) -> list[float]:
    mean, low, high = cluster_bootstrap_interval(values, clusters)
    return [round(mean, 4), round(low, 4), round(high, 4)]


def _kept(values: dict[str, np.ndarray], base: dict[str, np.ndarray], clusters: list[str]) -> list[float]:
    """The share of ``base``'s mean semantic similarity that ``values`` keep, with its interval (paired)."""
    ratio = cluster_bootstrap_statistic(
        lambda idx: float(values["semantic"][idx].mean() / base["semantic"][idx].mean()), clusters)
    return [round(x, 4) for x in ratio]


def choose(settings: dict, reference: dict, keep: float = KEEP) -> tuple:
    """The setting with the highest same-emotion share among those keeping ``keep`` of the reference's
    semantic similarity; when none does, the one closest to it in semantic similarity."""
    bound = keep * reference["semantic"]
    kept = [s for s, m in settings.items() if m["semantic"] >= bound]
    if kept:
        return max(kept, key=lambda s: (settings[s]["same_emotion"], settings[s]["semantic"]))
    return max(settings, key=lambda s: settings[s]["semantic"])


def chance(memory_labels: list[str], query_labels: list[str]) -> float:
    """The same-emotion share of memories drawn at random."""
    memory = {label: count / len(memory_labels) for label, count in zip(*np.unique(memory_labels, return_counts=True))}
    return float(np.mean([memory.get(label, 0.0) for label in query_labels]))


def eval_memory(data_dir: Path = DEFAULT_DATA_DIR, work_dir: Path = Path("runs/memory-eval"), limit: int | None = None,
                encoder: MemoryEncoder | None = None, on_step: Step = None,
                on_progress: Callable[[str, int], None] | None = None) -> dict:
    """Tune on valid, report on test (see the module's docstring). ``limit`` keeps the first N situations of
    each split (smoke runs); ``on_progress(task, n)`` counts texts encoded and queries recalled."""
    def step(message: str) -> None:
        if on_step is not None:
            on_step(message)

    def progress(task: str) -> Progress:
        return None if on_progress is None else (lambda n: on_progress(task, n))

    encoder = encoder or AffectEncoder()
    splits = {split: situations(split, data_dir, limit) for split in ("train", "valid", "test")}
    encoded = {}
    for split, (texts, _, _) in splits.items():
        step(f"encoding {split} situations")
        encoded[split] = encoded_texts(encoder, texts, work_dir / f"vectors-{split}.npz", progress("encode"))
    step("building the memory")
    memory = built_memory(work_dir / "store", encoder, splits["train"][0], splits["train"][1], encoded["train"])

    def run(split: str, strategy: str, recalling: EmotionalMemory = memory, **options) -> dict[str, np.ndarray]:
        texts, labels, _ = splits[split]
        return per_query(recalling, texts, labels, encoded[split], strategy, progress("recall"), **options)

    step("choosing parameters on valid")
    valid_semantic = _summary(run("valid", "semantic"))
    tuning = {
        "combined": {w: _summary(run("valid", "combined", emotion_weight=w)) for w in EMOTION_WEIGHTS},
        **{name: {c: _summary(run("valid", name, candidates=c)) for c in CANDIDATES}
           for name in ("semantic-then-emotion", "emotion-then-semantic")},
    }
    chosen = {name: choose(settings, valid_semantic) for name, settings in tuning.items()}

    step("recalling for test")
    _, test_labels, clusters = splits["test"]
    options = {"semantic": {}, "emotion": {}, "combined": {"emotion_weight": chosen["combined"]},
               "semantic-then-emotion": {"candidates": chosen["semantic-then-emotion"]},
               "emotion-then-semantic": {"candidates": chosen["emotion-then-semantic"]}}
    scores = {name: run("test", name, **kwargs) for name, kwargs in options.items()}
    base = scores["semantic"]
    strategies = {}
    for name, values in scores.items():
        entry = {"options": options[name], **{f"{metric}": _interval(values[metric], clusters) for metric in values}}
        if name != "semantic":
            entry["same_emotion_gain"] = _interval(values["same_emotion"] - base["same_emotion"], clusters)
            entry["semantic_kept"] = _kept(values, base, clusters)
        strategies[name] = entry
    combined = strategies["combined"]

    step("recalling for test from the valid situations")
    unseen_memory = built_memory(work_dir / "store-valid", encoder, splits["valid"][0], splits["valid"][1],
                                 encoded["valid"])
    unseen = {name: run("test", name, unseen_memory, **options[name]) for name in ("semantic", "combined")}
    return {
        "data": {"memories": len(splits["train"][0]), "valid_queries": len(splits["valid"][0]),
                 "test_queries": len(test_labels), "test_clusters": len(set(clusters)), "limit": limit},
        "model_id": encoder.model_id,
        "k": K,
        "metrics": {
            "same_emotion": f"share of the {K} recalled memories whose EmpatheticDialogues label is the query's",
            "hit": f"at least one of the {K} has the query's label",
            "semantic": "mean cosine similarity of the recalled memories' sentence embeddings to the query's",
            "emotion": "mean emotional similarity to the query: the chance that both get the same of the 32 "
                       "EmpatheticDialogues emotions, from their readings",
            "intervals": "[mean, low, high]: 95% percentile bootstrap, 2,000 resamples of test queries in clusters "
                         "(the crowd task each conversation came from); gains and ratios are paired",
        },
        "chance_same_emotion": round(chance(splits["train"][1], test_labels), 4),
        "valid": {"semantic": valid_semantic,
                  "tuning": {name: {str(s): m for s, m in settings.items()} for name, settings in tuning.items()},
                  "chosen": chosen, "rule": f"highest same_emotion keeping >= {KEEP:.0%} of semantic's similarity"},
        "test": strategies,
        "test_from_unseen_memories": {
            "why": "the 32-emotion model was trained on EmpatheticDialogues train conversations (a quarter of its "
                   "examples with the situation), so the train memories' readings are not out of sample; the "
                   "valid situations, which it never trained on, as the memory, the same test queries and weight",
            "memories": len(splits["valid"][0]),
            "same_emotion": {name: _interval(values["same_emotion"], clusters) for name, values in unseen.items()},
            "same_emotion_gain": _interval(unseen["combined"]["same_emotion"] - unseen["semantic"]["same_emotion"],
                                           clusters),
            "semantic_kept": _kept(unseen["combined"], unseen["semantic"], clusters),
        },
        "targets": {
            "same_emotion_gain": TARGET_GAIN, "semantic_kept": KEEP,
            "combined_gain_met": combined["same_emotion_gain"][0] >= TARGET_GAIN,
            "combined_semantic_kept_met": combined["semantic_kept"][0] >= KEEP,
        },
    }
