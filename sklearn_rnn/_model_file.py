"""The model file: a safetensors file of tensors and a JSON description.

The container only, knowing nothing of estimators: the format's name and
version in the header's metadata, the description as JSON beside them, and a
SHA-256 digest of the three and of every tensor. :func:`write_model_file`
writes one atomically; :func:`read_model_file` reads one back, checking the
format and the digest before it parses the description strictly, refusing
what no description holds. What the description says is the caller's to
check.
"""

import errno
import hashlib
import json
import os
import re
import secrets
import stat
from contextlib import contextmanager, suppress

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as safetensors_bytes

from ._json_values import short_repr

FORMAT = "sklearn-rnn"
# Format 2 adds the digest; files of format 1 have none, and still load.
# Format 3 adds the bag of words' idf (the "bag_idf" weight); networks of
# earlier formats have none and weight its counts as they were trained to.
FORMAT_VERSION = 3
FIRST_VERSION_WITH_DIGEST = 2
FIRST_VERSION_WITH_IDF = 3
DIGEST_KEY = "sha256"
METADATA_KEYS = ("format", "format_version", "model", DIGEST_KEY)
# The deepest the description nests objects and arrays: a pipeline's step,
# its estimator, its parameters, a class_weight, its labels and their values.
MAX_DESCRIPTION_DEPTH = 8
# Every int the description holds fits in 64 bits (uint64 labels included).
MAX_ABS_INT = 2**64 - 1
PARTIAL_PREFIX = ".sklearn-rnn-"
PARTIAL_SUFFIX = ".partial"
# What fsync answers on a folder where the file system cannot sync one.
SYNC_UNSUPPORTED = {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF}


def write_model_file(path, description, tensors, format_version=FORMAT_VERSION):
    """Write a model file atomically: the description as JSON, the tensors.

    Parameters
    ----------
    path : str or os.PathLike
        Where to write; a file already there is replaced whole or left as it
        was, and keeps its permissions.
    description : dict
        The model's description, of JSON values.
    tensors : dict of str to torch.Tensor
        The weights, on the CPU and contiguous.
    format_version : int, default=FORMAT_VERSION
        The format the file declares: an earlier one (with a digest) for a
        network that the current format describes otherwise.

    Raises
    ------
    ValueError
        If a number of the description is NaN or infinite.
    OSError
        If the file cannot be written.
    """
    metadata = {
        "format": FORMAT,
        "format_version": str(format_version),
        "model": _description_json(description),
    }
    metadata[DIGEST_KEY] = _digest(metadata, tensors)
    _write_atomically(os.fspath(path), safetensors_bytes(tensors, metadata))


def read_model_file(path):
    """Read a model file, its format and digest checked, its JSON parsed.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`write_model_file`.

    Returns
    -------
    description : object
        The description, parsed from strict JSON: no NaN, infinity, int
        beyond 64 bits or nesting deeper than the format's. Its fields are
        not checked.
    tensors : dict of str to torch.Tensor
        The tensors, on the CPU.
    format_version : int
        The file's format.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a readable model file of a format this version
        reads, its digest does not match, or its description is not strict
        JSON.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No model file at {path!r}.")
    metadata, tensors = _read_file(path)
    _check_digest(metadata, tensors, path)
    try:
        description = _parse_description(metadata["model"])
    except ValueError as error:
        raise invalid_description(path, error) from None
    return description, tensors, int(metadata["format_version"])


def invalid_description(path, error):
    """The error for the file at ``path`` whose description ``error`` refuses."""
    return ValueError(f"{path!r} has an invalid model description: {error}")


# --- writing -------------------------------------------------------------------


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
            f"does not have: {short_repr(unknown)}."
        )
    if "model" not in metadata:
        raise ValueError(f"{path!r} is damaged: it has no model description.")


def _format_version(metadata, path):
    version = metadata.get("format_version", "")
    if not re.fullmatch(r"[1-9][0-9]{0,8}", version):
        raise ValueError(
            f"{path!r} has an unreadable format version {short_repr(version)}."
        )
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


# --- parsing the description ---------------------------------------------------


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
            raise ValueError(f"it holds an int beyond 64 bits, {short_repr(value)}")
