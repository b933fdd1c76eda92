"""Saving and loading fitted models without pickle: JSON and safetensors.

A model file is one safetensors file: the network's weights as tensors, and in
the header's metadata a JSON description of the model (its class, parameters,
classes, vocabulary, training history, and the versions that wrote it).
Loading parses that JSON and reads the tensors: it never unpickles and never
runs code from the file.
"""

import json
import os
import tempfile
from numbers import Integral, Real

import numpy as np
import sklearn
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._device import resolve_device
from ._validation import validate_params
from .classifier import RNNClassifier, RNNTextClassifier
from .text import FIRST_TOKEN_ID, TextVectorizer

FORMAT = "sklearn-rnn"
FORMAT_VERSION = 1
ESTIMATORS = {
    cls.__name__: cls for cls in (RNNTextClassifier, RNNClassifier, TextVectorizer)
}
# Parameters added since format 1 began, with the value that gives the model a
# file written before them was trained as; their new defaults may differ.
BEFORE_PARAMETER_EXISTED = {"bag_of_words": False}


def save_model(model, path):
    """Save a fitted model to one file, without pickle.

    The file is a safetensors file: the weights as tensors, and a JSON
    description of everything else. :func:`load_model` reads it back without
    unpickling anything, so a model file from an untrusted source cannot run
    code, unlike a pickle or joblib file.

    Parameters
    ----------
    model : RNNTextClassifier or Pipeline
        A fitted :class:`RNNTextClassifier`, or a fitted
        :class:`~sklearn.pipeline.Pipeline` of a :class:`TextVectorizer`
        followed by an :class:`RNNClassifier`.
    path : str or os.PathLike
        Where to write. The file is written next to it under a temporary name
        and then renamed, so an interrupted save never leaves a partial file
        at ``path``.

    Raises
    ------
    TypeError
        For any other kind of model, or a parameter that has no safe
        description (a custom ``tokenizer`` function).
    sklearn.exceptions.NotFittedError
        If the model is not fitted.
    """
    description, tensors = _describe_model(model)
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "model": json.dumps(description),
    }
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, partial = tempfile.mkstemp(
        prefix=".sklearn-rnn-", suffix=".partial", dir=folder
    )
    os.close(handle)
    try:
        save_file(tensors, partial, metadata=metadata)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def load_model(path, device="cpu"):
    """Load a model saved by :func:`save_model`.

    Nothing in the file is unpickled or executed: the description is JSON,
    checked field by field, and the weights are plain tensors whose names and
    shapes must match the network the description builds.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_model`.
    device : str, default="cpu"
        Where the loaded network runs: ``"cpu"``, ``"auto"`` (a CUDA GPU when
        available), ``"cuda"``... Whatever device the model was trained on, it
        loads on the CPU.

    Returns
    -------
    model : RNNTextClassifier or Pipeline
        The fitted model, giving the same ``predict_proba`` as the saved one.

    Raises
    ------
    ValueError
        If the file is not a sklearn-rnn model file, is truncated or
        corrupted, was written by an incompatible version, or holds weights
        that do not fit its description.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No model file at {path!r}.")
    try:
        with safe_open(path, framework="pt", device="cpu") as file:
            metadata = file.metadata() or {}
            tensors = {name: file.get_tensor(name) for name in file.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as error:
        raise ValueError(
            f"{path!r} is not a readable sklearn-rnn model file (it may be "
            f"truncated, corrupted, or not a safetensors file): {error}"
        ) from None
    description = _read_metadata(metadata, path)
    device = resolve_device(device)
    try:
        return _build_model(description, tensors, device)
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise ValueError(
            f"{path!r} does not hold a consistent sklearn-rnn model: {error}"
        ) from None


# --- describing ----------------------------------------------------------------


def _describe_model(model):
    if isinstance(model, RNNTextClassifier):
        check_is_fitted(model, "net_")
        estimator = _describe_estimator(model)
        estimator["fitted"]["vocabulary"] = list(model.vectorizer_.vocabulary_)
        return _envelope({"kind": "estimator", "estimator": estimator}), _weights(model)
    if isinstance(model, Pipeline):
        steps = model.steps
        if (
            len(steps) == 2
            and isinstance(steps[0][1], TextVectorizer)
            and isinstance(steps[1][1], RNNClassifier)
        ):
            (vec_name, vectorizer), (rnn_name, classifier) = steps
            check_is_fitted(vectorizer, "vocabulary_")
            check_is_fitted(classifier, "net_")
            vec_description = {
                "class": "TextVectorizer",
                "params": _describe_params(vectorizer),
                "fitted": {"vocabulary": list(vectorizer.vocabulary_)},
            }
            described = {
                "kind": "pipeline",
                "steps": [
                    {"name": vec_name, "estimator": vec_description},
                    {"name": rnn_name, "estimator": _describe_estimator(classifier)},
                ],
            }
            return _envelope(described), _weights(classifier)
    raise TypeError(
        "save_model saves a fitted RNNTextClassifier, or a Pipeline of a "
        f"TextVectorizer and an RNNClassifier; got {type(model).__name__}. Use "
        "joblib for other models."
    )


def _envelope(described):
    from . import __version__

    return {
        "library_version": __version__,
        "torch_version": torch.__version__,
        "sklearn_version": sklearn.__version__,
        **described,
    }


def _describe_estimator(estimator):
    return {
        "class": type(estimator).__name__,
        "params": _describe_params(estimator),
        "fitted": {
            "classes": _describe_labels(estimator.classes_),
            "n_tokens": int(estimator.n_tokens_),
            "history": _plain(estimator.history_),
            "best_epoch": estimator.best_epoch_,
            "pretrained_coverage": estimator.pretrained_coverage_,
        },
    }


def _describe_params(estimator):
    params = {}
    for name, value in _fitted_params(estimator).items():
        if name == "tokenizer" and value is not None:
            raise TypeError(
                "A model with a custom tokenizer cannot be saved in the safe "
                "format: a function cannot be stored without pickle. Use joblib, "
                "and load only files you trust."
            )
        if name == "embeddings" and not isinstance(value, str | os.PathLike | None):
            # The vectors are in the trained weights; the objects are not needed.
            value = None
        elif name == "vocabulary" and value is not None:
            value = _vocabulary_tokens(value)
        elif name == "random_state" and not isinstance(value, Integral | None):
            value = None
        elif name == "class_weight" and isinstance(value, dict):
            value = {
                "labels": _describe_labels(list(value)),
                "weights": list(value.values()),
            }
        elif isinstance(value, os.PathLike | torch.device):
            value = str(value)
        params[name] = _plain(value)
    return params


def _fitted_params(estimator):
    """The estimator's parameters, as its fitted model was built.

    A continued fit (``warm_start``) keeps the network and the vocabulary's
    settings of the first fit even when they were changed since; the file
    must describe the model it holds, or it could not be loaded.
    """
    params = estimator.get_params(deep=False)
    net = getattr(estimator, "net_", None)
    if net is not None:
        built = net.get_params(deep=False)
        for name in params:
            if f"module__{name}" in built:
                params[name] = built[f"module__{name}"]
    vectorizer = getattr(estimator, "vectorizer_", None)
    if vectorizer is not None:
        for name, value in vectorizer.get_params(deep=False).items():
            if name in params:
                params[name] = value
    return params


def _vocabulary_tokens(vocabulary):
    """A fixed vocabulary (a vectorizer, mapping or tokens) as tokens by id."""
    if isinstance(vocabulary, TextVectorizer):
        vocabulary = vocabulary.vocabulary_
    return list(TextVectorizer(vocabulary=vocabulary)._fixed_vocabulary())


def _describe_labels(labels):
    labels = np.asarray(labels)
    if labels.dtype.kind not in "biufU":
        if all(isinstance(label, str) for label in labels.tolist()):
            labels = labels.astype(str)
        else:
            raise TypeError(
                "save_model stores class labels that are all str, all int, all "
                f"float or all bool; these are of dtype {labels.dtype}."
            )
    return {"dtype": labels.dtype.str, "values": labels.tolist()}


def _plain(value):
    """``value`` with numpy scalars made Python numbers, for JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _weights(estimator):
    return {
        name: tensor.detach().to("cpu").contiguous()
        for name, tensor in estimator.net_.module_.state_dict().items()
    }


