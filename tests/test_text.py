import pickle
import re
import threading
import tracemalloc
import unicodedata
import weakref
from collections import Counter

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_rnn import TextVectorizer
from sklearn_rnn import text as text_module
from sklearn_rnn.text import FIT_CHUNK_SIZE

TEXTS = ["The cat sat.", "The dog sat on the mat!", "A cat and a dog."]
HYPOTHESIS = settings(max_examples=50, deadline=None, derandomize=True)


def split_on_commas(text):
    return text.split(",")


def tokenizer_returning_str(text):
    return text


def tokenizer_returning_generator(text):
    return (token for token in text.split())


def tokenizer_returning_ints(text):
    return [len(text)]


def tokenizer_returning_nothing(text):
    return []


def row_ids(vec, text):
    return vec.transform([text])[0].tolist()


# --- vocabulary ---------------------------------------------------------------


def test_docstring_example():
    vec = TextVectorizer().fit(["a good film", "a bad film"])
    np.testing.assert_array_equal(vec.transform(["a good plot"]), [[2, 5, 1]])


def test_ids_start_at_2_most_frequent_first_ties_alphabetical():
    vec = TextVectorizer().fit(["b a c b", "c b d a", "e"])
    # b:3, a:2, c:2, d:1, e:1
    assert vec.vocabulary_ == {"b": 2, "a": 3, "c": 4, "d": 5, "e": 6}


def test_vocabulary_counts_terms_not_documents_for_ranking():
    vec = TextVectorizer().fit(["z z z z", "a", "a", "a"])
    assert vec.vocabulary_ == {"z": 2, "a": 3}


def test_vocabulary_ids_are_contiguous():
    vec = TextVectorizer().fit(TEXTS)
    assert sorted(vec.vocabulary_.values()) == list(range(2, 2 + len(vec.vocabulary_)))


def test_vocabulary_is_independent_of_document_order():
    texts = ["x y z", "q r s", "z y", "s r q p", "a"]
    first = TextVectorizer().fit(texts).vocabulary_
    second = TextVectorizer().fit(texts[::-1]).vocabulary_
    third = TextVectorizer().fit([texts[i] for i in (2, 0, 4, 1, 3)]).vocabulary_
    assert first == second == third
    assert list(first.items()) == list(second.items()) == list(third.items())


def test_ties_use_code_point_order_with_lowercase_false():
    vec = TextVectorizer(lowercase=False).fit(["b B a A"])
    assert list(vec.vocabulary_) == ["A", "B", "a", "b"]


@pytest.mark.parametrize(
    ("max_features", "expected"),
    [
        (1, {"a": 2}),
        (2, {"a": 2, "b": 3}),
        (3, {"a": 2, "b": 3, "c": 4}),
        (4, {"a": 2, "b": 3, "c": 4, "d": 5}),
        (100, {"a": 2, "b": 3, "c": 4, "d": 5}),
        (None, {"a": 2, "b": 3, "c": 4, "d": 5}),
    ],
)
def test_max_features_keeps_most_frequent(max_features, expected):
    # a:3, then b and c tie at 2 (b wins alphabetically), d:1
    vec = TextVectorizer(max_features=max_features).fit(["c a b", "a b c", "a d"])
    assert vec.vocabulary_ == expected


def test_max_features_dropped_tokens_become_unknown():
    vec = TextVectorizer(max_features=1).fit(["a a b"])
    assert row_ids(vec, "a b c") == [2, 1, 1]


def test_min_df_int_counts_documents_not_occurrences():
    texts = ["spam spam spam spam spam", "egg ham", "egg bacon", "ham egg"]
    vec = TextVectorizer(min_df=2).fit(texts)
    assert vec.vocabulary_ == {"egg": 2, "ham": 3}
    assert "spam" not in vec.vocabulary_


@pytest.mark.parametrize(
    ("min_df", "expected"),
    [
        (1, {"a", "b", "c", "d"}),
        (2, {"a", "b", "c"}),
        (3, {"a", "b"}),
        (4, {"a"}),
    ],
)
def test_min_df_int_thresholds(min_df, expected):
    # document frequencies: a:4, b:3, c:2, d:1
    texts = ["a b c d", "a b c", "a b", "a"]
    assert set(TextVectorizer(min_df=min_df).fit(texts).vocabulary_) == expected


def test_min_df_that_keeps_no_token_is_an_error():
    with pytest.raises(ValueError, match="vocabulary is empty.*min_df=5"):
        TextVectorizer(min_df=5).fit(["a b c d", "a b c", "a b", "a"])


@pytest.mark.parametrize(
    ("min_df", "expected"),
    [
        (0.1, {"a", "b", "c", "d"}),
        (0.25, {"a", "b", "c", "d"}),
        (0.26, {"a", "b", "c"}),
        (0.5, {"a", "b", "c"}),
        (0.75, {"a", "b"}),
        (0.76, {"a"}),
        (1.0, {"a"}),
    ],
)
def test_min_df_float_is_a_proportion_of_documents(min_df, expected):
    # document frequencies out of 4 texts: a:4, b:3, c:2, d:1
    texts = ["a b c d d d d d", "a b c", "a b", "a"]
    assert set(TextVectorizer(min_df=min_df).fit(texts).vocabulary_) == expected


def test_min_df_float_one_point_zero_differs_from_int_one():
    texts = ["a b", "a c"]
    assert set(TextVectorizer(min_df=1).fit(texts).vocabulary_) == {"a", "b", "c"}
    assert set(TextVectorizer(min_df=1.0).fit(texts).vocabulary_) == {"a"}


def test_min_df_float_keeps_token_at_exact_proportion():
    texts = ["rare common"] * 7 + ["common"] * 93
    vec = TextVectorizer(min_df=0.07).fit(texts)
    assert "rare" in vec.vocabulary_


def test_min_df_numpy_float32_is_a_proportion():
    texts = ["a b", "a c", "a d", "a e"]
    vec = TextVectorizer(min_df=np.float32(0.5)).fit(texts)
    assert vec.vocabulary_ == {"a": 2}


def test_min_df_numpy_scalar_types():
    texts = ["a b", "a c", "a d", "a e"]
    assert TextVectorizer(min_df=np.float64(0.5)).fit(texts).vocabulary_ == {"a": 2}
    assert TextVectorizer(min_df=np.int64(2)).fit(texts).vocabulary_ == {"a": 2}


def test_min_df_then_max_features():
    texts = ["x x x x x x a b", "a b c", "a c"]
    vec = TextVectorizer(min_df=2, max_features=2).fit(texts)
    # x is the most frequent term but occurs in one text only
    assert vec.vocabulary_ == {"a": 2, "b": 3}


def test_lowercase_true_merges_cases():
    vec = TextVectorizer().fit(["Hello HELLO hello"])
    assert vec.vocabulary_ == {"hello": 2}
    assert row_ids(vec, "HeLLo") == [2]


def test_lowercase_false_keeps_cases():
    vec = TextVectorizer(lowercase=False).fit(["Hello HELLO hello hello"])
    assert vec.vocabulary_ == {"hello": 2, "HELLO": 3, "Hello": 4}
    assert row_ids(vec, "HeLLo hello") == [1, 2]


