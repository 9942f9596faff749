"""Conversations from long tables: one row per turn (conversation id, speaker, text, optionally an order
column), many conversations in one file, DataFrame or list of dicts. Each conversation is checked on its
own, so a broken one is reported with its id and row and never stops the others.

>>> from affectlab import analyze_conversations
>>> results = analyze_conversations("chats.csv", order_column="turn_no")
>>> [r.error for r in results.errors]
["conversation 'c7': row 12 (turn 3): speaker is missing or empty"]
>>> results.write("chats.affect.parquet")  # one row per turn
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from affectlab.dialogue.analyzer import ConversationAnalyzer, shared_analyzer
from affectlab.dialogue.result import ConversationAffect
from affectlab.dialogue.turns import InvalidConversation
from affectlab.errors import OptionError
from affectlab.io import InputFileError, TableWriter, read_rows
from affectlab.io.readers import is_missing
from affectlab.taxonomy import EKMAN

TABLE_FORMATS = (".csv", ".tsv", ".jsonl", ".ndjson", ".parquet", ".pq")
TURN_COLUMNS = ("conversation_id", "turn", "row", "speaker", "text", "emotion", *(f"ekman_{e}" for e in EKMAN),
                "read_alone", "read_alone_probability", "causes", "truncated", "error")
# conversations are analyzed in groups (their windows batched together) of at most this many, or fewer once
# the group holds this many turns: long conversations cost memory with the square of their length
GROUP_CONVERSATIONS = 32
GROUP_TURNS = 256


@dataclass(frozen=True)
class SourceTurn:
    """A turn as the table gave it: ``row`` is the row number (the line for JSONL, the index label for a
    DataFrame); ``speaker`` and ``text`` are shown as text, None where the cell was empty."""

    row: int | str
    speaker: str | None
    text: str | None


@dataclass(frozen=True)
class ConversationResult:
    """One conversation of a table: its turns as read (in analysis order), and either the analysis or an
    ``error`` that names the conversation id and the row or field at fault."""

    conversation_id: object  # as read; None for a row that had no usable id
    turns: list[SourceTurn]
    affect: ConversationAffect | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def rows(self) -> list[dict]:
        """One flat record per turn (see :data:`TURN_COLUMNS`); a failed conversation's turns carry its error."""
        out = []
        for index, source in enumerate(self.turns):
            row = dict.fromkeys(TURN_COLUMNS)
            row.update(conversation_id=self.conversation_id, turn=index, row=source.row, speaker=source.speaker,
                       text=source.text, error=self.error)
            if self.affect is not None:
                turn = self.affect.turns[index]
                row.update({f"ekman_{e}": turn.emotions.get(e) for e in EKMAN})
                if turn.alone_emotion is not None:
                    row.update(read_alone=turn.alone_emotion[0], read_alone_probability=turn.alone_emotion[1])
                row.update(speaker=turn.speaker, emotion=turn.emotion, truncated=turn.truncated, causes=json.dumps(
                    [{"turn": c.turn, "span": c.span, "score": round(c.score, 4)} for c in turn.causes],
                    ensure_ascii=False))
            out.append(row)
        return out


