"""Real first names where GoEmotions masks them: counterfactual augmentation for name invariance.

GoEmotions replaced every person's name with the token ``[NAME]`` (Demszky et al., 2020), so a model trained
on it has read ``[NAME]`` some 6,000 times and a real name almost never, and users' texts hold real names.
Filling each mask with a first name drawn from :data:`FILL_NAMES` (written for affectlab, women's and men's
names of many origins, disjoint from the bias audit's) shows the model names of every group in the same
sentences with the same labels, the counterfactual data augmentation of Zhao et al. (2018) and Dinan et al.
(2020). The draw is seeded per text, so a text gets the same names whatever else is loaded:

>>> fill_names(["[NAME] said that?", "no names here"], seed=13)[1]
'no names here'
"""

from __future__ import annotations

import random
from importlib.resources import files

MASK = "[NAME]"
FILL_NAMES: tuple[str, ...] = tuple(
    line.strip() for line in files(__package__).joinpath("fill_names.txt").read_text("utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)


def fill_names(texts: list[str], seed: int) -> list[str]:
    """Each ``[NAME]`` of text ``i`` replaced by a name drawn with ``random.Random(f"{seed}:{i}")``."""
    filled = []
    for index, text in enumerate(texts):
        if MASK not in text:
            filled.append(text)
            continue
        rng = random.Random(f"{seed}:{index}")
        pieces = text.split(MASK)
        filled.append(pieces[0] + "".join(rng.choice(FILL_NAMES) + piece for piece in pieces[1:]))
    return filled
