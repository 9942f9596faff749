"""The FastAPI app of ``affectlab serve``, built from a :class:`~affectlab.serve.settings.Settings`.

Requests pass, outermost first: CORS (only with ``cors_origins``), the security headers, the Host and token
check, the cancelling of model work whose client has left, the body limit, then the routes. The web app is the
static folder beside this file, served at ``/``. Swagger UI is off: it loads its scripts from a CDN, and the
service runs offline (``/openapi.json`` is there).

>>> app = create_app(Settings(token="a-long-random-token"))   # models load when the app starts
>>> uvicorn.run(app, host="127.0.0.1", port=8000)            # or: affectlab serve
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from affectlab.serve import errors
from affectlab.serve.auth import Access
from affectlab.serve.corpus_routes import corpus
from affectlab.serve.disconnect import CancelOnDisconnect
from affectlab.serve.headers import SecurityHeaders
from affectlab.serve.limits import BodyLimit
from affectlab.serve.models import Models
from affectlab.serve.routes import api, public
from affectlab.serve.service import Service
from affectlab.serve.settings import Settings
from affectlab.version import __version__

STATIC = Path(__file__).resolve().parent / "static"
MODEL_PATHS = ("/v1/analyze", "/v1/conversation", "/v1/causes", "/v1/respond")  # dropped when their client leaves


def create_app(settings: Settings, models: Models | None = None, on_ready: Callable[[], None] | None = None) -> FastAPI:
    """The app; ``models`` (default: :meth:`Models.load` when the app starts) and ``on_ready`` (called once they
    have loaded and the server takes requests) are for embedding and tests."""
    settings.check()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service = Service(settings, models or Models.load(settings))
        service.start()
        app.state.service = service
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            await service.stop()

    # redirect_slashes off: `/v1/analyze/` is a JSON 404, not a redirect that drops a POST's body in some clients
    app = FastAPI(title="affectlab", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  redirect_slashes=False,
                  description="Emotion analysis of texts and conversations, and empathetic replies, offline.")
    errors.install(app)
    app.include_router(api)
    app.include_router(corpus)
    app.include_router(public)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def web_app() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/favicon.ico", include_in_schema=False)
    async def no_icon() -> Response:
        return Response(status_code=204)  # browsers ask for one; a 404 would be logged as an error in the page

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes,
                       streamed={"/v1/corpus": settings.max_upload_bytes})
    app.add_middleware(CancelOnDisconnect, paths=MODEL_PATHS)
    app.add_middleware(Access, token=settings.token, hosts=settings.hosts)
    app.add_middleware(SecurityHeaders)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST", "DELETE"], allow_headers=["Authorization", "Content-Type"])
    return app
