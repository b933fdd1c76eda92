"""Saving and loading fitted models without pickle: JSON and safetensors.

A model file is one safetensors file: the network's weights as tensors, and a
JSON description of the model (its class, parameters, classes, vocabulary,
training history, and the versions that wrote it); ``_model_file`` writes and
reads that container, with its digest. This module describes a fitted model,
and on loading checks every field of the description and every tensor's
name, dtype and shape before it builds anything: it never unpickles, never
runs code from the file, and a small file cannot make it allocate much
memory.
"""

import os
import re
from numbers import Integral

import numpy as np
import sklearn
import torch
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._device import resolve_device
from ._json_values import (
    json_array,
    json_int,
    json_number,
    json_object,
    json_str,
    json_type,
    short_repr,
)
from ._model_file import (
    FIRST_VERSION_WITH_IDF,
    FORMAT_VERSION,
    invalid_description,
    read_model_file,
    write_model_file,
)
from ._net_builder import build_net, training_callbacks
from ._param_validation import python_scalar, validate_params
from ._training import HISTORY_KEYS, TextTrainer, network_attributes
from ._version import __version__
from .classifier import RNNClassifier, RNNTextClassifier
from .text import FIRST_TOKEN_ID, TextVectorizer, vocabulary_tokens

ESTIMATORS = {
    cls.__name__: cls for cls in (RNNTextClassifier, RNNClassifier, TextVectorizer)
}
# Parameters added since format 1 began, with the value that gives the model a
# file written before them was trained as; their new defaults may differ.
BEFORE_PARAMETER_EXISTED = {"bag_of_words": False}
# A str dtype may pad the class labels beyond the longest one, as long as the
# array of labels holds at most this many characters (4 MB).
MAX_PADDED_LABEL_CHARS = 2**20
LABEL_DTYPE = re.compile(r"[<>|=]?(?:b1|[iu][1248]|f[248]|U[0-9]{1,9})")
# A label dtype's kind: the Python type its described values must have.
LABEL_TYPES = {
    "b": (bool, "a bool"),
    "i": (int, "an int"),
    "u": (int, "an int"),
    "f": (int | float, "a number"),
    "U": (str, "a str"),
}
# The fields of a description's envelope and of a network's fitted state.
ENVELOPE = ("library_version", "torch_version", "sklearn_version", "kind")
FITTED = ("classes", "n_tokens", "history", "best_epoch", "pretrained_coverage")
# Fitted fields that files written before them lack.
OPTIONAL_FITTED = ("pretrain_loss", "self_labelled_per_round")


def save_model(model, path):
    """Save a fitted model to one file, without pickle.

    The file is a safetensors file: the weights as tensors, and a JSON
    description of everything else, with a SHA-256 digest of both that
    :func:`load_model` checks. :func:`load_model` reads it back without
    unpickling anything, so a model file from an untrusted source cannot run
    code, unlike a pickle or joblib file.

    Parameters
    ----------
    model : RNNTextClassifier or Pipeline
        A fitted :class:`RNNTextClassifier`, or a fitted
        :class:`~sklearn.pipeline.Pipeline` of a :class:`TextVectorizer`
        followed by an :class:`RNNClassifier`.
    path : str or os.PathLike
        Where to write. The file is written in the same folder under a
        temporary name, synced to the disk, then renamed over ``path``: a
        failed or interrupted save leaves any file already at ``path`` as it
        was. A new file gets the permissions the user's umask gives; a file
        overwritten keeps its own.

    Raises
    ------
    TypeError
        For any other kind of model, or a parameter that has no safe
        description (a custom ``tokenizer`` function).
    ValueError
        If a weight of the model, or a number in its description, is NaN or
        infinite.
    sklearn.exceptions.NotFittedError
        If the model is not fitted.
    OSError
        If the file cannot be written (a missing or read-only folder, a full
        disk).
    """
    description, tensors = _describe_model(model)
    _check_finite_weights(tensors)
    write_model_file(path, description, tensors, _format_version(tensors))


