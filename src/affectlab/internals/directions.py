"""Emotion directions in the residual stream, from a contrast set of scenarios (the SEV idea: the same
everyday scenario with a neutral event and with an event for each emotion).

For scenario ``s`` and emotion ``e`` the difference ``h(s, e) - h(s, neutral)`` (mean-pooled, per layer)
keeps the emotion and cancels the scenario. ``mean_diff`` averages those differences over scenarios;
``pca`` takes their first principal axis (uncentred, so it is the direction they share); ``centered``
contrasts each emotion with the mean of all the emotion variants of the same scenario instead of with its
neutral one, which removes what every emotional event shares (the six ``mean_diff`` directions of a small
LM can be more alike than different). ``pca`` and ``centered`` are scaled to the length of the mean
difference so that strengths mean the same for all three.

>>> dirs = emotion_directions(llm)                         # the packaged scenarios
>>> dirs["joy"].at(6)                                      # a [hidden] numpy vector
>>> dirs.save("gemma-emotions.safetensors"); EmotionDirections.load("gemma-emotions.safetensors")
>>> states = scenario_states(llm)                          # capture once, then any method
>>> states.directions("centered")
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from affectlab.internals.capture import capture
from affectlab.internals.layers import InternalsError, decoder_layers, hidden_size
from affectlab.io import atomic_target

METHODS = ("mean_diff", "pca", "centered")


def load_scenarios() -> tuple[list[str], list[dict]]:
    """The packaged contrast set: (emotions, scenarios), each scenario ``{id, neutral, <emotion>: text}``."""
    document = json.loads(resources.files("affectlab.internals").joinpath("scenarios.json").read_text("utf-8"))
    return document["emotions"], document["scenarios"]


@dataclass(frozen=True)
class EmotionVector:
    emotion: str
    layers: tuple[int, ...]
    vectors: np.ndarray  # [len(layers), hidden]

    def at(self, layer: int) -> np.ndarray:
        if layer not in self.layers:
            raise InternalsError(f"no {self.emotion} direction for layer {layer}; these directions cover "
                                 f"layers {self.layers[0]} to {self.layers[-1]}")
        return self.vectors[self.layers.index(layer)]


@dataclass(frozen=True)
class EmotionDirections:
    model: str
    method: str
    layers: tuple[int, ...]
    vectors: dict[str, np.ndarray]  # emotion -> [len(layers), hidden]
    # emotion -> per layer: mean pairwise cosine of the scenario differences (split-half cosine for text directions)
    consistency: dict[str, list[float]]

    def __getitem__(self, emotion: str) -> EmotionVector:
        if not isinstance(emotion, str) or emotion not in self.vectors:
            raise InternalsError(f"no direction for {emotion!r}; these directions have {', '.join(self.vectors)}")
        return EmotionVector(emotion, self.layers, self.vectors[emotion])

    @property
    def emotions(self) -> list[str]:
        return list(self.vectors)

    @property
    def hidden_size(self) -> int:
        return next(iter(self.vectors.values())).shape[1]

    def layer_agreement(self, emotion: str) -> list[float]:
        """Cosine between each layer's direction and the next layer's."""
        v = self.vectors[emotion]
        return [_cosine(v[i], v[i + 1]) for i in range(len(v) - 1)]

    def emotion_similarity(self, layer: int) -> dict[str, dict[str, float]]:
        at = {e: self[e].at(layer) for e in self.vectors}
        return {a: {b: _cosine(at[a], at[b]) for b in at} for a in at}

    def scaled_to(self, other: EmotionDirections) -> EmotionDirections:
        """These directions, each rescaled to the length of ``other``'s for the same emotion and layer (so one
        strength means the same push for both)."""
        if other.layers != self.layers:
            raise InternalsError(f"cannot scale directions on layers {self.layers} to ones on layers {other.layers}")
        vectors = {e: (v / (np.linalg.norm(v, axis=-1, keepdims=True) + 1e-12)
                       * np.linalg.norm(other[e].vectors, axis=-1, keepdims=True)).astype(np.float32)
                   for e, v in self.vectors.items()}
        return EmotionDirections(self.model, self.method, self.layers, vectors, self.consistency)

    def save(self, path: str | Path) -> None:
        from safetensors.numpy import save_file

        meta = {"model": self.model, "method": self.method, "layers": json.dumps(list(self.layers)),
                "consistency": json.dumps(self.consistency)}
        with atomic_target(Path(path)) as partial:
            save_file({e: v.astype(np.float32) for e, v in self.vectors.items()}, str(partial), metadata=meta)

    @classmethod
    def load(cls, path: str | Path) -> EmotionDirections:
        from safetensors import SafetensorError, safe_open

        if Path(path).is_dir():
            raise InternalsError(f"{path} is a folder; name a directions file (.safetensors) in it")
        try:
            with safe_open(str(path), framework="numpy") as handle:
                meta = handle.metadata() or {}
                vectors = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118 (safe_open is no dict)
            return cls(meta["model"], meta["method"], tuple(json.loads(meta["layers"])), vectors,
                       json.loads(meta.get("consistency", "{}")))
        except (OSError, KeyError, ValueError, SafetensorError) as exc:
            raise InternalsError(f"{path}: not an affectlab directions file ({exc})") from None

    def check_fits(self, llm) -> None:
        """Directions move to any model of the same shape (number of layers, hidden size)."""
        blocks = decoder_layers(llm)
        hidden = hidden_size(llm)
        if max(self.layers) >= len(blocks) or hidden != self.hidden_size:
            raise InternalsError(f"these directions ({self.model}: layers up to {max(self.layers)}, hidden "
                                 f"{self.hidden_size}) do not fit {llm.name} ({len(blocks)} layers, hidden {hidden})")


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def _mean_pairwise_cosine(rows: np.ndarray) -> float:
    unit = rows / (np.linalg.norm(rows, axis=1, keepdims=True) + 1e-12)
    sims = unit @ unit.T
    n = len(rows)
    return float((sims.sum() - n) / (n * (n - 1)))


@dataclass(frozen=True)
class ScenarioStates:
    """What the directions are computed from: ``h(s, e) - h(s, neutral)`` for every scenario, emotion and
    layer. Capturing is the costly part; every method reads the same states."""

    model: str
    emotions: list[str]
    layers: tuple[int, ...]
    differences: np.ndarray  # [scenario, emotion, layer, hidden]

    def directions(self, method: str = "mean_diff") -> EmotionDirections:
        if method not in METHODS:
            raise InternalsError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
        differences = self.differences
        if method == "centered":
            lengths = np.linalg.norm(differences.mean(0), axis=-1, keepdims=True)  # [emotion, layer, 1]
            differences = differences - differences.mean(1, keepdims=True)
        vectors, consistency = {}, {}
        for j, emotion in enumerate(self.emotions):
            per_scenario = differences[:, j]
            mean = per_scenario.mean(0)
            if method == "centered":
                mean = mean / (np.linalg.norm(mean, axis=-1, keepdims=True) + 1e-12) * lengths[j]
            if method == "pca":
                axes = []
                for layer in range(len(self.layers)):
                    _, _, vt = np.linalg.svd(per_scenario[:, layer], full_matrices=False)
                    axis = vt[0] * np.sign(vt[0] @ mean[layer])
                    axes.append(axis * (axis @ mean[layer]))
                mean = np.stack(axes)
            vectors[emotion] = mean.astype(np.float32)
            consistency[emotion] = [_mean_pairwise_cosine(per_scenario[:, layer]) for layer in range(len(self.layers))]
        return EmotionDirections(self.model, method, self.layers, vectors, consistency)


def scenario_states(llm, scenarios: list[dict] | None = None, emotions: list[str] | None = None, *,
                    layers: list[int] | None = None, batch_size: int = 16) -> ScenarioStates:
    """Capture every variant of ``scenarios`` (default: the packaged contrast set) at ``layers`` (default all)."""
    if scenarios is None:
        default_emotions, scenarios = load_scenarios()
        emotions = emotions or default_emotions
    if isinstance(scenarios, (str, bytes, Mapping)) or len(scenarios) < 2:
        raise InternalsError("emotion directions need a list of at least two scenarios")
    for number, s in enumerate(scenarios):
        if not isinstance(s, Mapping):
            raise InternalsError(f"scenario {number} is a {type(s).__name__}, not a mapping of variant to text")
    emotions = emotions or [k for k in scenarios[0] if k not in ("id", "neutral")]
    for number, s in enumerate(scenarios):
        missing = [k for k in ("neutral", *emotions) if not isinstance(s.get(k), str) or not s[k].strip()]
        if missing:
            raise InternalsError(f"scenario {s.get('id', number)!r} lacks {', '.join(missing)}")
    variants = ["neutral", *emotions]
    texts = [s[v] for s in scenarios for v in variants]
    chosen = list(range(len(decoder_layers(llm)))) if layers is None else list(layers)
    states = capture(llm, texts, layers=chosen, batch_size=batch_size).reshape(len(scenarios), len(variants),
                                                                               len(chosen), -1)
    return ScenarioStates(llm.name, list(emotions), tuple(chosen), states[:, 1:] - states[:, :1])


def emotion_directions(llm, scenarios: list[dict] | None = None, emotions: list[str] | None = None, *,
                       method: str = "mean_diff", layers: list[int] | None = None,
                       batch_size: int = 16) -> EmotionDirections:
    """One direction per emotion and layer from ``scenarios`` (default: the packaged contrast set)."""
    if method not in METHODS:
        raise InternalsError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    return scenario_states(llm, scenarios, emotions, layers=layers, batch_size=batch_size).directions(method)
