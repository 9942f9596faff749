"""Every shipped artifact by name and task, and the one config format they all share.

An artifact is a folder: ``config.json`` (``name``, ``task``, the labels or directions it covers, tuned
decision values and ``trained``: the recipe, date, machine and dev figures that made it), the weights
(``weights.safetensors``, or ``directions.safetensors`` for steering directions) and ``MODEL_CARD.md``.
Shipped artifacts live in the package's ``artifacts/`` folder, or, where the wheel has no room left under
PyPI's 100 MB limit, in a package of their own (as spaCy ships its pipelines) that an extra installs; a
user's own (the output of a ``train`` recipe) can live anywhere and be passed by path wherever a shipped name
is taken.

>>> from affectlab.registry import resolve, shipped
>>> [a.name for a in shipped()]
>>> resolve("text-minilm", "text")          # the folder of the shipped text model
>>> resolve("runs/my-model", "text")        # or a folder of one's own, checked to be a text model
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from affectlab.errors import AffectlabError

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
DIRECTIONS_FILE = "directions.safetensors"
CARD_FILE = "MODEL_CARD.md"

TASKS = {
    "text": "28 emotions, Ekman, sentiment, VAD of a text",
    "text-static": "28 emotions, Ekman, sentiment, VAD of a text from static token vectors (the fast profile)",
    "turn-emotions": "Ekman-7 emotion of each turn of a conversation, in context",
    "causes": "the turns and spans that cause a turn's emotion",
    "speaker-emotion": "the speaker's emotion (32 EmpatheticDialogues labels) from the conversation",
    "next-strategy": "the supporter's next strategy (8 ESConv labels)",
    "steering-directions": "emotion steering directions for a language model's residual stream",
    "responder": "a LoRA adapter that teaches the local language model to reply as an empathetic listener",
}
# Tasks of artifacts that only users make (none is shipped): written and read like the others.
USER_TASKS = {
    "text-labels": "a user's own labels of a text, from a head trained with `affectlab train head`",
}


@dataclass(frozen=True)
class Shipped:
    name: str
    task: str
    licence: str  # of the data it was trained on; the base encoder is Apache-2.0 throughout
    weights: str = WEIGHTS_FILE
    package: str | None = None  # the distribution that carries it, where that is not affectlab itself
    extra: str | None = None  # the affectlab extra that installs that distribution

    @property
    def module(self) -> str | None:
        return self.package.replace("-", "_") if self.package else None

    def folder(self) -> Path | None:
        """Where its files are; None for an artifact whose package is not installed."""
        if self.package is None:
            return ARTIFACTS_DIR / self.name
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            return None
        return Path(next(iter(spec.submodule_search_locations))) / self.name


SHIPPED = (
    Shipped("text-minilm", "text", "non-commercial: Apache-2.0 (GoEmotions), CC BY-SA 4.0 (EmoBank), and through its "
            "teacher's ratings CC BY-NC-SA 4.0 (DailyDialog, irony tweets), CC BY-NC 4.0 (EmpatheticDialogues, "
            "ESConv), MELD (research use); its intensity, empathy, distress and irony outputs: research use "
            "(EmoInt, WASSA-22)"),
    Shipped("text-static-minilm", "text-static", "Apache-2.0 (GoEmotions), CC BY-SA 4.0 (EmoBank)",
            package="affectlab-text-static-minilm", extra="fast"),
    Shipped("dialogue-turns-minilm", "turn-emotions",
            "CC BY-NC-SA 4.0 (DailyDialog); also trained on MELD (GPL-3.0, research use), EmpatheticDialogues "
            "(CC BY-NC 4.0) and GoEmotions (Apache-2.0)"),
    Shipped("dialogue-causes-minilm", "causes", "CC BY-NC-SA 4.0 (DailyDialog, RECCON)"),
    Shipped("empathy-emotions-minilm", "speaker-emotion", "CC BY-NC 4.0 (EmpatheticDialogues)"),
    Shipped("support-strategies-minilm", "next-strategy", "CC BY-NC 4.0 (ESConv)"),
    Shipped("gemma3-270m-goemotions-directions", "steering-directions", "Apache-2.0 (GoEmotions)", DIRECTIONS_FILE),
    Shipped("responder-gemma3-270m", "responder", "CC BY-NC 4.0 (EmpatheticDialogues, ESConv)",
            package="affectlab-responder-gemma3-270m", extra="llm"),
)
DEFAULTS = {s.task: s.name for s in SHIPPED}  # every task has exactly one shipped artifact


class ModelNotFound(AffectlabError, FileNotFoundError):
    """No artifact by that name or path, or one made for another task."""


@dataclass(frozen=True)
class ArtifactInfo:
    """What ``affectlab models`` lists: a shipped artifact and where its files are."""

    name: str
    task: str
    summary: str
    licence: str
    folder: Path
    size_bytes: int
    card: Path

    def to_dict(self) -> dict:
        return {"name": self.name, "task": self.task, "summary": self.summary, "licence": self.licence,
                "folder": str(self.folder), "size_bytes": self.size_bytes, "card": str(self.card)}


def shipped() -> list[ArtifactInfo]:
    """The shipped artifacts that are installed, in the order of :data:`SHIPPED`."""
    found = []
    for entry in SHIPPED:
        folder = entry.folder()
        if folder is None:
            continue
        size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
        found.append(ArtifactInfo(entry.name, entry.task, TASKS[entry.task], entry.licence, folder, size,
                                  folder / CARD_FILE))
    return found


def read_config(folder: Path) -> dict:
    """An artifact's ``config.json``; a config without ``task`` is a text model (the first format)."""
    path = Path(folder) / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelNotFound(f"{path} is not a readable artifact config ({exc})") from None
    if not isinstance(config, dict):
        raise ModelNotFound(f"{path} is not an artifact config (a JSON object)")
    config.setdefault("task", "text")
    return config


