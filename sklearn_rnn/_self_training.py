"""Self-training's bookkeeping: which texts a round trains on, and which
unlabeled texts are still waiting for a label.

After each round the network predicts the texts still unlabeled; those whose
most probable class reaches the threshold join the training texts with that
class as their label, and keep it in every later round. The validation texts
of early stopping are never among them: they are true labels, set aside
before the first round.
"""

import numpy as np
import scipy.sparse as sp

from ._inputs import training_weights
from .batching import EncodedTexts


class SelfTrainingTexts:
    """The training texts of self-training's rounds.

    Parameters
    ----------
    ids : ndarray of shape (n_labelled, width)
        Token ids of the labelled training texts (without the validation
        texts).
    y_index : ndarray of shape (n_labelled,)
        Their classes, as indices into ``classes``.
    sample_weight : ndarray of shape (n_labelled,) or None
        Their weights as the user gave them, or None.
    counts : sparse matrix of shape (n_labelled, n_tokens) or None
        Their whole-text token counts, for the bag of words.
    unlabeled_ids : ndarray of shape (n_unlabeled, width)
        Token ids of the unlabeled texts, as wide as ``ids``.
    unlabeled_counts : sparse matrix or None
        Their token counts, when ``counts`` is given.
    """

    def __init__(
        self, ids, y_index, sample_weight, counts, unlabeled_ids, unlabeled_counts
    ):
        self.ids = ids
        self.y_index = y_index
        self.sample_weight = sample_weight
        self.counts = counts
        self.unlabeled_ids = unlabeled_ids
        self.unlabeled_counts = unlabeled_counts
        self.n_given = len(y_index)

    @classmethod
    def of(cls, run, y_index, train_index):
        """The texts of a :class:`~sklearn_rnn._training.TrainingRun`: its
        labelled samples at ``train_index`` (all, for None), of classes
        ``y_index``, and its unlabeled ones."""

        return cls(
            *(
                take_part(values, train_index)
                for values in (run.data, y_index, run.sample_weight, run.counts)
            ),
            run.unlabeled,
            run.unlabeled_counts,
        )

    @property
    def n_unlabeled(self):
        """How many texts are still without a label."""
        return len(self.unlabeled_ids)

    def label_sure(self, proba, threshold):
        """Give each unlabeled text whose most probable class reaches
        ``threshold`` in ``proba`` (n_unlabeled, n_classes) that class, and
        train on it from now on; the number of texts labelled."""
        sure = proba.max(axis=1) >= threshold
        n_sure = int(sure.sum())
        if not n_sure:
            return 0
        self.ids = np.concatenate([self.ids, self.unlabeled_ids[sure]])
        self.y_index = np.concatenate([self.y_index, proba[sure].argmax(axis=1)])
        if self.sample_weight is not None:
            # a self-labelled text weighs as much as a given one on average
            mean = self.sample_weight[: self.n_given].mean()
            self.sample_weight = np.concatenate(
                [self.sample_weight, np.full(n_sure, mean)]
            )
        self.unlabeled_ids = self.unlabeled_ids[~sure]
        if self.counts is not None:
            self.counts = sp.vstack(
                [self.counts, self.unlabeled_counts[sure]], format="csr"
            )
            self.unlabeled_counts = self.unlabeled_counts[~sure]
        return n_sure

    def training_set(self, classes, class_weight):
        """The texts to train on now, with their loss weights."""
        weights = training_weights(
            classes[self.y_index], self.sample_weight, class_weight, classes
        )
        return EncodedTexts(self.ids, self.y_index, weights, self.counts)

    def labelled_texts(self):
        """Every text with a label, given or self-labelled."""
        return EncodedTexts(self.ids, counts=self.counts)

    def unlabeled_texts(self):
        """The texts still without a label, or None when none is left."""
        if not self.n_unlabeled:
            return None
        return EncodedTexts(self.unlabeled_ids, counts=self.unlabeled_counts)


def take_part(values, index):
    """``values`` (an array, a sparse matrix or None) at ``index``; all of
    them, uncopied, for a None ``index``."""
    if values is None or index is None:
        return values
    return values[index]
