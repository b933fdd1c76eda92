"""RNNTextClassifier and RNNClassifier wherever scikit-learn estimators go."""

import io
import pickle

import joblib
import numpy as np
import pytest
import torch
from helpers import FAST, keyword_data
from scipy.stats import loguniform, randint
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    StratifiedKFold,
    cross_val_score,
    cross_validate,
)
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_rnn import RNNClassifier, RNNTextClassifier, TextVectorizer

CV = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)


def strip_markup(texts):
    return [text.replace("<br />", " ") for text in texts]


def test_pipeline_after_a_preprocessing_step(keyword_texts, keyword_texts_test):
    X, y = keyword_texts
    X = [f"{text}<br />" for text in X]
    pipe = make_pipeline(
        FunctionTransformer(strip_markup),
        RNNTextClassifier(**{**FAST, "max_epochs": 12}),
    )
    pipe.fit(X, y)
    assert "<" not in pipe[-1].vectorizer_.vocabulary_
    assert pipe.score(*keyword_texts_test) >= 0.9


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_over_text_network_and_training_parameters(keyword_texts, n_jobs):
    X, y = keyword_texts
    grid = {
        "max_len": [2, 12],
        "max_features": [None, 20],
        "cell": ["gru", "lstm"],
        "hidden_size": [8],
        "bidirectional": [False, True],
        "lr": [0.05],
    }
    search = GridSearchCV(
        RNNTextClassifier(**{**FAST, "max_epochs": 6}), grid, cv=CV, n_jobs=n_jobs
    )
    search.fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    vocabulary = search.best_estimator_.vectorizer_.vocabulary_
    assert len(vocabulary) == (20 if search.best_params_["max_features"] else 32)
    assert len(scores) == 16
    # The keyword is never among a text's first two tokens.
    assert search.best_params_["max_len"] == 12
    assert search.best_score_ >= 0.85
    by_max_len = search.cv_results_["param_max_len"]
    assert scores[by_max_len == 2].max() < 0.8
    assert search.best_estimator_.max_len == 12


def test_randomized_search(keyword_texts):
    X, y = keyword_texts
    search = RandomizedSearchCV(
        RNNTextClassifier(**FAST),
        {"lr": loguniform(1e-3, 1e-1), "hidden_size": randint(4, 12)},
        n_iter=3,
        cv=CV,
        random_state=0,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 3
    assert 4 <= search.best_estimator_.hidden_size < 12


def test_cross_val_score_and_cross_validate(keyword_texts):
    X, y = keyword_texts
    clf = RNNTextClassifier(**{**FAST, "max_epochs": 10})
    scores = cross_val_score(clf, X, y, cv=CV)
    assert scores.shape == (2,) and scores.min() >= 0.8
    results = cross_validate(
        clf, X, y, cv=CV, scoring=["accuracy", "f1_macro", "neg_log_loss", "roc_auc"]
    )
    assert results["test_accuracy"].min() >= 0.8
    assert results["test_f1_macro"].min() >= 0.8
    assert np.all(results["test_neg_log_loss"] < 0)
    assert results["test_roc_auc"].min() >= 0.85


def test_clone_copies_parameters_not_fitted_state(keyword_texts):
    X, y = keyword_texts
    clf = RNNTextClassifier(**FAST, cell="gru", max_len=7).fit(X, y)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "net_") and not hasattr(copy, "vectorizer_")
    with pytest.raises(NotFittedError):
        copy.predict(X)


def test_set_params_then_refit(keyword_texts):
    X, y = keyword_texts
    clf = RNNTextClassifier(**FAST).fit(X, y)
    clf.set_params(hidden_size=6, cell="gru", max_len=3).fit(X, y)
    assert clf.net_.module_.layers[0][0].hidden_size == 6
    assert isinstance(clf.net_.module_.layers[0][0], torch.nn.GRU)
    assert clf.vectorizer_.transform(["w1 w2 w3 w4 w5"]).shape == (1, 3)