def test_lowercase_accepts_numpy_bool():
    vec = TextVectorizer(lowercase=np.bool_(False)).fit(["A a"])
    assert set(vec.vocabulary_) == {"A", "a"}


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Don't!", ["don", "'", "t", "!"]),
        ("hello,world", ["hello", ",", "world"]),
        ("  spaced\tout\n words  ", ["spaced", "out", "words"]),
        ("a...b", ["a", ".", ".", ".", "b"]),
        ("snake_case 42 x2", ["snake_case", "42", "x2"]),
        ("Café naïve", ["café", "naïve"]),
        ("日本語 テキスト", ["日本語", "テキスト"]),
        ("Привет, мир!", ["привет", ",", "мир", "!"]),
        ("Ελληνικά κείμενο", ["ελληνικά", "κείμενο"]),
        ("हिन्दी भाषा", ["हिन्दी", "भाषा"]),
        ("cafe\u0301 nai\u0308ve", ["cafe\u0301", "nai\u0308ve"]),
        ("مَرْحَبًا", ["مَرْحَبًا"]),
    ],
)
def test_default_token_pattern(text, tokens):
    vec = TextVectorizer().fit([text])
    assert set(vec.vocabulary_) == set(tokens)
    assert vec.inverse_transform(vec.transform([text]))[0].tolist() == tokens


def test_custom_token_pattern():
    vec = TextVectorizer(token_pattern=r"[a-z]{3,}").fit(["an apple, a pear; a fig"])
    assert set(vec.vocabulary_) == {"apple", "pear", "fig"}
    assert row_ids(vec, "an apple") == [vec.vocabulary_["apple"]]


def test_token_pattern_with_one_group_uses_the_group():
    vec = TextVectorizer(token_pattern=r"(\w)\w*").fit(["hello world hat"])
    assert vec.vocabulary_ == {"h": 2, "w": 3}


@pytest.mark.parametrize("pattern", [r"(a)(b)", r"(\w+)|(\W)", r"((x))"])
def test_token_pattern_with_two_groups_raises(pattern):
    with pytest.raises(ValueError, match="capturing groups"):
        TextVectorizer(token_pattern=pattern).fit(["ab"])


def test_tokenizer_overrides_token_pattern():
    vec = TextVectorizer(tokenizer=split_on_commas, token_pattern=r"x").fit(
        ["Red wine,blue sky", "red wine"]
    )
    assert vec.vocabulary_ == {"red wine": 2, "blue sky": 3}
    assert row_ids(vec, "blue sky,RED WINE,grey") == [3, 2, 1]


def test_tokenizer_receives_lowercased_text_only_when_lowercase():
    seen = []

    class Recorder:
        def __call__(self, text):
            seen.append(text)
            return text.split()

    TextVectorizer(tokenizer=Recorder()).fit(["AbC"])
    TextVectorizer(tokenizer=Recorder(), lowercase=False).fit(["AbC"])
    assert seen == ["abc", "AbC"]


def test_tokenizer_ignores_invalid_token_pattern():
    vec = TextVectorizer(tokenizer=split_on_commas, token_pattern=r"(a)(b)")
    assert vec.fit_transform(["ab,ab"]).tolist() == [[2, 2]]


def test_tokenizer_returning_empty_list_gives_unknown():
    vec = TextVectorizer(tokenizer=split_on_commas).fit(["a,b"])
    vec.set_params(tokenizer=tokenizer_returning_nothing)
    assert vec.transform(["a b", "c"]).tolist() == [[1], [1]]


@pytest.mark.parametrize(
    "tokenizer",
    [tokenizer_returning_str, tokenizer_returning_generator, tokenizer_returning_ints],
)
def test_tokenizer_returning_non_list_of_str_raises(tokenizer):
    with pytest.raises(TypeError, match="tokenizer must return a list of str"):
        TextVectorizer(tokenizer=tokenizer).fit(["a b", "c"])


def test_tokenizer_error_names_text_index():
    vec = TextVectorizer(tokenizer=split_on_commas).fit(["a,b"])
    vec.set_params(tokenizer=tokenizer_returning_str)
    with pytest.raises(TypeError, match="text 0"):
        vec.transform(["x"])


def test_analyzer_char_includes_whitespace_and_punctuation():
    vec = TextVectorizer(analyzer="char").fit(["Ab a!"])
    # a:2, then " ", "!", "b" once each in code point order
    assert vec.vocabulary_ == {"a": 2, " ": 3, "!": 4, "b": 5}
    assert row_ids(vec, "ba z") == [5, 2, 3, 1]


def test_analyzer_char_ignores_tokenizer_and_pattern():
    vec = TextVectorizer(
        analyzer="char", tokenizer=split_on_commas, token_pattern=r"(a)(b)"
    )
    with pytest.warns(UserWarning, match="tokenizer is not used"):
        vec.fit(["ab,"])
    assert set(vec.vocabulary_) == {"a", "b", ","}


def test_analyzer_char_respects_lowercase_false():
    vec = TextVectorizer(analyzer="char", lowercase=False).fit(["aA"])
    assert set(vec.vocabulary_) == {"a", "A"}


def test_analyzer_char_whitespace_only_text_is_not_empty():
    vec = TextVectorizer(analyzer="char").fit(["  "])
    assert vec.transform(["  "]).tolist() == [[2, 2]]


# --- transform ----------------------------------------------------------------


def test_transform_dtype_shape_and_right_padding():
    vec = TextVectorizer().fit(["a b c", "a"])
    ids = vec.transform(["a", "a b c", "c b"])
    assert ids.dtype == np.int64
    assert isinstance(ids, np.ndarray)
    a, b, c = (vec.vocabulary_[t] for t in "abc")
    np.testing.assert_array_equal(ids, [[a, 0, 0], [a, b, c], [c, b, 0]])


def test_transform_width_is_longest_text_in_batch():
    vec = TextVectorizer().fit(["a b c d e"])
    assert vec.transform(["a", "b"]).shape == (2, 1)
    assert vec.transform(["a b", "a b c d e f g"]).shape == (2, 7)


@pytest.mark.parametrize(
    ("max_len", "width"), [(1, 1), (2, 2), (4, 4), (5, 4), (None, 4), (1000, 4)]
)
def test_transform_width_is_min_of_max_len_and_longest(max_len, width):
    vec = TextVectorizer(max_len=max_len).fit(["a b c d", "a"])
    assert vec.transform(["a b c d", "a"]).shape == (2, width)


def test_unknown_tokens_map_to_1():
    vec = TextVectorizer().fit(["a b"])
    assert row_ids(vec, "a x b y") == [2, 1, 3, 1]


def test_truncation_post_keeps_beginning():
    vec = TextVectorizer(max_len=3, truncation="post").fit(["a b c d e", "e d"])
    ids = vec.transform(["a b c d e", "e d"])
    assert vec.inverse_transform(ids)[0].tolist() == ["a", "b", "c"]
    assert vec.inverse_transform(ids)[1].tolist() == ["e", "d"]
    assert ids[1, 2] == 0


def test_truncation_pre_keeps_end():
    vec = TextVectorizer(max_len=3, truncation="pre").fit(["a b c d e"])
    ids = vec.transform(["a b c d e", "e d"])
    assert vec.inverse_transform(ids)[0].tolist() == ["c", "d", "e"]
    # short texts are still padded on the right
    assert vec.inverse_transform(ids)[1].tolist() == ["e", "d"]
    assert ids[1].tolist() == [vec.vocabulary_["e"], vec.vocabulary_["d"], 0]


@pytest.mark.parametrize(
    ("truncation", "kept"), [("post", {"a", "b"}), ("pre", {"d", "e"})]
)
def test_vocabulary_is_counted_on_the_tokens_kept(truncation, kept):
    vec = TextVectorizer(max_len=2, truncation=truncation).fit(["a b c d e"])
    assert set(vec.vocabulary_) == kept