# --- reading -------------------------------------------------------------------


def _read_metadata(metadata, path):
    if metadata.get("format") != FORMAT:
        raise ValueError(
            f"{path!r} is a safetensors file but not a sklearn-rnn model: its "
            "metadata has no sklearn-rnn description."
        )
    try:
        version = int(metadata.get("format_version", ""))
    except ValueError:
        version = None
    if version is None or version < 1:
        raise ValueError(f"{path!r} has an unreadable format version.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path!r} was written in sklearn-rnn model format {version}, by a newer "
            f"sklearn-rnn than this one (which reads format {FORMAT_VERSION}); "
            "upgrade sklearn-rnn to load it."
        )
    try:
        description = json.loads(metadata["model"])
    except (KeyError, json.JSONDecodeError) as error:
        raise ValueError(f"{path!r} has a damaged model description: {error}") from None
    if not isinstance(description, dict):
        raise ValueError(f"{path!r} has a damaged model description.")
    return description


def _build_model(description, tensors, device):
    kind = description["kind"]
    if kind == "estimator":
        estimator = description["estimator"]
        if estimator["class"] != "RNNTextClassifier":
            raise ValueError(f"unexpected estimator class {estimator['class']!r}")
        model = _new_estimator(estimator)
        vectorizer = model._new_vectorizer()
        vectorizer.vocabulary_ = _vocabulary(estimator["fitted"]["vocabulary"])
        model.vectorizer_ = vectorizer
        _restore_network(model, estimator["fitted"], tensors, device)
        _check_vocabulary_size(vectorizer, model)
        return model
    if kind == "pipeline":
        (vec_step, rnn_step) = description["steps"]
        if (vec_step["estimator"]["class"], rnn_step["estimator"]["class"]) != (
            "TextVectorizer",
            "RNNClassifier",
        ):
            raise ValueError("unexpected pipeline steps")
        vectorizer = _new_estimator(vec_step["estimator"])
        vectorizer.vocabulary_ = _vocabulary(
            vec_step["estimator"]["fitted"]["vocabulary"]
        )
        classifier = _new_estimator(rnn_step["estimator"])
        _restore_network(classifier, rnn_step["estimator"]["fitted"], tensors, device)
        return Pipeline(
            [(str(vec_step["name"]), vectorizer), (str(rnn_step["name"]), classifier)]
        )
    raise ValueError(f"unknown model kind {kind!r}")


