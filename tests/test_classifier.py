import copy
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import FAST, keyword_data
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfTransformer
from skorch.exceptions import DeviceWarning

from sklearn_rnn import RNNClassifier, RNNTextClassifier, TextVectorizer
from sklearn_rnn._net import RNNNet
from sklearn_rnn.datasets import load_sms_spam
from sklearn_rnn.modules import RNNModule
from sklearn_rnn.text import UNKNOWN_ID


def fitted(X, y, **params):
    return RNNTextClassifier(**{**FAST, **params}).fit(X, y)


def test_fit_returns_self_and_sets_fitted_attributes(keyword_texts):
    X, y = keyword_texts
    clf = RNNTextClassifier(**FAST)
    assert clf.fit(X, y) is clf
    assert clf.classes_.tolist() == ["neg", "pos"]
    assert clf.n_tokens_ == len(clf.vectorizer_.vocabulary_) + 2
    assert clf.n_epochs_ == FAST["max_epochs"] == len(clf.history_)
    assert [row["epoch"] for row in clf.history_] == [1, 2, 3, 4]
    assert all("train_loss" in row and "valid_loss" not in row for row in clf.history_)
    assert clf.best_epoch_ is None
    assert clf.net_.module_.layers[0][0].hidden_size == FAST["hidden_size"]


def test_learns_a_keyword_task(keyword_texts, keyword_texts_test):
    clf = fitted(*keyword_texts, max_epochs=12)
    assert clf.score(*keyword_texts_test) >= 0.9
    assert clf.history_[-1]["train_loss"] < clf.history_[0]["train_loss"]


@pytest.mark.parametrize(
    "classes",
    [("neg", "pos"), (3, 7), (False, True), ("a", "b", "c"), (-1, 0, 10, 20)],
    ids=["str", "int", "bool", "three-str", "four-int"],
)
def test_labels_come_back_in_their_own_type(classes):
    X, y_index = keyword_data(80, seed=2, classes=range(len(classes)))
    y = [classes[i] for i in y_index]
    clf = fitted(X, y)
    predicted = clf.predict(X)
    assert clf.classes_.tolist() == sorted(classes)
    assert set(predicted.tolist()) <= set(classes)
    assert type(predicted.tolist()[0]) is type(classes[0])
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), len(classes))
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(predicted, clf.classes_[proba.argmax(axis=1)])


@pytest.mark.parametrize(
    "wrap",
    [
        list,
        tuple,
        lambda X: np.array(X, dtype=object),
        lambda X: np.array(X, dtype=object).reshape(-1, 1),
        pd.Series,
        lambda X: pd.DataFrame({"text": X}),
    ],
    ids=["list", "tuple", "object-array", "column-array", "series", "dataframe"],
)
def test_every_input_kind_gives_the_same_model(keyword_texts, wrap):
    X, y = keyword_texts
    reference = fitted(X, y)
    clf = fitted(wrap(X), pd.Series(y) if wrap is pd.Series else y)
    np.testing.assert_array_equal(
        clf.predict_proba(wrap(X)), reference.predict_proba(X)
    )


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
def test_unfitted_model_raises_not_fitted(method, keyword_texts):
    X, y = keyword_texts
    args = (X, y) if method == "score" else (X,)
    with pytest.raises(NotFittedError):
        getattr(RNNTextClassifier(), method)(*args)


def test_same_random_state_gives_identical_predictions(keyword_texts):
    X, y = keyword_texts
    first = fitted(X, y, random_state=3).predict_proba(X)
    second = fitted(X, y, random_state=3).predict_proba(X)
    other = fitted(X, y, random_state=4).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, other)


def test_fit_leaves_global_random_generators_alone(keyword_texts):
    X, y = keyword_texts
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()  # noqa: NPY002 (the global one)
    fitted(X, y, random_state=0)
    fitted(X, y, random_state=None)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()  # noqa: NPY002
    assert after[0] == numpy_state[0]
    np.testing.assert_array_equal(after[1], numpy_state[1])
    assert after[2:] == numpy_state[2:]


def test_two_instances_do_not_disturb_each_other(keyword_texts):
    X, y = keyword_texts
    alone = fitted(X, y).predict_proba(X)
    first = fitted(X, y)
    other = fitted(X, y, cell="gru", hidden_size=5, random_state=9)
    again = fitted(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), alone)
    np.testing.assert_array_equal(again.predict_proba(X), alone)
    other_proba = other.predict_proba(X)
    np.testing.assert_array_equal(fitted(X, y).predict_proba(X), alone)
    np.testing.assert_array_equal(other.predict_proba(X), other_proba)


