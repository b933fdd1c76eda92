"""Saving and loading fitted models without pickle: JSON and safetensors.

A model file is one safetensors file: the network's weights as tensors, and in
the header's metadata a JSON description of the model (its class, parameters,
classes, vocabulary, training history, and the versions that wrote it), with
a SHA-256 digest of the description and of every tensor. Loading checks the
digest, then every field of the description and every tensor's name, dtype
and shape, before it builds anything: it never unpickles, never runs code
from the file, and a small file cannot make it allocate much memory.
"""

import errno
import hashlib
import json
import os
import re
import reprlib
import secrets
import stat
from contextlib import contextmanager, suppress
from numbers import Integral

import numpy as np
import sklearn
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as safetensors_bytes
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._device import resolve_device
from ._net_builder import build_net, training_callbacks
from ._param_validation import python_scalar, validate_params
from ._training import HISTORY_KEYS, TextTrainer, Trainer, network_attributes
from ._version import __version__
from .classifier import RNNClassifier, RNNTextClassifier
from .text import FIRST_TOKEN_ID, TextVectorizer, vocabulary_tokens

FORMAT = "sklearn-rnn"
# Format 2 adds the digest; files of format 1 have none, and still load.
FORMAT_VERSION = 2
FIRST_VERSION_WITH_DIGEST = 2
DIGEST_KEY = "sha256"
METADATA_KEYS = ("format", "format_version", "model", DIGEST_KEY)
ESTIMATORS = {
    cls.__name__: cls for cls in (RNNTextClassifier, RNNClassifier, TextVectorizer)
}
# Parameters added since format 1 began, with the value that gives the model a
# file written before them was trained as; their new defaults may differ.
BEFORE_PARAMETER_EXISTED = {"bag_of_words": False}
# The deepest the description nests objects and arrays: a pipeline's step,
# its estimator, its parameters, a class_weight, its labels and their values.
MAX_DESCRIPTION_DEPTH = 8
# Every int the description holds fits in 64 bits (uint64 labels included).
MAX_ABS_INT = 2**64 - 1
# A str dtype may pad the class labels beyond the longest one, as long as the
# array of labels holds at most this many characters (4 MB).
MAX_PADDED_LABEL_CHARS = 2**20
LABEL_DTYPE = re.compile(r"[<>|=]?(?:b1|[iu][1248]|f[248]|U[0-9]{1,9})")
PARTIAL_PREFIX = ".sklearn-rnn-"
PARTIAL_SUFFIX = ".partial"
# What fsync answers on a folder where the file system cannot sync one.
SYNC_UNSUPPORTED = {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF}


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
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "model": _description_json(description),
    }
    metadata[DIGEST_KEY] = _digest(metadata, tensors)
    _write_atomically(os.fspath(path), safetensors_bytes(tensors, metadata))


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
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No model file at {path!r}.")
    metadata, tensors = _read_file(path)
    _check_digest(metadata, tensors, path)
    try:
        description = _parse_description(metadata["model"])
        model, estimator, network = _read_description(description)
    except ValueError as error:
        raise ValueError(
            f"{path!r} has an invalid model description: {error}"
        ) from None
    try:
        _check_weights(estimator, network, tensors)
    except ValueError as error:
        raise ValueError(
            f"{path!r} does not hold a consistent sklearn-rnn model: {error}"
        ) from None
    _restore_network(estimator, network, tensors, resolve_device(device))
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


def _weights(estimator):
    return {
        name: tensor.detach().to("cpu").contiguous()
        for name, tensor in estimator.net_.module_.state_dict().items()
    }


# --- writing -------------------------------------------------------------------


def _check_finite_weights(tensors):
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ValueError(
                f"save_model refuses a model whose weight {name!r} holds NaN or "
                "infinity: such a model cannot predict anything meaningful. Fit "
                "it again."
            )


def _description_json(description):
    try:
        return json.dumps(description, allow_nan=False)
    except ValueError:
        where = _non_finite_field(description, "model")
        raise ValueError(
            f"save_model cannot store the model: its {where} is NaN or infinite."
        ) from None


