"""affectlab.memory: storage, the recall strategies against a brute-force reference, filters, persistence,
model ids, concurrent processes, a process killed mid-insert, prompts, the CLI, and the eval and bench on
small inputs. Every store is made here, in a temporary folder, with a hash encoder (no model) except where
marked ``model``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from affectlab.errors import OptionError
from affectlab.llm.base import Generation
from affectlab.memory import (
    EmotionalMemory,
    InvalidMemory,
    ModelMismatch,
    RecallingLM,
    distribution,
    memory_lines,
    reading,
)
from affectlab.taxonomy import ED_EMOTIONS, GOEMOTIONS
from conftest import DATA_DIR, needs_data
from memory_fakes import HashEncoder

TESTS = Path(__file__).resolve().parent
WORDS = ["rain", "exam", "dog", "cake", "train", "letter", "garden", "storm", "phone", "beach"]


def _texts(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    feelings = ["joy", "sadness", "fear", "anger", "neutral"]
    return [f"{' '.join(rng.choice(WORDS, 3))} {feelings[i % 5]} {i}" for i in range(n)]


@pytest.fixture
def memory(tmp_path):
    store = EmotionalMemory(tmp_path / "memory", encoder=HashEncoder())
    texts = _texts(120)
    store.add(texts, speaker=[["ana", "ben", "O'Brien"][i % 3] for i in range(120)],
              time=[datetime(2024, 1 + i % 12, 1, tzinfo=UTC) for i in range(120)],
              metadata=[{"n": i} for i in range(120)])
    return store


def _reference(memory: EmotionalMemory, query: str, strategy: str, k: int, weight: float = 0.3,
               candidates: int = 20) -> list[str]:
    """The top k texts by brute force over every stored text, recomputed from the encoder."""
    rows = memory.store.scan(None, ["text"])
    texts = rows["text"].to_pylist()
    stored, asked = HashEncoder().encode(texts), HashEncoder().encode([query])
    semantic = stored.semantic @ asked.semantic[0]
    emotion = stored.situations @ asked.situations[0]
    if strategy == "combined":
        order = np.argsort(-((1 - weight) * semantic + weight * emotion), kind="stable")
    elif strategy in ("semantic", "emotion"):
        order = np.argsort(-(semantic if strategy == "semantic" else emotion), kind="stable")
    else:
        first, second = (semantic, emotion) if strategy == "semantic-then-emotion" else (emotion, semantic)
        pool = np.argsort(-first, kind="stable")[:candidates]
        order = pool[np.argsort(-second[pool], kind="stable")]
    return [texts[i] for i in order[:k]]


@pytest.mark.parametrize("strategy, options", [
    ("semantic", {}), ("emotion", {}), ("combined", {"emotion_weight": 0.3}), ("combined", {"emotion_weight": 0.8}),
    ("semantic-then-emotion", {"candidates": 20}), ("emotion-then-semantic", {"candidates": 20}),
])
def test_each_strategy_matches_a_brute_force_ranking(memory, strategy, options):
    query = "storm letter sadness"
    recall = memory.recall(query, 5, strategy=strategy, **options)
    expected = _reference(memory, query, strategy, 5, options.get("emotion_weight", 0.3),
                          options.get("candidates", 20))
    assert [hit.text for hit in recall] == expected
    assert recall.strategy == strategy and recall.exact


def test_hits_say_why_with_both_similarities(memory):
    recall = memory.recall("exam fear", 3, strategy="combined", emotion_weight=0.4)
    for hit in recall:
        assert -1 <= hit.semantic <= 1 and -1 <= hit.emotion <= 1
        assert hit.score == pytest.approx(0.6 * hit.semantic + 0.4 * hit.emotion, abs=1e-5)
        assert f"semantic {hit.semantic:.2f}" in hit.why and f"emotion {hit.emotion:.2f}" in hit.why
    sequential = memory.recall("exam fear", 2, strategy="semantic-then-emotion", candidates=10)
    assert "of the 10 closest in semantic" in sequential[0].why and "re-ranked 1st by emotion" in sequential[0].why
    assert json.loads(json.dumps(recall.to_dict()))["hits"][0]["why"] == recall[0].why


def test_a_given_emotion_replaces_the_querys_own(memory):
    sad = memory.recall("cake beach joy", 5, strategy="emotion", emotion="sadness")
    assert all("sadness" in hit.text for hit in sad)
    assert sad.query_emotions["sadness"] == 1.0
    mapping = memory.recall("cake beach", 5, strategy="emotion", emotion={"fear": 0.9, "valence": 1.5})
    assert all("fear" in hit.text for hit in mapping)
    with pytest.raises(InvalidMemory, match="unknown emotion 'glee'"):
        memory.recall("cake", emotion="glee")
    terrified = memory.recall("cake beach joy", 5, strategy="emotion", emotion="terrified")  # an ED name
    assert all("fear" in hit.text for hit in terrified) and terrified.query_situations["terrified"] == 1.0
    assert terrified.query_emotions["fear"] == 1.0  # read back through the mapping
    assert all(hit.situation in ("afraid", "terrified") for hit in terrified)
    with pytest.raises(InvalidMemory, match="emotion 'lonely': expected a number"):
        memory.recall("cake", emotion={"lonely": "very"})
    with pytest.raises(InvalidMemory, match="not both"):
        memory.recall("cake", emotion={"joy": 0.5, "lonely": 0.5})


def test_given_readings_become_distributions_over_the_situation_emotions():
    probs, vad, told = reading({"sadness": 0.8, "arousal": 2.0})
    assert probs[GOEMOTIONS.index("sadness")] == pytest.approx(0.8) and vad.tolist() == [3.0, 2.0, 3.0]
    assert told.sum() == pytest.approx(1.0) and ED_EMOTIONS[int(told.argmax())] == "sad"
    _, _, none = reading({"neutral": 1.0})  # no situation emotion is neutral: none is preferred
    assert np.allclose(none, 1 / len(ED_EMOTIONS))
    _, _, both = reading({"caring": 1.0})  # a name of both sets
    assert both[ED_EMOTIONS.index("caring")] == pytest.approx(1.0)
    assert np.allclose(distribution(np.array([[0.0, 2.0], [0.0, 0.0]])), [[0.0, 1.0], [0.5, 0.5]])


def test_filters_run_in_the_database(memory):
    recall = memory.recall("dog joy", 10, speaker="O'Brien", since="2024-06-01", until="2024-09-01T00:00:00Z")
    assert len(recall) > 0
    for hit in recall:
        assert hit.speaker == "O'Brien"
        assert datetime(2024, 6, 1, tzinfo=UTC) <= hit.time < datetime(2024, 9, 1, tzinfo=UTC)
    both = memory.recall("dog joy", 50, speaker=["ana", "ben"], strategy="semantic")
    assert {hit.speaker for hit in both} == {"ana", "ben"}
    assert memory.recall("dog", 5, speaker="nobody").hits == []


def test_metadata_and_times_round_trip(tmp_path):
    memory = EmotionalMemory(tmp_path / "m", encoder=HashEncoder())
    (first, second) = memory.add(["one joy", "two fear"], time=["2024-05-01T20:30:00+02:00", 1700000000],
                                 metadata=[{"place": "Zürich", "tags": ["a"]}, None])
    hits = {hit.id: hit for hit in memory.recall("one", 2)}
    assert hits[first].time == datetime(2024, 5, 1, 18, 30, tzinfo=UTC)
    assert hits[second].time == datetime.fromtimestamp(1700000000, UTC)
    assert hits[first].metadata == {"place": "Zürich", "tags": ["a"]} and hits[second].metadata == {}
    assert hits[first].feeling == "joy"


@pytest.mark.parametrize("call, message", [
    (lambda m: m.add(["ok", "  "]), "text 1: text is empty"),
    (lambda m: m.add(["ok", "\u200b\u2060 "]), "text 1: text is empty"),
    (lambda m: m.add(["ok", 3]), "text 1: text must be a string"),
    (lambda m: m.add(5), "texts: expected a string or a list of strings, not int"),
    (lambda m: m.add(None), "texts: expected a string or a list of strings, not NoneType"),
    (lambda m: m.add({"a": 1}), "texts: expected a string or a list of strings, not dict"),
    (lambda m: m.add(["a", "b"], speaker=["x"]), "speaker: 1 values for 2 texts"),
    (lambda m: m.add(["a", "b"], speaker=["x", "\ud800"]), "speaker 1: the name contains an unpaired surrogate"),
    (lambda m: m.add("a", time="yesterday"), "time 0: 'yesterday' is neither"),
    (lambda m: m.add("a", time="9999-12-31T23:59:59-05:00"), "time 0: 9999-12-31T23:59:59-05:00 is past the last"),
    (lambda m: m.add("a", metadata={"x": object()}), "metadata 0: not JSON-serializable"),
    (lambda m: m.add("a", metadata="x"), "metadata 0: expected a dict"),
    (lambda m: m.add(["a", "b"], metadata=[None, {"\ud800": 1}]), "metadata 1: its JSON contains an unpaired"),
    (lambda m: m.recall("a", strategy="mood"), "strategy must be one of"),
    (lambda m: m.recall("a", strategy="semantic", emotion_weight=0.5), "emotion_weight applies to the combined"),
    (lambda m: m.recall("a", emotion_weight=1.5), "emotion_weight must be a number between 0 and 1"),
    (lambda m: m.recall("a", emotion_weight="0.5"), "emotion_weight must be a number between 0 and 1, not '0.5'"),
    (lambda m: m.recall("a", 5, strategy="semantic-then-emotion", candidates=3), "candidates must be a whole"),
    (lambda m: m.recall("a", 5, strategy="semantic-then-emotion", candidates=10**12), "candidates .* to 10,000"),
    (lambda m: m.recall("a", 0), "k must be a whole number"),
    (lambda m: m.recall("a", True), "k must be a whole number from 1 to 10,000, not True"),
    (lambda m: m.recall("a", 10**12), "k must be a whole number from 1 to 10,000"),
    (lambda m: m.recall(""), "query: text is empty"),
    (lambda m: m.recall("\ud800"), "query: text contains an unpaired surrogate"),
    (lambda m: m.recall("a", speaker=[]), "speaker filter"),
    (lambda m: m.recall("a", speaker=5), "speaker filter: expected a string or a list of strings, not int"),
    (lambda m: m.recall("a", speaker={"ana": 1}), "speaker filter: expected a string or a list of strings, not dict"),
    (lambda m: m.recall("a", speaker="\ud800"), "speaker filter: a name contains an unpaired surrogate"),
    (lambda m: m.recall("a", until="9999-12-31T23:59:59-05:00"), "until: 9999-12-31T23:59:59-05:00 is past"),
    (lambda m: m.recall("a", emotion={"joy": 2}), "between 0 and 1"),
    (lambda m: m.recall("a", emotion=5), "emotion: expected a TextAffect, .* not int"),
    (lambda m: m.recall("a", emotion=["joy"]), "emotion: expected a TextAffect, .* not list"),
    (lambda m: m.forget(5), "ids: expected a string or a list of strings, not int"),
    (lambda m: m.forget(None), "ids: expected a string or a list of strings, not NoneType"),
    (lambda m: m.forget(["\ud800"]), "ids 0: expected a memory's id"),
    (lambda m: m.create_index(), "holds no memories to index"),
])
def test_bad_input_gets_a_clear_error(tmp_path, call, message):
    memory = EmotionalMemory(tmp_path / "m", encoder=HashEncoder())
    with pytest.raises(InvalidMemory, match=message):
        call(memory)
    assert len(memory) == 0


@pytest.mark.parametrize("call, message", [
    (lambda path: EmotionalMemory(path, encoder=HashEncoder(), nprobes=-5), "nprobes must be a whole number"),
    (lambda path: EmotionalMemory(path, encoder=HashEncoder(), nprobes=10**12), "nprobes must be at most 100,000"),
    (lambda path: EmotionalMemory(path, encoder=HashEncoder(), refine_factor=-1), "refine_factor must be a whole"),
    (lambda path: EmotionalMemory(path, encoder=HashEncoder()).create_index(partitions=0), "partitions must be a"),
    (lambda path: EmotionalMemory(path, encoder=HashEncoder()).create_index(partitions=-2), "partitions must be a"),
])
def test_bad_settings_are_refused_before_lancedb_sees_them(tmp_path, call, message):
    EmotionalMemory(tmp_path / "m", encoder=HashEncoder()).add(_texts(10))
    with pytest.raises(OptionError, match=message):
        call(tmp_path / "m")
    assert not EmotionalMemory(tmp_path / "m", encoder=HashEncoder()).info().indexed


def test_a_path_that_cannot_hold_a_memory_is_refused(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidMemory, match=r"file/sub: .*file is a file, not a folder"):
        EmotionalMemory(tmp_path / "file" / "sub", encoder=HashEncoder())
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidMemory, match="path: name the memory's folder, not ''"):
        EmotionalMemory("", encoder=HashEncoder())
    with pytest.raises(InvalidMemory, match="holds no memory; create one by adding memories"):
        EmotionalMemory(tmp_path, encoder=HashEncoder(), create=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_times_at_the_ends_of_the_calendar(tmp_path):
    memory = EmotionalMemory(tmp_path / "m", encoder=HashEncoder())
    memory.add(["first joy", "last fear"], time=["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
    assert len(memory.recall("joy", 5, since="0001-01-01")) == 2
    assert [hit.text for hit in memory.recall("joy", 5, until="0001-01-01T00:00:01Z")] == ["first joy"]
    assert memory.recall("joy", 5, until="0001-01-01").hits == []


def test_errors_name_the_row_among_all_the_texts_of_an_add(tmp_path):
    memory = EmotionalMemory(tmp_path / "m", encoder=HashEncoder(max_chars=50))
    texts = [f"row {i}" for i in range(299)]
    with pytest.raises(InvalidMemory, match="^text 299: text is empty"):
        memory.add([*texts, "\u200b"])
    with pytest.raises(InvalidMemory, match="^text 299: text is 60 characters, over the limit of 50"):
        memory.add([*texts, "x" * 60])  # found by the encoder, in the second chunk of 256
    with pytest.raises(InvalidMemory, match="^query: text is 60 characters"):
        memory.recall("x" * 60)
    assert len(memory) == 0


def test_an_add_is_all_or_nothing(tmp_path):
    memory = EmotionalMemory(tmp_path / "m", encoder=HashEncoder(fail_on="poison"))
    memory.add(["kept"])
    texts = [f"row {i}" for i in range(600)]
    texts[400] = "poison"  # in the second chunk of 256: the first chunk was already handed to the database
    with pytest.raises(ValueError, match="cannot encode 'poison'"):
        memory.add(texts)
    assert len(memory) == 1


def test_memories_persist_across_processes(tmp_path):
    folder = tmp_path / "m"
    _python(f"""
        from memory_fakes import HashEncoder
        from affectlab.memory import EmotionalMemory
        EmotionalMemory({str(folder)!r}, encoder=HashEncoder()).add(["we won the final joy", "the exam fear"],
                                                                   speaker="ana")
    """)
    recall = EmotionalMemory(folder, encoder=HashEncoder()).recall("we won the final joy", 1)
    assert recall[0].text == "we won the final joy" and recall[0].semantic == pytest.approx(1.0, abs=1e-5)


def test_another_models_vectors_are_refused_until_reembedded(tmp_path):
    folder = tmp_path / "m"
    EmotionalMemory(folder, encoder=HashEncoder("hash-v1")).add(_texts(30))
    newer = EmotionalMemory(folder, encoder=HashEncoder("hash-v2"))
    assert newer.info().stale == 30
    with pytest.raises(ModelMismatch, match=r"30 of 30 memories were embedded with hash-v1.*hash-v2.*"
                                            r"affectlab memory reembed"):
        newer.recall("rain")
    with pytest.raises(ModelMismatch):
        newer.add("more")
    assert newer.reembed(batch_size=7) == 30
    assert newer.info().stale == 0 and len(newer) == 30
    assert len(newer.recall("rain", 3)) == 3
    with pytest.raises(ModelMismatch, match="hash-v2"):
        EmotionalMemory(folder, encoder=HashEncoder("hash-v1")).recall("rain")


def test_a_reembed_by_another_process_is_seen_by_a_memory_already_open(tmp_path, monkeypatch):
    folder = tmp_path / "m"
    memory = EmotionalMemory(folder, encoder=HashEncoder("hash-v1"))
    memory.add(_texts(10))
    assert len(memory.recall("rain", 3)) == 3
    counts = []
    monkeypatch.setattr(memory.store, "count", lambda where=None: counts.append(where) or 0)
    memory.recall("rain")
    memory.add("more joy")
    memory.recall("rain")
    assert counts == []  # nothing changed but this memory's own add: the stale memories are not counted again
    monkeypatch.undo()
    _python(f"""
        from memory_fakes import HashEncoder
        from affectlab.memory import EmotionalMemory
        assert EmotionalMemory({str(folder)!r}, encoder=HashEncoder("hash-v2")).reembed() == 11
    """)
    with pytest.raises(ModelMismatch, match="11 of 11 memories were embedded with hash-v2"):
        memory.add("mixed in")
    with pytest.raises(ModelMismatch):
        memory.recall("rain")
    assert len(memory) == 11


def test_a_read_only_memory_is_one_clear_error(cli, tmp_path, monkeypatch):
    notes = tmp_path / "notes.txt"
    notes.write_text("\n".join(_texts(12)) + "\n", encoding="utf-8")
    store = tmp_path / "store"
    assert cli("memory", "add", store, notes).exit_code == 0
    table = store / "memories.lance"
    folders = [table, *(p for p in table.rglob("*") if p.is_dir())]
    for folder in folders:
        folder.chmod(0o555)
    if os.geteuid() == 0:  # root may write anyway: let the check see what any other user would
        access = os.access
        monkeypatch.setattr(os, "access", lambda path, mode: access(path, mode) and not (
            mode & os.W_OK and Path(path).is_relative_to(table)))
    try:
        for args in (("add", store, notes), ("index", store)):
            refused = cli("memory", *args)
            assert refused.exit_code == 2 and f"{store}: the memory is read-only here" in refused.stderr
            assert refused.stderr.count("error:") == 1 and "Traceback" not in refused.output
        memory = EmotionalMemory(store, encoder=HashEncoder())
        with pytest.raises(InvalidMemory, match="read-only"):
            memory.forget(memory.recall("rain", 1)[0].id)
        with pytest.raises(InvalidMemory, match="read-only"):
            EmotionalMemory(store, encoder=HashEncoder("hash-v2")).reembed()
        assert len(memory) == 12 and not memory.info().indexed
    finally:
        for folder in folders:
            folder.chmod(0o755)


def test_vectors_given_to_add_must_come_from_the_memorys_model(tmp_path):
    memory = EmotionalMemory(tmp_path / "m", encoder=HashEncoder("hash-v1"))
    with pytest.raises(ModelMismatch, match="computed by hash-v9"):
        memory.add(["a"], encoded=HashEncoder("hash-v9").encode(["a"]))
    memory.add(["a"], encoded=memory.encode(["a"]))
    assert len(memory) == 1


def test_a_folder_of_something_else_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidMemory, match="is a file"):
        EmotionalMemory(tmp_path / "file", encoder=HashEncoder())
    EmotionalMemory(tmp_path / "m", encoder=HashEncoder()).add("a")
    with pytest.raises(ModelMismatch, match="stored vectors have 48 numbers"):
        EmotionalMemory(tmp_path / "m", encoder=type("Wide", (HashEncoder,), {"dimension": 64})())


def test_forget_removes_memories(memory):
    target = memory.recall("garden", 1)[0]
    memory.forget([target.id])
    assert len(memory) == 119 and target.id not in [h.id for h in memory.recall("garden", 5)]


def _python(code: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=300, **kwargs)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


WRITER = """
import sys
from memory_fakes import HashEncoder
from affectlab.memory import EmotionalMemory
memory = EmotionalMemory(sys.argv[1], encoder=HashEncoder())
for batch in range(25):
    memory.add([f"{sys.argv[2]} {batch} {i} joy" for i in range(4)], speaker=sys.argv[2])
