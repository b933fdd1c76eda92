"""Output files of the command line, written so that a failure leaves no
half-written file, and never over one of the command's inputs; and the CSV
table of predictions they hold."""

import csv
import gzip
import io
import os
import stat
import sys
import tempfile
from contextlib import contextmanager


class OutputError(Exception):
    """An output that cannot be written: to report in one line."""


def os_error_reason(error):
    """An OSError as its reason alone (the file is named by the message)."""
    return getattr(error, "strerror", None) or str(error)


def check_output(path, inputs, replaced):
    """Fail before any long work if ``path`` cannot be written.

    Parameters
    ----------
    path : str
        The output file.
    inputs : dict
        What each input file is (for the message), mapped to its path: the
        output may be none of them.
    replaced : bool
        Whether the output is always written to a new file renamed over
        ``path``, as :func:`save_model` does; otherwise a device or a pipe is
        written in place.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise OutputError(f"cannot write {path}: it is a directory")
    if not os.path.isdir(folder):
        raise OutputError(f"cannot write {path}: no directory {folder}")
    for what, input_path in inputs.items():
        if _same_file(path, input_path):
            raise OutputError(
                f"cannot write {path}: it is {what}, which would be overwritten"
            )
    in_place = os.path.exists(path) and not os.path.isfile(path)
    if in_place and replaced:
        raise OutputError(
            f"cannot write {path}: not a regular file (a model is written to a "
            "new file that then replaces it)"
        )
    if not in_place:
        # where the new file is made: save_model replaces a symbolic link,
        # _output_file the file it points to
        target = os.path.abspath(path) if replaced else os.path.realpath(path)
        _check_can_create_in(os.path.dirname(target), path)


def _same_file(path, other):
    """Whether two paths are one file, through symbolic and hard links."""
    try:
        return os.path.samefile(path, other)
    except (OSError, ValueError):
        # one of them does not exist (yet)
        return False


def _check_can_create_in(folder, path):
    try:
        handle, probe = tempfile.mkstemp(prefix=".sklearn-rnn-", dir=folder)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {os_error_reason(error)}") from None
    os.close(handle)
    os.remove(probe)


def check_stdout(inputs):
    """Refuse a stdout that is appended to one of the input files."""
    try:
        out = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        # not a file: a test's capture, for one
        return
    for what, input_path in inputs.items():
        try:
            same = os.path.samestat(out, os.stat(input_path))
        except OSError:
            continue
        if same:
            raise OutputError(
                f"stdout is {what}, {input_path}, which would be overwritten"
            )


@contextmanager
def output_file(path):
    """A text file to write ``path`` with, gzip if its name ends in .gz.

    A regular file is written under a temporary name in its folder and renamed
    over ``path`` once complete, so a failure leaves any previous file whole
    and no partial one. A device or a pipe (``/dev/stdout``) is written in
    place.
    """
    if os.path.exists(path) and not os.path.isfile(path):
        with open(path, "wb") as raw, _text_writer(raw, path) as file:
            yield file
        return
    target = os.path.realpath(path)
    handle, partial = tempfile.mkstemp(
        prefix=".sklearn-rnn-", suffix=".partial", dir=os.path.dirname(target)
    )
    try:
        os.chmod(partial, _mode_for(target))
        with open(handle, "wb") as raw:
            with _text_writer(raw, path) as file:
                yield file
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


@contextmanager
def _text_writer(raw, name):
    """UTF-8 text written to the binary file ``raw``, gzip for a .gz name.

    ``raw`` stays open, for the caller to sync to the disk.
    """
    binary = (
        gzip.GzipFile(fileobj=raw, mode="wb") if name.lower().endswith(".gz") else raw
    )
    file = io.TextIOWrapper(binary, encoding="utf-8", newline="")
    yield file
    file.flush()
    file.detach()
    if binary is not raw:
        # writes the gzip trailer
        binary.close()


def _mode_for(path):
    """An overwritten file's mode, or what the umask gives a new file."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_table(table, path):
    try:
        with output_file(path) as file:
            table.write(file)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {os_error_reason(error)}") from None


class PredictionTable:
    """Predictions as CSV: leading columns (an id, the text...), then the
    predicted label and one probability column per class.

    Parameters
    ----------
    classes : ndarray
        The model's classes, one probability column each.
    probabilities : ndarray of shape (n_texts, n_classes)
        The predicted probabilities; the label is the most probable class.
    decimals : int
        Decimal places of the probabilities written.
    label_name : str, default="label"
        The header of the predicted label's column.
    """

    def __init__(self, classes, probabilities, decimals, label_name="label"):
        self.classes = classes
        self.probabilities = probabilities
        self.decimals = decimals
        self.label_name = label_name
        self.leading = []

    def add_column(self, name, values):
        """Add a column before the predictions, after those added before."""
        self.leading.append((name, values))

    def write(self, file):
        writer = csv.writer(file, lineterminator="\n")
        names = [name for name, _ in self.leading]
        writer.writerow(
            [*names, self.label_name, *(f"proba_{label}" for label in self.classes)]
        )
        labels = self.classes[self.probabilities.argmax(axis=1)].tolist()
        columns = [values for _, values in self.leading]
        rows = list(zip(*columns, strict=True)) if columns else [()] * len(labels)
        shown = f"{{:.{self.decimals}f}}".format
        for row, label, probabilities in zip(
            rows, labels, self.probabilities.tolist(), strict=True
        ):
            writer.writerow([*row, label, *map(shown, probabilities)])
