"""Splitting texts into encoder windows, so that long texts are read whole instead of truncated."""

from __future__ import annotations

from dataclasses import dataclass

from tokenizers import Tokenizer


@dataclass(frozen=True)
class Chunk:
    text_index: int  # which input text the window belongs to
    ids: list[int]  # token ids with [CLS] and [SEP]
    offsets: list[tuple[int, int]]  # character span of each token between [CLS] and [SEP]

    @property
    def start(self) -> int:
        return self.offsets[0][0] if self.offsets else 0

    @property
    def end(self) -> int:
        return self.offsets[-1][1] if self.offsets else 0

    @property
    def weight(self) -> int:
        return len(self.ids) - 2


def chunk_texts(tokenizer: Tokenizer, texts: list[str], max_length: int, overlap: int = 32) -> list[Chunk]:
    """Windows of at most ``max_length`` tokens (special tokens included), overlapping by ``overlap``.

    ``tokenizer`` must not truncate. A text that fits gives exactly one chunk.
    """
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    width = max_length - 2
    stride = max(1, width - overlap)
    chunks: list[Chunk] = []
    for index, encoding in enumerate(tokenizer.encode_batch(texts, add_special_tokens=False)):
        ids, offsets = encoding.ids, encoding.offsets
        if not ids:  # nothing the vocabulary knows, e.g. only control characters
            chunks.append(Chunk(index, [cls_id, sep_id], []))
            continue
        begin = 0
        while True:
            end = min(begin + width, len(ids))
            chunks.append(Chunk(index, [cls_id, *ids[begin:end], sep_id], offsets[begin:end]))
            if end == len(ids):
                break
            begin += stride
    return chunks
