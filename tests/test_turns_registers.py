"""The turn model across registers: its training data, the text model's readings as an input, per-register
neutral biases, older turn models, several speakers, and the train / eval / conversation commands."""

import json
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file
from typer.testing import CliRunner

from affectlab.cli import app
from affectlab.datasets import load_meld, load_meld_part
from affectlab.dialogue import ConversationAnalyzer
from affectlab.dialogue.models import TurnEmotionModel
from affectlab.dialogue.packing import Packed, TurnTokenizer, pack_turns, speaker_letters
from affectlab.dialogue.registers import CORPORA, GENERAL, REGISTERS, register_logits, register_value
from affectlab.dialogue.text_readings import READINGS, TextModelMismatch, ekman_evidence
from affectlab.encoders.finetuned import save_finetuned
from affectlab.errors import OptionError
from affectlab.registry import CONFIG_FILE, WEIGHTS_FILE
from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT
from affectlab.train.register_calibration import NEUTRAL_BIAS_GRID, TEXT_WEIGHT_GRID, calibrate_registers
from affectlab.train.turn_data import (
    CONTEXT_ONLY,
    MAX_CONTEXT_TURNS,
    goemotions_conversations,
    in_context,
    turn_corpora,
)
from affectlab.train.turn_readings import cached_readings
from affectlab.train.turns import TurnExample, TurnsRecipe, epoch_batches
from conftest import DATA_DIR, needs_data

runner = CliRunner()

SCENE = [
    {"speaker": "Rachel", "text": "Guess what? I got the job at Ralph Lauren!"},
    {"speaker": "Monica", "text": "Oh my God, that's amazing!"},
    {"speaker": "Joey", "text": "Wait, does that mean you're moving out?"},
    {"speaker": "Rachel", "text": "No, no. Nothing changes, I promise."},
]


# --- training data ---------------------------------------------------------------------------------------

@needs_data
def test_meld_heldout_part_is_a_fixed_tenth_apart_from_training():
    heldout, train = load_meld_part("heldout", DATA_DIR), load_meld_part("train", DATA_DIR)
    everything = {d.id for d in load_meld("train", DATA_DIR)}
    assert {d.id for d in heldout}.isdisjoint(d.id for d in train)
    assert {d.id for d in heldout} | {d.id for d in train} == everything
    assert len(heldout) == round(0.1 * len(everything))
    assert [d.id for d in load_meld_part("heldout", DATA_DIR)] == [d.id for d in heldout]  # seeded, not random
    corpora = {c.name: c for c in turn_corpora(DATA_DIR, goemotions=50, seed=13)}
    assert list(corpora) == list(CORPORA)
    assert {d.id for d in heldout}.isdisjoint(d.id for d in corpora["meld"].train)
    assert len(corpora["goemotions"].train) == 50 and all(len(d.texts) == 1 for d in corpora["goemotions"].train)
    goemotions = corpora["goemotions"]
    assert not any("[NAME]" in d.texts[0] for d in goemotions.train + goemotions.dev)


@needs_data
def test_support_openings_are_the_speakers_first_turns_with_one_ekman_class():
    from affectlab.datasets import load_empathetic_dialogues
    from affectlab.train.turn_data import ekman_of_situation, support_openings

    assert (ekman_of_situation("terrified"), ekman_of_situation("annoyed"), ekman_of_situation("proud")) == (
        "fear", "anger", "joy")
    assert ekman_of_situation("nostalgic") is None  # no GoEmotions label: left out
    openings = support_openings("valid", DATA_DIR)
    conversations = {e.id: e for e in load_empathetic_dialogues("valid", DATA_DIR)}
    assert 2000 < len(openings) < len(conversations)
    for opening in openings[:200]:
        source = conversations[opening.id.removeprefix("support-")]
        assert opening.texts == source.texts[:1] and source.roles[0] == "speaker"
        assert opening.emotions == [ekman_of_situation(source.label)] and opening.emotions != ["neutral"]


