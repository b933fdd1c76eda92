"""Recurrent neural networks for text classification, as scikit-learn estimators."""

from .classifier import RNNClassifier, RNNTextClassifier
from .text import TextVectorizer

__version__ = "0.1.0.dev0"

__all__ = ["RNNClassifier", "RNNTextClassifier", "TextVectorizer", "__version__"]