def load_model(path, device="cpu"):
    """Load a model saved by :func:`save_model`.

    Nothing in the file is unpickled or executed. The digest is checked
    first, then every field of the JSON description, and the weights' names,
    dtypes and shapes against the network the description calls for, all
    before the network is built.

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
        If the file is not a sklearn-rnn model file, is truncated or damaged
        (its digest does not match), was written by an incompatible version,
        has a description with a field that is missing, of the wrong type or
        out of range, or holds weights that do not fit its description or
        are not finite.
    FileNotFoundError
        If there is no file at ``path``.
    """
    path = os.fspath(path)
    description, tensors, format_version = read_model_file(path)
    try:
        model, estimator, network = _read_description(description)
    except ValueError as error:
        raise invalid_description(path, error) from None
    has_idf = format_version >= FIRST_VERSION_WITH_IDF
    try:
        _check_weights(estimator, network, tensors, has_idf)
    except ValueError as error:
        raise ValueError(
            f"{path!r} does not hold a consistent sklearn-rnn model: {error}"
        ) from None
    _restore_network(estimator, network, tensors, resolve_device(device), has_idf)
    return model


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
            "pretrain_loss": _plain(getattr(estimator, "pretrain_loss_", None)),
            "self_labelled_per_round": _plain(
                getattr(estimator, "self_labelled_per_round_", None)
            ),
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
            value = vocabulary_tokens(value)
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


def _describe_labels(labels):
    labels = np.asarray(labels)
    if labels.dtype.kind == "f" and labels.dtype.itemsize > 8:
        # long doubles: stored as float64 when that holds them exactly
        as_float64 = labels.astype(np.float64)
        if not np.array_equal(as_float64, labels):
            raise TypeError(
                "save_model stores float labels in float64; these long double "
                "labels do not fit it exactly."
            )
        labels = as_float64
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
    return python_scalar(value)


def _format_version(tensors):
    """The newest format that describes these weights: a bag of words without
    an idf (trained before format 3) is written as format 2 files have it."""
    if "bag.weight" in tensors and "bag_idf" not in tensors:
        return FIRST_VERSION_WITH_IDF - 1
    return FORMAT_VERSION


def _weights(estimator):
    return {
        name: tensor.detach().to("cpu").contiguous()
        for name, tensor in estimator.net_.module_.state_dict().items()
    }


def _check_finite_weights(tensors):
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ValueError(
                f"save_model refuses a model whose weight {name!r} holds NaN or "
                "infinity: such a model cannot predict anything meaningful. Fit "
                "it again."
            )


# --- reading the description ---------------------------------------------------


def _read_description(description):
    """The model the description describes, without its network yet.

    Returns the model, the estimator in it that holds the network, and the
    checked fitted attributes of that network.
    """
    if not isinstance(description, dict):
        raise ValueError(f"it must be a JSON object, not {json_type(description)}")
    kind = description.get("kind")
    if kind == "estimator":
        json_object(description, "model", (*ENVELOPE, "estimator"))
        _check_versions(description)
        model, network = _read_text_classifier(
            description["estimator"], "model.estimator"
        )
        return model, model, network
    if kind == "pipeline":
        json_object(description, "model", (*ENVELOPE, "steps"))
        _check_versions(description)
        return _read_pipeline(description["steps"], "model.steps")
    raise ValueError(
        f"model.kind must be 'estimator' or 'pipeline', got {short_repr(kind)}"
    )


def _check_versions(description):
    for key in ENVELOPE[:3]:
        json_str(description[key], f"model.{key}")


def _read_text_classifier(described, where):
    model, fitted = _read_estimator(described, where, "RNNTextClassifier")
    network = _read_fitted(model, fitted, where, ("vocabulary",))
    vocabulary = _read_vocabulary(fitted["vocabulary"], f"{where}.fitted.vocabulary")
    if len(vocabulary) + FIRST_TOKEN_ID != network["n_tokens"]:
        raise ValueError(
            f"{where}.fitted.vocabulary has {len(vocabulary)} tokens, so the "
            f"network must have {len(vocabulary) + FIRST_TOKEN_ID} token ids, but "
            f"n_tokens is {network['n_tokens']}"
        )
    vectorizer = _new_vectorizer(_settings(model))
    vectorizer.vocabulary_ = vocabulary
    model.vectorizer_ = vectorizer
    return model, network


