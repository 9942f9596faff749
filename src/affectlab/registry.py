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
>>> resolve("./text-minilm", "text")        # a folder of one's own named like a shipped artifact
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from affectlab.errors import AffectlabError, OptionError, is_finite_number
from affectlab.files import usual_permissions, why_not_writable

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
DIRECTIONS_FILE = "directions.safetensors"
CARD_FILE = "MODEL_CARD.md"
ARTIFACT_FILES = (CONFIG_FILE, WEIGHTS_FILE, DIRECTIONS_FILE, CARD_FILE)

TASKS = {
    "text": "28 emotions, Ekman, sentiment, VAD, irony and the other readings of a text",
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


def shipped_entry(model: str | Path) -> Shipped | None:
    """The shipped artifact ``model`` names: text that is exactly a shipped name. A :class:`Path`, or text such as
    ``./text-minilm``, is the path of a folder and names none."""
    return next((s for s in SHIPPED if s.name == model), None) if isinstance(model, str) else None


class ModelNotFound(AffectlabError, FileNotFoundError):
    """No artifact by that name or path, one made for another task, or one whose config or weights are broken."""


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
        usual_permissions(temporary)  # mkstemp's file is private; a config is as readable as any file
        os.replace(temporary, folder / CONFIG_FILE)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def resolve(model: str | Path, task: str) -> Path:
    """The folder of ``model`` checked to be a ``task`` artifact with whole weights. ``model`` is a shipped name,
    which always means the shipped artifact (a folder of that name in the working folder does not replace it), or
    the path of an artifact folder: a :class:`Path`, or text that is not a shipped name (``runs/my-model``, an
    absolute path, ``./text-minilm`` for a folder named like a shipped artifact)."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; one of {', '.join(TASKS)}")
    entry = shipped_entry(model)
    folder = Path(model) if entry is None else entry.folder()
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
    with open_weights(folder / weights):
        pass  # a file cut short or not safetensors at all is refused here, not deep inside the first load
    return folder


def open_weights(path: Path):
    """A safetensors file opened for reading (numpy), as a context manager; :class:`ModelNotFound` naming it where
    it is not a whole safetensors file (cut short, or something else)."""
    from safetensors import SafetensorError, safe_open

    try:
        return safe_open(str(path), framework="numpy")
    except (OSError, SafetensorError) as exc:
        raise ModelNotFound(f"{path} is not a readable weights file ({exc})") from None


def is_number_list(value: object, count: int, low: float = -math.inf, high: float = math.inf) -> bool:
    """Whether ``value`` is a list of ``count`` finite numbers from ``low`` to ``high`` (true and false are not
    numbers)."""
    return isinstance(value, list) and len(value) == count and all(
        is_finite_number(v) and low <= v <= high for v in value)


def check_fields(path: Path, config: object, wanted: dict[str, tuple[bool, str]]) -> None:
    """Raise :class:`ModelNotFound` naming ``path`` and the first field of ``config`` that is not as ``wanted``:
    field → (whether its value will do, what it must be)."""
    for name, (fine, what) in wanted.items():
        if not fine:
            raise ModelNotFound(f"{path}: {name} must be {what}, not {getattr(config, name)!r}")


def check_output_folder(folder: Path, task: str, source: Path | None = None) -> None:
    """Raise :class:`OptionError` unless a ``task`` artifact can be written to ``folder`` (``--output``), before
    any work: a new or empty folder, or an earlier ``task`` artifact (replaced whole); never a file, the folder of
    the model it is made from (``source``), or a folder holding anything else."""
    folder = Path(folder)
    reason = why_not_writable(folder.parent)  # the artifact is written beside the folder, then renamed
    if reason:  # first: a parent that cannot be looked into would make every check below raise
        raise OptionError(f"--output {folder} cannot be made: {reason}")
    if source is not None and folder.exists() and os.path.samefile(folder, source):
        raise OptionError(f"--output {folder} is the folder of the model it is made from; write the new artifact "
                          "elsewhere")
    if folder.exists() and not folder.is_dir():
        raise OptionError(f"--output {folder} is a file; give a folder for the {task} artifact")
    if folder.is_dir():
        found = read_config(folder)["task"] if (folder / CONFIG_FILE).is_file() else task
        others = sorted(p.name for p in folder.iterdir() if p.name not in ARTIFACT_FILES)
        if found != task or others:
            held = f"a {found} artifact" if found != task else f"files of its own ({', '.join(others)})"
            raise OptionError(f"--output {folder} holds {held}, which a {task} artifact would replace; give a new "
                              "folder")


@contextmanager
def atomic_folder(folder: Path, task: str) -> Iterator[Path]:
    """A new hidden folder beside ``folder`` to write a ``task`` artifact into, which takes the place of ``folder``
    once written (an earlier artifact there, see :func:`check_output_folder`, is moved aside and removed; a link
    to a folder has its target replaced) and is removed on failure: ``folder`` is never half written. A run
    killed between the two renames leaves the earlier artifact beside it as ``.NAME.*.old``."""
    folder = Path(folder).resolve() if Path(folder).is_symlink() else Path(folder)
    check_output_folder(folder, task)
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".partial"))
    aside = partial.with_suffix(".old")  # a name nothing holds yet: a folder is renamed onto no folder
    try:
        yield partial
        usual_permissions(partial)
        if folder.exists():
            os.replace(folder, aside)
        try:
            os.replace(partial, folder)
        except BaseException:
            if aside.exists() and not folder.exists():
                os.replace(aside, folder)  # the earlier artifact back where it was
            raise
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def fingerprint(folder: Path) -> str:
    """A short hash of an artifact's weights and config: the key for anything derived from it (ONNX copies)."""
    digest = hashlib.sha256()
    for name in (WEIGHTS_FILE, CONFIG_FILE):
        digest.update((Path(folder) / name).read_bytes())
    return digest.hexdigest()[:16]
