"""``affectlab eval sem``, ``eval strategies`` and ``eval hef``: the empathy models and HEF's claim that a
small emotion model makes the LLM read emotions better and answer more fittingly."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

from affectlab.datasets import DEFAULT_DATA_DIR, ContextExample, load_empathetic_dialogues, load_esconv
from affectlab.dialogue.artifact import EMOTION_CONTEXT_MODEL, STRATEGY_MODEL
from affectlab.dialogue.context import encode_context
from affectlab.dialogue.context_classifier import ContextClassifier, load_emotion_model, load_strategy_model
from affectlab.dialogue.turns import Turn
from affectlab.empathy.emotion_choice import LabelScorer, two_stage
from affectlab.empathy.prompts import render_turn
from affectlab.empathy.responder import EmpatheticResponder
from affectlab.evaluate.journal import Journal
from affectlab.evaluate.report import EvaluationError, judge_record, rescore_in_place
from affectlab.llm.base import LanguageModel
from affectlab.metrics import f1_per_label, macro_f1_single, preference_bias, strategy_preferences
from affectlab.registry import fingerprint
from affectlab.taxonomy import ED_EMOTIONS, ESCONV_STRATEGIES, GOEMOTIONS_TO_SENTIMENT
from affectlab.text.artifact import resolve_artifact

Progress = Callable[[int], None] | None

# Published ED emotion accuracy from the dialogue context (no situation): MoEL (Lin et al., 2019),
# CEM (Sabour et al., 2022), CASE (Zhou et al., 2023). ESConv next-strategy accuracy: MISC (Tu et al., 2022).
PUBLISHED_ED = {"MoEL": 0.3800, "CEM": 0.3906, "CASE": 0.4002}
PUBLISHED_ESCONV = {"MISC accuracy": 0.3163}
JOURNAL_VERSION = 1  # how `eval hef --journal` keeps a score and a reply; raised when that changes
ED_POSITIVE = frozenset({
    "anticipating", "caring", "confident", "content", "excited", "faithful", "grateful", "hopeful", "impressed",
    "joyful", "nostalgic", "prepared", "proud", "sentimental", "surprised", "trusting",
})
# A reply fits a positive story when its strongest non-neutral GoEmotions label is positive (sharing the
# joy), and a negative one when that label is caring or itself negative (comfort or shared concern).
FITTING_REPLY = {
    "positive": frozenset(label for label, group in GOEMOTIONS_TO_SENTIMENT.items() if group == "positive"),
    "negative": frozenset(label for label, group in GOEMOTIONS_TO_SENTIMENT.items() if group == "negative")
    | {"caring"},
}


def _model_info(classifier: ContextClassifier) -> dict:
    return {"name": classifier.config.name, "trained": classifier.config.trained.get("date", "")}


def _accuracy(probs: np.ndarray, gold: np.ndarray, n_labels: int) -> dict:
    ranked = np.argsort(-probs, axis=1)
    return {
        "accuracy": round(float((ranked[:, 0] == gold).mean()), 4),
        "top3_accuracy": round(float((ranked[:, :3] == gold[:, None]).any(1).mean()), 4),
        "macro_f1": round(macro_f1_single(ranked[:, 0], gold, n_labels), 4),
    }


def _context_probs(classifier: ContextClassifier, examples: list[ContextExample], situation: bool = False,
                   tags: bool = True) -> np.ndarray:
    contexts = [
        encode_context(classifier.tokenizer, e.texts, e.roles, classifier.config.window_tokens,
                       e.tags if tags else None, e.situation if situation else "")
        for e in examples
    ]
    return classifier.probabilities(contexts)


def eval_sem(data_dir: Path = DEFAULT_DATA_DIR, model: str | Path = EMOTION_CONTEXT_MODEL, split: str = "test",
             limit: int | None = None) -> dict:
    sem = load_emotion_model(model)
    examples = load_empathetic_dialogues(split, data_dir)[:limit]
    gold = np.array([ED_EMOTIONS.index(e.label) for e in examples])
    majority = Counter(e.label for e in load_empathetic_dialogues("train", data_dir)).most_common(1)[0][0]
    # the setting of MoEL/CEM/CASE: a prediction wherever a listener would answer, i.e. after every speaker turn
    prefixes = [replace(e, roles=e.roles[: k + 1], texts=e.texts[: k + 1], tags=e.tags[: k + 1])
                for e in examples for k, role in enumerate(e.roles) if role == "speaker"]
    prefix_gold = np.array([ED_EMOTIONS.index(e.label) for e in prefixes])
    return {
        "model": _model_info(sem),
        "split": split,
        "conversations": len(examples),
        "input": "every turn up to the speaker's last one",
        "turns_only": _accuracy(_context_probs(sem, examples), gold, len(ED_EMOTIONS)),
        "situation_included": _accuracy(_context_probs(sem, examples, situation=True), gold, len(ED_EMOTIONS)),
        "every_speaker_turn": _accuracy(_context_probs(sem, prefixes), prefix_gold, len(ED_EMOTIONS)),
        "every_speaker_turn_contexts": len(prefixes),
        "baseline_majority_accuracy": round(float(np.mean([e.label == majority for e in examples])), 4),
        "published_every_speaker_turn_accuracy": PUBLISHED_ED,
    }


def _strategy_scores(predicted: np.ndarray, gold: np.ndarray) -> dict:
    n = len(ESCONV_STRATEGIES)
    eye = np.eye(n, dtype=bool)
    support = eye[gold].sum(0)
    per_label = f1_per_label(eye[predicted], eye[gold])
    return {
        "accuracy": round(float((predicted == gold).mean()), 4),
        "macro_f1": round(macro_f1_single(predicted, gold, n), 4),
        "weighted_f1": round(float((per_label * support).sum() / support.sum()), 4),
        "preference_bias": round(preference_bias(predicted, gold, n), 4),
        "preferences": {s: round(float(p), 3)
                        for s, p in zip(ESCONV_STRATEGIES, strategy_preferences(predicted, gold, n))},
        "predicted_share": {s: round(float((predicted == i).mean()), 4) for i, s in enumerate(ESCONV_STRATEGIES)},
    }


def eval_strategies(data_dir: Path = DEFAULT_DATA_DIR, model: str | Path = STRATEGY_MODEL, split: str = "test",
                    limit: int | None = None) -> dict:
    classifier = load_strategy_model(model)
    examples = load_esconv(split, data_dir)[:limit]
    gold = np.array([ESCONV_STRATEGIES.index(e.label) for e in examples])
    majority = Counter(e.label for e in load_esconv("train", data_dir)).most_common(1)[0][0]
    probs = _context_probs(classifier, examples)
    return {
        "model": _model_info(classifier),
        "split": split,
        "examples": len(examples),
        "input": "the dialogue before each supporter turn; earlier supporter turns tagged with their strategy",
        "prior_correction": classifier.config.label_bias,
        "with_strategy_history": _strategy_scores(probs.argmax(1), gold),
        "with_strategy_history_no_prior_correction": _strategy_scores(
            (np.log(probs) - np.array(classifier.config.label_bias or 0.0)).argmax(1), gold),
        "without_strategy_history": _strategy_scores(_context_probs(classifier, examples, tags=False).argmax(1), gold),
        "baseline_always_majority": {"strategy": majority,
                                     **_strategy_scores(np.full_like(gold, ESCONV_STRATEGIES.index(majority)), gold)},
        "gold_share": {s: round(float((gold == i).mean()), 4) for i, s in enumerate(ESCONV_STRATEGIES)},
        "published": PUBLISHED_ESCONV,
        "preference_bias_definition": "std of Bradley-Terry preferences (Kang et al., 2024); 0 = no preferred strategy",
    }


def _label_scores(scorer: LabelScorer, conversation: str, candidates: list[str]) -> dict:
    """The LLM's raw score of every label without and with the SEM's ``candidates`` as a hint."""
    return {"alone": scorer.raw(conversation).tolist(), "hinted": scorer.raw(conversation, candidates).tolist()}


def _reply(responder: EmpatheticResponder, turns: list[Turn]) -> dict:
    """A reply and what guided it, as a journal keeps it."""
    response = responder.respond(turns, listener="listener")
    return {"text": response.text, "emotion_hint": response.emotion_hint,
            "sem_top1": response.emotion_candidates[0].label if response.emotion_candidates else None,
            "fell_back": response.emotion_fell_back, "cause_words": [w.word for w in response.cause_hint]}


def _turns(example: ContextExample) -> list[Turn]:
    return [Turn(role, text) for role, text in zip(example.roles, example.texts)]


def sample(examples: list, n: int | None, seed: int) -> list:
    """A fixed random subset (all when ``n`` is None), kept in data-set order."""
    if n is None or n >= len(examples):
        return examples
    return [examples[i] for i in sorted(random.Random(seed).sample(range(len(examples)), n))]


def stratified_sample(examples: list, per_label: int, seed: int,
                      label: Callable[[object], str] = lambda e: e.label) -> list:
    """A seeded random subset with ``per_label`` items of every label (all of a label's items when it has fewer),
    kept in data-set order.

    >>> stratified_sample(["a1", "a2", "b1"], 1, seed=0, label=lambda e: e[0])
    ['a2', 'b1']
    """
    rng = random.Random(seed)
    positions: dict[str, list[int]] = {}
    for i, example in enumerate(examples):
        positions.setdefault(label(example), []).append(i)
    chosen = [i for name in sorted(positions)
              for i in rng.sample(positions[name], min(per_label, len(positions[name])))]
    return [examples[i] for i in sorted(chosen)]


def distinct_n(texts: list[str], n: int) -> float:
    """Distinct n-grams over all n-grams of all responses (Li et al., 2016)."""
    grams = [tuple(words[i : i + n]) for words in (t.lower().split() for t in texts) for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def tone_fits(replies: list[str], stories: list[str]) -> tuple[np.ndarray, list[str], np.ndarray]:
    """By affectlab's text model, per reply: 1 where its strongest non-neutral GoEmotions label fits its story's
    emotion (see FITTING_REPLY), that label, and 1 where neutral outscores it. A reply the text model cannot read
    (empty, or past its limits) fits no story and has the label ""."""
    from affectlab.text import analyze

    fits, neutral, strongest = np.zeros(len(replies)), np.zeros(len(replies)), [""] * len(replies)
    said = [i for i, r in enumerate(replies) if r.strip()]
    for i, result in zip(said, analyze([replies[i] for i in said]) if said else []):
        scores = {label: s for label, s in result.emotions.items() if label != "neutral"}
        if not scores:  # unreadable: the result carries an error and no scores
            continue
        strongest[i] = max(scores, key=scores.__getitem__)
        fits[i] = strongest[i] in FITTING_REPLY["positive" if stories[i] in ED_POSITIVE else "negative"]
        neutral[i] = result.emotions.get("neutral", 0.0) >= scores[strongest[i]]
    return fits, strongest, neutral


def reply_alignment(replies: list[str], emotions: list[str]) -> dict:
    """Share of replies whose tone fits the speaker's emotion (:func:`tone_fits`), of those where neutral dominates,
    and how many the text model could not read."""
    fits, strongest, neutral = tone_fits(replies, emotions)
    return {"aligned": round(float(fits.mean()), 4) if replies else 0.0,
            "neutral_dominant": round(float(neutral.mean()), 4) if replies else 0.0,
            "unreadable": strongest.count("")}


def tone_figures(replies: list[str], emotions: list[str]) -> dict:
    """:func:`reply_alignment` of ``replies`` to stories of ``emotions``, overall and by the story's sentiment."""
    positive = [e in ED_POSITIVE for e in emotions]
    return {**reply_alignment(replies, emotions),
            "aligned_by_story": {
                story: reply_alignment([t for t, p in zip(replies, positive) if p == want],
                                       [e for e, p in zip(emotions, positive) if p == want])["aligned"]
                for story, want in (("positive", True), ("negative", False))}}


def rescore_hef(report: dict) -> dict:
    """``report`` (an ``eval hef`` report) with the replies it keeps judged again by the installed text model: each
    arm's tone figures and ``tone_judge`` change, the replies and every other figure stay."""
    from affectlab.text import default_analyzer

    responses = report.get("responses")
    replies = responses.get("replies") if isinstance(responses, dict) else None
    if not (isinstance(replies, list) and replies
            and all(isinstance(responses.get(arm), dict) for arm in ("plain", "hef"))):
        raise EvaluationError("this HEF report keeps no replies (reports written before 2026-12-07 keep five "
                              "examples), so it cannot be rescored; run `affectlab eval hef` again")
    for i, reply in enumerate(replies):
        if not (isinstance(reply, dict) and reply.get("emotion") in ED_EMOTIONS
                and all(isinstance(reply.get(arm), str) for arm in ("plain", "hef"))):
            raise EvaluationError(f"reply {i} of the HEF report is not an emotion with a plain and a HEF reply")
    emotions = [r["emotion"] for r in replies]
    for arm in ("plain", "hef"):
        responses[arm].update(tone_figures([r[arm] for r in replies], emotions))
    responses["tone_judge"] = judge_record(default_analyzer())
    return report


def rescore_hef_file(path: Path, command: str) -> dict:
    """Rescore the HEF report at ``path`` in place (:func:`rescore_hef`; see
    :func:`~affectlab.evaluate.report.rescore_in_place`)."""
    return rescore_in_place(path, command, rescore_hef, "HEF", EvaluationError)


def eval_hef(llm: LanguageModel, data_dir: Path = DEFAULT_DATA_DIR, split: str = "test",
             conversations: int | None = 500, responses_per_emotion: int = 10, top_k: int = 3,
             margins: tuple[float, ...] = (0.0, 1.0, 2.0, 3.0, 5.0, float("inf")), seed: int = 0,
             journal: Path | None = None, on_progress: Progress = None) -> dict:
    """LLM emotion accuracy alone and with the SEM's hint on a seeded sample of ``conversations``; then plain vs
    HEF replies on a seeded sample of ``responses_per_emotion`` conversations of every gold emotion (all 32
    EmpatheticDialogues labels; an emotion with fewer conversations gives all it has). With ``journal`` (a file),
    every score and reply is kept there as it is made, and a re-run with the same settings, language model and
    emotion model makes only what the file lacks."""
    sem = load_emotion_model()
    everything = load_empathetic_dialogues(split, data_dir)
    examples = sample(everything, conversations, seed)
    # what the answers depend on: a journal made otherwise is refused (the model's own weights are known by name)
    settings = {"journal": JOURNAL_VERSION, "split": split, "conversations": conversations,
                "responses_per_emotion": responses_per_emotion, "top_k": top_k, "seed": seed, "llm": llm.name,
                "backend": type(llm).__name__, "server": getattr(llm, "base_url", None),
                "chat": getattr(llm, "chat", None), "adapter": getattr(llm, "adapter_fingerprint", None),
                "emotion_model": fingerprint(sem.folder)}
    answers = Journal(journal, settings, "eval hef")
    gold = np.array([ED_EMOTIONS.index(e.label) for e in examples])
    probs = _context_probs(sem, examples)
    scorer = LabelScorer(llm)
    alone = {"raw": [], "calibrated": []}
    hinted = {"raw": [], "calibrated": []}
    candidates = []
    for example, p in zip(examples, probs):
        top = [ED_EMOTIONS[i] for i in np.argsort(-p)[:top_k]]
        candidates.append(top)
        conversation = "\n".join(render_turn(r, t) for r, t in zip(example.roles, example.texts))
        scored = answers.get(("scores", example.id), partial(_label_scores, scorer, conversation, top))
        raw_alone, raw_hinted = np.array(scored["alone"]), np.array(scored["hinted"])
        alone["raw"].append(raw_alone)
        hinted["raw"].append(raw_hinted)
        alone["calibrated"].append(scorer.calibrated(raw_alone))
        hinted["calibrated"].append(scorer.calibrated(raw_hinted))
        if on_progress is not None:
            on_progress(1)

    def acc(predicted: list[int]) -> float:
        return round(float(np.mean(np.array(predicted) == gold)), 4)

    llm_figures = {}
    for kind in alone:
        a, h = np.array(alone[kind]), np.array(hinted[kind])
        llm_figures[kind] = {
            "llm_alone": acc(a.argmax(1)),
            "llm_alone_top3": round(float((np.argsort(-a, 1)[:, :3] == gold[:, None]).any(1).mean()), 4),
            "llm_with_hint_all_labels": acc(h.argmax(1)),
            "llm_two_stage_by_margin": {
                str(m): acc([ED_EMOTIONS.index(two_stage(s, ED_EMOTIONS, c, m)[0]) for s, c in zip(h, candidates)])
                for m in margins
            },
        }
    report = {
        "llm": llm.name,
        "split": split,
        "conversations": len(examples),
        "sample": f"{len(examples)} conversations drawn with seed {seed}" if conversations else "all",
        "sem": {**_model_info(sem), "top_k": top_k, **_accuracy(probs, gold, len(ED_EMOTIONS))},
        "emotion_accuracy": llm_figures,
        "scoring": "log-likelihood of ' <label>' after the emotion prompt; calibrated subtracts each label's score "
                   "on a content-free conversation. Two-stage: best of the SEM's top-k unless a label outside beats "
                   "it by more than the margin (nats); margin inf = never fall back.",
    }
    if responses_per_emotion:
        replied = stratified_sample(everything, responses_per_emotion, seed)
        report["responses"] = {
            "sample": f"{responses_per_emotion} conversations per gold emotion (all {len(ED_EMOTIONS)} "
                      f"EmpatheticDialogues labels), drawn with seed {seed} from the whole split",
            **compare_responses(llm, sem, replied, seed, on_progress, answers),
        }
    return report


def compare_responses(llm: LanguageModel, sem: ContextClassifier, examples: list[ContextExample], seed: int = 0,
                      on_progress: Progress = None, answers: Journal | None = None) -> dict:
    """Plain and HEF replies to each conversation of ``examples``: tone alignment (by story sentiment), diversity,
    length, and how often HEF's emotion hint is the gold emotion; every reply is kept (``replies``) with the text
    model that judged its tone (``tone_judge``). ``answers``: replies already made (see :func:`eval_hef`)."""
    from affectlab.text import default_analyzer

    resolve_artifact()  # the alignment judge must be installed before generating for minutes
    answers = answers or Journal(None, {}, "eval hef")
    plain = EmpatheticResponder(llm, guided=False, strategy_model=None, seed=seed)
    guided = EmpatheticResponder(llm, emotion_model=sem, strategy_model=None, seed=seed)
    outputs: dict[str, list[dict]] = {"plain": [], "hef": []}
    shown = []
    for example in examples:
        turns = _turns(example)
        for name, responder in (("plain", plain), ("hef", guided)):
            outputs[name].append(answers.get(("reply", example.id, name), partial(_reply, responder, turns)))
        if len(shown) < 5 and all(example.label != s["emotion"] for s in shown):  # one per emotion
            shown.append({"conversation": [f"{r}: {t}" for r, t in zip(example.roles, example.texts)],
                          "emotion": example.label,
                          **{name: outputs[name][-1]["text"] for name in outputs},
                          "hef_emotion_hint": outputs["hef"][-1]["emotion_hint"],
                          "hef_cause_words": outputs["hef"][-1]["cause_words"]})
        if on_progress is not None:
            on_progress(1)
    emotions = [e.label for e in examples]
    positive = [e in ED_POSITIVE for e in emotions]
    figures = {}
    for name, rs in outputs.items():
        texts = [r["text"] for r in rs]
        figures[name] = {
            **tone_figures(texts, emotions),
            "distinct_1": round(distinct_n(texts, 1), 4),
            "distinct_2": round(distinct_n(texts, 2), 4),
            "mean_words": round(float(np.mean([len(t.split()) for t in texts])), 2),
            "empty": sum(not t for t in texts),
        }
    hef = outputs["hef"]

    def share(hits) -> float:
        return round(float(np.mean(list(hits))), 4)

    hints = {
        "definition": "share of HEF replies whose emotion hint (the LLM's two-stage choice among the SEM's top-3) "
                      "is the gold emotion",
        "accuracy": share(r["emotion_hint"] == e for r, e in zip(hef, emotions)),
        "same_sentiment": share((r["emotion_hint"] in ED_POSITIVE) == p for r, p in zip(hef, positive)),
        "sem_top1_accuracy": share(r["sem_top1"] == e for r, e in zip(hef, emotions)),
        "fell_back_outside_top3": share(r["fell_back"] for r in hef),
    }
    figures["hef"]["emotion_hint_accuracy"] = hints["accuracy"]
    return {"conversations": len(examples), "per_emotion": dict(sorted(Counter(emotions).items())),
            "emotion_hint": hints, "sampling": "temperature 0.7, top_p 0.9, seeded, stop at newline, "
            "at most 48 new tokens", "tone_judge": judge_record(default_analyzer()), **figures, "examples": shown,
            "replies": [{"emotion": e, "plain": p["text"], "hef": h["text"]}
                        for e, p, h in zip(emotions, outputs["plain"], hef)]}
