"""Validation of hyper-parameters and of text input.

Parameters are checked in ``fit`` against a ``_parameter_constraints`` mapping, in
the style of scikit-learn. We keep our own small implementation because
scikit-learn's is private API that changes between releases.
"""

import math
import reprlib
from itertools import islice
from numbers import Integral

import numpy as np


class InvalidParameterError(ValueError, TypeError):
    """Raised when a hyper-parameter has a value it does not accept.

    It subclasses both ``ValueError`` and ``TypeError``, as scikit-learn's own
    ``InvalidParameterError`` does, so that either can be caught.
    """


INT64_MIN, INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)


class Interval:
    """Numbers of one kind (``Integral`` or ``Real``) within bounds."""

    def __init__(self, kind, left, right, closed="both"):
        self.kind = kind
        self.left = left
        self.right = right
        self.closed = closed

    def is_satisfied_by(self, value):
        if isinstance(value, bool | np.bool_) or not isinstance(value, self.kind):
            return False
        if isinstance(value, Integral):
            # sizes and counts reach torch as int64; a float setting given as
            # an int must be a float too
            if not INT64_MIN <= value <= INT64_MAX:
                return False
        elif not math.isfinite(value):
            # inf passes an open bound's comparison but no setting works at it
            return False
        left_ok = (
            self.left is None
            or value > self.left
            or (value == self.left and self.closed in ("left", "both"))
        )
        right_ok = (
            self.right is None
            or value < self.right
            or (value == self.right and self.closed in ("right", "both"))
        )
        return left_ok and right_ok

    def __str__(self):
        kind = "an int" if self.kind is Integral else "a finite float"
        left_closed = self.left is not None and self.closed in ("left", "both")
        right_closed = self.right is not None and self.closed in ("right", "both")
        left_bracket = "[" if left_closed else "("
        right_bracket = "]" if right_closed else ")"
        left = self.left
        if left is None:
            left, left_bracket = (
                ("-2**63", "[") if self.kind is Integral else ("-inf", "(")
            )
        if self.right is not None:
            right = self.right
        elif self.kind is Integral:
            right, right_bracket = "2**63 - 1", "]"
        else:
            right = "inf"
        return f"{kind} in the range {left_bracket}{left}, {right}{right_bracket}"


class Options:
    """One of a fixed set of values, typically strings."""

    def __init__(self, *values):
        self.values = values

    def is_satisfied_by(self, value):
        return isinstance(value, str | bool) and value in self.values

    def __str__(self):
        return "one of " + ", ".join(repr(v) for v in self.values)


class InstanceOf:
    """An instance of one or more types."""

    def __init__(self, types, description):
        self.types = types
        self.description = description

    def is_satisfied_by(self, value):
        return isinstance(value, self.types)

    def __str__(self):
        return self.description


class IsNone:
    def is_satisfied_by(self, value):
        return value is None

    def __str__(self):
        return "None"


class Satisfies:
    """A value for which ``predicate`` is true."""

    def __init__(self, predicate, description):
        self.predicate = predicate
        self.description = description

    def is_satisfied_by(self, value):
        return self.predicate(value)

    def __str__(self):
        return self.description


class IsCallable:
    def is_satisfied_by(self, value):
        return callable(value)

    def __str__(self):
        return "a callable"


BOOLEAN = InstanceOf((bool, np.bool_), "a bool")
RANDOM_STATE = (
    IsNone(),
    Interval(Integral, 0, 2**32 - 1),
    InstanceOf(np.random.RandomState, "a numpy RandomState"),
)


def validate_params(estimator, constraints):
    """Check each parameter named in ``constraints`` on ``estimator``.

    Returns
    -------
    params : dict
        Each parameter's value, numpy scalars turned into the Python ``int``,
        ``float``, ``bool`` or ``str`` they stand for: PyTorch refuses numpy
        integers as sizes, and a search over ``np.arange(...)`` passes them.

    Raises
    ------
    InvalidParameterError
        Naming the first parameter whose value no constraint accepts, what it
        accepts, and the value it got.
    """
    params = {}
    for name, allowed in constraints.items():
        value = getattr(estimator, name)
        if not any(constraint.is_satisfied_by(value) for constraint in allowed):
            accepted = " or ".join(str(constraint) for constraint in allowed)
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(estimator).__name__} must be "
                f"{accepted}. Got {reprlib.repr(value)} instead."
            )
        params[name] = python_scalar(value)
    return params


def python_scalar(value):
    """A numpy scalar as the Python number or str it stands for."""
    if isinstance(value, np.generic):
        value = value.item()
        # item() keeps long doubles (and half-precision complex kin) as numpy
        if isinstance(value, np.floating):
            value = float(value)
    return value


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
