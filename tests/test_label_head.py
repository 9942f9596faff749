"""Heads of one's own: `affectlab train head`, its artifact and card, Analyzer(model=<head>), bad input, the CLI."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from affectlab import Analyzer
from affectlab.cli import app
from affectlab.errors import AffectlabError, OptionError
from affectlab.registry import fingerprint, read_config, write_config
from affectlab.text.label_head import BaseModelMismatch
from affectlab.train.head import HeadRecipe, train_head
from affectlab.train.head_curve import balanced_subsample
from affectlab.train.head_data import HeadDataError, Labelled, carve_dev
from affectlab.train.linear_head import fit_linear

runner = CliRunner()

PRAISE = ["I love this so much", "What a wonderful day", "This made me so happy", "Great news, thank you!",
          "I'm thrilled with the result", "Best gift ever", "You are amazing", "So glad it worked out"]
COMPLAINTS = ["This is terrible", "I hate waiting in line", "The service was awful", "I'm so disappointed",
              "That was a horrible experience", "Worst movie ever", "I am furious about this", "Everything went wrong"]
QUESTIONS = ["When does the store open?", "How much does it cost?", "Where is the station?", "Can you send the file?",
             "What time is the meeting?", "Who is coming tomorrow?", "Is the office open on Sunday?",
             "How do I reset it?"]


def write_csv(path: Path, header: list[str], rows: list[list[object]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def single_rows() -> list[list[object]]:
    return ([[i, t, "praise"] for i, t in enumerate(PRAISE)] + [[i, t, "complaint"] for i, t in enumerate(COMPLAINTS)]
            + [[i, t, "question"] for i, t in enumerate(QUESTIONS)])


def multi_rows() -> list[list[str]]:
    return ([[t, "positive"] for t in PRAISE] + [[t, "negative"] for t in COMPLAINTS]
            + [[q + " I love it!", "question|positive"] for q in QUESTIONS[:4]]
            + [[q + " This is awful.", "negative | question"] for q in QUESTIONS[4:]])


@pytest.fixture(scope="module")
def single_head(tmp_path_factory):
    folder = tmp_path_factory.mktemp("single")
    source = write_csv(folder / "tickets.tsv", ["id", "body", "topic"], single_rows(), delimiter="\t")
    return train_head(HeadRecipe(data=source, text_column="body", label_column="topic", out_dir=folder / "head")), \
        folder / "head"


# --- training and the artifact -------------------------------------------------------------------------------------

@pytest.mark.model
def test_single_label_head_writes_an_artifact_with_its_card(single_head):
    config, folder = single_head
    assert config.labels == ["complaint", "praise", "question"] and not config.multi_label
    assert sorted(p.name for p in folder.iterdir()) == ["MODEL_CARD.md", "config.json", "weights.safetensors"]
    stored = read_config(folder)
    assert stored["task"] == "text-labels" and stored["base_model"] == "text-minilm"
    assert stored["base_fingerprint"] == fingerprint(Analyzer().folder)
    data = stored["trained"]["data"]
    assert (data["file"], data["train_rows"] + data["dev_rows"]) == ("tickets.tsv", 24)
    assert data["dev_label_counts"] == {"complaint": 2, "praise": 2, "question": 2}  # stratified: 20% of 8 each
    assert stored["trained"]["dev"]["accuracy"] == 1.0  # three obvious classes
    card = (folder / "MODEL_CARD.md").read_text(encoding="utf-8")
    for expected in ("tickets.tsv", "18 to train on", "| praise | 6 | 2 |",
                     stored["base_fingerprint"], "text-minilm", stored["trained"]["date"][:10], "L2 kept",
                     "accuracy: 1.000", "affectlab train head --data"):
        assert expected in card, expected


@pytest.mark.model
def test_a_corpus_run_keeps_the_heads_reading_and_refuses_to_resume_with_the_head_retuned(single_head, tmp_path):
    import pyarrow.parquet as pq

    from affectlab.corpus import CorpusJob, LocalEngine, ResumeError, run_corpus

    head = tmp_path / "head"  # a copy, retuned in place below
    head.mkdir()
    for name in ("config.json", "weights.safetensors"):
        (head / name).write_bytes((single_head[1] / name).read_bytes())
    texts = ["Thanks, I really love it", "Where can I park my car?", "", "This is a disaster, I'm so angry"]
    source = write_csv(tmp_path / "posts.csv", ["body"], [[t] for t in texts])
    job = CorpusJob([str(source)], str(tmp_path / "out"), text_column="body", model=str(head), chunk_rows=2)
    manifest = run_corpus(job, LocalEngine())
    assert manifest.model["head"]["name"] == "head" and manifest.model["name"] == "text-minilm"
    table = sorted(pq.read_table(tmp_path / "out" / "scores").to_pylist(), key=lambda r: r["row"])
    expected = Analyzer(model=head).analyze_batch(texts)
    for row, result in zip(table, expected):
        if result.custom is None:  # the empty text: skipped, its head columns empty
            assert row["status"] == "skipped" and row["custom_labels"] is None and row["custom_praise"] is None
            continue
        assert row["custom_labels"] == result.custom.labels
        for label in ("complaint", "praise", "question"):
            assert row[f"custom_{label}"] == pytest.approx(result.custom.scores[label], abs=1e-5)
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["software"]["score_columns"][-4:] == [
        "custom_labels", "custom_complaint", "custom_praise", "custom_question"]
    write_config(head, {**read_config(head), "thresholds": [0.9, 0.9, 0.9]})
    with pytest.raises(ResumeError, match="model weights"):
        run_corpus(job, LocalEngine())
    with pytest.raises(OptionError, match="reads the accurate profile's vectors"):
        CorpusJob([str(source)], str(tmp_path / "fast"), text_column="body", model=str(head), profile="fast")


@pytest.mark.model
def test_analyzer_reads_the_head_the_same_with_onnx_and_torch(single_head):
    _, folder = single_head
    texts = ["Thanks, I really love it", "Where can I park my car?", "This is a disaster, I'm so angry", "x " * 400]
    onnx, torch = (Analyzer(model=folder, runtime=runtime).analyze(texts) for runtime in ("onnx", "torch"))
    assert [r.custom.labels for r in onnx][:3] == [["praise"], ["question"], ["complaint"]]
    for a, b in zip(onnx, torch):
        assert a.custom.labels == b.custom.labels
        assert np.allclose(list(a.custom.scores.values()), list(b.custom.scores.values()), atol=1e-5)
        assert abs(sum(a.custom.scores.values()) - 1) < 1e-4 and a.custom.model == "head"
        assert a.emotions == pytest.approx(b.emotions, abs=1e-5)  # the shipped readings come with it
    assert onnx[3].chunks > 1  # a long text: its windows' vectors averaged, as in training
    plain = Analyzer().analyze(texts[0])
    assert plain.custom is None and plain.emotions == pytest.approx(onnx[0].emotions, abs=1e-6)
    row = onnx[0].to_row()
    assert row["custom_labels"] == ["praise"] and row["custom_praise"] > 0.5
    json.dumps(onnx[0].to_dict())
    import pandas

    frame = Analyzer(model=folder).analyze_frame(pandas.DataFrame({"text": texts[:2] + [None]}))
    assert list(frame["custom_labels"][:2]) == [["praise"], ["question"]] and frame["custom_question"][1] > 0.5
    assert frame["error"][2] and frame["custom_labels"].isna()[2]


@pytest.mark.model
def test_multi_label_head_thresholds_decide_its_labels(tmp_path):
    source = write_csv(tmp_path / "tags.csv", ["text", "tags"], multi_rows())
    config = train_head(HeadRecipe(data=source, text_column="text", label_column="tags", separator="|",
                                   out_dir=tmp_path / "tags-head", runtime="torch"))
    assert config.multi_label and config.labels == ["negative", "positive", "question"]
    assert len(config.thresholds) == 3 and all(0 < t < 1 for t in config.thresholds)
    assert config.trained["data"]["train_label_counts"]["question"] >= 1
    results = Analyzer(model=tmp_path / "tags-head").analyze(["Thank you, this is wonderful!",
                                                              "How do I cancel? This is awful."])
    for result in results:
        custom = result.custom
        assert custom.multi_label
        passing = [label for label, t in zip(config.labels, config.thresholds) if custom.scores[label] >= t]
        assert custom.labels == sorted(passing, key=lambda label: -custom.scores[label])
    assert "positive" in results[0].custom.labels and "negative" not in results[0].custom.labels


@pytest.mark.model
def test_a_head_refuses_a_text_model_with_another_encoder_and_the_fast_profile(single_head, tmp_path):
    _, folder = single_head
    moved = tmp_path / "moved"
    moved.mkdir()
    for name in ("weights.safetensors", "MODEL_CARD.md"):
        (moved / name).write_bytes((folder / name).read_bytes())
    config = read_config(folder)
    write_config(moved, {**config, "encoder_fingerprint": "0" * 16})
    with pytest.raises(BaseModelMismatch, match="was trained on the vectors of text-minilm.*train the head again"):
        Analyzer(model=moved)
    with pytest.raises(OptionError, match="reads the accurate profile's vectors"):
        Analyzer(model=folder, profile="fast")


# --- bad input -----------------------------------------------------------------------------------------------------

def _train(tmp_path: Path, source: Path, **options) -> None:
    options = {"text_column": "text", "label_column": "label", **options}
    train_head(HeadRecipe(data=source, out_dir=tmp_path / "never", **options))


def _rows(n_per_label: int = 6) -> list[list[str]]:
    return [[f"{t} {i}", label] for i in range(n_per_label) for t, label in (("good", "a"), ("bad", "b"))]


@pytest.mark.parametrize(
    ("rows", "options", "message"),
    [
        (_rows(), {"label_column": "topic"}, r"no label column 'topic'; columns are: text, label"),
        (_rows(), {"text_column": "body"}, r"no column 'body'; columns are: text, label"),
        (_rows()[:3] + [["   ", "a"]] + _rows()[3:], {}, r"row 4: text is empty or whitespace only \(column 'text'\)"),
        (_rows()[:5] + [["fine", ""]] + _rows()[5:], {}, r"row 6: no label \(column 'label' is empty\)"),
        (_rows() + [["only once", "c"]], {}, r"label 'c' occurs only once \(row 13\)"),
        (_rows(2), {}, r"4 labelled rows; a head needs at least 10"),
        ([[f"text {i}", "a"] for i in range(12)], {}, r"only one label \(a\)"),
        ([[r, "labels" if label == "a" else label] for r, label in _rows()], {}, r"the label 'labels' is reserved"),
        ([[r, "b" if label == "a" else "B"] for r, label in _rows()], {}, r"labels 'B' and 'b' differ only in case"),
        (_rows() + [["x", "a||"]], {"separator": "|"}, None),  # empty parts between separators are dropped
    ],
)
def test_bad_input_gets_one_error_naming_the_row_or_column(tmp_path, rows, options, message):
    source = write_csv(tmp_path / "my.csv", ["text", "label"], rows)
    if message is None:
        from affectlab.train.head_data import read_labelled

        assert read_labelled(source, "text", "label", "|").labels[-1] == ["a"]
        return
    with pytest.raises(AffectlabError, match=message) as caught:
        _train(tmp_path, source, **options)
    assert isinstance(caught.value, AffectlabError) and "my.csv" in str(caught.value)
    assert not (tmp_path / "never").exists()


def test_jsonl_rows_and_a_dev_file_are_checked_by_row(tmp_path):
    source = tmp_path / "my.jsonl"
    lines = [{"text": t, "label": label} for t, label in _rows()] + [{"text": "no label here"}]
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    with pytest.raises(HeadDataError, match=r"my.jsonl row 13: no field 'label'"):
        _train(tmp_path, source)
    source.write_text("\n".join(json.dumps(line) for line in lines[:-1]) + "\n", encoding="utf-8")
    dev = write_csv(tmp_path / "dev.csv", ["text", "label"], [["fine", "a"], ["new", "zzz"]])
    with pytest.raises(HeadDataError, match=r"dev.csv row 2: label 'zzz' is not in the training data"):
        _train(tmp_path, source, dev=dev)
    with pytest.raises(OptionError, match="dev_share must be between 0 and 1"):
        _train(tmp_path, source, dev_share=1.5)


# --- the pieces of the recipe --------------------------------------------------------------------------------------

def test_the_dev_split_is_seeded_and_stratified():
    labels = [["a"]] * 20 + [["b"]] * 5 + [["c"]] * 2 + [["a", "d"]] * 3
    data = Labelled("x.csv", [f"t{i}" for i in range(len(labels))], labels, list(range(1, len(labels) + 1)))
    train, dev = carve_dev(data, share=0.2, seed=13)
    assert sorted(train.rows + dev.rows) == data.rows
    assert carve_dev(data, share=0.2, seed=13)[1].rows == dev.rows != carve_dev(data, share=0.2, seed=14)[1].rows
    assert dev.label_counts()["b"] == 1 and dev.label_counts()["c"] == 1 and dev.label_counts()["a"] >= 4
    assert all(train.label_counts().get(label, 0) >= 1 for label in "abcd")


def test_the_linear_fit_reaches_the_optimum():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 20)) * rng.uniform(0.1, 10, size=20) + 5  # badly scaled, off-centre
    labels = (vectors[:, :3] - 5).argmax(axis=1)
    targets = np.eye(3)[labels]
    l2 = 1e-2
    weight, bias = fit_linear(vectors, targets, multi_label=False, l2=l2)
    scale = vectors.std(axis=0)
    logits = vectors @ weight.T + bias
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    standardized = (vectors - vectors.mean(0)) / scale
    gradient = (p - targets).T @ standardized / len(vectors) + l2 * weight * scale  # in standardized units
    assert np.abs(gradient).max() < 1e-4 and np.abs((p - targets).mean(0)).max() < 1e-4
    assert (logits.argmax(1) == labels).mean() > 0.9


def test_balanced_subsamples_give_each_label_its_share():
    labels = ["a"] * 50 + ["b"] * 3 + ["c"] * 40
    rows = balanced_subsample(labels, 20, seed=1)
    counts = {label: sum(labels[r] == label for r in rows) for label in "abc"}
    assert len(rows) == 20 and counts["b"] == 3 and abs(counts["a"] - counts["c"]) <= 1
    assert rows == balanced_subsample(labels, 20, seed=1) != balanced_subsample(labels, 20, seed=2)


# --- the command line ----------------------------------------------------------------------------------------------

@pytest.mark.model
def test_cli_trains_a_head_and_analyze_uses_it(tmp_path):
    source = write_csv(tmp_path / "tickets.csv", ["id", "text", "label"], single_rows())
    head = tmp_path / "tickets-head"
    result = runner.invoke(app, ["train", "head", "--data", str(source), "-o", str(head)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert f"head written to {head}" in result.output and "accuracy 1.000" in result.output
    result = runner.invoke(app, ["analyze", "Where is the nearest bus stop?", "--model", str(head), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["custom"]["labels"] == ["question"]
    shown = runner.invoke(app, ["analyze", "I love it, thank you!", "--model", str(head)], terminal_width=200)
    assert "tickets-head labels" in shown.output and "praise" in shown.output
    posts = write_csv(tmp_path / "posts.csv", ["text"], [["This is awful"], [""]])
    scored = tmp_path / "scored.csv"
    result = runner.invoke(app, ["analyze", "-i", str(posts), "-o", str(scored), "--model", str(head)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(scored.open(encoding="utf-8")))
    assert json.loads(rows[0]["custom_labels"]) == ["complaint"] and rows[1]["custom_labels"] == ""


def test_cli_bad_input_is_one_red_line(tmp_path):
    source = write_csv(tmp_path / "my.csv", ["text", "label"], _rows() + [["once", "rare"]])
    result = runner.invoke(app, ["train", "head", "--data", str(source), "-o", str(tmp_path / "h")])
    assert result.exit_code == 2
    assert "error: " in result.output and "label 'rare' occurs only once (row 13)" in result.output
    assert "Traceback" not in result.output


@pytest.mark.model
def test_cli_head_curve_writes_its_report(tmp_path):
    from affectlab.taxonomy import ED_EMOTIONS

    folder = tmp_path / "data" / "empathetic_dialogues"
    folder.mkdir(parents=True)
    for split, per_emotion in (("train", 3), ("valid", 1), ("test", 1)):
        lines = [{"conv_id": f"{split}-{e}-{i}", "emotion": emotion, "situation": "s",
                  "turns": [{"speaker": "speaker", "text": f"I feel {emotion} today, number {i}"},
                            {"speaker": "listener", "text": "Oh?"}]}
                 for e, emotion in enumerate(ED_EMOTIONS) for i in range(per_emotion)]
        (folder / f"{split}.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    result = runner.invoke(app, ["eval", "head-curve", "--data-dir", str(tmp_path / "data"), "--sizes", "32,all",
                                 "--seeds", "1,2", "--reports-dir", str(tmp_path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "eval-head-curve.json").read_text())
    assert report["command"].startswith("affectlab eval head-curve") and report["rows"]["train"] == 96
    assert [p["train_examples"] for p in report["points"]] == [32, 96]
    assert [len(p["runs"]) for p in report["points"]] == [2, 1] and report["points"][0]["per_emotion"] == [1, 1]
    assert report["points"][1]["test_accuracy_mean"] > 0.5  # the emotion is named in the text
    bad = runner.invoke(app, ["eval", "head-curve", "--data-dir", str(tmp_path / "data"), "--sizes", "10"])
    assert bad.exit_code == 2 and "sizes of at least 32" in bad.output

