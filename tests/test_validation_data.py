"""fit(X, y, validation_data=(X_val, y_val)): the user's own validation set
for early stopping, through pipelines and searches the scikit-learn way."""

import copy
import re

import joblib
import numpy as np
import pytest
import sklearn
from helpers import FAST, keyword_data
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.class_weight import compute_sample_weight

from sklearn_rnn import (
    RNNClassifier,
    RNNTextClassifier,
    TextVectorizer,
    load_model,
    save_model,
)

SETTINGS = {**FAST, "max_epochs": 4}


@pytest.fixture(scope="module")
def validation():
    return keyword_data(40, seed=7)


def test_validation_data_drives_early_stopping(keyword_texts, validation):
    X, y = keyword_texts
    X_val, y_val = validation
    clf = RNNTextClassifier(**SETTINGS).fit(X, y, validation_data=validation)
    # on by default with validation_data, though 120 texts are too few for
    # early_stopping="auto" to hold some out
    assert clf.best_epoch_ is not None
    losses = [row["valid_loss"] for row in clf.history_]
    assert clf.best_epoch_ == 1 + int(np.argmin(losses))
    # the recorded loss is that of the kept weights on exactly these texts
    kept = log_loss(y_val, clf.predict_proba(X_val), labels=clf.classes_)
    np.testing.assert_allclose(losses[clf.best_epoch_ - 1], kept, rtol=1e-4)
    accuracy = clf.history_[clf.best_epoch_ - 1]["valid_acc"]
    np.testing.assert_allclose(accuracy, clf.score(X_val, y_val))


def test_validation_data_never_trains_and_holds_nothing_out(keyword_texts, validation):
    """Without early stopping the model is the one trained on all of X: the
    validation texts add neither training steps nor vocabulary."""
    X, y = keyword_texts
    settings = {**SETTINGS, "early_stopping": False}
    plain = RNNTextClassifier(**settings).fit(X, y)
    watched = RNNTextClassifier(**settings).fit(X, y, validation_data=validation)
    assert watched.vectorizer_.vocabulary_ == plain.vectorizer_.vocabulary_
    np.testing.assert_array_equal(watched.predict_proba(X), plain.predict_proba(X))
    assert watched.best_epoch_ is None
    assert len(watched.history_) == SETTINGS["max_epochs"]
    assert all("valid_loss" in row for row in watched.history_)
    assert not any("valid_loss" in row for row in plain.history_)


def test_validation_fraction_is_not_held_out_with_validation_data(
    keyword_texts, validation, capsys
):
    X, y = keyword_texts
    RNNTextClassifier(**SETTINGS, early_stopping=True, verbose=1).fit(
        X, y, validation_data=validation
    )
    first_line = capsys.readouterr().out.splitlines()[0]
    assert first_line == (
        "Early stopping is on, judged on the 40 validation texts given: training "
        f"on all {len(X)} texts."
    )


def test_the_validation_loss_is_weighted_by_class_weight(keyword_texts, validation):
    X, y = keyword_texts
    X_val, y_val = validation
    clf = RNNTextClassifier(**SETTINGS, class_weight="balanced")
    clf.fit(X, y, validation_data=validation)
    weights = compute_sample_weight("balanced", y_val)
    expected = log_loss(y_val, clf.predict_proba(X_val), sample_weight=weights)
    recorded = clf.history_[clf.best_epoch_ - 1]["valid_loss"]
    np.testing.assert_allclose(recorded, expected, rtol=1e-4)


def test_validation_ids_are_read_in_the_training_id_space(keyword_texts, validation):
    X, y = keyword_texts
    vectorizer = TextVectorizer().fit(X)
    ids, ids_val = vectorizer.transform(X), vectorizer.transform(validation[0])
    beyond = ids_val.copy()
    beyond[beyond > 1] += 10_000  # ids no training text has
    before = beyond.copy()
    clf = RNNClassifier(**SETTINGS).fit(ids, y, validation_data=(beyond, validation[1]))
    np.testing.assert_array_equal(beyond, before)
    # read as the unknown token, as predict reads them
    loss = log_loss(validation[1], clf.predict_proba(beyond), labels=clf.classes_)
    recorded = clf.history_[clf.best_epoch_ - 1]["valid_loss"]
    np.testing.assert_allclose(recorded, loss, rtol=1e-4)


