"""Hostile input to the language-model internals and the prompting lab: one clear error, before any work, and no
input overwritten. Nothing here generates; the internals run on a tiny stand-in model."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from affectlab.cli import app
from affectlab.errors import OptionError
from affectlab.internals import EmotionDirections, InternalsError, Steering, capture, scenario_states, train_probes
from affectlab.internals.probes import score_probes
from affectlab.internals.text_directions import TextStates
from affectlab.internals.zero_shot import zero_shot_scores
from affectlab.io import OutputFileError
from affectlab.prompting import (
    StimulusError,
    TaskError,
    load_jsonl_task,
    load_stimuli,
    parse_conditions,
    resolve_tasks,
    run_heart,
    run_prompt_eval,
)
from affectlab.prompting.scoring import MetricError, resolve_metric
from affectlab.prompting.stimuli import read_stimulus_file
from affectlab.prompting.tasks import Item, Task

runner = CliRunner()
HIDDEN = 8


class _TinyModel(torch.nn.Module):
    """Four linear blocks under ``model.layers``, where the internals look for a decoder's blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.model = torch.nn.Module()
        self.model.layers = torch.nn.ModuleList(torch.nn.Linear(HIDDEN, HIDDEN) for _ in range(4))
        self.embed = torch.nn.Embedding(10, HIDDEN)

    def get_input_embeddings(self):
        return self.embed

    def forward(self, x):
        for block in self.model.layers:
            x = block(x)
        return x


class _TinyLM:
    name = "tiny"

    def __init__(self) -> None:
        self.model = _TinyModel()


class _EchoLM:
    """Answers every prompt with the same word; never asked when the run is refused first."""

    name = "echo"
    context_length = 4096

    def generate(self, prompt, **options):
        raise AssertionError("a refused run must not generate")


@pytest.fixture(scope="module")
def tiny():
    return _TinyLM()


def _task():
    return Task("t", "Say it.", (Item("1", "a", ("A",)),), (Item("d", "b", ("B",)),))


# --- Steering and the other internals, in Python ----------------------------------------------------------

@pytest.mark.parametrize("layer, message", [
    (1.7, "whole number"),  # was truncated to layer 1 in a list, a TypeError alone
    ([1.7], "whole number"),
    (None, "whole number"),
    (True, "whole number"),
])
def test_steering_refuses_a_layer_that_is_no_whole_number(tiny, layer, message):
    with pytest.raises(InternalsError, match=message):
        Steering(tiny, np.ones(HIDDEN), layer=layer)


@pytest.mark.parametrize("strength", [float("nan"), float("inf"), None, "abc"])
def test_steering_refuses_a_strength_that_is_no_finite_number(tiny, strength):
    with pytest.raises(InternalsError, match="strength must be a finite number"):
        Steering(tiny, np.ones(HIDDEN), layer=1, strength=strength)


def test_steering_refuses_a_strength_or_direction_that_would_overflow_the_model(tiny):
    with pytest.raises(InternalsError, match="strength must be between -10000 and 10000, not 1e"):
        Steering(tiny, np.ones(HIDDEN), layer=1, strength=1e300)
    with pytest.raises(InternalsError, match="too large for this direction"):
        Steering(tiny, np.full(HIDDEN, 1e10), layer=1, strength=1000)


@pytest.mark.parametrize("direction, message", [
    ("joy", "a direction must be numbers"),
    (np.full(HIDDEN, np.nan), "NaN or infinite"),
])
def test_steering_refuses_a_direction_that_is_not_finite_numbers(tiny, direction, message):
    with pytest.raises(InternalsError, match=message):
        Steering(tiny, direction, layer=1)


def test_a_matrix_direction_must_have_a_row_per_prompt(tiny):
    with Steering(tiny, np.ones((3, HIDDEN)), layer=1), pytest.raises(InternalsError, match="3 rows for a batch of 2"):
        tiny.model(torch.zeros(2, 5, HIDDEN))


def test_directions_looked_up_by_something_other_than_a_name(tiny):
    directions = EmotionDirections("tiny", "mean_diff", (0,), {"joy": np.ones((1, HIDDEN), np.float32)}, {})
    with pytest.raises(InternalsError, match="no direction for \\['joy'\\]"):
        directions[["joy"]]


