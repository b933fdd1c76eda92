"""Recurrent neural networks for text classification, as scikit-learn estimators."""

from . import _distributed, _net
from ._version import __version__
from .classifier import RNNClassifier, RNNTextClassifier
from .persistence import load_model, save_model
from .text import TextVectorizer

# Accelerated models pickled before these names moved from _net to
# _distributed look them up in _net; set here, where every module is loaded,
# so that _net never imports the module above it.
_net.AcceleratedRNNNet = _distributed.AcceleratedRNNNet
_net.print_on_main_process = _distributed.print_on_main_process

__all__ = [
    "RNNClassifier",
    "RNNTextClassifier",
    "TextVectorizer",
    "__version__",
    "load_model",
    "save_model",
]
