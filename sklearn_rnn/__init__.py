"""Recurrent neural networks for text classification, as scikit-learn estimators.

The public names load their modules (and PyTorch) when first used, so that
``import sklearn_rnn`` and the command line's ``--help`` answer at once.
"""

import importlib

from ._version import __version__

# public name -> the module that defines it
_PUBLIC = {
    "RNNClassifier": "classifier",
    "RNNTextClassifier": "classifier",
    "TextVectorizer": "text",
    "load_model": "persistence",
    "save_model": "persistence",
}

__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_PUBLIC})