def test_fit_does_not_modify_its_inputs(keyword_texts):
    X, y = keyword_texts
    X_list, y_array = list(X), np.array(y)
    weights = np.linspace(0.5, 2, len(X))
    X_before, y_before, w_before = copy.deepcopy((X_list, y_array, weights))
    clf = RNNTextClassifier(**FAST)
    params_before = clf.get_params()
    clf.fit(X_list, y_array, sample_weight=weights)
    clf.predict(X_list)
    assert X_list == X_before
    np.testing.assert_array_equal(y_array, y_before)
    np.testing.assert_array_equal(weights, w_before)
    assert clf.get_params() == params_before


def test_equal_sample_weights_change_nothing(keyword_texts):
    X, y = keyword_texts
    unweighted = fitted(X, y).predict_proba(X)
    weighted = fitted(X, y, max_epochs=4).fit(X, y, sample_weight=np.full(len(y), 3.0))
    np.testing.assert_allclose(weighted.predict_proba(X), unweighted, atol=1e-6)


def test_class_weight_equals_the_matching_sample_weight(keyword_texts):
    X, y = keyword_texts
    by_class = fitted(X, y, class_weight={"pos": 3.0, "neg": 1.0})
    by_sample = fitted(X, y).fit(X, y, sample_weight=np.where(y == "pos", 3.0, 1.0))
    np.testing.assert_allclose(
        by_class.predict_proba(X), by_sample.predict_proba(X), atol=1e-6
    )
    assert not np.allclose(by_class.predict_proba(X), fitted(X, y).predict_proba(X))


def test_sample_weight_pulls_predictions_towards_heavy_samples(keyword_texts):
    X, y = keyword_texts
    heavy_pos = np.where(y == "pos", 20.0, 1.0)
    heavy_neg = np.where(y == "neg", 20.0, 1.0)
    params = {"max_epochs": 2, "lr": 0.005}
    share_pos = fitted(X, y, **params).fit(X, y, sample_weight=heavy_pos)
    share_neg = fitted(X, y, **params).fit(X, y, sample_weight=heavy_neg)
    pos_column = list(share_pos.classes_).index("pos")
    assert (
        share_pos.predict_proba(X)[:, pos_column].mean()
        > share_neg.predict_proba(X)[:, pos_column].mean() + 0.1
    )


@pytest.mark.parametrize("weighting", ["class_weight", "sample_weight"])
def test_weighting_the_minority_raises_its_recall(weighting):
    X, y = keyword_data(200, seed=5)
    keep = (y == "neg") | (np.arange(len(y)) % 8 == 0)
    X = [text for text, kept in zip(X, keep, strict=True) if kept]
    y = y[keep]
    minority = y == "pos"
    params = {**FAST, "max_epochs": 3, "lr": 0.005}
    plain = RNNTextClassifier(**params).fit(X, y)
    if weighting == "class_weight":
        weighted = RNNTextClassifier(**params, class_weight="balanced").fit(X, y)
    else:
        weights = np.where(minority, 8.0, 1.0)
        weighted = RNNTextClassifier(**params).fit(X, y, sample_weight=weights)
    recall_plain = np.mean(plain.predict(X)[minority] == "pos")
    recall_weighted = np.mean(weighted.predict(X)[minority] == "pos")
    assert recall_weighted > recall_plain


@pytest.mark.parametrize("weighting", ["class_weight", "sample_weight"])
def test_weights_raise_spam_recall_on_real_sms_data(weighting):
    # 13% of the bundled SMS messages are spam. After one short epoch, the
    # unweighted loss is served best by calling everything ham. (With the
    # bag of words, one epoch already finds most spam: recall 0.86.)
    X, y = load_sms_spam(subset="train", return_X_y=True)
    X_test, y_test = load_sms_spam(subset="test", return_X_y=True)
    params = {
        **FAST,
        "embedding_dim": 16,
        "max_epochs": 1,
        "batch_size": 64,
        "lr": 0.003,
        "max_len": 32,
        "early_stopping": False,
        "bag_of_words": False,
    }
    plain = RNNTextClassifier(**params).fit(X, y)
    if weighting == "class_weight":
        weighted = RNNTextClassifier(**params, class_weight="balanced").fit(X, y)
    else:
        spam_heavy = np.where(np.asarray(y) == "spam", 6.0, 1.0)
        weighted = RNNTextClassifier(**params).fit(X, y, sample_weight=spam_heavy)
    # Judged on the spam probability itself rather than on recall, a threshold
    # at 0.5 on a cluster of probabilities that sits near 0.5 after one epoch:
    # over seeds 0-9 the plain model gives test spam 0.12-0.19 on average, the
    # weighted ones 0.48-0.59.
    spam = np.asarray(y_test) == "spam"
    column = list(plain.classes_).index("spam")
    plain_spam = plain.predict_proba(X_test)[spam, column].mean()
    weighted_spam = weighted.predict_proba(X_test)[spam, column].mean()
    assert weighted_spam > plain_spam + 0.2


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.ones(5), r"shape \(120,\)"),
        (-np.ones(120), "non-negative"),
        (np.full(120, np.nan), "finite"),
        (np.zeros(120), "sums to 0"),
    ],
)
def test_bad_sample_weight_is_refused(keyword_texts, weights, message):
    X, y = keyword_texts
    with pytest.raises(ValueError, match=message):
        RNNTextClassifier(**FAST).fit(X, y, sample_weight=weights)


