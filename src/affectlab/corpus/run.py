"""Run a corpus job: plan, score the chunks not yet done, aggregate, and write the run manifest.

>>> manifest = run_corpus(CorpusJob(["posts.parquet"], "results/", time_column="created_at"), LocalEngine())
>>> manifest.counts
{'rows': 120000, 'ok': 119850, 'skipped': 120, 'errors': 30, 'time_missing': 4, 'time_unparsed': 2}

The manifest (``results/manifest.json``) is written before scoring starts, with ``state: running``,
and again at the end: ``complete``, ``interrupted`` (Ctrl-C, SIGTERM) or ``failed``, with ``error``
saying why in one line. A re-run with the same job and unchanged inputs resumes: chunks whose part
file exists are skipped. A re-run whose inputs or settings changed is refused rather than mixing two
runs' parts in one folder, and so is a second run while one is still writing there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from affectlab import registry
from affectlab.corpus.aggregate import AGGREGATES_DIR, aggregate, check_bucket, interrupts_kept, scores_view
from affectlab.corpus.engines import Engine
from affectlab.corpus.plan import SCORES_DIR, ChunkSpec, CorpusJob, Plan, fingerprint, plan_job
from affectlab.corpus.scoring import ChunkResult, head_labels, one_line, part_schema
from affectlab.errors import AffectlabError
from affectlab.extras import require
from affectlab.files import exclusive_lock, why_not_writable
from affectlab.io.readers import InputFileError
from affectlab.io.writers import atomic_write_text
from affectlab.registry import WEIGHTS_FILE, read_config
from affectlab.text.artifact import DEFAULT_PROFILE, ArtifactConfig, resolve_artifact
from affectlab.text.label_head import head_folder
from affectlab.version import __version__

MANIFEST = "manifest.json"
LOCK_FILE = ".corpus-run.lock"  # held while a run writes, so that two runs never share a folder
ROW_ERRORS_KEPT = 1000


class ResumeError(AffectlabError, ValueError):
    """The output folder holds a different run."""


@dataclass
class RunManifest:
    state: str
    job: dict
    engine: dict
    model: dict
    software: dict
    files: list[dict]
    file_errors: list[dict]
    chunks: dict
    counts: dict = field(default_factory=dict)
    row_errors: list[dict] = field(default_factory=list)  # the first ROW_ERRORS_KEPT; all are in scores/
    seconds: float = 0.0
    started: str = ""
    finished: str | None = None
    error: str | None = None  # why a run ended ``failed`` or ``interrupted``, in one line

    def to_dict(self) -> dict:
        return asdict(self)


def run_corpus(
    job: CorpusJob,
    engine: Engine,
    *,
    bucket: str = "month",
    on_plan: Callable[[Plan, list[ChunkSpec]], None] | None = None,
    on_chunk: Callable[[ChunkResult], None] | None = None,
) -> RunManifest:
    """Score every row of ``job.inputs`` into ``job.output`` and aggregate it.

    ``on_plan(plan, chunks_to_do)`` is called once the inputs are fingerprinted; ``on_chunk`` after
    each finished chunk.
    """
    output = Path(job.output)
    check_bucket(bucket)
    _check_writable(output)
    plan = plan_job(job)
    if not plan.files:
        raise InputFileError("; ".join(e["error"] for e in plan.file_errors[:3]) + " (no input could be read)")
    output.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(output / LOCK_FILE) as locked:
        if not locked:
            raise ResumeError(f"{output}: another `affectlab corpus run` is writing to this folder; wait for it to "
                              "end (then run again to resume or re-aggregate), or use another folder")
        return _run(job, engine, output, plan, bucket, on_plan, on_chunk)


def _run(job: CorpusJob, engine: Engine, output: Path, plan: Plan, bucket: str, on_plan, on_chunk) -> RunManifest:
    _check_resumable(output, job, plan)
    _remove_temporaries(output)
    todo = [c for c in plan.chunks if not c.part(output).exists()]
    if on_plan is not None:
        on_plan(plan, todo)
    started = time.perf_counter()
    manifest = RunManifest(
        state="running",
        job=asdict(job),
        engine=engine.describe(),
        model=_model_info(job),
        software=_software(job),
        files=[asdict(f) for f in plan.files],
        file_errors=plan.file_errors,
        chunks={"planned": len(plan.chunks), "already_done": len(plan.chunks) - len(todo), "scored_now": 0},
        started=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    _write(output, manifest)
    try:
        engine.run(job, todo, lambda result: _chunk_done(manifest, result, on_chunk))
        manifest.engine = engine.describe()
        with interrupts_kept():
            manifest.counts, manifest.row_errors = _counts(output)
            aggregate(output, bucket=bucket)
        manifest.state = "complete"
    except BaseException as exc:
        # Ctrl-C or SIGTERM (SystemExit) stops a run that can be resumed; anything else is a failure
        interrupted = isinstance(exc, (KeyboardInterrupt, SystemExit))
        manifest.state = "interrupted" if interrupted else "failed"
        manifest.error = "interrupted; run the same command again to resume" if interrupted else one_line(exc)
        raise
    finally:
        _remove_temporaries(output)  # what a killed Ray worker was writing; local writes clean up themselves
        manifest.seconds = round(time.perf_counter() - started, 2)
        manifest.finished = datetime.now(UTC).isoformat(timespec="seconds")
        _write(output, manifest)
    return manifest


def _remove_temporaries(output: Path) -> None:
    """Delete half-written files (``.<name>.<random>.part`` beside their target) of a run that was killed."""
    for folder in (output, output / AGGREGATES_DIR, *(output / SCORES_DIR).glob("file=*")):
        for temporary in folder.glob(".*.part"):
            temporary.unlink(missing_ok=True)


def _chunk_done(manifest: RunManifest, result: ChunkResult, on_chunk) -> None:
    manifest.chunks["scored_now"] += 1
    if on_chunk is not None:
        on_chunk(result)


def load_manifest(output: Path) -> dict | None:
    """The manifest of a run's output folder (None when it has none), or :class:`ResumeError` for one that is
    not what ``corpus run`` writes."""
    path = Path(output) / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResumeError(f"{path}: not a readable manifest ({getattr(exc, 'msg', exc)})") from exc
    parts = ("job", "model", "software")
    if not isinstance(manifest, dict) or not all(isinstance(manifest.get(part), dict) for part in parts):
        raise ResumeError(f"{path}: not a manifest of `affectlab corpus run` (it needs the objects "
                          f"{', '.join(parts)})")
    return manifest


def _check_writable(output: Path) -> None:
    """Refuse an output the run could not write to before any work is done, not after."""
    try:
        taken = output.exists() and not output.is_dir()
    except OSError:  # a folder on the way cannot be looked into: why_not_writable below says which
        taken = False
    if taken:
        raise InputFileError(f"{output}: exists and is not a folder; give a folder for the results")
    try:  # a name with bytes that are not UTF-8 reaches Python as lone surrogates, which pyarrow cannot take
        str(output.absolute()).encode("utf-8")
    except UnicodeEncodeError:
        raise InputFileError(f"{output}: the path is not valid UTF-8, so Parquet files cannot be written there; "
                             f"choose another folder name") from None
    reason = why_not_writable(output)
    if reason:
        raise InputFileError(f"{output}: {reason}")


def _check_resumable(output: Path, job: CorpusJob, plan: Plan) -> None:
    previous = load_manifest(output)
    if previous is None:
        if (output / SCORES_DIR).exists():
            raise ResumeError(f"{output}: holds a scores/ folder but no manifest; use a new output folder")
        return
    try:
        before = CorpusJob(**previous["job"])
    except (TypeError, AffectlabError) as exc:  # a field missing, or a value CorpusJob refuses
        raise ResumeError(f"{output / MANIFEST}: its job is not one `affectlab corpus run` writes ({exc}); use a new "
                          "output folder") from None
    changed = [k for k, v in job.identity().items() if before.identity().get(k) != v]
    model = _model_info(job)
    if any(previous["model"].get(key) != model.get(key) for key in ("weights_sha256", "head")):
        changed.append("model weights")
    if previous["software"].get("score_columns") != _score_columns(job):
        changed.append("the columns of score files (another affectlab version or model)")
    old = {f["path"]: f["sha256"] for f in previous.get("files", [])}
    new = {f.path: f.sha256 for f in plan.files}
    changed += [f"input {p}" for p in sorted(set(old) | set(new)) if old.get(p) != new.get(p)]
    if changed:
        raise ResumeError(
            f"{output}: holds a run of a different job (changed: {', '.join(changed)}); "
            "use a new output folder, or delete this one to start over"
        )


def _counts(output: Path) -> tuple[dict, list[dict]]:
    con = scores_view(output)
    try:
        rows, ok, skipped, errors, missing, unparsed = con.execute(
            """SELECT count(*), count(*) FILTER (status = 'ok'), count(*) FILTER (status = 'skipped'),
                      count(*) FILTER (status = 'error'),
                      count(*) FILTER (time_error LIKE '%time is missing'),
                      count(*) FILTER (time_error IS NOT NULL AND time_error NOT LIKE '%time is missing')
               FROM scores"""
        ).fetchone()
        problems = con.execute(
            f"""SELECT source, "row", status, coalesce(error, time_error) AS error FROM scores
                WHERE error IS NOT NULL OR time_error IS NOT NULL ORDER BY source, "row" LIMIT {ROW_ERRORS_KEPT}"""
        ).fetchall()
    finally:
        con.close()
    counts = {
        "rows": rows, "ok": ok, "skipped": skipped, "errors": errors, "time_missing": missing, "time_unparsed": unparsed
    }
    return counts, [dict(zip(("source", "row", "status", "error"), p)) for p in problems]


def _model_info(job: CorpusJob) -> dict:
    """The text model's name, base, date and weights, and, for a head of one's own, the head's name and weights."""
    head = head_folder(job.model)
    head_config = read_config(head) if head is not None else None
    folder = resolve_artifact(head_config["base_model"] if head_config else job.model, job.profile)
    config = ArtifactConfig.load(folder)
    info = {"name": config.name, "base_model": config.base_model, "trained": config.trained.get("date"),
            "weights_sha256": fingerprint(folder / WEIGHTS_FILE)}
    if head_config is not None:
        info["head"] = {"name": head_config["name"], "fingerprint": registry.fingerprint(head)}  # weights and config
    return info


def _score_columns(job: CorpusJob) -> list[str]:
    return list(part_schema(head_labels(job)).names)


def _software(job: CorpusJob) -> dict:
    import pyarrow

    software = {"affectlab": __version__, "pyarrow": pyarrow.__version__,
                "duckdb": require("duckdb", "corpus").__version__, "score_columns": _score_columns(job)}
    if job.profile == DEFAULT_PROFILE:  # the fast profile never loads ONNX Runtime
        import onnxruntime

        software["onnxruntime"] = onnxruntime.__version__
    return software


def _write(output: Path, manifest: RunManifest) -> None:
    atomic_write_text(output / MANIFEST, json.dumps(manifest.to_dict(), indent=2, default=str) + "\n")
