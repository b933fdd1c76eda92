"""partial_fit: training on chunks of data, one epoch per call."""

import joblib
import numpy as np
import pytest
from helpers import FAST, keyword_data
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score

from sklearn_rnn import RNNClassifier, RNNTextClassifier, TextVectorizer

CLASSES = ["neg", "pos"]


def chunks(X, y, size):
    for start in range(0, len(X), size):
        yield X[start : start + size], y[start : start + size]


def stream(clf, X, y, passes=3, size=40):
    for _ in range(passes):
        for X_chunk, y_chunk in chunks(X, y, size):
            clf.partial_fit(X_chunk, y_chunk, classes=CLASSES)
    return clf


def test_training_on_chunks_learns_the_task(keyword_texts, keyword_texts_test):
    clf = stream(RNNTextClassifier(**FAST), *keyword_texts)
    assert clf.score(*keyword_texts_test) >= 0.9
    assert clf.classes_.tolist() == CLASSES


def test_each_call_is_one_epoch_without_schedule_or_early_stopping(keyword_texts):
    X, y = keyword_texts
    clf = RNNTextClassifier(**FAST, lr_schedule="plateau", early_stopping=True)
    clf.partial_fit(X[:40], y[:40], classes=CLASSES)
    clf.partial_fit(X[40:80], y[40:80])
    assert clf.n_epochs_ == len(clf.history_) == 2
    assert [row["epoch"] for row in clf.history_] == [1, 2]
    assert clf.best_epoch_ is None
    assert "valid_loss" not in clf.history_[-1]
    assert not any(name == "lr_schedule" for name, _ in clf.net_.callbacks_)


def test_the_first_chunk_fixes_the_vocabulary_and_the_classes(keyword_texts):
    X, y = keyword_texts
    clf = RNNTextClassifier(**FAST)
    only_pos = [text for text, label in zip(X, y, strict=True) if label == "pos"]
    clf.partial_fit(only_pos[:20], ["pos"] * 20, classes=CLASSES)
    vocabulary = dict(clf.vectorizer_.vocabulary_)
    assert "key0" not in vocabulary
    clf.partial_fit(["key0 new words", "w1 w2"], ["neg", "pos"])
    assert clf.vectorizer_.vocabulary_ == vocabulary
    assert clf.classes_.tolist() == CLASSES
    assert clf.predict_proba(["key0 w1"]).shape == (1, 2)


def test_partial_fit_continues_a_fitted_model(keyword_texts):
    X, y = keyword_texts
    clf = RNNTextClassifier(**FAST).fit(X, y)
    vectorizer, n_epochs = clf.vectorizer_, clf.n_epochs_
    weights = clf.net_.module_.head.weight.detach().clone()
    clf.partial_fit(X[:40], y[:40])
    assert clf.vectorizer_ is vectorizer
    assert clf.n_epochs_ == n_epochs + 1
    assert not np.array_equal(weights, clf.net_.module_.head.weight.detach())


def test_chunked_training_is_reproducible_and_resumes_from_a_pickle(
    keyword_texts, tmp_path
):
    X, y = keyword_texts
    first = stream(RNNTextClassifier(**FAST), X, y, passes=2)
    second = RNNTextClassifier(**FAST)
    for X_chunk, y_chunk in chunks(X, y, 40):
        second.partial_fit(X_chunk, y_chunk, classes=CLASSES)
    joblib.dump(second, tmp_path / "halfway.joblib")
    resumed = joblib.load(tmp_path / "halfway.joblib")
    for X_chunk, y_chunk in chunks(X, y, 40):
        resumed.partial_fit(X_chunk, y_chunk)
    np.testing.assert_array_equal(resumed.predict_proba(X), first.predict_proba(X))


def test_clone_forgets_chunks_already_trained_on(keyword_texts):
    X, y = keyword_texts
    clf = RNNTextClassifier(**FAST).partial_fit(X[:40], y[:40], classes=CLASSES)
    assert not hasattr(clone(clf), "net_")


@pytest.mark.parametrize(
    ("params", "call", "message"),
    [
        ({}, {}, "classes must be given in the first call"),
        ({}, {"classes": ["neg"]}, "at least 2 classes"),
        ({}, {"classes": ["a", "b"]}, r"not in classes \['a', 'b'\]: \['neg', 'pos'\]"),
        ({"class_weight": "balanced"}, {"classes": CLASSES}, "compute_class_weight"),
        ({"class_weight": {"neg": 1, "other": 2}}, {"classes": CLASSES}, "other"),
    ],
)
def test_bad_first_calls_are_refused_before_training(params, call, message):
    X, y = keyword_data(20)
    clf = RNNTextClassifier(**FAST, **params)
    with pytest.raises(ValueError, match=message):
        clf.partial_fit(X, y, **call)
    assert not hasattr(clf, "net_")


def test_later_calls_must_keep_to_the_classes(keyword_texts):
    X, y = keyword_texts
    clf = RNNTextClassifier(**FAST).partial_fit(X[:40], y[:40], classes=CLASSES)
    with pytest.raises(ValueError, match="differs from the classes"):
        clf.partial_fit(X[:40], y[:40], classes=["neg", "pos", "other"])
    with pytest.raises(ValueError, match=r"not in classes.*\['other'\]"):
        clf.partial_fit(X[:2], ["neg", "other"])
    with pytest.raises(ValueError, match="different lengths"):
        clf.partial_fit(X[:3], y[:2])
    assert clf.n_epochs_ == 1