"""

READER = """
import sys, time
from pathlib import Path
from memory_fakes import HashEncoder
from affectlab.memory import EmotionalMemory
while not Path(sys.argv[1]).exists():
    time.sleep(0.01)
time.sleep(0.2)
memory = EmotionalMemory(sys.argv[1], encoder=HashEncoder())
seen, reads = 0, 0
while not Path(sys.argv[2]).exists() or reads < 3:
    count = len(memory)
    assert count >= seen and count % 4 == 0, (count, seen)  # whole adds only, never fewer than before
    seen = count
    for hit in memory.recall("writer joy", 3, strategy="combined"):
        assert hit.text.endswith("joy") and hit.speaker in ("a", "b")
    reads += 1
print(reads, seen)
"""


def test_concurrent_writers_and_a_reader_in_other_processes(tmp_path):
    folder, done_flag = tmp_path / "shared-memory", tmp_path / "writers-done"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    reader = subprocess.Popen([sys.executable, "-c", READER, str(folder), str(done_flag)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder), name], env=env, stderr=subprocess.PIPE,
                                text=True) for name in ("a", "b")]  # both may be the one that creates the table
    for writer in writers:
        assert writer.wait(timeout=600) == 0, writer.stderr.read()[-3000:]
    done_flag.write_text("")
    out, err = reader.communicate(timeout=600)
    assert reader.returncode == 0, err[-3000:]
    memory = EmotionalMemory(folder, encoder=HashEncoder())
    texts = memory.store.scan(None, ["text"])["text"].to_pylist()
    assert len(memory) == 200 and len(set(texts)) == 200
    assert int(out.split()[0]) >= 3


def test_a_process_killed_during_an_insert_leaves_the_store_readable(tmp_path):
    folder = tmp_path / "m"
    EmotionalMemory(folder, encoder=HashEncoder()).add([f"before {i} joy" for i in range(10)])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        from memory_fakes import HashEncoder
        from affectlab.memory import EmotionalMemory
        memory = EmotionalMemory({str(folder)!r}, encoder=HashEncoder(delay=0.3))
        memory.add([f"during {{i}} fear" for i in range(256 * 40)])
    """)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in child.stdout:  # three chunks encoded and handed to the database: it is writing
        if line.startswith("encoded 3"):
            break
    else:
        pytest.fail(f"the writer ended before it was stopped: {child.stderr.read()[-3000:]}")
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=60) == -signal.SIGKILL
    memory = EmotionalMemory(folder, encoder=HashEncoder())
    assert len(memory) == 10
    assert all(hit.text.startswith("before") for hit in memory.recall("during 1 fear", 10))
    memory.add("after joy")
    assert len(memory) == 11


