"""Recurrent neural networks for text classification, as scikit-learn estimators."""

from .classifier import RNNClassifier, RNNTextClassifier
from .persistence import load_model, save_model
from .text import TextVectorizer

__version__ = "0.1.0.dev0"

__all__ = [
    "RNNClassifier",
    "RNNTextClassifier",
    "TextVectorizer",
    "__version__",
    "load_model",
    "save_model",
]
