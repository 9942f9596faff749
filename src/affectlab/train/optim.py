"""What every recipe shares: seeding, length-bucketed batches, AdamW with linear warm-up and decay, and
provenance."""

from __future__ import annotations

import platform
import random
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from torch import nn


def seed_everything(seed: int, threads: int) -> random.Random:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    return random.Random(seed)


def bucketed_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffle, sort within pools of 50 batches by length, cut into batches, shuffle the batches."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = batch_size * 50
    batches = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lengths.__getitem__)
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


class Optimizer:
    """AdamW over the trainable encoder weights (``lr_encoder``) and everything else (``lr_head``), a
    linear warm-up over the first ``warmup`` share of ``total`` steps then linear decay, clipped gradients."""

    def __init__(self, model: nn.Module, lr_encoder: float, lr_head: float, weight_decay: float,
                 total: int, warmup: float) -> None:
        encoder = [p for n, p in model.named_parameters() if n.startswith("encoder.") and p.requires_grad]
        heads = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
        self.params = encoder + heads
        self.optimizer = torch.optim.AdamW(
            [{"params": encoder, "lr": lr_encoder}, {"params": heads, "lr": lr_head}], weight_decay=weight_decay
        )
        warm = max(1, int(total * warmup))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
        )

    def step(self, loss: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.optimizer.step()
        self.scheduler.step()

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])


def provenance(recipe, epochs_done: int, dev_history: list[dict], kept_epoch: int | None = None) -> dict:
    """What an artifact's ``config.json`` records about how it was made (``kept_epoch``: for recipes
    that keep their best dev epoch, the one whose weights it holds)."""
    return {
        "recipe": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(recipe).items()},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
        "epochs_done": epochs_done,
        "dev_history": dev_history,
        **({} if kept_epoch is None else {"kept_epoch": kept_epoch}),
    }
