"""Readers and writers for table files: streaming, per-row errors, atomic output."""

from affectlab.io.readers import FORMATS, InputFileError, Position, Row, count_rows, read_rows
from affectlab.io.writers import OUTPUT_FORMATS, TableWriter, atomic_target, atomic_write_text

__all__ = [
    "FORMATS", "OUTPUT_FORMATS", "InputFileError", "Position", "Row", "TableWriter", "atomic_target",
    "atomic_write_text", "count_rows", "read_rows",
]
