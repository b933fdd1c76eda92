"""Checks of the data the estimators are given: texts, token ids, labels and
weights.

Each returns the data in the form training reads, or raises an error that
names the bad item, its position and the fix, rather than failing deep
inside numpy or torch.
"""

import math
import re
from itertools import islice
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

# Weights partial_fit can use unscaled. Above, float32 gradients scaled by
# them square to infinity in the gradient norm and in Adam's second moment
# (measured: nothing trains at 1e20); below, the gradients fall under Adam's
# eps of 1e-8 and barely move the weights (chance accuracy at 1e-12).
UNSCALED_WEIGHT_RANGE = (1e-6, 1e15)
# Token ids are int64 in torch's embedding lookup.
MAX_TOKEN_ID = np.iinfo(np.int64).max


def check_ids(X):
    """Return token ids as an int64 array, or explain why they are not."""
    if isinstance(X, str) or (
        isinstance(X, list | tuple) and X and isinstance(X[0], str)
    ):
        raise TypeError(
            "RNNClassifier takes token ids, not texts; use RNNTextClassifier, or "
            "put a TextVectorizer before it in a Pipeline."
        )
    if sp.issparse(X):
        raise TypeError(
            "Sparse input is not supported: X must be a dense 2-D array of token "
            "ids, as TextVectorizer returns."
        )
    try:
        ids = np.asarray(X)
    except ValueError:
        raise ValueError(
            "X must be a 2-D array of token ids, right-padded with 0 to equal "
            "lengths; got rows of different lengths."
        ) from None
    if ids.ndim != 2:
        raise ValueError(
            f"X must be a 2-D array of token ids, got an array of shape {ids.shape}."
        )
    for axis, what in enumerate(["sample(s)", "feature(s)"]):
        if ids.shape[axis] == 0:
            raise ValueError(
                f"Found array with 0 {what} (shape={ids.shape}) while a minimum "
                "of 1 is required: X must hold at least one token id per sample."
            )
    if ids.dtype.kind == "O" and all(
        isinstance(value, Integral) and not isinstance(value, bool | np.bool_)
        for value in ids.flat
    ):
        # Python ints too large for any numpy integer type
        _check_id_range(min(ids.flat), max(ids.flat))
        ids = ids.astype(np.int64)
    if np.issubdtype(ids.dtype, np.floating):
        if not np.all(np.isfinite(ids)):
            raise ValueError("X contains NaN or infinity; token ids must be finite.")
        if np.all(np.mod(ids, 1) == 0):
            _check_id_range(ids.min(), ids.max())
            ids = ids.astype(np.int64)
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(
            f"X must hold integer token ids, got an array of dtype {ids.dtype}."
        )
    # compared as Python ints: uint64 ids past int64's range must not wrap
    _check_id_range(int(ids.min()), int(ids.max()))
    if np.any((ids[:, :-1] == 0) & (ids[:, 1:] != 0)):
        raise ValueError(
            "X must be right-padded: id 0 (padding) is followed by a token in some row."
        )
    return ids.astype(np.int64, copy=False)


def _check_id_range(smallest, largest):
    # as Python ints: a float of 2**63 equals int64's largest once rounded
    if int(smallest) < 0:
        raise ValueError(
            f"X holds negative token ids ({smallest}); ids must be in "
            f"[0, {MAX_TOKEN_ID}]."
        )
    if int(largest) > MAX_TOKEN_ID:
        raise ValueError(
            f"X holds token id {largest}, beyond the id space: ids must be "
            f"integers in [0, {MAX_TOKEN_ID}] (2**63 - 1). Ids beyond those the "
            "network was trained on are read as the unknown token (1)."
        )


def check_labels(y, n_samples):
    """``y`` as a 1-D array of class labels for ``n_samples`` samples."""
    if not hasattr(y, "dtype"):
        # A list of mixed labels would become an array of their strings:
        # look at the labels as given first.
        check_labels_present_and_comparable(np.asarray(y, dtype=object).ravel())
    _check_single_label(y)
    y = _numpy_labels(y)
    y = column_or_1d(y, warn=True)
    _check_same_length(n_samples, len(y))
    check_labels_present_and_comparable(y)
    check_classification_targets(y)
    return y