def _non_finite_field(value, where):
    """Where in ``value`` a NaN or an infinity is, or None."""
    if isinstance(value, float) and not np.isfinite(value):
        return where
    if isinstance(value, dict):
        children = ((f"{where}.{key}", item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        children = ((f"{where}[{i}]", item) for i, item in enumerate(value))
    else:
        return None
    for child_where, child in children:
        found = _non_finite_field(child, child_where)
        if found is not None:
            return found
    return None


def _digest(metadata, tensors):
    """SHA-256 of the model's metadata and of every tensor, as hex.

    The metadata count by their format, format version and description;
    the tensors, in the order of their names, by name, dtype, shape and
    bytes. The layout goes first, so no two files share the bytes hashed.
    """
    layout = {
        "metadata": [metadata[key] for key in ("format", "format_version", "model")],
        "tensors": [
            [name, str(tensors[name].dtype), list(tensors[name].shape)]
            for name in sorted(tensors)
        ],
    }
    digest = hashlib.sha256(json.dumps(layout).encode())
    for name in sorted(tensors):
        flat = tensors[name].detach().to("cpu").contiguous().reshape(-1)
        digest.update(flat.view(torch.uint8).numpy())
    return digest.hexdigest()


def _write_atomically(path, content):
    """Write ``content`` to ``path`` whole or not at all.

    The bytes go to a new file in the same folder, synced to the disk before
    it is renamed over ``path``, so that neither a failure nor a crash can
    leave a part of a file at ``path``.
    """
    folder = os.path.dirname(os.path.abspath(path))
    kept_mode = _mode_of_existing_file(path)
    descriptor, partial = _create_partial_file(folder)
    try:
        with open(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        if kept_mode is not None:
            os.chmod(partial, kept_mode)
        os.replace(partial, path)
    except BaseException:
        _remove_if_present(partial)
        raise
    _sync_folder(folder)


def _mode_of_existing_file(path):
    try:
        status = os.stat(path)
    except OSError:
        return None
    return stat.S_IMODE(status.st_mode) if stat.S_ISREG(status.st_mode) else None


def _create_partial_file(folder):
    """A new, empty file in ``folder``, open for writing, and its path.

    Unlike ``tempfile.mkstemp``, which makes files only their owner may read,
    the file gets the permissions the user's umask gives new files.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        name = f"{PARTIAL_PREFIX}{secrets.token_hex(8)}{PARTIAL_SUFFIX}"
        partial = os.path.join(folder, name)
        try:
            return os.open(partial, flags, 0o666), partial
        except FileExistsError:
            continue
    raise FileExistsError(
        errno.EEXIST, f"no free temporary file name in {folder!r}", folder
    )


def _remove_if_present(path):
    with suppress(FileNotFoundError):
        os.remove(path)


def _sync_folder(folder):
    """Make the rename durable, on the systems that can sync a folder."""
    if os.name != "posix":
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError as error:
        if error.errno not in SYNC_UNSUPPORTED:
            raise
    finally:
        os.close(descriptor)


# --- reading the file ----------------------------------------------------------


def _read_file(path):
    """The file's metadata and tensors, the format checked before the tensors."""
    with _unreadable_file(path):
        file = safe_open(path, framework="pt", device="cpu")
    with file:
        with _unreadable_file(path):
            metadata = file.metadata() or {}
        _check_format(metadata, path)
        with _unreadable_file(path):
            tensors = {name: file.get_tensor(name) for name in file.keys()}  # noqa: SIM118
    return metadata, tensors


@contextmanager
def _unreadable_file(path):
    """Turn the errors of a file that safetensors cannot read into ValueError."""
    try:
        yield
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise ValueError(
            f"{path!r} is not a readable sklearn-rnn model file (it may be "
            f"truncated, corrupted, or not a safetensors file): {error}"
        ) from None


def _check_format(metadata, path):
    if metadata.get("format") != FORMAT:
        raise ValueError(
            f"{path!r} is a safetensors file but not a sklearn-rnn model: its "
            "metadata has no sklearn-rnn description."
        )
    version = _format_version(metadata, path)
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path!r} was written in sklearn-rnn model format {version}, by a newer "
            f"sklearn-rnn than this one (which reads format {FORMAT_VERSION}); "
            "upgrade sklearn-rnn to load it."
        )
    unknown = sorted(set(metadata) - set(METADATA_KEYS))
    if unknown:
        raise ValueError(
            f"{path!r} has metadata fields that sklearn-rnn model format {version} "
            f"does not have: {_show(unknown)}."
        )
    if "model" not in metadata:
        raise ValueError(f"{path!r} is damaged: it has no model description.")


def _format_version(metadata, path):
    version = metadata.get("format_version", "")
    if not re.fullmatch(r"[1-9][0-9]{0,8}", version):
        raise ValueError(f"{path!r} has an unreadable format version {_show(version)}.")
    return int(version)


def _check_digest(metadata, tensors, path):
    """Refuse a file whose digest shows that it changed since it was written."""
    digest = metadata.get(DIGEST_KEY)
    if digest is None:
        if int(metadata["format_version"]) >= FIRST_VERSION_WITH_DIGEST:
            raise ValueError(
                f"{path!r} is damaged: a file of model format "
                f"{metadata['format_version']} carries a digest, and this one "
                "has none."
            )
        # Format 1 had no digest: its fields are checked like any other's.
        return
    try:
        intact = digest == _digest(metadata, tensors)
    except (RuntimeError, TypeError):  # a tensor of a dtype torch cannot view
        intact = False
    if not intact:
        raise ValueError(
            f"{path!r} is damaged: its contents do not match the SHA-256 digest "
            "saved with them, so the file changed after it was written (a disk "
            "or transfer error, or an edit). Use an intact copy."
        )


# --- reading the description ---------------------------------------------------


def _parse_description(text):
    """The description's JSON, refusing what it never holds."""
    try:
        description = json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite_float
        )
    except RecursionError:
        raise ValueError(
            f"it nests objects and arrays more than {MAX_DESCRIPTION_DEPTH} deep"
        ) from None
    except _RefusedNumber as error:
        raise ValueError(str(error)) from None
    except ValueError as error:
        raise ValueError(f"it is not valid JSON: {error}") from None
    _check_nesting_and_ints(description)
    return description