def test_directions_saved_onto_a_folder_leave_it_alone(tmp_path):
    directions = EmotionDirections("tiny", "mean_diff", (0,), {"joy": np.ones((1, HIDDEN), np.float32)}, {})
    with pytest.raises(OutputFileError, match="cannot be written"):
        directions.save(tmp_path)
    assert tmp_path.is_dir() and not list(tmp_path.iterdir())


def test_directions_loaded_from_a_folder(tmp_path):
    with pytest.raises(InternalsError, match="is a folder"):
        EmotionDirections.load(tmp_path)


@pytest.mark.parametrize("texts, options, error, message", [
    ("hello", {}, InternalsError, "not one text"),  # was captured as five one-letter texts
    (["fine", 5], {}, InternalsError, "text 1 is a int"),
    (["x \ud83d"], {}, InternalsError, "text 0 contains an unpaired surrogate"),
    (["fine"], {"batch_size": 0}, OptionError, "batch_size must be a whole number"),
    (["fine"], {"max_tokens": -1}, OptionError, "max_tokens must be a whole number"),
    (["fine"], {"layers": []}, InternalsError, "no layers to capture"),
    (["fine"], {"layers": [1.5]}, InternalsError, "a layer is a whole number"),
])
def test_capture_refuses_bad_texts_and_options(tiny, texts, options, error, message):
    with pytest.raises(error, match=message):
        capture(tiny, texts, **options)


@pytest.mark.parametrize("scenarios", [[], ["a", "b"]])
def test_scenarios_that_are_no_list_of_mappings(tiny, scenarios):
    with pytest.raises(InternalsError, match="scenario"):
        scenario_states(tiny, scenarios)


def test_a_share_removed_that_is_no_number():
    states = TextStates("tiny", "texts", (0,), ["joy"], "neutral", np.zeros((4, 1, HIDDEN)),
                        np.array(["joy", "joy", "neutral", "neutral"], dtype=object), np.array([1, 0, 1, 0], bool))
    with pytest.raises(InternalsError, match="between 0 and 1, not x"):
        states.directions(remove_shared="x")


@pytest.mark.parametrize("features, labels, message", [
    (np.random.default_rng(0).random((4, 2, 5)), [0, 0, 0, 0], "at least two labels"),
    (np.random.default_rng(0).random((4, 2, 5)), ["a", "b", "a", "b"], "class ids"),
    (np.zeros((0, 2, 5)), [], "no texts"),
    (np.full((4, 2, 5), np.nan), [0, 1, 0, 1], "NaN or infinite"),
])
def test_probes_refuse_labels_and_features_they_cannot_learn_from(features, labels, message):
    with pytest.raises(InternalsError, match=message):
        train_probes(features, labels)


@pytest.mark.parametrize("features, labels, message", [
    ((6, 2, 5), [0, 1], "6 feature rows but 2 labels"),
    ((6, 2, 7), [0, 1, 2, 0, 1, 2], "features must be \\[texts, 2, 5\\]"),
    ((6, 2, 5), [9, 1, 2, 0, 1, 2], "label id 9"),
])
def test_probes_scored_on_features_or_labels_that_do_not_fit(features, labels, message):
    rng = np.random.default_rng(0)
    probes = train_probes(rng.random((6, 2, 5)), [0, 1, 2, 0, 1, 2])
    with pytest.raises(InternalsError, match=message):
        score_probes(probes, rng.random(features), labels)


def test_zero_shot_without_labels():
    with pytest.raises(InternalsError, match="needs texts and labels"):
        zero_shot_scores(_EchoLM(), ["text"], [])


# --- the internals on the command line: refused before a model is loaded -------------------------------------

