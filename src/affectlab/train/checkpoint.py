"""Resumable training runs: a run folder's ``checkpoint/`` holds the weights, the optimizer with its
schedule, the number of steps taken, the dev history and torch's random state.

A recipe that draws its batches from one seeded generator resumes by drawing them again without
computing anything until it passes the checkpoint's step, so an interrupted run ends with the same
weights as one that was never stopped. Checkpoints are written to a side folder and swapped in by
renames: a run killed while writing one keeps the one before.

Example::

    checkpoints = Checkpoints(run_dir, every=300, recipe=recipe)
    resume_at, history = checkpoints.restore(model, optimizer)
    for step, batch in enumerate(batches, 1):
        if step > resume_at:
            optimizer.step(loss_of(batch))
            checkpoints.reached(step, model, optimizer, history)
    checkpoints.clear()
"""

from __future__ import annotations

import json
import shutil
from dataclasses import MISSING, asdict, fields
from pathlib import Path

import torch
from torch import nn

from affectlab.errors import AffectlabError
from affectlab.train.optim import Optimizer

# how a run is executed, not what it learns: a checkpoint made with other values still resumes
_NOT_COMPARED = ("threads", "out_dir")


class CheckpointMismatch(AffectlabError, ValueError):
    """The run folder holds a checkpoint of another recipe."""


def _comparable(values: dict) -> dict:
    plain = {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in plain.items() if k not in _NOT_COMPARED}


def _defaults(recipe) -> dict:
    """The recipe class's default of each field: what a checkpoint written before a field existed ran with."""
    return _comparable({f.name: f.default for f in fields(recipe) if f.default is not MISSING})


class Checkpoints:
    """Save every ``every`` steps (and whenever :meth:`save` is called) into ``run_dir/checkpoint``."""

    def __init__(self, run_dir: Path, every: int, recipe) -> None:
        self.folder = Path(run_dir) / "checkpoint"
        self.every = every
        self.recipe = _comparable(asdict(recipe))
        self.defaults = _defaults(recipe)

    def _current(self) -> Path | None:
        # a run killed between the two renames of `save` leaves only the previous checkpoint, as `.old`
        for folder in (self.folder, self.folder.with_name("checkpoint.old")):
            if (folder / "state.json").exists():
                return folder
        return None

    def restore(self, model: nn.Module, optimizer: Optimizer) -> tuple[int, list[dict]]:
        """Load the last checkpoint into ``model`` and ``optimizer``; returns (steps taken, dev history),
        ``(0, [])`` when there is none."""
        folder = self._current()
        if folder is None:
            return 0, []
        state = json.loads((folder / "state.json").read_text())
        saved = {**self.defaults, **state["recipe"]}
        if saved != self.recipe:
            changed = sorted(k for k in set(saved) | set(self.recipe) if saved.get(k) != self.recipe.get(k))
            raise CheckpointMismatch(
                f"{folder} is a checkpoint of another recipe (it differs in {', '.join(changed)}): "
                f"run with the same options to resume it, or delete {folder} to start over"
            )
        model.load_state_dict(torch.load(folder / "model.pt", weights_only=True))
        optimizer.load_state_dict(torch.load(folder / "optimizer.pt", weights_only=True))
        torch.set_rng_state(torch.load(folder / "rng.pt", weights_only=True))
        return state["step"], state["history"]

    def reached(self, step: int, model: nn.Module, optimizer: Optimizer, history: list[dict]) -> None:
        if step % self.every == 0:
            self.save(step, model, optimizer, history)

    def save(self, step: int, model: nn.Module, optimizer: Optimizer, history: list[dict]) -> None:
        partial = self.folder.with_name("checkpoint.partial")
        old = self.folder.with_name("checkpoint.old")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        torch.save(model.state_dict(), partial / "model.pt")
        torch.save(optimizer.state_dict(), partial / "optimizer.pt")
        torch.save(torch.get_rng_state(), partial / "rng.pt")
        (partial / "state.json").write_text(json.dumps({"step": step, "history": history, "recipe": self.recipe}))
        shutil.rmtree(old, ignore_errors=True)
        if self.folder.exists():
            self.folder.rename(old)
        partial.rename(self.folder)
        shutil.rmtree(old, ignore_errors=True)

    def clear(self) -> None:
        """Remove the checkpoints once the run has finished (they are the size of a model and its optimizer)."""
        for name in ("checkpoint", "checkpoint.old", "checkpoint.partial"):
            shutil.rmtree(self.folder.with_name(name), ignore_errors=True)
