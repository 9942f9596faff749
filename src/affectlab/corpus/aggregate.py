"""Aggregates over the scored parts, computed by DuckDB: shares, VAD means, PMI terms, examples.

Every table is written to ``results/aggregates/<name>.parquet``. Rows are counted once in their own
group and once in ``(all)``; posts without a group fall in ``(none)``. Shares carry Wilson 95%
intervals, VAD means normal-approximation 95% intervals. Only rows with status ``ok`` count; time
tables leave out rows without a usable time.

>>> tables = aggregate("results/", bucket="week")
>>> tables["shares_over_time"]      # path of the Parquet file
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from affectlab.corpus.plan import SCORES_DIR
from affectlab.errors import AffectlabError, OptionError
from affectlab.extras import require
from affectlab.io.writers import atomic_target
from affectlab.taxonomy import EKMAN, VAD

if TYPE_CHECKING:
    import duckdb

BUCKETS = ("day", "week", "month", "quarter", "year")
# English words that carry grammar, not content: in a small or one-sided corpus one of them can lean towards an
# emotion by chance and top its terms. Negations (no, not, never, nothing) stay: they change what a post says.
FUNCTION_WORDS = (
    "a", "an", "the", "and", "or", "but", "if", "so", "than", "then", "as", "of", "to", "in", "on", "at", "by",
    "for", "from", "with", "about", "into", "over", "after", "before", "up", "down", "out", "off", "i", "me", "my",
    "mine", "myself", "you", "your", "yours", "he", "him", "his", "she", "her", "hers", "it", "its", "we", "us",
    "our", "they", "them", "their", "this", "that", "these", "those", "who", "whom", "whose", "which", "what",
    "is", "am", "are", "was", "were", "be", "been", "being", "do", "does", "did", "have", "has", "had", "will",
    "would", "shall", "should", "can", "could", "may", "might", "must", "i'm", "it's", "that's", "there", "here",
    "just", "also", "too", "very", "all", "any", "some", "each", "such", "own", "same", "other", "only",
)
EXAMPLE_LENGTH = (20, 300)  # characters of a representative post: long enough to say something, short enough to read
AGGREGATES_DIR = "aggregates"
ALL = "(all)"
SHRINK = 10  # pseudo-posts added to each term's count when ranking terms (see _top_terms)
_Z = 1.959964

_MACROS = f"""
CREATE MACRO wilson_low(k, n) AS
    (k / n + {_Z**2 / 2} / n - {_Z} * sqrt(k / n * (1 - k / n) / n + {_Z**2 / 4} / (n * n))) / (1 + {_Z**2} / n);
CREATE MACRO wilson_high(k, n) AS
    (k / n + {_Z**2 / 2} / n + {_Z} * sqrt(k / n * (1 - k / n) / n + {_Z**2 / 4} / (n * n))) / (1 + {_Z**2} / n);
