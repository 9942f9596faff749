"""A corpus job as data, and its plan: input files with fingerprints, cut into chunks read on their own.

Each chunk starts at a :class:`~affectlab.io.readers.Position` found by one cheap pass over the file
(Parquet needs only its footer), so any engine can read any chunk without reading what comes before.
A chunk's part file is its completion mark: a re-run skips chunks whose part exists.
"""

from __future__ import annotations

import glob
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from affectlab.errors import OptionError, check_count
from affectlab.io.readers import (
    START,
    InputFileError,
    Position,
    codec,
    detect_format,
    open_parquet,
    read_rows,
    table_columns,
)
from affectlab.registry import DEFAULTS
from affectlab.text.analyzer import DEFAULT_MAX_WINDOWS, RUNTIMES
from affectlab.text.artifact import DEFAULT_PROFILE, PROFILES
from affectlab.text.label_head import check_head_profile, head_folder
from affectlab.text.normalize import DEFAULT_MAX_CHARS, check_on_long

SCORES_DIR = "scores"


@dataclass(frozen=True)
class CorpusJob:
    """What to analyze and how; stored in the run manifest so a re-run can check it is the same job."""

    inputs: list[str]
    output: str
    text_column: str = "text"
    time_column: str | None = None
    group_column: str | None = None
    chunk_rows: int = 10_000
    model: str | None = None  # None: the profile's shipped model (its name is stored)
    runtime: str = "onnx"
    batch_size: int = 64
    encoding: str = "utf-8"  # of CSV, JSONL and TXT inputs
    max_chars: int | None = DEFAULT_MAX_CHARS  # the per-text bounds of the Analyzer (None: no bound)
    max_windows: int | None = DEFAULT_MAX_WINDOWS
    on_long: str = "error"
    profile: str = DEFAULT_PROFILE  # accurate or fast (static token vectors)

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise OptionError(f"profile must be one of {', '.join(PROFILES)}, not {self.profile!r}")
        if self.model is None:
            object.__setattr__(self, "model", DEFAULTS[PROFILES[self.profile]])
        codec(self.encoding)  # an unknown or unsupported encoding is an OptionError now, not per chunk
        check_on_long(self.max_chars, self.on_long)
        check_count("chunk_rows", self.chunk_rows)
        if not self.inputs:
            raise OptionError("give at least one input file")
        if self.runtime not in RUNTIMES:
            raise OptionError(f"runtime must be one of {', '.join(RUNTIMES)}, not {self.runtime!r}")
        check_count("batch_size", self.batch_size)
        if head_folder(self.model) is not None:
            check_head_profile(self.profile)

    def identity(self) -> dict:
        """The settings that change the scores; resuming with different ones would mix two runs."""
        return {k: v for k, v in asdict(self).items() if k not in ("inputs", "output", "batch_size")}


@dataclass(frozen=True)
class ChunkSpec:
    """One independently readable piece of one input file."""

    file_index: int
    chunk_index: int
    path: str
    offset: int
    consumed: int
    rows: int  # rows the plan counted (what an unreadable chunk is charged)

    @property
    def start(self) -> Position:
        return Position(self.offset, self.consumed)

    def part(self, output: Path) -> Path:
        return Path(output) / SCORES_DIR / f"file={self.file_index:04d}" / f"part-{self.chunk_index:05d}.parquet"


@dataclass(frozen=True)
class InputFile:
    index: int
    path: str
    format: str
    bytes: int
    sha256: str
    rows: int
    chunks: int


@dataclass
class Plan:
    files: list[InputFile] = field(default_factory=list)
    chunks: list[ChunkSpec] = field(default_factory=list)
    file_errors: list[dict] = field(default_factory=list)  # inputs that could not be read at all

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def expand_inputs(patterns: list[str]) -> list[Path]:
    """Files named or matched by glob patterns, in a stable order; a pattern that matches nothing is an error.

    A name that is an existing file is taken as it is, even with glob characters in it (``posts[1].csv``).
    """
    found: list[Path] = []
    for pattern in patterns:
        if Path(pattern).is_dir():
            raise InputFileError(f"{pattern}: is a folder; name its files, e.g. '{Path(pattern) / '*.parquet'}'")
        literal = Path(pattern).is_file() or not glob.has_magic(pattern)
        matches = [pattern] if literal else sorted(m for m in glob.glob(pattern, recursive=True) if Path(m).is_file())
        if not matches:
            raise InputFileError(f"{pattern}: matches no file")
        found.extend(Path(m) for m in matches)
    return list(dict.fromkeys(found))


def fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def plan_job(job: CorpusJob) -> Plan:
    """Fingerprint every input and find where each chunk starts. An unreadable file is recorded, not fatal."""
    plan = Plan()
    for index, path in enumerate(expand_inputs(job.inputs)):
        try:
            fmt = detect_format(path)
            _check_columns(path, fmt, job)
            starts, rows = _chunk_starts(path, fmt, job)
            plan.files.append(
                InputFile(index, str(path), fmt, path.stat().st_size, fingerprint(path), rows, len(starts))
            )
        except MissingColumn:
            raise
        except InputFileError as exc:
            plan.file_errors.append({"file_index": index, "path": str(path), "error": str(exc)})
            continue
        for chunk_index, (start, count) in enumerate(starts):
            plan.chunks.append(ChunkSpec(index, chunk_index, str(path), start.offset, start.consumed, count))
    return plan


class MissingColumn(InputFileError):
    """A time or group column an input lacks: the whole job is refused, not that file alone."""


def _check_columns(path: Path, fmt: str, job: CorpusJob) -> None:
    """Refuse a time or group column an input's header lacks, before any row is scored (JSONL and TXT files have
    no header: there a missing field leaves each row without a time or group)."""
    if fmt in ("jsonl", "txt"):
        return
    columns = table_columns(path, job.encoding)
    for role, name in (("time", job.time_column), ("group", job.group_column)):
        if name is not None and name not in columns:
            raise MissingColumn(f"{path}: no column {name!r} (the {role} column); columns are: "
                                f"{', '.join(map(str, columns))}")


def _chunk_starts(path: Path, fmt: str, job: CorpusJob) -> tuple[list[tuple[Position, int]], int]:
    every = job.chunk_rows
    if fmt == "parquet":
        total = open_parquet(path, job.text_column).metadata.num_rows
        starts = [(Position(s, s), min(every, total - s)) for s in range(0, total, every)]
        return starts or [(START, 0)], total
    starts: list[tuple[Position, int]] = []
    start, count, total = START, 0, 0
    for block in read_rows(path, job.text_column, block_size=every, encoding=job.encoding):
        for row in block:
            count += 1
            total += 1
            if count == every:
                starts.append((start, count))
                start, count = row.after, 0
    if count or not starts:  # a file without rows still gets one (empty) chunk, so every input has a part
        starts.append((start, count))
    return starts, total
