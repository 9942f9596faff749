"""How texts are cut into network batches: sorted by length, each at most ``max_batch``, at the least cost."""

import itertools
import random

import numpy as np
import pytest

from affectlab.text.runtime import CALL_TOKENS, plan_batches, run_sorted


def cost(lengths, batches, call_tokens=CALL_TOKENS) -> int:
    return sum(call_tokens + len(b) * max(lengths[i] for i in b) for b in batches)


def cheapest_by_brute_force(lengths, max_batch) -> int:
    """Every way of cutting the sorted lengths into consecutive batches of at most ``max_batch``."""
    ordered = sorted(range(len(lengths)), key=lambda i: lengths[i])
    best = None
    for cuts in itertools.product((False, True), repeat=len(lengths) - 1):
        batches, current = [], [ordered[0]]
        for index, cut in zip(ordered[1:], cuts, strict=True):
            if cut:
                batches.append(current)
                current = []
            current.append(index)
        batches.append(current)
        if max(len(b) for b in batches) <= max_batch:
            found = cost(lengths, batches)
            best = found if best is None else min(best, found)
    return best


def test_every_index_once_sorted_and_no_batch_over_the_bound():
    lengths = [random.Random(seed).randint(1, 128) for seed in range(200)]
    batches = plan_batches(lengths, max_batch=16)
    flat = [int(i) for b in batches for i in b]
    assert sorted(flat) == list(range(200))
    assert [lengths[i] for i in flat] == sorted(lengths)
    assert all(1 <= len(b) <= 16 for b in batches)


@pytest.mark.parametrize("seed", range(12))
def test_the_plan_costs_no_more_than_the_cheapest_cut(seed):
    rng = random.Random(seed)
    lengths = [rng.choice([rng.randint(2, 12), rng.randint(30, 128)]) for _ in range(rng.randint(1, 10))]
    max_batch = rng.randint(1, 6)
    assert cost(lengths, plan_batches(lengths, max_batch)) == cheapest_by_brute_force(lengths, max_batch)


def test_short_texts_are_not_padded_to_long_ones_beside_them():
    lengths = [5, 120, 6, 118, 7, 5]
    fixed = cost(lengths, [sorted(range(6), key=lambda i: lengths[i])])  # one batch of all six
    batches = [sorted(lengths[i] for i in b) for b in plan_batches(lengths, max_batch=8)]
    assert batches == [[5, 5, 6, 7], [118, 120]]
    assert cost(lengths, plan_batches(lengths, max_batch=8)) < fixed


def test_equal_lengths_fill_whole_batches():
    assert sorted(len(b) for b in plan_batches([20] * 10, max_batch=4)) == [2, 4, 4]


class Width:
    """A runtime whose outputs are each row's real length, and which records the width of every batch."""

    name = "width"

    def __init__(self):
        self.widths = []

    def run(self, input_ids, attention_mask):
        self.widths.append(input_ids.shape[1])
        return attention_mask.sum(axis=1, keepdims=True).astype(np.float32)


def test_run_sorted_gives_rows_back_in_input_order():
    sequences = [[1] * n for n in (9, 3, 60, 4, 58, 10)]
    runtime = Width()
    out = run_sorted(runtime, sequences, batch_size=8)
    assert out[:, 0].tolist() == [9, 3, 60, 4, 58, 10]
    assert sorted(runtime.widths) == [10, 60]
