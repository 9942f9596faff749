"""Where the irony rule starts is chosen on GoEmotions dev: low where it only removes ironic praise, nowhere where
it would discount genuine praise too."""

import numpy as np

from affectlab.heads import head_slices
from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT
from affectlab.text.irony import ironic_reading
from affectlab.train.class_blocks import class_targets, tuned_blocks
from affectlab.train.irony_rule import MAX_COST, RULE_GRID, choose_irony_rule

SLICES = head_slices()
POSITIVE = [("goemotions", GOEMOTIONS, "admiration"), ("ekman", EKMAN, "joy"), ("sentiment", SENTIMENT, "positive")]
NEGATIVE = [("goemotions", GOEMOTIONS, "annoyance"), ("ekman", EKMAN, "anger"), ("sentiment", SENTIMENT, "negative")]


def dev_set(praise_irony: float, ironic: int = 100, seed: int = 0):
    """Genuine praise (gold admiration), plain complaints and ``ironic`` ironic praise (both gold annoyance): the
    model reads ironic praise as praise, and its irony logit is high there; on genuine praise it is
    ``praise_irony``."""
    rng = np.random.default_rng(seed)
    kinds = ["praise"] * 150 + ["complaint"] * 150 + ["ironic"] * ironic
    raw = np.full((len(kinds), SLICES["irony"].stop), -4.0, np.float32)
    for row, kind in enumerate(kinds):
        literal_positive = kind != "complaint"
        for block, names, label in POSITIVE:
            raw[row, SLICES[block].start + names.index(label)] = rng.normal(2 if literal_positive else -2, 1.5)
        for block, names, label in NEGATIVE:
            raw[row, SLICES[block].start + names.index(label)] = rng.normal(-2 if literal_positive else 2, 1.5)
        irony = {"ironic": 3.0, "praise": praise_irony, "complaint": -3.0}[kind]
        raw[row, SLICES["irony"]] = rng.normal(irony, 0.3)
    gold = class_targets([["admiration"] if kind == "praise" else ["annoyance"] for kind in kinds])
    return raw, gold


def test_a_rule_that_only_removes_ironic_praise_starts_at_the_lowest_threshold():
    raw, gold = dev_set(praise_irony=-3.0)
    rule = choose_irony_rule(raw, gold, SLICES)
    assert rule.threshold == RULE_GRID[0]
    assert all(cost < 0 for cost in rule.report["cost"].values())  # it helps every block
    assert rule.report["flagged_share"] == 0.25
    assert (rule.thresholds, rule.macro_f1) == tuned_blocks(ironic_reading(raw, SLICES, rule.threshold), gold, SLICES)


def test_no_rule_where_genuine_praise_looks_just_as_ironic():
    raw, gold = dev_set(praise_irony=4.0)
    _, before = tuned_blocks(raw, gold, SLICES)
    rule = choose_irony_rule(raw, gold, SLICES)
    assert rule.threshold is None and rule.report == {"threshold": None, "max_cost": MAX_COST}
    assert before["goemotions"] > 0  # there was praise to lose
    assert rule.macro_f1 == before  # no rule: the classes tuned on the outputs as they are


def test_a_rule_with_nothing_to_remove_starts_above_the_irony_of_genuine_praise():
    raw, gold = dev_set(praise_irony=0.85, ironic=0)  # irony about 0.70 on genuine praise
    rule = choose_irony_rule(raw, gold, SLICES)
    assert rule.threshold is not None and 0.7 < rule.threshold <= RULE_GRID[-1]
    assert max(rule.report["cost"].values()) <= MAX_COST and rule.report["flagged_share"] < 0.1
