"""``EmotionalMemory``: an agent's memories, recalled by what they said and by how they felt."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from affectlab.io.values import surrogate_problem
from affectlab.memory.encoding import CHUNK, EMOTION_DIMENSION, AffectEncoder, Encoded, MemoryEncoder, reading
from affectlab.memory.errors import InvalidMemory, InvalidRow, ModelMismatch
from affectlab.memory.results import MemoryHit, Recall
from affectlab.memory.store import (
    ROW_COLUMNS,
    MemoryStore,
    check_folder,
    check_setting,
    padded,
    sql_text,
    vector_width,
)
from affectlab.memory.strategies import DEFAULT_STRATEGY, Strategy
from affectlab.taxonomy import ED_EMOTIONS, GOEMOTIONS, VAD
from affectlab.text.analyzer import InvalidText, check_text

if TYPE_CHECKING:
    from affectlab.text import TextAffect

TimeLike = datetime | str | float | int


def to_utc(value: TimeLike | None, what: str, row: int | None = None) -> datetime:
    """A time as an aware UTC datetime: a datetime (naive ones are taken as UTC), an ISO 8601 string or
    seconds since the epoch (a number or its digits); None is now. ``what`` names the value in an error, which
    is the :class:`InvalidRow` of ``row`` where one is given.

    >>> to_utc("2024-05-01T20:30:00+02:00", "time").isoformat()
    '2024-05-01T18:30:00+00:00'
    """

    def invalid(reason: str) -> InvalidMemory:
        return InvalidMemory(f"{what}: {reason}") if row is None else InvalidRow(what, row, reason)

    if value is None:
        return datetime.now(UTC)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            try:
                value = float(value)  # epoch seconds read from a text file
            except ValueError:
                raise invalid(f"{value!r} is neither an ISO 8601 time (e.g. 2024-05-01T18:30:00Z) "
                              "nor epoch seconds") from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            value = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise invalid(f"{value!r} is not a time") from None
    if not isinstance(value, datetime):
        raise invalid(f"expected a datetime, an ISO 8601 string or epoch seconds, not {type(value).__name__}")
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise invalid(f"{value.isoformat()} is past the last time a memory can hold (9999-12-31 UTC)") from None


def _sql_time(value: datetime) -> str:
    return f"timestamp '{value.replace(tzinfo=None).isoformat(timespec='microseconds')}Z'"  # a 4-digit year


def _listed(value: object, what: str) -> list:
    """``value`` as a list, one string being a list of one; a mapping or anything not iterable is refused."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (bytes, Mapping)) or not isinstance(value, Iterable):
        raise InvalidMemory(f"{what}: expected a string or a list of strings, not {type(value).__name__}")
    return list(value)


def where_clause(speaker: str | Sequence[str] | None, since: TimeLike | None, until: TimeLike | None) -> str | None:
    """The SQL filter the database applies before ranking (speaker one of those given; since ≤ time < until)."""
    parts = []
    if speaker is not None:
        names = _listed(speaker, "speaker filter")
        if not names or not all(isinstance(n, str) for n in names):
            raise InvalidMemory("speaker filter: give a name or a non-empty list of names")
        problem = next(filter(None, (surrogate_problem(n, "a name") for n in names)), None)
        if problem:
            raise InvalidMemory(f"speaker filter: {problem}")
        parts.append(f"speaker IN ({', '.join(sql_text(n) for n in names)})")
    if since is not None:
        parts.append(f"time >= {_sql_time(to_utc(since, 'since'))}")
    if until is not None:
        parts.append(f"time < {_sql_time(to_utc(until, 'until'))}")
    return " AND ".join(parts) or None


def recall_options(k: int, strategy: str = DEFAULT_STRATEGY, emotion_weight: float | None = None,
                   candidates: int | None = None, emotion: TextAffect | Mapping[str, float] | str | None = None,
                   speaker: str | Sequence[str] | None = None, since: TimeLike | None = None,
                   until: TimeLike | None = None) -> tuple[Strategy, tuple | None, str | None]:
    """What :meth:`EmotionalMemory.recall` makes of its options: the strategy with its parameter, the reading of
    the given ``emotion`` (None: the query's own) and the database filter; else :class:`InvalidMemory` naming
    the option at fault. A caller with many queries checks them here once, before reading any."""
    plan = Strategy.of(strategy, k, emotion_weight, candidates)
    return plan, None if emotion is None else reading(emotion), where_clause(speaker, since, until)


def _per_row(value, n: int, what: str) -> list:
    """One value for every row: a single value repeats; a list must have one per text."""
    if value is None or isinstance(value, (str, bytes, Mapping, datetime)) or not isinstance(value, Iterable):
        return [value] * n
    values = list(value)
    if len(values) != n:
        raise InvalidMemory(f"{what}: {len(values)} values for {n} texts; give one, or one per text")
    return values


