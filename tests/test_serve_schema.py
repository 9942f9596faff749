"""Schemathesis against affectlab serve's own OpenAPI schema, with stand-in models: requests generated from the
schema (valid and not) to every endpoint, and none may be answered with a 5xx. Bounded: a few examples per
operation, so that it runs in seconds."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (the dev extra)")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from affectlab.serve import Settings  # noqa: E402
from test_serve import fake_models, served  # noqa: E402

EXAMPLES = 12  # per operation


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    served_settings = Settings(jobs_dir=tmp_path_factory.mktemp("jobs"), max_upload_bytes=65_536)
    with served(served_settings, fake_models(), log_level="critical") as address:
        yield address


def test_no_generated_request_gets_a_server_error(url):
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    statuses: dict[str, list[int]] = {}

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def no_server_error(case):
            response = case.call(base_url=url, timeout=30)
            statuses.setdefault(f"{case.method} {case.path}", []).append(response.status_code)
            assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text}"
            if response.status_code >= 400:
                assert set(response.json()["error"]) >= {"status", "type", "message", "field"}, response.text

        no_server_error()
    assert len(statuses) == len(operations)  # every operation was called
    assert any(code < 300 for codes in statuses.values() for code in codes)  # and not only refused
