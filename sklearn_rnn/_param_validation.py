"""Validation of hyper-parameters.

Parameters are checked in ``fit`` against a ``_parameter_constraints`` mapping, in
the style of scikit-learn. We keep our own small implementation because
scikit-learn's is private API that changes between releases. Checks of data
live in ``_inputs``.
"""

import math
import reprlib
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