def test_openings_follow_unlabelled_turns_of_another_conversation():
    from affectlab.datasets import Dialogue

    contexts = [Dialogue(f"c{i}", ["x", "y", "x", "y", "x"], [f"c{i} turn {t}" for t in range(5)], ["joy"] * 5)
                for i in range(3)]
    openings = [Dialogue(f"o{i}", ["A"], [f"I am worried {i}"], ["fear"]) for i in range(200)]
    placed = in_context(openings, contexts, seed=13)
    assert placed == in_context(openings, contexts, seed=13)
    lengths = set()
    for opening, dialogue in zip(openings, placed):
        n = len(dialogue.texts) - 1
        lengths.add(n)
        assert dialogue.id == opening.id and dialogue.texts[-1] == opening.texts[0]
        assert dialogue.emotions == [CONTEXT_ONLY] * n + ["fear"]
        source = next(c for c in contexts if not n or dialogue.texts[0].startswith(c.id + " "))
        start = source.texts.index(dialogue.texts[0]) if n else 0
        assert dialogue.texts[:-1] == source.texts[start:start + n]  # consecutive turns of one conversation
        letters = speaker_letters(dialogue.speakers)
        if n >= 2:
            assert letters[-1] == letters[-3]  # the turn before last's speaker tells the opening
        else:
            assert letters[-1] == chr(ord("A") + n)
    assert lengths == set(range(MAX_CONTEXT_TURNS + 1))


@needs_data
def test_support_corpus_labels_only_its_openings():
    support = {c.name: c for c in turn_corpora(DATA_DIR, goemotions=10, seed=13, limit=30)}["support"]
    for dialogue in support.train + support.dev:
        assert all(e == CONTEXT_ONLY for e in dialogue.emotions[:-1]) and dialogue.emotions[-1] in EKMAN
    assert support.summary()["dev"]["labelled_turns"] == len(support.dev)


def _goemotions_file(folder, rows):
    (folder / "goemotions").mkdir(parents=True)
    lines = [f"{text}\t{','.join(str(GOEMOTIONS.index(label)) for label in labels)}\tid{n}"
             for n, (text, labels) in enumerate(rows)]
    (folder / "goemotions" / "train.tsv").write_text("\n".join(lines) + "\n")


def test_goemotions_comments_of_more_than_one_ekman_class_are_left_out(tmp_path):
    _goemotions_file(tmp_path, [
        ("so funny, love it", ["amusement", "love"]),  # both joy: kept, as joy
        ("great, and I'm furious", ["joy", "anger"]),  # two classes: left out
        ("ok then", ["neutral"]),
        ("hm, nice", ["neutral", "admiration"]),  # neutral and joy: left out
        ("why would they", ["curiosity", "confusion"]),  # both surprise
    ])
    turns = goemotions_conversations("train", tmp_path)
    assert [(d.texts[0], d.emotions) for d in turns] == [
        ("so funny, love it", ["joy"]), ("ok then", ["neutral"]), ("why would they", ["surprise"])]
    assert all(d.speakers == ["A"] for d in turns)
    sampled = [d.id for d in goemotions_conversations("train", tmp_path, sample=2, seed=13)]
    assert sampled == [d.id for d in goemotions_conversations("train", tmp_path, sample=2, seed=13)]
    assert len(sampled) == 2


def _example(corpus: str, length: int) -> TurnExample:
    return TurnExample(Packed([1] * length, [0] * length, [0] * length, [0]), [0], None, corpus)


def test_epoch_batches_repeat_meld_and_keep_one_turn_conversations_apart():
    examples = [_example("dailydialog", 50 + i) for i in range(40)] + [_example("meld", 60 + i) for i in range(10)]
    examples += [_example("goemotions", 10 + i % 5) for i in range(130)]
    recipe = TurnsRecipe(batch_size=8, one_turn_batch_size=64, meld_repeat=3)
    batches = epoch_batches(examples, recipe, random.Random(13))
    seen = [i for batch in batches for i in batch]
    for i, example in enumerate(examples):
        assert seen.count(i) == (3 if example.corpus == "meld" else 1)
    for batch in batches:
        one_turn = {examples[i].corpus == "goemotions" for i in batch}
        assert len(one_turn) == 1 and len(batch) <= (64 if one_turn == {True} else 8)
    assert batches == epoch_batches(examples, recipe, random.Random(13))


