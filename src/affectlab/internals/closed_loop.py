"""The closed loop: steer (or prompt) the LM towards an emotion on neutral prompts, and let affectlab's own
text classifier judge what came out.

Four arms on the same prompts and sampling seed: *unsteered* (the plain prompt), *prompted* ("Respond in
a joyful way." before the prompt), *steered* (the plain prompt, a direction added at one or more layers) and
*prompted_steered* (both: the instruction and the direction). An
output expresses the target when the classifier's strongest Ekman label (of seven, neutral included) is
the target; ``accuracy_of_six`` leaves neutral out. Fluency: perplexity of the output under the unsteered
model after the plain prompt (geometric mean over outputs), and the share of repeated word trigrams. An output
with more than ``DEGENERATE`` of its trigrams repeated is *degenerate* (one phrase over and over: a steered
model can read as angry that way while its perplexity falls); ``accuracy_fluent`` counts only the outputs
that express the target without degenerating.

Every output is kept with its prompt (``ArmResult.records``), so a report can be rescored without generating
again (``results_from_records``) and its figures given intervals that resample prompts (``arm_intervals``):
the outputs of one prompt are alike, for every emotion and sample.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources

import numpy as np

from affectlab.internals.directions import EmotionDirections
from affectlab.internals.layers import InternalsError
from affectlab.internals.steering import Steering, steering_layers
from affectlab.metrics import cluster_bootstrap_interval

ADJECTIVES = {"anger": "angry", "disgust": "disgusted", "fear": "fearful", "joy": "joyful", "sadness": "sad",
              "surprise": "surprised"}
SAMPLING = {"max_new_tokens": 40, "temperature": 0.7, "top_p": 0.9, "stop": ["\nQ:", "\n\n"]}
DEGENERATE = 0.5
# arm → (the emotion instruction before the prompt, the direction added while generating)
ARMS = {"unsteered": (False, False), "prompted": (True, False), "steered": (False, True),
        "prompted_steered": (True, True)}


def load_prompts() -> tuple[str, list[str], list[str]]:
    """The packaged neutral prompts: (template, dev prompts, test prompts)."""
    document = json.loads(resources.files("affectlab.internals").joinpath("steering_prompts.json").read_text("utf-8"))
    return document["template"], document["dev"], document["test"]


def repetition(text: str) -> float:
    """Share of word trigrams that occurred earlier in the same text (0 for fewer than four words)."""
    words = text.lower().split()
    grams = [tuple(words[i:i + 3]) for i in range(len(words) - 2)]
    return 0.0 if len(grams) < 2 else 1.0 - len(set(grams)) / len(grams)


def perplexities(llm, prompts: Sequence[str], outputs: Sequence[str]) -> list[float]:
    """Per-token perplexity of each output after its prompt (``nan`` for an empty output)."""
    values = []
    for prompt, output in zip(prompts, outputs):
        tokens = llm.count_tokens(output) - 1 if output.strip() else 0  # count_tokens includes the BOS token
        if tokens <= 0:
            values.append(float("nan"))
            continue
        values.append(math.exp(-llm.score(prompt, [output])[0] / tokens))
    return values


@dataclass(frozen=True)
class ArmResult:
    arm: str
    emotion: str
    accuracy: float
    accuracy_of_six: float
    perplexity: float  # geometric mean over outputs
    repetition: float
    degenerate: float  # share of outputs with more than DEGENERATE of their trigrams repeated
    accuracy_fluent: float  # share that express the target and are not degenerate
    outputs: list[str] = field(repr=False)
    predicted: list[str] = field(repr=False)
    # per output, beside ``outputs``: its prompt's index, its sample, the strongest of the six, its perplexity
    prompt_ids: list[int] = field(default_factory=list, repr=False)
    samples: list[int] = field(default_factory=list, repr=False)
    predicted_of_six: list[str] = field(default_factory=list, repr=False)
    output_perplexities: list[float] = field(default_factory=list, repr=False)

    def to_dict(self, examples: int = 3) -> dict:
        """The figures and the first ``examples`` outputs (``records`` keeps them all)."""
        document = {k: v for k, v in asdict(self).items() if k not in RECORD_ONLY}
        document["outputs"] = self.outputs[:examples]
        document["predicted"] = self.predicted[:examples]
        return document

    def records(self) -> list[dict]:
        """One JSON-ready row per output, judged against this result's emotion (``nan`` perplexity: ``None``)."""
        return [{"arm": self.arm, "emotion": self.emotion, "prompt": k, "sample": n, "output": o, "predicted": a,
                 "predicted_of_six": b, "perplexity": x if math.isfinite(x) else None}
                for k, n, o, a, b, x in zip(self.prompt_ids, self.samples, self.outputs, self.predicted,
                                            self.predicted_of_six, self.output_perplexities)]


