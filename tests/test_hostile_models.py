"""Hostile model folders and outputs: a broken text model or head folder is one error naming its file and field
before any work; `train head` and `train readings` check their output first and write it whole, never over what
the user gave; a shipped name always means the shipped model; `eval --split` is checked before the model loads."""

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file
from typer.testing import CliRunner

from affectlab import Analyzer
from affectlab.cli import app
from affectlab.errors import OptionError
from affectlab.registry import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, ModelNotFound, read_config, resolve, write_config
from affectlab.text.artifact import ArtifactConfig, resolve_artifact
from affectlab.text.label_head import HeadConfig, LabelHead, describe_base, head_folder

runner = CliRunner()
SHIPPED = resolve_artifact(None)
LABELS = ["bug", "praise", "question"]


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """One copy of the shipped text model's weights, linked into each broken folder (same bytes, no 21 MB each)."""
    path = tmp_path_factory.mktemp("weights") / WEIGHTS_FILE
    shutil.copyfile(SHIPPED / WEIGHTS_FILE, path)
    return path


@pytest.fixture(scope="module")
def base() -> dict:
    return describe_base(SHIPPED, "text-minilm")


def text_model(folder: Path, weights: Path, **changes) -> Path:
    """A copy of the shipped text model in ``folder``, its config changed by ``changes``."""
    folder.mkdir(parents=True)
    write_config(folder, {**read_config(SHIPPED), **changes})
    os.link(weights, folder / WEIGHTS_FILE)
    return folder


def head_model(folder: Path, base: dict, tensors: dict | None = None, **changes) -> Path:
    """A head of one's own on the shipped text model in ``folder``, its config changed by ``changes``."""
    folder.mkdir(parents=True)
    write_config(folder, {"name": folder.name, "labels": LABELS, "multi_label": True, "thresholds": [0.5] * 3,
                          "task": "text-labels", "trained": {}, **base, **changes})
    rng = np.random.default_rng(0)
    save_file(tensors or {"weight": rng.normal(size=(3, 384)).astype(np.float32), "bias": np.zeros(3, np.float32)},
              str(folder / WEIGHTS_FILE))
    return folder


def refuse(*args, **kwargs):
    raise AssertionError("the model was loaded before the options were checked")


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "error: " in result.output
    return result.output


# --- broken text model folders -------------------------------------------------------------------------------------

THRESHOLDS = read_config(SHIPPED)["thresholds"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"blocks": "goemotions"}, r"config.json: blocks must be a list of output blocks in the order goemotions, "
                                   r"ekman.*not 'goemotions'"),
        ({"blocks": ["ekman", "goemotions"]}, r"blocks must be a list of output blocks"),
        ({"encoder": "bert"}, r"config.json: encoder must be one of minilm, mpnet, not 'bert'"),
        ({"thresholds": {**THRESHOLDS, "goemotions": [0.5] * 3}},
         r"config.json: thresholds\['goemotions'\] must be a list of 28 numbers from 0 to 1 \(one per label\)"),
        ({"thresholds": {**THRESHOLDS, "ekman": ["0.3"] * 7}}, r"thresholds\['ekman'\] must be a list of 7"),
        ({"thresholds": {k: v for k, v in THRESHOLDS.items() if k != "sentiment"}},
         r"config.json: thresholds has no list for the block 'sentiment'"),
        ({"thresholds": {**THRESHOLDS, "vad": [0.5] * 3}}, r"thresholds has 'vad', which is not a class "
                                                                       r"block"),
        ({"vad_std": "x"}, r"config.json: vad_std must be a list of 3 positive numbers, not 'x'"),
        ({"vad_std": [0.3, 0.0, 0.2]}, r"vad_std must be a list of 3 positive numbers"),
        ({"vad_mean": [1, 2]}, r"config.json: vad_mean must be a list of 3 numbers, not \[1, 2\]"),
        ({"irony_rule": 2}, r"config.json: irony_rule must be a number from 0 to 1, or null, not 2"),
        ({"irony_rule": "high"}, r"irony_rule must be a number from 0 to 1, or null, not 'high'"),
        ({"max_length": 0}, r"config.json: max_length must be a whole number from 66 to 512, not 0"),
        ({"max_length": "128"}, r"max_length must be a whole number from 66 to 512, not '128'"),
        ({"max_length": 4096}, r"max_length must be a whole number from 66 to 512, not 4096"),
        ({"blocks": ["goemotions", "ekman", "sentiment", "vad", "irony"]},
         r"weights.safetensors has a head of 55 rows, but the blocks in its config.json have 43 outputs"),
    ],
)
def test_a_broken_text_model_config_is_one_error_naming_file_and_field(tmp_path, weights, changes, message):
    folder = text_model(tmp_path / "broken", weights, **changes)
    with pytest.raises(ModelNotFound, match=message) as caught:
        Analyzer(model=folder)
    assert str(folder) in str(caught.value)