def test_an_index_serves_recall_and_exact_bypasses_it(tmp_path):
    memory = EmotionalMemory(tmp_path / "m", encoder=HashEncoder())
    memory.add(_texts(600))
    memory.create_index("IVF_FLAT", partitions=4)
    assert memory.info().indexed
    indexed = memory.recall("rain exam sadness", 5, strategy="semantic")
    exact = memory.recall("rain exam sadness", 5, strategy="semantic", exact=True)
    assert not indexed.exact and exact.exact
    assert [h.text for h in exact] == _reference(memory, "rain exam sadness", "semantic", 5)
    memory.add("new garden joy")  # after the index: searched exactly until optimize folds it in
    assert memory.recall("new garden joy", 1)[0].text == "new garden joy"
    memory.optimize()
    assert len(memory) == 601


class _EchoLM:
    name, context_length = "echo", 400

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def generate(self, prompt: str, **options) -> Generation:
        self.prompts.append(prompt)
        return Generation("That sounds hard.", 4, "stop")

    def score(self, prompt, continuations):
        self.prompts.append(prompt)
        return [0.0 for _ in continuations]

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def test_memory_lines_show_when_who_and_how_it_felt(memory):
    hits = memory.recall("storm sadness", 2, speaker="ana").hits
    block = memory_lines(hits)
    assert block.splitlines()[0] == "Things remembered from earlier:"
    assert block.splitlines()[1].startswith(f"- ({hits[0].time.date().isoformat()}, ana, felt {hits[0].feeling}) ")
    assert memory_lines([]) == ""


