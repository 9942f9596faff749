"""LoRA adapters for the local LM, merged into its weights at load time (no ``peft`` needed to use one).

An adapter folder holds ``config.json`` (``task: "responder"``, ``base``, ``rank``, ``alpha``, ``targets``)
and ``weights.safetensors`` with one ``{module}.lora_A`` / ``{module}.lora_B`` pair per adapted linear
layer, ``module`` named as in the base model (``model.layers.0.self_attn.q_proj``). Merging adds
``alpha / rank · B @ A`` to each layer's weight, so generation costs the same as without an adapter.

>>> llm = LocalLM(adapter="responder-gemma3-270m")
"""

from __future__ import annotations

from pathlib import Path

from affectlab.llm.base import LLMError
from affectlab.registry import WEIGHTS_FILE, read_config

ADAPTER_TASK = "responder"


def adapter_pairs(weights: dict) -> dict[str, tuple]:
    """``{module: (A, B)}`` from an adapter's tensors; a module with only one half is an error."""
    pairs: dict[str, dict[str, object]] = {}
    for key, tensor in weights.items():
        module, _, half = key.rpartition(".")
        if half not in ("lora_A", "lora_B"):
            raise LLMError(f"unexpected tensor {key!r} in the adapter")
        pairs.setdefault(module, {})[half] = tensor
    broken = [m for m, halves in pairs.items() if len(halves) != 2]
    if broken:
        raise LLMError(f"the adapter lacks one half of {broken[0]!r}")
    return {m: (h["lora_A"], h["lora_B"]) for m, h in pairs.items()}


def merge_adapter(model, folder: Path) -> dict:
    """Add the adapter in ``folder`` to ``model``'s weights in place; returns the adapter's config."""
    import torch
    from safetensors.torch import load_file

    config = read_config(folder)
    if config.get("task") != ADAPTER_TASK:
        raise LLMError(f"{folder}: not a responder adapter (task {config.get('task')!r})")
    modules = dict(model.named_modules())
    scale = config["alpha"] / config["rank"]
    with torch.no_grad():
        for name, (a, b) in adapter_pairs(load_file(str(Path(folder) / WEIGHTS_FILE))).items():
            layer = modules.get(name)
            if layer is None or tuple(layer.weight.shape) != (b.shape[0], a.shape[1]):
                raise LLMError(f"{folder}: the adapter does not fit this model (layer {name!r})")
            layer.weight += scale * (b.float() @ a.float()).to(layer.weight.dtype)
    return config
