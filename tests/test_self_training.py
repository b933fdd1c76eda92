"""Self-training: after the first training, the unlabeled texts the network
is sure of take the label it predicts, and a new network trains on them too."""

import contextlib
import io
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from helpers import FAST, keyword_data, search_with_unlabeled

from sklearn_rnn import (
    RNNClassifier,
    RNNTextClassifier,
    TextVectorizer,
    load_model,
    save_model,
)
from sklearn_rnn._device import generators_kept, seeded_generators
from sklearn_rnn._self_training import LabelledTexts, SelfTrainingTexts

# without dropout, training is a function of the starting weights and the
# batch order alone, so two ways to the same training set compare exactly
EXACT = {**FAST, "max_epochs": 6, "dropout": 0.0, "embedding_dropout": 0.0}


def without_time(history):
    return [{k: v for k, v in row.items() if k != "dur"} for row in history]


@pytest.fixture(scope="module")
def labelled_and_unlabeled():
    """40 labelled texts and 160 unlabeled ones of the same words, with the
    unlabeled ones' true labels."""
    texts, labels = keyword_data(200, seed=4)
    vocabulary = set(" ".join(texts[:40]).split())
    assert vocabulary >= set(" ".join(texts[40:]).split())
    return texts, labels[:40].tolist() + [None] * 160, labels[40:]


@pytest.mark.parametrize(
    "pretrain, freeze_embeddings",
    # not ("lm", True): the first round pretrains with those words' frozen
    # embeddings quiet, a fit on all labels with them as they started
    [(None, False), ("lm", False), (None, True)],
)
def test_a_round_trains_anew_on_the_labels_it_gave(
    labelled_and_unlabeled, pretrain, freeze_embeddings
):
    """One round with every text sure is the first network's predictions
    taken as labels, and a new network trained on them from the same start:
    what fitting on those labels gives. Words only unlabeled texts hold,
    quiet in the first round, start as a new fit's once labelled."""
    X, y, _ = labelled_and_unlabeled
    X = X[:40] + [f"{text} only{i % 5}" for i, text in enumerate(X[40:])]
    settings = {
        **EXACT,
        "pretrain": pretrain,
        "freeze_embeddings": freeze_embeddings,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # unlabeled, unused
        first = RNNTextClassifier(**settings).fit(X, y)
    given = first.predict(X[40:]).tolist()
    self_trained = RNNTextClassifier(
        **settings, self_training_rounds=1, self_training_threshold=0.0
    ).fit(X, y)
    refitted = RNNTextClassifier(**settings).fit(X, y[:40] + given)
    assert self_trained.self_labelled_per_round_ == [160]
    np.testing.assert_array_equal(
        self_trained.predict_proba(X), refitted.predict_proba(X)
    )
    assert without_time(self_trained.history_) == without_time(refitted.history_)
    if pretrain:
        assert self_trained.pretrain_loss_ == first.pretrain_loss_


def test_self_labelled_texts_take_weights_as_a_refit_would(labelled_and_unlabeled):
    X, y, _ = labelled_and_unlabeled
    settings = {**EXACT, "class_weight": "balanced"}
    weights = np.linspace(0.5, 2, 200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        first = RNNTextClassifier(**settings).fit(X, y, sample_weight=weights)
    given = first.predict(X[40:]).tolist()
    self_trained = RNNTextClassifier(
        **settings, self_training_rounds=1, self_training_threshold=0.0
    ).fit(X, y, sample_weight=weights)
    # a self-labelled text keeps the weight it was given
    refitted = RNNTextClassifier(**settings).fit(
        X, y[:40] + given, sample_weight=weights
    )
    np.testing.assert_allclose(
        self_trained.predict_proba(X), refitted.predict_proba(X), rtol=1e-6
    )


class InterruptAfter(io.StringIO):
    """stdout that raises KeyboardInterrupt at the first line starting with
    ``then`` once a line holding ``marker`` was printed (``then`` empty: at
    the marker itself)."""

    def __init__(self, marker, then=""):
        super().__init__()
        self.marker, self.then, self.seen = marker, then, False

    def write(self, text):
        written = super().write(text)
        if self.marker in text:
            self.seen = True
            if not self.then:
                raise KeyboardInterrupt
        elif self.seen and self.then and text.lstrip().startswith(self.then):
            raise KeyboardInterrupt
        return written


@pytest.mark.parametrize(
    "stdout",
    [
        InterruptAfter("Self-training round 2:"),
        InterruptAfter("Self-training round 2:", then="2/"),
    ],
    ids=["between-rounds", "in-a-round's-training"],
)
def test_an_interrupt_keeps_the_last_complete_round(labelled_and_unlabeled, stdout):
    X, y, _ = labelled_and_unlabeled
    settings = {**EXACT, "self_training_threshold": 0.0}
    clf = RNNTextClassifier(**settings, self_training_rounds=3, verbose=1)
    # every text is labelled in round 1; hold back some for round 2
    clf.set_params(self_training_threshold=0.9)
    with (
        contextlib.redirect_stdout(stdout),
        pytest.raises(KeyboardInterrupt, match="network of round 1"),
    ):
        clf.fit(X, y)
    assert len(clf.self_labelled_per_round_) == 1
    one_round = RNNTextClassifier(
        **{**settings, "self_training_threshold": 0.9}, self_training_rounds=1
    ).fit(X, y)
    assert clf.self_labelled_per_round_ == one_round.self_labelled_per_round_
    np.testing.assert_array_equal(clf.predict_proba(X), one_round.predict_proba(X))


def test_rounds_label_the_sure_texts_and_stop_when_none_is(labelled_and_unlabeled):
    X, y, truth = labelled_and_unlabeled
    clf = RNNTextClassifier(**{**FAST, "max_epochs": 20}, self_training_rounds=3).fit(
        X, y
    )
    counts = clf.self_labelled_per_round_
    assert 1 <= len(counts) <= 3
    assert counts[0] > 0 and sum(counts) <= 160
    # it stops early only when nothing is left or nothing is sure
    assert len(counts) == 3 or sum(counts) == 160 or counts[-1] == 0
    # the keyword task is learnt (chance is 0.5), self-labelled texts and all
    assert clf.score(X[40:], truth) > 0.75


def test_nothing_sure_keeps_the_first_network(labelled_and_unlabeled):
    X, y, _ = labelled_and_unlabeled
    settings = {**FAST, "max_epochs": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        first = RNNTextClassifier(**settings).fit(X, y)
    # after one epoch no text is anywhere near certain
    assert first.predict_proba(X[40:]).max() < 0.999
    clf = RNNTextClassifier(
        **settings, self_training_rounds=2, self_training_threshold=0.999
    ).fit(X, y)
    assert clf.self_labelled_per_round_ == [0]
    np.testing.assert_array_equal(clf.predict_proba(X), first.predict_proba(X))


def test_validation_keeps_the_labels_held_out_and_takes_self_labelled_ones(
    labelled_and_unlabeled,
):
    X, y, _ = labelled_and_unlabeled
    clf = RNNTextClassifier(
        **EXACT,
        early_stopping=True,
        validation_fraction=0.25,
        self_training_rounds=1,
        self_training_threshold=0.0,
    ).fit(X, y)
    assert clf.self_labelled_per_round_ == [160]
    # the first round held out 10 of the 40 given texts; the last trained
    # on the other 30 and 120 self-labelled ones, and was judged on those
    # 10 and the other 40 self-labelled ones
    for epoch in clf.net_.history:
        batches = epoch["batches"]
        assert sum(b.get("train_batch_size", 0) for b in batches) == 150
        assert sum(b.get("valid_batch_size", 0) for b in batches) == 50


def test_given_validation_data_alone_judges_every_round(labelled_and_unlabeled):
    X, y, truth = labelled_and_unlabeled
    clf = RNNTextClassifier(
        **EXACT, self_training_rounds=1, self_training_threshold=0.0
    ).fit(X, y, validation_data=(X[40:60], truth[:20]))
    for epoch in clf.net_.history:
        batches = epoch["batches"]
        assert sum(b.get("train_batch_size", 0) for b in batches) == 200
        assert sum(b.get("valid_batch_size", 0) for b in batches) == 20


def labelled(ids, y_index, sample_weight, counts):
    return LabelledTexts(ids, np.asarray(y_index), np.asarray(sample_weight), counts)


def test_self_labelled_texts_keep_their_given_weights():
    ids = np.arange(14).reshape(7, 2) + 2
    counts = sp.csr_matrix(np.eye(7, 16))
    texts = SelfTrainingTexts(
        labelled(ids[:2], [0, 1], [1.0, 3.0], counts[:2]),
        None,
        ids[2:5],
        counts[2:5],
        np.array([0.5, 4.0, 2.5]),
        validation_fraction=0.5,
        seed=0,
    )
    proba = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])
    assert texts.label_sure(proba, 0.75) == 2
    np.testing.assert_array_equal(texts.train.ids, ids[[0, 1, 2, 4]])
    np.testing.assert_array_equal(texts.train.y_index, [0, 1, 0, 1])
    np.testing.assert_array_equal(texts.train.sample_weight, [1.0, 3.0, 0.5, 2.5])
    np.testing.assert_array_equal(
        texts.train.counts.toarray(), counts[[0, 1, 2, 4]].toarray()
    )
    np.testing.assert_array_equal(texts.unlabeled_ids, ids[[3]])
    np.testing.assert_array_equal(
        texts.unlabeled_counts.toarray(), counts[[3]].toarray()
    )
    np.testing.assert_array_equal(texts.unlabeled_weight, [4.0])
    assert texts.label_sure(np.array([[0.1, 0.9]]), 0.75) == 1
    np.testing.assert_array_equal(texts.train.sample_weight, [1.0, 3.0, 0.5, 2.5, 4.0])
    assert texts.n_unlabeled == 0 and texts.unlabeled_texts() is None
    train = texts.train.encoded(np.array(["a", "b"]), {"a": 1.0, "b": 2.0})
    # class weight times sample weight, scaled to mean 1
    np.testing.assert_allclose(
        train.sample_weight.numpy(), np.array([1, 6, 0.5, 5, 8]) / 4.1, rtol=1e-6
    )


def test_a_share_of_the_self_labelled_texts_is_held_out():
    ids = np.arange(14).reshape(7, 2) + 2
    texts = SelfTrainingTexts(
        labelled(ids[:1], [0], [1.0], None),
        labelled(ids[1:2], [1], [1.0], None),
        ids[2:],
        None,
        np.arange(2.0, 7.0),  # text k weighs k
        validation_fraction=0.4,
        seed=0,
    )
    assert texts.label_sure(np.full((5, 2), [0.9, 0.1]), 0.75) == 5
    # 2 of the 5 join the held-out text, 3 the trained one
    assert len(texts.valid) == 3 and len(texts.train) == 4
    held_out = {tuple(row) for row in texts.valid.ids[1:]}
    trained = {tuple(row) for row in texts.train.ids[1:]}
    assert held_out | trained == {tuple(row) for row in ids[2:]}
    assert not held_out & trained
    # each self-labelled text keeps its weight, held out or trained on
    for part in (texts.valid, texts.train):
        np.testing.assert_array_equal(part.sample_weight[1:], (part.ids[1:, 0] - 2) / 2)
    assert len(texts.labelled_texts()) == 7


def test_self_training_on_token_ids(labelled_and_unlabeled):
    X, y, truth = labelled_and_unlabeled
    ids = TextVectorizer().fit_transform(X)
    clf = RNNClassifier(**{**FAST, "max_epochs": 20}, self_training_rounds=2).fit(
        ids, np.array(y, dtype=object)
    )
    assert clf.self_labelled_per_round_[0] > 0
    assert clf.score(ids[40:], truth) > 0.75


def test_where_self_training_does_not_run_it_says_so(labelled_and_unlabeled):
    X, y, _ = labelled_and_unlabeled
    settings = {**FAST, "self_training_rounds": 2}
    with pytest.warns(UserWarning, match="has no unlabeled samples to label"):
        clf = RNNTextClassifier(**settings).fit(X[:40], y[:40])
    assert clf.self_labelled_per_round_ is None
    with pytest.warns(UserWarning, match="partial_fit does not self-train"):
        streamed = RNNTextClassifier(**settings).partial_fit(
            X, y, classes=["neg", "pos"]
        )
    assert streamed.self_labelled_per_round_ is None
    continued = RNNTextClassifier(**settings, warm_start=True).fit(X, y)
    counts = continued.self_labelled_per_round_
    with pytest.warns(UserWarning, match="without self-training, and skips them"):
        continued.fit(X, y)
    with pytest.warns(UserWarning, match="continues a fitted network, which does"):
        continued.fit(X[:40], y[:40])
    assert continued.self_labelled_per_round_ == counts  # the network's story
    # self-training reads unlabeled texts, so it does not warn that they
    # would be unused
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        RNNTextClassifier(**settings).fit(X, y)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"self_training_rounds": -1}, "self_training_rounds"),
        ({"self_training_rounds": 1.5}, "self_training_rounds"),
        ({"self_training_threshold": 1.0}, "self_training_threshold"),
        ({"self_training_threshold": "high"}, "self_training_threshold"),
        ({"self_training_rounds": 1, "accelerate": True}, "under Accelerate"),
    ],
)
def test_self_training_settings_are_checked(labelled_and_unlabeled, params, message):
    X, y, _ = labelled_and_unlabeled
    with pytest.raises(ValueError, match=message):
        RNNTextClassifier(**FAST, **params).fit(X, y)


