"""The memory's table in an embedded LanceDB database: one row per memory, in a folder the user names.

Each row holds the text, speaker, time (UTC), metadata (JSON), the 28 emotion probabilities and VAD, the
joint ``vector`` (the semantic vector, then the distribution over the 32 situation emotions, then zeros up to
a multiple of 16 numbers, so that product quantization can split it into sub-vectors of 16) and ``embedded_with``, the
model id of what computed the vectors. Every strategy is one dot-product search on ``vector`` with the
query's two parts weighted (semantic only: emotion part zero, and so on), so filters, the vector index and
the version history are LanceDB's own.

Writes are LanceDB commits: an :meth:`MemoryStore.append` of many batches is one commit (all of its rows
or none, even if the process dies midway), concurrent appends from other processes are retried by
LanceDB, and readers open with strong consistency (every search sees the latest commit).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np

from affectlab.errors import OptionError, check_count
from affectlab.extras import require
from affectlab.files import why_not_writable
from affectlab.memory.errors import InvalidMemory, ModelMismatch
from affectlab.taxonomy import GOEMOTIONS, VAD

TABLE = "memories"
FORMAT_KEY = b"affectlab.memory"
FORMAT = b"1"
ROW_COLUMNS = ["id", "text", "speaker", "time", "metadata", "emotions", "vad", "vector", "embedded_with"]
INDEX_TYPES = ("IVF_FLAT", "IVF_PQ", "IVF_SQ")
MAX_SETTING = 100_000  # of nprobes, refine_factor and partitions: past any use, within the integers LanceDB takes


def check_setting(name: str, value: object, none_means: str | None = None) -> None:
    """:func:`~affectlab.errors.check_count`, and at most :data:`MAX_SETTING`."""
    check_count(name, value, none_means)
    if value is not None and value > MAX_SETTING:
        raise OptionError(f"{name} must be at most {MAX_SETTING:,}, not {value}")


def check_folder(path: object, create: bool = True) -> Path:
    """``path`` as a Path once it is sure that it holds a memory or, with ``create``, that one can be made there;
    else :class:`InvalidMemory` saying why. Nothing is loaded or made, so callers check before any work."""
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path).strip():
        raise InvalidMemory(f"path: name the memory's folder, not {path!r}")
    path = Path(path)
    try:
        if path.exists() and not path.is_dir():
            raise InvalidMemory(f"{path}: is a file; a memory is a folder")
        if (path / f"{TABLE}.lance").is_dir():  # where LanceDB keeps the table
            return path
        if not create:
            raise InvalidMemory(f"{path}: holds no memory; create one by adding memories "
                                f"(EmotionalMemory.add, or `affectlab memory add {path} FILE`)")
    except OSError as exc:  # e.g. no permission to look into a folder on the way
        raise InvalidMemory(f"{path}: cannot be looked into ({exc.strerror or exc})") from None
    reason = why_not_writable(path)
    if reason:
        raise InvalidMemory(f"{path}: no memory can be made there: {reason}")
    return path


def vector_width(dimension: int) -> int:
    """The stored width of a joint vector of ``dimension`` numbers: the next multiple of 16."""
    return -(-dimension // 16) * 16


def padded(vectors: np.ndarray) -> np.ndarray:
    """Joint vectors (rows, or one) with zeros appended up to :func:`vector_width`, as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    extra = vector_width(vectors.shape[-1]) - vectors.shape[-1]
    return np.pad(vectors, [(0, 0)] * (vectors.ndim - 1) + [(0, extra)])


def table_schema(vector_dimension: int):
    import pyarrow as pa

    return pa.schema([
        ("id", pa.string()), ("text", pa.string()), ("speaker", pa.string()),
        ("time", pa.timestamp("us", tz="UTC")), ("metadata", pa.string()),
        ("emotions", pa.list_(pa.float32(), len(GOEMOTIONS))), ("vad", pa.list_(pa.float32(), len(VAD))),
        ("vector", pa.list_(pa.float32(), vector_dimension)), ("embedded_with", pa.string()),
    ], metadata={FORMAT_KEY: FORMAT})


