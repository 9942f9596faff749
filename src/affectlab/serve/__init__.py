"""``affectlab serve``: an HTTP API and a web app over affectlab's models (the ``serve`` extra: FastAPI and
uvicorn). Safe by default: loopback only, a token required beyond it, limits on every request; see
docs/serve.md.

>>> from affectlab.serve import Settings, serve
>>> serve(Settings(port=8000))                       # http://127.0.0.1:8000/ until stopped
>>> from affectlab.serve import create_app           # or the ASGI app, to mount or test
>>> app = create_app(Settings())
"""

from affectlab.serve.app import create_app
from affectlab.serve.models import Models
from affectlab.serve.server import serve
from affectlab.serve.settings import TOKEN_ENV, Settings, is_loopback, read_token

__all__ = ["TOKEN_ENV", "Models", "Settings", "create_app", "is_loopback", "read_token", "serve"]
