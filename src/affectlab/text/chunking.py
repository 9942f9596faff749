"""Splitting texts into encoder windows, so that long texts are read whole instead of truncated."""

from __future__ import annotations

from dataclasses import dataclass

from tokenizers import Tokenizer


@dataclass(frozen=True)
class Chunk:
    text_index: int  # which input text the window belongs to
    ids: list[int]  # token ids with the opening and closing special tokens ([CLS] and [SEP] for MiniLM)
    offsets: list[tuple[int, int]]  # character span of each token between the special tokens

    @property
    def start(self) -> int:
        return self.offsets[0][0] if self.offsets else 0

    @property
    def end(self) -> int:
        return self.offsets[-1][1] if self.offsets else 0

    @property
    def weight(self) -> int:
        return len(self.ids) - 2


def window_count(tokens: int, max_length: int, overlap: int = 32) -> int:
    """How many windows :func:`chunk_texts` cuts ``tokens`` tokens into."""
    width = max_length - 2
    stride = max(1, width - overlap)
    return 1 if tokens <= width else 1 + -(-(tokens - width) // stride)


def chunk_texts(
    tokenizer: Tokenizer, texts: list[str], max_length: int, overlap: int = 32, max_windows: int | None = None
) -> tuple[list[Chunk], list[int]]:
    """Windows of at most ``max_length`` tokens (special tokens included), overlapping by ``overlap``, and
    the number of windows each text needs whole.

    ``tokenizer`` must not truncate. A text that fits gives exactly one chunk; a text that needs more than
    ``max_windows`` gives only its first ``max_windows`` (its count says so).
    """
    cls_id, sep_id = tokenizer.encode("").ids  # the encoder's own opening and closing tokens
    width = max_length - 2
    stride = max(1, width - overlap)
    chunks: list[Chunk] = []
    needed: list[int] = []
    for index, encoding in enumerate(tokenizer.encode_batch(texts, add_special_tokens=False)):
        ids, offsets = encoding.ids, encoding.offsets
        needed.append(window_count(len(ids), max_length, overlap))
        if not ids:  # nothing the vocabulary knows, e.g. only control characters
            chunks.append(Chunk(index, [cls_id, sep_id], []))
            continue
        begin, made = 0, 0
        while max_windows is None or made < max_windows:
            end = min(begin + width, len(ids))
            chunks.append(Chunk(index, [cls_id, *ids[begin:end], sep_id], offsets[begin:end]))
            made += 1
            if end == len(ids):
                break
            begin += stride
    return chunks, needed
