"""Inside the language model: hidden-state capture, layer-wise emotion probes, emotion directions from a
contrast set or from labelled text, and steering with them (local backends only)."""

from affectlab.internals.capture import capture
from affectlab.internals.closed_loop import run_arms
from affectlab.internals.directions import (
    EmotionDirections,
    EmotionVector,
    ScenarioStates,
    emotion_directions,
    load_scenarios,
    scenario_states,
)
from affectlab.internals.layers import InternalsError, decoder_layers
from affectlab.internals.packaged import SteeringSettings, packaged_directions, steering_settings
from affectlab.internals.probes import LayerProbes, LayerScore, score_probes, train_probes
from affectlab.internals.steering import Steering
from affectlab.internals.text_directions import text_directions
from affectlab.internals.zero_shot import zero_shot_scores

__all__ = [
    "EmotionDirections", "EmotionVector", "InternalsError", "LayerProbes", "LayerScore", "ScenarioStates",
    "Steering", "SteeringSettings", "capture", "decoder_layers", "emotion_directions", "load_scenarios",
    "packaged_directions", "run_arms", "scenario_states", "score_probes", "steering_settings", "text_directions",
    "train_probes", "zero_shot_scores",
]
