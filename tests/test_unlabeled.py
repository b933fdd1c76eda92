"""Texts without labels: None (or NaN) in y marks them; they feed the id
space and, with pretrain="lm", language-model pretraining, never the loss."""

import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from helpers import FAST, keyword_data, search_with_unlabeled
from sklearn.base import clone
from sklearn.semi_supervised import SelfTrainingClassifier

from sklearn_rnn import (
    RNNClassifier,
    RNNTextClassifier,
    TextVectorizer,
    load_model,
    save_model,
)
from sklearn_rnn.modules import RNNModule, reversal_index, reverse_within_lengths
from sklearn_rnn.pretraining import LanguageModelHeads, pretrain_language_model

PRETRAIN = {**FAST, "pretrain": "lm", "pretrain_epochs": 2}


@pytest.fixture(scope="module")
def unlabeled_texts():
    texts, _ = keyword_data(80, seed=3)
    # words that no labelled text holds
    return [f"{text} only{i % 5}" for i, text in enumerate(texts)]


def with_unlabeled(labelled, unlabeled, marker=None):
    X, y = labelled
    return list(X) + list(unlabeled), list(y) + [marker] * len(unlabeled)


def history_without_time(clf):
    return [{k: v for k, v in row.items() if k != "dur"} for row in clf.history_]


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"class_weight": "balanced"},
        {"early_stopping": True, "validation_fraction": 0.25},
    ],
)
def test_unlabeled_texts_never_enter_the_loss(keyword_texts, unlabeled_texts, extra):
    """With the vocabulary fixed, adding unlabeled texts (and weights for
    them) changes nothing: not the loss, the weights, the balance of the
    classes nor the validation split."""
    X, y = keyword_texts
    vocabulary = TextVectorizer().fit(list(X) + unlabeled_texts).vocabulary_
    settings = {**FAST, "vocabulary": vocabulary, **extra}
    weights = np.linspace(0.5, 2.0, len(X))
    alone = RNNTextClassifier(**settings).fit(X, y, sample_weight=weights)
    X_all, y_all = with_unlabeled(keyword_texts, unlabeled_texts)
    all_weights = np.concatenate([weights, np.full(len(unlabeled_texts), 7.0)])
    with pytest.warns(UserWarning, match="80 of 200 samples unlabeled"):
        mixed = RNNTextClassifier(**settings).fit(
            X_all, y_all, sample_weight=all_weights
        )
    assert history_without_time(mixed) == history_without_time(alone)
    np.testing.assert_array_equal(mixed.predict_proba(X), alone.predict_proba(X))
    assert mixed.pretrain_loss_ is None


@pytest.mark.parametrize("marker", [None, np.nan, pd.NA], ids=["None", "NaN", "pd.NA"])
def test_missing_labels_mark_unlabeled_texts(keyword_texts, unlabeled_texts, marker):
    X_all, y_all = with_unlabeled(keyword_texts, unlabeled_texts, marker)
    y_all = pd.Series(y_all, dtype=object)
    clf = RNNTextClassifier(**PRETRAIN).fit(X_all, y_all)
    assert clf.classes_.tolist() == ["neg", "pos"]
    # the vocabulary holds the words only unlabeled texts have
    assert {f"only{i}" for i in range(5)} <= set(clf.vectorizer_.vocabulary_)
    assert len(clf.pretrain_loss_) == 2


def test_float_labels_with_nan(keyword_texts, unlabeled_texts):
    X, y = keyword_texts
    numbers = (y == "pos").astype(float)
    X_all = list(X) + unlabeled_texts
    y_all = np.concatenate([numbers, np.full(len(unlabeled_texts), np.nan)])
    clf = RNNTextClassifier(**PRETRAIN).fit(X_all, y_all)
    assert clf.classes_.tolist() == [0.0, 1.0]
    assert np.isnan(y_all[-1])  # the user's y is left as it was


def test_only_unlabeled_texts_is_an_error(unlabeled_texts):
    with pytest.raises(ValueError, match="y holds no label: all 80 samples"):
        RNNTextClassifier(**PRETRAIN).fit(unlabeled_texts, [None] * 80)