def test_early_stopping_keeps_the_best_epoch(keyword_texts):
    X, y = keyword_texts
    # With a third of the labels flipped and a high learning rate, the
    # validation loss soon rises as the network learns the noise.
    flip = np.random.RandomState(0).rand(len(y)) < 0.33
    y = np.where(flip, np.where(y == "pos", "neg", "pos"), y)
    params = {"early_stopping": True, "lr": 0.1, "max_epochs": 40, "hidden_size": 32}
    stopped = fitted(X, y, n_iter_no_change=2, **params)
    losses = [row["valid_loss"] for row in stopped.history_]
    best_epoch = int(np.argmin(losses)) + 1
    # skorch counts an improvement only beyond 1e-4 relative: check that no
    # later epoch came that close to the best, so the two rules agree
    later = losses[best_epoch:]
    assert all(loss > losses[best_epoch - 1] * (1 + 1e-3) for loss in later)
    assert stopped.n_epochs_ < 40
    assert stopped.n_epochs_ == best_epoch + 2
    assert stopped.best_epoch_ == best_epoch
    assert all("valid_acc" in row for row in stopped.history_)
    # The same seed and split trained for exactly best_epoch epochs must be
    # the model that early stopping restored.
    params["max_epochs"] = best_epoch
    reference = fitted(X, y, n_iter_no_change=100, **params)
    np.testing.assert_array_equal(stopped.predict_proba(X), reference.predict_proba(X))


@pytest.mark.parametrize(("n_samples", "expected"), [(999, False), (1000, True)])
def test_auto_early_stopping_needs_a_thousand_samples(n_samples, expected):
    X, y = keyword_data(n_samples, seed=2)
    clf = fitted(X, y, max_epochs=1, batch_size=64)
    assert ("valid_loss" in clf.history_[0]) == expected
    assert (clf.best_epoch_ is not None) == expected


def test_auto_early_stopping_steps_aside_when_a_class_is_too_rare():
    X, y = keyword_data(1000, seed=2)
    y = y.astype(object)
    y[0] = "rare"
    clf = fitted(X, y, max_epochs=1, batch_size=64)
    assert clf.best_epoch_ is None
    assert "valid_loss" not in clf.history_[0]
    with pytest.raises(ValueError, match="stratified validation split"):
        fitted(X, y, max_epochs=1, early_stopping=True)


def test_a_continued_cosine_schedule_starts_again_from_the_first_rate(
    keyword_texts,
):
    X, y = keyword_texts
    clf = fitted(X, y, lr=0.01, max_epochs=4, lr_schedule="cosine", warm_start=True)
    first = [row["lr"] for row in clf.history_]
    clf.fit(X, y)
    np.testing.assert_allclose([row["lr"] for row in clf.history_[4:]], first)


def plateau_rates(X, y, **params):
    """Each epoch's rate under the plateau schedule, in a fit whose loss barely
    moves (a tiny rate, no dropout): every epoch after the first is on a
    plateau, also by early stopping's margin."""
    clf = fitted(
        X,
        y,
        lr=1e-6,
        dropout=0,
        embedding_dropout=0,
        bag_of_words=False,
        lr_schedule="plateau",
        **params,
    )
    return [row["lr"] for row in clf.history_]


def test_plateau_schedule_halves_the_rate_when_the_loss_stalls(keyword_texts):
    rates = plateau_rates(*keyword_texts, max_epochs=6)
    assert rates[:3] == [1e-6] * 3
    assert rates[-1] < rates[0]
    steps = {round(b / a, 6) for a, b in zip(rates[:-1], rates[1:], strict=True)}
    assert steps <= {1.0, 0.5}