@pytest.mark.parametrize("truncation", ["post", "pre"])
def test_max_len_none_keeps_all_tokens(truncation):
    text = " ".join(f"w{i}" for i in range(600))
    vec = TextVectorizer(max_len=None, truncation=truncation).fit([text])
    ids = vec.transform([text])
    assert ids.shape == (1, 600)
    assert vec.inverse_transform(ids)[0].tolist() == text.split()


def test_default_max_len_is_128():
    text = " ".join(f"w{i}" for i in range(300))
    ids = TextVectorizer().fit_transform([text])
    assert ids.shape == (1, 128)


def test_truncation_counts_tokens_not_characters():
    vec = TextVectorizer(max_len=2).fit(["longword another third"])
    assert vec.transform(["longword another third"]).shape == (1, 2)


@pytest.mark.parametrize("text", ["", " ", "   \t\n  ", "zzz qqq", "unseen"])
def test_text_without_known_tokens_has_a_real_position(text):
    vec = TextVectorizer().fit(["a b"])
    ids = vec.transform([text, "a b"])
    assert ids[0, 0] != 0
    assert (ids[0] != 0).sum() >= 1


@pytest.mark.parametrize("text", ["", " ", "\n\t "])
def test_text_without_tokens_becomes_single_unknown(text):
    vec = TextVectorizer().fit(["a b"])
    np.testing.assert_array_equal(
        vec.transform([text, "a b a"]), [[1, 0, 0], [2, 3, 2]]
    )
    np.testing.assert_array_equal(vec.transform([text]), [[1]])


def test_fit_on_only_empty_texts_is_an_error():
    with pytest.raises(ValueError, match="vocabulary is empty"):
        TextVectorizer().fit(["", "  "])


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"max_len": 2},
        {"max_len": 2, "truncation": "pre"},
        {"min_df": 2, "max_features": 3},
        {"analyzer": "char"},
        {"lowercase": False},
    ],
)
def test_fit_transform_equals_fit_then_transform(params):
    a = TextVectorizer(**params).fit_transform(TEXTS)
    vec = TextVectorizer(**params).fit(TEXTS)
    b = vec.transform(TEXTS)
    assert a.dtype == b.dtype == np.int64
    np.testing.assert_array_equal(a, b)


def test_fit_transform_returns_same_vocabulary_as_fit():
    a = TextVectorizer(min_df=2)
    a.fit_transform(TEXTS)
    assert a.vocabulary_ == TextVectorizer(min_df=2).fit(TEXTS).vocabulary_


def test_transform_does_not_change_vocabulary():
    vec = TextVectorizer().fit(["a b"])
    before = dict(vec.vocabulary_)
    vec.transform(["new words here", "a"])
    assert vec.vocabulary_ == before


def test_refit_replaces_vocabulary():
    vec = TextVectorizer().fit(["a b"])
    vec.fit(["c"])
    assert vec.vocabulary_ == {"c": 2}


# --- inverse_transform and feature names -------------------------------------


def test_inverse_transform_round_trips_known_tokens():
    vec = TextVectorizer().fit(TEXTS)
    tokens = vec.inverse_transform(vec.transform(TEXTS))
    assert isinstance(tokens, list)
    assert [t.tolist() for t in tokens] == [
        ["the", "cat", "sat", "."],
        ["the", "dog", "sat", "on", "the", "mat", "!"],
        ["a", "cat", "and", "a", "dog", "."],
    ]


def test_inverse_transform_drops_padding_and_marks_unknown():
    vec = TextVectorizer().fit(["a b"])
    tokens = vec.inverse_transform(vec.transform(["a zz b", "", "b"]))
    assert [t.tolist() for t in tokens] == [["a", "<unk>", "b"], ["<unk>"], ["b"]]


def test_inverse_transform_accepts_lists_and_other_int_dtypes():
    vec = TextVectorizer().fit(["a b"])
    assert vec.inverse_transform([[2, 3, 0]])[0].tolist() == ["a", "b"]
    ids = np.array([[3, 1]], dtype=np.uint8)
    assert vec.inverse_transform(ids)[0].tolist() == ["b", "<unk>"]


def test_inverse_transform_accepts_largest_valid_id():
    vec = TextVectorizer().fit(["a b c"])
    top = len(vec.vocabulary_) + 1
    assert vec.inverse_transform([[top]])[0].tolist() == ["c"]


@pytest.mark.parametrize(
    "ids",
    [
        np.array([[2, -1]]),
        np.array([[5]]),
        np.array([[2, 100]]),
        np.array([[2.0, 3.0]]),
        np.array([2, 3]),
        np.array([[[2]]]),
        np.array([[True, False]]),
        np.array([["a", "b"]]),
    ],
    ids=[
        "negative",
        "one-too-large",
        "too-large",
        "float",
        "1-D",
        "3-D",
        "bool",
        "str",
    ],
)
def test_inverse_transform_rejects_bad_ids(ids):
    vec = TextVectorizer().fit(["a b c"])  # valid ids: 0..4
    with pytest.raises(ValueError, match="X"):
        vec.inverse_transform(ids)


def test_get_feature_names_out():
    vec = TextVectorizer().fit(["b a b"])
    names = vec.get_feature_names_out()
    assert isinstance(names, np.ndarray)
    assert names.dtype == object
    assert names.tolist() == ["<pad>", "<unk>", "b", "a"]
    assert len(names) == len(vec.vocabulary_) + 2


def test_feature_names_index_by_ids_gives_tokens():
    vec = TextVectorizer().fit(TEXTS)
    names = vec.get_feature_names_out()
    ids = vec.transform(["the dog sat on a cat"])
    assert names[ids[0]].tolist() == ["the", "dog", "sat", "on", "a", "cat"]
    for token, token_id in vec.vocabulary_.items():
        assert names[token_id] == token


def test_feature_names_of_the_smallest_vocabulary():
    vec = TextVectorizer(min_df=2).fit(["a b", "b"])
    assert vec.get_feature_names_out().tolist() == ["<pad>", "<unk>", "b"]


# --- input kinds --------------------------------------------------------------


@pytest.mark.parametrize(
    "make_input",
    [
        list,
        tuple,
        lambda t: np.array(t, dtype=object),
        lambda t: np.array(t),
        lambda t: np.array(t, dtype=object).reshape(-1, 1),
        lambda t: np.array(t).reshape(-1, 1),
        pd.Series,
        lambda t: pd.Series(t, index=[10, 5, 7], name="text"),
        lambda t: pd.Series(t, dtype="string"),
        lambda t: pd.DataFrame({"text": t}),
        lambda t: pd.DataFrame({"text": t}, index=["x", "y", "z"]),
        lambda t: iter(t),
    ],
    ids=[
        "list",
        "tuple",
        "object-array",
        "str-array",
        "object-2d",
        "str-2d",
        "series",
        "series-index",
        "string-series",
        "dataframe",
        "dataframe-index",
        "iterator",
    ],
)
def test_input_kinds_give_identical_output(make_input):
    expected_vec = TextVectorizer().fit(TEXTS)
    expected = expected_vec.transform(TEXTS)
    vec = TextVectorizer().fit(make_input(TEXTS))
    assert vec.vocabulary_ == expected_vec.vocabulary_
    np.testing.assert_array_equal(vec.transform(make_input(TEXTS)), expected)
    np.testing.assert_array_equal(
        TextVectorizer().fit_transform(make_input(TEXTS)), expected
    )
    assert all(type(t) is str for t in vec.vocabulary_)


