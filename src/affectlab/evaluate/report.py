"""Reports: every figure lands as JSON under ``reports/`` with the command, date and machine."""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from affectlab.errors import AffectlabError
from affectlab.io import atomic_write_text
from affectlab.registry import fingerprint

REPORTS_DIR = Path("reports")


class EvaluationError(AffectlabError, ValueError):
    """The evaluation cannot go on as asked."""


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "system": platform.system()}


def judge_record(analyzer) -> dict:
    """The text model that judged a report's outputs: its name and the fingerprint of its weights, so a figure
    it judged can be told stale once another text model is installed."""
    return {"classifier": analyzer.model_name, "classifier_fingerprint": fingerprint(analyzer.folder)}


def report_json(document: dict) -> str:
    r"""``document`` as strict JSON text: a figure that could not be computed (NaN, infinite) is ``null``.

    >>> report_json({"perplexity": float("nan"), "arms": [1.5]})
    '{\n  "perplexity": null,\n  "arms": [\n    1.5\n  ]\n}\n'
    """
    def strict(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {key: strict(inner) for key, inner in value.items()}
        if isinstance(value, list | tuple):
            return [strict(inner) for inner in value]
        return value

    return json.dumps(strict(document), indent=2, allow_nan=False) + "\n"


def rescore_in_place(path: Path, command: str, rescore: Callable[[dict], dict], what: str,
                     error: type[AffectlabError]) -> dict:
    """Read the ``what`` report at ``path``, rewrite it atomically as ``rescore`` returns it, noting the command and
    date under ``rescored`` (its own command, date and machine stay those of the run that generated its outputs),
    and return it; ``error`` for a file that cannot be read, is read-only or holds no JSON object. A symbolic link's
    target is rewritten, not the link."""
    path = Path(path).resolve()
    if path.is_file() and not path.stat().st_mode & 0o200:
        raise error(f"{path} is read-only; make it writable to rescore it in place")
    try:
        report = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as problem:
        raise error(f"cannot read the {what} report {path}: {problem}") from None
    if not isinstance(report, dict):
        raise error(f"{path}: not a {what} report (a JSON object)")
    try:
        rescored = rescore(report)
    except error as problem:  # the rescoring's own words, with the file they are about
        raise error(f"{path}: {problem}") from None
    rescored["rescored"] = {"command": command, "date": datetime.now(UTC).isoformat(timespec="seconds")}
    atomic_write_text(path, report_json(rescored))
    return rescored


def write_report(name: str, payload: dict, command: str, reports_dir: Path = REPORTS_DIR) -> Path:
    """Write ``reports/<name>.json`` atomically, with the command that produced it and provenance."""
    document = {
        "report": name,
        "command": command,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **payload,
    }
    path = Path(reports_dir) / f"{name}.json"
    atomic_write_text(path, report_json(document))
    return path
