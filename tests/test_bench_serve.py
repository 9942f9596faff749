"""affectlab bench serve: its percentile, and a tiny run that starts the real server on 127.0.0.1 (the lead runs
the real measurement; this checks the plumbing and the report's shape only)."""

from __future__ import annotations

import pytest

from conftest import DATA_DIR, needs_data

pytest.importorskip("fastapi")

from affectlab.evaluate.bench_serve import bench_serve, percentile  # noqa: E402


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile([7.0], 0.99)) == (50.0, 99.0, 7.0)


@pytest.mark.model
@needs_data
def test_a_tiny_bench_serve_run_reports_every_level_without_errors():
    report = bench_serve(DATA_DIR, requests=12, seconds=30, concurrencies=(1, 4), threads=1)
    assert [level["concurrency"] for level in report["levels"]] == [1, 4]
    assert all(level["errors"] == 0 and level["ok"] == 12 for level in report["levels"])
    assert report["offline"]["texts"] == 12 and report["levels"][1]["ratio_to_offline"] > 0
    assert report["meets_target"] is None  # concurrency 32 was not run