@dataclass(frozen=True)
class ConversationResults:
    """Every conversation of a table, in the order their ids first appeared; iterate, index or flatten it.

    >>> results.to_frame()  # pandas, one row per turn
    >>> results.write("out.csv")  # .csv, .jsonl or .parquet, written atomically
    """

    conversations: list[ConversationResult] = field(default_factory=list)

    def __iter__(self) -> Iterator[ConversationResult]:
        return iter(self.conversations)

    def __len__(self) -> int:
        return len(self.conversations)

    def __getitem__(self, index: int) -> ConversationResult:
        return self.conversations[index]

    @property
    def errors(self) -> list[ConversationResult]:
        return [c for c in self.conversations if c.error is not None]

    def rows(self) -> list[dict]:
        """One record per turn; ids or row labels of mixed types (1 and "b") are all given as text, so that
        every row of a column has one type (a Parquet column must)."""
        rows = [row for conversation in self.conversations for row in conversation.rows()]
        for name in ("conversation_id", "row"):
            if len({type(row[name]) for row in rows if row[name] is not None}) > 1:
                for row in rows:
                    row[name] = None if row[name] is None else str(row[name])
        return rows

    def to_frame(self):
        """A pandas DataFrame with one row per turn (needs pandas: ``pip install 'affectlab[corpus]'``)."""
        from affectlab.extras import require

        return require("pandas", "corpus").DataFrame(self.rows(), columns=list(TURN_COLUMNS))

    def write(self, path: str | Path) -> Path:
        """One row per turn to ``path`` (.csv, .jsonl or .parquet); the file appears only once complete."""
        with TableWriter(Path(path)) as writer:
            writer.write(self.rows())  # in one block, so a column's type comes from every row
        return Path(path)

    def to_dict(self) -> dict:
        return {"conversations": [c.to_dict() for c in self.conversations]}


@dataclass
class _Row:
    label: int | str  # row number, line number or index label
    record: Mapping[str, object]
    error: str | None = None


@dataclass
class _Group:
    conversation_id: object
    rows: list[_Row] = field(default_factory=list)


@dataclass(frozen=True)
class _Columns:
    conversation: str
    speaker: str
    text: str
    order: str | None
    unit: str = "row"  # what a row is called in messages ("line" for JSONL)

    @property
    def required(self) -> list[str]:
        return [c for c in (self.conversation, self.speaker, self.text, self.order) if c is not None]


def analyze_conversations(
    source: object,
    *,
    conversation_column: str = "conversation_id",
    speaker_column: str = "speaker",
    text_column: str = "text",
    order_column: str | None = None,
    causes: bool = True,
    analyzer: ConversationAnalyzer | None = None,
    progress: Callable[[int, int], None] | None = None,
    encoding: str = "utf-8",
) -> ConversationResults:
    """Analyze every conversation of a long table: a pandas DataFrame, a path (.csv, .tsv, .jsonl, .parquet)
    or an iterable of dicts, one row per turn.

    Rows are grouped by ``conversation_column`` (conversations keep the order their ids first appear in);
    turns follow ``order_column`` when given (numbers, or text such as ISO times), else the table's order.
    A conversation with an unreadable row, a missing speaker, an empty text or a missing order value gets an
    ``error`` naming its id and the row, and the others go on; a row without a conversation id is reported
    on its own. ``progress(done, total)`` is called as conversations finish. ``analyzer`` defaults to the
    shipped models. ``encoding``: of a csv/tsv/jsonl file (e.g. latin-1).

    >>> results = analyze_conversations(df, order_column="turn_no", causes=False)
    >>> results[0].affect.turns[0].emotion
    """
    columns = _Columns(conversation_column, speaker_column, text_column, order_column)
    if isinstance(source, (str, Path)):
        columns, rows = _file_rows(Path(source), columns, encoding)
    elif hasattr(source, "columns") and hasattr(source, "to_dict"):
        rows = _frame_rows(source, columns)
    elif isinstance(source, Iterable) and not isinstance(source, (bytes, Mapping)):
        rows = _dict_rows(source, columns)
    else:
        raise OptionError(f"source must be a path, a DataFrame or an iterable of dicts, not {type(source).__name__}")
    return _analyze(_group(rows, columns), columns, analyzer or shared_analyzer(), causes, progress)


