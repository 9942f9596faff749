"""``affectlab train responder``: a LoRA adapter that teaches the packaged base LM to reply like a listener.

Data: EmpatheticDialogues listener turns and ESConv supporter turns (train splits), each behind the prompt
the responder builds, with hints drawn at random (:mod:`.responder_data`). Dev (both valid splits, a fixed
draw) gives the loss that picks the kept adapter. LoRA (Hu et al. 2022) on every attention and MLP
projection. The loss covers the reply's tokens only, and the output layer runs only at those positions: with
Gemma's 262k-word vocabulary it costs as much as the whole decoder body.

Long runs checkpoint every ``checkpoint_every`` steps into ``run_dir``; calling again with the same recipe
resumes where the last checkpoint left off. Test splits are never read here.

>>> summary = train_responder(ResponderRecipe(), Path("runs/responder"))
>>> summary["best_dev_loss"]
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from affectlab.datasets import DEFAULT_DATA_DIR, ReplyExample, load_listener_replies
from affectlab.dialogue.context_classifier import load_emotion_model
from affectlab.errors import AffectlabError
from affectlab.extras import require
from affectlab.io import atomic_write_text
from affectlab.llm.adapter import ADAPTER_TASK
from affectlab.llm.local import DEFAULT_LLM, LocalLM
from affectlab.registry import WEIGHTS_FILE, write_config
from affectlab.train.optim import bucketed_batches, seed_everything
from affectlab.train.responder_data import HintShares, prompted_reply, sample_replies

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
EXAMPLES_FILE = "examples.jsonl"


@dataclass(frozen=True)
class ResponderRecipe:
    data_dir: str = str(DEFAULT_DATA_DIR)
    ed_examples: int = 2400
    esconv_examples: int = 1200
    dev_examples: int = 300  # half from each dataset's valid split
    per_dialogue: int = 2  # at most this many replies of one conversation
    hint_emotion: float = 0.5
    hint_causes: float = 0.6
    hint_strategy: float = 0.5
    max_prompt_tokens: int = 192
    max_reply_tokens: int = 48
    rank: int = 16
    alpha: int = 32
    lora_dropout: float = 0.05
    lr: float = 2e-4
    weight_decay: float = 0.0
    batch_size: int = 8
    epochs: int = 1
    warmup: float = 0.05
    eval_every: int = 50
    checkpoint_every: int = 25
    seed: int = 13
    threads: int = 2


class ResumeMismatch(AffectlabError, ValueError):
    """The run folder holds a run of another recipe."""


def planned_examples(recipe: ResponderRecipe) -> dict[str, list[ReplyExample]]:
    """The train and dev replies the recipe draws (seeded; cheap)."""
    rng = random.Random(recipe.seed)
    data = Path(recipe.data_dir)
    plan = {
        "train": [("empathetic_dialogues", "train", recipe.ed_examples),
                  ("esconv", "train", recipe.esconv_examples)],
        "dev": [("empathetic_dialogues", "valid", recipe.dev_examples // 2),
                ("esconv", "valid", recipe.dev_examples - recipe.dev_examples // 2)],
    }
    return {part: [e for dataset, split, n in sources
                   for e in sample_replies(load_listener_replies(dataset, split, data), n, rng, recipe.per_dialogue)]
            for part, sources in plan.items()}


def prepare_examples(recipe: ResponderRecipe, llm: LocalLM, path: Path,
                     on_example: Callable[[int], None] | None = None) -> None:
    """Write every planned example with its prompt to ``path`` (JSON lines). The slow part is the cause words,
    so each finished example is appended at once and a re-run goes on after the last one; each example's hints
    come from its own seeded generator, so the result does not depend on where a run was interrupted."""
    sem = load_emotion_model(threads=recipe.threads)
    shares = HintShares(recipe.hint_emotion, recipe.hint_causes, recipe.hint_strategy)
    partial = path.with_name(path.name + ".partial")
    done = set()
    if partial.exists():
        lines = partial.read_text(encoding="utf-8").splitlines(keepends=True)
        complete = [line for line in lines if line.endswith("\n")]  # a line cut by a kill is dropped
        partial.write_text("".join(complete), encoding="utf-8")
        done = {(row["part"], row["id"]) for row in map(json.loads, complete)}
    with partial.open("a", encoding="utf-8") as handle:
        for part, examples in planned_examples(recipe).items():
            for example in examples:
                if (part, example.id) not in done:
                    rng = random.Random(f"{recipe.seed}:{part}:{example.id}")
                    prompted = prompted_reply(example, sem, rng, shares, llm.count_tokens, recipe.max_prompt_tokens)
                    record = {"part": part, **(prompted.to_dict() if prompted else {"id": example.id, "skipped": True})}
                    handle.write(json.dumps(record) + "\n")
                    handle.flush()
                if on_example:
                    on_example(1)
    partial.rename(path)


def _load_or_prepare(recipe: ResponderRecipe, run_dir: Path, llm: LocalLM, on_example) -> dict[str, list[dict]]:
    path = run_dir / EXAMPLES_FILE
    if not path.exists():
        prepare_examples(recipe, llm, path, on_example)
    parts: dict[str, list[dict]] = {"train": [], "dev": []}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if not row.pop("skipped", False):
            parts[row.pop("part")].append(row)
    return parts


def _encode(llm: LocalLM, rows: list[dict], max_reply: int) -> list[tuple[list[int], list[int]]]:
    tokenizer = llm.tokenizer
    return [(tokenizer(r["prompt"]).input_ids, tokenizer(r["reply"], add_special_tokens=False).input_ids[:max_reply])
            for r in rows]


def reply_loss(causal, pairs: list[tuple[list[int], list[int]]], pad: int) -> torch.Tensor:
    """Mean cross-entropy of the reply tokens given their prompts; logits only where there is a loss."""
    width = max(len(p) + len(r) for p, r in pairs)
    ids = torch.full((len(pairs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(pairs), width), dtype=torch.long)
    rows, positions, targets = [], [], []
    for b, (prompt, reply) in enumerate(pairs):
        sequence = prompt + reply
        ids[b, : len(sequence)] = torch.tensor(sequence)
        mask[b, : len(sequence)] = 1
        rows += [b] * len(reply)
        positions += range(len(prompt) - 1, len(sequence) - 1)
        targets += reply
    hidden = causal.model(input_ids=ids, attention_mask=mask).last_hidden_state
    logits = causal.lm_head(hidden[torch.tensor(rows), torch.tensor(positions)])
    return torch.nn.functional.cross_entropy(logits.float(), torch.tensor(targets))


def dev_loss(causal, pairs, pad: int, batch_size: int = 16) -> float:
    total, tokens = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(pairs), batch_size):
            batch = pairs[start : start + batch_size]
            n = sum(len(r) for _, r in batch)
            total += float(reply_loss(causal, batch, pad)) * n
            tokens += n
    return total / max(1, tokens)


def _schedule(total: int, warmup: float):
    warm = max(1, int(total * warmup))
    return lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))


def train_responder(recipe: ResponderRecipe, run_dir: Path, *, on_example: Callable[[int], None] | None = None,
                    on_step: Callable[[dict], None] | None = None) -> dict:
    """Train (or resume) the adapter in ``run_dir``; the best dev adapter is kept in ``run_dir/best``."""
    peft = require("peft", "train")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    recipe_file = run_dir / "recipe.json"
    if recipe_file.exists() and json.loads(recipe_file.read_text()) != asdict(recipe):
        raise ResumeMismatch(f"{run_dir} holds a run of another recipe; use a new folder")
    atomic_write_text(recipe_file, json.dumps(asdict(recipe), indent=2))
    seed_everything(recipe.seed, recipe.threads)
    llm = LocalLM(None, recipe.threads)
    parts = _load_or_prepare(recipe, run_dir, llm, on_example)
    train, dev = (_encode(llm, parts[p], recipe.max_reply_tokens) for p in ("train", "dev"))
    pad = llm.tokenizer.pad_token_id if llm.tokenizer.pad_token_id is not None else llm.tokenizer.eos_token_id

    config = peft.LoraConfig(r=recipe.rank, lora_alpha=recipe.alpha, lora_dropout=recipe.lora_dropout,
                             target_modules=LORA_TARGETS, task_type="CAUSAL_LM")
    model = peft.get_peft_model(llm.model, config)
    causal = model.get_base_model()
    trainable = [p for p in model.parameters() if p.requires_grad]
    rng = random.Random(recipe.seed)
    batches = [b for _ in range(recipe.epochs)
               for b in bucketed_batches([len(p) + len(r) for p, r in train], recipe.batch_size, rng)]
    optimizer = torch.optim.AdamW(trainable, lr=recipe.lr, weight_decay=recipe.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(len(batches), recipe.warmup))

    state = {"step": 0, "best_dev_loss": None, "best_step": None, "history": []}
    checkpoint = run_dir / "checkpoint"
    if (checkpoint / "state.json").exists():
        state = json.loads((checkpoint / "state.json").read_text())
        peft.set_peft_model_state_dict(model, peft.utils.load_peft_weights(str(checkpoint)))
        saved = torch.load(checkpoint / "optimizer.pt", weights_only=True)
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
    if state["best_dev_loss"] is None:
        state["base_dev_loss"] = round(dev_loss(causal, dev, pad), 4)

    def save(folder: Path, with_optimizer: bool) -> None:
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        model.save_pretrained(str(partial))
        if with_optimizer:
            torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
                       partial / "optimizer.pt")
        (partial / "state.json").write_text(json.dumps(state, indent=2))
        shutil.rmtree(folder, ignore_errors=True)
        partial.rename(folder)

    model.train()
    started = time.monotonic()
    for step in range(state["step"], len(batches)):
        loss = reply_loss(causal, [train[i] for i in batches[step]], pad)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        scheduler.step()
        state["step"] = step + 1
        record = {"step": step + 1, "of": len(batches), "loss": round(loss.item(), 4),
                  "seconds": round(time.monotonic() - started, 1)}
        if (step + 1) % recipe.eval_every == 0 or step + 1 == len(batches):
            model.eval()
            record["dev_loss"] = round(dev_loss(causal, dev, pad), 4)
            model.train()
            state["history"].append(record)
            best = state["best_dev_loss"]  # a dev loss that is not a number is never the best once one is
            if best is None or not math.isfinite(best) or record["dev_loss"] < best:
                state["best_dev_loss"], state["best_step"] = record["dev_loss"], step + 1
                save(run_dir / "best", with_optimizer=False)
        if (step + 1) % recipe.checkpoint_every == 0 or step + 1 == len(batches):
            save(checkpoint, with_optimizer=True)
        if on_step:
            on_step(record)
    return {"steps": state["step"], "base_dev_loss": state.get("base_dev_loss"),
            "best_dev_loss": state["best_dev_loss"], "best_step": state["best_step"], "history": state["history"],
            "train_examples": len(train), "dev_examples": len(dev)}


def export_adapter(run_dir: Path, target: Path, name: str) -> Path:
    """The kept (best dev) adapter of ``run_dir`` as an affectlab adapter folder: half-precision weights named as
    in the base model, and a config with the recipe and dev figures (see :mod:`affectlab.llm.adapter`)."""
    from safetensors.torch import load_file, save_file

    best = Path(run_dir) / "best"
    peft_config = json.loads((best / "adapter_config.json").read_text())
    state = json.loads((best / "state.json").read_text())
    recipe = json.loads((Path(run_dir) / "recipe.json").read_text())
    prefix = "base_model.model."
    weights = {key[len(prefix):].removesuffix(".weight"): tensor.to(torch.float16).contiguous()
               for key, tensor in load_file(str(best / "adapter_model.safetensors")).items()}
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(target / WEIGHTS_FILE))
    write_config(target, {
        "name": name, "task": ADAPTER_TASK, "base": DEFAULT_LLM, "rank": peft_config["r"],
        "alpha": peft_config["lora_alpha"], "targets": sorted(peft_config["target_modules"]),
        "trained": {"date": time.strftime("%Y-%m-%d"), "recipe": recipe, "best_step": state["best_step"],
                    "best_dev_loss": state["best_dev_loss"],
                    "base_dev_loss": state.get("base_dev_loss"), "history": state["history"]},
    })
    return target
