"""Corpus analytics: score many posts with a local or Ray engine, aggregate with DuckDB, report.

>>> from affectlab.corpus import CorpusJob, LocalEngine, run_corpus, build_report
>>> manifest = run_corpus(CorpusJob(["posts.parquet"], "results", time_column="created_at"), LocalEngine())
>>> build_report("results", "report.html")
"""

from affectlab.corpus.aggregate import aggregate
from affectlab.corpus.engines import ENGINES, Engine, EngineError, LocalEngine, RayEngine
from affectlab.corpus.plan import CorpusJob, plan_job
from affectlab.corpus.report import ReportError, build_report
from affectlab.corpus.run import ResumeError, RunManifest, run_corpus

__all__ = [
    "ENGINES", "CorpusJob", "Engine", "EngineError", "LocalEngine", "RayEngine", "ReportError", "ResumeError",
    "RunManifest", "aggregate", "build_report", "plan_job", "run_corpus",
]
