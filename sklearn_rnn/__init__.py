"""Recurrent neural networks for text classification, as scikit-learn estimators."""

from ._version import __version__
from .classifier import RNNClassifier, RNNTextClassifier
from .persistence import load_model, save_model
from .text import TextVectorizer

__all__ = [
    "RNNClassifier",
    "RNNTextClassifier",
    "TextVectorizer",
    "__version__",
    "load_model",
    "save_model",
]
