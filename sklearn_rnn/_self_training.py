"""Self-training's bookkeeping: which texts a round trains on and is judged
on, and which unlabeled texts are still waiting for a label.

After each round the network predicts the texts still unlabeled; those whose
most probable class reaches the threshold take that class as their label,
and keep it in every later round. With early stopping, a share of them
(``validation_fraction``) joins the validation texts, beside the labelled
ones held out before the first round: the few given labels alone judge a
network trained on many times as many texts too noisily to stop it well.
A self-labelled text weighs the ``sample_weight`` it was given.
"""

import numpy as np
import scipy.sparse as sp

from ._inputs import training_weights
from .batching import EncodedTexts


class LabelledTexts:
    """Token ids with their classes, weights and whole-text counts.

    Parameters
    ----------
    ids : ndarray of shape (n_texts, width)
        Token ids.
    y_index : ndarray of shape (n_texts,)
        Their classes, as indices into the classes.
    sample_weight : ndarray of shape (n_texts,) or None
        Their weights as the user gave them, or None.
    counts : sparse matrix of shape (n_texts, n_tokens) or None
        Their whole-text token counts, for the bag of words.
    """

    def __init__(self, ids, y_index, sample_weight=None, counts=None):
        self.ids = ids
        self.y_index = y_index
        self.sample_weight = sample_weight
        self.counts = counts

    def __len__(self):
        return len(self.y_index)

    def take(self, index):
        """The texts at ``index``; all of them, uncopied, for None."""
        return LabelledTexts(
            *(
                _take_part(values, index)
                for values in (self.ids, self.y_index, self.sample_weight, self.counts)
            )
        )

    def extended(self, other):
        """These texts followed by ``other``'s."""
        sample_weight = None
        if self.sample_weight is not None:
            sample_weight = np.concatenate([self.sample_weight, other.sample_weight])
        counts = None
        if self.counts is not None:
            counts = sp.vstack([self.counts, other.counts], format="csr")
        return LabelledTexts(
            np.concatenate([self.ids, other.ids]),
            np.concatenate([self.y_index, other.y_index]),
            sample_weight,
            counts,
        )

    def encoded_with(self, weights, index):
        """The texts as a net reads them, with the loss weights ``weights``
        computed over the texts they were taken from at ``index``."""
        return EncodedTexts(
            self.ids, self.y_index, _take_part(weights, index), self.counts
        )

    def encoded(self, classes, class_weight):
        """The texts as a net reads them, with their loss weights."""
        weights = training_weights(
            classes[self.y_index], self.sample_weight, class_weight, classes
        )
        return EncodedTexts(self.ids, self.y_index, weights, self.counts)


class SelfTrainingTexts:
    """The texts of self-training's rounds.

    Parameters
    ----------
    train : LabelledTexts
        The labelled texts the first round trained on.
    valid : LabelledTexts or None
        The labelled texts early stopping held out of it; None when it held
        none out (without early stopping, or with the user's validation
        data, which then judges every round alone).
    unlabeled_ids : ndarray of shape (n_unlabeled, width)
        Token ids of the unlabeled texts, as wide as ``train``'s.
    unlabeled_counts : sparse matrix or None
        Their token counts, when ``train`` has counts.
    unlabeled_weight : ndarray of shape (n_unlabeled,) or None
        Their weights as the user gave them, which they keep once labelled;
        None when ``train`` has none.
    validation_fraction : float
        The share of self-labelled texts that join ``valid``, when given.
    seed : int
        Seeds which self-labelled texts join ``valid``.
    """

    def __init__(
        self,
        train,
        valid,
        unlabeled_ids,
        unlabeled_counts,
        unlabeled_weight,
        validation_fraction,
        seed,
    ):
        self.train = train
        self.valid = valid
        self.unlabeled_ids = unlabeled_ids
        self.unlabeled_counts = unlabeled_counts
        self.unlabeled_weight = unlabeled_weight
        self.validation_fraction = validation_fraction
        self.random_state = np.random.RandomState(seed)

    @property
    def n_unlabeled(self):
        """How many texts are still without a label."""
        return len(self.unlabeled_ids)

    def label_sure(self, proba, threshold):
        """Give each unlabeled text whose most probable class reaches
        ``threshold`` in ``proba`` (n_unlabeled, n_classes) that class from
        now on; the number of texts labelled."""
        sure = proba.max(axis=1) >= threshold
        n_sure = int(sure.sum())
        if not n_sure:
            return 0
        new = LabelledTexts(
            self.unlabeled_ids[sure],
            proba[sure].argmax(axis=1),
            _take_part(self.unlabeled_weight, sure),
            _take_part(self.unlabeled_counts, sure),
        )
        self.unlabeled_ids = self.unlabeled_ids[~sure]
        self.unlabeled_weight = _take_part(self.unlabeled_weight, ~sure)
        self.unlabeled_counts = _take_part(self.unlabeled_counts, ~sure)
        if self.valid is None:
            self.train = self.train.extended(new)
            return n_sure
        order = self.random_state.permutation(n_sure)
        n_valid = int(round(self.validation_fraction * n_sure))
        self.valid = self.valid.extended(new.take(np.sort(order[:n_valid])))
        self.train = self.train.extended(new.take(np.sort(order[n_valid:])))
        return n_sure

    def labelled_texts(self):
        """Every text with a label, given or self-labelled."""
        texts = self.train if self.valid is None else self.train.extended(self.valid)
        return EncodedTexts(texts.ids, counts=texts.counts)

    def unlabeled_texts(self):
        """The texts still without a label, or None when none is left."""
        if not self.n_unlabeled:
            return None
        return EncodedTexts(self.unlabeled_ids, counts=self.unlabeled_counts)


def _take_part(values, index):
    """``values`` (an array, a sparse matrix or None) at ``index``; all of
    them, uncopied, for a None ``index``."""
    if values is None or index is None:
        return values
    return values[index]