def table_columns(path: str | Path, encoding: str = "utf-8") -> list[str]:
    """The column names of a table file, read from its header (csv/tsv), schema (Parquet) or first object
    (JSONL); empty for other formats or a file whose start cannot be read."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return list(pq.ParquetFile(path).schema_arrow.names)
        with path.open(encoding=encoding, errors="replace", newline="") as handle:
            if suffix in (".csv", ".tsv"):
                header = next(csv.reader(handle, delimiter="\t" if suffix == ".tsv" else ","), [])
                return [h.lstrip("\ufeff") for h in header]
            if suffix in (".jsonl", ".ndjson"):
                first = next((line for line in handle if line.strip()), "{}")
                record = json.loads(first)
                return list(record) if isinstance(record, dict) else []
    except Exception:  # unreadable, not UTF-8, not JSON, not Parquet (pyarrow has several types): no columns
        return []
    return []


def _file_rows(path: Path, columns: _Columns, encoding: str) -> tuple[_Columns, Iterator[_Row]]:
    if path.suffix.lower() not in TABLE_FORMATS:
        raise InputFileError(f"{path}: a conversation table is one of {', '.join(TABLE_FORMATS)}")
    # read_rows checks the file and (csv, Parquet) the text column now
    blocks = read_rows(path, text_column=columns.text, encoding=encoding)
    first = next(blocks, [])
    unit = "line" if path.suffix.lower() in (".jsonl", ".ndjson") else "row"
    columns = _Columns(columns.conversation, columns.speaker, columns.text, columns.order, unit)
    readable = next((row for row in first if row.error is None), None)
    if readable is not None:
        _require(columns, list(readable.record), InputFileError, str(path))
    if unit == "row":  # a header may repeat a name (JSON objects cannot): which copy to read would be a guess
        _require_once(columns, table_columns(path, encoding), InputFileError, f"{path}: the header")
    rows = (_Row(row.number, row.record, row.error) for block in itertools.chain([first], blocks) for row in block)
    return columns, rows


def _frame_rows(frame, columns: _Columns) -> Iterator[_Row]:
    _require(columns, list(frame.columns), OptionError, "the DataFrame")
    _require_once(columns, list(frame.columns), OptionError, "the DataFrame")
    labels = [label if isinstance(label, (int, str)) else str(label) for label in frame.index.tolist()]
    return (_Row(label, record) for label, record in zip(labels, frame.to_dict("records")))


def _dict_rows(items: Iterable[object], columns: _Columns) -> Iterator[_Row]:
    checked = False
    for number, item in enumerate(items, 1):
        if not isinstance(item, Mapping):
            yield _Row(number, {}, f"row {number}: expected a dict, got {type(item).__name__}")
            continue
        if not checked:
            _require(columns, list(item), OptionError, f"row {number}")
            checked = True
        yield _Row(number, item)


def _require(columns: _Columns, present: list[str], error: type[Exception], where: str) -> None:
    for name in columns.required:
        if name not in present:
            raise error(f"{where}: no column {name!r}; columns are: {', '.join(map(str, present))}")


def _require_once(columns: _Columns, names: list[str], error: type[Exception], where: str) -> None:
    for name in columns.required:
        if names.count(name) > 1:
            raise error(f"{where} has {names.count(name)} columns named {name!r}; rename all but one")


def _group(rows: Iterable[_Row], columns: _Columns) -> list[_Group | ConversationResult]:
    """Rows → conversations in the order their ids first appear; a row without a usable id becomes an error
    result of its own, in its place."""
    out: list[_Group | ConversationResult] = []
    groups: dict[object, _Group] = {}
    for row in rows:
        cid = row.record.get(columns.conversation)
        problem = None
        if is_missing(cid) or (isinstance(cid, str) and not cid.strip()):
            problem = f"{columns.conversation!r} is missing"
        elif isinstance(cid, bool) or not isinstance(cid, (str, numbers.Real)):
            problem = f"{columns.conversation!r} must be text or a number, got {type(cid).__name__}"
        if problem is not None:
            message = row.error or f"{columns.unit} {row.label}: {problem}"
            out.append(ConversationResult(None, [_source(row, columns)], error=message))
            continue
        if cid not in groups:
            groups[cid] = _Group(cid)
            out.append(groups[cid])
        groups[cid].rows.append(row)
    return out


def _source(row: _Row, columns: _Columns) -> SourceTurn:
    return SourceTurn(row.label, _shown(row.record.get(columns.speaker)), _shown(row.record.get(columns.text)))


def _shown(cell: object) -> str | None:
    return None if is_missing(cell) else cell if isinstance(cell, str) else str(cell)


def _cell(cell: object) -> object:
    return None if is_missing(cell) else cell


def _turns(group: _Group, columns: _Columns) -> tuple[list[_Row], list[dict] | str]:
    """The group's rows in turn order and its turns for the analyzer (which checks them), or (rows as read)
    why it cannot be analyzed."""
    where = f"conversation {group.conversation_id!r}"
    rows = group.rows
    bad = next((row for row in rows if row.error is not None), None)
    if bad is not None:
        return rows, f"{where}: {bad.error}"
    if columns.order is not None:
        ordered = _ordered(rows, columns)
        if isinstance(ordered, str):
            return rows, f"{where}: {ordered}"
        rows = ordered
    return rows, [
        {"speaker": _cell(row.record.get(columns.speaker)), "text": _cell(row.record.get(columns.text))} for row in rows
    ]


def _at_row(group: _Group, rows: list[_Row], exc: InvalidConversation, columns: _Columns) -> str:
    """``turn 3: text is empty`` → ``conversation 'c1': row 9 (turn 3): text is empty``."""
    where = f"conversation {group.conversation_id!r}"
    prefix = f"turn {exc.turn}: "
    if exc.turn is None or exc.turn >= len(rows) or not str(exc).startswith(prefix):
        return f"{where}: {exc}"
    return f"{where}: {columns.unit} {rows[exc.turn].label} (turn {exc.turn}): {str(exc)[len(prefix):]}"


def _ordered(rows: list[_Row], columns: _Columns) -> list[_Row] | str:
    """Rows sorted by the order column (stable: ties keep table order), or why they cannot be."""
    values = []
    for row in rows:
        value = row.record.get(columns.order)
        if is_missing(value) or (isinstance(value, str) and not value.strip()):
            return f"{columns.unit} {row.label}: {columns.order!r} is missing"
        values.append(value)
    if all(isinstance(v, str) for v in values):
        with contextlib.suppress(ValueError):  # text that is not all numbers (ISO times, say) sorts as text
            numbers_read = [float(v) for v in values]
            if any(is_missing(v) for v in numbers_read):  # "nan" is a missing value, not a number
                row = rows[next(i for i, v in enumerate(numbers_read) if is_missing(v))]
                return f"{columns.unit} {row.label}: {columns.order!r} is missing"
            values = numbers_read
    try:
        order = sorted(range(len(rows)), key=values.__getitem__)
    except TypeError:
        return f"the values of {columns.order!r} cannot be compared with each other (mixed types)"
    return [rows[i] for i in order]


def _analyze(
    items: list[_Group | ConversationResult],
    columns: _Columns,
    analyzer: ConversationAnalyzer,
    causes: bool,
    progress: Callable[[int, int], None] | None,
) -> ConversationResults:
    report = progress or (lambda done, total: None)
    results: list[ConversationResult | None] = [None] * len(items)
    pending: list[tuple[int, list[_Row], list[dict]]] = []

    def flush() -> None:
        analyzed = analyzer.analyze_many([turns for _, _, turns in pending], causes=causes)
        for (position, rows, _), outcome in zip(pending, analyzed):
            group = items[position]
            shown = [_source(r, columns) for r in rows]
            if isinstance(outcome, InvalidConversation):
                error = _at_row(group, rows, outcome, columns)
                results[position] = ConversationResult(group.conversation_id, shown, error=error)
            else:
                results[position] = ConversationResult(group.conversation_id, shown, outcome)
        pending.clear()
        report(sum(r is not None for r in results), len(items))

    report(0, len(items))
    for position, item in enumerate(items):
        if isinstance(item, ConversationResult):
            results[position] = item
            continue
        rows, turns = _turns(item, columns)
        if isinstance(turns, str):
            shown = [_source(r, columns) for r in rows]
            results[position] = ConversationResult(item.conversation_id, shown, error=turns)
            continue
        pending.append((position, rows, turns))
        if len(pending) >= GROUP_CONVERSATIONS or sum(len(t) for _, _, t in pending) >= GROUP_TURNS:
            flush()
    flush()
    return ConversationResults(results)  # type: ignore[arg-type]