def test_a_recalling_language_model_puts_memories_in_its_prompts(memory):
    inner = _EchoLM()
    llm = RecallingLM(inner, memory, k=3, reserve=60, strategy="emotion", emotion="fear")
    assert llm.context_length == 340
    llm.generate("Speaker: the storm scared me.\nListener:")
    prompt = inner.prompts[-1]
    assert prompt.startswith("Things remembered from earlier:\n- ")
    assert prompt.endswith("Speaker: the storm scared me.\nListener:")
    assert [h.text for h in llm.last_recall][0] in prompt and all("fear" in h.text for h in llm.last_recall)
    tight = RecallingLM(inner, memory, k=3, reserve=14)  # room for the header and one memory at most
    tight.score("Speaker: hello", [" a"])
    assert inner.prompts[-1].count("\n- ") <= 1 and inner.count_tokens(inner.prompts[-1]) <= 14 + 2


def test_a_recalling_language_model_recalls_nothing_for_an_invisible_query(memory):
    inner = _EchoLM()
    llm = RecallingLM(inner, memory, query=lambda prompt: "\u200b\u2060 ")
    assert llm.generate("Speaker: hello").text and inner.prompts[-1] == "Speaker: hello"
    assert llm.last_recall is None


def test_the_responder_puts_recalled_memories_in_its_prompt(memory):
    from affectlab.empathy import EmpatheticResponder

    inner = _EchoLM()
    responder = EmpatheticResponder(inner, guided=False, strategy_model=None, memory=memory, recall_k=2,
                                    recall_strategy="semantic")
    response = responder.respond([{"speaker": "me", "text": "storm letter sadness"},
                                  {"speaker": "you", "text": "oh no"}, {"speaker": "me", "text": "dog rain joy"}])
    assert len(response.memories) == 2
    assert response.memories[0]["text"] in response.prompt and "Things remembered from earlier:" in response.prompt
    assert response.memories[0]["text"] == memory.recall("dog rain joy", 1, strategy="semantic")[0].text
    plain = EmpatheticResponder(inner, guided=False, strategy_model=None).respond([{"speaker": "me", "text": "hi"}])
    assert plain.memories == [] and "remembered" not in plain.prompt