def sql_text(value: str) -> str:
    """A SQL string literal (quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


class MemoryStore:
    def __init__(self, path: Path, dimension: int) -> None:
        """``path``: checked by :func:`check_folder`; ``dimension``: of the joint vectors (semantic + emotion),
        before padding."""
        lancedb = require("lancedb", "memory")
        self.path = path
        self.db = lancedb.connect(self.path, read_consistency_interval=timedelta(0))
        self.schema = table_schema(vector_width(dimension))
        self.table = self._open_or_create()
        found = self.table.schema
        if (found.metadata or {}).get(FORMAT_KEY) != FORMAT:
            raise InvalidMemory(f"{self.path}: its {TABLE!r} table was not written by affectlab's memory")
        stored = found.field("vector").type.list_size
        if stored != vector_width(dimension):
            raise ModelMismatch(f"{self.path}: stored vectors have {stored} numbers, this encoder's take "
                                f"{vector_width(dimension)}; open the memory with the encoder that wrote it")

    def _open_or_create(self):
        try:
            return self.db.open_table(TABLE)
        except ValueError:  # not there yet
            pass
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            return self.db.create_table(TABLE, schema=self.schema, exist_ok=True)
        except (OSError, RuntimeError, ValueError):  # another process created it at the same moment
            return self.db.open_table(TABLE)

    def __len__(self) -> int:
        return self.table.count_rows()

    def check_writable(self) -> None:
        """:class:`InvalidMemory` unless this process may write in the table's folders: a read-only memory is
        refused before any work, in one line, rather than by LanceDB halfway through."""
        table = self.path / f"{TABLE}.lance"
        for folder in (table, *(p for p in table.iterdir() if p.is_dir())):
            if not os.access(folder, os.W_OK | os.X_OK):
                raise InvalidMemory(f"{self.path}: the memory is read-only here (no permission to write in {folder})")

    def count(self, where: str | None = None) -> int:
        return self.table.count_rows(where)

    def append(self, batches: Iterator) -> None:
        """Add the rows of every record batch in one commit."""
        import pyarrow as pa

        self.check_writable()  # before the first batch is made
        self.table.add(pa.RecordBatchReader.from_batches(self.schema, batches))

    def search(self, vector: np.ndarray, limit: int, where: str | None = None, *, exact: bool = False,
               nprobes: int | None = None, refine_factor: int | None = None):
        """The ``limit`` rows of highest dot product with ``vector`` (that pass ``where``), as an Arrow table
        with a ``_distance`` column (minus the dot product)."""
        query = (self.table.search(padded(vector), vector_column_name="vector")
                 .distance_type("dot").select([*ROW_COLUMNS, "_distance"]).limit(limit))
        if where:
            query = query.where(where, prefilter=True)
        if exact:
            query = query.bypass_vector_index()
        else:
            if nprobes:
                query = query.nprobes(nprobes)
            if refine_factor:
                query = query.refine_factor(refine_factor)
        return query.to_arrow()

    def scan(self, where: str | None, columns: list[str], limit: int | None = None):
        query = self.table.search().select(columns).limit(limit)
        if where:
            query = query.where(where)
        return query.to_arrow()

    def replace_rows(self, rows) -> None:
        """Overwrite the rows of the Arrow table ``rows`` whose ids exist (one commit)."""
        self.table.merge_insert("id").when_matched_update_all().execute(rows)

    def delete(self, where: str) -> None:
        self.check_writable()
        self.table.delete(where)

    @property
    def indexed(self) -> bool:
        return self.vector_index_bytes() is not None

    def vector_index_bytes(self) -> int | None:
        """The size of the vector index, None when there is none."""
        return next((index.size_bytes for index in self.table.list_indices() if index.columns == ["vector"]), None)

    def create_index(self, index_type: str = "IVF_FLAT", partitions: int | None = None) -> None:
        """A dot-product index on ``vector``: IVF_FLAT (partitions of exact vectors), IVF_PQ (partitions,
        product-quantized: small, approximate distances that recall's ``refine_factor`` re-checks exactly)
        or IVF_SQ (partitions, 8-bit scalar quantization); and the indexes the filters use (a bitmap of
        speakers, a B-tree of times), which take a second at 1M memories."""
        from lancedb.index import Bitmap, BTree, IvfFlat, IvfPq, IvfSq

        configs = {"IVF_PQ": IvfPq, "IVF_FLAT": IvfFlat, "IVF_SQ": IvfSq}
        if index_type not in configs:
            raise InvalidMemory(f"index type must be one of {', '.join(INDEX_TYPES)}, not {index_type!r}")
        check_setting("partitions", partitions, "LanceDB's choice")
        if not len(self):
            raise InvalidMemory(f"{self.path}: holds no memories to index; add some first")
        self.check_writable()
        self.table.create_index("vector", config=configs[index_type](distance_type="dot", num_partitions=partitions),
                                replace=True)
        self.table.create_index("speaker", config=Bitmap(), replace=True)
        self.table.create_index("time", config=BTree(), replace=True)

    def optimize(self, prune: bool = False) -> None:
        """Compact small fragments (each add writes its own), add new rows to the index. Superseded files
        stay for LanceDB's default of 7 days, so that readers of an older version are not cut off, unless
        ``prune`` (only when no other process is reading)."""
        self.check_writable()
        if not prune:
            self.table.optimize()
            return
        with warnings.catch_warnings():  # LanceDB's warning says what the docstring does
            warnings.simplefilter("ignore", UserWarning)
            self.table.optimize(cleanup_older_than=timedelta(0))

    def disk_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
