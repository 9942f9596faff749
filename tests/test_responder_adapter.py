"""The responder adapter: the trained peft adapter, exported and merged without peft, gives the same logits;
a run resumes from its checkpoint; training examples carry the responder's own prompt frame."""

import json
import random

import pytest
import torch

from affectlab.datasets import ReplyExample
from affectlab.llm.adapter import adapter_pairs, merge_adapter
from affectlab.llm.base import LLMError
from affectlab.train.responder import LORA_TARGETS, export_adapter, reply_loss
from affectlab.train.responder_data import HintShares, prompted_reply, sample_replies

peft = pytest.importorskip("peft")


def tiny_lm():
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(0)
    config = Gemma3TextConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                              num_attention_heads=2, num_key_value_heads=1, head_dim=16)
    return Gemma3ForCausalLM(config).eval()


@pytest.fixture
def trained_run(tmp_path):
    model = peft.get_peft_model(tiny_lm(), peft.LoraConfig(r=4, lora_alpha=8, target_modules=LORA_TARGETS,
                                                           init_lora_weights=False))
    best = tmp_path / "run" / "best"
    model.save_pretrained(str(best))
    (best / "state.json").write_text(json.dumps({"best_step": 3, "best_dev_loss": 2.5, "history": []}))
    (tmp_path / "run" / "recipe.json").write_text(json.dumps({"seed": 1}))
    return model, tmp_path / "run"


def test_exported_adapter_merged_without_peft_matches_peft(trained_run, tmp_path):
    model, run = trained_run
    folder = export_adapter(run, tmp_path / "adapter", "tiny")
    merged = tiny_lm()
    config = merge_adapter(merged, folder)
    ids = torch.tensor([[1, 5, 9, 12, 3]])
    with torch.inference_mode():
        expected, got, base = model(input_ids=ids).logits, merged(input_ids=ids).logits, tiny_lm()(input_ids=ids).logits
    assert config["rank"] == 4 and config["task"] == "responder"
    assert torch.allclose(expected, got, atol=1e-3)
    assert not torch.allclose(base, got, atol=1e-3)  # the adapter changed something


def test_an_adapter_for_another_model_or_with_half_a_pair_is_refused(trained_run, tmp_path):
    _, run = trained_run
    folder = export_adapter(run, tmp_path / "adapter", "tiny")
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    wider = Gemma3ForCausalLM(Gemma3TextConfig(vocab_size=64, hidden_size=48, intermediate_size=64,
                                               num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                                               head_dim=16))
    with pytest.raises(LLMError, match="does not fit"):
        merge_adapter(wider, folder)
    with pytest.raises(LLMError, match="lacks one half"):
        adapter_pairs({"model.layers.0.mlp.up_proj.lora_A": torch.zeros(1)})


def test_reply_loss_counts_only_the_reply_tokens():
    model = tiny_lm()
    prompt, reply = [2, 7, 8, 9], [10, 11]
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([prompt + reply])).logits[0]
        expected = torch.nn.functional.cross_entropy(logits[[3, 4]], torch.tensor(reply))
        got = reply_loss(model, [(prompt, reply), ([2, 7], [10])], pad=0)
        alone = reply_loss(model, [(prompt, reply)], pad=0)
    assert torch.isclose(alone, expected, atol=1e-5)
    assert not torch.isclose(got, alone)  # the second pair's token counts too


class FakeSem:
    def predict(self, turns, top_k=1, listener=None):
        class Top:
            label = "anxious"
        return Top()

    def cause_words(self, turns, label, top_k, listener=None):
        from affectlab.dialogue.context_classifier import CauseWord

        return [CauseWord(0, "exam", 0.5, 10, 14)]


def test_prompted_reply_uses_the_responder_frame_and_drops_old_turns_to_fit():
    texts = ["I have an exam soon.", "Oh?", "Yes, tomorrow."]
    example = ReplyExample("d-3", "d", ["speaker", "listener", "speaker"], texts, "Good luck!", strategy="Question")
    everything = HintShares(emotion=1.0, causes=1.0, strategy=1.0)
    full = prompted_reply(example, FakeSem(), random.Random(0), everything, lambda p: len(p.split()), 200)
    assert full.prompt.endswith("Listener:") and full.reply == " Good luck!\n"
    assert full.emotion == "anxious" and full.causes == ["exam"] and full.strategy == "Question"
    assert "*exam*" in full.prompt and full.dropped_turns == 0
    budget = len(full.prompt.split()) - 2
    shorter = prompted_reply(example, FakeSem(), random.Random(0), everything, lambda p: len(p.split()), budget)
    assert shorter.dropped_turns >= 1 and "I have an exam" not in shorter.prompt
    assert prompted_reply(example, FakeSem(), random.Random(0), everything, lambda p: 10**6, 50) is None


def test_sample_replies_caps_each_conversation():
    examples = [ReplyExample(f"{d}-{k}", d, ["speaker"], ["hi"], "hello") for d in "abc" for k in range(5)]
    chosen = sample_replies(examples, 100, random.Random(0), per_dialogue=2)
    assert len(chosen) == 6 and all(sum(e.dialogue == d for e in chosen) == 2 for d in "abc")