class _RefusedNumber(ValueError):
    """A number JSON parses that no model description holds."""


def _refuse_constant(name):
    raise _RefusedNumber(f"it holds {name}, which no model description does")


def _finite_float(text):
    value = float(text)
    if not np.isfinite(value):
        raise _RefusedNumber(
            f"it holds the number {text[:30]}, beyond the range of a float"
        )
    return value


def _check_nesting_and_ints(description):
    """Refuse nesting deeper than the format's, and ints beyond 64 bits.

    Iterative, so that no nesting can exhaust the recursion limit.
    """
    pending = [(description, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DESCRIPTION_DEPTH:
                raise ValueError(
                    "it nests objects and arrays more than "
                    f"{MAX_DESCRIPTION_DEPTH} deep"
                )
            items = value.values() if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
        elif isinstance(value, int) and abs(value) > MAX_ABS_INT:
            raise ValueError(f"it holds an int beyond 64 bits, {_show(value)}")


ENVELOPE = ("library_version", "torch_version", "sklearn_version", "kind")
FITTED = ("classes", "n_tokens", "history", "best_epoch", "pretrained_coverage")


def _read_description(description):
    """The model the description describes, without its network yet.

    Returns the model, the estimator in it that holds the network, and the
    checked fitted attributes of that network.
    """
    if not isinstance(description, dict):
        raise ValueError(f"it must be a JSON object, not {_json_type(description)}")
    kind = description.get("kind")
    if kind == "estimator":
        _object(description, "model", (*ENVELOPE, "estimator"))
        _check_versions(description)
        model, network = _read_text_classifier(
            description["estimator"], "model.estimator"
        )
        return model, model, network
    if kind == "pipeline":
        _object(description, "model", (*ENVELOPE, "steps"))
        _check_versions(description)
        return _read_pipeline(description["steps"], "model.steps")
    raise ValueError(f"model.kind must be 'estimator' or 'pipeline', got {_show(kind)}")


def _check_versions(description):
    for key in ENVELOPE[:3]:
        _str(description[key], f"model.{key}")


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
    vectorizer = _trainer(model).new_vectorizer()
    vectorizer.vocabulary_ = vocabulary
    model.vectorizer_ = vectorizer
    return model, network


def _read_pipeline(steps, where):
    _array(steps, where)
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
    _object(fitted, fitted_where, ("vocabulary",))
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
    _object(step, where, ("name", "estimator"))
    name = _str(step["name"], f"{where}.name")
    if not name or "__" in name:
        raise ValueError(
            f"{where}.name must be a non-empty name without '__', got {_show(name)}"
        )
    return name


def _read_estimator(described, where, class_name):
    """The estimator of ``class_name`` with the described parameters."""
    _object(described, where, ("class", "params", "fitted"))
    if described["class"] != class_name:
        raise ValueError(
            f"{where}.class must be {class_name!r}, got {_show(described['class'])}"
        )
    cls = ESTIMATORS[class_name]
    params = _read_params(cls, described["params"], f"{where}.params")
    estimator = cls(**params)
    try:
        # checked as fit checks them
        validate_params(estimator, type(estimator)._parameter_constraints)  # noqa: SLF001
        # and the text parameters together, the token_pattern compiled
        if isinstance(estimator, RNNTextClassifier):
            _trainer(estimator).new_vectorizer().build_analyzer()
        elif isinstance(estimator, TextVectorizer):
            estimator.build_analyzer()
    except (ValueError, TypeError) as error:
        raise ValueError(f"{where}.params: {error}") from None
    return estimator, described["fitted"]


def _read_params(cls, params, where):
    """The parameters, in the types the estimator takes, of known names only."""
    if not isinstance(params, dict):
        raise ValueError(f"{where} must be an object, not {_json_type(params)}")
    params = dict(params)
    known = cls().get_params()
    for name, value in BEFORE_PARAMETER_EXISTED.items():
        if name in known:
            params.setdefault(name, value)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(
            f"{where} names parameters {cls.__name__} does not have: {_show(unknown)}"
        )
    if params.get("tokenizer") is not None:
        raise ValueError(f"{where}.tokenizer must be null: a file holds no function")
    if params.get("embeddings") is not None:
        _str(params["embeddings"], f"{where}.embeddings")
    if params.get("vocabulary") is not None:
        _read_vocabulary(params["vocabulary"], f"{where}.vocabulary")
    if isinstance(params.get("class_weight"), dict):
        params["class_weight"] = _read_class_weight(
            params["class_weight"], f"{where}.class_weight"
        )
    return params


def _read_class_weight(described, where):
    _object(described, where, ("labels", "weights"))
    labels = _read_labels(described["labels"], f"{where}.labels", min_count=1)
    weights = _array(described["weights"], f"{where}.weights")
    if len(weights) != len(labels):
        raise ValueError(f"{where} has {len(labels)} labels and {len(weights)} weights")
    for i, weight in enumerate(weights):
        _number(weight, f"{where}.weights[{i}]", minimum=0)
    return dict(zip(labels.tolist(), weights, strict=True))


def _read_fitted(estimator, fitted, estimator_where, more=()):
    """The fitted attributes of the network, checked."""
    where = f"{estimator_where}.fitted"
    _object(fitted, where, (*FITTED, *more))
    classes = _read_labels(fitted["classes"], f"{where}.classes", min_count=2)
    history = _read_history(fitted["history"], f"{where}.history")
    best_epoch = fitted["best_epoch"]
    if best_epoch is not None:
        _int(best_epoch, f"{where}.best_epoch", 1, len(history))
    coverage = fitted["pretrained_coverage"]
    if coverage is not None:
        _number(coverage, f"{where}.pretrained_coverage", 0, 1)
    _check_class_weight_labels(estimator.class_weight, classes, estimator_where)
    return {
        "classes": classes,
        "n_tokens": _int(fitted["n_tokens"], f"{where}.n_tokens", FIRST_TOKEN_ID),
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
            f"{where}.fitted.classes: {_show(unknown)}"
        )


def _read_history(history, where):
    """One row per epoch trained, numbered from 1, of finite numbers."""
    _array(history, where)
    if not history:
        raise ValueError(f"{where} must hold a row for each epoch trained; it is empty")
    for number, row in enumerate(history, start=1):
        row_where = f"{where}[{number - 1}]"
        _object(row, row_where, ("epoch",), optional=HISTORY_KEYS)
        _int(row["epoch"], f"{row_where}.epoch", number, number)
        for key, value in row.items():
            if key != "epoch":
                _number(value, f"{row_where}.{key}")
    return history


def _read_labels(described, where, min_count):
    """Distinct labels of one type, exactly as their dtype holds them."""
    _object(described, where, ("dtype", "values"))
    code = described["dtype"]
    if not isinstance(code, str) or not LABEL_DTYPE.fullmatch(code):
        raise ValueError(
            f"{where}.dtype must be that of bool, int, float or str labels, such "
            f"as '<i8' or '<U5'; got {_show(code)}"
        )
    try:
        dtype = np.dtype(code)
    except TypeError:
        raise ValueError(f"{where}.dtype {code!r} is not a dtype numpy has") from None
    values = _array(described["values"], f"{where}.values")
    if len(values) < min_count:
        raise ValueError(f"{where}.values must hold at least {min_count} labels")
    expected, kind_name = LABEL_TYPES[dtype.kind]
    for i, value in enumerate(values):
        if not isinstance(value, expected) or (
            isinstance(value, bool) and dtype.kind != "b"
        ):
            raise ValueError(
                f"{where}.values[{i}] must be {kind_name}, as the dtype {code!r} "
                f"says; got {_show(value)}"
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


LABEL_TYPES = {
    "b": (bool, "a bool"),
    "i": (int, "an int"),
    "u": (int, "an int"),
    "f": (int | float, "a number"),
    "U": (str, "a str"),
}


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
    _array(tokens, where)
    for i, token in enumerate(tokens):
        if not isinstance(token, str):
            raise ValueError(f"{where}[{i}] must be a str token, got {_show(token)}")
    vocabulary = {token: i for i, token in enumerate(tokens, start=FIRST_TOKEN_ID)}
    if len(vocabulary) != len(tokens):
        seen = set()
        repeated = next(token for token in tokens if token in seen or seen.add(token))
        raise ValueError(f"{where} repeats the token {_show(repeated)}")
    return vocabulary


# --- checking and loading the weights ------------------------------------------


def _check_weights(estimator, network, tensors):
    """Refuse weights unlike those of the described network, before building it."""
    expected = _expected_weights(estimator, network, tensors)
    if set(tensors) != set(expected):
        missing, extra = set(expected) - set(tensors), set(tensors) - set(expected)
        raise ValueError(
            f"the weights do not match the network: missing {sorted(missing)}, "
            f"unexpected {_show(sorted(extra))}"
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
        _trainer(estimator).settings,
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


def _restore_network(estimator, network, tensors, device):
    classes, n_tokens = network["classes"], network["n_tokens"]
    settings = _trainer(estimator).settings
    callbacks = training_callbacks(settings, early_stopping=False)
    net = build_net(settings, n_tokens, len(classes), device, callbacks=callbacks)
    net.initialize()
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
    vars(estimator).update(fitted)


def _trainer(estimator):
    """The training engine of ``estimator``, on its validated parameters.

    Validating raises the parameter errors fit would raise.
    """
    trainer_class = TextTrainer if isinstance(estimator, RNNTextClassifier) else Trainer
    # the class's constraints, read as scikit-learn's own tools read them
    constraints = type(estimator)._parameter_constraints  # noqa: SLF001
    return trainer_class(validate_params(estimator, constraints))


# --- checking JSON values ------------------------------------------------------


def _object(value, where, required, optional=()):
    """``value``, a JSON object with the required fields and no unknown ones."""
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be an object, not {_json_type(value)}")
    missing = [key for key in required if key not in value]
    if missing:
        raise ValueError(f"{where} lacks the fields {missing}")
    unknown = sorted(set(value) - set(required) - set(optional))
    if unknown:
        raise ValueError(f"{where} has unknown fields {_show(unknown)}")
    return value


def _array(value, where):
    if not isinstance(value, list):
        raise ValueError(f"{where} must be an array, not {_json_type(value)}")
    return value


def _str(value, where):
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a string, not {_json_type(value)}")
    return value


def _int(value, where, minimum, maximum=None):
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
        raise ValueError(f"{where} must be {bounds}; got {_show(value)}")
    return value


def _number(value, where, minimum=None, maximum=None):
    """A finite number (parsing the JSON refused others) within bounds."""
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        bounds = "" if minimum is None else f" from {minimum}"
        bounds += "" if maximum is None else f" to {maximum}"
        raise ValueError(f"{where} must be a number{bounds}; got {_show(value)}")
    return value


def _json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {_show(value)}"
    if isinstance(value, str):
        return f"the string {_show(value)}"
    return "an array" if isinstance(value, list) else "an object"


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlong = 30


def _show(value):
    """A repr of ``value`` short enough for an error message."""
    return _SHORT.repr(value)