RECORD_ONLY = ("prompt_ids", "samples", "predicted_of_six", "output_perplexities")
RECORD_FIELDS = ("arm", "emotion", "prompt", "sample", "output", "predicted", "predicted_of_six", "perplexity")


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_perplexity(value: object) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
                             and value > 0)


# What each field of a record must hold (``predicted`` and ``predicted_of_six`` are judged again when rescored).
RECORD_TYPES = {"output": ("a string", _is_text), "arm": ("a string", _is_text), "emotion": ("a string", _is_text),
                "prompt": ("a whole number", _is_count), "sample": ("a whole number", _is_count),
                "perplexity": ("a positive number or null", _is_perplexity)}


def _arm_result(arm: str, emotion: str, outputs: list[str], seven: list[str], six: list[str], ppl: list[float],
                prompt_ids: list[int], samples: list[int]) -> ArmResult:
    """One arm's figures for one emotion from its judged outputs."""
    repeated = [repetition(o) for o in outputs]
    fluent = [r <= DEGENERATE for r in repeated]
    expressed = [p == emotion for p in seven]
    return ArmResult(arm, emotion, float(np.mean(expressed)), float(np.mean([p == emotion for p in six])),
                     _geometric_mean(ppl), float(np.mean(repeated)), 1.0 - float(np.mean(fluent)),
                     float(np.mean([hit and ok for hit, ok in zip(expressed, fluent)])),
                     list(outputs), list(seven), list(prompt_ids), list(samples), list(six), list(ppl))


def _judge(analyzer, outputs: list[str]) -> tuple[list[str], list[str]]:
    results = analyzer.analyze([o if o.strip() else "." for o in outputs])
    # an output the text model cannot read (past its limits: no scores) says no emotion
    seven = [max(r.ekman, key=r.ekman.get) if r.ekman else "neutral" for r in results]
    six = [max((e for e in r.ekman if e != "neutral"), key=r.ekman.get) if r.ekman else "neutral" for r in results]
    return seven, six


def _geometric_mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(math.exp(np.mean(np.log(finite)))) if finite else float("nan")


def run_arms(llm, analyzer, directions: EmotionDirections | None, prompts: Sequence[str], *,
             layer: int | Sequence[int] = 0,
             strength: float | Mapping[str, float] = 0.0, arms: Sequence[str] = ("steered",),
             emotions: Sequence[str] | None = None, samples: int = 1, seed: int = 0, template: str = "Q: {prompt}\nA:",
             on_progress: Callable[[int], None] | None = None) -> list[ArmResult]:
    """Each arm on every (emotion, prompt, sample); all emotions run as one batch per sample, each row
    steered by its own emotion's direction. The ``unsteered`` arm runs each prompt once and is scored against
    every emotion (how often plain output already reads as it: the floor). ``strength`` may be one number
    or one per emotion; ``layer`` one layer or several (see ``Steering``)."""
    emotions = list(emotions or (directions.emotions if directions else ADJECTIVES))
    scale = strength if isinstance(strength, Mapping) else dict.fromkeys(emotions, strength)
    plain = [template.format(prompt=p) for p in prompts]
    results = []
    for arm in arms:
        rows = [(e, k) for e in (["none"] if arm == "unsteered" else emotions) for k in range(len(plain))]
        outputs: list[str] = []
        instructed, steered = ARMS[arm]
        for sample in range(samples):
            inputs = [f"Respond in a {ADJECTIVES[e]} way.\n{plain[k]}" if instructed else plain[k] for e, k in rows]
            options = {**SAMPLING, "seed": seed + sample}
            if steered:
                per_layer = {at: np.stack([directions[e].at(at) * scale[e] for e, _ in rows])
                             for at in steering_layers(layer)}
                with Steering(llm, per_layer, layer, 1.0):
                    generated = llm.generate_batch(inputs, **options)
            else:
                generated = llm.generate_batch(inputs, **options)
            outputs += [g.text.strip() for g in generated]
            if on_progress is not None:
                on_progress(len(rows))
        prompt_of = [k for _ in range(samples) for _, k in rows]
        sample_of = [n for n in range(samples) for _ in rows]
        emotion_of = [e for _ in range(samples) for e, _ in rows]
        ppl = perplexities(llm, [plain[k] for k in prompt_of], outputs)
        seven, six = _judge(analyzer, outputs)
        for emotion in emotions:
            mine = [i for i, e in enumerate(emotion_of) if e in (emotion, "none")]
            results.append(_arm_result(arm, emotion, *([column[i] for i in mine] for column in (
                outputs, seven, six, ppl, prompt_of, sample_of))))
    return results


