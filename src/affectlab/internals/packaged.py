"""The shipped steering directions and the settings they were picked with, both read from the registry.

The directions artifact's ``config.json`` holds the layers ``steer`` acts at, each emotion's strength (the
dev picks of ``affectlab eval steering``) and the share of the emotions' common part removed from each
direction when it was made; the report those picks come from is named in its ``trained`` field.

>>> settings = steering_settings()
>>> settings.layers, settings.strength("joy")
>>> directions = packaged_directions(llm)       # any model with Gemma 3 270M's shape
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from affectlab.internals.directions import EmotionDirections
from affectlab.internals.layers import InternalsError
from affectlab.registry import DEFAULTS, DIRECTIONS_FILE, read_config, resolve

TASK = "steering-directions"


@dataclass(frozen=True)
class SteeringSettings:
    """How a directions artifact is meant to be applied: at ``layers`` together, each emotion at its strength."""

    layers: tuple[int, ...]
    strengths: dict[str, float]
    other_strength: float  # for an emotion the sweep did not cover (directions a user made)
    remove_shared: dict[str, float]  # what the recipe took out of each direction (for re-making them)

    def strength(self, emotion: str) -> float:
        return self.strengths.get(emotion, self.other_strength)


def steering_settings(artifact: str | Path = DEFAULTS[TASK]) -> SteeringSettings:
    """The settings in a directions artifact's ``config.json`` (default: the shipped one)."""
    config = read_config(resolve(artifact, TASK))
    try:
        return SteeringSettings(tuple(int(x) for x in config["layers"]),
                                {e: float(v) for e, v in config["strengths"].items()},
                                float(config["other_strength"]),
                                {e: float(v) for e, v in config["remove_shared"].items()})
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InternalsError(f"{artifact}: config.json lacks a valid steering setting ({exc!r})") from None


def packaged_directions(llm, artifact: str | Path = DEFAULTS[TASK]) -> EmotionDirections:
    """The directions of a directions artifact (default: the GoEmotions directions shipped for Gemma 3 270M),
    checked to fit ``llm``."""
    found = EmotionDirections.load(str(resolve(artifact, TASK) / DIRECTIONS_FILE))
    try:
        found.check_fits(llm)
    except InternalsError as error:
        raise InternalsError(f"{error}; for this model compute directions (`affectlab directions --method "
                             "goemotions`, or `steer --method mean_diff`) or pass saved ones") from None
    return found
