"""Writer vs reader: a documented use of the ``vad_writer`` and ``vad_reader`` readings.

"Hidden anger": a text that sounds calm as written, yet that readers would find unpleasant: the writer's
valence neutral or better and arousal at most slightly raised, while the reader's valence is clearly low.
EmoBank's raters give 3 to "neither", so the bounds are a third to half a point either side of it (EmoBank's
valence varies by about 0.35-0.45 across sentences). In EmoBank itself most such sentences are calmly worded
reports of bad news, not hostility; see docs/readings.md for counts and examples.

>>> hidden_anger({"valence": 3.1, "arousal": 2.9, "dominance": 3.0}, {"valence": 2.4, "arousal": 3.1, "dominance": 2.8})
True
"""

from __future__ import annotations

WRITER_VALENCE_MIN = 3.0
WRITER_AROUSAL_MAX = 3.2
READER_VALENCE_MAX = 2.6


def hidden_anger(writer: dict[str, float], reader: dict[str, float]) -> bool:
    """Whether writer VAD sounds calm (valence ≥ 3.0, arousal ≤ 3.2) while the reader's valence is ≤ 2.6."""
    return (writer["valence"] >= WRITER_VALENCE_MIN and writer["arousal"] <= WRITER_AROUSAL_MAX
            and reader["valence"] <= READER_VALENCE_MAX)
