"""The ``affectlab`` command line, a thin layer over the library.

``_util`` holds the app, the ``train``/``eval``/``bench`` groups and what commands share (``_llm``: the options
that choose a language model); each capability module registers its commands on them and imports nothing else
from this package.
"""

# in the order --help lists them
from affectlab.cli import text, readings, labels, conversation, empathy, internals, prompting  # noqa: F401, I001
from affectlab.cli import corpus, memory, models, serve  # noqa: F401, I001
from affectlab.cli._util import app

__all__ = ["app", "main"]


def main() -> None:
    app()
