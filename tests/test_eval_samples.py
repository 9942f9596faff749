"""The samples evaluations are scored on: test dialogues that also appear in train, and the seeded sample
stratified by emotion that the HEF reply comparison uses."""

from collections import Counter

from affectlab.datasets import (
    NEAR_COPY_SHARE,
    Dialogue,
    dialogue_words,
    load_dailydialog,
    load_empathetic_dialogues,
    load_reccon,
    overlapping_dialogues,
)
from affectlab.evaluate.empathy import stratified_sample
from affectlab.taxonomy import ED_EMOTIONS
from conftest import DATA_DIR, needs_data


def _dialogue(id_: str, *texts: str) -> Dialogue:
    return Dialogue(id_, ["A" if i % 2 == 0 else "B" for i in range(len(texts))], list(texts),
                    ["neutral"] * len(texts))


STORY = ("Did you hear that the bakery on the corner is closing down next month ?",
         "No , I had no idea . I have bought my bread there every single morning for ten years .",
         "The owner is retiring and nobody wants to take the shop over from him .",
         "That is such a pity . I will miss their rye bread and the little cakes on Sundays .")
TRAIN = [_dialogue("train-0", *STORY), _dialogue("train-1", "Where is the station ?", "Just round the corner .")]


def test_words_ignore_case_spacing_punctuation_and_turn_splits():
    assert dialogue_words(["Don ’ t go !", "OK."]) == dialogue_words(["don't go", "ok"]) == ["don", "t", "go", "ok"]


def test_copies_are_the_same_words_however_turns_are_split_or_spaced():
    respaced = _dialogue("t-respaced", *(t.lower().replace(" ,", ",").replace(" .", ".") for t in STORY))
    resplit = _dialogue("t-resplit", " ".join(STORY[:2]), *STORY[2:])
    glued = _dialogue("t-glued", STORY[0].replace("the bakery", "thebakery"), *STORY[1:])
    other = _dialogue("t-other", "Where is the museum ?", "Just round the corner .")
    shorter = _dialogue("t-shorter", *STORY[:3])
    test = [respaced, other, resplit, glued, shorter]
    assert overlapping_dialogues(test, TRAIN) == ["t-respaced", "t-resplit", "t-glued"]


def test_near_copies_share_most_word_ngrams_with_one_train_dialogue():
    truncated = _dialogue("t-truncated", *STORY[:3], "That is such a pity .")
    one_word_changed = _dialogue("t-changed", *(t.replace("ten", "twenty") for t in STORY))
    part = _dialogue("t-part", *STORY[1:3])
    stock_phrase = _dialogue("t-stock", "Where is the station ?", "It is far .")  # 8-grams make it no near copy
    unrelated = _dialogue("t-unrelated", "I love this song .", "Me too , turn it up !")
    test = [truncated, one_word_changed, part, stock_phrase, unrelated]
    assert overlapping_dialogues(test, TRAIN) == []
    assert overlapping_dialogues(test, TRAIN, 0.5) == ["t-truncated", "t-changed", "t-part"]
    assert overlapping_dialogues(test, TRAIN, 1.0) == ["t-truncated", "t-part"]  # both lie inside train-0


def test_a_dialogue_shorter_than_the_ngram_is_a_near_copy_only_when_a_copy():
    copy = _dialogue("t-copy", "Where is the", "station ? Just round the corner .")
    inside = _dialogue("t-inside", "Where is the station ?")
    assert overlapping_dialogues([copy, inside], TRAIN, 0.5) == ["t-copy"]


def test_stratified_sample_takes_k_per_label_seeded_and_all_of_a_rare_label():
    items = [f"{label}{i}" for label, n in (("a", 30), ("b", 12), ("c", 4)) for i in range(n)]
    by_label = lambda item: item[0]  # noqa: E731
    picked = stratified_sample(items, 10, seed=3, label=by_label)
    assert Counter(map(by_label, picked)) == {"a": 10, "b": 10, "c": 4}
    assert picked == stratified_sample(items, 10, seed=3, label=by_label)
    assert picked != stratified_sample(items, 10, seed=4, label=by_label)
    assert picked == [item for item in items if item in set(picked)]  # data-set order
    assert len(set(picked)) == len(picked)
    assert stratified_sample(items, 0, seed=3, label=by_label) == []


def test_stratified_sample_reads_the_label_field_by_default():
    class Example:
        def __init__(self, label):
            self.label = label

    examples = [Example(label) for label in "xxxyyz"]
    assert Counter(e.label for e in stratified_sample(examples, 2, seed=0)) == {"x": 2, "y": 2, "z": 1}


@needs_data
def test_test_dialogues_that_appear_in_train():
    """The counts the reports give: 151 of 1,000 DailyDialog test dialogues are copies of train ones (270 with
    near copies), 12 of RECCON-DD's 225 (27)."""
    daily = load_dailydialog("test", DATA_DIR), load_dailydialog("train", DATA_DIR)
    reccon = load_reccon("dailydialog_test", DATA_DIR), load_reccon("dailydialog_train", DATA_DIR)
    assert [len(overlapping_dialogues(*daily)), len(overlapping_dialogues(*daily, NEAR_COPY_SHARE))] == [151, 270]
    assert [len(overlapping_dialogues(*reccon)), len(overlapping_dialogues(*reccon, NEAR_COPY_SHARE))] == [12, 27]


@needs_data
def test_the_hef_reply_sample_covers_every_emotion():
    picked = stratified_sample(load_empathetic_dialogues("test", DATA_DIR), 10, seed=0)
    assert Counter(e.label for e in picked) == {label: 10 for label in ED_EMOTIONS}
