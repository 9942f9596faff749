"""Parquet output whose schema follows the data, so that no column is dropped and no type change is fatal.

Each block of rows becomes a table whose column types pyarrow infers; a column it cannot type (``"a"`` beside
``5``, a list of mixed items, a type Parquet lacks) is written as text (:func:`affectlab.io.values.text_value`).
Blocks go to a part file while they fit its schema; a block with a new column or a wider type starts the next
part, with the wider schema. At the end the parts are streamed into one file with the union of their schemas:

- a column missing from a part is null there; a column with no value at all is text (all null);
- integers beside floats become float64; integers of any widths int64; decimals a decimal wide enough for both;
- lists and structs widen item by item (a struct takes the union of its fields);
- any other mix (text and numbers, two timestamp kinds, numbers and lists) becomes text.

>>> spool = ParquetParts(new_part)
>>> spool.write([{"id": 1}], ["id"]); spool.write([{"id": "b", "note": "late"}], ["id", "note"])
>>> spool.finish(target, ["id", "note"])  # id is text: "1", "b"; note: null, "late"
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from affectlab.io.values import text_value, valid_unicode

_UNTYPABLE = (pa.ArrowException, OverflowError, TypeError, ValueError)
MAX_NESTING = 50  # Parquet readers refuse deeper schemas (pyarrow's limit is 100 levels, each list taking two)


def _writable(kind: pa.DataType, depth: int = 0) -> bool:
    """Whether Parquet can store ``kind`` (it has no struct without fields, and no schema nested too deep)."""
    if depth > MAX_NESTING:
        return False
    if pa.types.is_struct(kind):
        return kind.num_fields > 0 and all(_writable(kind.field(i).type, depth + 1) for i in range(kind.num_fields))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _writable(kind.value_type, depth + 1)
    return not pa.types.is_map(kind) and not pa.types.is_union(kind)


def column_array(values: list) -> pa.Array:
    """The values of one column of a block: typed by pyarrow where it can, as text where it cannot."""
    try:
        array = pa.array(values)
        if _writable(array.type):
            return array
    except _UNTYPABLE:
        pass
    return pa.array([_text(v) for v in values], pa.string())


def _text(value: object) -> str | None:
    text = text_value(value)
    return None if text is None else valid_unicode(text)


def _widen(a: pa.DataType, b: pa.DataType) -> pa.DataType | None:
    """The narrowest type holding both, or None where only text holds both."""
    if a == b:
        return a
    if pa.types.is_null(a) or pa.types.is_null(b):
        return b if pa.types.is_null(a) else a
    numbers = (pa.types.is_integer, pa.types.is_floating)
    if any(test(a) for test in numbers) and any(test(b) for test in numbers):
        if pa.types.is_uint64(a) or pa.types.is_uint64(b):
            return None  # not every uint64 fits an int64
        return pa.int64() if pa.types.is_integer(a) and pa.types.is_integer(b) else pa.float64()
    if pa.types.is_decimal(a) and pa.types.is_decimal(b):
        scale = max(a.scale, b.scale)
        precision = max(a.precision - a.scale, b.precision - b.scale) + scale
        return pa.decimal128(precision, scale) if precision <= 38 else None
    if pa.types.is_list(a) and pa.types.is_list(b):
        item = _widen(a.value_type, b.value_type)
        return None if item is None else pa.list_(item)
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        fields = {a.field(i).name: a.field(i).type for i in range(a.num_fields)}
        for i in range(b.num_fields):
            name, kind = b.field(i).name, b.field(i).type
            fields[name] = _widen(fields[name], kind) if name in fields else kind
            if fields[name] is None:
                return None
        return pa.struct(list(fields.items()))
    return None


def widen_schema(a: pa.Schema, b: pa.Schema) -> pa.Schema:
    """``a``'s columns then ``b``'s new ones, each of a type that holds both (text where nothing narrower does)."""
    kinds = {name: a.field(name).type for name in a.names}
    for name in b.names:
        kind = b.field(name).type
        kinds[name] = (_widen(kinds[name], kind) or pa.string()) if name in kinds else kind
    return pa.schema(list(kinds.items()))


def _conform_column(array: pa.ChunkedArray | pa.Array, kind: pa.DataType) -> pa.Array | pa.ChunkedArray:
    if array.type == kind:
        return array
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), kind)
    if pa.types.is_string(kind):
        return pa.array([_text(v) for v in array.to_pylist()], pa.string())
    try:
        return array.cast(kind)
    except pa.ArrowException:  # e.g. a struct that lacks some of the wider struct's fields
        return pa.array(array.to_pylist(), type=kind)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly the columns and types of ``schema`` (a wider schema built by :func:`widen_schema`)."""
    columns = [
        _conform_column(table.column(name), schema.field(name).type) if name in table.column_names
        else pa.nulls(table.num_rows, schema.field(name).type)
        for name in schema.names
    ]
    return pa.Table.from_arrays(columns, schema=schema)


class ParquetParts:
    """Write blocks of dict rows as Parquet parts (each from ``new_part()``), then merge them into one file."""

    def __init__(self, new_part: Callable[[], Path]) -> None:
        self._new_part = new_part
        self._parts: list[tuple[Path, pa.Schema]] = []
        self._writer: pq.ParquetWriter | None = None

    def write(self, rows: list[dict], columns: list[str]) -> None:
        block = pa.Table.from_arrays([column_array([row.get(c) for row in rows]) for c in columns], names=columns)
        if self._writer is not None:
            schema = widen_schema(self._parts[-1][1], block.schema)
            if schema.equals(self._parts[-1][1]):
                self._writer.write_table(conform(block, schema))
                return
            self._writer.close()
        else:
            schema = block.schema
        path = self._new_part()
        self._parts.append((path, schema))
        self._writer = pq.ParquetWriter(str(path), schema)
        self._writer.write_table(conform(block, schema))

    def finish(self, target: Path, columns: list[str]) -> None:
        """Write everything to ``target``, with every column of ``columns`` (null-typed where never seen)."""
        self.close()
        schema = pa.schema([(name, pa.null()) for name in columns])
        for _, part_schema in self._parts:
            schema = widen_schema(schema, part_schema)
        # a column that never held a value is text: many readers handle Parquet's null type badly
        schema = pa.schema([(f.name, pa.string() if pa.types.is_null(f.type) else f.type) for f in schema])
        if len(self._parts) == 1 and self._parts[0][1].equals(schema):
            self._parts[0][0].replace(target)
            return
        with pq.ParquetWriter(str(target), schema) as writer:
            if not self._parts:
                writer.write_table(schema.empty_table())
            for path, _ in self._parts:
                for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
                    writer.write_table(conform(pa.Table.from_batches([batch]), schema))
                path.unlink()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def discard(self) -> None:
        self.close()
        for path, _ in self._parts:
            path.unlink(missing_ok=True)
