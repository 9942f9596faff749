from affectlab.encoders import load_tokenizer
from affectlab.text.chunking import chunk_texts
from affectlab.text.normalize import normalize, token_ids


def _tokenizer():
    tokenizer = load_tokenizer(128)
    tokenizer.no_truncation()
    return tokenizer


def test_short_text_is_one_window_with_special_tokens():
    (chunk,), needed = chunk_texts(_tokenizer(), ["a quiet morning"], 128)
    assert needed == [1]
    assert chunk.ids[0] == 101 and chunk.ids[-1] == 102
    assert (chunk.start, chunk.end) == (0, len("a quiet morning"))


def test_long_text_is_covered_by_overlapping_windows():
    text = " ".join(f"word{i}" for i in range(400))
    chunks, needed = chunk_texts(_tokenizer(), [text], 64, overlap=16)
    assert len(chunks) > 1 and needed == [len(chunks)]
    assert all(len(c.ids) <= 64 for c in chunks)
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    for before, after in zip(chunks, chunks[1:]):
        assert after.start < before.end  # windows overlap, nothing is skipped


def test_text_without_known_tokens_still_gets_a_window():
    (chunk,), _ = chunk_texts(_tokenizer(), ["\x00\x01"], 128)
    assert chunk.ids == [101, 102]


def test_max_windows_keeps_the_first_windows_and_counts_them_all():
    text = " ".join(f"word{i}" for i in range(400))
    whole, needed = chunk_texts(_tokenizer(), [text, "short"], 64, overlap=16)
    capped, same = chunk_texts(_tokenizer(), [text, "short"], 64, overlap=16, max_windows=2)
    assert same == needed and needed[0] > 2 and needed[1] == 1
    assert [c.text_index for c in capped] == [0, 0, 1] and capped[:2] == whole[:2]


def test_emoji_are_spelled_out_and_map_back():
    normalized = normalize("ok 😂!")
    assert "laughing with tears of joy face" in normalized.text
    start = normalized.text.index("face")
    assert normalized.span(start, start + 4) == (3, 4)
    assert normalized.source[3:4] == "😂"


def test_emoji_glosses_say_the_feeling_and_skin_tones_drop():
    assert "frustrated" in normalize("😤").text and "triumph" not in normalize("😤").text
    assert normalize("👍🏽").text.split() == normalize("👍").text.split() == ["thumbs", "up,", "approval"]
    assert normalize("🦀").text.strip() == "crab"  # no gloss: the Unicode name
    text = "so 😡!"
    normalized = normalize(text)
    start = normalized.text.index("angry")
    assert normalized.span(start, start + 5) == (3, 4)


def test_every_gloss_is_one_symbol_and_some_words():
    from affectlab.text.normalize import GLOSSES

    assert len(GLOSSES) >= 150
    assert all(len(symbol) == 1 and gloss.strip() == gloss and gloss for symbol, gloss in GLOSSES.items())


def test_training_encodes_texts_as_the_analyzer_reads_them():
    tokenizer = load_tokenizer(128)
    unknown = tokenizer.token_to_id("[UNK]")
    assert unknown in tokenizer.encode("so proud ❤️").ids  # what models trained before 2026-12-05 saw
    (spelled, plain) = token_ids(tokenizer, ["so proud ❤️", "so proud"])
    assert unknown not in spelled and len(spelled) > len(plain)
    assert spelled == chunk_texts(tokenizer, [normalize("so proud ❤️").text], 128)[0][0].ids


def test_stretched_letters_are_cut_to_two_and_spans_cover_the_whole_word():
    normalized = normalize("whyyy meeee, sooo cool!!! 1000")
    assert normalized.text == "whyy mee, soo cool!!! 1000"  # doubles, digits and punctuation stay
    start = normalized.text.index("mee")
    assert normalized.span(start, start + 3) == (6, 11)
    assert normalized.source[6:11] == "meeee"


def test_plain_text_is_unchanged():
    assert normalize("Plain words, café.").text == "Plain words, café."


def test_contractions_and_word_pieces_stay_one_word():
    from affectlab.text.explain import continues_word

    text = "I can't go"
    assert continues_word("'", 5, 5, text)  # can + '
    assert continues_word("t", 6, 6, text)  # can' + t
    assert continues_word("##ing", 4, 4, "going")
    assert not continues_word("go", 7, 8, text)  # a space between