@pytest.mark.parametrize("args, message", [
    (["steer", "   ", "--emotion", "joy"], "the prompt is empty"),
    (["steer", "Hi", "--emotion", "joy", "--strength", "nan"], "strength must be a finite number, not nan"),
    (["steer", "Hi", "--emotion", "joy", "--layer", ""], "--layer takes a number"),  # was the default layers
    (["steer", "Hi", "--emotion", "joy", "--max-new-tokens", "0"], "Invalid value for '--max-new-tokens'"),
    (["steer", "Hi", "--emotion", "joy", "--seed", "99999999999999999999"], "Invalid value for '--seed'"),
    (["eval", "steering", "--strengths", "2,inf"], "strength must be a finite number, not inf"),
    (["eval", "steering", "--strengths", "2,1e10"], "strength must be between -10000 and 10000, not 1e+10"),
    (["eval", "steering", "--samples", "0"], "Invalid value for '--samples'"),
    (["probe", "-o", "probe.txt"], "end the name in .json"),  # was written as probe.json
    (["prompt-eval", "--seed", "-1"], "Invalid value for '--seed'"),
    (["prompt-eval", "--batch-size", "0"], "Invalid value for '--batch-size'"),
])
def test_internals_and_prompting_cli_refuse_bad_options_at_once(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and message in result.output, result.output


def test_reports_under_a_file_are_refused_before_any_work(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("mine")
    for args in (["probe", "-o", str(blocker / "probe.json")], ["eval", "probes", "--reports-dir", str(blocker)],
                 ["eval", "steering", "--reports-dir", str(blocker)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "is a file, not a folder" in result.output, result.output
    assert blocker.read_text() == "mine"


def test_directions_onto_a_folder_are_refused_before_any_work(tmp_path):
    result = runner.invoke(app, ["directions", "-o", str(tmp_path)])
    assert result.exit_code == 2 and "is a folder" in result.output, result.output


# --- the prompting lab ---------------------------------------------------------------------------------------

def _jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("rows, message", [
    (["[" * 100_000], "nested too deeply"),  # was a RecursionError
    ([{"input": "a", "output": " "}] * 4, "an empty 'output'"),  # an empty answer counted as right
    (['{"input": "a \\ud83d", "output": "b"}'] * 4, "unpaired surrogate"),  # failed in the cache, after answers
    (['{"id": "x \\ud83d", "input": "a", "output": "b"}'] * 4, "unpaired surrogate"),  # failed writing the records
])
def test_task_files_with_lines_no_prompt_can_hold(tmp_path, rows, message):
    with pytest.raises(TaskError, match=message):
        load_jsonl_task(_jsonl(tmp_path / "task.jsonl", rows))


def test_negative_shots_are_refused(tmp_path):  # -1 took every line but the last as examples
    with pytest.raises(TaskError, match="shots must be a whole number of at least 0"):
        load_jsonl_task(_jsonl(tmp_path / "task.jsonl", [{"input": "a", "output": "b"}] * 5), shots=-1)


def test_negative_items_are_refused():  # -1 asked every item but the last
    with pytest.raises(OptionError, match="items must be a whole number"):
        resolve_tasks("antonyms", "nowhere", items=-1)


@pytest.mark.parametrize("document, message", [
    ("[" * 100_000, "nested too deeply"),
    ('{"stimuli": {"calm": "Breathe \\ud83d"}}', "unpaired surrogate"),
    ('{"stimuli": {"calm \\ud83d": "Breathe"}}', "unpaired surrogate"),
])
def test_stimulus_files_with_text_no_prompt_can_hold(tmp_path, document, message):
    path = tmp_path / "mine.json"
    path.write_text(document)
    with pytest.raises(StimulusError, match=message):
        read_stimulus_file(path)


@pytest.mark.parametrize("spec, message", [
    ("", "no stimuli to compare"),  # was a run of the bare prompt alone
    ("none", "no stimuli to compare"),
    ("stress:1-99999999999", "levels must look like"),  # was a MemoryError
])
def test_condition_specs_that_compare_nothing_or_too_much(spec, message):
    with pytest.raises(StimulusError, match=message):
        parse_conditions(spec, load_stimuli())


def test_a_metric_module_without_a_name():
    with pytest.raises(MetricError, match="cannot load metric ':x'"):
        resolve_metric(":x")


@pytest.mark.parametrize("options, message", [
    ({"batch_size": 0}, "batch_size must be a whole number"),  # was a ValueError from range()
    ({"batch_size": -3}, "batch_size must be a whole number"),
    ({"seed": -1}, "seed must be a whole number of at least 0"),  # failed in the bootstrap, after every answer
    ({"position": "middle"}, "position must be one of"),
])
def test_prompt_eval_refuses_bad_options_before_any_answer(options, message):
    with pytest.raises((OptionError, StimulusError), match=message):
        run_prompt_eval(_EchoLM(), [_task()], parse_conditions("positive", load_stimuli()), **options)


@pytest.mark.parametrize("tasks, conditions, message", [
    ("task", "nothing", "conditions: nothing to compare with the bare prompt"),  # ran the bare prompt alone
    ("task", "none", "conditions: nothing to compare with the bare prompt"),
    ("no task", "positive", "tasks: none to ask"),
])
def test_prompt_eval_refuses_a_run_that_compares_nothing(tasks, conditions, message):
    from affectlab.prompting.stimuli import BASELINE

    tasks = [_task()] if tasks == "task" else []
    conditions = {"none": [BASELINE], "positive": parse_conditions("positive", load_stimuli())}.get(conditions, [])
    with pytest.raises(OptionError, match=message):
        run_prompt_eval(_EchoLM(), tasks, conditions)


@pytest.mark.parametrize("rounds", [0, 10**9, 2.5])
def test_heart_refuses_max_rounds_out_of_bounds(rounds):  # a billion rounds ran on without end
    with pytest.raises(StimulusError, match="max_rounds must be a whole number"):
        run_heart(_EchoLM(), [_task()], max_rounds=rounds)


def test_heart_max_rounds_is_checked_before_the_model_loads(tmp_path):
    task = _jsonl(tmp_path / "task.jsonl", [{"input": "a", "output": "b"}] * 5)
    result = runner.invoke(app, ["heart", "--task", str(task), "--max-rounds", "1000000000", "-o",
                                 str(tmp_path / "h.json"), "--llm", "cloud"])
    assert result.exit_code == 2 and "max_rounds must be a whole number" in result.output, result.output


def test_a_report_never_replaces_a_stimulus_file(tmp_path):
    task = _jsonl(tmp_path / "task.jsonl", [{"input": "a", "output": "b"}] * 5)
    stimuli = tmp_path / "mine.json"
    stimuli.write_text('{"stimuli": {"calm": "Breathe."}}')
    result = runner.invoke(app, ["prompt-eval", "--tasks", str(task), "--stimuli-file", str(stimuli), "--stimuli",
                                 "mine", "-o", str(stimuli)])
    assert result.exit_code == 2 and "would overwrite the input" in result.output, result.output
    assert stimuli.read_text() == '{"stimuli": {"calm": "Breathe."}}'


def test_traces_never_replace_the_task_file(tmp_path):
    task = _jsonl(tmp_path / "h.traces.jsonl", [{"input": "a", "output": "b"}] * 5)
    before = task.read_text()
    result = runner.invoke(app, ["heart", "--task", str(task), "-o", str(tmp_path / "h.json")])
    assert result.exit_code == 2 and "would overwrite the input" in result.output, result.output
    assert task.read_text() == before


def test_a_report_that_cannot_be_written_is_refused_before_any_answer(tmp_path):
    task = _jsonl(tmp_path / "task.jsonl", [{"input": "a", "output": "b"}] * 5)
    result = runner.invoke(app, ["prompt-eval", "--tasks", str(task), "-o", str(task / "r.json"), "--llm", "cloud"])
    assert result.exit_code == 2 and "is a file, not a folder" in result.output, result.output


@pytest.mark.parametrize("samples", [0, -1, 1.5])
def test_a_steering_evaluation_without_samples_is_refused_before_any_work(samples):
    from affectlab.evaluate.internals import eval_steering

    with pytest.raises(OptionError, match="samples must be a whole number"):
        eval_steering(None, None, layers=[5], strengths=[4.0], samples=samples)


def test_whole_numbers_from_numpy_are_whole_numbers():
    from affectlab.prompting.harness import check_run
    from affectlab.prompting.heart import check_max_rounds

    check_run(np.int64(16), np.int64(0), np.int32(2000))
    check_max_rounds(np.int64(4))