@pytest.fixture
def cli(monkeypatch):
    """The CLI with the hash encoder in place of the models."""
    import affectlab.memory.memory as module
    from affectlab.cli import app

    encoder = {"id": "hash-v1", "made": 0}

    def make() -> HashEncoder:
        encoder["made"] += 1
        return HashEncoder(encoder["id"], max_chars=200)

    monkeypatch.setattr(module, "AffectEncoder", make)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args])

    invoke.encoder = encoder
    return invoke


def test_cli_adds_files_and_recalls(cli, tmp_path):
    posts = tmp_path / "posts.csv"
    posts.write_text("text,who,at,topic\nwe won the final joy,ana,2024-05-01T18:00:00Z,sport\n"
                     "my dog is ill sadness,ben,2024-06-01,pets\n", encoding="utf-8")
    notes = tmp_path / "notes.jsonl"
    notes.write_text(json.dumps({"text": "the storm fear", "who": "ana", "at": 1700000000}) + "\n", encoding="utf-8")
    store = tmp_path / "store"
    added = cli("memory", "add", store, posts, notes, "--speaker-column", "who", "--time-column", "at")
    assert added.exit_code == 0, added.output
    assert "added 3 memories" in added.stdout
    recalled = cli("memory", "recall", store, "my dog is ill sadness", "-k", "2", "--json")
    assert recalled.exit_code == 0, recalled.output
    result = json.loads(recalled.stdout)
    assert result["hits"][0]["text"] == "my dog is ill sadness" and result["hits"][0]["metadata"] == {"topic": "pets"}
    assert result["hits"][0]["speaker"] == "ben"
    queries = tmp_path / "queries.txt"
    queries.write_text("the storm fear\nwe won\n", encoding="utf-8")
    batch = cli("memory", "recall", store, "-i", queries, "-k", "1", "--speaker", "ana")
    assert batch.exit_code == 0, batch.output
    lines = [json.loads(x) for x in (tmp_path / "queries.recall.jsonl").read_text().splitlines()]
    assert [line["row"] for line in lines] == [1, 2] and lines[0]["hits"][0]["text"] == "the storm fear"
    table = cli("memory", "recall", store, "we won the final joy", "--strategy", "semantic-then-emotion",
                "--candidates", "3", "-k", "1")
    assert table.exit_code == 0 and "we won the final joy" in table.stdout
    info = json.loads(cli("memory", "info", store, "--json").stdout)
    assert info["memories"] == 3 and info["stale"] == 0


