"""The emotional prompting lab: stimuli, tasks, scoring, the harness with its cache, HEART, and the CLI."""

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from affectlab.cli import app
from affectlab.llm import Generation, LLMError
from affectlab.metrics import bootstrap_delta
from affectlab.prompting import (
    INSTRUCTION_INDUCTION,
    GenerationCache,
    StimulusError,
    TaskError,
    build_prompt,
    load_instruction_induction,
    load_jsonl_task,
    load_stimuli,
    parse_conditions,
    resolve_tasks,
    run_heart,
    run_prompt_eval,
)
from affectlab.prompting.heart import EMOTION_CYCLE, load_feedback
from affectlab.prompting.scoring import MetricError, contains, exact, f1, resolve_metric, same_set
from affectlab.prompting.stimuli import read_stimulus_file
from affectlab.prompting.tasks import Item, Task
from conftest import DATA_DIR, needs_data

runner = CliRunner()


class RuleLM:
    """A stand-in language model: answers the item right when ``rule(prompt)`` holds, else "wrong"."""

    name = "rule-lm"
    context_length = 4096

    def __init__(self, rule, fail_after: int | None = None):
        self.rule, self.fail_after, self.prompts = rule, fail_after, []

    def generate(self, prompt, *, max_new_tokens=64, temperature=0.0, top_p=1.0, stop=(), seed=None):
        if self.fail_after is not None and len(self.prompts) >= self.fail_after:
            raise LLMError("the server went away")
        self.prompts.append(prompt)
        item = re.findall(r"Input: (\S+)\nOutput:", prompt)[-1]
        return Generation(f" {item.upper() if self.rule(prompt) else 'wrong'}\n", 2, "stop")

    def score(self, prompt, continuations):
        return [0.0] * len(continuations)

    def count_tokens(self, text):
        return len(text.split())


def _task(n=40, metric="exact"):
    items = tuple(Item(str(k), f"w{k}", (f"W{k}",)) for k in range(n))
    return Task("upper", "Write the word in capitals.", items, (Item("d", "cat", ("CAT",)),), metric, 4)


# --- stimuli ---------------------------------------------------------------------------------------------

def test_packaged_stimuli_cover_the_theories_and_stress_levels():
    library = load_stimuli()
    assert len({s.id for s in library}) == len(library)
    theories = {(s.group, s.theory) for s in library}
    for theory in ("self-monitoring", "social-cognitive", "cognitive-emotion-regulation"):
        assert ("positive", theory) in theories
    for theory in ("cognitive-dissonance", "social-comparison", "stress-and-coping"):
        assert ("negative", theory) in theories
    assert sorted({s.level for s in library if s.group == "stress"}) == [1, 2, 3, 4, 5]
    names = [c.name for c in parse_conditions("positive,negative,stress:1-5,pos-sm-1", library)]
    assert names == ["none", "positive", "negative", *(f"stress:{k}" for k in range(1, 6)), "pos-sm-1"]


@needs_data
def test_packaged_stimuli_are_not_the_published_ones():
    published = []
    for name in ("emotionprompt", "negativeprompt"):
        published += read_stimulus_file(DATA_DIR / "stimuli_reference" / f"{name}.json")
    ours = [s.text.lower() for s in load_stimuli()]
    for reference in published:
        words = set(re.findall(r"[a-z']+", reference.text.lower()))
        for text in ours:
            mine = set(re.findall(r"[a-z']+", text))
            assert len(words & mine) / len(words | mine) < 0.5, (reference.text, text)


def test_user_stimulus_files_in_both_formats(tmp_path):
    listed = tmp_path / "mine.json"
    listed.write_text(json.dumps({"stimuli": [{"id": "calm-1", "group": "calm", "theory": "x", "text": "Relax."}]}))
    mapping = tmp_path / "reference.json"
    mapping.write_text(json.dumps({"source": "test", "stimuli": {"R1": "One.", "R2": "Two."}}))
    library = load_stimuli(listed, mapping)
    conditions = parse_conditions("calm,reference", library)
    assert [c.name for c in conditions] == ["none", "calm", "reference"]
    assert [s.id for s in conditions[2].stimuli] == ["R1", "R2"]
    assert [conditions[2].stimulus_for(k).id for k in range(3)] == ["R1", "R2", "R1"]