def _read_pipeline(steps, where):
    json_array(steps, where)
    if len(steps) != 2:
        raise ValueError(
            f"{where} must hold 2 steps, a TextVectorizer and an RNNClassifier; "
            f"it holds {len(steps)}"
        )
    names = [_read_step_name(step, f"{where}[{i}]") for i, step in enumerate(steps)]
    if names[0] == names[1]:
        raise ValueError(f"{where} names both steps {names[0]!r}")
    vectorizer, fitted = _read_estimator(
        steps[0]["estimator"], f"{where}[0].estimator", "TextVectorizer"
    )
    fitted_where = f"{where}[0].estimator.fitted"
    json_object(fitted, fitted_where, ("vocabulary",))
    vectorizer.vocabulary_ = _read_vocabulary(
        fitted["vocabulary"], f"{fitted_where}.vocabulary"
    )
    classifier, fitted = _read_estimator(
        steps[1]["estimator"], f"{where}[1].estimator", "RNNClassifier"
    )
    network = _read_fitted(classifier, fitted, f"{where}[1].estimator")
    pipeline = Pipeline([(names[0], vectorizer), (names[1], classifier)])
    return pipeline, classifier, network


def _read_step_name(step, where):
    json_object(step, where, ("name", "estimator"))
    name = json_str(step["name"], f"{where}.name")
    if not name or "__" in name:
        raise ValueError(
            f"{where}.name must be a non-empty name without '__', got "
            f"{short_repr(name)}"
        )
    return name


def _read_estimator(described, where, class_name):
    """The estimator of ``class_name`` with the described parameters."""
    json_object(described, where, ("class", "params", "fitted"))
    if described["class"] != class_name:
        raise ValueError(
            f"{where}.class must be {class_name!r}, got "
            f"{short_repr(described['class'])}"
        )
    cls = ESTIMATORS[class_name]
    params = _read_params(cls, described["params"], f"{where}.params")
    estimator = cls(**params)
    try:
        settings = _settings(estimator)
        # and the text parameters together, the token_pattern compiled
        if isinstance(estimator, RNNTextClassifier):
            _new_vectorizer(settings).build_analyzer()
        elif isinstance(estimator, TextVectorizer):
            estimator.build_analyzer()
    except (ValueError, TypeError) as error:
        raise ValueError(f"{where}.params: {error}") from None
    return estimator, described["fitted"]


def _read_params(cls, params, where):
    """The parameters, in the types the estimator takes, of known names only."""
    if not isinstance(params, dict):
        raise ValueError(f"{where} must be an object, not {json_type(params)}")
    params = dict(params)
    known = cls().get_params()
    for name, value in BEFORE_PARAMETER_EXISTED.items():
        if name in known:
            params.setdefault(name, value)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(
            f"{where} names parameters {cls.__name__} does not have: "
            f"{short_repr(unknown)}"
        )
    if params.get("tokenizer") is not None:
        raise ValueError(f"{where}.tokenizer must be null: a file holds no function")
    if params.get("embeddings") is not None:
        json_str(params["embeddings"], f"{where}.embeddings")
    if params.get("vocabulary") is not None:
        _read_vocabulary(params["vocabulary"], f"{where}.vocabulary")
    if isinstance(params.get("class_weight"), dict):
        params["class_weight"] = _read_class_weight(
            params["class_weight"], f"{where}.class_weight"
        )
    return params


def _read_class_weight(described, where):
    json_object(described, where, ("labels", "weights"))
    labels = _read_labels(described["labels"], f"{where}.labels", min_count=1)
    weights = json_array(described["weights"], f"{where}.weights")
    if len(weights) != len(labels):
        raise ValueError(f"{where} has {len(labels)} labels and {len(weights)} weights")
    for i, weight in enumerate(weights):
        json_number(weight, f"{where}.weights[{i}]", minimum=0)
    return dict(zip(labels.tolist(), weights, strict=True))