def _metadata_json(value: object, row: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidRow("metadata", row, f"expected a dict, not {type(value).__name__}")
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidRow("metadata", row, f"not JSON-serializable ({exc})") from None
    problem = surrogate_problem(text, "its JSON")
    if problem:
        raise InvalidRow("metadata", row, problem)
    return text


def _check_speaker(name: object, row: int) -> None:
    if name is None:
        return
    problem = (f"expected a string, not {type(name).__name__}" if not isinstance(name, str)
               else surrogate_problem(name, "the name"))
    if problem:
        raise InvalidRow("speaker", row, problem)


def _check_texts(texts: str | Sequence[str]) -> list[str]:
    texts = _listed(texts, "texts")
    for i, text in enumerate(texts):
        try:
            check_text(text)
        except InvalidText as exc:
            raise InvalidRow("text", i, str(exc)) from None
    return texts


def _vector_columns(part: Encoded) -> list:
    """The emotions, vad, vector and embedded_with columns of encoded rows."""
    import pyarrow as pa

    def fixed(matrix: np.ndarray):
        return pa.FixedSizeListArray.from_arrays(pa.array(np.ascontiguousarray(matrix, np.float32).ravel()),
                                                 matrix.shape[1])

    return [fixed(part.emotions), fixed(part.vad), fixed(padded(part.joint)), pa.array([part.model_id] * len(part))]


def _matrix(column, width: int) -> np.ndarray:
    return column.combine_chunks().flatten().to_numpy(zero_copy_only=False).reshape(-1, width)


@dataclass(frozen=True)
class MemoryInfo:
    path: str
    memories: int
    model_id: str  # what this affectlab embeds with
    stale: int  # memories embedded with another model (re-embed them before use)
    indexed: bool
    version: int
    disk_bytes: int

    def to_dict(self) -> dict:
        return asdict(self)


class EmotionalMemory:
    """Memories in a LanceDB folder: each text is stored with its speaker, time, metadata, semantic vector
    and emotion reading, and recalled by meaning, by feeling or both (see :mod:`affectlab.memory.strategies`).

    The folder persists across processes; several processes may add and recall at once. Each :meth:`add` is
    all-or-nothing. A store written with other models is refused (:class:`ModelMismatch`) until
    :meth:`reembed` has run. Once :meth:`create_index` built a vector index, recall searches its ``nprobes``
    closest partitions, and with an IVF_PQ index re-checks ``refine_factor`` × k candidates with their exact
    vectors (before that, and with ``exact=True``, every memory is compared). ``create=False`` refuses a folder
    that holds no memory yet (:class:`InvalidMemory`) instead of making one there.

    >>> memory = EmotionalMemory("runs/agent-memory")
    >>> memory.add(["We won the final!", "My grandmother passed away."], speaker="alice",
    ...            time=["2024-05-01T18:00:00Z", "2024-06-02T09:00:00Z"])
    >>> recall = memory.recall("I miss her so much", k=1, strategy="combined")
    >>> recall[0].text, recall[0].why
    ('My grandmother passed away.', '0.50·semantic 0.38 + 0.50·emotion 0.13 = 0.25')
    """

    def __init__(self, path: str | Path, *, encoder: MemoryEncoder | None = None, nprobes: int = 20,
                 refine_factor: int | None = None, create: bool = True) -> None:
        check_setting("nprobes", nprobes)
        check_setting("refine_factor", refine_factor, "no re-check")
        folder = check_folder(path, create)  # before the encoder loads its models
        self.encoder = encoder or AffectEncoder()
        self.dimension = self.encoder.dimension
        self.store = MemoryStore(folder, self.dimension + EMOTION_DIMENSION)
        self.nprobes, self.refine_factor = nprobes, refine_factor
        self._version: int | None = None  # of the table when _other and _indexed were read
        self._other: str | None = None  # the model some memory was embedded with, if not this one
        self._indexed = False

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def model_id(self) -> str:
        return self.encoder.model_id

    def __len__(self) -> int:
        return len(self.store)

    def _count_stale(self) -> int:
        return self.store.count(f"embedded_with != {sql_text(self.model_id)}")

    def _check_models(self) -> None:
        version = self.store.table.version
        if version != self._version:  # a commit since the last look, of this process or another (a reembed, say)
            found = self.store.scan(f"embedded_with != {sql_text(self.model_id)}", ["embedded_with"], limit=1)
            self._other = found["embedded_with"][0].as_py() if found.num_rows else None
            self._indexed, self._version = self.store.indexed, version
        if self._other is None:
            return
        raise ModelMismatch(
            f"{self.path}: {self._count_stale():,} of {len(self):,} memories were embedded with {self._other}, but "
            f"this affectlab embeds with {self.model_id}; their similarities cannot be compared. Re-embed them with "
            f"EmotionalMemory.reembed() or `affectlab memory reembed {self.path}`."
        )

    def encode(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> Encoded:
        """The vectors :meth:`add` would store for ``texts`` (pass them back with ``encoded=`` to reuse them)."""
        return self.encoder.encode(_check_texts(texts), on_progress)

    def _checked_encoding(self, encoded: Encoded, n: int) -> Encoded:
        if encoded.model_id != self.model_id:
            raise ModelMismatch(f"the vectors given were computed by {encoded.model_id}, this memory embeds "
                                f"with {self.model_id}")
        if len(encoded) != n:
            raise InvalidMemory(f"encoded has {len(encoded)} rows for {n} texts")
        return encoded

    def add(self, texts: str | Sequence[str], *, speaker: str | Sequence[str | None] | None = None,
            time: TimeLike | Sequence[TimeLike | None] | None = None,
            metadata: Mapping | Sequence[Mapping | None] | None = None, encoded: Encoded | None = None,
            on_progress: Callable[[int], None] | None = None) -> list[str]:
        """Store texts; one speaker, time (default now) and metadata dict each, or one for all. Returns their
        ids. All-or-nothing: if a text cannot be read or the process stops, none of this call's rows is kept.
        ``encoded``: vectors from :meth:`encode` for these texts (skips encoding)."""
        import pyarrow as pa

        texts = _check_texts(texts)
        n = len(texts)
        speakers = _per_row(speaker, n, "speaker")
        for i, name in enumerate(speakers):
            _check_speaker(name, i)
        times = [to_utc(t, "time", i) for i, t in enumerate(_per_row(time, n, "time"))]
        metas = [_metadata_json(m, i) for i, m in enumerate(_per_row(metadata, n, "metadata"))]
        self._check_models()
        if encoded is not None:
            self._checked_encoding(encoded, n)
        ids = [uuid.uuid4().hex for _ in texts]
        failure: list[BaseException] = []

        def batches():
            try:
                for start in range(0, n, CHUNK):
                    rows = slice(start, start + CHUNK)
                    if encoded is None:
                        try:
                            part = self.encoder.encode(texts[rows], on_progress)
                        except InvalidRow as exc:  # numbered within the chunk
                            raise InvalidRow(exc.field, start + exc.row, exc.reason) from None
                    else:
                        part = encoded.take(rows)
                        if on_progress is not None:
                            on_progress(len(part))
                    yield pa.record_batch([
                        pa.array(ids[rows]), pa.array(texts[rows]), pa.array(speakers[rows], pa.string()),
                        pa.array(times[rows], pa.timestamp("us", tz="UTC")), pa.array(metas[rows], pa.string()),
                        *_vector_columns(part),
                    ], schema=self.store.schema)
            except BaseException as exc:  # LanceDB reports it as an Arrow error; the caller gets the original
                failure.append(exc)
                raise

        counted = self._version
        try:
            if n:
                self.store.append(batches())
        except Exception:
            if failure:
                raise failure[0] from None
            raise
        if n and self.store.table.version == counted + 1:  # the only commit since the count: it stands
            self._version = counted + 1
        return ids

    def recall(self, query: str, k: int = 5, *, strategy: str = DEFAULT_STRATEGY, emotion_weight: float | None = None,
               candidates: int | None = None, emotion: TextAffect | Mapping[str, float] | str | None = None,
               speaker: str | Sequence[str] | None = None, since: TimeLike | None = None,
               until: TimeLike | None = None, exact: bool = False, encoded: Encoded | None = None) -> Recall:
        """The ``k`` memories that best match ``query`` by ``strategy``. The query's emotional state is read
        from its text unless ``emotion`` gives it (an agent's current mood: a TextAffect, a mapping of
        GoEmotions or EmpatheticDialogues names and VAD, or one emotion name; see
        :func:`~affectlab.memory.encoding.reading`). ``speaker``, ``since`` and ``until`` filter in the
        database before ranking. ``exact=True`` compares every memory even when a vector index exists."""
        plan, given, where = recall_options(k, strategy, emotion_weight, candidates, emotion, speaker, since, until)
        try:
            text = check_text(query)
        except InvalidText as exc:
            raise InvalidMemory(f"query: {exc}") from None
        self._check_models()
        if encoded is not None:
            self._checked_encoding(encoded, 1)
        else:
            try:
                encoded = self.encoder.encode([text])
            except InvalidRow as exc:
                raise InvalidMemory(f"query: {exc.reason}") from None
        probs, vad, told = (encoded.emotions[0], encoded.vad[0], encoded.situations[0]) if given is None else given
        query_semantic = encoded.semantic[0]
        ws, we = plan.search_weights
        rows = self.store.search(np.concatenate([ws * query_semantic, we * told]), plan.search_limit(k),
                                 where, exact=exact, nprobes=self.nprobes, refine_factor=self.refine_factor)
        vectors = _matrix(rows["vector"], vector_width(self.dimension + EMOTION_DIMENSION))
        semantic = vectors[:, : self.dimension] @ query_semantic
        situations = vectors[:, self.dimension : self.dimension + EMOTION_DIMENSION]
        emotion = situations @ told
        ranked = plan.rank(semantic, emotion, k)
        emotions, vads = _matrix(rows["emotions"], len(GOEMOTIONS)), _matrix(rows["vad"], len(VAD))
        columns = {name: rows[name].to_pylist() for name in ("id", "text", "speaker", "time", "metadata")}
        hits = [MemoryHit(
            columns["id"][r.row], columns["text"][r.row], columns["speaker"][r.row], columns["time"][r.row],
            json.loads(columns["metadata"][r.row]) if columns["metadata"][r.row] else {},
            float(semantic[r.row]), float(emotion[r.row]), r.score, r.why,
            dict(zip(GOEMOTIONS, map(float, emotions[r.row]))), dict(zip(VAD, map(float, vads[r.row]))),
            dict(zip(ED_EMOTIONS, map(float, situations[r.row]))),
        ) for r in ranked]
        return Recall(text, plan.name, hits, dict(zip(GOEMOTIONS, map(float, probs))), dict(zip(VAD, map(float, vad))),
                      dict(zip(ED_EMOTIONS, map(float, told))), plan.emotion_weight, plan.candidates,
                      exact or not self._indexed)

    def forget(self, ids: str | Sequence[str]) -> None:
        """Delete memories by id (one commit)."""
        ids = _listed(ids, "ids")
        for i, memory_id in enumerate(ids):
            if not isinstance(memory_id, str) or surrogate_problem(memory_id):
                raise InvalidMemory(f"ids {i}: expected a memory's id (a string add returned), not {memory_id!r}"[:200])
        if ids:
            self.store.delete(f"id IN ({', '.join(sql_text(i) for i in ids)})")

    def reembed(self, on_progress: Callable[[int], None] | None = None, batch_size: int = 1024) -> int:
        """Re-compute the vectors of every memory embedded with another model, with this memory's encoder;
        returns how many. Each batch is one commit, so an interrupted run keeps its progress: run it again."""
        import pyarrow as pa

        stale = f"embedded_with != {sql_text(self.model_id)}"
        remaining, done = self.store.count(stale), 0
        if remaining:
            self.store.check_writable()
        columns = [c for c in ROW_COLUMNS if c not in ("emotions", "vad", "vector", "embedded_with")]
        while remaining:
            rows = self.store.scan(stale, columns, limit=batch_size)
            part = self.encoder.encode(rows["text"].to_pylist())
            updated = pa.Table.from_arrays([*(rows[c] for c in columns), *_vector_columns(part)],
                                           schema=self.store.schema)
            self.store.replace_rows(updated)
            left = self.store.count(stale)
            if left >= remaining:
                raise RuntimeError(f"{self.path}: re-embedding made no progress ({left} memories left)")
            done, remaining = done + rows.num_rows, left
            if on_progress is not None:
                on_progress(rows.num_rows)
        return done

    def create_index(self, index_type: str = "IVF_FLAT", partitions: int | None = None) -> None:
        """Build (or rebuild) an approximate vector index: recall then searches the ``nprobes`` partitions
        closest to the query instead of every memory. Worth it from about 100k memories; memories added later
        are searched exactly until :meth:`optimize` folds them in. IVF_FLAT (default) keeps exact vectors in
        its partitions (it doubles the disk size); IVF_PQ compresses them (smaller, but on
        ``affectlab bench memory`` it found far fewer of the exact top 5, see docs/memory.md); IVF_SQ
        quantizes each number to 8 bits. An empty memory has nothing to index: it is refused."""
        self.store.create_index(index_type, partitions)

    def optimize(self, prune: bool = False) -> None:
        """Compact the small files each add writes and add new memories to the index. The files this
        supersedes are kept for 7 days (a reader in another process may still be on them); ``prune`` deletes
        them now, for when no other process has the memory open."""
        self.store.optimize(prune)

    def info(self) -> MemoryInfo:
        return MemoryInfo(str(self.path), len(self), self.model_id, self._count_stale(), self.store.indexed,
                          self.store.table.version, self.store.disk_bytes())
