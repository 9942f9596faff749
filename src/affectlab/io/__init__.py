"""Readers and writers for table files: streaming, per-row errors, atomic output."""

from affectlab.io.readers import FORMATS, InputFileError, Row, count_rows, read_rows
from affectlab.io.writers import OUTPUT_FORMATS, TableWriter, atomic_write_text

__all__ = ["FORMATS", "OUTPUT_FORMATS", "InputFileError", "Row", "TableWriter", "atomic_write_text", "count_rows", "read_rows"]