@pytest.mark.parametrize(
    ("validation_data", "error", "message"),
    [
        (["a text"] * 3, TypeError, "a pair (X_val, y_val)"),
        (
            5,
            TypeError,
            "a pair (X_val, y_val) of validation texts and their labels; got a int.",
        ),
        ((["a text"],), TypeError, "got a tuple of 1 item."),
        ((["a", "b"], ["neg"]), ValueError, "2 samples in X_val and 1 in y_val"),
        ((["a", "b"], ["neg", "spam"]), ValueError, "not among the classes"),
        ((["a", "b"], [0, 1]), ValueError, "not among the classes"),
        (("one text", ["neg"]), TypeError, "validation_data: X_val"),
        (
            (["a", None], ["neg", "pos"]),
            ValueError,
            "validation_data: X_val[1] is None",
        ),
    ],
)
def test_bad_validation_data_is_refused_by_name(
    keyword_texts, validation_data, error, message
):
    X, y = keyword_texts
    clf = RNNTextClassifier(**SETTINGS)
    with pytest.raises(error, match=re.escape(message)):
        clf.fit(X, y, validation_data=validation_data)
    assert not hasattr(clf, "net_")


def test_validation_texts_in_a_pipeline_of_ids_say_they_are_not_transformed(
    keyword_texts, validation
):
    X, y = keyword_texts
    pipeline = make_pipeline(TextVectorizer(), RNNClassifier(**SETTINGS))
    with pytest.raises(TypeError, match="not transformed by the steps before it"):
        pipeline.fit(X, y, rnnclassifier__validation_data=validation)


def test_validation_data_is_left_as_given(keyword_texts, validation):
    X, y = keyword_texts
    X_val, y_val = list(validation[0]), validation[1].copy()
    given = (X_val, y_val)
    before = copy.deepcopy(given)
    RNNTextClassifier(**SETTINGS).fit(X, y, validation_data=given)
    assert given[0] == before[0]
    np.testing.assert_array_equal(given[1], before[1])


def test_partial_fit_records_the_validation_loss_of_each_call(
    keyword_texts, validation
):
    X, y = keyword_texts
    clf = RNNTextClassifier(**SETTINGS)
    clf.partial_fit(X[:60], y[:60], classes=["neg", "pos"], validation_data=validation)
    clf.partial_fit(X[60:], y[60:], validation_data=validation)
    # measured after the call's epoch: the model as it is now
    now = log_loss(validation[1], clf.predict_proba(validation[0]))
    np.testing.assert_allclose(clf.history_[-1]["valid_loss"], now, rtol=1e-4)
    clf.partial_fit(X[:60], y[:60])
    assert ["valid_loss" in row for row in clf.history_] == [True, True, False]
    assert clf.best_epoch_ is None


def test_warm_start_continues_with_validation_data(keyword_texts, validation):
    X, y = keyword_texts
    clf = RNNTextClassifier(**SETTINGS, warm_start=True).fit(X, y)
    clf.fit(X, y, validation_data=validation)
    assert "valid_loss" not in clf.history_[0]
    assert "valid_loss" in clf.history_[-1]
    assert clf.best_epoch_ > SETTINGS["max_epochs"]


def test_routed_through_a_search_to_every_fit(keyword_texts, validation):
    X, y = keyword_texts
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = RNNTextClassifier(**SETTINGS).set_fit_request(validation_data=True)
        search = GridSearchCV(estimator, {"hidden_size": [4, 8]}, cv=2)
        search.fit(X, y, validation_data=validation)
        results = cross_validate(
            estimator,
            X,
            y,
            cv=2,
            params={"validation_data": validation},
            return_estimator=True,
        )
    # 60 training texts per fold: early stopping is on only because the
    # validation data reached each fit
    assert search.best_estimator_.best_epoch_ is not None
    for fitted in results["estimator"]:
        kept = fitted.history_[fitted.best_epoch_ - 1]["valid_loss"]
        on_given = log_loss(validation[1], fitted.predict_proba(validation[0]))
        np.testing.assert_allclose(kept, on_given, rtol=1e-4)


def test_a_pipeline_passes_it_to_its_last_step(keyword_texts, validation):
    X, y = keyword_texts
    pipeline = make_pipeline(
        FunctionTransformer(lambda texts: [text.upper() for text in texts]),
        RNNTextClassifier(**SETTINGS, lowercase=False),
    )
    pipeline.fit(X, y, rnntextclassifier__validation_data=validation)
    # given as is: the upper-cased training vocabulary knows none of its words
    clf = pipeline[-1]
    assert clf.best_epoch_ is not None
    assert "key0" not in clf.vectorizer_.vocabulary_


def test_a_model_fitted_with_validation_data_saves_and_loads(
    keyword_texts, validation, tmp_path
):
    X, y = keyword_texts
    clf = RNNTextClassifier(**SETTINGS, early_stopping=False)
    clf.fit(X, y, validation_data=validation)
    save_model(clf, tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors")
    assert loaded.history_ == clf.history_
    joblib.dump(clf, tmp_path / "m.joblib")
    unpickled = joblib.load(tmp_path / "m.joblib")
    np.testing.assert_array_equal(unpickled.predict_proba(X), clf.predict_proba(X))