@pytest.mark.parametrize("spec, message", [
    ("joyful", "unknown stimulus group or id 'joyful'"),
    ("stress:0-9", "levels must look like"),
    ("stress:2-x", "levels must look like"),
    ("positive,positive", "named twice"),
])
def test_bad_condition_specs(spec, message):
    with pytest.raises(StimulusError, match=message):
        parse_conditions(spec, load_stimuli())


def test_bad_stimulus_files(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(StimulusError, match="broken.json: cannot read"):
        load_stimuli(broken)
    empty_text = tmp_path / "empty.json"
    empty_text.write_text(json.dumps({"stimuli": [{"id": "a", "group": "g", "text": " "}]}))
    with pytest.raises(StimulusError, match="stimulus 0: missing or empty text"):
        load_stimuli(empty_text)
    twice = tmp_path / "twice.json"
    twice.write_text(json.dumps({"stimuli": [{"id": "pos-sm-1", "group": "g", "text": "Again."}]}))
    with pytest.raises(StimulusError, match="'pos-sm-1' is defined twice"):
        load_stimuli(twice)


# --- tasks and scoring -------------------------------------------------------------------------------------

@needs_data
def test_instruction_induction_tasks_load_with_demos_apart_from_items():
    tasks = load_instruction_induction(DATA_DIR, items=10, shots=3, seed=0)
    assert [t.name for t in tasks] == list(INSTRUCTION_INDUCTION)
    for task in tasks:
        assert task.instruction and len(task.demos) == 3 and 1 <= len(task.items) <= 10
        assert not {d.id for d in task.demos} & {i.id for i in task.items}
        assert all(item.input and item.answers for item in task.items)
    again = load_instruction_induction(DATA_DIR, ["cause_and_effect"], items=10, seed=0)[0]
    assert again == next(t for t in tasks if t.name == "cause_and_effect")
    for item in again.items:
        assert item.answers[0] in item.input
    with pytest.raises(TaskError, match="unknown instruction-induction task"):
        load_instruction_induction(DATA_DIR, ["antonym"])


def test_jsonl_tasks_and_their_errors(tmp_path):
    good = tmp_path / "qa.jsonl"
    good.write_text('{"input": "2+2", "output": "4"}\n\n{"input": "capital of France", "output": ["Paris", "paris"], '
                    '"id": "fr"}\n{"input": "3+3", "output": "6"}\n')
    task = load_jsonl_task(good, instruction="Answer.", shots=1, metric="contains")
    assert task.name == "qa" and task.demos[0].answers == ("4",) and [i.id for i in task.items] == ["fr", "4"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": "a", "output": "b"}\n{"input": "c", "output": "d"}\n{"input": "e", "output": \n')
    with pytest.raises(TaskError, match=r"bad.jsonl, line 3: not valid JSON"):
        load_jsonl_task(bad)
    bad.write_text('{"input": "a", "output": "b"}\n{"input": "c"}\n')
    with pytest.raises(TaskError, match=r"line 2: needs a string 'input' and an 'output'"):
        load_jsonl_task(bad)
    with pytest.raises(TaskError, match="not enough"):
        load_jsonl_task(good, shots=3)
    four = tmp_path / "four.jsonl"
    four.write_text("".join(f'{{"input": "{k}+{k}", "output": "{2 * k}"}}\n' for k in range(4)))
    (task,) = resolve_tasks(str(four), tmp_path)  # in Python as on the command line: 3 solved examples
    assert len(task.demos) == 3 and [i.input for i in task.items] == ["3+3"]


def test_metrics():
    assert exact(" Paris.", ["paris"]) == 1.0 and exact("Paris is", ["paris"]) == 0.0
    assert contains("It is Paris.", ["paris"]) == 1.0 and contains("Lyon", ["paris"]) == 0.0
    assert f1("a red car", ["the red car"]) == 1.0 and 0 < f1("red bike", ["red car"]) < 1
    assert same_set("dog, cat", ["cat, dog"]) == 1.0 and same_set("dog", ["cat, dog"]) == 0.0
    assert resolve_metric("test_prompting:first_letter_metric") is first_letter_metric
    with pytest.raises(MetricError, match="unknown metric 'fuzzy'"):
        resolve_metric("fuzzy")
    with pytest.raises(MetricError, match="cannot load metric"):
        resolve_metric("no_such_module:thing")


def first_letter_metric(prediction, answers):
    return float(prediction[:1].lower() == answers[0][:1].lower())


def test_prompt_places_the_stimulus_after_or_before_the_instruction():
    task, stimulus = _task(), load_stimuli()[0]
    appended = build_prompt(task, task.items[0], stimulus)
    assert appended.startswith(f"Instruction: {task.instruction} {stimulus.text}\n\nInput: cat\nOutput: CAT\n\n")
    assert appended.endswith("Input: w0\nOutput:")
    assert build_prompt(task, task.items[0], stimulus, "prepend").startswith(f"Instruction: {stimulus.text} Write")
    with pytest.raises(StimulusError, match="position must be one of"):
        build_prompt(task, task.items[0], stimulus, "middle")


def test_bootstrap_interval_brackets_the_paired_mean():
    rng = np.random.default_rng(0)
    shifted = rng.normal(0.3, 1.0, 400)
    delta, low, high = bootstrap_delta([shifted], seed=1)
    assert low < delta < high and low > 0 and abs(delta - shifted.mean()) < 1e-12
    delta, low, high = bootstrap_delta([rng.normal(0, 1, 400), rng.normal(0, 1, 50)])
    assert low < 0 < high


# --- the harness ---------------------------------------------------------------------------------------------

def test_harness_finds_an_effect_where_there_is_one_and_none_where_there_is_none(tmp_path):
    library = load_stimuli()
    helps = {s.text for s in library if s.group == "positive"}
    lm = RuleLM(lambda prompt: any(text in prompt for text in helps))
    conditions = parse_conditions("positive,negative", library)
    result = run_prompt_eval(lm, [_task()], conditions, cache=GenerationCache(tmp_path), resamples=500)
    positive, negative = result.overall
    assert (positive.condition, positive.accuracy, positive.baseline, positive.delta) == ("positive", 1.0, 0.0, 1.0)
    assert positive.significant and positive.low == 1.0
    assert negative.delta == 0.0 and not negative.significant
    assert {c.scope for c in result.by_stimulus if c.condition == "positive"} == \
        {s.id for s in library if s.group == "positive"}
    assert len(result.records) == 3 * 40 and len(lm.prompts) == 3 * 40
    json.dumps(result.to_dict(records=True))
    again = run_prompt_eval(lm, [_task()], conditions, cache=GenerationCache(tmp_path), resamples=500)
    assert len(lm.prompts) == 3 * 40 and again.overall == result.overall  # every answer came from the cache


def test_a_failing_metric_is_recorded_per_item_and_the_run_goes_on(tmp_path):
    def picky(prediction, answers):
        if prediction.endswith("7"):
            raise ValueError("cannot judge sevens")
        return float(prediction in answers)

    conditions = parse_conditions("pos-sm-1", load_stimuli())
    result = run_prompt_eval(RuleLM(lambda p: True), [_task(metric=picky)], conditions)
    failed = [r for r in result.records if r.error]
    assert {r.item_id for r in failed} == {"7", "17", "27", "37"}
    assert all("metric failed: ValueError: cannot judge sevens" in r.error for r in failed)
    (comparison,) = result.overall
    assert comparison.n == 36 and comparison.errors == 4 and comparison.accuracy == 1.0


def test_an_interrupted_run_resumes_from_the_cache(tmp_path):
    conditions = parse_conditions("positive", load_stimuli())
    flaky = RuleLM(lambda p: "Check" in p, fail_after=50)
    with pytest.raises(LLMError, match="went away .*48 answers so far are cached.*run the same command again"):
        run_prompt_eval(flaky, [_task()], conditions, cache=GenerationCache(tmp_path), batch_size=8)
    assert len(GenerationCache(tmp_path)) == 48  # six whole batches; the seventh failed halfway
    with (tmp_path / "generations.jsonl").open("a") as handle:
        handle.write('{"key": "half a line')  # what a crash during a write leaves
    steady = RuleLM(lambda p: "Check" in p)
    resumed = run_prompt_eval(steady, [_task()], conditions, cache=GenerationCache(tmp_path), batch_size=8)
    assert len(steady.prompts) == 80 - 48
    fresh = run_prompt_eval(RuleLM(lambda p: "Check" in p), [_task()], conditions, batch_size=8)
    assert resumed.records == fresh.records


# --- HEART ---------------------------------------------------------------------------------------------------

def test_heart_emotional_feedback_against_neutral():
    feedback = load_feedback()
    assert set(feedback) == {"neutral", *EMOTION_CYCLE} and all(len(v) >= 2 for v in feedback.values())
    fearful = set(feedback["fear"])
    lm = RuleLM(lambda prompt: any(phrase in prompt for phrase in fearful))  # only fear gets it right
    result = run_heart(lm, [_task(20)], max_rounds=4, resamples=500)
    accuracy = {(r.arm, r.round): r.accuracy for r in result.rounds}
    assert [accuracy["emotional", k] for k in (1, 2, 3, 4)] == [0.0, 0.0, 0.0, 1.0]
    assert [accuracy["neutral", k] for k in (1, 2, 3, 4)] == [0.0] * 4
    assert [r.tone for r in result.rounds if r.arm == "emotional"] == [None, "anger", "disgust", "fear"]
    assert result.emotional_vs_neutral[3].significant and not result.emotional_vs_neutral[0].significant
    trace = next(t for t in result.traces if t.arm == "emotional")
    assert trace.solved_round == 4 and [a.tone for a in trace.attempts] == ["anger", "disgust", "fear", None]
    last_prompt = next(p for p in reversed(lm.prompts) if "Input: w0\n" in p)
    assert last_prompt.count("Feedback:") == 3 and last_prompt.endswith("Output:")
    json.dumps(result.to_dict(traces=True))


def test_heart_with_a_user_verifier_stops_at_the_first_accepted_answer():
    lm = RuleLM(lambda prompt: False)
    result = run_heart(lm, [_task(10)], max_rounds=3, verifier=lambda task, item, answer: answer == "wrong")
    assert all(r.accuracy == 1.0 for r in result.rounds) and len(lm.prompts) == 2 * 10
    with pytest.raises(StimulusError, match="at least 1"):
        run_heart(lm, [_task(10)], max_rounds=0)



def test_heart_counts_an_answer_its_verifier_fails_on_as_wrong_and_goes_on():
    def picky(task, item, answer):  # a user's verifier that cannot read some answers
        if answer == "wrong":
            raise ValueError("not a word I know")
        return answer in item.answers

    first_item_right = RuleLM(lambda prompt: re.findall(r"Input: (\S+)\nOutput:", prompt)[-1] == "w0")
    result = run_heart(first_item_right, [_task(4)], max_rounds=2, verifier=picky)
    failed = [a for t in result.traces for a in t.attempts if a.error]
    assert len(failed) == 3 * 2 * 2 and all(a.error == "verifier failed: ValueError: not a word I know" for a in failed)
    assert not any(a.correct for a in failed) and result.settings["verifier_errors"] == 12
    assert result.rounds[0].accuracy == 0.25  # the answers it could read are judged as usual
    json.dumps(result.to_dict(traces=True))
    with pytest.raises(StimulusError, match="failed on every first answer of task 'upper'.*TypeError"):
        run_heart(first_item_right, [_task(4)], max_rounds=2, verifier=lambda task, item: True)  # broken: stop


def test_heart_records_why_the_tasks_own_metric_failed_on_an_answer():
    def picky(prediction, answers):  # the task's metric, read by heart's default verifier
        if prediction == "wrong":
            raise ValueError("cannot judge that")
        return float(prediction in answers)

    first_item_right = RuleLM(lambda prompt: re.findall(r"Input: (\S+)\nOutput:", prompt)[-1] == "w0")
    result = run_heart(first_item_right, [_task(4, metric=picky)], max_rounds=2)
    failed = [a for t in result.traces for a in t.attempts if a.error]
    assert len(failed) == 12 and all(a.error == "metric failed: ValueError: cannot judge that" for a in failed)
    assert result.rounds[0].accuracy == 0.25 and result.settings["verifier_errors"] == 12
    with pytest.raises(StimulusError, match="task's metric failed on every first answer.*metric returned 2.0, outside"):
        run_heart(first_item_right, [_task(4, metric=lambda prediction, answers: 2.0)], max_rounds=2)


def test_a_cached_answer_cut_inside_an_emoji_is_mended_as_it_is_read(tmp_path):
    from affectlab.prompting import GenerationCache

    (tmp_path / "generations.jsonl").write_text(
        '{"key": "k", "text": "Sure \\ud83d", "tokens": 2, "finish_reason": "length"}\n', encoding="utf-8")
    text = GenerationCache(tmp_path).get("k").text
    assert text == "Sure \ufffd" and text.encode("utf-8")


# --- the real model, locally and over HTTP, and the CLI ----------------------------------------------------------

def test_batched_generation_matches_one_prompt_at_a_time(llm):
    prompts = ["Input: cat\nOutput: CAT\n\nInput: dog\nOutput:", "The opposite of hot is",
               "Instruction: Write the plural.\n\nInput: box\nOutput: boxes\n\nInput: mouse\nOutput:", "1, 2, 3,"]
    one_by_one = [llm.generate(p, max_new_tokens=6, stop=["\n"]) for p in prompts]
    assert llm.generate_batch(prompts, max_new_tokens=6, stop=["\n"]) == one_by_one


@pytest.fixture()
def plural_task(tmp_path):
    path = tmp_path / "plural.jsonl"
    rows = [("box", "boxes"), ("cat", "cats"), ("dog", "dogs"), ("house", "houses"), ("car", "cars"),
            ("tree", "trees"), ("bird", "birds")]
    path.write_text("".join(json.dumps({"input": a, "output": b}) + "\n" for a, b in rows))
    return path


def test_prompt_eval_over_http_matches_the_local_backend(llm, server_url, plural_task, tmp_path):
    from affectlab.llm import OpenAICompatibleLM

    task = load_jsonl_task(plural_task, instruction="Write the plural of the word.", shots=2)
    conditions = parse_conditions("pos-er-1,neg-sc-1", load_stimuli())
    local = run_prompt_eval(llm, [task], conditions, batch_size=1, resamples=200)
    remote = run_prompt_eval(OpenAICompatibleLM(server_url, "gemma3-270m"), [task], conditions, resamples=200)
    assert local.records == remote.records and local.overall == remote.overall


def test_prompt_eval_and_heart_cli(llm, plural_task, tmp_path):
    report = tmp_path / "out" / "pe.json"
    args = ["prompt-eval", "--tasks", str(plural_task), "--instruction", "Write the plural of the word.",
            "--shots", "2", "--stimuli", "pos-sc-1,stress:5", "--cache-dir", str(tmp_path / "cache"), "-o", str(report)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    document = json.loads(report.read_text())
    assert document["command"].startswith("affectlab prompt-eval --tasks") and document["model"] == "gemma3-270m"
    assert [c["condition"] for c in document["overall"]] == ["pos-sc-1", "stress:5"]
    assert len(report.with_suffix(".records.jsonl").read_text().splitlines()) == 3 * 5
    assert report.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    assert "data:image/png;base64," in report.with_suffix(".html").read_text()
    assert "all tasks" in result.output

    heart_report = tmp_path / "heart.json"
    result = runner.invoke(app, ["heart", "--task", str(plural_task), "--instruction", "Write the plural.",
                                 "--shots", "2", "--max-rounds", "2", "--cache-dir", str(tmp_path / "cache"),
                                 "-o", str(heart_report)])
    assert result.exit_code == 0, result.output
    rounds = json.loads(heart_report.read_text())["rounds"]
    assert [(r["arm"], r["round"]) for r in rounds] == [("emotional", 1), ("neutral", 1), ("emotional", 2),
                                                         ("neutral", 2)]
    assert rounds[0]["accuracy"] == rounds[1]["accuracy"]  # the first answer is the same in both arms


@pytest.mark.parametrize("args, message", [
    (["prompt-eval", "--tasks", "antonym"], "unknown task 'antonym'"),
    (["prompt-eval", "--tasks", "{task}", "--stimuli", "grumpy"], "unknown stimulus group or id 'grumpy'"),
    (["heart", "--task", "{task}", "--verifier", "nowhere:check"], "cannot load metric 'nowhere:check'"),
    (["prompt-eval", "--tasks", "{task}", "--llm", "cloud"], "--llm must be local or openai"),
    (["heart", "--task", "{task}", "--metric", "fuzzy"], "unknown metric 'fuzzy'"),
    (["heart", "--task", "{task}", "-o", "heart.txt"], "end the name in .json"),  # before any answer is made
    (["prompt-eval", "--tasks", "{task}", "-o", "report.csv"], "end the name in .json"),
])
def test_cli_bad_input(args, message, plural_task):
    result = runner.invoke(app, [a.format(task=plural_task) for a in args])
    assert result.exit_code == 2 and message in result.output, result.output