@pytest.mark.parametrize("cut", [lambda data: data[: len(data) // 2], lambda data: b"not a safetensors file" * 40])
def test_text_model_weights_cut_short_or_not_safetensors_are_one_error(tmp_path, cut):
    folder = tmp_path / "broken"
    folder.mkdir()
    write_config(folder, read_config(SHIPPED))
    (folder / WEIGHTS_FILE).write_bytes(cut((SHIPPED / WEIGHTS_FILE).read_bytes()))
    with pytest.raises(ModelNotFound, match=r"broken/weights.safetensors is not a readable weights file"):
        Analyzer(model=folder)
    output = one_line_error(runner.invoke(app, ["analyze", "I am happy", "--model", str(folder)]))
    assert "weights.safetensors is not a readable weights file" in output


def test_cli_analyze_with_a_broken_config_is_one_red_line(tmp_path, weights):
    folder = text_model(tmp_path / "broken", weights, max_length=0)
    output = one_line_error(runner.invoke(app, ["analyze", "I am happy", "--model", str(folder)], terminal_width=300))
    assert "config.json: max_length must be a whole number from 66 to 512, not 0" in output


# --- broken head folders -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("changes", "tensors", "message"),
    [
        ({"thresholds": [0.5, 0.5]}, None, r"config.json: thresholds must be a list of 3 numbers from 0 to 1 \(one "
                                           r"per label\), not \[0.5, 0.5\]"),
        ({"labels": "ab"}, {"weight": np.zeros((2, 384), np.float32), "bias": np.zeros(2, np.float32)},
         r"config.json: labels must be a list of at least two different label names, not 'ab'"),
        ({"labels": ["bug", "bug", "question"]}, None, r"labels must be a list of at least two different"),
        ({"multi_label": "no"}, None, r"config.json: multi_label must be true or false, not 'no'"),
        ({}, {"w": np.zeros((3, 384), np.float32), "bias": np.zeros(3, np.float32)},
         r"weights.safetensors has no tensor 'weight'"),
        ({}, {"weight": np.zeros((3, 10), np.float32), "bias": np.zeros(3, np.float32)},
         r"weights of shape \(3, 10\) do not fit the 384-wide sentence vectors"),
        ({}, {"weight": np.zeros(3, np.float32), "bias": np.zeros(3, np.float32)},
         r"weights of shape \(3,\) do not fit"),
    ],
)
def test_a_broken_head_is_one_error_naming_file_and_field(tmp_path, base, changes, tensors, message):
    folder = head_model(tmp_path / "head", base, tensors, **changes)
    with pytest.raises(ModelNotFound, match=message):
        Analyzer(model=folder)


def test_a_head_with_weights_cut_short_is_one_red_line(tmp_path, base):
    folder = head_model(tmp_path / "head", base)
    (folder / WEIGHTS_FILE).write_bytes((folder / WEIGHTS_FILE).read_bytes()[:100])
    output = one_line_error(runner.invoke(app, ["analyze", "I am happy", "--model", str(folder)], terminal_width=300))
    assert "head/weights.safetensors is not a readable weights file" in output


# --- outputs: checked first, written whole -------------------------------------------------------------------------

@pytest.fixture
def labelled(tmp_path) -> Path:
    rows = [f"good {i},a" for i in range(6)] + [f"bad {i},b" for i in range(6)]
    path = tmp_path / "lab.csv"
    path.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("mybase", "is the folder of the model it is made from"),
        ("lab.csv", "is a file; give a folder for the text-labels artifact"),
        ("other", "holds a text artifact, which a text-labels artifact would replace"),
        ("notes", "holds files of its own (notes.txt)"),
    ],
)
def test_train_head_refuses_an_output_it_would_overwrite_before_any_work(tmp_path, weights, labelled, monkeypatch,
                                                                         output, message):
    from affectlab.train.head import HeadRecipe, train_head

    monkeypatch.setattr("affectlab.train.head.Analyzer", refuse)
    mybase = text_model(tmp_path / "mybase", weights)
    text_model(tmp_path / "other", weights)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "notes.txt").write_text("mine", encoding="utf-8")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    expected = f"--output {tmp_path / output} {message}"
    recipe = HeadRecipe(data=labelled, text_column="text", label_column="label", out_dir=tmp_path / output,
                        base_model=str(mybase))
    with pytest.raises(OptionError, match=re.escape(expected)):
        train_head(recipe)
    result = runner.invoke(app, ["train", "head", "--data", str(labelled), "--base-model", str(mybase), "-o",
                                 str(tmp_path / output)], terminal_width=300)
    assert expected in one_line_error(result)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_a_head_is_written_whole_and_replaces_an_earlier_one_whole(tmp_path, base, monkeypatch):
    config = HeadConfig(name="head", labels=LABELS, multi_label=False, **base)
    first, second = (LabelHead(config, np.full((3, 384), value, np.float32), np.zeros(3, np.float32))
                     for value in (1.0, 2.0))
    folder = tmp_path / "head"
    first.save(folder, "# first\n")

    def interrupted(*args):
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr("affectlab.text.label_head.write_config", interrupted)
        with pytest.raises(KeyboardInterrupt):
            second.save(folder, "# second\n")
    assert LabelHead.load(folder).weight[0, 0] == 1.0 and (folder / CARD_FILE).read_text() == "# first\n"
    assert os.listdir(tmp_path) == ["head"]  # nothing half written beside it
    second.save(folder, "# second\n")
    assert LabelHead.load(folder).weight[0, 0] == 2.0 and (folder / CARD_FILE).read_text() == "# second\n"
    assert sorted(os.listdir(folder)) == [CARD_FILE, CONFIG_FILE, WEIGHTS_FILE] and os.listdir(tmp_path) == ["head"]
    (tmp_path / "plain").mkdir()
    assert folder.stat().st_mode == (tmp_path / "plain").stat().st_mode  # not the private mode of a temporary folder


