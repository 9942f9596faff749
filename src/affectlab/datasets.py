"""Loaders for the research datasets under ``../shared/data`` (layout, sources and licences: docs/data.md)."""

from __future__ import annotations

import csv
import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from affectlab.errors import AffectlabError
from affectlab.taxonomy import DAILYDIALOG_IDS, ED_EMOTIONS, ESCONV_STRATEGIES, GOEMOTIONS, VAD, to_ekman

DEFAULT_DATA_DIR = Path("../shared/data")


class DatasetNotFound(AffectlabError, FileNotFoundError):
    """A dataset folder or split file is missing."""


@dataclass(frozen=True)
class GoEmotionsSplit:
    texts: list[str]
    labels: list[list[str]]  # GoEmotions label names per text


@dataclass(frozen=True)
class EmoBankSplit:
    texts: list[str]
    vad: list[tuple[float, float, float]]  # valence, arousal, dominance on the 1-5 scale


def _require(path: Path) -> Path:
    if not path.exists():
        raise DatasetNotFound(f"{path} not found; pass --data-dir pointing at the shared data folder")
    return path


def load_goemotions(split: str, data_dir: Path = DEFAULT_DATA_DIR) -> GoEmotionsSplit:
    """Read ``goemotions/{split}.tsv`` (``text \\t label ids \\t comment id``)."""
    path = _require(Path(data_dir) / "goemotions" / f"{split}.tsv")
    texts: list[str] = []
    labels: list[list[str]] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            text, ids, _ = line.rstrip("\n").split("\t")
            texts.append(text)
            labels.append([GOEMOTIONS[int(i)] for i in ids.split(",")])
    return GoEmotionsSplit(texts, labels)


