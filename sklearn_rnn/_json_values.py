"""Checks of the values of parsed JSON, for reading a model file strictly.

Each checker returns the value it was given, or raises ``ValueError`` naming
where the value is (``where``, such as ``"model.estimator.params"``) and
what it holds instead, shown short by :func:`short_repr`.
"""

import reprlib


def json_object(value, where, required, optional=()):
    """``value``, a JSON object with the required fields and no unknown ones."""
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be an object, not {json_type(value)}")
    missing = [key for key in required if key not in value]
    if missing:
        raise ValueError(f"{where} lacks the fields {missing}")
    unknown = sorted(set(value) - set(required) - set(optional))
    if unknown:
        raise ValueError(f"{where} has unknown fields {short_repr(unknown)}")
    return value


def json_array(value, where):
    """``value``, a JSON array."""
    if not isinstance(value, list):
        raise ValueError(f"{where} must be an array, not {json_type(value)}")
    return value


def json_str(value, where):
    """``value``, a JSON string."""
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a string, not {json_type(value)}")
    return value


def json_int(value, where, minimum, maximum=None):
    """``value``, an int (not a bool) of at least ``minimum``, at most ``maximum``."""
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        if maximum is None:
            bounds = f"an int of at least {minimum}"
        elif maximum == minimum:
            bounds = f"{minimum}"
        else:
            bounds = f"an int from {minimum} to {maximum}"
        raise ValueError(f"{where} must be {bounds}; got {short_repr(value)}")
    return value


def json_number(value, where, minimum=None, maximum=None):
    """A finite number (parsing the JSON refused others) within bounds."""
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        bounds = "" if minimum is None else f" from {minimum}"
        bounds += "" if maximum is None else f" to {maximum}"
        raise ValueError(f"{where} must be a number{bounds}; got {short_repr(value)}")
    return value


def json_type(value):
    """What kind of JSON value ``value`` is, in words for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {short_repr(value)}"
    if isinstance(value, str):
        return f"the string {short_repr(value)}"
    return "an array" if isinstance(value, list) else "an object"


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlong = 30


def short_repr(value):
    """A repr of ``value`` short enough for an error message."""
    return _SHORT.repr(value)
