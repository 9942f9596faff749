"""Readers and writers for table files: streaming, per-row errors, atomic output."""

from affectlab.io.readers import (
    FORMATS,
    InputFileError,
    Position,
    Row,
    check_input,
    count_rows,
    read_rows,
    table_columns,
)
from affectlab.io.writers import (
    OUTPUT_FORMATS,
    OutputFileError,
    TableWriter,
    atomic_target,
    atomic_write_text,
    check_output,
)

__all__ = [
    "FORMATS", "OUTPUT_FORMATS", "InputFileError", "OutputFileError", "Position", "Row", "TableWriter",
    "atomic_target", "atomic_write_text", "check_input", "check_output", "count_rows", "read_rows", "table_columns",
]
