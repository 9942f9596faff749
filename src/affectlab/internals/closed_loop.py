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
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources

import numpy as np

from affectlab.internals.directions import EmotionDirections
from affectlab.internals.steering import Steering, steering_layers

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

    def to_dict(self, examples: int = 3) -> dict:
        document = asdict(self)
        document["outputs"] = self.outputs[:examples]
        document["predicted"] = self.predicted[:examples]
        return document


def _judge(analyzer, outputs: list[str]) -> tuple[list[str], list[str]]:
    results = analyzer.analyze([o if o.strip() else "." for o in outputs])
    seven = [max(r.ekman, key=r.ekman.get) for r in results]
    six = [max((e for e in r.ekman if e != "neutral"), key=r.ekman.get) for r in results]
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
        prompts_used = [plain[k] for _ in range(samples) for _, k in rows]
        emotion_of = [e for _ in range(samples) for e, _ in rows]
        ppl = perplexities(llm, prompts_used, outputs)
        seven, six = _judge(analyzer, outputs)
        for emotion in emotions:
            mine = [i for i, e in enumerate(emotion_of) if e in (emotion, "none")]
            repeated = [repetition(outputs[i]) for i in mine]
            fluent = [r <= DEGENERATE for r in repeated]
            results.append(ArmResult(
                arm, emotion, float(np.mean([seven[i] == emotion for i in mine])),
                float(np.mean([six[i] == emotion for i in mine])), _geometric_mean([ppl[i] for i in mine]),
                float(np.mean(repeated)), 1.0 - float(np.mean(fluent)),
                float(np.mean([seven[i] == emotion and ok for i, ok in zip(mine, fluent)])),
                [outputs[i] for i in mine], [seven[i] for i in mine]))
    return results


def overall(results: list[ArmResult], arm: str) -> dict:
    """Mean over emotions of one arm's figures."""
    mine = [r for r in results if r.arm == arm]
    return {"accuracy": float(np.mean([r.accuracy for r in mine])),
            "accuracy_of_six": float(np.mean([r.accuracy_of_six for r in mine])),
            "perplexity": _geometric_mean([r.perplexity for r in mine]),
            "repetition": float(np.mean([r.repetition for r in mine])),
            "degenerate": float(np.mean([r.degenerate for r in mine])),
            "accuracy_fluent": float(np.mean([r.accuracy_fluent for r in mine]))}
