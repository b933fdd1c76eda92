"""Which labelled texts early stopping holds out: whether a fit stops early
at all (``early_stopping="auto"``'s rule), the stratified split, and the
line ``verbose`` prints about them.

What counts as a better epoch once the texts are held out is
``_early_stopping``'s job.
"""

import numpy as np
from sklearn.model_selection import train_test_split

# With "auto", early stopping needs this many training samples: below it, a
# validation split is too small to judge epochs by.
AUTO_EARLY_STOPPING_MIN_SAMPLES = 1000


def validation_size(n_samples, fraction):
    """How many of ``n_samples`` early stopping holds out for validation."""
    return int(np.ceil(fraction * n_samples))


def uses_early_stopping(
    early_stopping, validation_fraction, y_index, n_classes, validation=None
):
    """Whether a fit with the ``early_stopping`` setting stops early.

    ``"auto"`` needs enough samples, and a stratified split that keeps every
    class on both sides; without one it trains without stopping early, where
    ``True`` would be an error. Given ``validation`` data, it stops early
    unless ``early_stopping=False``.
    """
    if validation is not None:
        return early_stopping is not False
    if early_stopping != "auto":
        return bool(early_stopping)
    n_samples = len(y_index)
    n_valid = validation_size(n_samples, validation_fraction)
    return (
        n_samples >= AUTO_EARLY_STOPPING_MIN_SAMPLES
        and min(n_valid, n_samples - n_valid) >= n_classes
        and np.bincount(y_index, minlength=n_classes).min() >= 2
    )


def describe_split(
    early_stopping_setting,
    validation_fraction,
    max_epochs,
    n_samples,
    early_stopping,
    validation=None,
):
    """One line saying whether early stopping is on (``early_stopping``), why
    (its setting), and what it holds out of ``n_samples``."""
    if validation is not None:
        n_valid = f"{len(validation[1]):,}"
        if not early_stopping:
            return (
                f"Early stopping is off (early_stopping=False): training on "
                f"all {n_samples:,} texts for {max_epochs} epochs, "
                f"measuring the loss on the {n_valid} validation texts given."
            )
        return (
            f"Early stopping is on, judged on the {n_valid} validation texts "
            f"given: training on all {n_samples:,} texts."
        )
    why = ""
    if early_stopping_setting == "auto":
        limit = f"{AUTO_EARLY_STOPPING_MIN_SAMPLES:,}"
        why = (
            f" (by default from {limit} texts)"
            if early_stopping
            else f" (by default below {limit} texts, or when a validation "
            "split cannot hold every class)"
        )
    if not early_stopping:
        return (
            f"Early stopping is off{why}: training on all {n_samples:,} "
            f"texts for {max_epochs} epochs."
        )
    n_valid = validation_size(n_samples, validation_fraction)
    return (
        f"Early stopping is on{why}: training on {n_samples - n_valid:,} "
        f"texts, {n_valid:,} held out for validation."
    )


def stratified_split(y_index, n_classes, validation_fraction, seed):
    """The positions of the training samples and of the validation ones, in
    a split stratified by the classes ``y_index``."""
    n_valid = validation_size(len(y_index), validation_fraction)
    if n_valid < n_classes or len(y_index) - n_valid < n_classes:
        raise ValueError(
            f"early_stopping needs a validation split of "
            f"validation_fraction={validation_fraction} that holds every "
            f"one of the {n_classes} classes, and a training part that does "
            f"too; with {len(y_index)} samples the split has {n_valid} "
            "validation samples. Use more data, a larger validation_fraction "
            "or early_stopping=False."
        )
    try:
        return train_test_split(
            np.arange(len(y_index)),
            test_size=n_valid,
            stratify=y_index,
            random_state=np.random.RandomState(seed),
        )
    except ValueError as error:
        raise ValueError(
            "early_stopping could not make a stratified validation split "
            f"(validation_fraction={validation_fraction}): {error}"
        ) from None