def load_emobank(split: str, data_dir: Path = DEFAULT_DATA_DIR) -> EmoBankSplit:
    """Read the rows of ``emobank/emobank.csv`` (combined perspective) whose split column matches."""
    path = _require(Path(data_dir) / "emobank" / "emobank.csv")
    texts: list[str] = []
    vad: list[tuple[float, float, float]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["split"] == split and row["text"].strip():
                texts.append(row["text"])
                vad.append(tuple(float(row[k[0].upper()]) for k in VAD))  # type: ignore[arg-type]
    if not texts:
        raise DatasetNotFound(f"{path} has no rows for split {split!r}")
    return EmoBankSplit(texts, vad)


@dataclass(frozen=True)
class PerspectiveSplit:
    texts: list[str]
    writer: list[tuple[float, float, float]]  # VAD as the writer meant it, 1-5
    reader: list[tuple[float, float, float]]  # VAD as a reader perceives it, 1-5


def _perspective(path: Path) -> dict[str, tuple[float, float, float]]:
    with _require(path).open(encoding="utf-8", newline="") as handle:
        return {row["id"]: (float(row["V"]), float(row["A"]), float(row["D"])) for row in csv.DictReader(handle)}


def load_emobank_perspectives(split: str, data_dir: Path = DEFAULT_DATA_DIR) -> PerspectiveSplit:
    """The rows of ``emobank/emobank.csv`` whose split column matches, each with its writer's and its readers'
    VAD from ``writer.csv`` and ``reader.csv`` (joined by id; every sentence has both)."""
    folder = Path(data_dir) / "emobank"
    writer, reader = _perspective(folder / "writer.csv"), _perspective(folder / "reader.csv")
    texts, writer_vad, reader_vad = [], [], []
    with _require(folder / "emobank.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["split"] == split and row["text"].strip() and row["id"] in writer and row["id"] in reader:
                texts.append(row["text"])
                writer_vad.append(writer[row["id"]])
                reader_vad.append(reader[row["id"]])
    if not texts:
        raise DatasetNotFound(f"{folder / 'emobank.csv'} has no rows rated by writer and reader for split {split!r}")
    return PerspectiveSplit(texts, writer_vad, reader_vad)


@dataclass(frozen=True)
class IntensitySplit:
    texts: list[str]
    intensity: list[float]  # 0-1: how intensely the tweet expresses the emotion it was chosen for


EMOINT_SPLITS = {"train": "train", "dev": "devgold", "test": "test"}


def load_emoint(emotion: str, split: str, data_dir: Path = DEFAULT_DATA_DIR) -> IntensitySplit:
    """Read ``emoint/{train,devgold,test}-{emotion}.txt`` (``id \\t tweet \\t emotion \\t intensity``) for
    ``split`` train, dev or test. Each emotion has its own tweets, rated for that emotion only. A literal
    ``\\n`` in a tweet (the files escape line breaks) becomes a line break."""
    if split not in EMOINT_SPLITS:
        raise ValueError(f"EmoInt split must be one of {', '.join(EMOINT_SPLITS)}, not {split!r}")
    path = _require(Path(data_dir) / "emoint" / f"{EMOINT_SPLITS[split]}-{emotion}.txt")
    texts, intensity = [], []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 4:
                raise DatasetNotFound(f"{path} line {number} has {len(fields)} tab-separated fields, not 4")
            texts.append(fields[1].replace("\\n", "\n"))
            intensity.append(float(fields[3]))
    return IntensitySplit(texts, intensity)


@dataclass(frozen=True)
class EssaySplit:
    texts: list[str]
    empathy: list[float]  # 1-7, the writer's own rating
    distress: list[float]  # 1-7
    emotions: list[str]  # EKMAN names


def load_wassa22(split: str, data_dir: Path = DEFAULT_DATA_DIR) -> EssaySplit:
    """WASSA-22 essays with empathy, distress (1-7) and emotion: ``train`` from
    ``WASSA22_essay_level_train.tsv``; ``dev`` joins ``WASSA22_essay_level_dev.tsv`` (essays, no labels) row by
    row with ``WASSA22_goldstandard_dev.tsv`` (no header: empathy, distress, emotion, ...). The test gold is not
    public."""
    folder = Path(data_dir) / "wassa22"
    if split == "train":
        with _require(folder / "WASSA22_essay_level_train.tsv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        gold = [(row["empathy"], row["distress"], row["emotion"]) for row in rows]
    elif split == "dev":
        with _require(folder / "WASSA22_essay_level_dev.tsv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        with _require(folder / "WASSA22_goldstandard_dev.tsv").open(encoding="utf-8") as handle:
            gold = [tuple(line.rstrip("\n").split("\t")[:3]) for line in handle if line.strip()]
        if len(gold) != len(rows):
            raise DatasetNotFound(f"{folder} holds {len(rows)} dev essays but {len(gold)} gold rows")
    else:
        raise ValueError(f"WASSA-22 split must be train or dev (the test gold is not public), not {split!r}")
    return EssaySplit(
        [row["essay"] for row in rows],
        [float(empathy) for empathy, _, _ in gold],
        [float(distress) for _, distress, _ in gold],
        [to_ekman(emotion) for _, _, emotion in gold],
    )


@dataclass(frozen=True)
class Dialogue:
    """A gold conversation; turn indices are 0-based."""

    id: str
    speakers: list[str]
    texts: list[str]
    emotions: list[str]  # EKMAN names
    causes: list[list[int]] = field(default_factory=list)  # per turn: the earlier-or-same turns that cause it
    spans: list[list[str]] = field(default_factory=list)  # per turn: the cause span inside each of ``causes``


RECCON_SETS = ("dailydialog_train", "dailydialog_valid", "dailydialog_test", "iemocap_test")


def load_dailydialog(split: str, data_dir: Path = DEFAULT_DATA_DIR) -> list[Dialogue]:
    """Read ``dailydialog/dialogues_{split}.txt`` and its emotion ids. DailyDialog has no speaker names;
    turns alternate between two people. Dialogues whose turn and label counts differ (one in train)
    are skipped."""
    folder = Path(data_dir) / "dailydialog"
    texts_path = _require(folder / f"dialogues_{split}.txt")
    labels_path = _require(folder / f"dialogues_emotion_{split}.txt")
    dialogues = []
    with texts_path.open(encoding="utf-8") as texts, labels_path.open(encoding="utf-8") as labels:
        lines, label_lines = texts.readlines(), labels.readlines()
        if len(lines) != len(label_lines):
            raise DatasetNotFound(f"{texts_path} and {labels_path} differ in line count; the copy is damaged")
        for number, (line, ids) in enumerate(zip(lines, label_lines)):
            turns = [turn.strip() for turn in line.split("__eou__")]
            turns = [turn for turn in turns if turn]
            emotions = [DAILYDIALOG_IDS[int(i)] for i in ids.split()]
            if len(turns) != len(emotions):
                continue
            speakers = ["A" if i % 2 == 0 else "B" for i in range(len(turns))]
            dialogues.append(Dialogue(f"{split}-{number}", speakers, turns, emotions))
    return dialogues


def load_reccon(name: str, data_dir: Path = DEFAULT_DATA_DIR) -> list[Dialogue]:
    """Read ``reccon/{name}.json``. Cause turns become 0-based; evidence outside the dialogue (``b``) and
    evidence after the target turn are dropped, as in the paper's entailment task."""
    path = _require(Path(data_dir) / "reccon" / f"{name}.json")
    dialogues = []
    for dialogue_id, (turns, *_) in json.loads(path.read_text(encoding="utf-8")).items():
        causes, spans = [], []
        for position, turn in enumerate(turns):
            evidence = turn.get("expanded emotion cause evidence", []) if turn["emotion"] != "neutral" else []
            span_texts = turn.get("expanded emotion cause span", [])
            pairs = [(e - 1, s) for e, s in zip(evidence, span_texts) if e != "b" and 1 <= e <= position + 1]
            causes.append([e for e, _ in pairs])
            spans.append([s for _, s in pairs])
        dialogues.append(Dialogue(
            dialogue_id,
            [str(turn["speaker"]) for turn in turns],
            [turn["utterance"] for turn in turns],
            [to_ekman(turn["emotion"]) for turn in turns],
            causes,
            spans,
        ))
    return dialogues



def load_meld(split: str, data_dir: Path = DEFAULT_DATA_DIR) -> list[Dialogue]:
    """Read ``meld/{split}_sent_emo.csv`` (``train`` or ``dev``): multi-party dialogues from the TV series
    Friends, utterances in ``Utterance_ID`` order, speakers by their character names, emotions already on
    EKMAN's seven names."""
    path = _require(Path(data_dir) / "meld" / f"{split}_sent_emo.csv")
    turns: dict[int, list[tuple[int, str, str, str]]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            turns.setdefault(int(row["Dialogue_ID"]), []).append(
                (int(row["Utterance_ID"]), row["Speaker"], row["Utterance"], to_ekman(row["Emotion"]))
            )
    dialogues = []
    for number in sorted(turns):
        rows = sorted(turns[number])
        dialogues.append(Dialogue(f"meld-{split}-{number}", [r[1] for r in rows], [r[2] for r in rows],
                                  [r[3] for r in rows]))
    if not dialogues:
        raise DatasetNotFound(f"{path} has no utterances")
    return dialogues


MELD_PARTS = ("train", "heldout")
MELD_HELDOUT_SHARE = 0.1
MELD_HELDOUT_SEED = 2019


def _seeded_cut(items: list, seed: int, low: float, high: float) -> list:
    """The share ``low``–``high`` of ``items`` after a fixed shuffle by ``seed``: the same part every time."""
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    return shuffled[round(low * len(shuffled)) : round(high * len(shuffled))]


def load_meld_part(part: str, data_dir: Path = DEFAULT_DATA_DIR) -> list[Dialogue]:
    """MELD train cut in two by whole dialogues (its test split is kept outside the shared data): ``heldout``,
    a fixed seeded 10% of the dialogues, read once for the reported figure, and ``train``, the rest. MELD dev
    (:func:`load_meld`) is the split for choices."""
    if part not in MELD_PARTS:
        raise ValueError(f"MELD part must be one of {', '.join(MELD_PARTS)}, not {part!r}")
    dialogues = load_meld("train", data_dir)
    heldout = set(_seeded_cut(sorted(d.id for d in dialogues), MELD_HELDOUT_SEED, 0.0, MELD_HELDOUT_SHARE))
    return [d for d in dialogues if (d.id in heldout) == (part == "heldout")]


@dataclass(frozen=True)
class IronySplit:
    texts: list[str]
    ironic: list[int]  # 1 ironic, 0 not


IRONY_PARTS = {"train": (0.0, 0.7), "dev": (0.7, 0.85), "heldout": (0.85, 1.0)}
IRONY_SEED = 2018


def load_irony(part: str, data_dir: Path = DEFAULT_DATA_DIR) -> IronySplit:
    """One part of ``irony/train_taskA_emoji.txt`` (SemEval-2018 Task 3A train; its test split is not in
    the shared data): ``train`` (70%), ``dev`` (15%, for choices) or ``heldout`` (15%, read once for the
    reported figure), cut from a fixed seeded shuffle of the tweets."""
    if part not in IRONY_PARTS:
        raise ValueError(f"irony part must be one of {', '.join(IRONY_PARTS)}, not {part!r}")
    path = _require(Path(data_dir) / "irony" / "train_taskA_emoji.txt")
    with path.open(encoding="utf-8") as handle:
        rows = [line.rstrip("\n").split("\t") for line in handle][1:]
    rows = [(text, int(label)) for _, label, text in rows if text.strip()]
    chosen = _seeded_cut(rows, IRONY_SEED, *IRONY_PARTS[part])
    return IronySplit([text for text, _ in chosen], [label for _, label in chosen])


NEAR_COPY_NGRAM = 8  # words; short enough to survive small edits, long enough that stock phrases rarely match
NEAR_COPY_SHARE = 0.5


def dialogue_words(texts: list[str]) -> list[str]:
    """A dialogue's words as copies are matched: lower-case runs of letters and digits over all turns, so that
    case, spacing, punctuation, typographic apostrophes and where the turns were split make no difference.

    >>> dialogue_words(["Don ’ t go !", "OK."])
    ['don', 't', 'go', 'ok']
    """
    return re.findall(r"[^\W_]+", " ".join(texts).lower())


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def overlapping_dialogues(test: list[Dialogue], train: list[Dialogue], min_shared: float | None = None,
                          n: int = NEAR_COPY_NGRAM) -> list[str]:
    """Ids of the ``test`` dialogues that also appear in ``train``, in test order.

    With ``min_shared`` None, copies: the same :func:`dialogue_words` as some train dialogue, spaces between words
    ignored too (a few copies differ by a missing or extra space, "guythat"). With a share, near copies as well:
    at least that share of the test dialogue's word ``n``-grams (turn boundaries ignored) occur in one single train
    dialogue, which also catches copies with a truncated turn, a changed word, or a few turns more or fewer. A
    dialogue shorter than ``n`` words is a near copy only when it is a copy.

    >>> a, b = Dialogue("t1", ["A"], ["Hi , how are you ?"], ["neutral"]), Dialogue("t2", ["A"], ["Bye"], ["neutral"])
    >>> overlapping_dialogues([a, b], [Dialogue("x", ["A", "B"], ["hi, how", "are you?"], ["neutral"] * 2)])
    ['t1']
    """
    seen = {"".join(dialogue_words(d.texts)) for d in train}
    copies = {d.id for d in test if "".join(dialogue_words(d.texts)) in seen}
    if min_shared is None:
        return [d.id for d in test if d.id in copies]
    holders: dict[tuple[str, ...], set[int]] = {}
    for number, dialogue in enumerate(train):
        for gram in _ngrams(dialogue_words(dialogue.texts), n):
            holders.setdefault(gram, set()).add(number)
    found = []
    for dialogue in test:
        grams = _ngrams(dialogue_words(dialogue.texts), n)
        shared = Counter(number for gram in grams for number in holders.get(gram, ()))
        if dialogue.id in copies or (shared and max(shared.values()) >= min_shared * len(grams)):
            found.append(dialogue.id)
    return found


@dataclass(frozen=True)
class ContextExample:
    """A conversation so far and what to predict from it: the speaker's emotion (EmpatheticDialogues) or
    the listener's next strategy (ESConv). ``roles`` are ``speaker`` (the one telling or seeking support)
    and ``listener`` (the one responding); ``tags`` hold the strategy of each listener turn, where known."""

    id: str
    roles: list[str]
    texts: list[str]
    label: str
    situation: str = ""
    tags: list[str] = field(default_factory=list)


def _jsonl(path: Path) -> list[dict]:
    with _require(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_empathetic_dialogues(split: str, data_dir: Path = DEFAULT_DATA_DIR) -> list[ContextExample]:
    """Read ``empathetic_dialogues/{split}.jsonl``: one example a conversation, its turns up to the
    speaker's last one (the point where a listener would answer), labelled with the speaker's emotion."""
    examples = []
    for row in _jsonl(Path(data_dir) / "empathetic_dialogues" / f"{split}.jsonl"):
        turns = row["turns"]
        last = max((i for i, t in enumerate(turns) if t["speaker"] == "speaker"), default=-1)
        if last < 0 or row["emotion"] not in ED_EMOTIONS:
            continue
        kept = turns[: last + 1]
        examples.append(ContextExample(
            row["conv_id"], [t["speaker"] for t in kept], [t["text"] for t in kept], row["emotion"],
            row.get("situation", ""), [""] * len(kept),
        ))
    return examples


def load_esconv(split: str, data_dir: Path = DEFAULT_DATA_DIR) -> list[ContextExample]:
    """Read ``esconv/{split}.jsonl``: one example per supporter turn that has a strategy and follows at
    least one turn, holding the dialogue before it and labelled with that turn's strategy."""
    examples = []
    for number, row in enumerate(_jsonl(Path(data_dir) / "esconv" / f"{split}.jsonl")):
        dialog = row["dialog"]
        roles = ["listener" if t["speaker"] == "sys" else "speaker" for t in dialog]
        tags = [t.get("strategy", "") if t["speaker"] == "sys" else "" for t in dialog]
        for k, turn in enumerate(dialog):
            if k and turn["speaker"] == "sys" and turn.get("strategy") in ESCONV_STRATEGIES:
                examples.append(ContextExample(
                    f"{split}-{number}-{k}", roles[:k], [t["text"] for t in dialog[:k]], turn["strategy"],
                    row.get("situation", ""), tags[:k],
                ))
    return examples


@dataclass(frozen=True)
class ReplyExample:
    """A listener's (EmpatheticDialogues) or supporter's (ESConv) reply and the conversation before it.
    ``roles`` are ``speaker`` or ``listener`` per context turn; ``emotion`` is EmpatheticDialogues' label of
    the speaker, ``strategy`` the ESConv strategy of the reply (each empty where the dataset has none)."""

    id: str
    dialogue: str
    roles: list[str]
    texts: list[str]
    reply: str
    emotion: str = ""
    strategy: str = ""


def load_listener_replies(dataset: str, split: str, data_dir: Path = DEFAULT_DATA_DIR) -> list[ReplyExample]:
    """Every reply after the first turn: listener turns of ``empathetic_dialogues``, supporter turns of ``esconv``."""
    examples = []
    if dataset == "empathetic_dialogues":
        for row in _jsonl(Path(data_dir) / dataset / f"{split}.jsonl"):
            if row["emotion"] not in ED_EMOTIONS:
                continue
            turns = row["turns"]
            for k in range(1, len(turns)):
                if turns[k]["speaker"] == "listener":
                    examples.append(ReplyExample(
                        f"{row['conv_id']}-{k}", row["conv_id"], [t["speaker"] for t in turns[:k]],
                        [t["text"] for t in turns[:k]], turns[k]["text"], emotion=row["emotion"],
                    ))
    elif dataset == "esconv":
        for number, row in enumerate(_jsonl(Path(data_dir) / dataset / f"{split}.jsonl")):
            dialog = row["dialog"]
            for k in range(1, len(dialog)):
                if dialog[k]["speaker"] == "sys":
                    examples.append(ReplyExample(
                        f"{split}-{number}-{k}", f"{split}-{number}",
                        ["listener" if t["speaker"] == "sys" else "speaker" for t in dialog[:k]],
                        [t["text"] for t in dialog[:k]], dialog[k]["text"],
                        strategy=dialog[k].get("strategy") if dialog[k].get("strategy") in ESCONV_STRATEGIES else "",
                    ))
    else:
        raise DatasetNotFound(f"no listener replies in {dataset!r}; use empathetic_dialogues or esconv")
    return examples