def test_cli_errors_are_one_line(cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,x\nfine,1\n,2\n", encoding="utf-8")
    store = tmp_path / "store"
    result = cli("memory", "add", store, bad)
    assert result.exit_code == 2 and "row 2: column 'text': text is" in result.stderr
    assert not (store / "memories.lance").exists()
    assert cli("memory", "recall", tmp_path / "none", "x").exit_code == 2
    good = tmp_path / "good.txt"
    good.write_text("a joy\nb fear\n", encoding="utf-8")
    assert cli("memory", "add", store, good).exit_code == 0
    wrong = cli("memory", "recall", store, "a", "--strategy", "mood")
    assert wrong.exit_code == 2 and len(wrong.stderr.strip().splitlines()) == 1


def test_cli_add_names_the_file_and_row_at_fault(cli, tmp_path):
    first, second = tmp_path / "f1.csv", tmp_path / "f2.csv"
    first.write_text("text,t\na joy,2024-01-01\nb fear,2024-01-02\n", encoding="utf-8")
    second.write_text("text,t\nc joy,2024-01-03\nd fear,someday\n", encoding="utf-8")
    store = tmp_path / "store"
    bad_time = cli("memory", "add", store, first, second, "--time-column", "t")
    assert bad_time.exit_code == 2 and f"{second}: row 2: 't': 'someday' is neither" in bad_time.stderr
    assert cli.encoder["made"] == 0 and not store.exists()  # refused before loading the models
    blank = tmp_path / "blank.jsonl"
    blank.write_text('{"text": "e joy"}\n{"text": "\\u200b\\u200b"}\n', encoding="utf-8")
    assert f"{blank}: row 2: column 'text': text is empty" in cli("memory", "add", store, blank).stderr
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"text": "e joy", "who": "ana"}\n{"text": "f fear", "who": "\\ud800"}\n'
                   + json.dumps({"text": "g " * 150, "who": "ben"}) + "\n", encoding="utf-8")
    people = tmp_path / "people.csv"
    people.write_text("text,who\na joy,ana\nb fear,ben\n", encoding="utf-8")
    surrogate = cli("memory", "add", store, people, odd, "--speaker-column", "who")
    assert surrogate.exit_code == 2 and f"{odd}: row 2: speaker: the name contains an unpaired" in surrogate.stderr
    odd.write_text(odd.read_text().splitlines()[2] + "\n", encoding="utf-8")
    long = cli("memory", "add", store, people, odd, "--speaker-column", "who")
    assert long.exit_code == 2 and f"{odd}: row 1: text: text is 300 characters" in long.stderr
    assert len(EmotionalMemory(store, encoder=HashEncoder())) == 0


