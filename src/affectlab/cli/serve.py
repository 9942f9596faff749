"""``affectlab serve``: the HTTP API and the web app (the ``serve`` extra), and ``bench serve``, its load test."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from affectlab.cli._util import (
    REPORTS,
    DataDirOpt,
    ModelOpt,
    ReportsDirOpt,
    RuntimeOpt,
    ThreadsOpt,
    app,
    bench_app,
    err,
    out,
    positive_ints,
    save_report,
    user_errors,
)
from affectlab.datasets import DEFAULT_DATA_DIR
from affectlab.errors import OptionError
from affectlab.text import DEFAULT_MODEL, DEFAULT_RUNTIME


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on. Beyond loopback it needs a token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free one).")] = 8000,
    token_file: Annotated[Path | None, typer.Option(
        help="A file whose first line is the bearer token every /v1/ request must carry (or the "
             "AFFECTLAB_SERVE_TOKEN environment variable).")] = None,
    cors_origin: Annotated[list[str] | None, typer.Option(
        help="A web origin allowed to call the API from a browser, e.g. https://app.example.org (repeatable; "
             "default: none).")] = None,
    allowed_host: Annotated[list[str] | None, typer.Option(
        help="A Host name clients may use (repeatable; default: loopback names on loopback, any beyond).")] = None,
    max_body_bytes: Annotated[int, typer.Option(help="Largest request body (413 beyond).")] = 1_048_576,
    max_batch: Annotated[int, typer.Option(help="Most texts in one /v1/analyze request (413 beyond).")] = 64,
    max_turns: Annotated[int, typer.Option(help="Most turns in one conversation (413 beyond).")] = 200,
    queue_size: Annotated[int, typer.Option(help="Requests that may wait for the models (429 beyond).")] = 64,
    timeout: Annotated[float, typer.Option(help="Seconds a request may take, waiting included (504 beyond).")]
    = 30.0,
    workers: Annotated[int, typer.Option(help="Threads that run the models.")] = 2,
    batch_wait_ms: Annotated[float, typer.Option(
        help="How long the first /v1/analyze request of a micro-batch waits for others.")] = 5.0,
    model_batch: Annotated[int, typer.Option(
        help="Most texts per pass of the text network within a micro-batch (sorted by length, cut where padding "
             "would cost more than another pass).")] = 16,
    jobs_dir: Annotated[Path | None, typer.Option(
        help="Folder of the corpus jobs (uploads, results, reports); jobs left unfinished there resume at start "
             "(default: jobs/ in affectlab's cache folder).")] = None,
    max_upload_bytes: Annotated[int, typer.Option(help="Largest corpus upload (413 beyond).")] = 64 * 1_048_576,
    keep_jobs_hours: Annotated[float, typer.Option(
        help="Hours a finished corpus job (its upload, results, report) is kept before it is removed (0: until "
             "deleted with DELETE /v1/corpus/{id}).")] = 168.0,
    max_jobs: Annotated[int, typer.Option(help="Most corpus jobs kept at once (new uploads get 507 beyond).")] = 100,
    max_jobs_bytes: Annotated[int, typer.Option(
        help="Most bytes the corpus jobs may take on disk (new uploads get 507 beyond).")] = 10 * 1024**3,
    responder: Annotated[bool, typer.Option(
        help="Serve /v1/respond (its language model loads on the first request; needs the llm extra).")] = True,
    model: ModelOpt = DEFAULT_MODEL, runtime: RuntimeOpt = DEFAULT_RUNTIME,
    threads: Annotated[int | None, typer.Option(
        help="CPU threads of each model call (default: all cores; the text model's micro-batches, which run "
             "--workers at once, share them).")] = None,
) -> None:
    """The HTTP API (/v1/analyze, /v1/conversation, /v1/causes, /v1/respond, /v1/corpus) and a web app at /, on
    127.0.0.1."""
    from affectlab.extras import require

    with user_errors():
        require("fastapi", "serve")
        require("uvicorn", "serve")
        from affectlab.serve import Settings, is_loopback, read_token
        from affectlab.serve import serve as run_server

        if not 0 <= keep_jobs_hours <= 87_600:
            raise OptionError(f"--keep-jobs-hours must be between 0 (keep until deleted) and 87,600 (10 years), not "
                              f"{keep_jobs_hours:g}")
        settings = Settings(
            host=host, port=port, token=read_token(token_file), cors_origins=tuple(cors_origin or ()),
            allowed_hosts=tuple(allowed_host) if allowed_host else None, max_body_bytes=max_body_bytes,
            max_batch=max_batch, max_turns=max_turns, queue_size=queue_size, request_timeout_s=timeout,
            workers=workers, batch_wait_s=batch_wait_ms / 1000, model_batch=model_batch, responder=responder,
            text_model=model, runtime=runtime, threads=threads, max_upload_bytes=max_upload_bytes, max_jobs=max_jobs,
            max_jobs_bytes=max_jobs_bytes, keep_jobs_s=keep_jobs_hours * 3600 if keep_jobs_hours else None,
            **({"jobs_dir": jobs_dir} if jobs_dir is not None else {}),
        ).check()
        if not is_loopback(host):
            err.print(f"[yellow]warning:[/yellow] listening on {host}, beyond this machine: every /v1/ request "
                      "needs the token; put TLS in front (a reverse proxy) before it crosses a network")
        err.print("loading the models…")
        run_server(settings, on_ready=lambda url: err.print(f"serving {url} (Ctrl+C to stop)", highlight=False))


@bench_app.command("serve")
def bench_serve_command(
    ctx: typer.Context,
    requests: Annotated[int, typer.Option(help="Most requests per concurrency.")] = 2000,
    seconds: Annotated[float, typer.Option(help="Most seconds per concurrency.")] = 60.0,
    concurrency: Annotated[str, typer.Option(help="Concurrent clients, comma-separated.")] = "1,8,32",
    threads: ThreadsOpt = None,
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    reports_dir: ReportsDirOpt = REPORTS,
    name: Annotated[str, typer.Option(help="Report name: reports/<name>.json.")] = "bench-serve",
) -> None:
    """Requests/s and p50/p99 latency of /v1/analyze (one text per request) at each concurrency, on 127.0.0.1,
    beside the offline texts/s of the same texts in the same run."""
    from affectlab.extras import require

    levels = positive_ints(concurrency, "--concurrency", "1,8,32")
    with user_errors():
        require("fastapi", "serve")
        require("uvicorn", "serve")
        from affectlab.evaluate.bench_serve import bench_serve

        with err.status("benchmarking") as status:
            report = bench_serve(data_dir, requests=requests, seconds=seconds,
                                 concurrencies=levels, threads=threads,
                                 on_step=lambda s: status.update(f"benchmarking: {s}"))
    offline = report["offline"]["texts_per_second"]
    table = Table(title=f"/v1/analyze, one text per request; offline {offline:.0f} texts/s (median of passes), "
                        f"{report['offline']['cpu_ms_per_text']:.2f} CPU ms/text ({report['threads']} threads)",
                  title_justify="left")
    for column in ("concurrency", "requests", "errors", "requests/s", "× offline", "p50 ms", "p99 ms",
                   "CPU ms/req: server", "load generator"):
        table.add_column(column)
    for level in report["levels"]:
        cpu = level["cpu_ms_per_request"]
        table.add_row(str(level["concurrency"]), str(level["requests"]), str(level["errors"]),
                      f"{level['requests_per_second']:.0f}", f"{level['ratio_to_offline']:.2f}",
                      str(level["p50_ms"]), str(level["p99_ms"]), f"{cpu['server']:.2f}",
                      f"{cpu['load_generator']:.2f}")
    out.print(table)
    save_report(ctx, name, report, reports_dir)
