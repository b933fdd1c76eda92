"""Samples without labels: splitting them from the labelled ones, saying
what becomes of them, and keeping the ids only they hold from adding noise.

A missing label (None, NaN or pd.NA) marks an unlabeled sample. A new
network reads unlabeled samples' ids (its id space, and pretraining when
asked); a continued one trains on labelled samples only.
"""

from numbers import Real

import numpy as np
import torch

from ._inputs import (
    check_sample_weight,
    labelled_only,
    take_samples,
    unlabeled_positions,
)
from ._warnings import warn_user
from .text import UNKNOWN_ID


def split_unlabeled(
    data, y, sample_weight, *, chunk, continuing, pretrain, self_training_rounds=0
):
    """The labelled samples' data, labels and weights, and the unlabeled
    samples' data and weights (None without ``sample_weight``).

    ``pretrain`` and ``self_training_rounds`` say what a fit learns from
    unlabeled samples; a warning says when it learns nothing from them, and
    when self-training is asked for and will not run. Self-training runs in
    a fit that builds a network: neither in ``partial_fit`` (``chunk``) nor
    in a fit that continues a fitted network (``continuing``).

    The unlabeled data is None when there are none, or when the fit
    continues a fitted network, which skips them with a warning. Returns
    None for a ``partial_fit`` call on a fitted network whose samples are
    all unlabeled: there is nothing to train.
    """
    missing = unlabeled_positions(y, len(data))
    if not missing.size:
        _warn_if_missing_became_text(y)
        if pretrain is not None or self_training_rounds:
            _warn_if_minus_one_is_meant_unlabeled(y)
        if self_training_rounds and continuing and not chunk:
            warn_user(
                f"This fit continues a fitted network, which does not "
                f"self-train: self_training_rounds={self_training_rounds} "
                "applies when fit builds a network (warm_start=False).",
            )
        elif self_training_rounds and not chunk:
            warn_user(
                f"self_training_rounds={self_training_rounds} has no unlabeled "
                "samples to label: mark them with a missing label (None, NaN "
                "or pd.NA) in y. This fit trains on the labelled samples only.",
            )
        return data, y, sample_weight, None, None
    if missing.size == len(data):
        if chunk and continuing:
            warn_user(
                f"This partial_fit chunk holds no label ({len(data)} unlabeled "
                "samples); the fitted network trains on labelled samples only, "
                "so the chunk is skipped and the model left as it was.",
            )
            return None
        raise ValueError(
            f"y holds no label: all {len(data)} samples are unlabeled (None, "
            "NaN or pd.NA). Unlabeled texts can only add to labelled ones; "
            "a classifier needs labelled samples of at least 2 classes."
        )
    unlabeled = take_samples(data, missing)
    unread = (
        f"y leaves {missing.size} of {len(data)} samples unlabeled (None, NaN or pd.NA)"
    )
    if continuing:
        warn_user(
            f"{unread}; this fit continues a fitted network, which trains on "
            "labelled samples only"
            + (", without self-training," if self_training_rounds else "")
            + " and skips them. Unlabeled samples are read when a network is "
            "built: by fit without warm_start, or the first partial_fit.",
        )
        unlabeled = None
    elif chunk and self_training_rounds:
        read_by = " and pretraining" if pretrain is not None else ""
        warn_user(
            f"{unread}; partial_fit does not self-train "
            f"(self_training_rounds={self_training_rounds} is used by fit), "
            f"so they only add to the id space{read_by}.",
        )
    elif pretrain is None and not self_training_rounds:
        warn_user(
            f"{unread}; with pretrain=None they only add their tokens to the "
            "id space, which the network never learns from. Set "
            "pretrain='lm' to pretrain the network on them, or "
            "self_training_rounds to label the surest ones.",
        )
    sample_weight = check_sample_weight(sample_weight, len(data))
    labelled = labelled_part(data, y, sample_weight, missing)
    unlabeled_weight = None
    if unlabeled is not None and sample_weight is not None:
        unlabeled_weight = sample_weight[missing]
        if self_training_rounds and not chunk and not unlabeled_weight.any():
            warn_user(
                f"sample_weight is 0 for all {missing.size} unlabeled samples: "
                "the texts self-training labels keep their weight, so "
                f"self_training_rounds={self_training_rounds} learns nothing "
                "from them. Give them the weight their labels deserve (1 "
                "counts them as much as a given label).",
            )
    return (*labelled, unlabeled, unlabeled_weight)


def labelled_part(data, y, sample_weight, missing):
    """The data, labels and weights of the samples not at the positions
    ``missing``; ``sample_weight`` is checked (``check_sample_weight``) or
    None."""
    labelled = np.setdiff1d(np.arange(len(data)), missing)
    if sample_weight is not None:
        sample_weight = sample_weight[labelled]
        if not sample_weight.any():
            raise ValueError(
                f"sample_weight is 0 for all {len(labelled)} labelled samples: "
                "only unlabeled samples (None, NaN or pd.NA in y) weigh "
                "anything, and they have no label to learn from or score."
            )
    return take_samples(data, labelled), labelled_only(y, labelled), sample_weight


def _warn_if_missing_became_text(y):
    """numpy writes NaN and None into an array of strings as the labels
    'nan' and 'None', which would train as a class of their own."""
    dtype = getattr(y, "dtype", None)
    if dtype is None or dtype.kind != "U":
        return
    found = [text for text in ("None", "nan") if np.any(y == text)]
    if found:
        warn_user(
            f"y holds the label {found[0]!r}, trained as a class: numpy "
            "turns None and NaN into the strings 'None' and 'nan' in an "
            "array of strings. To mark unlabeled texts, give y as a list "
            "or an object array (np.array(labels, dtype=object)).",
        )


def _warn_if_minus_one_is_meant_unlabeled(y):
    """scikit-learn's semi-supervised estimators read -1 as unlabeled;
    here it is a class, as -1 and 1 often are."""
    labels = np.asarray(y, dtype=object).ravel()
    if any(
        isinstance(label, Real)
        and not isinstance(label, bool | np.bool_)
        and label == -1
        for label in labels
    ):
        warn_user(
            "y holds the label -1, which is a class here, not scikit-learn's "
            "mark of an unlabeled sample: mark unlabeled texts with None "
            "(or NaN) for pretrain and self-training to read them without "
            "their labels.",
        )


def quiet_unlabeled_only_ids(module, labelled, unlabeled, n_tokens, zero_embeddings):
    """Keep the ids that only unlabeled texts hold from adding noise.

    ``labelled`` and ``unlabeled`` are the :class:`EncodedTexts` of both.
    The bag of words never learns the weights of these ids: their idf is set
    to 0, so that they do not shrink the values of a text's known tokens
    when it is normalised (in a one-off measurement, one seed, on SMS
    Spam's 4,460 texts of which 200 labelled, spam F1 was 0.63 on the
    labelled texts alone, 0.57 with the unlabeled ones in the vocabulary
    and 0.71 with this). With
    ``zero_embeddings`` (nothing gives or trains their embeddings) they are
    zero, as the unknown token's starts.
    """
    only_unlabeled = (unlabeled.document_frequency(n_tokens) > 0) & (
        labelled.document_frequency(n_tokens) == 0
    )
    only_unlabeled[: UNKNOWN_ID + 1] = False
    ids = torch.from_numpy(np.flatnonzero(only_unlabeled))
    with torch.no_grad():
        if module.bag is not None:
            module.bag_idf[ids.to(module.bag_idf.device)] = 0.0
        if zero_embeddings:
            weight = module.embedding.weight
            weight[ids.to(weight.device)] = 0.0