@pytest.mark.parametrize("library", ["pickle", "joblib"])
def test_round_trip_gives_identical_probabilities(keyword_texts, tmp_path, library):
    X, y = keyword_texts
    clf = RNNTextClassifier(**FAST, early_stopping=True).fit(X, y)
    path = tmp_path / "model.bin"
    if library == "pickle":
        path.write_bytes(pickle.dumps(clf))
        loaded = pickle.loads(path.read_bytes())
    else:
        joblib.dump(clf, path)
        loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.history_ == clf.history_


def test_pickle_does_not_carry_training_data(keyword_texts):
    X, y = keyword_texts
    small = RNNTextClassifier(**FAST, early_stopping=True).fit(X[:40], y[:40])
    large = RNNTextClassifier(**FAST, early_stopping=True)
    large.fit(X * 20, np.tile(y, 20))
    # Same vocabulary: apart from the per-batch loss history, the pickle must
    # not grow with the training set (no validation data, no weight copies).
    assert small.n_tokens_ == large.n_tokens_

    def size_without_history(clf):
        return len(pickle.dumps(clf)) - len(pickle.dumps(clf.net_.history))

    assert size_without_history(large) < 1.1 * size_without_history(small)


def test_pickle_holds_the_weights_and_optimizer_state_once(keyword_texts):
    X, y = keyword_texts
    # large enough for the weights to outweigh the vocabulary and the history
    clf = RNNTextClassifier(**{**FAST, "embedding_dim": 64, "hidden_size": 64})
    clf.fit(X, y)
    state = io.BytesIO()
    net = clf.net_
    torch.save([net.module_.state_dict(), net.optimizer_.state_dict()], state)
    assert len(pickle.dumps(clf)) < 1.2 * len(state.getvalue())
    # and a continued fit still follows its schedule
    clf.set_params(warm_start=True, max_epochs=2).fit(X, y)
    assert "lr" in clf.history_[-1]


# --- The id-level RNNClassifier in a Pipeline ---------------------------------


def id_pipeline(**rnn_params):
    return Pipeline(
        [("vec", TextVectorizer()), ("rnn", RNNClassifier(**{**FAST, **rnn_params}))]
    )


def test_pipeline_of_vectorizer_and_rnn_classifier(keyword_texts, keyword_texts_test):
    pipe = id_pipeline(max_epochs=12).fit(*keyword_texts)
    assert pipe.score(*keyword_texts_test) >= 0.9
    assert pipe["rnn"].n_tokens_ == len(pipe["vec"].vocabulary_) + 2


def test_grid_search_on_nested_parameters(keyword_texts):
    X, y = keyword_texts
    search = GridSearchCV(
        id_pipeline(max_epochs=6),
        {"vec__max_len": [2, 12], "rnn__hidden_size": [6], "rnn__lr": [0.05]},
        cv=CV,
    ).fit(X, y)
    assert search.best_params_["vec__max_len"] == 12
    assert search.best_estimator_["rnn"].net_.module_.layers[0][0].hidden_size == 6


def test_rnn_classifier_equals_rnn_text_classifier(keyword_texts):
    X, y = keyword_texts
    pipe = id_pipeline().fit(X, y)
    clf = RNNTextClassifier(**FAST).fit(X, y)
    # Equal up to float rounding: the text classifier's bag of words is summed
    # from sparse counts, the id classifier's from the ids (measured 3-8e-8
    # apart over nine seeds).
    np.testing.assert_allclose(pipe.predict_proba(X), clf.predict_proba(X), atol=1e-5)


def test_rnn_classifier_reads_ids_beyond_its_vocabulary_as_unknown():
    ids = np.array([[2, 3, 0], [4, 2, 3], [3, 0, 0], [4, 4, 0]] * 10)
    y = np.array([0, 1, 0, 1] * 10)
    clf = RNNClassifier(**FAST).fit(ids, y)
    assert clf.n_tokens_ == 5
    np.testing.assert_array_equal(
        clf.predict_proba([[99, 3, 0]]), clf.predict_proba([[1, 3, 0]])
    )
    np.testing.assert_array_equal(
        clf.predict_proba(ids.astype(float)), clf.predict_proba(ids)
    )