# --- the text model's readings -----------------------------------------------------------------------------

class FakeTextModel:
    """Reads a text as probabilities that depend on its length; counts the texts it was asked to read."""

    model_name = "fake-text"

    def __init__(self, folder):
        self.folder, self.read = folder, 0
        folder.mkdir(exist_ok=True)
        self.save_weights(encoder=0.0)
        (folder / CONFIG_FILE).write_text('{"name": "fake-text"}')

    def save_weights(self, encoder: float) -> None:
        from safetensors.numpy import save_file

        from affectlab.heads.layout import BLOCKS_BEFORE_IRONY, head_size
        from affectlab.text.fingerprints import HEAD_BIAS, HEAD_WEIGHT

        rows = head_size(BLOCKS_BEFORE_IRONY)
        save_file({"encoder.weight": np.full((2, 2), encoder, np.float32), HEAD_WEIGHT: np.zeros((rows, 2), np.float32),
                   HEAD_BIAS: np.zeros(rows, np.float32)}, str(self.folder / WEIGHTS_FILE))

    def analyze_batch(self, texts, literal=False):
        assert literal, "turn models read the literal outputs"
        self.read += len(texts)
        return [SimpleNamespace(error=None, ekman={label: len(text) / 100 for label in EKMAN},
                                sentiment={label: 0.5 for label in SENTIMENT}) for text in texts]


def test_cached_readings_are_reused_only_for_the_same_texts_and_text_model(tmp_path):
    model = FakeTextModel(tmp_path / "text")
    texts = ["hello there", "I'm scared", "hello there"]
    first = cached_readings(tmp_path / "run", texts, model)
    assert first.shape == (3, len(READINGS)) and model.read == 2  # each distinct text read once
    np.testing.assert_array_equal(cached_readings(tmp_path / "run", texts, model), first)
    assert model.read == 2
    other = cached_readings(tmp_path / "run", ["something else entirely"], model)  # other texts: read afresh
    assert model.read == 3 and other[0, 0] == pytest.approx(len("something else entirely") / 100)
    model.save_weights(encoder=1.0)  # another text model: read afresh
    cached_readings(tmp_path / "run", ["something else entirely"], model)
    assert model.read == 4


def test_a_turn_model_is_refused_beside_another_text_model(tmp_path):
    folder = tmp_path / "turns"
    folder.mkdir()
    save_file({}, str(folder / WEIGHTS_FILE))  # no network in it: refused before the network is read
    (folder / CONFIG_FILE).write_text(json.dumps({
        "name": "my-turns", "task": "turn-emotions", "labels": list(EKMAN), "neutral_bias": {"general": 0.0},
        "text_features": {"model": "text-minilm", "fingerprint": "0123456789abcdef", "readings": list(READINGS)}}))
    with pytest.raises(TextModelMismatch, match="turn model my-turns was trained on the readings of text model "
                                                "text-minilm \\(fingerprint 0123456789abcdef\\)"):
        ConversationAnalyzer(turn_model=folder)


# --- registers ---------------------------------------------------------------------------------------------

def test_register_is_checked_and_picks_its_bias():
    with pytest.raises(OptionError, match="register must be one of general, dailydialog, meld, goemotions, support, "
                                          "not 'tv'"):
        ConversationAnalyzer(register="tv")
    assert register_value({"general": -0.4, "meld": -0.9}, "meld") == -0.9
    assert register_value(-0.3, "goemotions") == -0.3  # one number serves every register
    with pytest.raises(OptionError, match="no neutral bias for register 'meld'"):
        register_value({"general": -0.4}, "meld")