def test_self_trained_models_persist_and_search(labelled_and_unlabeled, tmp_path):
    X, y, truth = labelled_and_unlabeled
    clf = RNNTextClassifier(**FAST, self_training_rounds=1).fit(X, y)
    for path, save, load in [
        (tmp_path / "m.joblib", joblib.dump, joblib.load),
        (tmp_path / "m.safetensors", lambda m, p: save_model(m, p), load_model),
    ]:
        save(clf, path)
        loaded = load(path)
        assert loaded.self_labelled_per_round_ == clf.self_labelled_per_round_
        np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    search = search_with_unlabeled({"self_training_rounds": [0, 1]}, X, y, 2)
    assert search.best_estimator_.score(X[40:], truth) > 0.5


def test_what_runs_with_the_generators_kept_leaves_later_draws_alone():
    """Pretraining runs so, so that the classifier draws as without it."""
    with seeded_generators(0, "cpu"):
        with generators_kept("cpu"):
            torch.rand(5)
        after = torch.rand(3)
    with seeded_generators(0, "cpu"):
        expected = torch.rand(3)
    assert torch.equal(after, expected)


def test_unlabeled_texts_that_weigh_nothing_warn(labelled_and_unlabeled):
    X, y, _ = labelled_and_unlabeled
    weights = np.r_[np.ones(40), np.zeros(160)]
    settings = {**FAST, "self_training_rounds": 1, "self_training_threshold": 0.0}
    with pytest.warns(UserWarning, match="0 for all 160 unlabeled samples"):
        clf = RNNTextClassifier(**settings).fit(X, y, sample_weight=weights)
    assert clf.self_labelled_per_round_ == [160]
    # one that weighs something is learnt from: no warning
    weights[-1] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        RNNTextClassifier(**settings).fit(X, y, sample_weight=weights)