def test_a_refitted_model_is_written_whole_and_never_over_files_of_ones_own(tmp_path, monkeypatch):
    from affectlab.train.head_rows import source_head, write_refitted

    tensors, metadata, weight, bias = source_head(SHIPPED)
    config = ArtifactConfig.load(SHIPPED)
    out = tmp_path / "grown"
    write_refitted(out, SHIPPED, (tensors, metadata), (weight, bias), config, "## Refit", "## Refit\nfirst")
    written = (out / WEIGHTS_FILE).read_bytes()

    def interrupted(*args):
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(ArtifactConfig, "save", interrupted)
        with pytest.raises(KeyboardInterrupt):
            write_refitted(out, SHIPPED, (tensors, metadata), (weight, bias + 1), config, "## Refit", "## Refit\nnew")
    assert (out / WEIGHTS_FILE).read_bytes() == written and (out / CARD_FILE).read_text().endswith("first")
    assert os.listdir(tmp_path) == ["grown"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OptionError, match=r"mine holds files of its own \(notes.txt\)"):
        write_refitted(mine, SHIPPED, (tensors, metadata), (weight, bias), config, "## Refit", "## Refit\nx")
    assert os.listdir(mine) == ["notes.txt"]


def _artifact(folder: Path, marker: str) -> None:
    write_config(folder, {"task": "text", "marker": marker})
    (folder / WEIGHTS_FILE).write_bytes(marker.encode())