def test_a_vectorizer_fitted_on_a_generator_fixes_the_vocabulary(keyword_texts):
    X, y = keyword_texts
    vectorizer = TextVectorizer().fit(text for text in X)
    clf = RNNTextClassifier(**FAST, vocabulary=vectorizer)
    only_pos = [text for text, label in zip(X, y, strict=True) if label == "pos"]
    clf.partial_fit(only_pos[:20], ["pos"] * 20, classes=CLASSES)
    # "key0" never came in a chunk, but the vocabulary knows it
    assert clf.vectorizer_.vocabulary_ == vectorizer.vocabulary_
    assert clf.vectorizer_.vocabulary_["key0"] >= 2
    assert clf.vectorizer_ is not vectorizer


def test_fit_keeps_a_given_vocabulary_and_ignores_min_df(keyword_texts):
    X, y = keyword_texts
    tokens = ["key1", "key0", "w3"]
    clf = RNNTextClassifier(**FAST, vocabulary=tokens, min_df=50).fit(X, y)
    assert clf.vectorizer_.vocabulary_ == {"key1": 2, "key0": 3, "w3": 4}
    assert clf.n_tokens_ == 5
    assert clf.vocabulary == ["key1", "key0", "w3"]  # not modified
    assert clf.score(X, y) >= 0.9


def test_a_vectorizer_as_vocabulary_must_be_fitted_and_tokenize_alike(keyword_texts):
    X, y = keyword_texts
    with pytest.raises(NotFittedError, match="not fitted"):
        RNNTextClassifier(**FAST, vocabulary=TextVectorizer()).fit(X, y)
    other = TextVectorizer(lowercase=False, token_pattern=r"\S+").fit(X)
    with pytest.raises(ValueError, match=r"lowercase=False.*token_pattern="):
        RNNTextClassifier(**FAST, vocabulary=other).partial_fit(X, y, classes=CLASSES)


def test_weights_keep_their_scale_from_chunk_to_chunk(keyword_texts):
    # Each chunk's weights used to be rescaled to mean 1, so a chunk of one
    # class trained as if unweighted. Plain SGD shows the loss's scale.
    X, y = keyword_texts
    only_pos = [text for text, label in zip(X, y, strict=True) if label == "pos"]
    fits = {}
    for heavy in (1, 10):
        clf = RNNTextClassifier(
            **FAST, optimizer="sgd", class_weight={"pos": heavy, "neg": 1}
        )
        clf.partial_fit(X[:40], y[:40], classes=CLASSES)
        clf.partial_fit(only_pos[:20], ["pos"] * 20)
        fits[heavy] = clf.net_.module_.head.weight.detach()
    assert not np.allclose(fits[1], fits[10])


def test_partial_fit_after_a_cosine_fit_trains_at_the_initial_rate(keyword_texts):
    X, y = keyword_texts
    clf = RNNTextClassifier(**FAST, lr_schedule="cosine").fit(X, y)
    head = clf.net_.module_.head.weight.detach().clone()
    clf.partial_fit(X[:40], y[:40])
    assert clf.history_[-1]["lr"] == FAST["lr"]
    assert not np.array_equal(head, clf.net_.module_.head.weight.detach())


def test_clones_keep_a_fitted_vectorizer_as_vocabulary(keyword_texts):
    X, y = keyword_texts
    vectorizer = TextVectorizer().fit(X)
    clf = RNNTextClassifier(**FAST, vocabulary=vectorizer)
    assert clone(clf).vocabulary is vectorizer
    scores = cross_val_score(clf, X, y, cv=2)
    assert scores.min() >= 0.8


def test_the_id_classifier_trains_on_chunks_of_ids(keyword_texts, keyword_texts_test):
    X, y = keyword_texts
    X_test, y_test = keyword_texts_test
    vectorizer = TextVectorizer().fit(X + X_test)
    ids, test_ids = vectorizer.transform(X), vectorizer.transform(X_test)
    n_ids = len(vectorizer.vocabulary_) + 2
    embeddings = np.zeros((n_ids, FAST["embedding_dim"]))
    clf = RNNClassifier(**FAST, embeddings=embeddings)
    for _ in range(4):
        for start in range(0, len(ids), 30):
            chunk = slice(start, start + 30)
            clf.partial_fit(ids[chunk], y[chunk], classes=["neg", "pos"])
    assert clf.n_epochs_ == 16 and clf.n_tokens_ == n_ids
    assert clf.score(test_ids, y_test) >= 0.9
    # a fitted model trains further; the classes stay those it was fitted with
    fitted = RNNClassifier(**FAST).fit(ids, y)
    fitted.partial_fit(ids[:30], y[:30])
    assert fitted.n_epochs_ == FAST["max_epochs"] + 1
    with pytest.raises(ValueError, match="classes must be given in the first call"):
        RNNClassifier(**FAST).partial_fit(ids, y)
