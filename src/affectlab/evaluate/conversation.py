"""``affectlab eval conversation``: the turn-emotion model across registers, one table of corpus × metric with
the published figures beside each.

- DailyDialog test, micro-F1 without neutral, on the official split and without its copies of train dialogues;
- MELD, weighted-F1 over the 7 classes, on the held-out 10% of MELD train (the official test split is kept
  outside the shared data; the published figures are on that test split, so they are a guide, not a match);
- RECCON-IEMOCAP test turns, micro-F1 without neutral (acted dialogue none of the training corpora resemble);
- the turns of ``examples/chat.json`` that issue 28 quotes as wrongly neutral (4–6, counted from 0 as
  ``affectlab conversation`` numbers them: the missed deadline, "so frustrating", "I'm scared"), with their
  emotions.

Every set is scored with the analyzer's register and, beside it, with the register of its own corpus, where
the model has one (each corpus's calibration is chosen on that corpus's dev split, never on these sets).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from affectlab.datasets import DEFAULT_DATA_DIR, load_dailydialog, load_meld_part, load_reccon
from affectlab.dialogue.analyzer import ConversationAnalyzer
from affectlab.dialogue.turns import read_conversation
from affectlab.evaluate.dialogue import (
    dailydialog_figures,
    dialogue_logits,
    model_info,
    predicted_emotions,
    train_overlap,
    turn_scores,
)
from affectlab.evaluate.report import EvaluationError

CHAT = Path("examples/chat.json")
CHAT_TURNS = (4, 5, 6)  # 0-based, as results and `affectlab conversation` number turns

MICRO = ("micro_f1_without_neutral", "micro-F1 without neutral")
WEIGHTED = ("weighted_f1_all_classes", "weighted-F1 over 7 classes")
MELD_TEST = "MELD official test (text only)"

# (report key, corpus, set, metric, own register, target, published anchors)
ROWS = (
    ("dailydialog", "DailyDialog", "test", MICRO, "dailydialog", 0.56,
     [{"model": "COSMIC", "value": 0.585, "set": "DailyDialog test"}]),
    ("dailydialog_without_copies", "DailyDialog", "test without copies of train", MICRO, "dailydialog", 0.56, []),
    ("dailydialog_without_near_copies", "DailyDialog", "test without near copies of train", MICRO, "dailydialog",
     0.56, []),
    ("meld_heldout", "MELD", "held-out 10% of train", WEIGHTED, "meld", 0.60,
     [{"model": "RoBERTa-base", "value": [0.62, 0.635], "set": MELD_TEST},
      {"model": "COSMIC", "value": 0.652, "set": MELD_TEST},
      {"model": "EmoBERTa", "value": 0.656, "set": MELD_TEST},
      {"model": "InstructERC", "value": 0.692, "set": MELD_TEST}]),
    ("reccon_iemocap", "RECCON-IEMOCAP", "test", MICRO, None, 0.35, []),
)


def _read_chat(path: Path) -> list:
    """The chat's turns, read before any data set is scored: a missing or short chat stops the run at once."""
    turns = read_conversation(path)
    if len(turns) <= max(CHAT_TURNS):
        raise EvaluationError(f"{path}: {len(turns)} turns; the chat must have turns {', '.join(map(str, CHAT_TURNS))} "
                              "(counted from 0)")
    return turns


def _chat_turns(analyzer: ConversationAnalyzer, path: Path, chat: list) -> dict:
    turns = analyzer.analyze(chat, causes=False).turns
    rows = []
    for index in CHAT_TURNS:
        turn = turns[index]
        rows.append({"turn": index, "speaker": turn.speaker, "text": turn.text, "emotion": turn.emotion,
                     "probability": turn.emotions[turn.emotion], "neutral": turn.emotions["neutral"],
                     "read_alone": None if turn.alone_emotion is None else dict([turn.alone_emotion])})
    return {"file": str(path), "turns_counted_from": 0, "turns": rows}


def eval_conversation(analyzer: ConversationAnalyzer, data_dir: Path = DEFAULT_DATA_DIR, chat: Path = CHAT,
                      on_progress: Callable[[int], None] | None = None, limit: int | None = None) -> dict:
    """The table (``table``: one row per set and metric), each set's full scores, and the chat turns."""
    chat_turns = _read_chat(chat)
    config = analyzer.turns_model.config
    per_register = isinstance(config.neutral_bias, dict)
    report = {"model": model_info(analyzer.turns_model.folder), "register": analyzer.register,
              "neutral_bias": config.neutral_bias, "text_weight": config.text_weight,
              "text_features": config.text_features, "limit": limit}
    sets = {"dailydialog": load_dailydialog("test", data_dir)[:limit],
            "meld_heldout": load_meld_part("heldout", data_dir)[:limit],
            "reccon_iemocap": load_reccon("iemocap_test", data_dir)[:limit]}
    dropped = train_overlap(sets["dailydialog"], load_dailydialog("train", data_dir))
    own: dict[str, dict] = {}
    for name, dialogues in sets.items():
        logits = dialogue_logits(analyzer, dialogues)
        own_register = next(row[4] for row in ROWS if row[0] == name)
        variants = {"": predicted_emotions(analyzer, logits)}
        if per_register and own_register is not None:
            variants["own"] = predicted_emotions(analyzer, logits, own_register)
        for variant, predicted in variants.items():
            if name == "dailydialog":
                figures = dailydialog_figures(predicted, dialogues, config.labels, dropped)
            else:
                figures = {name: turn_scores(predicted, dialogues, config.labels)}
            (report if not variant else own).update(figures)
        if on_progress is not None:
            on_progress(len(dialogues))
    report["own_register"] = own
    report["chat"] = _chat_turns(analyzer, chat, chat_turns)
    report["table"] = [
        {"corpus": corpus, "set": set_name, "metric": label, "turns": report[key]["turns"],
         "value": report[key][metric], "register": analyzer.register,
         "own_register": register if key in own else None,
         "own_register_value": own[key][metric] if key in own else None,
         "target": target, "anchors": anchors}
        for key, corpus, set_name, (metric, label), register, target, anchors in ROWS
    ]
    return report