@pytest.mark.parametrize("n_iter_no_change", [2, 3])
def test_plateau_halves_the_rate_before_early_stopping_ends(
    keyword_texts, n_iter_no_change
):
    # The rate halves after n_iter_no_change - 1 epochs without progress, and
    # the last epoch runs at the lower rate before early stopping ends.
    rates = plateau_rates(
        *keyword_texts,
        max_epochs=8,
        early_stopping=True,
        n_iter_no_change=n_iter_no_change,
    )
    assert rates == [1e-6] * n_iter_no_change + [5e-7]


def test_cosine_schedule_anneals_over_max_epochs(keyword_texts):
    X, y = keyword_texts
    clf = fitted(X, y, lr=0.01, max_epochs=4, lr_schedule="cosine")
    expected = [0.01 * (1 + np.cos(np.pi * epoch / 4)) / 2 for epoch in range(4)]
    np.testing.assert_allclose([row["lr"] for row in clf.history_], expected)


def test_constant_schedule_keeps_the_rate(keyword_texts):
    X, y = keyword_texts
    clf = fitted(X, y, lr_schedule="constant")
    assert clf.net_.optimizer_.param_groups[0]["lr"] == FAST["lr"]
    assert "lr" not in clf.history_[0]


def test_attention_weights_single_out_the_keyword():
    X, y = keyword_data(300, seed=4)
    clf = fitted(X, y, pooling="attention", max_epochs=8, hidden_size=16)
    texts = ["w1 w2 w3 key0 w4 w5", "w7 w8 key1 w9", "", "w1 unseen"]
    tokens, weights = clf.attention_weights(texts)
    assert tokens[:2] == [
        ["w1", "w2", "w3", "key0", "w4", "w5"],
        ["w7", "w8", "key1", "w9"],
    ]
    assert tokens[2] == ["<unk>"] and tokens[3] == ["w1", "unseen"]
    for text_tokens, text_weights in zip(tokens, weights, strict=True):
        assert text_weights.shape == (len(text_tokens),)
        assert text_weights.sum() == pytest.approx(1, abs=1e-5)
    assert np.argmax(weights[0]) == 3
    assert np.argmax(weights[1]) == 2


def test_attention_weights_need_a_model_with_attention(keyword_texts):
    X, y = keyword_texts
    with pytest.raises(ValueError, match="pooling='attention'"):
        fitted(X, y).attention_weights(X[:2])
    with pytest.raises(NotFittedError):
        RNNTextClassifier(pooling="attention").attention_weights(X[:2])


def test_attention_weights_follow_the_fitted_model_not_set_params(keyword_texts):
    X, y = keyword_texts
    clf = fitted(X, y, pooling="attention").set_params(pooling="max")
    tokens, weights = clf.attention_weights(X[:2])
    assert len(weights) == 2
    clf = fitted(X, y).set_params(pooling="attention")
    with pytest.raises(ValueError, match="pools with 'max'"):
        clf.attention_weights(X[:2])


def test_attention_weights_respect_max_len(keyword_texts):
    X, y = keyword_texts
    clf = fitted(X, y, pooling="attention", max_len=3, truncation="pre")
    tokens, weights = clf.attention_weights(["a b c d e"])
    assert tokens == [["c", "d", "e"]]
    assert weights[0].shape == (3,)


def test_early_stopping_refuses_a_split_without_every_class():
    X, y = keyword_data(12, seed=0)
    with pytest.raises(ValueError, match="validation_fraction"):
        fitted(X, y, early_stopping=True, validation_fraction=0.05)


def test_warm_start_continues_training(keyword_texts):
    X, y = keyword_texts
    clf = fitted(X, y, warm_start=True, max_epochs=2)
    vectorizer, proba = clf.vectorizer_, clf.predict_proba(X)
    clf.fit(X, y)
    assert clf.n_epochs_ == 4
    assert [row["epoch"] for row in clf.history_] == [1, 2, 3, 4]
    assert clf.vectorizer_ is vectorizer
    assert not np.allclose(clf.predict_proba(X), proba)
    with pytest.raises(ValueError, match="new labels"):
        clf.fit(X, np.where(y == "pos", "other", y))


def test_without_warm_start_fit_starts_over(keyword_texts):
    X, y = keyword_texts
    clf = fitted(X, y)
    first = clf.predict_proba(X)
    clf.fit(X, y)
    assert clf.n_epochs_ == FAST["max_epochs"]
    np.testing.assert_array_equal(clf.predict_proba(X), first)


