"""The llama.cpp backend against the transformers one: same tokens, close scores, an adapter that moves both the
same way. Skipped where llama-cpp-python is not installed (it builds from source: `pip install
'affectlab[llama-cpp]'`)."""

import pytest
import torch

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")

from affectlab.llm.base import LLMError  # noqa: E402
from affectlab.llm.llama_cpp import LlamaCppLM, gguf_tensor_name  # noqa: E402
from affectlab.registry import WEIGHTS_FILE, fingerprint, write_config  # noqa: E402

PROMPT = "Speaker: I failed my driving test again today.\nListener:"
REPLIES = [" Oh no, I'm so sorry to hear that.", " Great!", " The sky is made of cheese."]


@pytest.fixture(scope="module")
def fast():
    return LlamaCppLM(threads=2, context_length=1024)


def test_same_tokens_and_close_scores_as_transformers(fast, llm):
    assert fast.count_tokens(PROMPT) == llm.count_tokens(PROMPT)
    ours, theirs = fast.score(PROMPT, REPLIES), llm.score(PROMPT, REPLIES)
    assert max(abs(a - b) for a, b in zip(ours, theirs)) < 1.5  # Q4 arithmetic against de-quantized fp32
    assert sorted(range(3), key=ours.__getitem__) == sorted(range(3), key=theirs.__getitem__)


def test_generation_stops_and_counts_like_the_interface_says(fast):
    greedy = fast.generate(PROMPT, max_new_tokens=24, stop=["\n"])
    again = fast.generate(PROMPT, max_new_tokens=24, stop=["\n"])
    assert greedy == again and "\n" not in greedy.text and greedy.finish_reason in ("stop", "eos", "length")
    short = fast.generate(PROMPT, max_new_tokens=3)
    assert short.tokens == 3 and short.finish_reason == "length"
    asked = fast.generate(PROMPT, max_new_tokens=40, should_stop=lambda: True)
    assert asked.tokens == 1
    with pytest.raises(LLMError, match="context"):
        fast.generate("word " * 2000, max_new_tokens=8)


def test_an_adapter_moves_llama_cpp_as_it_moves_transformers(tmp_path, llm):
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(0)
    weights = {}
    for layer in range(2):
        for module, (out, inp) in {"self_attn.q_proj": (1024, 640), "mlp.up_proj": (2048, 640)}.items():
            name = f"model.layers.{layer}.{module}"
            weights[f"{name}.lora_A"] = torch.randn(4, inp, generator=generator) * 0.05
            weights[f"{name}.lora_B"] = torch.randn(out, 4, generator=generator) * 0.05
    save_file(weights, str(tmp_path / WEIGHTS_FILE))
    write_config(tmp_path, {"name": "random", "task": "responder", "base": "gemma3-270m", "rank": 4, "alpha": 8,
                            "targets": ["q_proj", "up_proj"], "trained": {"recipe": "random, for a test"}})
    adapted = LlamaCppLM(adapter=tmp_path, threads=2, context_length=256)
    plain = LlamaCppLM(threads=2, context_length=256)
    moved_fast = [a - b for a, b in zip(adapted.score(PROMPT, REPLIES), plain.score(PROMPT, REPLIES))]
    before = llm.score(PROMPT, REPLIES)
    from affectlab.llm.local import LocalLM

    merged = LocalLM(None, 2, adapter=tmp_path)
    assert merged.adapter_fingerprint == adapted.adapter_fingerprint == fingerprint(tmp_path)
    assert plain.adapter_fingerprint is None  # which answers an evaluation's journal may reuse
    moved_slow = [a - b for a, b in zip(merged.score(PROMPT, REPLIES), before)]
    assert max(abs(m) for m in moved_slow) > 0.2  # the adapter matters
    assert max(abs(a - b) for a, b in zip(moved_fast, moved_slow)) < 0.5 * max(abs(m) for m in moved_slow) + 0.2


def test_only_gemma_layers_map_to_llama_cpp_names():
    assert gguf_tensor_name("model.layers.3.self_attn.q_proj") == "blk.3.attn_q.weight"
    assert gguf_tensor_name("model.layers.0.mlp.down_proj") == "blk.0.ffn_down.weight"
    with pytest.raises(LLMError, match="cannot map"):
        gguf_tensor_name("lm_head")


def test_a_file_llama_cpp_cannot_load_is_named(tmp_path):
    from affectlab.llm.base import LLMError
    from affectlab.llm.llama_cpp import LlamaCppLM

    broken = tmp_path / "half.gguf"
    broken.write_bytes(b"GGUF and then nothing")
    with pytest.raises(LLMError, match="half.gguf: llama.cpp cannot load it; is it a complete GGUF file"):
        LlamaCppLM(broken)
