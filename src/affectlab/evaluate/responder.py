"""``affectlab eval responder``: does the fine-tuned responder reply better than the base model, plain and guided?

Items: the last listener reply of EmpatheticDialogues conversations, ``per_emotion`` of every gold emotion
(seeded), and one supporter reply of each of ``esconv`` ESConv dialogues (seeded; one that follows at least
one seeker turn). Four arms: the base and the tuned model, each with the plain prompt and with HEF guidance
(emotion and cause hints; no strategy).
Each arm answers with the responder's own sampling (temperature 0.7, top_p 0.9, seeded).

Per arm and data set: perplexity of the gold reply under that arm's prompt (the same tokenizer for every
arm), corpus BLEU-2 and mean ROUGE-L against the gold reply, distinct-1/2, tone (the reply's strongest
non-neutral GoEmotions label fits the story, as in ``eval hef``; every ESConv seeker brings a problem, so
those count as negative stories; ``tone_misses`` names what the replies that miss were read as), relevance
(cosine of MiniLM sentence vectors of the reply and the speaker's last turn, beside the gold replies' own
value) and the share of degenerate replies (empty, a 3-gram said three times, or a copy of a turn already in
the conversation). The gold replies themselves get the same tone, distinct-n, degenerate and length figures
(``gold_replies``): the level people reach on these measures. Intervals resample conversations.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from affectlab.datasets import DEFAULT_DATA_DIR, ReplyExample, load_listener_replies
from affectlab.dialogue.context_classifier import load_emotion_model
from affectlab.dialogue.turns import Turn
from affectlab.empathy.responder import EmpatheticResponder
from affectlab.evaluate.empathy import distinct_n, stratified_sample, tone_fits
from affectlab.evaluate.journal import Journal
from affectlab.evaluate.report import judge_record
from affectlab.llm.base import LanguageModel
from affectlab.metrics import cluster_bootstrap_statistic, corpus_bleu, reply_tokens, rouge_l
from affectlab.registry import fingerprint

ARMS = ("base_plain", "base_guided", "tuned_plain", "tuned_guided")
NEGATIVE_STORY = "sad"  # the story sentiment ESConv replies are judged against (see the module docstring)
ECHO_ROUGE = 0.8
EXAMPLES_PER_ARM = 10
TONE_MISSES_SHOWN = 6  # the commonest labels of replies whose tone does not fit, per arm
EMPTY_REPLY = "(empty)"  # what tone_misses calls a reply with nothing to read (empty, or unreadable)


def reply_cases(data_dir: Path, split: str, per_emotion: int, esconv: int, seed: int) -> dict[str, list[ReplyExample]]:
    """The seeded items of both data sets (see the module docstring)."""
    last: dict[str, ReplyExample] = {}
    for example in load_listener_replies("empathetic_dialogues", split, data_dir):
        last[example.dialogue] = example  # replies come in turn order, so the last one stays
    ed = stratified_sample(list(last.values()), per_emotion, seed, label=lambda e: e.emotion)
    rng = random.Random(seed)
    by_dialogue: dict[str, list[ReplyExample]] = {}
    for example in load_listener_replies("esconv", split, data_dir):
        if "speaker" in example.roles:  # supporters often open twice: there is nobody to answer yet
            by_dialogue.setdefault(example.dialogue, []).append(example)
    one_each = [rng.choice(replies) for _, replies in sorted(by_dialogue.items())]
    return {"empathetic_dialogues": ed, "esconv": sorted(rng.sample(one_each, min(esconv, len(one_each))),
                                                        key=lambda e: e.id)}


def degenerate(reply: str, context: list[str]) -> bool:
    """Empty, looping (a 3-gram said three times) or echoing (ROUGE-L ≥ 0.8 with a turn already said)."""
    tokens = reply_tokens(reply)
    if not tokens:
        return True
    if any(n >= 3 for n in Counter(zip(tokens, tokens[1:], tokens[2:])).values()):
        return True
    return any(rouge_l(reply, turn) >= ECHO_ROUGE for turn in context)


def _tone_judge() -> str:
    from affectlab.text import default_analyzer

    judge = judge_record(default_analyzer())
    return f"{judge['classifier']} {judge['classifier_fingerprint']}"


def sentence_vectors(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length MiniLM sentence vectors (mean-pooled, as all-MiniLM-L6-v2 is used for similarity)."""
    import torch

    from affectlab.encoders import load_encoder, load_tokenizer, mean_pool

    tokenizer, encoder = load_tokenizer(256), load_encoder().eval()
    vectors = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            encoded = tokenizer.encode_batch(texts[start : start + batch_size])
            width = max(len(e.ids) for e in encoded)
            ids = torch.tensor([e.ids + [0] * (width - len(e.ids)) for e in encoded])
            mask = torch.tensor([[1] * len(e.ids) + [0] * (width - len(e.ids)) for e in encoded])
            pooled = mean_pool(encoder(input_ids=ids, attention_mask=mask).last_hidden_state, mask)
            vectors.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
    return np.concatenate(vectors) if vectors else np.zeros((0, 384))