def test_verbose_levels_print_nothing_epochs_then_progress_bars(keyword_texts, capsys):
    X, y = keyword_texts
    fitted(X, y, early_stopping=True)
    assert capsys.readouterr() == ("", "")

    clf = fitted(X, y, verbose=1, early_stopping=True)
    out, err = capsys.readouterr()
    for column in ("train_loss", "valid_loss", "valid_acc", "dur"):
        assert column in out
    first = f"1/{FAST['max_epochs']}"
    epoch_lines = [line for line in out.splitlines() if line.split()[:1] == [first]]
    assert len(epoch_lines) == 1 and clf.n_epochs_ > 1
    assert err == ""

    clf = fitted(X, y, verbose=2, early_stopping=True)
    out, err = capsys.readouterr()
    assert "train_loss" in out
    # a bar per epoch, over its training and validation batches
    n_batches = len(clf.net_.history[0, "batches"])
    assert err.count(f"| 0/{n_batches} [") == clf.n_epochs_


def test_fit_writes_no_files(keyword_texts, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = keyword_texts
    fitted(X, y, early_stopping=True).predict(X)
    assert list(tmp_path.iterdir()) == []


def test_auto_device_is_cpu_without_cuda(keyword_texts):
    X, y = keyword_texts
    clf = fitted(X, y, device="auto")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert clf.net_.device == expected
    assert clf.get_params()["device"] == "auto"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_a_clear_error(keyword_texts):
    X, y = keyword_texts
    with pytest.raises(ValueError, match="CUDA is not available"):
        fitted(X, y, device="cuda")


def test_unknown_device_is_a_clear_error(keyword_texts):
    X, y = keyword_texts
    with pytest.raises(ValueError, match="device"):
        fitted(X, y, device="tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_model_fitted_with_gpu_settings_loads_on_the_cpu(keyword_texts):
    X, y = keyword_texts
    clf = fitted(X, y)
    proba = clf.predict_proba(X)
    # What skorch records for a model trained on a GPU; its tensors are saved
    # the way a CUDA model's are, and must come back on the CPU here.
    clf.net_.device = "cuda"
    payload = pickle.dumps(clf)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = pickle.loads(payload)
    assert any(issubclass(w.category, DeviceWarning) for w in caught)
    assert torch.device(loaded.net_.device).type == "cpu"
    assert next(loaded.net_.module_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), proba)


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("hidden_size", 0),
        ("hidden_size", 2.5),
        ("embedding_dim", -1),
        ("num_layers", 0),
        ("cell", "transformer"),
        ("pooling", "sum"),
        ("optimizer", "adagrad"),
        ("dropout", 1.0),
        ("lr", 0),
        ("batch_size", 0),
        ("max_epochs", 0),
        ("validation_fraction", 1.0),
        ("validation_fraction", 0.0),
        ("n_iter_no_change", 0),
        ("clip_grad_norm", -1.0),
        ("embedding_dropout", -0.1),
        ("lr_schedule", "step"),
        ("early_stopping", "sometimes"),
        ("freeze_embeddings", "yes"),
        ("class_weight", "unbalanced"),
        ("bidirectional", "yes"),
        ("max_len", 0),
        ("max_features", 0),
        ("min_df", 1.5),
        ("analyzer", "bpe"),
        ("truncation", "middle"),
        ("tokenizer", "split"),
        ("random_state", "seed"),
        ("verbose", -1),
    ],
)
def test_invalid_parameter_fails_at_fit_naming_it(keyword_texts, param, value):
    X, y = keyword_texts
    clf = RNNTextClassifier(**{param: value})
    assert clf.get_params()[param] == value
    with pytest.raises(ValueError, match=f"'{param}' parameter"):
        clf.fit(X, y)


def test_single_class_is_refused(keyword_texts):
    X, _ = keyword_texts
    with pytest.raises(ValueError, match="class"):
        RNNTextClassifier(**FAST).fit(X, ["pos"] * len(X))


def test_continuous_target_is_refused(keyword_texts):
    X, _ = keyword_texts
    with pytest.raises(ValueError, match="Unknown label type"):
        RNNTextClassifier(**FAST).fit(X, np.linspace(0, 1, len(X)))


def test_length_mismatch_is_refused(keyword_texts):
    X, y = keyword_texts
    with pytest.raises(ValueError, match="different lengths"):
        RNNTextClassifier(**FAST).fit(X, y[:-1])


@pytest.mark.parametrize(
    ("param", "value"),
    [("cell", "gru"), ("cell", "rnn"), ("pooling", "last"), ("pooling", "mean")],
)
def test_cells_and_poolings_train(keyword_texts, param, value):
    X, y = keyword_texts
    clf = fitted(X, y, **{param: value})
    assert clf.predict_proba(X).shape == (len(X), 2)


