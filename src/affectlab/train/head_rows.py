"""Copies of a text model whose head rows were refitted on its frozen sentence vectors (``affectlab train
readings`` adds rows, ``affectlab train irony`` and ``train goemotions`` replace some): the vectors they fit on,
then the encoder copied as it is, the new head in fp16 as shipped, the config, and the source's model card with
one section on the refit at its end (a section of the same title in the source is taken out, not repeated; the
others are kept).

>>> vectors = frozen_vectors(Analyzer(source), {"goemotions dev": texts})
>>> tensors, metadata, weight, bias = source_head(source)
>>> weight[rows] = as_shipped(new_rows)
>>> write_refitted(out_dir, source, (tensors, metadata), (weight, bias), config, "## Irony refit", section)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save

from affectlab.registry import CARD_FILE, WEIGHTS_FILE, atomic_folder, fingerprint
from affectlab.text.artifact import ArtifactConfig
from affectlab.text.fingerprints import HEAD_BIAS, HEAD_WEIGHT
from affectlab.train.optim import provenance


def frozen_vectors(analyzer, to_read: dict[str, list[str]], on_progress: Callable[[dict], None] | None = None
                   ) -> dict[str, np.ndarray]:
    """The sentence vectors (float64) a refit fits on, of each named list of texts, a progress step per list."""
    vectors = {}
    for step, (key, texts) in enumerate(to_read.items(), 1):
        vectors[key] = analyzer.sentence_vectors(texts).astype(np.float64)
        if on_progress:
            on_progress({"task": f"vectors of {key}", "step": step, "total": len(to_read)})
    return vectors


def as_shipped(values: np.ndarray) -> np.ndarray:
    """Head weights as the fp16 file will hold them (float64 for the arithmetic)."""
    return values.astype(np.float16).astype(np.float64)


def source_head(source: Path) -> tuple[dict, dict, np.ndarray, np.ndarray]:
    """A text model's tensors, its weights file's metadata, and its head's weight and bias (float64)."""
    with safe_open(str(Path(source) / WEIGHTS_FILE), "pt") as handle:
        metadata = handle.metadata()
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 (not a dict)
    return tensors, metadata, tensors[HEAD_WEIGHT].double().numpy(), tensors[HEAD_BIAS].double().numpy()


def refit_record(recipe, source: Path, config: ArtifactConfig) -> dict:
    """What a refit records in ``trained``: its recipe and date (no epochs), and the source model it read."""
    record = provenance(recipe, 0, [])
    del record["epochs_done"], record["dev_history"]
    record["source"] = {"name": config.name, "folder": str(source), "fingerprint": fingerprint(source)}
    return record


def write_refitted(out_dir: Path, source: Path, weights: tuple[dict, dict], head: tuple[np.ndarray, np.ndarray],
                   config: ArtifactConfig, card_title: str, card_section: str) -> None:
    """Write the copy to ``out_dir`` whole (an earlier model there is replaced, see
    :func:`~affectlab.registry.atomic_folder`): ``weights`` (the source's tensors and metadata) with ``head`` in
    place of its head, the ``config``, and the source's card without any section titled ``card_title``,
    ``card_section`` (starting with that title) appended."""
    tensors, metadata = weights
    tensors = {**tensors, HEAD_WEIGHT: torch.from_numpy(head[0]).to(torch.float16),
               HEAD_BIAS: torch.from_numpy(head[1]).to(torch.float16)}
    card = (source / CARD_FILE).read_text(encoding="utf-8") if (source / CARD_FILE).exists() else ""
    with atomic_folder(out_dir, config.task) as folder:
        (folder / WEIGHTS_FILE).write_bytes(save(tensors, metadata=metadata))
        config.save(folder)
        (folder / CARD_FILE).write_text(f"{without_section(card, card_title)}\n\n{card_section}", encoding="utf-8")


def without_section(card: str, title: str) -> str:
    r"""``card`` without its section headed ``title`` (up to the next section of the same level), if it has one.

    >>> without_section("# m\n\n## A\nold\n\n## B\nkept\n", "## A")
    '# m\n\n## B\nkept'
    """
    start = card.find(title)
    if start < 0:
        return card.rstrip()
    end = card.find("\n## ", start + len(title))
    return (card[:start].rstrip() + ("\n\n" + card[end + 1:] if end >= 0 else "")).rstrip()