@pytest.mark.parametrize(
    ("X", "error", "message"),
    [
        (["some text", "more text"], TypeError, "RNNTextClassifier"),
        ([[2, 3], [1, -1]], ValueError, "negative"),
        ([[2, 0, 3], [1, 2, 0]], ValueError, "right-padded"),
        ([2, 3, 4], ValueError, "2-D"),
        ([[2.5, 1], [1, 2]], TypeError, "integer"),
        ([[2, 3], [1]], ValueError, "different lengths"),
    ],
)
def test_rnn_classifier_refuses_what_is_not_ids(X, error, message):
    with pytest.raises(error, match=message):
        RNNClassifier(**FAST).fit(X, [0, 1] if len(X) == 2 else [0, 1, 0])


# --- scikit-learn's own estimator checks --------------------------------------

SMALL = {"embedding_dim": 4, "hidden_size": 4, "max_epochs": 2, "random_state": 0}

# RNNClassifier reads token ids: non-negative integers, right-padded with 0.
# scikit-learn's generic checks feed it real-valued features (random normal
# floats), which it refuses with a clear TypeError, so every check built on such
# data fails by design. What those checks verify is tested on ids and on text
# in this file and in test_classifier.py.
_REAL_VALUED_FEATURES = "feeds real-valued features; RNNClassifier reads token ids"
RNN_CLASSIFIER_EXPECTED_FAILURES = {
    name: _REAL_VALUED_FEATURES
    for name in [
        "check_fit_score_takes_y",
        "check_estimators_overwrite_params",
        "check_dont_overwrite_parameters",
        "check_estimators_fit_returns_self",
        "check_readonly_memmap_input",
        "check_n_features_in_after_fitting",
        "check_positive_only_tag_during_fit",
        "check_estimators_dtypes",
        "check_sample_weights_list",
        "check_all_zero_sample_weights_error",
        "check_sample_weight_equivalence_on_dense_data",
        "check_complex_data",
        "check_dtype_object",
        "check_pipeline_consistency",
        "check_estimators_nan_inf",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_classifier_data_not_an_array",
        "check_classifiers_one_label",
        "check_classifiers_one_label_sample_weights",
        "check_classifiers_classes",
        "check_classifiers_train",
        "check_classifiers_regression_target",
        "check_supervised_y_no_nan",
        "check_supervised_y_2d",
        "check_class_weight_classifiers",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_fit2d_1sample",
        "check_fit2d_1feature",
        "check_dict_unchanged",
        "check_fit_idempotent",
        "check_fit_check_is_fitted",
        "check_n_features_in",
        "check_fit2d_predict1d",
        "check_requires_y_none",
        "check_estimators_partial_fit_n_features",
        "check_decision_proba_consistency",
    ]
}


def expected_failed_checks(estimator):
    if isinstance(estimator, RNNClassifier):
        return RNN_CLASSIFIER_EXPECTED_FAILURES
    return {}