def test_stacked_layers_and_every_optimizer_train(keyword_texts):
    X, y = keyword_texts
    for optimizer in ["adam", "adamw", "sgd", "rmsprop"]:
        clf = fitted(X, y, num_layers=2, optimizer=optimizer, max_epochs=1)
        assert len(clf.net_.module_.layers) == 2
        assert type(clf.net_.optimizer_).__name__.lower() == optimizer


def test_empty_and_unknown_texts_are_predicted(keyword_texts):
    X, y = keyword_texts
    clf = fitted(X, y)
    proba = clf.predict_proba(["", "   ", "never seen words", "key1"])
    assert proba.shape == (4, 2)
    assert np.all(np.isfinite(proba))


@pytest.mark.parametrize(
    ("bad_refit", "message"),
    [
        ({"early_stopping": True, "validation_fraction": 0.01}, "validation"),
        ({"class_weight": {"pos": -1.0, "neg": 1.0}}, "non-negative"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_a_failed_refit_leaves_the_fitted_model_as_it_was(
    keyword_texts, bad_refit, message
):
    X, y = keyword_texts
    clf = fitted(X, y)
    before = (clf.predict_proba(X), clf.vectorizer_, clf.net_, clf.classes_)
    clf.set_params(**bad_refit)
    with pytest.raises(ValueError, match=message):
        clf.fit(X[:20] + ["brand new words here"], y[:21])
    assert clf.vectorizer_ is before[1] and clf.net_ is before[2]
    np.testing.assert_array_equal(clf.classes_, before[3])
    np.testing.assert_array_equal(clf.predict_proba(X), before[0])


def test_a_refit_with_bad_sample_weight_leaves_the_model_as_it_was(keyword_texts):
    X, y = keyword_texts
    clf = fitted(X, y)
    proba = clf.predict_proba(X)
    with pytest.raises(ValueError, match="sample_weight"):
        clf.fit(X, np.where(y == "pos", 1, 0), sample_weight=np.ones(3))
    assert clf.classes_.tolist() == ["neg", "pos"]
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


@pytest.mark.parametrize(
    ("class_weight", "message"),
    [
        ({"pos": -1.0, "neg": 1.0}, "non-negative"),
        ({"pos": float("nan"), "neg": 1.0}, "finite"),
        ({"pos": 0.0, "neg": 0.0}, "0 for every sample"),
        ({"positive": 2.0}, "not in y"),
    ],
)
def test_bad_class_weight_is_refused(keyword_texts, class_weight, message):
    X, y = keyword_texts
    with pytest.raises(ValueError, match=message):
        RNNTextClassifier(**FAST, class_weight=class_weight).fit(X, y)


def test_probabilities_are_float64_and_sum_to_one(keyword_texts):
    X, y = keyword_texts
    proba = fitted(X, y).predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)


def test_verbose_accepts_a_bool(keyword_texts, capsys):
    X, y = keyword_texts
    fitted(X, y, verbose=True, max_epochs=1)
    assert "train_loss" in capsys.readouterr().out


def test_fit_queues_no_cuda_seeding(keyword_texts):
    # torch.manual_seed would queue a seed for every CUDA device, to be applied
    # when CUDA starts, overriding the caller's own seeding.
    X, y = keyword_texts
    calls_before = list(torch.cuda._lazy_seed_tracker.get_calls())
    fitted(X, y)
    assert list(torch.cuda._lazy_seed_tracker.get_calls()) == calls_before


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_on_the_cpu_is_a_clear_error(keyword_texts, precision):
    X, y = keyword_texts
    with pytest.raises(ValueError, match="needs a CUDA device"):
        fitted(X, y, precision=precision)


def test_float32_precision_is_the_default(keyword_texts):
    X, y = keyword_texts
    clf = fitted(X, y)
    assert clf.precision == "float32" and clf.net_.precision == "float32"
    assert all(p.dtype == torch.float32 for p in clf.net_.module_.parameters())


def test_a_model_trained_in_mixed_precision_predicts_on_the_cpu(keyword_texts):
    # What a model trained with precision="fp16" on a GPU looks like once
    # skorch has moved it to a CPU-only machine: it must run in float32.
    X, y = keyword_texts
    clf = fitted(X, y)
    proba = clf.predict_proba(X)
    for precision in ["fp16", "bf16"]:
        clf.net_.precision = precision
        np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_the_skorch_net_trains_on_ids_by_itself():
    ids = np.array([[2, 3, 0], [4, 2, 3], [3, 0, 0], [4, 4, 0]] * 10)
    y = np.array([0, 1, 0, 1] * 10)
    net = RNNNet(
        RNNModule,
        module__n_tokens=5,
        module__n_classes=2,
        criterion=torch.nn.CrossEntropyLoss,
        criterion__reduction="none",
        train_split=None,
        max_epochs=2,
        verbose=0,
    )
    net.fit(ids, y)
    assert net.predict_proba(ids).shape == (40, 2)


def test_bag_of_words_learns_word_weights_at_a_higher_rate(keyword_texts):
    X, y = keyword_texts
    clf = fitted(X, y, lr_schedule="cosine")
    main, bag = clf.net_.optimizer_.param_groups
    # cosine ends both rates at 0; they started apart by the factor
    assert main["initial_lr"] == FAST["lr"]
    assert bag["initial_lr"] == pytest.approx(10 * FAST["lr"])
    assert bag["params"] == [clf.net_.module_.bag.weight]
    # the history reports the network's rate, not the bag's
    assert clf.history_[0]["lr"] == FAST["lr"]
    # each keyword's weights lean towards its own class
    weights = clf.net_.module_.bag.weight.detach()
    vocabulary = clf.vectorizer_.vocabulary_
    pos = list(clf.classes_).index("pos")
    leaning = weights[:, pos] - weights[:, 1 - pos]
    assert leaning[vocabulary["key1"]] > 0 > leaning[vocabulary["key0"]]


def test_the_bag_rate_tapers_as_an_epoch_has_more_batches():
    # 600 texts in batches of 2: 300 batches, twice the 150 of the full rate
    X, y = keyword_data(600, seed=5)
    clf = fitted(X, y, batch_size=2, max_epochs=1, early_stopping=False)
    main, bag = clf.net_.optimizer_.param_groups
    assert bag["lr"] == pytest.approx(10 * np.sqrt(150 / 300) * main["lr"])


def test_without_bag_of_words_the_network_has_no_bag(keyword_texts):
    X, y = keyword_texts
    clf = fitted(X, y, bag_of_words=False)
    assert clf.net_.module_.bag is None
    assert len(clf.net_.optimizer_.param_groups) == 1


def test_bag_of_words_reads_past_max_len():
    # In the long texts, the words that tell the classes apart come after
    # max_len tokens of filler: only the bag of words, which counts whole
    # texts, can see them there. The short texts put them in the vocabulary.
    rng = np.random.RandomState(0)
    y = np.array(["neg", "pos"] * 40)
    filler = ["so it goes", "and then", "well well", "as they say"]
    X = [
        f"{filler[rng.randint(4)]} {filler[rng.randint(4)]} "
        + ("good great" if label == "pos" else "bad awful")
        for label in y
    ]
    X_all = X + ["good great", "bad awful"] * 4
    y_all = np.concatenate([y, ["pos", "neg"] * 4])
    params = {"max_len": 2, "max_epochs": 10, "early_stopping": False}
    with_bag = fitted(X_all, y_all, **params)
    without_bag = fitted(X_all, y_all, bag_of_words=False, **params)
    assert with_bag.score(X, y) == 1.0
    assert without_bag.score(X, y) <= 0.7


def test_the_bag_weighs_tokens_by_their_idf_in_the_training_texts():
    X, y = keyword_data(60, seed=3)
    clf = fitted(X, y, early_stopping=False, max_epochs=1)
    counts = clf.vectorizer_.transform_counts(X)
    # scikit-learn's idf of each column the training texts hold
    expected = TfidfTransformer().fit(counts).idf_
    held = np.asarray((counts > 0).sum(axis=0)).ravel() > 0
    idf = clf.net_.module_.bag_idf.numpy()
    np.testing.assert_allclose(idf[held], expected[held], rtol=1e-6)
    assert idf[0] == 0  # padding


def test_the_idf_comes_from_the_training_part_and_a_continued_fit_keeps_it():
    X, y = keyword_data(200, seed=3)
    clf = fitted(X, y, early_stopping=True, max_epochs=1, n_iter_no_change=1)
    idf = clf.net_.module_.bag_idf.clone()
    n_train = len(X) - int(np.ceil(clf.validation_fraction * len(X)))
    # the unknown token is in no training text: log((1 + n) / (1 + 0)) + 1
    assert idf[UNKNOWN_ID].item() == pytest.approx(np.log(1 + n_train) + 1)
    clf.set_params(warm_start=True).fit(X[:50], y[:50])
    torch.testing.assert_close(clf.net_.module_.bag_idf, idf)


def test_the_id_level_classifier_takes_the_idf_of_its_ids():
    X, y = keyword_data(60, seed=3)
    ids = TextVectorizer().fit_transform(X)
    clf = RNNClassifier(**{**FAST, "early_stopping": False, "max_epochs": 1})
    clf.fit(ids, y)
    n_tokens = clf.net_.module_.bag.weight.shape[0]
    counts = np.zeros((len(ids), n_tokens))
    for row, text_ids in enumerate(ids):
        np.add.at(counts[row], text_ids[text_ids != 0], 1)
    held = counts.any(axis=0)
    expected = TfidfTransformer().fit(counts).idf_
    idf = clf.net_.module_.bag_idf.numpy()
    np.testing.assert_allclose(idf[held], expected[held], rtol=1e-6)


@pytest.fixture(scope="module")
def three_classes():
    X, y = keyword_data(150, seed=4, classes=("a", "b", "c"))
    return X, y, fitted(X, y, max_epochs=2)


def test_decision_function_and_log_proba_agree_with_predict_binary(keyword_texts):
    X, y = keyword_texts
    clf = fitted(X, y, max_epochs=2)
    scores = clf.decision_function(X)
    assert scores.shape == (len(X),)
    np.testing.assert_array_equal(
        clf.classes_[(scores > 0).astype(int)], clf.predict(X)
    )
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X))
    # the log-odds of classes_[1]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(scores, np.log(proba[:, 1] / proba[:, 0]), rtol=1e-6)