def test_an_artifact_through_a_link_replaces_the_links_target(tmp_path):
    from affectlab.registry import atomic_folder

    target = tmp_path / "real"
    target.mkdir()
    _artifact(target, "old")
    link = tmp_path / "link"
    link.symlink_to(target, target_is_directory=True)
    with atomic_folder(link, "text") as partial:
        _artifact(partial, "new")
    assert link.is_symlink() and read_config(link)["marker"] == "new"
    assert sorted(os.listdir(tmp_path)) == ["link", "real"]


def test_a_failed_swap_puts_the_earlier_artifact_back(tmp_path, monkeypatch):
    from affectlab.registry import atomic_folder

    out = tmp_path / "out"
    out.mkdir()
    _artifact(out, "old")
    calls, real_replace = [], os.replace

    def second_rename_fails(source, destination):
        calls.append(destination)
        if len(calls) == 2:
            raise OSError("disk full")
        real_replace(source, destination)

    monkeypatch.setattr("affectlab.registry.os.replace", second_rename_fails)
    with pytest.raises(OSError, match="disk full"), atomic_folder(out, "text") as partial:
        _artifact(partial, "new")
    assert read_config(out)["marker"] == "old" and os.listdir(tmp_path) == ["out"]


def test_train_readings_refuses_an_output_that_is_a_file_before_any_work(tmp_path, monkeypatch):
    from affectlab.train.readings import ReadingsRecipe, train_readings

    monkeypatch.setattr("affectlab.train.readings.Analyzer", refuse)
    notes = tmp_path / "notes.txt"
    notes.write_text("mine", encoding="utf-8")
    with pytest.raises(OptionError, match=r"notes.txt is a file; give a folder for the text artifact"):
        train_readings(ReadingsRecipe(out_dir=notes, data_dir=tmp_path))
    with pytest.raises(OptionError, match=r"is the folder of the model it is made from"):
        train_readings(ReadingsRecipe(out_dir=SHIPPED, data_dir=tmp_path))
    output = one_line_error(runner.invoke(app, ["train", "readings", "-o", str(notes), "--data-dir", str(tmp_path)],
                                          terminal_width=300))
    assert "notes.txt is a file" in output and notes.read_text(encoding="utf-8") == "mine"


# --- a shipped name means the shipped model ------------------------------------------------------------------------

def test_a_shipped_name_means_the_shipped_model_even_beside_a_folder_of_that_name(tmp_path, weights, base,
                                                                                  monkeypatch):
    text_model(tmp_path / "text-minilm", weights, name="impostor")
    monkeypatch.chdir(tmp_path)
    assert resolve("text-minilm", "text") == SHIPPED and resolve_artifact(None) == SHIPPED
    assert Analyzer().model_name == "text-minilm" and Analyzer("text-minilm").model_name == "text-minilm"
    assert resolve("./text-minilm", "text").resolve() == tmp_path / "text-minilm"
    assert Analyzer("./text-minilm").model_name == "impostor"
    assert Analyzer(tmp_path / "text-minilm").model_name == "impostor"
    head_model(tmp_path / "heads" / "text-minilm", base)
    monkeypatch.chdir(tmp_path / "heads")
    assert head_folder("text-minilm") is None and head_folder("./text-minilm") == Path("./text-minilm")
    assert Analyzer("text-minilm").head is None and Analyzer("./text-minilm").head.labels == LABELS


# --- eval --split --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("command", "split", "allowed"), [("emoint", "bogus", "train, dev, test"),
                                                           ("wassa22", "test", "train, dev"),
                                                           ("emobank-perspectives", "valid", "train, dev, test")])
def test_eval_split_is_checked_before_the_model_loads(monkeypatch, tmp_path, command, split, allowed):
    monkeypatch.setattr("affectlab.cli.readings.Analyzer", refuse)
    result = runner.invoke(app, ["eval", command, "--split", split, "--reports-dir", str(tmp_path)],
                           terminal_width=300)
    assert f"--split must be one of {allowed} for {command}, not '{split}'" in one_line_error(result)
    assert not list(tmp_path.iterdir())
