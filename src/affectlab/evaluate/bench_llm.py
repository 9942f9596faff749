"""``affectlab bench llm``: generation speed of the llama.cpp backend against the transformers one, side by side.

Both run the packaged Gemma 3 270M (llama.cpp: its Q4_K_M GGUF file as is; transformers: de-quantized to fp32),
with the responder adapter unless told otherwise (llama.cpp applies it as a LoRA at every step, transformers has
it merged into its weights), with the same thread count on the same prompts (the responder's prompt frame over
EmpatheticDialogues valid conversations), greedy, a fixed number of new tokens and no stop string. Each round
runs both backends, in alternating order; the reported rate is the median over rounds of generated tokens per
second, prompt reading included (what a user waits for). Load time is reported apart.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from affectlab.datasets import DEFAULT_DATA_DIR, load_empathetic_dialogues
from affectlab.empathy.prompts import render_turn, response_prompt


def bench_prompts(data_dir: Path, n: int) -> list[str]:
    examples = load_empathetic_dialogues("valid", data_dir)[:n]
    return [response_prompt("\n".join(render_turn(r, t) for r, t in zip(e.roles, e.texts))) for e in examples]


def _rate(llm, prompts: list[str], new_tokens: int) -> dict:
    start = time.perf_counter()
    generated = sum(llm.generate(p, max_new_tokens=new_tokens).tokens for p in prompts)
    seconds = time.perf_counter() - start
    return {"tokens": generated, "seconds": round(seconds, 2), "tokens_per_second": generated / seconds}


def bench_llm(data_dir: Path = DEFAULT_DATA_DIR, prompts: int = 8, new_tokens: int = 48, rounds: int = 3,
              threads: int = 2, adapter: str | Path | None = None,
              on_round: Callable[[int], None] | None = None) -> dict:
    from affectlab.llm.llama_cpp import LlamaCppLM
    from affectlab.llm.local import LocalLM

    texts = bench_prompts(Path(data_dir), prompts)
    loaded = {}
    for name, make in (("transformers", lambda: LocalLM(None, threads, adapter=adapter)),
                       ("llama-cpp", lambda: LlamaCppLM(adapter=adapter, threads=threads))):
        start = time.perf_counter()
        loaded[name] = (make(), round(time.perf_counter() - start, 2))
    runs: dict[str, list[dict]] = {name: [] for name in loaded}
    for round_index in range(rounds):
        order = list(loaded) if round_index % 2 == 0 else list(reversed(loaded))
        for name in order:
            runs[name].append(_rate(loaded[name][0], texts, new_tokens))
        if on_round:
            on_round(1)
    rates = {name: statistics.median(r["tokens_per_second"] for r in rs) for name, rs in runs.items()}
    return {
        "setup": {"prompts": prompts, "new_tokens": new_tokens, "rounds": rounds, "threads": threads,
                  "adapter": None if adapter is None else str(adapter),
                  "decoding": "greedy, no stop string; tokens/s counts generated tokens over wall time, prompt "
                              "reading included"},
        "backends": {name: {"tokens_per_second": round(rates[name], 2), "load_seconds": loaded[name][1],
                            "runs": runs[name]} for name in loaded},
        "speedup_llama_cpp_over_transformers": round(rates["llama-cpp"] / rates["transformers"], 2),
    }