def test_cli_names_the_register_option():
    result = runner.invoke(app, ["conversation", "examples/chat.json", "--register", "tv"])
    assert result.exit_code == 2 and "--register" in result.output and "general" in result.output


def test_each_register_is_best_on_its_own_corpus_and_general_on_their_mean():
    rng = np.random.default_rng(0)
    logits, gold = {}, {}
    for shift, corpus in zip((1.5, 0.0, -1.0, -0.5), CORPORA, strict=True):  # leaning to neutral by different amounts
        labels = rng.integers(0, len(EKMAN), 300)
        values = rng.normal(0, 1, (300, len(EKMAN)))
        values[np.arange(300), labels] += 1.0
        values[:, EKMAN.index("neutral")] += shift
        logits[corpus], gold[corpus] = values, [EKMAN[i] for i in labels]
    biases, weights, scores = calibrate_registers(logits, gold)
    assert set(biases) == set(REGISTERS) and all(b in NEUTRAL_BIAS_GRID for b in biases.values())
    assert set(weights.values()) == {0.0}  # no text evidence: nothing to weigh
    for corpus in CORPORA:
        assert all(scores[corpus][corpus] >= scores[other][corpus] for other in REGISTERS)
    assert all(np.mean(list(scores[GENERAL].values())) >= np.mean(list(scores[other].values())) for other in REGISTERS)
    assert biases["dailydialog"] < biases["goemotions"]  # the corpus leaning most to neutral needs the lowest bias


def test_a_corpus_without_neutral_turns_gets_a_bias_past_the_turn_models_lean():
    rng = np.random.default_rng(2)
    logits, gold = {}, {}
    for corpus in CORPORA:
        labels = rng.integers(0, len(EKMAN) - 1, 300)  # no neutral gold anywhere
        values = rng.normal(0, 0.3, (300, len(EKMAN)))
        values[np.arange(300), labels] += 1.0
        values[:, EKMAN.index("neutral")] += 5.0  # a turn model that leans to neutral by 4 or more
        logits[corpus], gold[corpus] = values, [EKMAN[i] for i in labels]
    biases, _, scores = calibrate_registers(logits, gold)
    assert biases["support"] <= -5.0 and scores["support"]["support"] > 0.9


def test_text_evidence_gets_weight_where_it_tells_the_gold_and_none_where_it_is_noise():
    rng = np.random.default_rng(1)
    logits, gold, evidence = {}, {}, {}
    for corpus in CORPORA:
        labels = rng.integers(0, len(EKMAN), 400)
        logits[corpus] = rng.normal(0, 1, (400, len(EKMAN)))
        logits[corpus][np.arange(400), labels] += 0.5  # a weak turn model
        evidence[corpus] = rng.normal(0, 1, (400, len(EKMAN)))
        if corpus != "meld":  # the text model knows the gold except on MELD
            evidence[corpus][np.arange(400), labels] += 3.0
        gold[corpus] = [EKMAN[i] for i in labels]
    biases, weights, scores = calibrate_registers(logits, gold, evidence)
    assert weights["dailydialog"] >= 0.75 and weights["goemotions"] >= 0.75 and weights[GENERAL] > 0
    assert weights["meld"] <= 0.25
    assert all(w in TEXT_WEIGHT_GRID for w in weights.values())
    unweighted = calibrate_registers(logits, gold)[2]
    assert scores["dailydialog"]["dailydialog"] > unweighted["dailydialog"]["dailydialog"] + 0.2


def test_each_register_reads_its_own_head():
    rng = np.random.default_rng(3)
    per_head = rng.normal(0, 1, (5, len(REGISTERS), len(EKMAN)))
    flat = per_head.reshape(5, -1)
    for h, register in enumerate(REGISTERS):
        np.testing.assert_array_equal(register_logits(flat, list(REGISTERS), register), per_head[:, h])
    single = per_head[:, 0]
    assert all(register_logits(single, [], register) is single for register in REGISTERS)
    with pytest.raises(OptionError, match="no head for register 'meld'"):
        register_logits(flat[:, : 2 * len(EKMAN)], [GENERAL, "dailydialog"], "meld")


