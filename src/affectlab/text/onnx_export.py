"""Build ONNX Runtime copies of a text artifact, once, in the user's cache folder.

The shipped artifact holds only what training changed; the ONNX graph needs the whole network, so it
is assembled here from the base encoder package and the artifact, and cached under a key that
changes whenever the artifact does. ``int8`` applies ONNX Runtime's dynamic quantization to the encoder's
matrix multiplications (weights int8, activations quantized on the fly). The head stays fp32: its rows have
scales a hundred times apart (an irony row refitted by logistic regression, ridge rows for the readings), and
one int8 scale for the whole matrix rounds the small rows to zero — it costs nothing to keep, being one
384-wide product per window.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

from affectlab.cache import cache_root
from affectlab.errors import OptionError
from affectlab.registry import fingerprint
from affectlab.text.fingerprints import HEAD_WEIGHT

PRECISIONS = ("fp32", "int8")


def onnx_path(artifact: Path, precision: str, pooled: bool = False) -> Path:
    """The cached ONNX file for an artifact, built first if missing. ``pooled``: a graph whose output rows
    also hold the pooled sentence vector after the head's outputs (:class:`~affectlab.text.model.WithPooled`),
    for heads of one's own; a file of its own, so the plain graph stays as it was."""
    if precision not in PRECISIONS:
        raise OptionError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    folder = cache_root() / "onnx" / f"{artifact.name}-{fingerprint(artifact)}"
    stem = "model-pooled" if pooled else "model"
    # the int8 file's name says its head is fp32, so a cache quantized whole before that is not reused
    target = folder / f"{stem}.{'int8-head-fp32' if precision == 'int8' else precision}.onnx"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    fp32 = folder / f"{stem}.fp32.onnx"
    if not fp32.exists():
        _export(artifact, fp32, pooled)
    if precision == "int8":
        _quantize(fp32, target)
    return target


@contextmanager
def _quiet():
    """The exporter and quantizer warn on stderr about things that do not apply to this graph."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


def _atomic_target(final: Path) -> Path:
    handle, name = tempfile.mkstemp(dir=final.parent, suffix=".onnx.part")
    os.close(handle)
    return Path(name)


def _export(artifact: Path, target: Path, pooled: bool = False) -> None:
    import torch

    from affectlab.text.model import AffectModel, WithPooled

    model = AffectModel.from_artifact(artifact)
    if pooled:
        model = WithPooled(model)
    ids = torch.ones((2, 8), dtype=torch.long)
    tmp = _atomic_target(target)
    try:
        with _quiet():
            torch.onnx.export(
                model,
                (ids, torch.ones_like(ids)),
                str(tmp),
                input_names=["input_ids", "attention_mask"],
                output_names=["outputs"],
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
                opset_version=17,
                dynamo=False,  # the torch.export path needs onnxscript; the TorchScript one handles BERT
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _quantize(fp32: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False).graph
    head = [node.name for node in graph.node if any(name.endswith(HEAD_WEIGHT) for name in node.input)]
    head += [f"{name}_MatMul" for name in head]  # the quantizer first splits a Gemm into MatMul + Add, so named
    tmp = _atomic_target(target)
    try:
        with _quiet():
            quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                             nodes_to_exclude=head)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