def test_unlabeled_texts_without_pretraining_warn(keyword_texts, unlabeled_texts):
    X_all, y_all = with_unlabeled(keyword_texts, unlabeled_texts)
    with pytest.warns(UserWarning, match="with pretrain=None they only add"):
        RNNTextClassifier(**FAST).fit(X_all, y_all)


def test_minus_one_is_a_class_and_pretraining_says_so(keyword_texts):
    X, y = keyword_texts
    signs = np.where(y == "pos", 1, -1)
    with pytest.warns(UserWarning, match="-1, which is a class here"):
        clf = RNNTextClassifier(**PRETRAIN).fit(X, signs)
    assert clf.classes_.tolist() == [-1, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RNNTextClassifier(**FAST).fit(X, signs)


def test_pretraining_learns_and_moves_only_the_reading_layers():
    """The language model's loss falls on texts with a fixed word order, and
    pretraining changes the embedding and recurrent weights, not the head
    or the bag of words."""
    rng = np.random.RandomState(0)
    ids = np.zeros((64, 12), dtype=np.int64)
    for row in ids:
        # a repeating sequence of 6 ids, starting anywhere: each next id is
        # predictable from the one before
        length = rng.randint(6, 13)
        start = rng.randint(6)
        row[:length] = 2 + (start + np.arange(length)) % 6
    torch.manual_seed(0)
    module = RNNModule(8, 2, embedding_dim=8, hidden_size=8, bag_of_words=True)
    before = {name: p.detach().clone() for name, p in module.named_parameters()}
    losses = pretrain_language_model(
        module,
        ids,
        # far past the threshold below: the last epoch's loss is under 0.07
        # of the first's on seeds 0-5
        epochs=8,
        batch_size=16,
        lr=0.03,
        clip_grad_norm=5.0,
        device="cpu",
        seed=0,
    )
    # from about log(8) to far below: the next id is certain
    assert losses[0] > 1.2 and losses[-1] < 0.5 * losses[0]
    for name, weight in module.named_parameters():
        moved = not torch.equal(weight, before[name])
        assert moved == name.startswith(("embedding", "layers")), name


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_language_model_states_never_see_what_they_predict(num_layers, bidirectional):
    """A forward state depends on no later token, a backward state on no
    earlier one, in stacked layers too; and neither depends on padding or on
    the other texts of the batch."""
    torch.manual_seed(0)
    module = RNNModule(
        20, 2, embedding_dim=6, hidden_size=5, num_layers=num_layers,
        bidirectional=bidirectional,
    ).eval()  # fmt: skip
    text = torch.tensor([[3, 7, 4, 9, 5, 6, 0, 0]])
    changed = text.clone()
    changed[0, 3] = 11  # the fourth token
    lengths = torch.tensor([6])
    forward, backward = module.language_model_states(text, lengths)
    forward_changed, backward_changed = module.language_model_states(changed, lengths)
    torch.testing.assert_close(forward[0, :3], forward_changed[0, :3])
    assert not torch.allclose(forward[0, 3], forward_changed[0, 3])
    if bidirectional:
        # reversed order: position t has read the last t + 1 tokens; the
        # fourth of 6 tokens is read at position 2
        torch.testing.assert_close(backward[0, :2], backward_changed[0, :2])
        assert not torch.allclose(backward[0, 2], backward_changed[0, 2])
    # in a batch with a longer text and more padding
    batch = torch.tensor([[3, 7, 4, 9, 5, 6, 0, 0, 0, 0], [2] * 10])
    forward_batch, backward_batch = module.language_model_states(
        batch, torch.tensor([6, 10])
    )
    torch.testing.assert_close(forward_batch[0, :6], forward[0, :6])
    if bidirectional:
        torch.testing.assert_close(backward_batch[0, :6], backward[0, :6])


def test_language_model_loss_ignores_padding():
    torch.manual_seed(0)
    module = RNNModule(20, 2, embedding_dim=6, hidden_size=5).eval()
    heads = LanguageModelHeads(5, 20, 2).eval()
    text = torch.tensor([[3, 7, 4, 9, 5]])
    padded = torch.tensor([[3, 7, 4, 9, 5, 0, 0, 0]])
    with torch.no_grad():
        plain = heads.loss(module, text, torch.tensor([5]))
        more = heads.loss(module, padded, torch.tensor([5]))
    torch.testing.assert_close(plain, more)


def test_targets_are_reversed_within_each_text_length():
    # the backward targets are reversed as the backward states are
    lengths = torch.tensor([3, 5])
    index = reversal_index(lengths, 5)
    ids = torch.tensor([[1, 2, 3, 0, 0], [1, 2, 3, 4, 5]])
    reversed_ids = reverse_within_lengths(ids.unsqueeze(2), index).squeeze(2)
    assert reversed_ids.tolist() == [[3, 2, 1, 0, 0], [5, 4, 3, 2, 1]]


def test_pretraining_is_reproducible_and_pickles(
    tmp_path, keyword_texts, unlabeled_texts
):
    X_all, y_all = with_unlabeled(keyword_texts, unlabeled_texts)
    first = RNNTextClassifier(**PRETRAIN).fit(X_all, y_all)
    second = clone(first).fit(X_all, y_all)
    assert first.pretrain_loss_ == second.pretrain_loss_
    X = keyword_texts[0]
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    joblib.dump(first, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(X), first.predict_proba(X))
    save_model(first, tmp_path / "model")
    restored = load_model(tmp_path / "model")
    assert restored.get_params()["pretrain"] == "lm"
    assert restored.pretrain_loss_ == first.pretrain_loss_
    np.testing.assert_allclose(restored.predict_proba(X), first.predict_proba(X))


@pytest.mark.parametrize(
    "settings",
    [
        {"num_layers": 2},
        {"bidirectional": False, "pooling": "last"},
        {"pooling": "attention", "cell": "gru", "bag_of_words": False},
        {"cell": "rnn", "pooling": "mean"},
    ],
)
def test_pretraining_works_with_every_network(keyword_texts, unlabeled_texts, settings):
    X_all, y_all = with_unlabeled(keyword_texts, unlabeled_texts)
    clf = RNNTextClassifier(**{**PRETRAIN, **settings}).fit(X_all, y_all)
    assert np.isfinite(clf.pretrain_loss_).all()
    assert clf.predict(keyword_texts[0]).shape == (120,)


def test_token_ids_with_unlabeled_rows(keyword_texts, unlabeled_texts):
    vectorizer = TextVectorizer().fit(list(keyword_texts[0]) + unlabeled_texts)
    X_all, y_all = with_unlabeled(keyword_texts, unlabeled_texts)
    ids = vectorizer.transform(X_all)
    clf = RNNClassifier(**PRETRAIN).fit(ids, y_all)
    # the id space covers ids only the unlabeled rows hold
    assert clf.n_tokens_ == int(ids.max()) + 1
    assert clf.score(ids, y_all) == clf.score(ids[:120], y_all[:120])


def test_continued_fits_skip_unlabeled_texts(keyword_texts, unlabeled_texts):
    X_all, y_all = with_unlabeled(keyword_texts, unlabeled_texts)
    clf = RNNTextClassifier(**{**PRETRAIN, "warm_start": True}).fit(X_all, y_all)
    losses = clf.pretrain_loss_
    with pytest.warns(UserWarning, match="continues a fitted network"):
        clf.fit(X_all, y_all)
    assert clf.pretrain_loss_ == losses  # pretrained once, when built
    # partial_fit: its first call builds the network and pretrains on the
    # chunk; later calls train on the labelled texts of theirs
    streamed = RNNTextClassifier(**PRETRAIN)
    streamed.partial_fit(X_all, y_all, classes=["neg", "pos"])
    assert len(streamed.pretrain_loss_) == 2
    with pytest.warns(UserWarning, match="skips them"):
        streamed.partial_fit(X_all, y_all)
    assert streamed.n_epochs_ == 2


def test_score_and_search_ignore_unlabeled_texts(keyword_texts, unlabeled_texts):
    X_all, y_all = with_unlabeled(keyword_texts, unlabeled_texts)
    clf = RNNTextClassifier(**PRETRAIN).fit(X_all, y_all)
    X, y = keyword_texts
    assert clf.score(X_all, y_all) == clf.score(X, y)
    with pytest.raises(ValueError, match="every sample is unlabeled"):
        clf.score(unlabeled_texts, [None] * len(unlabeled_texts))
    search = search_with_unlabeled({"pretrain": [None, "lm"]}, X_all, y_all, 3)
    assert search.best_estimator_.classes_.tolist() == ["neg", "pos"]


def test_self_training_on_token_ids(keyword_texts, unlabeled_texts):
    """scikit-learn's SelfTrainingClassifier checks X as numbers and refuses
    texts, but takes RNNClassifier on the ids of a vectorizer fitted on every
    text, with -1 marking the unlabeled ones as it reads them."""
    X, y = keyword_texts
    ids = TextVectorizer().fit_transform(list(X) + list(unlabeled_texts))
    codes = np.r_[(np.asarray(y) == "pos").astype(int), [-1] * len(unlabeled_texts)]
    model = SelfTrainingClassifier(RNNClassifier(**FAST), max_iter=2)
    model.fit(ids, codes)
    assert model.classes_.tolist() == [0, 1]
    # it labelled unlabeled texts itself, and trained on them
    assert (model.labeled_iter_[len(X) :] > 0).any()
    assert model.predict(ids[:5]).shape == (5,)


def test_pretraining_settings_are_checked(keyword_texts):
    X, y = keyword_texts
    with pytest.raises(ValueError, match="pretrain"):
        RNNTextClassifier(**{**FAST, "pretrain": "mlm"}).fit(X, y)
    with pytest.raises(ValueError, match="pretrain_epochs"):
        RNNTextClassifier(**{**FAST, "pretrain": "lm", "pretrain_epochs": 0}).fit(X, y)
    with pytest.raises(ValueError, match="does not run under Accelerate"):
        RNNTextClassifier(**{**FAST, "pretrain": "lm", "accelerate": True}).fit(X, y)


@pytest.mark.parametrize(
    "labels",
    [["pos", None], [1.0, np.nan], ["pos", pd.NA], [np.float32(1), np.float32("nan")]],
)
def test_labelled_texts_of_one_class_are_an_error(keyword_texts, labels):
    X, _ = keyword_texts
    y = (labels * 60)[: len(X)]
    with (
        pytest.warns(UserWarning, match="60 of 120 samples unlabeled"),
        pytest.raises(ValueError, match="y holds a single class"),
    ):
        RNNTextClassifier(**FAST).fit(X, np.array(y, dtype=object))


@pytest.mark.parametrize("pretrain", [None, "lm"])
def test_ids_only_unlabeled_texts_hold_add_no_noise(
    keyword_texts, unlabeled_texts, pretrain
):
    """The bag never learns the weights of words no labelled text holds:
    they weigh nothing in it, rather than shrinking a text's known words
    when it is normalised. Without pretraining their embeddings stay at
    zero; pretraining is what teaches them."""
    X_all, y_all = with_unlabeled(keyword_texts, unlabeled_texts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        clf = RNNTextClassifier(**{**PRETRAIN, "pretrain": pretrain}).fit(X_all, y_all)
    vocabulary = clf.vectorizer_.vocabulary_
    only_unlabeled = [vocabulary[f"only{i}"] for i in range(5)]
    labelled_word = vocabulary["key0"]
    module = clf.net_.module_
    assert module.bag_idf[only_unlabeled].tolist() == [0.0] * 5
    assert module.bag_idf[labelled_word] > 1
    embeddings = module.embedding.weight[only_unlabeled]
    assert bool((embeddings == 0).all()) == (pretrain is None)
    assert bool((module.embedding.weight[labelled_word] != 0).any())


def test_given_embeddings_and_unused_vocabulary_are_left_alone(
    keyword_texts, unlabeled_texts
):
    """Only the ids that unlabeled texts alone hold are quieted: a word of
    the fixed vocabulary that no text holds, the unknown token and the
    user's vectors keep what they had."""
    X_all, y_all = with_unlabeled(keyword_texts, unlabeled_texts)
    vocabulary = [*TextVectorizer().fit(X_all).vocabulary_, "never_seen"]
    rng = np.random.RandomState(0)
    vectors = {word: rng.normal(size=8) for word in vocabulary}
    with pytest.warns(UserWarning, match="only add their tokens"):
        clf = RNNTextClassifier(
            **FAST, vocabulary=vocabulary, embeddings=vectors, freeze_embeddings=True
        ).fit(X_all, y_all)
    ids = clf.vectorizer_.vocabulary_
    module = clf.net_.module_
    for word in ("only0", "never_seen"):
        np.testing.assert_allclose(
            module.embedding.weight[ids[word]].numpy(), vectors[word], rtol=1e-6
        )
    assert module.bag_idf[ids["only0"]] == 0
    assert module.bag_idf[ids["never_seen"]] > 1


def test_pretraining_loss_counts_tokens_not_batches():
    """Batches of one-token texts have nothing to predict: they neither
    count in the mean loss nor take a step."""
    rng = np.random.RandomState(0)
    long_rows = rng.randint(2, 30, size=(32, 10))
    one_token = np.zeros((32, 10), dtype=np.int64)
    one_token[:, 0] = rng.randint(2, 30, size=32)

    def first_loss(ids):
        torch.manual_seed(0)
        module = RNNModule(30, 2, embedding_dim=4, hidden_size=4)
        return pretrain_language_model(
            module, ids, epochs=1, batch_size=8, lr=1e-12, clip_grad_norm=None,
            device="cpu", seed=0,
        )[0]  # fmt: skip

    mixed = first_loss(np.concatenate([long_rows, one_token]))
    np.testing.assert_allclose(mixed, first_loss(long_rows), rtol=1e-5)
    with pytest.raises(ValueError, match="every text has a single token"):
        first_loss(one_token)


def test_small_states_keep_every_tail_of_the_softmax():
    heads = LanguageModelHeads(hidden_size=2, n_targets=20_000, n_directions=2)
    for head in heads.directions:
        for tail in head.tail:
            assert all(layer.weight.numel() > 0 for layer in tail)


def test_a_length_mismatch_is_not_taken_for_unlabeled_texts(keyword_texts):
    X, y = keyword_texts
    with pytest.raises(ValueError, match="120 samples in X and 123 in y"):
        RNNTextClassifier(**PRETRAIN).fit(X, [*y, None, None, None])


def test_a_chunk_without_labels_is_skipped(keyword_texts, unlabeled_texts):
    X, y = keyword_texts
    clf = RNNTextClassifier(**FAST).partial_fit(X, y, classes=["neg", "pos"])
    before = clf.predict_proba(X)
    with pytest.warns(UserWarning, match="chunk holds no label"):
        clf.partial_fit(unlabeled_texts, [None] * len(unlabeled_texts))
    assert clf.n_epochs_ == 1
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    with pytest.raises(ValueError, match="y holds no label"):
        RNNTextClassifier(**FAST).partial_fit(
            unlabeled_texts, [None] * 80, classes=["neg", "pos"]
        )


def test_score_checks_the_weights(keyword_texts, unlabeled_texts):
    X_all, y_all = with_unlabeled(keyword_texts, unlabeled_texts)
    clf = RNNTextClassifier(**FAST).fit(*keyword_texts)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(200,\)"):
        clf.score(X_all, y_all, sample_weight=[1.0] * 3)
    weights = np.r_[np.ones(120), np.zeros(80)]
    assert clf.score(X_all, y_all, sample_weight=weights) == clf.score(*keyword_texts)
    only_unlabeled_weigh = "sample_weight is 0 for all 120 labelled samples"
    with pytest.raises(ValueError, match=only_unlabeled_weigh):
        clf.score(X_all, y_all, sample_weight=1 - weights)


def test_weights_only_on_unlabeled_texts_are_an_error(keyword_texts, unlabeled_texts):
    X_all, y_all = with_unlabeled(keyword_texts, unlabeled_texts)
    weights = np.r_[np.zeros(120), np.ones(80)]
    with pytest.raises(ValueError, match="sample_weight is 0 for all 120 labelled"):
        RNNTextClassifier(**PRETRAIN).fit(X_all, y_all, sample_weight=weights)


def test_missing_labels_that_numpy_made_text_are_flagged(keyword_texts):
    X, y = keyword_texts
    # np.array of str and NaN gives the string 'nan'
    y = np.array([*y[:100].tolist(), *[np.nan] * 20])
    assert y.dtype.kind == "U"
    with pytest.warns(UserWarning, match="y holds the label 'nan'"):
        RNNTextClassifier(**FAST).fit(X, y)