def test_cli_recall_never_overwrites_its_input(cli, tmp_path):
    store = tmp_path / "store"
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"text": "rain joy"}) + "\n", encoding="utf-8")
    assert cli("memory", "add", store, queries).exit_code == 0
    cli.encoder["made"] = 0
    refused = cli("memory", "recall", store, "-i", queries, "-o", queries)
    assert refused.exit_code == 2 and "the output would overwrite the input" in refused.stderr
    assert queries.read_text(encoding="utf-8") == json.dumps({"text": "rain joy"}) + "\n"
    assert cli.encoder["made"] == 0


def test_cli_recall_records_a_bad_query_and_goes_on(cli, tmp_path):
    store = tmp_path / "store"
    notes = tmp_path / "notes.txt"
    notes.write_text("\n".join(_texts(12)) + "\n", encoding="utf-8")
    assert cli("memory", "add", store, notes).exit_code == 0
    queries = tmp_path / "q.jsonl"
    queries.write_text("\n".join([
        '{"text": "rain joy"}', '{"text": "\\u200b\\u200b"}', json.dumps({"text": "x" * 300}),
        '{"text": "\\ud800"}', '{"text": ', '{"text": "storm fear"}']) + "\n", encoding="utf-8")
    result = cli("memory", "recall", store, "-i", queries, "-k", "2")
    assert result.exit_code == 0, result.output
    assert "(4 with errors)" in result.stdout
    lines = [json.loads(x) for x in (tmp_path / "q.recall.jsonl").read_text().splitlines()]
    assert [line["row"] for line in lines] == [1, 2, 3, 4, 5, 6]
    assert len(lines[0]["hits"]) == 2 and len(lines[5]["hits"]) == 2
    assert lines[1]["error"].startswith("row 2: query: text is empty")
    assert lines[2]["error"].startswith("row 3: query: text is 300 characters, over the limit")
    assert lines[3]["error"].startswith("row 4: query: text contains an unpaired surrogate")
    assert "not valid JSON" in lines[4]["error"]
    wrong = cli("memory", "recall", store, "-i", queries, "--since", "someday")
    assert wrong.exit_code == 2 and "since: 'someday' is neither" in wrong.stderr


def test_cli_reads_no_memory_where_there_is_none(cli, tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "letter.txt").write_text("dear ana", encoding="utf-8")
    for args in (("info", folder), ("recall", folder, "rain"), ("index", folder), ("reembed", folder),
                 ("info", tmp_path / "none")):
        refused = cli("memory", *args)
        assert refused.exit_code == 2, args
        assert "holds no memory; create one by adding memories" in refused.stderr
        assert "affectlab memory add" in refused.stderr
    assert [p.name for p in folder.iterdir()] == ["letter.txt"] and not (tmp_path / "none").exists()
    assert cli.encoder["made"] == 0
    EmotionalMemory(tmp_path / "empty", encoder=HashEncoder())
    empty = cli("memory", "index", tmp_path / "empty")
    assert empty.exit_code == 2 and "holds no memories to index" in empty.stderr
    assert not json.loads(cli("memory", "info", tmp_path / "empty", "--json").stdout)["indexed"]