def test_registers_with_their_own_heads_are_calibrated_on_them():
    """Each register's head leans to neutral by its own amount; each bias undoes its own head's lean."""
    rng = np.random.default_rng(4)
    logits, gold = {}, {}
    leans = dict(zip(REGISTERS, (1.0, 2.0, 0.0, -1.0, 3.0), strict=True))
    for corpus in CORPORA:
        labels = rng.integers(0, len(EKMAN), 300)
        heads = np.repeat(rng.normal(0, 1, (300, 1, len(EKMAN))), len(REGISTERS), 1)
        heads[np.arange(300), :, labels] += 1.5
        for h, lean in enumerate(leans.values()):  # the heads differ in their lean only
            heads[:, h, EKMAN.index("neutral")] += lean
        logits[corpus], gold[corpus] = heads.reshape(300, -1), [EKMAN[i] for i in labels]
    biases, _, scores = calibrate_registers(logits, gold, heads=list(REGISTERS))
    assert biases["support"] < biases["dailydialog"] < biases[GENERAL] < biases["meld"] < biases["goemotions"]
    assert abs(biases["meld"]) <= 0.5 and biases["support"] <= -2.0
    for corpus in CORPORA:  # scored with its own head and bias, its register does at least as well as general's
        assert scores[corpus][corpus] >= scores[GENERAL][corpus] - 1e-9


def test_a_windows_loss_is_taken_on_its_corpus_head_and_on_generals():
    from affectlab.train.turns import _loss

    model = TurnEmotionModel(len(EKMAN), n_heads=len(REGISTERS))
    tokenizer = TurnTokenizer(96)
    tokens = tokenizer.turns(["I lost my keys again.", "Oh no, that is awful."])
    (packed, _), = pack_turns(tokens, ["A", "B"], tokenizer, 320, 4)
    batch = [TurnExample(packed, [EKMAN.index("sadness"), EKMAN.index("sadness")], None, "support")]
    model.eval()
    _loss(model, batch, list(REGISTERS)).backward()
    grad = model.head[1].weight.grad.unflatten(0, (len(REGISTERS), len(EKMAN))).abs().sum((1, 2))
    learning = {register for register, g in zip(REGISTERS, grad, strict=True) if g > 0}
    assert learning == {GENERAL, "support"}


# --- older turn models, several speakers ---------------------------------------------------------------------

OLD_LAYOUT_TURNS = [
    {"speaker": "Ann", "text": "I finally got the job at the museum!"},
    {"speaker": "Ben", "text": "No way, congratulations!"},
    {"speaker": "Cleo", "text": "Wait, which museum? I'm so jealous."},
    {"speaker": "Ann", "text": "The one by the river. I start on Monday and I'm terrified."},
]
# What the code before text readings and registers gave for the artifact below (a fixed head on the base encoder).
OLD_LAYOUT_PROBABILITIES = [
    [0.0011, 0.0498, 0.0001, 0.0164, 0.8249, 0.0003, 0.1074],
    [0.0000, 0.1100, 0.0448, 0.0234, 0.7974, 0.0231, 0.0014],
    [0.0303, 0.3832, 0.0268, 0.0671, 0.2031, 0.0806, 0.2090],
    [0.0216, 0.0437, 0.0100, 0.6857, 0.0672, 0.0235, 0.1483],
]