def _new_estimator(description):
    cls = ESTIMATORS[description["class"]]
    params = dict(description["params"])
    known = cls().get_params()
    for name, value in BEFORE_PARAMETER_EXISTED.items():
        if name in known:
            params.setdefault(name, value)
    unknown = set(params) - set(known)
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)} for {cls.__name__}")
    if isinstance(params.get("class_weight"), dict):
        weights = params["class_weight"]
        params["class_weight"] = dict(
            zip(_labels(weights["labels"]).tolist(), weights["weights"], strict=True)
        )
    estimator = cls(**params)
    validate_params(estimator, estimator._parameter_constraints)
    return estimator


def _restore_network(estimator, fitted, tensors, device):
    classes = _labels(fitted["classes"])
    n_tokens = _count(fitted["n_tokens"], "n_tokens")
    net = estimator._build_net(
        n_tokens, len(classes), device, None, estimator._callbacks(False)
    )
    net.initialize()
    expected = net.module_.state_dict()
    if set(tensors) != set(expected):
        missing, extra = set(expected) - set(tensors), set(tensors) - set(expected)
        raise ValueError(
            f"the weights do not match the network: missing {sorted(missing)}, "
            f"unexpected {sorted(extra)}"
        )
    for name, tensor in tensors.items():
        if tensor.shape != expected[name].shape or tensor.dtype != expected[name].dtype:
            raise ValueError(
                f"weight {name!r} has shape {tuple(tensor.shape)} and dtype "
                f"{tensor.dtype}; the network expects {tuple(expected[name].shape)} "
                f"and {expected[name].dtype}"
            )
        if not torch.isfinite(tensor).all():
            raise ValueError(f"weight {name!r} holds NaN or infinity")
    coverage = fitted["pretrained_coverage"]
    if coverage is not None and not isinstance(coverage, Real):
        raise ValueError("pretrained_coverage must be a number or null")
    if not isinstance(fitted["history"], list):
        raise ValueError("the history must be a list")
    net.module_.load_state_dict(tensors)
    net.module_.eval()
    estimator._set_fitted(
        net, classes, n_tokens, fitted["history"], fitted["best_epoch"], coverage
    )


def _labels(described):
    dtype = np.dtype(described["dtype"])
    if dtype.kind not in "biufU":
        raise ValueError(f"labels of dtype {dtype} are not allowed")
    labels = np.asarray(described["values"], dtype=dtype)
    if labels.ndim != 1 or len(labels) < 2 or len(np.unique(labels)) != len(labels):
        raise ValueError("the classes must be at least 2 distinct labels")
    return labels


def _vocabulary(tokens):
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise ValueError("the vocabulary must be a list of str")
    vocabulary = {token: i for i, token in enumerate(tokens, start=FIRST_TOKEN_ID)}
    if len(vocabulary) != len(tokens):
        raise ValueError("the vocabulary repeats a token")
    return vocabulary


def _check_vocabulary_size(vectorizer, model):
    if len(vectorizer.vocabulary_) + FIRST_TOKEN_ID != model.n_tokens_:
        raise ValueError(
            f"the vocabulary has {len(vectorizer.vocabulary_)} tokens but the "
            f"network has {model.n_tokens_} token ids"
        )


def _count(value, name):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a non-negative int")
    return int(value)
