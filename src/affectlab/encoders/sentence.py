"""Plain sentence embeddings from all-MiniLM-L6-v2: mean-pooled token states, L2-normalized, as the
sentence-transformers recipe of that model computes them (cosine similarity is then a dot product).

``runtime="onnx"`` (default) runs an ONNX Runtime copy of the encoder, exported once into the user's cache
(that export imports torch; later runs do not); ``runtime="torch"`` runs the encoder in torch. Both give
the same vectors within float rounding.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import numpy as np

from affectlab.cache import cache_root
from affectlab.encoders.minilm import BASE_MODEL, base_model_dir, load_encoder, load_tokenizer, mean_pool
from affectlab.errors import OptionError

MAX_TOKENS = 256  # the model's own limit for sentence embeddings (sentence_bert_config.json)
WEIGHTS = "model.safetensors"
SENTENCE_RUNTIMES = ("onnx", "torch")


@cache
def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def _pooled_module():
    """The encoder with pooling and normalization inside, so the exported graph returns sentence vectors."""
    import torch

    encoder = load_encoder().eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask):
            states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return torch.nn.functional.normalize(mean_pool(states, attention_mask), dim=-1)

    return Pooled().eval()


def sentence_onnx_path() -> Path:
    """The cached ONNX copy of the sentence encoder, exported first if missing (atomically: concurrent first
    uses each write their own file and the last rename wins)."""
    target = cache_root() / "onnx" / f"minilm-sentence-{_digest(base_model_dir() / WEIGHTS)}" / "model.onnx"
    if target.exists():
        return target
    import torch

    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, suffix=".onnx.part")
    os.close(handle)
    ids = torch.ones((2, 8), dtype=torch.long)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes about tracing do not apply to this graph
            torch.onnx.export(
                _pooled_module(), (ids, torch.ones_like(ids)), name,
                input_names=["input_ids", "attention_mask"], output_names=["vectors"],
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
                opset_version=17, dynamo=False,
            )
        os.replace(name, target)
    finally:
        Path(name).unlink(missing_ok=True)
    return target


class SentenceEncoder:
    """Texts → unit vectors of 384 numbers; similar meanings give a high dot product.

    ``model_id`` names the encoder and a hash of its weights, so that vectors stored by one version can be
    told from those of another.

    >>> encoder = SentenceEncoder()
    >>> vectors = encoder.encode(["I lost my keys", "My keys are gone"])
    >>> vectors.shape, round(float(vectors[0] @ vectors[1]), 2)
    ((2, 384), 0.8)
    """

    dimension = 384

    def __init__(self, *, runtime: str = "onnx", batch_size: int = 64, threads: int | None = None) -> None:
        if runtime not in SENTENCE_RUNTIMES:
            raise OptionError(f"runtime must be one of {', '.join(SENTENCE_RUNTIMES)}, not {runtime!r}")
        if batch_size < 1:
            raise OptionError("batch_size must be at least 1")
        self.runtime, self.batch_size = runtime, batch_size
        self.threads = threads or os.cpu_count() or 1
        self.tokenizer = load_tokenizer(MAX_TOKENS)
        self._run: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None

    @property
    def model_id(self) -> str:
        return f"{BASE_MODEL}@{_digest(base_model_dir() / WEIGHTS)}"

    def _runner(self) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        if self._run is not None:
            return self._run
        if self.runtime == "onnx":
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(str(sentence_onnx_path()), options, providers=["CPUExecutionProvider"])
            self._run = lambda ids, mask: session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        else:
            import torch

            torch.set_num_threads(self.threads)
            module = _pooled_module()

            def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
                with torch.inference_mode():
                    return module(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()

            self._run = run
        return self._run

    def encode(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> np.ndarray:
        """One float32 row per text, in order; ``on_progress`` gets the number of texts done after each batch."""
        run = self._runner()
        encodings = self.tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")  # batches of similar length pad little
        vectors = np.zeros((len(encodings), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(len(encodings[r].ids) for r in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for i, r in enumerate(rows):
                tokens = encodings[r].ids
                ids[i, : len(tokens)] = tokens
                mask[i, : len(tokens)] = 1
            vectors[rows] = run(ids, mask)
            if on_progress is not None:
                on_progress(len(rows))
        return vectors