@parametrize_with_checks(
    [
        RNNTextClassifier(**SMALL),
        TextVectorizer(),
        RNNClassifier(**SMALL),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_scikit_learn_checks(estimator, check):
    check(estimator)


# The API checks that need no fitting, which parametrize_with_checks skips for
# string input; called directly on all three estimators.
API_CHECKS = [
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_repr",
    "check_estimator_cloneable",
    "check_estimator_tags_renamed",
    "check_mixin_order",
    "check_do_not_raise_errors_in_init_or_set_params",
]


@pytest.mark.parametrize("check_name", API_CHECKS)
@pytest.mark.parametrize(
    "estimator",
    [RNNTextClassifier(), RNNClassifier(), TextVectorizer()],
    ids=lambda estimator: type(estimator).__name__,
)
def test_api_checks_that_need_no_fitting(estimator, check_name):
    getattr(estimator_checks, check_name)(type(estimator).__name__, estimator)


def test_tags_declare_text_input():
    for estimator in [RNNTextClassifier(), TextVectorizer()]:
        tags = estimator.__sklearn_tags__()
        assert tags.input_tags.string and not tags.input_tags.two_d_array
    tags = RNNClassifier().__sklearn_tags__()
    assert tags.input_tags.two_d_array and not tags.input_tags.string
    assert RNNTextClassifier().__sklearn_tags__().estimator_type == "classifier"


# --- Fit contracts the generic checks cannot run on text ----------------------


def test_refitting_is_idempotent(keyword_texts):
    X, y = keyword_texts
    clf = RNNTextClassifier(**FAST)
    first = clf.fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(clf.fit(X, y).predict_proba(X), first)


def test_predictions_do_not_depend_on_sample_order_or_company(keyword_texts):
    X, y = keyword_texts
    clf = RNNTextClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X)
    order = np.random.RandomState(0).permutation(len(X))
    shuffled = clf.predict_proba([X[i] for i in order])
    np.testing.assert_allclose(shuffled, proba[order], atol=1e-6)
    for i in [0, 7, 50]:
        np.testing.assert_allclose(clf.predict_proba([X[i]])[0], proba[i], atol=1e-6)
    subset = clf.predict_proba(X[10:30])
    np.testing.assert_allclose(subset, proba[10:30], atol=1e-6)


def test_large_prediction_batches_keep_the_callers_order():
    X, y = keyword_data(700, seed=3)
    clf = RNNTextClassifier(**FAST).fit(X[:100], y[:100])
    proba = clf.predict_proba(X)
    for i in [0, 255, 511, 512, 699]:
        np.testing.assert_allclose(clf.predict_proba([X[i]])[0], proba[i], atol=1e-6)


def id_data():
    ids = np.array([[2, 3, 0], [4, 2, 3], [3, 0, 0], [4, 4, 0]] * 10)
    return ids, np.array(["a", "b", "a", "b"] * 10)


def test_rnn_classifier_contracts():
    ids, y = id_data()
    clf = RNNClassifier(**FAST)
    with pytest.raises(NotFittedError):
        clf.predict(ids)
    assert clf.fit(ids, y) is clf
    proba = clf.predict_proba(ids)
    np.testing.assert_array_equal(clf.fit(ids, y).predict_proba(ids), proba)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(clf)).predict_proba(ids), proba
    )
    with pytest.raises(ValueError, match="class"):
        RNNClassifier(**FAST).fit(ids, ["a"] * len(ids))
    with pytest.raises(ValueError, match="Unknown label type"):
        RNNClassifier(**FAST).fit(ids, np.linspace(0, 1, len(ids)))


def test_rnn_classifier_warm_start_reads_new_ids_as_unknown():
    ids, y = id_data()
    clf = RNNClassifier(**FAST, warm_start=True).fit(ids, y)
    larger = np.where(ids == 4, 40, ids)
    clf.fit(larger, y)
    assert clf.n_tokens_ == 5 and clf.n_epochs_ == 2 * FAST["max_epochs"]


def test_the_fitted_skorch_net_predicts_on_ids_by_itself():
    ids, y = id_data()
    clf = RNNClassifier(**FAST).fit(ids, y)
    np.testing.assert_allclose(
        clf.net_.predict_proba(ids), clf.predict_proba(ids), atol=1e-6
    )


def test_several_labels_per_text_with_one_classifier_per_column():
    # what the error for an indicator matrix suggests
    X, y = keyword_data(80, seed=6)
    labels = np.column_stack([y == "pos", y == "neg"]).astype(int)
    model = MultiOutputClassifier(RNNTextClassifier(**FAST)).fit(X, labels)
    assert model.predict(X).shape == (80, 2)
    assert (model.predict(X) == labels).mean() > 0.9