def _read_fitted(estimator, fitted, estimator_where, more=()):
    """The fitted attributes of the network, checked."""
    where = f"{estimator_where}.fitted"
    json_object(fitted, where, (*FITTED, *more), OPTIONAL_FITTED)
    classes = _read_labels(fitted["classes"], f"{where}.classes", min_count=2)
    history = _read_history(fitted["history"], f"{where}.history")
    best_epoch = fitted["best_epoch"]
    if best_epoch is not None:
        json_int(best_epoch, f"{where}.best_epoch", 1, len(history))
    coverage = fitted["pretrained_coverage"]
    if coverage is not None:
        json_number(coverage, f"{where}.pretrained_coverage", 0, 1)
    pretrain_loss = fitted.get("pretrain_loss")
    if pretrain_loss is not None:
        where_loss = f"{where}.pretrain_loss"
        for i, loss in enumerate(json_array(pretrain_loss, where_loss)):
            json_number(loss, f"{where_loss}[{i}]", 0)
    self_labelled = fitted.get("self_labelled_per_round")
    if self_labelled is not None:
        where_counts = f"{where}.self_labelled_per_round"
        for i, count in enumerate(json_array(self_labelled, where_counts)):
            json_int(count, f"{where_counts}[{i}]", 0)
    _check_class_weight_labels(estimator.class_weight, classes, estimator_where)
    return {
        "pretrain_loss": pretrain_loss,
        "self_labelled_per_round": self_labelled,
        "classes": classes,
        "n_tokens": json_int(fitted["n_tokens"], f"{where}.n_tokens", FIRST_TOKEN_ID),
        "history": history,
        "best_epoch": best_epoch,
        "pretrained_coverage": coverage,
    }


def _check_class_weight_labels(class_weight, classes, where):
    if not isinstance(class_weight, dict):
        return
    known = set(classes.tolist())
    unknown = [label for label in class_weight if label not in known]
    if unknown:
        raise ValueError(
            f"{where}.params.class_weight names labels that are not among "
            f"{where}.fitted.classes: {short_repr(unknown)}"
        )


def _read_history(history, where):
    """One row per epoch trained, numbered from 1, of finite numbers."""
    json_array(history, where)
    if not history:
        raise ValueError(f"{where} must hold a row for each epoch trained; it is empty")
    for number, row in enumerate(history, start=1):
        row_where = f"{where}[{number - 1}]"
        json_object(row, row_where, ("epoch",), optional=HISTORY_KEYS)
        json_int(row["epoch"], f"{row_where}.epoch", number, number)
        for key, value in row.items():
            if key != "epoch":
                json_number(value, f"{row_where}.{key}")
    return history


def _read_labels(described, where, min_count):
    """Distinct labels of one type, exactly as their dtype holds them."""
    json_object(described, where, ("dtype", "values"))
    code = described["dtype"]
    if not isinstance(code, str) or not LABEL_DTYPE.fullmatch(code):
        raise ValueError(
            f"{where}.dtype must be that of bool, int, float or str labels, such "
            f"as '<i8' or '<U5'; got {short_repr(code)}"
        )
    try:
        dtype = np.dtype(code)
    except TypeError:
        raise ValueError(f"{where}.dtype {code!r} is not a dtype numpy has") from None
    values = json_array(described["values"], f"{where}.values")
    if len(values) < min_count:
        raise ValueError(f"{where}.values must hold at least {min_count} labels")
    expected, kind_name = LABEL_TYPES[dtype.kind]
    for i, value in enumerate(values):
        if not isinstance(value, expected) or (
            isinstance(value, bool) and dtype.kind != "b"
        ):
            raise ValueError(
                f"{where}.values[{i}] must be {kind_name}, as the dtype {code!r} "
                f"says; got {short_repr(value)}"
            )
    if dtype.kind == "U":
        _check_label_width(values, dtype, where)
    try:
        with np.errstate(all="ignore"):  # what overflows is refused below
            labels = np.array(values, dtype=dtype)
    except (OverflowError, ValueError):
        labels = None
    if labels is None or labels.tolist() != values:
        raise ValueError(f"{where}.values do not fit the dtype {code!r} exactly")
    if len(set(labels.tolist())) != len(labels):
        raise ValueError(f"{where}.values repeat a label")
    return labels


def _check_label_width(values, dtype, where):
    width = dtype.itemsize // np.dtype("U1").itemsize
    longest = max(len(value) for value in values)
    if len(values) * width > max(len(values) * longest, MAX_PADDED_LABEL_CHARS):
        raise ValueError(
            f"{where}.dtype pads the labels to {width} characters, when the "
            f"longest has {longest}"
        )


def _read_vocabulary(tokens, where):
    """Distinct str tokens, as a mapping to their ids."""
    json_array(tokens, where)
    for i, token in enumerate(tokens):
        if not isinstance(token, str):
            raise ValueError(
                f"{where}[{i}] must be a str token, got {short_repr(token)}"
            )
    vocabulary = {token: i for i, token in enumerate(tokens, start=FIRST_TOKEN_ID)}
    if len(vocabulary) != len(tokens):
        seen = set()
        repeated = next(token for token in tokens if token in seen or seen.add(token))
        raise ValueError(f"{where} repeats the token {short_repr(repeated)}")
    return vocabulary