def test_dataframe_with_two_columns_raises():
    df = pd.DataFrame({"a": TEXTS, "b": TEXTS})
    with pytest.raises(ValueError, match="2 columns"):
        TextVectorizer().fit(df)
    vec = TextVectorizer().fit(TEXTS)
    with pytest.raises(ValueError, match="2 columns"):
        vec.transform(df)


@pytest.mark.parametrize(
    "X", [np.array([TEXTS, TEXTS]), np.array(TEXTS[:2]).reshape(1, 2), np.array("a")]
)
def test_array_not_one_text_per_row_raises(X):
    with pytest.raises(ValueError, match="1-dimensional"):
        TextVectorizer().fit(X)


@pytest.mark.parametrize("X", ["a single text", b"bytes text"])
def test_single_string_raises_type_error(X):
    with pytest.raises(TypeError, match="single"):
        TextVectorizer().fit(X)
    vec = TextVectorizer().fit(TEXTS)
    with pytest.raises(TypeError, match="single"):
        vec.transform(X)


@pytest.mark.parametrize("X", [{"a", "b"}, {"a": 1}, 42])
def test_unordered_or_non_iterable_input_raises(X):
    with pytest.raises(TypeError):
        TextVectorizer().fit(X)


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (None, ValueError),
        (float("nan"), ValueError),
        (np.nan, ValueError),
        (3, TypeError),
        (2.5, TypeError),
        (b"bytes", TypeError),
        (["nested"], TypeError),
        (pd.NA, ValueError),
    ],
)
def test_non_text_item_error_names_its_index(bad, error):
    X = ["fine", "also fine", bad, "fine again"]
    with pytest.raises(error, match=r"X\[2\]"):
        TextVectorizer().fit(X)
    vec = TextVectorizer().fit(TEXTS)
    with pytest.raises(error, match=r"X\[2\]"):
        vec.transform(X)


def test_missing_value_in_series_names_position_not_label():
    X = pd.Series(["a", "b", None], index=[10, 20, 30])
    with pytest.raises(ValueError, match=r"X\[2\]"):
        TextVectorizer().fit(X)


@pytest.mark.parametrize(
    "X",
    [[], (), np.array([], dtype=object), pd.Series([], dtype=object)],
    ids=["list", "tuple", "array", "series"],
)
def test_empty_input_raises(X):
    with pytest.raises(ValueError, match="empty"):
        TextVectorizer().fit(X)
    vec = TextVectorizer().fit(TEXTS)
    with pytest.raises(ValueError, match="empty"):
        vec.transform(X)


def test_input_list_is_not_modified():
    texts = ["Hello World!", "", "  ", "ÜBER café"]
    before = list(texts)
    vec = TextVectorizer()
    vec.fit(texts)
    vec.transform(texts)
    vec.fit_transform(texts)
    assert texts == before


def test_input_containers_are_not_modified():
    arr = np.array(["Hello World", "ABC"], dtype=object)
    series = pd.Series(["Hello World", "ABC"])
    df = pd.DataFrame({"text": ["Hello World", "ABC"]})
    arr_before, series_before, df_before = arr.copy(), series.copy(), df.copy()
    for X in (arr, series, df):
        TextVectorizer().fit_transform(X)
    np.testing.assert_array_equal(arr, arr_before)
    pd.testing.assert_series_equal(series, series_before)
    pd.testing.assert_frame_equal(df, df_before)


# --- fitting from any iterable ------------------------------------------------

SMALL_CHUNK_SIZE = 7


@pytest.fixture
def small_chunks(monkeypatch):
    """Make fit read its texts 7 at a time, so that few texts span many chunks."""
    monkeypatch.setattr(text_module, "FIT_CHUNK_SIZE", SMALL_CHUNK_SIZE)


def varied_texts(n_texts, late_from, seed=0):
    """Texts of words with a long-tailed frequency, so that min_df and
    max_features cut among tied counts, in mixed case, with commas and empty
    texts; from text ``late_from`` on, also words never seen before.
    """
    rng = np.random.RandomState(seed)
    words = np.array([f"w{i}" for i in range(2000)] + [f"W{i}" for i in range(50)])
    frequency = 1 / np.arange(1, len(words) + 1)
    lengths = rng.randint(0, 12, n_texts)
    drawn = iter(
        words[rng.choice(len(words), lengths.sum(), p=frequency / frequency.sum())]
    )
    separators = rng.choice([" ", ", ", "! "], n_texts)
    texts = []
    for index, (length, separator) in enumerate(zip(lengths, separators, strict=True)):
        tokens = [next(drawn) for _ in range(length)]
        if index >= late_from:
            tokens.append(f"late{index % 7}")
        texts.append(separator.join(tokens))
    return texts


VARIED_TEXTS = varied_texts(300, late_from=250)


def reference_vocabulary(texts, **params):
    """The vocabulary by plain counting of each text's analyzed tokens."""
    analyze = TextVectorizer(**params).build_analyzer()
    counts, document_counts = Counter(), Counter()
    for text in texts:
        tokens = analyze(text)
        counts.update(tokens)
        document_counts.update(set(tokens))
    min_df = params.get("min_df", 1)
    if isinstance(min_df, float):
        min_df = min_df * len(texts)
    kept = [token for token in counts if document_counts[token] >= min_df]
    ranked = sorted(kept, key=lambda token: (-counts[token], token))
    ranked = ranked[: params.get("max_features")]
    return {token: token_id for token_id, token in enumerate(ranked, start=2)}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"min_df": 3},
        {"min_df": 0.01},
        {"min_df": 0.005, "max_features": 30},
        {"max_features": 100},
        {"analyzer": "char", "max_len": 7},
        {"tokenizer": split_on_commas, "min_df": 2},
        {"max_len": 3, "truncation": "pre", "lowercase": False},
        {"token_pattern": r"\w{3,}", "max_len": None},
    ],
)
def test_fit_on_a_generator_learns_the_vocabulary_of_a_list(small_chunks, params):
    from_generator = TextVectorizer(**params).fit(text for text in VARIED_TEXTS)
    from_list = TextVectorizer(**params).fit(VARIED_TEXTS)
    expected = reference_vocabulary(VARIED_TEXTS, **params)
    assert list(from_generator.vocabulary_.items()) == list(expected.items())
    assert list(from_list.vocabulary_.items()) == list(expected.items())
    # fit_transform counts all the texts at once, without chunks
    all_at_once = TextVectorizer(**params)
    all_at_once.fit_transform(VARIED_TEXTS)
    assert all_at_once.vocabulary_ == expected


def test_fit_on_a_generator_of_full_size_chunks_learns_the_vocabulary_of_a_list():
    texts = varied_texts(2 * FIT_CHUNK_SIZE + 1234, late_from=2 * FIT_CHUNK_SIZE)
    params = {"min_df": 0.0003, "max_features": 1500}
    from_generator = TextVectorizer(**params).fit(text for text in texts)
    all_at_once = TextVectorizer(**params)
    all_at_once.fit_transform(texts)
    assert list(from_generator.vocabulary_.items()) == list(
        all_at_once.vocabulary_.items()
    )
    assert len(from_generator.vocabulary_) == 1500
    assert "late0" in from_generator.vocabulary_  # first seen in the third chunk


