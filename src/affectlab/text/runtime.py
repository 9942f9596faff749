"""Runtimes that turn token batches into the head's raw outputs, and length-sorted batching over them.

``torch`` runs the artifact as trained; ``onnx`` runs the same network exported to ONNX Runtime,
optionally with int8 dynamic quantization (see :mod:`affectlab.text.onnx_export`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

# What one more call to the network costs, in tokens run: on 2 cores one call of a single 8-token text takes as
# long as about 30 more tokens in a larger batch (affectlab's MiniLM under ONNX Runtime).
CALL_TOKENS = 32


class Runtime(Protocol):
    name: str

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """int64 ``[batch, tokens]`` ids and mask → float32 ``[batch, outputs]`` raw head outputs."""
        ...


class TorchRuntime:
    name = "torch"

    def __init__(self, model) -> None:  # any (ids, mask) → outputs torch module in eval mode
        self.model = model

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            out = self.model(torch.from_numpy(input_ids), torch.from_numpy(attention_mask))
        return out.float().numpy()


class OnnxRuntime:
    """``spin=False``: the session's threads sleep as soon as they run out of work, instead of spin-waiting for
    the next; it saves the CPU they would burn between small batches (a server sharing its cores with the
    requests it answers) at the cost of a little latency to wake them."""

    def __init__(self, onnx_path: Path, threads: int, name: str, spin: bool = True) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        if not spin:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.name = name

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        (out,) = self.session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})
        return out


def pad_batch(sequences: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(s) for s in sequences)
    ids = np.zeros((len(sequences), width), dtype=np.int64)
    mask = np.zeros((len(sequences), width), dtype=np.int64)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    return ids, mask


def plan_batches(lengths: Sequence[int], max_batch: int, call_tokens: int = CALL_TOKENS) -> list[np.ndarray]:
    """Batches (arrays of indices into ``lengths``) of at most ``max_batch`` sequences, sorted by length and cut
    where the padded tokens they run, plus ``call_tokens`` for each call, add up to least.

    A fixed cut every ``max_batch`` sequences pads a short sequence to the longest beside it; a few texts of
    very different lengths (a micro-batch of requests) waste most of their batch on padding that way.

    >>> [b.tolist() for b in plan_batches([3, 40, 4, 41, 5], max_batch=4)]
    [[0, 2, 4], [1, 3]]
    """
    order = np.argsort(np.asarray(lengths), kind="stable")
    ordered = [int(lengths[i]) for i in order]
    best = [0] * (len(ordered) + 1)  # best[j]: least cost of the first j sequences
    start = [0] * (len(ordered) + 1)  # where the last batch of that best plan starts
    for end in range(1, len(ordered) + 1):
        width = ordered[end - 1]
        best[end], start[end] = min((best[i] + call_tokens + (end - i) * width, i)
                                    for i in range(max(0, end - max_batch), end))
    batches, end = [], len(ordered)
    while end > 0:
        batches.append(order[start[end]:end])
        end = start[end]
    return batches[::-1]


def run_sorted(
    runtime: Runtime,
    sequences: Sequence[Sequence[int]],
    batch_size: int,
    on_batch: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Run token id sequences in batches of similar length; rows come back in input order.

    ``on_batch`` is called with the number of sequences finished after each batch.
    """
    outputs: np.ndarray | None = None
    for rows in plan_batches([len(s) for s in sequences], batch_size):
        ids, mask = pad_batch([sequences[i] for i in rows])
        result = runtime.run(ids, mask)
        if outputs is None:
            outputs = np.empty((len(sequences), result.shape[1]), dtype=np.float32)
        outputs[rows] = result
        if on_batch is not None:
            on_batch(len(rows))
    if outputs is None:
        raise ValueError("run_sorted needs at least one sequence")
    return outputs
