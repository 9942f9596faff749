"""A stand-in encoder for memory tests: deterministic vectors from a hash of each text, no model to load.

A GoEmotions name among a text's words gets probability 0.95 (the rest stay below 0.03), and the situation
emotions are those probabilities read through the taxonomy's mapping, so tests can write texts whose feeling
they know; ``delay`` slows each call down (for tests that stop a process mid-insert); a text over ``max_chars``
is refused as the default encoder refuses it, naming its position among the texts of the call."""

from __future__ import annotations

import hashlib
import sys
import time

import numpy as np

from affectlab.memory import Encoded, reading
from affectlab.memory.errors import InvalidRow
from affectlab.taxonomy import ED_EMOTIONS, GOEMOTIONS
from affectlab.text.normalize import length_problem

DIMENSION = 16


class HashEncoder:
    dimension = DIMENSION

    def __init__(self, model_id: str = "hash-v1", delay: float = 0.0, fail_on: str | None = None,
                 max_chars: int | None = None) -> None:
        self.model_id, self.delay, self.fail_on, self.max_chars = model_id, delay, fail_on, max_chars
        self.calls = 0

    def encode(self, texts, on_progress=None) -> Encoded:
        texts = list(texts)
        semantic = np.zeros((len(texts), DIMENSION), np.float32)
        emotions = np.zeros((len(texts), len(GOEMOTIONS)), np.float32)
        vad = np.zeros((len(texts), 3), np.float32)
        for i, text in enumerate(texts):
            if self.fail_on is not None and self.fail_on in text:
                raise ValueError(f"cannot encode {text!r}")
            if length_problem(text, self.max_chars):
                raise InvalidRow("text", i, length_problem(text, self.max_chars))
            rng = np.random.default_rng(int(hashlib.md5(text.encode()).hexdigest()[:8], 16))
            semantic[i] = rng.normal(size=DIMENSION)
            emotions[i] = rng.uniform(0, 0.03, len(GOEMOTIONS))
            vad[i] = rng.uniform(2.5, 3.5, 3)
            for word in text.lower().split():
                if word in GOEMOTIONS:
                    emotions[i, GOEMOTIONS.index(word)] = 0.95
        semantic /= np.linalg.norm(semantic, axis=1, keepdims=True)
        self.calls += 1
        if self.delay:
            print(f"encoded {self.calls}", flush=True)  # the test reads this line to know when to stop the process
            sys.stdout.flush()
            time.sleep(self.delay)
        if on_progress is not None:
            on_progress(len(texts))
        return Encoded(semantic, emotions, vad, situations_of(emotions), self.model_id)


def situations_of(emotions: np.ndarray) -> np.ndarray:
    """Rows of 28 GoEmotions probabilities → distributions over the 32 situation emotions, as a given mood is read."""
    return np.array([reading(dict(zip(GOEMOTIONS, map(float, probs))))[2] for probs in emotions],
                    dtype=np.float32).reshape(len(emotions), len(ED_EMOTIONS))