def _answer(llm: LanguageModel, responder: EmpatheticResponder, case: ReplyExample) -> dict:
    turns = [Turn(role, text) for role, text in zip(case.roles, case.texts)]
    response = responder.respond(turns, listener="listener")
    gold = f" {' '.join(case.reply.split())}\n"
    logprob = llm.score(response.prompt, [gold])[0]
    return {"reply": response.text, "gold_logprob": logprob,
            "gold_tokens": llm.count_tokens(response.prompt + gold) - llm.count_tokens(response.prompt),
            "emotion_hint": response.emotion_hint}


def _interval(statistic: Callable[[np.ndarray], float], clusters: list[str], seed: int) -> list[float]:
    value, low, high = cluster_bootstrap_statistic(statistic, clusters, seed=seed)
    return [round(value, 4), round(low, 4), round(high, 4)]


def reply_figures(replies: list[str], cases: list[ReplyExample], seed: int) -> dict:
    """The figures that need only the replies: distinct-n, tone, degenerate share and length (also the gold
    replies' own level)."""
    clusters = [c.dialogue for c in cases]
    tone, strongest, _ = tone_fits(replies, [c.emotion or NEGATIVE_STORY for c in cases])
    broken = np.array([degenerate(r, c.texts) for r, c in zip(replies, cases)], dtype=float)
    misses = Counter(label or EMPTY_REPLY for label, fits in zip(strongest, tone) if not fits)
    return {
        "distinct_1": round(distinct_n(replies, 1), 4),
        "distinct_2": round(distinct_n(replies, 2), 4),
        "tone_aligned": _interval(lambda idx: float(tone[idx].mean()), clusters, seed),
        "tone_misses": dict(misses.most_common(TONE_MISSES_SHOWN)),
        "degenerate": _interval(lambda idx: float(broken[idx].mean()), clusters, seed),
        "mean_words": round(float(np.mean([len(r.split()) for r in replies])), 2),
    }


def arm_figures(answers: list[dict], cases: list[ReplyExample], seed: int) -> dict:
    """:func:`reply_figures` of an arm's replies, and the figures against the gold replies and the prompt."""
    clusters = [c.dialogue for c in cases]
    replies = [a["reply"] for a in answers]
    golds = [c.reply for c in cases]
    nll = np.array([-a["gold_logprob"] for a in answers])
    tokens = np.array([a["gold_tokens"] for a in answers], dtype=float)
    rouge = np.array([rouge_l(r, g) for r, g in zip(replies, golds)])
    last_turns = [c.texts[-1] for c in cases]
    vectors = sentence_vectors(replies + golds + last_turns)
    n = len(cases)
    relevance = (vectors[:n] * vectors[2 * n :]).sum(1)
    gold_relevance = (vectors[n : 2 * n] * vectors[2 * n :]).sum(1)
    return {
        "perplexity": _interval(lambda idx: math.exp(nll[idx].sum() / tokens[idx].sum()), clusters, seed),
        "bleu_2": _interval(lambda idx: corpus_bleu([replies[i] for i in idx], [golds[i] for i in idx]), clusters,
                            seed),
        "rouge_l": _interval(lambda idx: float(rouge[idx].mean()), clusters, seed),
        "relevance": _interval(lambda idx: float(relevance[idx].mean()), clusters, seed),
        "relevance_of_gold_replies": round(float(gold_relevance.mean()), 4),
        "relevance_vs_gold": _interval(lambda idx: float(relevance[idx].mean() / gold_relevance[idx].mean()),
                                       clusters, seed),
        **reply_figures(replies, cases, seed),
    }