def unlabeled_positions(y, n_samples):
    """The positions of the samples ``y`` leaves unlabeled: None, NaN or
    pd.NA (not NaT, which no label of a class can be). Empty when ``y``
    cannot be read as one label per sample, which :func:`check_labels` then
    explains; a ``y`` of another length than ``n_samples`` is an error."""
    _check_single_label(y)
    if isinstance(getattr(y, "dtype", None), np.dtype) and y.dtype.kind != "O":
        # numpy labels, in an array or a Series: only floats can be missing,
        # and NaT is a missing label, not a mark
        labels = np.asarray(y).ravel()
        # before any label is looked at, so that the missing ones of a
        # longer y are not taken for unlabeled samples
        _check_same_length(n_samples, len(labels))
        if labels.dtype.kind in "fc":
            return np.flatnonzero(np.isnan(labels))
        return np.empty(0, dtype=np.intp)
    try:
        labels = np.asarray(y, dtype=object).ravel()
    except (TypeError, ValueError):
        return np.empty(0, dtype=np.intp)
    _check_same_length(n_samples, len(labels))
    return np.flatnonzero([_marks_unlabeled(label) for label in labels])


def _check_same_length(n_samples, n_labels):
    if n_labels != n_samples:
        raise ValueError(
            f"X and y have different lengths: {n_samples} samples in X and "
            f"{n_labels} in y."
        )


def _marks_unlabeled(label):
    if label is None:
        return True
    if isinstance(label, float | np.floating):
        return bool(np.isnan(label))
    # pandas' NA, without importing pandas
    return type(label).__name__ == "NAType"


def labelled_only(y, labelled):
    """The labels of ``y`` at the positions ``labelled``, kept as given:
    numpy arrays keep their dtype, other sequences become a list of their
    items."""
    if isinstance(y, np.ndarray) and y.dtype.kind != "O":
        return y.ravel()[labelled]
    return np.asarray(y, dtype=object).ravel()[labelled].tolist()


def take_samples(data, index):
    """The samples of ``data`` (a list of texts or an array of ids) at ``index``."""
    if isinstance(data, list):
        return [data[position] for position in index]
    return data[index]


def _check_single_label(y):
    """Refuse a target with several labels per sample, saying so."""
    shape = getattr(y, "shape", None)
    if shape is None:
        # An object array keeps a ragged list one-dimensional.
        shape = np.asarray(y, dtype=object).shape
    if len(shape) == 2 and shape[1] > 1:
        raise ValueError(
            f"y has {shape[1]} columns (shape {shape}): multilabel and "
            "multi-output targets, such as an indicator matrix with one column "
            "per label, are not supported yet; the classifier predicts one label "
            "per text. For several labels per text, fit one classifier per "
            "column, for instance with sklearn.multioutput.MultiOutputClassifier."
        )


def _numpy_labels(y):
    """Labels in pandas' nullable dtypes as numpy labels of their own type.

    numpy would read a nullable ``"boolean"`` or ``"Int64"`` column as
    floats, and ``predict`` would answer 0.0 for False. Missing values are
    refused first, by position.
    """
    numpy_dtype = getattr(getattr(y, "dtype", None), "numpy_dtype", None)
    if numpy_dtype is None or isinstance(y.dtype, np.dtype):
        return y
    check_labels_present_and_comparable(np.asarray(y, dtype=object).ravel())
    return np.asarray(y.to_numpy(dtype=numpy_dtype))


def check_labels_present_and_comparable(y, name="y"):
    """Refuse missing labels and labels of mixed kinds, naming them.

    Labels are of one kind when all are text (``str``, ``np.str_``), all
    booleans, or all numbers (Python's or numpy's ints and floats); a bool
    beside numbers would be merged with 0 and 1.
    """
    if y.dtype.kind == "f":
        missing = np.flatnonzero(np.isnan(y))
    elif y.dtype.kind in "mM":
        missing = np.flatnonzero(np.isnat(y))
    elif y.dtype.kind == "O":
        missing = np.flatnonzero([_is_missing(label) for label in y])
    else:
        return
    if missing.size:
        raise ValueError(
            f"{name} holds {missing.size} missing label(s) (None, NaN, NaT or "
            f"pd.NA), first at position(s) {missing[:5].tolist()}; drop those "
            "samples or label them."
        )
    if y.dtype.kind == "O":
        kinds = {}
        for position, label in enumerate(y):
            kinds.setdefault(_label_kind(label), (position, label))
        if len(kinds) > 1:
            found = ", ".join(
                f"{kind} (first {label!r} at position {position})"
                for kind, (position, label) in kinds.items()
            )
            raise TypeError(
                f"{name} mixes labels of different kinds: {found}; use one kind for "
                "all labels (for example, all str)."
            )