class CountedTexts:
    """An iterable of texts, without a length, that counts how it is read."""

    def __init__(self, texts):
        self.texts = texts
        self.iterations = 0
        self.texts_read = 0

    def __iter__(self):
        self.iterations += 1
        for text in self.texts:
            self.texts_read += 1
            yield text


@pytest.mark.parametrize("min_df", [1, 2, 0.01])
def test_fit_reads_an_iterable_once(small_chunks, min_df):
    texts = CountedTexts(VARIED_TEXTS)
    vectorizer = TextVectorizer(min_df=min_df).fit(texts)
    assert (texts.iterations, texts.texts_read) == (1, len(VARIED_TEXTS))
    assert (
        vectorizer.vocabulary_
        == TextVectorizer(min_df=min_df).fit(VARIED_TEXTS).vocabulary_
    )


def test_fit_reads_a_generator_to_its_end():
    generator = (text for text in ["a b", "b c", "c d"])
    assert TextVectorizer().fit(generator).vocabulary_ == {
        "b": 2,
        "c": 3,
        "a": 4,
        "d": 5,
    }
    assert next(generator, "nothing left") == "nothing left"


class TrackedText(str):
    """A str that can be watched for when it is freed."""


def tracked_texts(n_texts, alive):
    """Generate texts, counting in ``alive`` how many are not freed yet."""

    def freed(_):
        alive["now"] -= 1

    references = []
    for index in range(n_texts):
        text = TrackedText(f"w{index % 997} w{index % 13}")
        references.append(weakref.ref(text, freed))
        alive["now"] += 1
        alive["most"] = max(alive["most"], alive["now"])
        yield text


def test_fit_holds_at_most_one_chunk_of_a_generators_texts(small_chunks):
    n_texts = 20 * SMALL_CHUNK_SIZE + 3
    alive = {"now": 0, "most": 0}
    TextVectorizer().fit(tracked_texts(n_texts, alive))
    # +1: the generator's own variable holds the text it yielded last
    assert alive["most"] <= SMALL_CHUNK_SIZE + 1
    # What a list of them would hold, to show that the count can fail:
    alive = {"now": 0, "most": 0}
    TextVectorizer().fit(list(tracked_texts(n_texts, alive)))
    assert alive["most"] == n_texts


def short_texts(n_texts):
    for index in range(n_texts):
        yield f"w{index % 997} w{index % 991} x{index % 13}"


def peak_memory_of(function):
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_of_fit_on_a_generator_does_not_grow_with_the_corpus():
    # Built-in caches first, so that they do not count in the first peak.
    TextVectorizer(min_df=0.001).fit(list(short_texts(100)))
    one_chunk = peak_memory_of(
        lambda: TextVectorizer(min_df=0.001).fit(short_texts(FIT_CHUNK_SIZE))
    )
    two_chunks = peak_memory_of(
        lambda: TextVectorizer(min_df=0.001).fit(short_texts(2 * FIT_CHUNK_SIZE))
    )
    # Holding the texts or their tokens would take about twice as much.
    assert two_chunks < 1.3 * one_chunk


@pytest.mark.parametrize(
    ("bad", "error"),
    [(None, ValueError), (float("nan"), ValueError), (3, TypeError), (b"x", TypeError)],
)
@pytest.mark.parametrize("index", [0, 2, 3 * SMALL_CHUNK_SIZE + 2])
def test_non_text_in_a_generator_is_named_by_its_index(small_chunks, bad, error, index):
    def texts():
        for position in range(index + 5):
            yield bad if position == index else "fine text"

    with pytest.raises(error, match=rf"X\[{index}\]"):
        TextVectorizer().fit(texts())
    with pytest.raises(error, match=rf"X\[{index}\]"):
        TextVectorizer(vocabulary=["fine"]).fit(texts())


def test_tokenizer_error_in_a_later_chunk_names_the_texts_index(small_chunks):
    def tokenize(text):
        return text if text == "bad" else text.split()

    texts = ["a b"] * (3 * SMALL_CHUNK_SIZE + 2) + ["bad"]
    with pytest.raises(TypeError, match=f"for text {3 * SMALL_CHUNK_SIZE + 2} "):
        TextVectorizer(tokenizer=tokenize).fit(iter(texts))


@pytest.mark.parametrize("vocabulary", [None, ["a"]])
def test_empty_generator_raises(vocabulary):
    with pytest.raises(ValueError, match="X is empty"):
        TextVectorizer(vocabulary=vocabulary).fit(text for text in [])


def test_iterable_without_a_length_works_in_every_method():
    texts = ["the cat sat", "a dog"]
    vectorizer = TextVectorizer().fit(CountedTexts(texts))
    ids = vectorizer.transform(texts)
    np.testing.assert_array_equal(vectorizer.transform(CountedTexts(texts)), ids)
    np.testing.assert_array_equal(TextVectorizer().fit_transform(iter(texts)), ids)
    np.testing.assert_array_equal(
        vectorizer.transform_counts(iter(texts)).toarray(),
        vectorizer.transform_counts(texts).toarray(),
    )


# --- a fixed vocabulary -------------------------------------------------------


def test_fixed_vocabulary_gets_ids_in_its_order_and_ignores_counts():
    vectorizer = TextVectorizer(vocabulary=["cat", "the"], min_df=5, max_features=1)
    vectorizer.fit(["the dog", "the the"])
    assert list(vectorizer.vocabulary_.items()) == [("cat", 2), ("the", 3)]
    np.testing.assert_array_equal(
        vectorizer.transform(["The cat, a dog"]), [[3, 2, 1, 1, 1]]
    )
    assert vectorizer.get_feature_names_out().tolist() == [
        "<pad>",
        "<unk>",
        "cat",
        "the",
    ]


def test_another_vectorizers_vocabulary_gives_the_same_ids():
    learnt = TextVectorizer(min_df=2).fit(TEXTS)
    fixed = TextVectorizer(vocabulary=learnt.vocabulary_).fit(["unrelated words"])
    assert fixed.vocabulary_ == learnt.vocabulary_
    np.testing.assert_array_equal(fixed.transform(TEXTS), learnt.transform(TEXTS))


def test_mapping_in_any_order_gives_a_vocabulary_in_id_order():
    vectorizer = TextVectorizer(vocabulary={"b": 3, "c": np.int64(4), "a": 2}).fit(
        ["x"]
    )
    assert list(vectorizer.vocabulary_.items()) == [("a", 2), ("b", 3), ("c", 4)]
    assert all(type(token_id) is int for token_id in vectorizer.vocabulary_.values())
    assert vectorizer.get_feature_names_out().tolist()[2:] == ["a", "b", "c"]
    assert vectorizer.inverse_transform([[4, 2, 0]])[0].tolist() == ["c", "a"]


@pytest.mark.parametrize(
    "make_vocabulary",
    [list, tuple, np.array, pd.Series],
    ids=["list", "tuple", "array", "series"],
)
def test_fixed_vocabulary_in_ordered_collections(make_vocabulary):
    vectorizer = TextVectorizer(vocabulary=make_vocabulary(["b", "a"])).fit(["x"])
    assert list(vectorizer.vocabulary_.items()) == [("b", 2), ("a", 3)]
    assert all(type(token) is str for token in vectorizer.vocabulary_)


def test_fixed_vocabulary_is_a_copy_and_the_parameter_is_left_alone():
    tokens = ["a", "b"]
    vectorizer = TextVectorizer(vocabulary=tokens).fit(["a"])
    assert tokens == ["a", "b"]
    assert vectorizer.vocabulary is tokens
    tokens.append("c")
    assert vectorizer.vocabulary_ == {"a": 2, "b": 3}
    mapping = {"a": 2}
    vectorizer = TextVectorizer(vocabulary=mapping).fit(["a"])
    assert vectorizer.vocabulary_ is not mapping
    vectorizer.vocabulary_["z"] = 3
    assert mapping == {"a": 2}


