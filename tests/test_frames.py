"""analyze_frame: a DataFrame in, the same rows with the file writers' affect columns out."""

import pandas as pd
import pytest

from affectlab import analyze_frame
from affectlab.errors import OptionError
from affectlab.text.files import analyze_file

TEXTS = ["I can't believe you remembered my birthday!", "I miss her so much, I cry every night.", "The bus is at 9."]


def test_columns_and_scores_match_the_file_writer(analyzer, tmp_path):
    frame = pd.DataFrame({"id": ["a", "b", "c"], "text": TEXTS})
    frame.to_csv(tmp_path / "in.csv", index=False)
    analyze_file(analyzer, tmp_path / "in.csv", tmp_path / "out.csv")
    written = pd.read_csv(tmp_path / "out.csv")
    out = analyze_frame(frame, analyzer=analyzer)
    assert list(out.columns) == list(written.columns)
    assert out["top"].tolist() == written["top"].tolist()
    assert out["ekman_joy"].tolist() == pytest.approx(written["ekman_joy"].tolist(), abs=1e-6)
    assert out["error"].isna().all()


def test_bad_rows_get_an_error_naming_their_label_and_the_rest_go_on(analyzer):
    frame = pd.DataFrame({"text": [TEXTS[0], "", None, 42, TEXTS[1]], "n": range(5)}, index=[10, 11, 12, 12, 14])
    out = analyze_frame(frame, analyzer=analyzer, batch_size=2)
    assert out.index.tolist() == [10, 11, 12, 12, 14] and out["n"].tolist() == list(range(5))
    assert out["error"].tolist()[1:4] == [
        "row 11: text is empty or whitespace only", "row 12: text is missing (None)",
        "row 12: text must be a string, got int",
    ]
    assert out["error"].iloc[[0, 4]].isna().all() and out["top"].iloc[[1, 2, 3]].isna().all()
    assert out["ekman_sadness"].iloc[4] > 0.5 > out["ekman_sadness"].iloc[0]


def test_the_analyzer_method_and_progress(analyzer):
    frame = pd.DataFrame({"body": TEXTS})
    seen = []
    out = analyzer.analyze_frame(frame, "body", batch_size=2, on_rows=seen.append)
    assert seen == [2, 1] and out["top"].tolist() == analyze_frame(frame, "body", analyzer=analyzer)["top"].tolist()
    assert analyze_frame(frame.iloc[:0], "body", analyzer=analyzer).shape == (0, out.shape[1])


def test_missing_column_clash_and_wrong_type_are_named(analyzer):
    with pytest.raises(OptionError, match="no column 'text' in the DataFrame; columns are: id, body"):
        analyze_frame(pd.DataFrame({"id": [1], "body": ["hi"]}), analyzer=analyzer)
    with pytest.raises(OptionError, match=r"input columns \['top'\] clash"):
        analyze_frame(pd.DataFrame({"text": ["hi"], "top": [1]}), analyzer=analyzer)
    with pytest.raises(OptionError, match="takes a pandas DataFrame, not list"):
        analyze_frame(TEXTS, analyzer=analyzer)
