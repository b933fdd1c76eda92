"""What the two recurrent classifiers share: the network and training
parameters with their constraints, and fitting through a trainer.

:class:`BaseRNNClassifier` is not public; its subclasses in ``classifier``
document every parameter.
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin

from ._device import PRECISIONS
from ._inputs import check_sample_weight, unlabeled_positions
from ._net import proba_from_logits
from ._net_builder import LR_SCHEDULES, OPTIMIZERS
from ._param_validation import (
    BOOLEAN,
    RANDOM_STATE,
    InstanceOf,
    Interval,
    IsNone,
    Options,
    Satisfies,
    validate_params,
)
from ._training import InterruptedAfterEpochs, Trainer
from ._unlabeled import labelled_part
from .embeddings import is_word_vectors
from .modules import POOLINGS, RNN_CELLS
from .pretraining import PRETRAINING


class BaseRNNClassifier(ClassifierMixin, BaseEstimator):
    """Network and training parameters, and fitting through a trainer."""

    _trainer = Trainer

    _parameter_constraints = {
        "embedding_dim": [Interval(Integral, 1, None)],
        "hidden_size": [Interval(Integral, 1, None)],
        "num_layers": [Interval(Integral, 1, None)],
        "cell": [Options(*RNN_CELLS)],
        "bidirectional": [BOOLEAN],
        "dropout": [Interval(Real, 0, 1, "left")],
        "embedding_dropout": [Interval(Real, 0, 1, "left")],
        "pooling": [Options(*POOLINGS)],
        "bag_of_words": [BOOLEAN],
        "embeddings": [
            IsNone(),
            Satisfies(
                is_word_vectors,
                "a path to a word2vec or GloVe text file, a dict of token to "
                "vector, or gensim KeyedVectors",
            ),
        ],
        "freeze_embeddings": [BOOLEAN],
        "lr": [Interval(Real, 0, None, "neither")],
        "batch_size": [Interval(Integral, 1, None)],
        "max_epochs": [Interval(Integral, 1, None)],
        "optimizer": [Options(*OPTIMIZERS)],
        "weight_decay": [Interval(Real, 0, None, "left")],
        "clip_grad_norm": [Interval(Real, 0, None, "neither"), IsNone()],
        "lr_schedule": [Options(*LR_SCHEDULES)],
        "early_stopping": [Options("auto"), BOOLEAN],
        "validation_fraction": [Interval(Real, 0, 1, "neither")],
        "n_iter_no_change": [Interval(Integral, 1, None)],
        "class_weight": [
            Options("balanced"),
            InstanceOf(dict, "a dict of label to weight"),
            IsNone(),
        ],
        "device": [InstanceOf((str, torch.device), "'auto', 'cpu', 'cuda'")],
        "precision": [Options(*PRECISIONS)],
        "accelerate": [BOOLEAN],
        "random_state": list(RANDOM_STATE),
        "verbose": [Interval(Integral, 0, None), BOOLEAN],
        "warm_start": [BOOLEAN],
        "pretrain": [Options(*PRETRAINING), IsNone()],
        "pretrain_epochs": [Interval(Integral, 1, None)],
        "self_training_rounds": [Interval(Integral, 0, None)],
        "self_training_threshold": [Interval(Real, 0, 1, "left")],
    }

    def __init__(
        self,
        *,
        embedding_dim=100,
        hidden_size=64,
        num_layers=1,
        cell="lstm",
        bidirectional=True,
        dropout=0.5,
        embedding_dropout=0.5,
        pooling="max",
        bag_of_words=True,
        embeddings=None,
        freeze_embeddings=False,
        lr=3e-3,
        batch_size=64,
        max_epochs=20,
        optimizer="adam",
        weight_decay=0.0,
        clip_grad_norm=5.0,
        lr_schedule="plateau",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=2,
        class_weight=None,
        device="auto",
        precision="float32",
        accelerate=False,
        random_state=None,
        verbose=0,
        warm_start=False,
        pretrain=None,
        pretrain_epochs=1,
        self_training_rounds=0,
        self_training_threshold=0.75,
    ):
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.cell = cell
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.embedding_dropout = embedding_dropout
        self.pooling = pooling
        self.bag_of_words = bag_of_words
        self.embeddings = embeddings
        self.freeze_embeddings = freeze_embeddings
        self.lr = lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.clip_grad_norm = clip_grad_norm
        self.lr_schedule = lr_schedule
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.device = device
        self.precision = precision
        self.accelerate = accelerate
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.pretrain = pretrain
        self.pretrain_epochs = pretrain_epochs
        self.self_training_rounds = self_training_rounds
        self.self_training_threshold = self_training_threshold

    def _train(self, fit, *args):
        """Run the trainer's ``fit`` method, then take its fitted state.

        The trainer reads the parameters as validated plain values (numpy
        scalars turned into Python numbers) and leaves the user's values as
        they were. Its fitted attributes are taken over in one step once
        ``fit`` returns: an error or an interrupt anywhere before leaves this
        estimator as it was. An interrupted training that kept completed
        epochs is taken over too, as its ``KeyboardInterrupt`` says.
        """
        fitted = {
            name: value
            for name, value in vars(self).items()
            if name.endswith("_") and not name.startswith("_")
        }
        trainer = self._trainer(
            validate_params(self, self._parameter_constraints), fitted
        )
        try:
            fit(trainer, *args)
        except InterruptedAfterEpochs:
            vars(self).update(trainer.fitted_attributes())
            raise
        vars(self).update(trainer.fitted_attributes())
        return self

    def score(self, X, y, sample_weight=None):
        """Mean accuracy on the labelled samples of ``X``.

        Samples whose label is missing (None, NaN or pd.NA), the texts a fit
        reads as unlabeled, are left out, so that a search or
        ``cross_val_score`` with the default scoring judges the labelled
        texts of each fold. Other scorers see ``y`` as it is: give them
        labelled samples only.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The samples, as ``predict`` takes them.
        y : array-like of shape (n_samples,)
            Their true labels; missing ones mark unlabeled samples.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        score : float
            The accuracy of ``predict`` on the labelled samples.
        """
        data = self._check_inputs(X)
        missing = unlabeled_positions(y, len(data))
        if missing.size == len(data):
            raise ValueError(
                "y holds no label: every sample is unlabeled (None, NaN or "
                "pd.NA), so there is no accuracy to measure."
            )
        if missing.size:
            data, y, sample_weight = labelled_part(
                data, y, check_sample_weight(sample_weight, len(data)), missing
            )
        return super().score(data, y, sample_weight)

    # What the prediction methods of both estimators make of the logits
    # (n_samples, n_classes) of their inputs: computed from the logits, in
    # float64, so that the log-probabilities of near-certain classes do not
    # round to log(1) = 0 or log(0).

    def _predict_from_logits(self, logits):
        return self.classes_[np.argmax(logits, axis=1)]

    _proba_from_logits = staticmethod(proba_from_logits)

    @staticmethod
    def _log_proba_from_logits(logits):
        return torch.from_numpy(logits).log_softmax(dim=1).numpy()

    @staticmethod
    def _decision_from_logits(logits):
        # as scikit-learn's binary classifiers: the score of classes_[1],
        # positive where it is predicted
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags
