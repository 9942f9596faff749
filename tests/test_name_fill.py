"""GoEmotions' [NAME] masks filled with real first names for training."""

import json
from importlib.resources import files

from affectlab.train.name_fill import FILL_NAMES, MASK, fill_names


def test_every_mask_is_filled_and_other_text_kept():
    texts = ["[NAME] told [NAME] the news.", "nobody here", "Thanks [NAME]!"]
    filled = fill_names(texts, seed=13)
    assert all(MASK not in text for text in filled) and filled[1] == "nobody here"
    first, second = filled[0].removesuffix(" the news.").split(" told ")
    assert {first, second} <= set(FILL_NAMES)
    assert filled[2].startswith("Thanks ") and filled[2].removeprefix("Thanks ").removesuffix("!") in FILL_NAMES


def test_a_text_gets_the_same_names_whatever_else_is_loaded():
    texts = [f"[NAME] wrote post {i}" for i in range(50)]
    assert fill_names(texts, seed=13)[:10] == fill_names(texts[:10], seed=13)
    assert fill_names(texts, seed=13) != fill_names(texts, seed=14)
    assert len({text.split()[0] for text in fill_names(texts, seed=13)}) > 20  # names vary across texts


def test_fill_names_are_distinct_and_none_is_a_bias_audit_filler():
    assert len(FILL_NAMES) == len(set(FILL_NAMES)) >= 150
    audit = json.loads(files("affectlab.evaluate").joinpath("bias_templates.json").read_text("utf-8"))
    audited = {name for names in audit["dimensions"]["names"]["groups"].values() for name in names}
    assert not audited & set(FILL_NAMES)