def write_config(folder: Path, config: dict) -> None:
    """Write ``config.json`` atomically (a half-written config would make the artifact unreadable)."""
    if config.get("task") not in TASKS and config.get("task") not in USER_TASKS:
        raise ValueError(f"config task must be one of {', '.join([*TASKS, *USER_TASKS])}, "
                         f"not {config.get('task')!r}")
    folder = Path(folder)
    text = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{CONFIG_FILE}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp's file is private; a config is as readable as any file
        os.replace(temporary, folder / CONFIG_FILE)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def resolve(model: str | Path, task: str) -> Path:
    """The folder of ``model`` — a shipped name or a path to an artifact folder — checked to be a ``task`` artifact
    with its weights."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; one of {', '.join(TASKS)}")
    folder = Path(model)
    entry = next((s for s in SHIPPED if s.name == str(model)), None)
    if not (folder / CONFIG_FILE).exists():
        folder = ARTIFACTS_DIR / str(model) if entry is None else entry.folder()
        if folder is None:
            raise ModelNotFound(f"{entry.name} comes in the package {entry.package}, which is not installed: "
                                f"pip install 'affectlab[{entry.extra}]'")
    names = ", ".join(s.name for s in SHIPPED if s.task == task)
    if not (folder / CONFIG_FILE).exists():
        raise ModelNotFound(f"no {task} model {str(model)!r}; shipped: {names}")
    found = read_config(folder)["task"]
    if found != task:
        raise ModelNotFound(f"{str(model)!r} is a {found} artifact, not a {task} one; shipped: {names}")
    weights = next((s.weights for s in SHIPPED if s.task == task), WEIGHTS_FILE)
    if not (folder / weights).exists():
        raise ModelNotFound(f"{folder} has no {weights}")
    return folder


def fingerprint(folder: Path) -> str:
    """A short hash of an artifact's weights and config: the key for anything derived from it (ONNX copies)."""
    digest = hashlib.sha256()
    for name in (WEIGHTS_FILE, CONFIG_FILE):
        digest.update((Path(folder) / name).read_bytes())
    return digest.hexdigest()[:16]