def test_cli_offers_reembedding_and_does_it(cli, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("\n".join(_texts(12)) + "\n", encoding="utf-8")
    store = tmp_path / "store"
    assert cli("memory", "add", store, notes).exit_code == 0
    cli.encoder["id"] = "hash-v2"
    refused = cli("memory", "recall", store, "rain")
    assert refused.exit_code == 2 and f"affectlab memory reembed {store}" in refused.stderr
    redone = cli("memory", "reembed", store)
    assert redone.exit_code == 0 and "re-embedded 12 memories" in redone.stdout
    assert cli("memory", "recall", store, "rain").exit_code == 0
    indexed = cli("memory", "index", store, "--type", "IVF_FLAT", "--partitions", "2")
    assert indexed.exit_code == 0, indexed.output


@needs_data
def test_eval_memory_reports_every_strategy_with_intervals(tmp_path):
    from affectlab.evaluate.memory import EMOTION_WEIGHTS, eval_memory

    report = eval_memory(DATA_DIR, tmp_path, limit=40, encoder=HashEncoder())
    assert report["data"]["memories"] == 40 and report["data"]["test_queries"] == 40
    assert set(report["test"]) == {"semantic", "emotion", "combined", "semantic-then-emotion",
                                   "emotion-then-semantic"}
    assert report["valid"]["chosen"]["combined"] in EMOTION_WEIGHTS
    for entry in report["test"].values():
        mean, low, high = entry["same_emotion"]
        assert 0 <= low <= mean <= high <= 1
    assert "same_emotion_gain" in report["test"]["combined"] and "semantic_kept" in report["test"]["combined"]
    assert isinstance(report["targets"]["combined_gain_met"], bool)
    unseen = report["test_from_unseen_memories"]
    assert unseen["memories"] == 40 and set(unseen["same_emotion"]) == {"semantic", "combined"}
    from affectlab.evaluate.memory import situations

    valid_store = EmotionalMemory(tmp_path / "store-valid", encoder=HashEncoder())  # the valid situations
    assert sorted(valid_store.store.scan(None, ["text"])["text"].to_pylist()) == sorted(
        situations("valid", DATA_DIR, 40)[0])
    again = eval_memory(DATA_DIR, tmp_path, limit=40, encoder=HashEncoder())  # vectors and store reused
    assert again["test"] == report["test"]


@needs_data
def test_bench_memory_times_a_small_store(tmp_path):
    from affectlab.evaluate.bench_memory import bench_memory

    report = bench_memory([700], queries=4, exact_queries=3, index_types=("IVF_FLAT", "IVF_PQ"),
                          work_dir=tmp_path / "bench", eval_dir=tmp_path / "vectors", data_dir=DATA_DIR,
                          encoder=HashEncoder())
    (run,) = report["runs"]
    assert run["memories"] == 720 and run["inserts_per_second"] > 0 and run["disk_mb"] > 0
    assert set(run["exact_recall"]) == set(run["indexes"]["IVF_PQ"]["recall"])
    for timing in run["exact_recall"].values():
        assert timing["p50_ms"] <= timing["p99_ms"]
    for index in run["indexes"].values():
        assert index["index_mb"] > 0
        for timing in index["recall"].values():
            assert 0 <= timing["overlap_at_5"] <= 1 and timing["score_kept"] > 0
    assert not (tmp_path / "bench" / "store-700").exists()


@pytest.mark.model
def test_the_default_encoder_reads_meaning_and_feeling(tmp_path):
    from affectlab.encoders import SentenceEncoder
    from affectlab.memory import AffectEncoder

    encoder = AffectEncoder()
    assert encoder.model_id.startswith("sentence-transformers/all-MiniLM-L6-v2@")
    assert "+empathy-emotions-minilm@" in encoder.model_id and encoder.model_id.endswith("+emotion-v2")
    texts = ["My grandmother passed away last night.", "Grandma died yesterday evening.", "We won the cup!"]
    encoded = encoder.encode(texts)
    assert encoded.semantic.shape == (3, 384) and encoded.emotions.shape == (3, len(GOEMOTIONS))
    similarity = encoded.semantic @ encoded.semantic.T
    assert similarity[0, 1] > 0.6 > similarity[0, 2]
    assert encoded.emotions[0, GOEMOTIONS.index("sadness")] > encoded.emotions[2, GOEMOTIONS.index("sadness")]
    assert np.allclose(encoded.situations.sum(1), 1.0, atol=1e-5)
    feeling = encoded.situations @ encoded.situations.T  # the chance two readings name the same emotion
    assert feeling[0, 1] > feeling[0, 2] and feeling[1, 0] > feeling[1, 2]
    sad = [ED_EMOTIONS.index(e) for e in ("sad", "devastated", "lonely", "nostalgic", "sentimental")]
    assert encoded.situations[0, sad].sum() > 0.5 > encoded.situations[2, sad].sum()
    torch_vectors = SentenceEncoder(runtime="torch").encode(texts)
    assert np.abs(torch_vectors - encoded.semantic).max() < 1e-4
    memory = EmotionalMemory(tmp_path / "m", encoder=encoder)
    memory.add(texts[1:])
    assert memory.recall(texts[0], 1)[0].text == texts[1]