def test_decision_function_and_log_proba_agree_with_predict_multiclass(three_classes):
    X, _, clf = three_classes
    scores = clf.decision_function(X)
    assert scores.shape == (len(X), 3)
    np.testing.assert_array_equal(clf.classes_[scores.argmax(axis=1)], clf.predict(X))
    log_proba = clf.predict_log_proba(X)
    np.testing.assert_allclose(np.exp(log_proba), clf.predict_proba(X))
    # log-probabilities are the scores shifted by each row's log-sum-exp
    shift = scores - log_proba
    np.testing.assert_allclose(shift, shift[:, :1].repeat(3, axis=1))


def test_log_proba_of_a_near_certain_class_stays_finite(keyword_texts):
    X, y = keyword_texts
    clf = fitted(X, y, max_epochs=1)
    module = clf.net_.module_
    with torch.no_grad():
        # logits of +400 and -400 whatever the text: a probability of
        # exp(-800), below what float64 holds
        module.head.weight.zero_()
        module.head.bias.copy_(torch.tensor([400.0, -400.0]))
        module.bag.weight.zero_()
    assert (clf.predict_proba(X[:3])[:, 1] == 0).all()
    np.testing.assert_allclose(clf.predict_log_proba(X[:3])[:, 1], -800.0)
    np.testing.assert_allclose(clf.decision_function(X[:3]), -800.0)