def test_fixed_vocabulary_in_fit_transform_and_with_whole_text_counts():
    texts = ["b a c", "c c"]
    fixed = TextVectorizer(vocabulary=["c", "a"], max_len=2)
    expected = TextVectorizer(vocabulary=["c", "a"], max_len=2).fit(["x"])
    np.testing.assert_array_equal(fixed.fit_transform(texts), [[1, 3], [2, 2]])
    assert fixed.vocabulary_ == expected.vocabulary_
    ids, counts = TextVectorizer(vocabulary=["c", "a"], max_len=2)._ids_and_counts(
        texts, fit=True
    )
    np.testing.assert_array_equal(ids, expected.transform(texts))
    np.testing.assert_array_equal(
        counts.toarray(), expected.transform_counts(texts).toarray()
    )


def test_fixed_vocabulary_still_checks_the_parameters_and_texts():
    with pytest.raises(ValueError, match="'max_len'"):
        TextVectorizer(vocabulary=["a"], max_len=0).fit(["a"])
    with pytest.raises(TypeError, match="single"):
        TextVectorizer(vocabulary=["a"]).fit("a")
    vectorizer = TextVectorizer(vocabulary=["a"])
    with pytest.raises(ValueError, match=r"X\[1\] is None"):
        vectorizer.fit(["a", None])
    assert not hasattr(vectorizer, "vocabulary_")


@pytest.mark.parametrize(
    ("vocabulary", "message"),
    [
        ([], "is empty"),
        ({}, "is empty"),
        (["a", 3], "holds 3, of type int; tokens must be str"),
        ({"a": 2, None: 3}, "holds None"),
        (["a", "b", "a"], "holds 'a' more than once"),
        (["a", "<unk>"], "holds '<unk>', which is reserved"),
        (["<pad>"], "holds '<pad>', which is reserved"),
        ({"a": 2, "b": 2}, "gives id 2 to both 'a' and 'b'"),
        ({"a": 2, "b": 4}, "maps 'b' to 4; the ids of 2 tokens must be 2 to 3"),
        ({"a": 1}, "maps 'a' to 1; the ids of 1 tokens must be 2 to 2"),
        ({"a": 2.0}, "maps 'a' to 2.0; ids must be int"),
        ({"a": True}, "maps 'a' to True; ids must be int"),
        ("a single str", "must be a mapping"),
        (b"bytes", "must be a mapping"),
        ({"b", "a"}, "not a set"),
        (iter(["a"]), "one-shot iterator"),
        (5, "must be a mapping"),
    ],
)
def test_invalid_vocabulary_raises_at_fit_naming_the_problem(vocabulary, message):
    vectorizer = TextVectorizer(vocabulary=vocabulary)  # no error at construction
    for method in (vectorizer.fit, vectorizer.fit_transform):
        with pytest.raises(ValueError, match="'vocabulary' parameter") as raised:
            method(["a b"])
        assert message in str(raised.value)
    assert not hasattr(vectorizer, "vocabulary_")


def test_vocabulary_survives_clone_set_params_and_pickle():
    vectorizer = TextVectorizer(vocabulary=["b", "a"], max_len=3)
    cloned = clone(vectorizer)
    assert cloned.get_params() == vectorizer.get_params()
    assert cloned.fit(["x"]).vocabulary_ == {"b": 2, "a": 3}
    assert vectorizer.set_params(vocabulary={"z": 2}) is vectorizer
    assert vectorizer.fit(["x"]).vocabulary_ == {"z": 2}
    loaded = pickle.loads(pickle.dumps(vectorizer))
    assert loaded.vocabulary == {"z": 2}
    np.testing.assert_array_equal(loaded.transform(["z y"]), [[2, 1]])
    assert loaded.set_params(vocabulary=None).fit(["y y z"]).vocabulary_ == {
        "y": 2,
        "z": 3,
    }


def test_build_analyzer_leaves_the_vocabulary_out():
    vectorizer = TextVectorizer(vocabulary=["distinctive_token"], max_len=2)
    analyze = vectorizer.build_analyzer()
    assert analyze("A b c") == ["a", "b"]
    assert b"distinctive_token" not in pickle.dumps(analyze)


# --- parameters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("max_features", 0),
        ("max_features", -1),
        ("max_features", 2.0),
        ("max_features", True),
        ("min_df", 0),
        ("min_df", 0.0),
        ("min_df", -0.5),
        ("min_df", 1.5),
        ("min_df", float("nan")),
        ("min_df", True),
        ("min_df", "1"),
        ("max_len", 0),
        ("max_len", -3),
        ("max_len", 10.0),
        ("analyzer", "bpe"),
        ("analyzer", None),
        ("truncation", "middle"),
        ("truncation", True),
        ("lowercase", "yes"),
        ("lowercase", 1),
        ("lowercase", None),
        ("token_pattern", re.compile(r"\w+")),
        ("tokenizer", "split"),
    ],
)
def test_invalid_parameter_raises_at_fit_naming_it(param, value):
    vec = TextVectorizer(**{param: value})  # no error at construction
    assert getattr(vec, param) is value
    with pytest.raises(ValueError, match=f"'{param}'"):
        vec.fit(TEXTS)
    with pytest.raises(ValueError, match=f"'{param}'"):
        TextVectorizer(**{param: value}).fit_transform(TEXTS)
    assert not hasattr(vec, "vocabulary_")


def test_invalid_parameter_error_is_also_type_error():
    with pytest.raises(TypeError, match="'lowercase'"):
        TextVectorizer(lowercase="yes").fit(TEXTS)


def test_invalid_parameter_via_set_params_raises_at_fit():
    vec = TextVectorizer().set_params(max_len=0)
    with pytest.raises(ValueError, match="'max_len'"):
        vec.fit(TEXTS)


def test_parameters_are_keyword_only():
    with pytest.raises(TypeError):
        TextVectorizer(10)


def test_init_stores_parameters_unchanged():
    sentinel = object()
    params = {
        "max_features": sentinel,
        "min_df": "odd",
        "max_len": [1, 2],
        "lowercase": "maybe",
        "token_pattern": 3.5,
        "tokenizer": sentinel,
        "analyzer": "x",
        "truncation": None,
        "vocabulary": iter(["a"]),
    }
    vec = TextVectorizer(**params)
    for name, value in params.items():
        assert getattr(vec, name) is value


def test_default_parameters():
    assert TextVectorizer().get_params() == {
        "max_features": None,
        "min_df": 1,
        "max_len": 128,
        "lowercase": True,
        "token_pattern": None,
        "tokenizer": None,
        "analyzer": "word",
        "truncation": "post",
        "vocabulary": None,
    }


def test_get_params_and_set_params():
    vec = TextVectorizer(max_len=7, tokenizer=split_on_commas)
    params = vec.get_params()
    assert params["max_len"] == 7
    assert params["tokenizer"] is split_on_commas
    assert vec.set_params(max_len=3, truncation="pre") is vec
    assert vec.max_len == 3
    assert vec.truncation == "pre"
    assert vec.fit_transform(["a,b,c,d,e"]).shape == (1, 3)
    with pytest.raises(ValueError):
        vec.set_params(not_a_param=1)


