"""affectlab bench serve: its percentile, and a tiny run that starts the real server on 127.0.0.1 (the lead runs
the real measurement; this checks the plumbing and the report's shape only)."""

from __future__ import annotations

import json

import pytest

from conftest import DATA_DIR, needs_data

pytest.importorskip("fastapi")

from affectlab.evaluate.bench_serve import answer_kind, bench_serve, percentile  # noqa: E402
from affectlab.taxonomy import GOEMOTIONS  # noqa: E402


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile([7.0], 0.99)) == (50.0, 99.0, 7.0)


def test_every_answer_is_checked_for_its_status_and_a_texts_affect():
    good = json.dumps({"model": "m", "labels": ["joy"], "emotions": dict.fromkeys(GOEMOTIONS, 0.1)}).encode()
    short = json.dumps({"model": "m", "labels": ["joy"], "emotions": {"joy": 0.9}}).encode()
    assert answer_kind(200, good) == "ok" and answer_kind(429, good) == "429"
    assert answer_kind(200, b'{"error": {}}') == answer_kind(200, b"<html>") == answer_kind(200, short) == "bad_body"
    assert answer_kind(200, b"[1, 2]") == "bad_body"


@pytest.mark.model
@needs_data
def test_a_tiny_bench_serve_run_reports_every_level_without_errors():
    report = bench_serve(DATA_DIR, requests=12, seconds=30, concurrencies=(1, 4), threads=1)
    assert [level["concurrency"] for level in report["levels"]] == [1, 4]
    assert all(level["errors"] == 0 and level["ok"] == 12 for level in report["levels"])
    assert report["offline"]["texts"] == 12 and report["levels"][1]["ratio_to_offline"] > 0
    assert report["offline"]["cpu_ms_per_text"] > 0
    assert all(set(level["cpu_ms_per_request"]) == {"server", "load_generator"} for level in report["levels"])
    assert report["meets_target"] is None  # concurrency 32 was not run
