"""Reports: every figure lands as JSON under ``reports/`` with the command, date and machine."""

from __future__ import annotations

import json
import os
import platform
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
    atomic_write_text(path, json.dumps(document, indent=2) + "\n")
    return path