def _is_missing(label):
    if label is None:
        return True
    if isinstance(label, float | np.floating):
        return bool(np.isnan(label))
    if isinstance(label, np.datetime64 | np.timedelta64):
        return bool(np.isnat(label))
    # pandas' NA and NaT, without importing pandas
    return type(label).__name__ in ("NAType", "NaTType")


def _label_kind(label):
    if isinstance(label, str):  # np.str_ too
        return "str"
    if isinstance(label, bool | np.bool_):
        return "bool"
    if isinstance(label, Real):  # numpy's ints and floats are registered
        return "number"
    return type(label).__name__


def check_targets(
    y,
    n_samples,
    sample_weight,
    *,
    partial_fit,
    classes=None,
    fitted_classes=None,
    class_weight=None,
):
    """The labels, classes and sample weights one fit trains with.

    ``fitted_classes`` are those of the network this fit continues, or None
    for a new one. The four cases, as scikit-learn's incremental estimators
    read them:

    ============  =======================  ====================================
    call          network                  classes
    ============  =======================  ====================================
    fit           new                      those of ``y``, at least 2
    fit           continued (warm_start)   the fitted ones; ``y`` among them
    partial_fit   new (first call)         ``classes``, required, at least 2
    partial_fit   continued                ``classes`` if given, equal to the
                                           fitted ones; ``y`` among them
    ============  =======================  ====================================
    """
    if partial_fit:
        classes = _chunk_classes(classes, fitted_classes, class_weight)
    y = check_labels(y, n_samples)
    if not partial_fit and fitted_classes is None:
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(
                f"y holds a single class ({classes[0]!r}); a classifier needs "
                "at least 2 classes."
            )
    elif not partial_fit:
        classes = fitted_classes
        unseen = np.setdiff1d(y, classes)
        if unseen.size:
            raise ValueError(
                f"warm_start=True continues a fit made with classes "
                f"{classes.tolist()}, but y holds new labels {unseen.tolist()}."
            )
    else:
        unknown = np.setdiff1d(y, classes)
        if unknown.size:
            raise ValueError(
                f"y holds labels that are not in classes {classes.tolist()}: "
                f"{unknown.tolist()}."
            )
    return y, classes, check_sample_weight(sample_weight, n_samples)


def _chunk_classes(classes, fitted_classes, class_weight):
    """The classes of a ``partial_fit`` call, checked against the fitted ones."""
    if class_weight == "balanced":
        raise ValueError(
            "class_weight='balanced' needs the labels of all the data, which "
            "partial_fit never sees at once. Compute the weights beforehand, "
            "e.g. with sklearn.utils.class_weight.compute_class_weight, and "
            "pass them as a dict."
        )
    if classes is None:
        if fitted_classes is None:
            raise ValueError(
                "classes must be given in the first call to partial_fit: "
                "every label of the whole data, as a chunk may lack some."
            )
        return fitted_classes
    # looked at as given: numpy would turn ["neg", 1] into strings
    check_labels_present_and_comparable(
        np.asarray(classes, dtype=object).ravel(), "classes"
    )
    given = np.asarray(classes)
    check_labels_present_and_comparable(given.ravel(), "classes")
    check_classification_targets(given)
    classes = np.unique(given)
    if len(classes) < 2:
        raise ValueError(
            f"classes holds {len(classes)} label(s); a classifier needs at "
            "least 2 classes."
        )
    if fitted_classes is not None and not np.array_equal(classes, fitted_classes):
        raise ValueError(
            f"classes={classes.tolist()} differs from the classes "
            f"{fitted_classes.tolist()} the model was trained with."
        )
    return classes