def test_a_turn_model_of_the_first_layout_scores_as_before(tmp_path):
    """A config without text_features and with one neutral bias, as dialogue-turns-minilm 2026-11 ships."""
    model = TurnEmotionModel(len(EKMAN))
    head = model.head[1]
    rng = np.random.RandomState(0)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(rng.normal(0, 0.5, head.weight.shape).astype(np.float32)))
        head.bias.copy_(torch.from_numpy(rng.normal(0, 0.1, head.bias.shape).astype(np.float32)))
    save_finetuned(model, tmp_path / WEIGHTS_FILE)
    (tmp_path / CONFIG_FILE).write_text(json.dumps({
        "name": "old-layout", "task": "turn-emotions", "labels": list(EKMAN),
        "base_model": "sentence-transformers/all-MiniLM-L6-v2", "turn_tokens": 96, "window_tokens": 320,
        "context_turns": 4, "neutral_bias": 0.7, "threshold": 0.5, "trained": {}}))
    for register in ("general", "meld"):
        analyzer = ConversationAnalyzer(turn_model=tmp_path, threads=1, register=register)
        assert analyzer.text_analyzer is None
        _, _, probs, _ = analyzer.turn_emotions(OLD_LAYOUT_TURNS)
        np.testing.assert_allclose(probs, OLD_LAYOUT_PROBABILITIES, atol=2e-4)


def test_three_speakers_get_their_own_letters_in_one_window():
    tokenizer = TurnTokenizer(96)
    letters = speaker_letters([t["speaker"] for t in SCENE])
    assert letters == ["A", "B", "C", "A"]
    ((packed, skip),) = pack_turns(tokenizer.turns([t["text"] for t in SCENE]), letters, tokenizer, 320, 4)
    prefixes = {letter: tokenizer.prefix(letter) for letter in "ABC"}
    assert len({tuple(p) for p in prefixes.values()}) == 3 and skip == 0
    for letter in "ABC":
        ids = prefixes[letter]
        assert any(packed.ids[i : i + len(ids)] == ids for i in range(len(packed.ids)))


def test_cli_conversation_with_three_speakers(tmp_path):
    (tmp_path / "scene.json").write_text(json.dumps(SCENE))
    result = runner.invoke(app, ["conversation", str(tmp_path / "scene.json"), "--json", "--threads", "1"])
    assert result.exit_code == 0, result.output
    turns = json.loads(result.stdout)["turns"]
    assert [t["speaker"] for t in turns] == [t["speaker"] for t in SCENE]
    assert all(c["turn"] <= t["index"] for t in turns for c in t["causes"])


