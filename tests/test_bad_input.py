"""Messy input: each case gets a clear error or a documented, sane result."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from helpers import FAST, keyword_data

from sklearn_rnn import RNNClassifier, RNNTextClassifier, TextVectorizer

UNICODE_ZOO = [
    "great 😀🎉 film",
    "很好的电影",
    "فيلم رائع جدا",
    "שלום עולם",
    "नमस्ते दुनिया",
    "e\u0301te\u0301 cafe\u0301",
    "nul\x00byte and\x07bell\x1b[0m",
    "\u200b\u200d\ufeff",
    "tab\tnew\nline\r\nend",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙",
    "",
    "   \t\n ",
]


@pytest.fixture(scope="module")
def data():
    return keyword_data(120, seed=21)


@pytest.fixture(scope="module")
def model(data):
    X, y = data
    return RNNTextClassifier(**FAST).fit(X, y)


@pytest.mark.parametrize(
    ("labels", "error", "message"),
    [
        (["pos", 1], TypeError, "mixes labels of different kinds: str"),
        ([True, 1], TypeError, "bool .*, number .first 1 at position 1"),
    ],
)
def test_bad_labels_are_named(data, labels, error, message):
    X, _ = data
    y = (labels * 60)[: len(X)]
    with pytest.raises(error, match=message):
        RNNTextClassifier(**FAST).fit(X, y)
    with pytest.raises(error, match=message):
        RNNTextClassifier(**FAST).fit(X, np.array(y, dtype=object))


@pytest.mark.parametrize(
    "as_given",
    [np.asarray, scipy.sparse.csr_matrix, pd.DataFrame, lambda y: y.tolist()],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_several_labels_per_text_are_refused_by_name(data, as_given, method):
    X, _ = data
    indicator = np.random.RandomState(0).randint(2, size=(len(X), 3))
    kwargs = {"classes": [0, 1]} if method == "partial_fit" else {}
    with pytest.raises(ValueError, match="multilabel and multi-output targets"):
        getattr(RNNTextClassifier(**FAST), method)(X, as_given(indicator), **kwargs)


@pytest.mark.parametrize(
    "labels",
    [
        [1, np.int16(2)],
        [np.int64(1), 2.0],
        ["neg", np.str_("pos")],
        [True, np.bool_(False)],
    ],
)
def test_labels_of_one_kind_are_taken_whatever_their_types(data, labels):
    # Judged by kind (text, bool, number), not by type name: a numpy scalar
    # beside a Python value of its kind is no mix.
    X, _ = data
    y = (labels * 60)[: len(X)]
    clf = RNNTextClassifier(**FAST).fit(X, y)
    assert len(clf.classes_) == 2
    assert set(clf.predict(X).tolist()) <= set(clf.classes_.tolist())


def test_a_missing_label_in_a_series_is_an_unlabeled_text_not_an_error(data):
    # pandas' where leaves NaN: the text is unlabeled, and fit says so
    X, y = data
    y = pd.Series(y).where(np.arange(len(y)) != 3)
    with pytest.warns(UserWarning, match="1 of 120 samples unlabeled"):
        clf = RNNTextClassifier(**FAST).fit(X, y)
    assert clf.classes_.tolist() == ["neg", "pos"]


@pytest.mark.parametrize(
    "X",
    [
        ["a text", None],
        ["a text", float("nan")],
        ["a text", 3],
        ["a text", b"bytes"],
        ["a text", ["nested", "list"]],
    ],
)
def test_non_text_items_are_refused_by_name_and_position(X):
    with pytest.raises((TypeError, ValueError), match=r"X\[1\]"):
        RNNTextClassifier(**FAST).fit(X, ["a", "b"])


@pytest.mark.parametrize(
    "X",
    [
        "one string",
        pd.DataFrame({"a": ["x", "y"], "b": ["z", "w"]}),
        np.array([["x", "y"], ["z", "w"]]),
    ],
)
def test_inputs_that_are_not_one_text_per_sample_are_refused(X):
    with pytest.raises((TypeError, ValueError)):
        RNNTextClassifier(**FAST).fit(X, ["a", "b"])


def test_empty_input_is_refused():
    with pytest.raises(ValueError, match="empty|0 sample"):
        RNNTextClassifier(**FAST).fit([], [])


def test_sample_weight_of_the_wrong_length_or_sign_is_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="shape"):
        RNNTextClassifier(**FAST).fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        RNNTextClassifier(**FAST).fit(X, y, sample_weight=-np.ones(len(y)))


def test_every_kind_of_unicode_is_predicted(model):
    proba = model.predict_proba(UNICODE_ZOO)
    assert proba.shape == (len(UNICODE_ZOO), 2)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1)


def test_every_kind_of_unicode_trains(data):
    X, y = data
    texts = X + UNICODE_ZOO
    labels = np.concatenate([y, np.resize(["pos", "neg"], len(UNICODE_ZOO))])
    clf = RNNTextClassifier(**FAST).fit(texts, labels)
    assert {"很好的电影", "😀", "e\u0301te\u0301", "رائع"} <= set(
        clf.vectorizer_.vocabulary_
    )
    assert np.all(np.isfinite(clf.predict_proba(UNICODE_ZOO)))


def test_texts_without_a_known_token_are_predicted(model):
    proba = model.predict_proba(["zzz qqq", "", "   ", "!!!"])
    assert np.all(np.isfinite(proba))


def test_megabyte_texts_are_cut_at_max_len_without_blowing_up_memory(model):
    huge = ["w1 " * 350_000 + "key1"] * 5  # about 1 MB each
    vectorizer = TextVectorizer(max_len=256).fit(["w1 key1"])
    tracemalloc.start()
    ids = vectorizer.transform(huge)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert ids.shape == (5, 256)
    # The texts are lowercased (one copy of each); their 350,000 tokens are
    # never all listed, which would take tens of MB per text.
    assert peak < 20 * 2**20
    assert model.predict(huge).shape == (5,)


def test_ids_classifier_refuses_texts_and_bad_ids():
    with pytest.raises(TypeError, match="token ids, not texts"):
        RNNClassifier(**FAST).fit(["a text", "another"], [0, 1])
    with pytest.raises(ValueError, match="negative"):
        RNNClassifier(**FAST).fit(np.array([[1, -2], [3, 0]]), [0, 1])


def test_the_callers_objects_are_not_modified(data):
    X, y = data
    X_series = pd.Series(X)
    y_list = list(y)
    weights = np.linspace(0.5, 2, len(y))
    copies = (X_series.copy(), list(y_list), weights.copy())
    RNNTextClassifier(**FAST).fit(X_series, y_list, sample_weight=weights)
    pd.testing.assert_series_equal(X_series, copies[0])
    assert y_list == copies[1]
    np.testing.assert_array_equal(weights, copies[2])