def check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim != 1 or len(weights) != n_samples:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), one weight per "
            f"sample, got shape {weights.shape}."
        )
    if not np.all(np.isfinite(weights)) or weights.min() < 0:
        raise ValueError("sample_weight must be finite and non-negative.")
    if not weights.any():
        raise ValueError("sample_weight sums to 0: no sample would count.")
    return weights


def training_weights(y, sample_weight, class_weight, classes, rescale=True):
    """Per-sample loss weights, scaled to mean 1, or None when all are equal.

    Scaling to mean 1 keeps the loss (and so the useful learning rate) on the
    same scale whatever the weights' units; each factor is first divided by
    its largest value, so that weights near the ends of the float range
    neither overflow nor vanish. Without ``rescale`` (chunks of
    ``partial_fit``, whose weights must compare across chunks) the weights
    are kept as they are, which float32 training needs within
    ``UNSCALED_WEIGHT_RANGE``, and None only when all are 1.
    """
    factors = []
    if class_weight is not None:
        if isinstance(class_weight, dict):
            _check_class_weight(class_weight, classes)
        factors.append(compute_sample_weight(class_weight, y))
    if sample_weight is not None:
        factors.append(sample_weight)
    if not factors:
        return None
    if not rescale:
        with np.errstate(over="ignore"):  # an overflow is refused just below
            weights = np.prod(factors, axis=0)
        _check_unscaled_weights(weights)
        return None if np.all(weights == 1) else weights
    weights = np.prod(
        [factor / factor.max() if factor.any() else factor for factor in factors],
        axis=0,
    )
    if not weights.any():
        raise ValueError(
            "class_weight times sample_weight is 0 for every sample: nothing "
            "would be learnt."
        )
    if np.all(weights == weights[0]):
        return None
    return weights / weights.mean()


def _check_unscaled_weights(weights):
    low, high = UNSCALED_WEIGHT_RANGE
    positive = weights[weights > 0]
    if not positive.size:
        raise ValueError(
            "class_weight times sample_weight is 0 for every sample: nothing "
            "would be learnt."
        )
    if not (low <= positive.min() and positive.max() <= high):
        raise ValueError(
            f"partial_fit uses the weights as given, so that they compare "
            f"across chunks, and trains in float32: class_weight times "
            f"sample_weight must be 0 or within [{low:g}, {high:g}], got values "
            f"from {positive.min():.3g} to {positive.max():.3g}. Divide the "
            "weights of every chunk by one common factor."
        )


def _check_class_weight(class_weight, classes):
    unknown = [label for label in class_weight if label not in set(classes.tolist())]
    if unknown:
        raise ValueError(
            f"class_weight names labels that are not in y: {unknown}; the classes "
            f"are {classes.tolist()}."
        )
    for label, weight in class_weight.items():
        if not isinstance(weight, Real) or not np.isfinite(weight) or weight < 0:
            raise ValueError(
                f"class_weight[{label!r}] must be a finite non-negative number, "
                f"got {weight!r}."
            )


def check_texts(X, name="X"):
    """Return ``X`` as a list of ``str``, or explain why it is not texts.

    Accepts a list, tuple, 1-D numpy array, pandas Series, one-column DataFrame
    or 2-D array, or any other non-string iterable of strings.
    """
    if isinstance(X, str | bytes):
        raise TypeError(
            f"{name} must be a sequence of texts, one per sample, but got a single "
            f"{type(X).__name__}. Wrap it in a list: [text]."
        )
    if isinstance(X, dict | set | frozenset):
        raise TypeError(
            f"{name} must be an ordered sequence of texts, got a {type(X).__name__}."
        )
    if hasattr(X, "columns") and hasattr(X, "iloc"):
        if X.shape[1] != 1:
            raise ValueError(
                f"{name} is a DataFrame with {X.shape[1]} columns; expected exactly "
                "one column of texts. Select the text column, e.g. df['text']."
            )
        X = X.iloc[:, 0]
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        elif X.ndim != 1:
            raise ValueError(
                f"{name} must be 1-dimensional (one text per sample), got an array "
                f"of shape {X.shape}."
            )
    try:
        texts = list(X)
    except TypeError:
        raise TypeError(
            f"{name} must be a sequence of texts, got {type(X).__name__}."
        ) from None
    if not texts:
        raise ValueError(f"{name} is empty: at least one text is needed.")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise _not_a_text_error(name, index, text)
    return texts