def _perplexity(loss: tuple[np.ndarray, np.ndarray], idx: np.ndarray) -> float:
    nll, tokens = loss
    return math.exp(nll[idx].sum() / tokens[idx].sum())


def dataset_report(models: dict[str, LanguageModel], sem, name: str, items: list[ReplyExample], seed: int,
                   journal: Journal, on_progress: Callable[[int], None] | None = None) -> dict:
    """Every arm's replies to ``items``, their figures, the paired perplexity ratio and a few examples."""
    figures, shown, losses = {}, {}, {}
    rng = random.Random(seed)
    for arm in ARMS:
        llm = models[arm.split("_")[0]]
        guided = arm.endswith("guided")
        responder = EmpatheticResponder(llm, guided=guided, emotion_model=sem if guided else None,
                                        strategy_model=None, seed=seed)
        answers = []
        for case in items:
            answers.append(journal.get((name, arm, case.id), partial(_answer, llm, responder, case)))
            if on_progress:
                on_progress(1)
        figures[arm] = arm_figures(answers, items, seed)
        losses[arm] = (np.array([-a["gold_logprob"] for a in answers]),
                       np.array([a["gold_tokens"] for a in answers], dtype=float))
        shown[arm] = [{"last_turn": items[i].texts[-1], "gold": items[i].reply, "reply": answers[i]["reply"],
                       "emotion_hint": answers[i]["emotion_hint"]}
                      for i in sorted(rng.sample(range(len(items)), min(EXAMPLES_PER_ARM, len(items))))]
    ratio = _interval(lambda idx: _perplexity(losses["tuned_guided"], idx) / _perplexity(losses["base_plain"], idx),
                      [c.dialogue for c in items], seed)
    return {"items": len(items), "per_emotion": dict(sorted(Counter(c.emotion for c in items if c.emotion).items())),
            "perplexity_tuned_guided_over_base_plain": ratio, "arms": figures,
            "gold_replies": reply_figures([c.reply for c in items], items, seed), "examples": shown}


def eval_responder(base: LanguageModel, tuned: LanguageModel, data_dir: Path = DEFAULT_DATA_DIR,
                   split: str = "test", per_emotion: int = 20, esconv: int = 150, seed: int = 0,
                   journal: Path | None = None, on_progress: Callable[[int], None] | None = None) -> dict:
    """The four arms on both data sets; ``on_progress`` is called once per item and arm. With ``journal`` (a
    file), every answer is kept there as it is made and a re-run with the same settings, adapter and emotion model
    (their fingerprints) reuses them: it generates only what is missing and judges every answer afresh."""
    sem = load_emotion_model()
    cases = reply_cases(Path(data_dir), split, per_emotion, esconv, seed)
    models = {"base": base, "tuned": tuned}
    # the answers depend on the backends, the adapter and the emotion model's hints: a journal serves only these
    made_by = {"adapter": getattr(tuned, "adapter_fingerprint", None), "emotion_model": fingerprint(sem.folder)}
    llms = {"llms": {k: v.name for k, v in models.items()},
            "backends": {k: type(v).__name__ for k, v in models.items()}}
    settings = {"split": split, "per_emotion": per_emotion, "esconv": esconv, "seed": seed, **llms, **made_by}
    answers = Journal(journal, settings, "eval responder")
    return {
        "split": split, "seed": seed, **llms,
        "fingerprints": {**made_by, "tone_judge": _tone_judge()},
        "sample": {"empathetic_dialogues": f"the last listener reply of {per_emotion} conversations per gold emotion",
                   "esconv": f"one supporter reply of each of {esconv} dialogues, after at least one seeker turn"},
        "sampling": "temperature 0.7, top_p 0.9, seeded, stop at newline, at most 48 new tokens",
        "datasets": {name: dataset_report(models, sem, name, items, seed, answers, on_progress)
                     for name, items in cases.items()},
    }