# --- checking and loading the weights ------------------------------------------


def _check_weights(estimator, network, tensors, has_idf):
    """Refuse weights unlike those of the described network, before building it.

    Without ``has_idf`` (files of formats before it), the network has no
    ``bag_idf``.
    """
    expected = _expected_weights(estimator, network, tensors)
    if not has_idf:
        expected.pop("bag_idf", None)
    if set(tensors) != set(expected):
        missing, extra = set(expected) - set(tensors), set(tensors) - set(expected)
        raise ValueError(
            f"the weights do not match the network: missing {sorted(missing)}, "
            f"unexpected {short_repr(sorted(extra))}"
        )
    for name, tensor in tensors.items():
        shape, dtype = expected[name]
        if tuple(tensor.shape) != shape or tensor.dtype != dtype:
            raise ValueError(
                f"weight {name!r} has shape {tuple(tensor.shape)} and dtype "
                f"{tensor.dtype}; the network expects {shape} and {dtype}"
            )
    for name, tensor in tensors.items():
        if not torch.isfinite(tensor).all():
            raise ValueError(f"weight {name!r} holds NaN or infinity")


def _expected_weights(estimator, network, tensors):
    """Name to (shape, dtype) of the weights of the described network.

    The network is built on PyTorch's meta device, which holds shapes and no
    data, so that sizes far beyond the file's weights allocate nothing.
    """
    _check_sizes(estimator, network, tensors)
    net = build_net(
        _settings(estimator),
        network["n_tokens"],
        len(network["classes"]),
        "cpu",
    )
    try:
        with torch.device("meta"):
            module = net.module(**net.get_params_for("module"))
    except (RuntimeError, OverflowError, ValueError) as error:
        raise ValueError(
            f"the network it describes (n_tokens={network['n_tokens']}) cannot "
            f"be built: {error}"
        ) from None
    return {
        name: (tuple(tensor.shape), tensor.dtype)
        for name, tensor in module.state_dict().items()
    }


def _check_sizes(estimator, network, tensors):
    """Refuse sizes no weight of the file has, before building anything.

    Every size of the network is a dimension of one of its weights, and every
    layer has weights of its own.
    """
    if estimator.num_layers > len(tensors):
        raise ValueError(
            f"num_layers={estimator.num_layers} calls for more weights than the "
            f"file's {len(tensors)}"
        )
    largest = max(
        (max(tensor.shape, default=0) for tensor in tensors.values()), default=0
    )
    sizes = {
        "n_tokens": network["n_tokens"],
        "number of classes": len(network["classes"]),
        "embedding_dim": estimator.embedding_dim,
        "hidden_size": estimator.hidden_size,
    }
    for name, size in sizes.items():
        if size > largest:
            raise ValueError(
                f"the {name}, {size}, is larger than any dimension of the file's "
                f"weights (at most {largest})"
            )


def _restore_network(estimator, network, tensors, device, has_idf):
    classes, n_tokens = network["classes"], network["n_tokens"]
    settings = _settings(estimator)
    callbacks = training_callbacks(settings, early_stopping=False)
    net = build_net(settings, n_tokens, len(classes), device, callbacks=callbacks)
    net.initialize()
    if not has_idf:
        # weighs the bag's counts as networks of those formats were trained to
        net.module_.register_buffer("bag_idf", None)
    net.module_.load_state_dict(tensors)
    net.module_.flatten_parameters()
    net.module_.eval()
    fitted = network_attributes(
        net,
        classes,
        n_tokens,
        network["history"],
        network["best_epoch"],
        network["pretrained_coverage"],
    )
    vars(estimator).update(
        fitted,
        pretrain_loss_=network["pretrain_loss"],
        self_labelled_per_round_=network["self_labelled_per_round"],
    )


def _settings(estimator):
    """The validated parameters of ``estimator``, as a fit reads them.

    Validating raises the parameter errors fit would raise.
    """
    # the class's constraints, read as scikit-learn's own tools read them
    constraints = type(estimator)._parameter_constraints  # noqa: SLF001
    return validate_params(estimator, constraints)


def _new_vectorizer(settings):
    """The unfitted TextVectorizer a fit with these ``settings`` (an
    RNNTextClassifier's, validated) would start from."""
    return TextTrainer(settings).new_vectorizer()