def test_clone_copies_params_and_not_fitted_state():
    vec = TextVectorizer(max_features=5, min_df=0.5, tokenizer=split_on_commas)
    vec.fit(["a,b", "a"])
    cloned = clone(vec)
    assert cloned is not vec
    assert cloned.get_params() == vec.get_params()
    assert not hasattr(cloned, "vocabulary_")
    assert cloned.fit(["a,b", "a"]).vocabulary_ == vec.vocabulary_


# --- fitted state -------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda v: v.transform(TEXTS),
        lambda v: v.inverse_transform([[0]]),
        lambda v: v.get_feature_names_out(),
    ],
    ids=["transform", "inverse_transform", "get_feature_names_out"],
)
def test_methods_before_fit_raise_not_fitted(call):
    with pytest.raises(NotFittedError):
        call(TextVectorizer())


def test_fit_returns_self():
    vec = TextVectorizer()
    assert vec.fit(TEXTS) is vec
    assert vec.fit(TEXTS, y=[0, 1, 0]) is vec


def test_fit_transform_ignores_y():
    a = TextVectorizer().fit_transform(TEXTS, [0, 1, 0])
    np.testing.assert_array_equal(a, TextVectorizer().fit_transform(TEXTS))


# --- scikit-learn integration -------------------------------------------------


def test_in_pipeline_followed_by_function_transformer():
    pipe = make_pipeline(
        TextVectorizer(max_len=4),
        FunctionTransformer(lambda ids: (ids != 0).sum(axis=1)),
    )
    lengths = pipe.fit_transform(["a b", "a b c d e f", "", "x"])
    np.testing.assert_array_equal(lengths, [2, 4, 1, 1])
    np.testing.assert_array_equal(pipe.transform(["a a a"]), [3])


def test_alone_in_pipeline_matches_direct_use():
    pipe = Pipeline([("vec", TextVectorizer(min_df=2))])
    np.testing.assert_array_equal(
        pipe.fit_transform(TEXTS), TextVectorizer(min_df=2).fit_transform(TEXTS)
    )
    np.testing.assert_array_equal(
        pipe.transform(["the cat"]),
        TextVectorizer(min_df=2).fit(TEXTS).transform(["the cat"]),
    )


def test_pipeline_set_params_reaches_vectorizer():
    pipe = Pipeline([("vec", TextVectorizer())])
    pipe.set_params(vec__max_len=2)
    assert pipe.fit_transform(["a b c"]).shape == (1, 2)


def test_pickle_round_trip():
    vec = TextVectorizer(max_len=5, tokenizer=split_on_commas).fit(["a,b,c", "a"])
    loaded = pickle.loads(pickle.dumps(vec))
    assert loaded.vocabulary_ == vec.vocabulary_
    assert loaded.get_params()["tokenizer"] is split_on_commas
    texts = ["a,c,z", "b", ""]
    np.testing.assert_array_equal(loaded.transform(texts), vec.transform(texts))


def test_joblib_round_trip(tmp_path):
    vec = TextVectorizer(min_df=2, truncation="pre", max_len=3).fit(TEXTS)
    path = tmp_path / "vec.joblib"
    joblib.dump(vec, path)
    loaded = joblib.load(path)
    assert loaded.vocabulary_ == vec.vocabulary_
    np.testing.assert_array_equal(loaded.transform(TEXTS), vec.transform(TEXTS))
    np.testing.assert_array_equal(
        loaded.get_feature_names_out(), vec.get_feature_names_out()
    )


def test_sklearn_tags_declare_string_input():
    tags = TextVectorizer().__sklearn_tags__()
    assert tags.input_tags.string
    assert not tags.input_tags.two_d_array


# --- property-based -----------------------------------------------------------


def is_word_character(character):
    return re.match(r"\w", character) is not None or unicodedata.category(
        character
    ).startswith("M")


def reference_tokens(text):
    """The built-in pattern's tokens, by a plain scan instead of a regex."""
    tokens, word = [], ""
    for character in text.lower():
        if is_word_character(character):
            word += character
            continue
        if word:
            tokens.append(word)
            word = ""
        if not character.isspace():
            tokens.append(character)
    return tokens + ([word] if word else [])


@HYPOTHESIS
@given(
    texts=st.lists(st.text(), min_size=1, max_size=8),
    max_len=st.one_of(st.none(), st.integers(1, 12)),
    truncation=st.sampled_from(["post", "pre"]),
)
def test_property_fit_transform_invariants(texts, max_len, truncation):
    vec = TextVectorizer(max_len=max_len, truncation=truncation)
    if not any(reference_tokens(text) for text in texts):
        with pytest.raises(ValueError, match="vocabulary is empty"):
            vec.fit_transform(texts)
        return
    ids = vec.fit_transform(texts)
    assert ids.dtype == np.int64
    assert ids.ndim == 2
    assert ids.shape[0] == len(texts)
    assert ids.shape[1] >= 1
    if max_len is not None:
        assert ids.shape[1] <= max_len
    assert ids.min() >= 0
    assert ids.max() < len(vec.vocabulary_) + 2
    real = ids != 0
    assert real[:, 0].all()
    # once padding starts in a row, it never stops
    assert (np.diff(real.astype(np.int8), axis=1) <= 0).all()
    assert sorted(vec.vocabulary_.values()) == list(range(2, 2 + len(vec.vocabulary_)))
    # fitted on these texts, so no unknown except for token-less texts
    for row, text in zip(ids, texts, strict=True):
        n_tokens = len(reference_tokens(text))
        expected_len = max(1, n_tokens if max_len is None else min(max_len, n_tokens))
        assert (row != 0).sum() == expected_len
        assert (row == 1).any() == (n_tokens == 0)


# Long texts in few characters, so that tokenizing only the slice of a text
# that max_len keeps is exercised, including words cut at the slice's edge.
long_texts = st.lists(
    st.tuples(
        st.text(alphabet=st.sampled_from(list("abxy\u00e9e\u0301\u65e5")), max_size=14),
        st.sampled_from([" ", "  ", ".", "!", "\x1c", "\t", " - "]),
    ),
    max_size=12,
).map(lambda pieces: "".join(word + separator for word, separator in pieces))


@HYPOTHESIS
@given(
    texts=st.lists(long_texts, min_size=1, max_size=6),
    max_len=st.integers(1, 8),
    truncation=st.sampled_from(["post", "pre"]),
)
def test_property_kept_tokens_are_those_of_the_whole_text(texts, max_len, truncation):
    assume(any(reference_tokens(text) for text in texts))
    vec = TextVectorizer(max_len=max_len, truncation=truncation)
    recovered = vec.inverse_transform(vec.fit_transform(texts))
    for text, back in zip(texts, recovered, strict=True):
        tokens = reference_tokens(text)
        kept = tokens[:max_len] if truncation == "post" else tokens[-max_len:]
        assert back.tolist() == (kept or ["<unk>"])


def test_every_ascii_character_is_tokenized_as_by_the_unicode_pattern():
    text = "".join(map(chr, range(128))) + " word_1 x\x1cy\x1f"
    vec = TextVectorizer(max_len=None, lowercase=False).fit([text])
    assert vec.inverse_transform(vec.transform([text]))[0].tolist() == (
        re.findall(r"\w+|[^\w\s]", text)
    )