def test_the_id_level_classifier_has_the_same_prediction_methods(three_classes):
    X, y, _ = three_classes
    ids = TextVectorizer().fit_transform(X)
    clf = RNNClassifier(**{**FAST, "max_epochs": 2}).fit(ids, y)
    scores = clf.decision_function(ids)
    np.testing.assert_array_equal(clf.classes_[scores.argmax(axis=1)], clf.predict(ids))
    np.testing.assert_allclose(
        np.exp(clf.predict_log_proba(ids)), clf.predict_proba(ids)
    )
    with pytest.raises(NotFittedError):
        RNNClassifier().decision_function(ids)


def test_history_records_the_training_accuracy_of_the_batches_trained(
    keyword_texts,
):
    X, y = keyword_texts
    clf = fitted(X, y, max_epochs=2, dropout=0.0, embedding_dropout=0.0)
    accuracies = [row["train_acc"] for row in clf.history_]
    assert all(0 <= value <= 1 for value in accuracies)
    # one epoch more, from these weights: its training accuracy is that of
    # the predictions its batches made, which a pass over them afterwards
    # cannot tell apart from the predictions after each step; with a tiny
    # rate the weights barely move, so the two agree
    clf.set_params(warm_start=True, max_epochs=1, lr=1e-9)
    before = clf.predict(X)
    clf.fit(X, y)
    assert clf.history_[-1]["train_acc"] == pytest.approx(np.mean(before == y))


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_history_holds_python_numbers(keyword_texts, method):
    X, y = keyword_texts
    clf = RNNTextClassifier(**FAST, early_stopping=True)
    if method == "fit":
        clf.fit(X, y)
    else:
        clf.partial_fit(X, y, classes=["neg", "pos"], validation_data=(X, y))
    kinds = {type(value) for row in clf.history_ for value in row.values()}
    assert kinds <= {int, float}