"""


class ReportError(AffectlabError, ValueError):
    """The results folder is not a finished corpus run."""


def sql_path(path: Path | str) -> str:
    """``path`` as a DuckDB string literal, quotes included."""
    return "'" + str(path).replace("'", "''") + "'"


def literal_glob(path: Path | str) -> str:
    """``path`` with DuckDB's glob characters bracketed, so a file reader matches exactly this name.

    DuckDB expands ``*``, ``?`` and ``[`` in every path it reads, even in a list of paths, so a folder
    named ``res?`` would also read ``res1/``.

    >>> literal_glob("runs/res?[1]/part.parquet")
    'runs/res[?][[]1]/part.parquet'
    """
    return "".join(f"[{c}]" if c in "*?[" else c for c in str(path))


def scores_glob(output: Path) -> str:
    """The SQL literal matching every part file of a results folder (the folder's own name taken literally)."""
    return sql_path(literal_glob(Path(output) / SCORES_DIR) + "/*/*.parquet")


def scores_files(output: Path) -> list[Path]:
    """Every part file of a results folder, in chunk order."""
    return sorted((Path(output) / SCORES_DIR).glob("file=*/part-*.parquet"))


@contextmanager
def interrupts_kept() -> Iterator[None]:
    """Let Ctrl-C or SIGTERM during a query stop the run as an interruption, not a failure.

    A signal handler's exception raised while DuckDB runs a query is dropped by DuckDB, which raises
    ``RuntimeError("Query interrupted")`` instead; that becomes a :class:`KeyboardInterrupt` again.
    """
    try:
        yield
    except RuntimeError as exc:
        if str(exc) == "Query interrupted":
            raise KeyboardInterrupt from exc
        raise


def scores_view(output: Path, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a view ``scores`` over every part file of ``output``, listed one by one."""
    files = scores_files(output)
    if not files:
        raise ReportError(f"{output}: no scored parts in {SCORES_DIR}/; run `affectlab corpus run` again")
    con = require("duckdb", "corpus").connect()
    con.execute("SET memory_limit = '2GB'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    listed = ", ".join(sql_path(literal_glob(f)) for f in files)
    con.execute(f"CREATE VIEW scores AS SELECT * FROM read_parquet([{listed}], hive_partitioning = false)")
    return con


def check_bucket(bucket: str) -> None:
    if bucket not in BUCKETS:
        raise OptionError(f"bucket must be one of {', '.join(BUCKETS)}, not {bucket!r}")


def aggregate(
    output: Path, *, bucket: str = "month", min_count: int = 5, terms: int = 15, examples: int = 5
) -> dict[str, Path]:
    """Compute every aggregate table of a scored corpus; returns name → Parquet path."""
    check_bucket(bucket)
    con = scores_view(output)
    try:
        with interrupts_kept():
            return _write_tables(con, Path(output), bucket, min_count, terms, examples)
    finally:
        con.close()


def _write_tables(con, output: Path, bucket: str, min_count: int, terms: int, examples: int) -> dict[str, Path]:
    con.execute(_MACROS)
    con.execute(
        f"""CREATE TEMP TABLE ok AS
            SELECT "row", source, text, date_trunc('{bucket}', time) AS bucket, ekman_top, labels,
                   unnest([coalesce("group", '(none)'), '{ALL}']) AS "group",
                   {", ".join(f"ekman_{e}" for e in EKMAN)}, {", ".join(VAD)}
            FROM scores WHERE status = 'ok'"""
    )
    queries = {
        "shares_over_time": _shares("bucket, \"group\"", "ekman_top", "WHERE bucket IS NOT NULL"),
        "shares_by_group": _shares("\"group\"", "ekman_top", ""),
        "labels_by_group": _label_shares(),
        "vad_over_time": _vad("bucket, \"group\"", "WHERE bucket IS NOT NULL"),
        "vad_by_group": _vad("\"group\"", ""),
        "top_terms": _top_terms(min_count, terms),
        "examples": _examples(examples),
    }
    written = {}
    for name, query in queries.items():
        target = output / AGGREGATES_DIR / f"{name}.parquet"
        with atomic_target(target) as tmp:
            con.execute(f"COPY ({query}) TO {sql_path(tmp)} (FORMAT parquet)")
        written[name] = target
    return written


def _emotions_sql() -> str:
    return "[" + ", ".join(f"'{e}'" for e in EKMAN) + "]"


def _shares(keys: str, column: str, where: str) -> str:
    """Share of posts whose dominant Ekman emotion is each emotion, for every key combination."""
    return f"""
        WITH totals AS (SELECT {keys}, count(*) AS n FROM ok {where} GROUP BY ALL),
             counts AS (SELECT {keys}, {column} AS emotion, count(*) AS k FROM ok {where} GROUP BY ALL)
        SELECT {", ".join(f"t.{k.strip()}" for k in keys.split(","))}, e.emotion, t.n, coalesce(c.k, 0) AS k,
               coalesce(c.k, 0) / t.n AS share,
               wilson_low(coalesce(c.k, 0), t.n) AS ci_low, wilson_high(coalesce(c.k, 0), t.n) AS ci_high
        FROM totals t CROSS JOIN (SELECT unnest({_emotions_sql()}) AS emotion) e
        LEFT JOIN counts c USING ({keys}, emotion)
        ORDER BY ALL"""


def _label_shares() -> str:
    """Share of posts carrying each GoEmotions label (several labels per post are possible)."""
    return """
        WITH totals AS (SELECT "group", count(*) AS n FROM ok GROUP BY ALL),
             counts AS (SELECT "group", label, count(*) AS k
                        FROM (SELECT "group", unnest(labels) AS label FROM ok) GROUP BY ALL)
        SELECT c."group", c.label, t.n, c.k, c.k / t.n AS share,
               wilson_low(c.k, t.n) AS ci_low, wilson_high(c.k, t.n) AS ci_high
        FROM counts c JOIN totals t USING ("group") ORDER BY c."group", share DESC"""


def _vad(keys: str, where: str) -> str:
    parts = []
    for dimension in VAD:
        half_width = f"{_Z} * coalesce(stddev_samp({dimension}), 0) / sqrt(count({dimension}))"
        parts.append(
            f"""SELECT {keys}, '{dimension}' AS dimension, count({dimension}) AS n, avg({dimension}) AS mean,
                       avg({dimension}) - {half_width} AS ci_low,
                       avg({dimension}) + {half_width} AS ci_high
                FROM ok {where} GROUP BY ALL"""
        )
    return " UNION ALL ".join(parts) + " ORDER BY ALL"


def _top_terms(min_count: int, k: int) -> str:
    """Terms most associated with each dominant emotion: PMI = log2 p(term | emotion) / p(term).

    Counted once per post, over the whole corpus (the ``(all)`` copy of each row). Raw PMI tops out
    at log2 1/p(emotion) for every term seen only with that emotion, however rare, so terms are
    ranked by a shrunk PMI that counts ``SHRINK`` extra posts of the term outside the emotion
    (``pmi_shrunk``; a term in 5 posts loses 1.6 bits, one in 100 posts 0.1). Terms in fewer than
    ``min_count`` posts of the emotion are left out, and so are terms no more frequent with the
    emotion than without it (PMI <= 0) and :data:`FUNCTION_WORDS`.
    """
    return f"""
        WITH posts AS (SELECT ekman_top AS emotion,
                              list_distinct(regexp_extract_all(lower(text), '\\p{{L}}[\\p{{L}}''’]+')) AS words
                       FROM ok WHERE "group" = '{ALL}' AND ekman_top <> 'neutral'),
             pairs AS (SELECT emotion, term FROM (SELECT emotion, unnest(words) AS term FROM posts)
                       WHERE term NOT IN ({_sql_strings(FUNCTION_WORDS)})),
             joint AS (SELECT emotion, term, count(*) AS c FROM pairs GROUP BY ALL),
             per_term AS (SELECT term, sum(c) AS tc FROM joint GROUP BY term),
             per_emotion AS (SELECT emotion, count(*) AS ec FROM posts GROUP BY emotion),
             total AS (SELECT count(*) AS n FROM posts),
             scored AS (SELECT j.emotion, j.term, j.c AS posts, log2(j.c * total.n / (e.ec * t.tc)) AS pmi,
                               log2(j.c * total.n / (e.ec * (t.tc + {SHRINK}))) AS pmi_shrunk
                        FROM joint j JOIN per_term t USING (term) JOIN per_emotion e USING (emotion), total
                        WHERE j.c >= {int(min_count)})
        SELECT emotion, row_number() OVER (PARTITION BY emotion ORDER BY pmi_shrunk DESC, posts DESC, term) AS rank,
               term, posts, pmi, pmi_shrunk
        FROM scored WHERE pmi > 0 QUALIFY rank <= {int(k)} ORDER BY emotion, rank"""


def _sql_strings(words: tuple[str, ...]) -> str:
    return ", ".join("'" + word.replace("'", "''") + "'" for word in words)


def _examples(k: int) -> str:
    """The posts each dominant emotion is most sure of, one per distinct text, of readable length
    (:data:`EXAMPLE_LENGTH` characters)."""
    cases = " ".join(f"WHEN '{e}' THEN ekman_{e}" for e in EKMAN)
    return f"""
        WITH candidates AS (
            SELECT ekman_top AS emotion, source, "row", text, CASE ekman_top {cases} END AS score
            FROM ok WHERE "group" = '{ALL}' AND length(text) BETWEEN {EXAMPLE_LENGTH[0]} AND {EXAMPLE_LENGTH[1]}),
        distinct_texts AS (
            SELECT * FROM candidates QUALIFY row_number() OVER (PARTITION BY emotion, text ORDER BY source, "row") = 1)
        SELECT emotion, row_number() OVER (PARTITION BY emotion ORDER BY score DESC, source, "row") AS rank,
               source, "row", text, score
        FROM distinct_texts QUALIFY rank <= {int(k)} ORDER BY emotion, rank"""