@HYPOTHESIS
@given(texts=st.lists(st.text(), min_size=1, max_size=8))
def test_property_vocabulary_matches_counts(texts):
    counts = Counter(t for text in texts for t in reference_tokens(text))
    assume(counts)
    vec = TextVectorizer(max_len=None).fit(texts)
    assert set(vec.vocabulary_) == set(counts)
    ranked = list(vec.vocabulary_)
    for earlier, later in zip(ranked, ranked[1:], strict=False):
        assert (-counts[earlier], earlier) < (-counts[later], later)


@HYPOTHESIS
@given(
    texts=st.lists(st.text(), min_size=1, max_size=6),
    max_len=st.one_of(st.none(), st.integers(1, 8)),
)
def test_property_char_analyzer_invariants(texts, max_len):
    assume(any(texts))
    vec = TextVectorizer(analyzer="char", max_len=max_len)
    ids = vec.fit_transform(texts)
    assert ids.dtype == np.int64
    assert (ids != 0).sum(axis=1).min() >= 1
    assert ids.max() < len(vec.vocabulary_) + 2
    kept = "".join(text.lower()[:max_len] for text in texts)
    assert set(vec.vocabulary_) == set(kept)


words = st.text(
    alphabet=st.characters(categories=["Lu", "Ll", "Lo", "Nd"]),
    min_size=1,
    max_size=6,
).filter(lambda w: re.fullmatch(r"\w+", w.lower()) is not None)
punctuation = st.sampled_from(list("!?.,;:'\"()-"))
token_lists = st.lists(
    st.lists(st.one_of(words, punctuation), min_size=1, max_size=10),
    min_size=1,
    max_size=5,
)


@HYPOTHESIS
@given(
    token_lists=token_lists,
    max_len=st.one_of(st.none(), st.integers(1, 12)),
    truncation=st.sampled_from(["post", "pre"]),
)
def test_property_inverse_transform_round_trips(token_lists, max_len, truncation):
    texts = [" ".join(tokens) for tokens in token_lists]
    vec = TextVectorizer(max_len=max_len, truncation=truncation).fit(texts)
    recovered = vec.inverse_transform(vec.transform(texts))
    for tokens, back in zip(token_lists, recovered, strict=True):
        expected = [t.lower() for t in tokens]
        if max_len is not None:
            keep = (
                slice(None, max_len) if truncation == "post" else slice(-max_len, None)
            )
            expected = expected[keep]
        assert back.tolist() == expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [("(unclosed", "not a valid regular expression"), (r"\w*", "empty string")],
)
def test_unusable_token_pattern_is_refused_at_fit(pattern, message):
    vec = TextVectorizer(token_pattern=pattern)
    with pytest.raises(ValueError, match=message):
        vec.fit(["some text"])


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"max_len": 3},
        {"max_len": 3, "truncation": "pre", "lowercase": False},
        {"analyzer": "char", "max_len": 5},
        {"token_pattern": r"\S+"},
        {"tokenizer": str.split},
    ],
)
def test_build_analyzer_gives_the_tokens_transform_looks_up(params):
    texts = ["The CAT sat, on the mat!", "a dog", "Émile's café — naïve"]
    vectorizer = TextVectorizer(**params).fit(texts)
    analyze = vectorizer.build_analyzer()
    names = vectorizer.get_feature_names_out()
    for text, ids in zip(texts, vectorizer.transform(texts), strict=True):
        assert analyze(text) == list(names[ids[ids > 0]])


def test_build_analyzer_keeps_the_parameters_it_was_built_with():
    vectorizer = TextVectorizer(max_len=2)
    analyze = vectorizer.build_analyzer()
    vectorizer.set_params(max_len=None)
    assert analyze("one two three") == ["one", "two"]
    assert pickle.loads(pickle.dumps(analyze))("one two three") == ["one", "two"]


def test_build_analyzer_checks_parameters_and_texts():
    with pytest.raises(ValueError, match="max_len"):
        TextVectorizer(max_len=0).build_analyzer()
    for not_a_text in (None, ["a", "list"], b"bytes"):
        with pytest.raises(TypeError, match="takes one str"):
            TextVectorizer().build_analyzer()(not_a_text)


class _TokenizerWithALock:
    def __init__(self):
        self.lock = threading.Lock()

    def split(self, text):
        return tuple(text.split())


def test_build_analyzer_takes_any_tokenizer_fit_takes_and_returns_lists():
    tokenizer = _TokenizerWithALock()
    vectorizer = TextVectorizer(tokenizer=tokenizer.split, max_len=None)
    vectorizer.fit(["a b"])
    assert vectorizer.build_analyzer()("c d e") == ["c", "d", "e"]


def test_transform_counts_counts_every_token_of_the_whole_text():
    vectorizer = TextVectorizer(max_len=3).fit(["a b c d", "b c"])
    counts = vectorizer.transform_counts(["c c d z c", "", "b"])
    names = vectorizer.get_feature_names_out()
    assert counts.shape == (3, len(names))
    assert counts.dtype == np.int64
    dense = counts.toarray()
    first = {name: count for name, count in zip(names, dense[0], strict=True) if count}
    assert first == {"c": 3, "<unk>": 2}  # "d" lies past max_len in fit, "z" is new
    assert not dense[1].any()
    assert not dense[:, 0].any()  # padding


@pytest.mark.parametrize("truncation", ["post", "pre"])
@pytest.mark.parametrize("analyzer", ["word", "char"])
def test_counts_agree_with_the_ids_within_max_len(truncation, analyzer):
    texts = ["the cat sat on the mat", "a dog", "the the the", "on a mat, a cat"]
    vectorizer = TextVectorizer(max_len=50, truncation=truncation, analyzer=analyzer)
    ids = vectorizer.fit_transform(texts)
    counts = vectorizer.transform_counts(texts).toarray()
    for row, text_ids in enumerate(ids):
        expected = np.bincount(text_ids[text_ids != 0], minlength=counts.shape[1])
        np.testing.assert_array_equal(counts[row], expected)


def test_ids_and_counts_in_one_pass_equal_the_two_methods():
    texts = ["one two three four five six", "two three", "seven"]
    together = TextVectorizer(max_len=2, min_df=1)
    ids, counts = together._ids_and_counts(texts, fit=True)
    apart = TextVectorizer(max_len=2, min_df=1).fit(texts)
    assert together.vocabulary_ == apart.vocabulary_
    np.testing.assert_array_equal(ids, apart.transform(texts))
    np.testing.assert_array_equal(
        counts.toarray(), apart.transform_counts(texts).toarray()
    )


@pytest.mark.parametrize("max_len", [None, 1, 3, 50])
@pytest.mark.parametrize("truncation", ["post", "pre"])
@pytest.mark.parametrize("analyzer", ["word", "char"])
def test_ids_and_counts_of_new_texts_equal_the_two_methods(
    max_len, truncation, analyzer
):
    vectorizer = TextVectorizer(
        max_len=max_len, truncation=truncation, analyzer=analyzer
    ).fit(["one two three four", "two three five", "six"])
    texts = ["one two three four five six seven", "", "two new", "three"]
    ids, counts = vectorizer._ids_and_counts(texts, fit=False)
    np.testing.assert_array_equal(ids, vectorizer.transform(texts))
    np.testing.assert_array_equal(
        counts.toarray(), vectorizer.transform_counts(texts).toarray()
    )


def test_transform_counts_needs_a_fitted_vectorizer_and_texts():
    with pytest.raises(NotFittedError):
        TextVectorizer().transform_counts(["text"])
    with pytest.raises(TypeError, match="str"):
        TextVectorizer().fit(["text"]).transform_counts(["fine", 3])
