"""Long conversations cost time and memory in proportion to their length: causes are scored over a bounded
lookback. The cause network is replaced by a counting stand-in, so 2,000 turns are packed and "scored" in
seconds and the test sees exactly what the real network would be asked to read."""

import pytest
import torch
from typer.testing import CliRunner

from affectlab.cli import app
from affectlab.dialogue import ConversationAnalyzer
from affectlab.dialogue.analyzer import DEFAULT_LOOKBACK
from affectlab.dialogue.models import CauseOutput
from affectlab.errors import OptionError
from test_conversation import long_conversation

runner = CliRunner()


class CountingCauseNetwork:
    """Answers like the cause model (all pairs unlikely) and counts the calls, sequences and tokens it reads."""

    def __init__(self) -> None:
        self.calls = self.sequences = self.tokens = 0
        self.widest = 0  # the most candidate turns in one sequence

    def __call__(self, ids, valid, slots, n_slots, distance, same_speaker) -> CauseOutput:
        self.calls += 1
        self.sequences += ids.shape[0]
        self.tokens += int(valid.sum())
        self.widest = max(self.widest, n_slots - 1)
        return CauseOutput(torch.full((ids.shape[0], n_slots - 1), -5.0), torch.zeros(ids.shape),
                           torch.zeros(ids.shape))


def _cause_pass(turns: int, lookback: int | None) -> tuple[CountingCauseNetwork, list]:
    analyzer = ConversationAnalyzer(lookback=lookback)
    counter = CountingCauseNetwork()
    analyzer.causes_model._network = counter
    conversation = long_conversation(turns)
    candidates = analyzer.cause_candidates(conversation, [(i, "sadness") for i in range(turns)])
    return counter, candidates


def test_the_cause_pass_of_2000_turns_is_linear_in_its_length():
    short, _ = _cause_pass(500, DEFAULT_LOOKBACK)
    long, candidates = _cause_pass(2000, DEFAULT_LOOKBACK)
    # every turn a target (the worst case): four times the turns, four times the work (5% slack: the turns'
    # numbers have more digits), where scoring every earlier turn would make it about sixteen
    for measure in ("calls", "sequences", "tokens"):
        assert getattr(long, measure) <= 4.2 * getattr(short, measure), measure
    assert long.sequences <= 2000 and long.widest <= DEFAULT_LOOKBACK + 1
    assert [len(c) for c in candidates[:3]] == [1, 2, 3]
    assert {len(c) for c in candidates[DEFAULT_LOOKBACK:]} == {DEFAULT_LOOKBACK + 1}


def test_without_a_lookback_the_cost_grows_with_the_square():
    short, _ = _cause_pass(100, None)
    long, candidates = _cause_pass(400, None)
    assert long.tokens > 10 * short.tokens  # what the lookback avoids; the test above would fail on this
    assert len(candidates[-1]) == 400


@pytest.mark.parametrize("lookback", [-1, 2.5, True, "10"])
def test_a_bad_lookback_is_refused(lookback):
    with pytest.raises(OptionError, match="lookback"):
        ConversationAnalyzer(lookback=lookback)


@pytest.mark.parametrize("value", ["-3", "ten", ""])
def test_the_cli_refuses_a_bad_lookback(tmp_path, value):
    chat = tmp_path / "chat.json"
    chat.write_text('[{"speaker": "A", "text": "I lost my keys."}]')
    result = runner.invoke(app, ["conversation", str(chat), "--lookback", value])
    assert result.exit_code == 2 and "--lookback" in result.output


@pytest.mark.parametrize(("value", "lookback"), [("3", 3), ("all", None), ("0", 0)])
def test_the_cli_lookback_reaches_the_analyzer(tmp_path, monkeypatch, value, lookback):
    import affectlab.dialogue

    seen = []

    class Recording(ConversationAnalyzer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen.append(self.lookback)

    monkeypatch.setattr(affectlab.dialogue, "ConversationAnalyzer", Recording)
    chat = tmp_path / "chat.json"
    chat.write_text('[{"speaker": "A", "text": "I lost my keys."}, {"speaker": "B", "text": "Oh no!"}]')
    result = runner.invoke(app, ["conversation", str(chat), "--lookback", value, "-o", str(tmp_path / "o.json")])
    assert result.exit_code == 0, result.output
    assert seen == [lookback]