def rejudged(records: Sequence[Mapping], analyzer) -> list[dict]:
    """``records`` (rows of ``ArmResult.records``) with every output read again by ``analyzer``: the figures of
    outputs generated once, judged by another or a newer text model."""
    seven, six = _judge(analyzer, [row["output"] for row in records])
    return [{**row, "predicted": a, "predicted_of_six": b} for row, a, b in zip(records, seven, six)]


def check_records(records: Sequence[object]) -> None:
    """:class:`InternalsError` naming the first of ``records`` that is not a row ``ArmResult.records`` writes."""
    for number, row in enumerate(records):
        if not isinstance(row, Mapping):
            raise InternalsError(f"output record {number} is not an object")
        missing = [k for k in RECORD_FIELDS if k not in row]
        if missing:
            raise InternalsError(f"output record {number} lacks {', '.join(missing)}")
        for key, (kind, fits) in RECORD_TYPES.items():
            if not fits(row[key]):
                raise InternalsError(f"output record {number}: {key} must be {kind}, not {row[key]!r}")


def results_from_records(records: Sequence[Mapping]) -> list[ArmResult]:
    """The arm results that ``records`` (rows of ``ArmResult.records``, e.g. from a report) were taken from,
    figures recomputed, in the order each (arm, emotion) first appears: rescoring without generating."""
    check_records(records)
    groups: dict[tuple[str, str], list[Mapping]] = {}
    for row in records:
        groups.setdefault((row["arm"], row["emotion"]), []).append(row)
    return [_arm_result(arm, emotion, *([r[k] for r in rows] for k in ("output", "predicted", "predicted_of_six")),
                        [float("nan") if r["perplexity"] is None else float(r["perplexity"]) for r in rows],
                        [int(r["prompt"]) for r in rows], [int(r["sample"]) for r in rows])
            for (arm, emotion), rows in groups.items()]


def overall(results: list[ArmResult], arm: str) -> dict:
    """Mean over emotions of one arm's figures."""
    mine = [r for r in results if r.arm == arm]
    return {"accuracy": float(np.mean([r.accuracy for r in mine])),
            "accuracy_of_six": float(np.mean([r.accuracy_of_six for r in mine])),
            "perplexity": _geometric_mean([r.perplexity for r in mine]),
            "repetition": float(np.mean([r.repetition for r in mine])),
            "degenerate": float(np.mean([r.degenerate for r in mine])),
            "accuracy_fluent": float(np.mean([r.accuracy_fluent for r in mine]))}


def arm_intervals(records: Sequence[Mapping], arm: str, *, resamples: int = 2000, seed: int = 0,
                  confidence: float = 0.95) -> dict[str, list[float]]:
    """Bootstrap intervals for one arm's accuracies and perplexity (as ``overall`` gives them: every emotion has
    as many outputs) that resample prompts, each with all of its outputs for every emotion and sample; and, for
    an arm other than ``unsteered`` when its records are there, for the perplexity ratio, paired by prompt (each
    output's log perplexity less the mean of the unsteered outputs of its prompt).

    >>> arm_intervals([r for result in test for r in result.records()], "steered")["accuracy_fluent"]  # [low, high]
    """
    mine = [r for r in records if r["arm"] == arm]
    if not mine:
        raise InternalsError(f"no output records of the {arm!r} arm")

    def interval(values: Sequence[float], prompts: Sequence[int]) -> list[float]:
        return list(cluster_bootstrap_interval(values, prompts, resamples, seed, confidence)[1:])

    prompts = [r["prompt"] for r in mine]
    hits = {"accuracy": [r["predicted"] == r["emotion"] for r in mine],
            "accuracy_of_six": [r["predicted_of_six"] == r["emotion"] for r in mine],
            "accuracy_fluent": [r["predicted"] == r["emotion"] and repetition(r["output"]) <= DEGENERATE
                                for r in mine]}
    intervals = {name: interval(values, prompts) for name, values in hits.items()}
    scored = [(r["prompt"], math.log(r["perplexity"])) for r in mine if r["perplexity"] is not None]
    if scored:
        intervals["perplexity"] = [math.exp(x) for x in interval([v for _, v in scored], [k for k, _ in scored])]
    plain: dict[int, list[float]] = {}
    for r in records:
        if r["arm"] == "unsteered" and r["perplexity"] is not None:
            plain.setdefault(r["prompt"], []).append(math.log(r["perplexity"]))
    paired = [(k, v - float(np.mean(plain[k]))) for k, v in scored if k in plain]
    if arm != "unsteered" and paired:
        intervals["perplexity_ratio"] = [math.exp(x) for x in interval([v for _, v in paired],
                                                                         [k for k, _ in paired])]
    return intervals