# --- the recipe, end to end ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def smoke_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("turns") / "model"
    result = runner.invoke(app, ["train", "turns", "--data-dir", str(DATA_DIR), "--limit", "4", "--epochs", "1",
                                 "--goemotions", "40", "--output", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


@needs_data
def test_smoke_training_writes_a_turn_model_that_reads_the_text_model(smoke_model, tmp_path):
    config = json.loads((smoke_model / "config.json").read_text())
    assert set(config["neutral_bias"]) == set(REGISTERS)
    assert config["text_features"]["model"] == "text-minilm" and config["text_features"]["readings"] == list(READINGS)
    trained = config["trained"]
    assert trained["recipe"]["meld_repeat"] == 2 and trained["recipe"]["seed"] == 13
    data = trained["data"]
    assert data["meld"]["train"]["conversations"] == 4 and data["goemotions"]["train"]["turns"] == 4
    assert (smoke_model / "text-readings.npz").is_file()
    (tmp_path / "scene.json").write_text(json.dumps(SCENE))
    result = runner.invoke(app, ["conversation", str(tmp_path / "scene.json"), "--turn-model", str(smoke_model),
                                 "--register", "meld", "--json", "--no-causes", "--threads", "1"])
    assert result.exit_code == 0, result.output
    turns = json.loads(result.stdout)["turns"]
    assert [t["speaker"] for t in turns] == [t["speaker"] for t in SCENE] and all(t["emotions"] for t in turns)
    analyzer = ConversationAnalyzer(turn_model=smoke_model, register="meld", threads=1)
    scores = analyzer.turn_logits([SCENE])
    shifted = scores.logits[0] + config["text_weight"]["meld"] * ekman_evidence(scores.readings[0])
    shifted[:, EKMAN.index("neutral")] += config["neutral_bias"]["meld"]
    expected = np.exp(shifted) / np.exp(shifted).sum(1, keepdims=True)
    np.testing.assert_allclose(analyzer.turn_emotions(SCENE)[2], expected, atol=1e-5)


@needs_data
def test_smoke_training_with_a_head_per_register(tmp_path):
    folder = tmp_path / "model"
    result = runner.invoke(app, ["train", "turns", "--data-dir", str(DATA_DIR), "--limit", "3", "--epochs", "1",
                                 "--goemotions", "20", "--register-heads", "--output", str(folder)])
    assert result.exit_code == 0, result.output
    config = json.loads((folder / "config.json").read_text())
    assert config["heads"] == list(REGISTERS) and config["trained"]["recipe"]["register_heads"] is True
    assert set(config["neutral_bias"]) == set(REGISTERS)
    reads = {}
    for register in ("meld", GENERAL):
        analyzer = ConversationAnalyzer(turn_model=folder, register=register, threads=1)
        scores = analyzer.turn_logits([SCENE])
        own = scores.logits[0].reshape(len(SCENE), len(REGISTERS), len(EKMAN))[:, REGISTERS.index(register)]
        shifted = own + config["text_weight"][register] * ekman_evidence(scores.readings[0])
        shifted[:, EKMAN.index("neutral")] += config["neutral_bias"][register]
        reads[register] = analyzer.turn_emotions(SCENE)[2]
        np.testing.assert_allclose(reads[register], np.exp(shifted) / np.exp(shifted).sum(1, keepdims=True),
                                   atol=1e-5)
    assert not np.allclose(reads["meld"], reads[GENERAL])


@needs_data
def test_eval_conversation_on_the_smoke_model(smoke_model, tmp_path):
    result = runner.invoke(app, ["eval", "conversation", "--data-dir", str(DATA_DIR), "--model", str(smoke_model),
                                 "--limit", "2", "--register", "dailydialog", "--reports-dir", str(tmp_path),
                                 "--threads", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "eval-conversation.json").read_text())
    assert report["command"].startswith("affectlab eval conversation ") and report["register"] == "dailydialog"
    rows = {(row["corpus"], row["set"]): row for row in report["table"]}
    meld = rows[("MELD", "held-out 10% of train")]
    assert meld["metric"] == "weighted-F1 over 7 classes" and meld["own_register"] == "meld"
    assert meld["turns"] == sum(len(d.texts) for d in load_meld_part("heldout", DATA_DIR)[:2])
    assert {a["model"] for a in meld["anchors"]} == {"RoBERTa-base", "COSMIC", "EmoBERTa", "InstructERC"}
    assert rows[("DailyDialog", "test")]["anchors"][0]["value"] == 0.585
    assert rows[("RECCON-IEMOCAP", "test")]["own_register"] is None
    assert [t["turn"] for t in report["chat"]["turns"]] == [4, 5, 6]
    assert report["chat"]["turns"][0]["text"].startswith("I applied for two")  # the turns issue 28 quotes
    alone = report["chat"]["turns"][0]["read_alone"]  # the text model's top reading of the turn alone
    assert len(alone) == 1 and set(alone) <= set(EKMAN) and 0 < next(iter(alone.values())) <= 1
    assert all(0 <= row["value"] <= 1 for row in report["table"])
    short = tmp_path / "short.json"
    short.write_text(json.dumps([{"speaker": "A", "text": "Hi."}, {"speaker": "B", "text": "Hello."}]))
    refused = runner.invoke(app, ["eval", "conversation", "--data-dir", str(DATA_DIR), "--model", str(smoke_model),
                                  "--chat", str(short), "--reports-dir", str(tmp_path / "none")])
    assert refused.exit_code == 2 and "short.json: 2 turns" in refused.output  # before any data set is scored
    assert not (tmp_path / "none").exists()