def iter_text_chunks(X, chunk_size, name="X"):
    """Yield the texts of ``X`` as lists of at most ``chunk_size`` str.

    A container (anything with a length) is checked by :func:`check_texts` as
    a whole. Any other iterable, a generator over a file say, is read once, a
    chunk at a time, so that it is never held in memory all at once; its
    items are checked as they are read.

    Raises
    ------
    TypeError or ValueError
        As :func:`check_texts` does: naming the first item that is not a str,
        or saying that ``X`` holds no text at all.
    """
    if hasattr(X, "__len__"):
        texts = check_texts(X, name)
        for start in range(0, len(texts), chunk_size):
            yield texts[start : start + chunk_size]
        return
    try:
        iterator = iter(X)
    except TypeError:
        raise TypeError(
            f"{name} must be a sequence of texts, got {type(X).__name__}."
        ) from None
    n_read = 0
    while chunk := list(islice(iterator, chunk_size)):
        for index, text in enumerate(chunk, start=n_read):
            if not isinstance(text, str):
                raise _not_a_text_error(name, index, text)
        yield chunk
        n_read += len(chunk)
        del chunk, text  # not held while the next chunk is read
    if not n_read:
        raise ValueError(f"{name} is empty: at least one text is needed.")


def _not_a_text_error(name, index, item):
    where = f"{name}[{index}]"
    if item is None:
        return ValueError(f"{where} is None (a missing value); expected a str.")
    if (isinstance(item, float) and math.isnan(item)) or type(item).__name__ in (
        "NAType",
        "NaTType",
    ):
        return ValueError(f"{where} is {item} (a missing value); expected a str.")
    if isinstance(item, bytes | bytearray):
        return TypeError(
            f"{where} is {type(item).__name__}; expected a str. Decode it first, "
            "e.g. text.decode('utf-8')."
        )
    if isinstance(item, list | tuple | np.ndarray):
        return TypeError(
            f"{where} is a {type(item).__name__}, not a str: {name} must hold one "
            "text per sample, not nested sequences."
        )
    return TypeError(f"{where} has type {type(item).__name__}; expected a str.")


def check_validation_data(validation_data, check_data):
    """``validation_data`` as checked data and labels.

    Parameters
    ----------
    validation_data : tuple
        ``(X_val, y_val)``, as Keras takes it.
    check_data : callable
        Checks ``X_val`` as the fit checks its ``X``.

    Returns
    -------
    data, y : the checked ``X_val`` and ``y_val``.
    """
    if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
        what = f"a {type(validation_data).__name__}"
        if isinstance(validation_data, tuple | list):
            n_items = len(validation_data)
            what += f" of {n_items} item{'s' * (n_items != 1)}"
        raise TypeError(
            "validation_data must be a pair (X_val, y_val) of validation texts "
            f"and their labels; got {what}."
        )
    X_val, y_val = validation_data
    try:
        data = check_data(X_val)
    except TypeError as error:
        # the wrong kind of data, as texts for ids: often a pipeline's
        raise TypeError(
            f"validation_data: {_as_validation(error)} In a Pipeline, "
            "validation_data reaches this step as given, not transformed by the "
            "steps before it."
        ) from None
    except ValueError as error:
        raise ValueError(f"validation_data: {_as_validation(error)}") from None
    try:
        y = check_labels(y_val, len(data))
    except (TypeError, ValueError) as error:
        raise type(error)(f"validation_data: {_as_validation(error)}") from None
    return data, y


def _as_validation(error):
    """An error about ``X`` or ``y`` as one about ``X_val`` or ``y_val``."""
    return re.sub(r"\b(X|y)\b(?!_)", r"\1_val", str(error))


def validation_labels(y_val, classes):
    """The class indices of the validation labels, all among ``classes``."""
    # by Python value: np.setdiff1d would compare 0 and "0" as text
    known = set(classes.tolist())
    unseen = [label for label in dict.fromkeys(y_val.tolist()) if label not in known]
    if unseen:
        shown = ", ".join(repr(label) for label in unseen[:5])
        raise ValueError(
            f"validation_data has labels that are not among the classes trained "
            f"on ({', '.join(repr(c) for c in classes.tolist())}): {shown}."
        )
    return np.searchsorted(classes, y_val)
