"""The ``sklearn-rnn`` command: train, predict and evaluate on data files.

Data files are CSV, TSV or JSON Lines, optionally gzip-compressed, read with
the standard library only. Models are saved and loaded with
:func:`~sklearn_rnn.save_model` and :func:`~sklearn_rnn.load_model`, never
with pickle.
"""

import argparse
import ast
import csv
import difflib
import gzip
import io
import os
import re
import stat
import sys
import tempfile
import textwrap
import time
from contextlib import contextmanager, suppress

from ._cli_parameters import OPTION_GROUPS, option_parameters, parameter_names
from ._data_files import FORMATS, DataFileError, as_model_labels, read_columns
from ._version import __version__

# PyTorch, scikit-learn and the modules that load them are imported by the
# commands that use them, not here: --help, --version and a mistyped option
# answer without waiting seconds for them.

PROG = "sklearn-rnn"
# Lowercase spellings accepted on top of the Python literals.
WORDS = {"true": True, "false": False, "none": None}
# Texts predicted at a time, so that long predictions can report progress.
PREDICTION_CHUNK = 10_000
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 1
# What fit raises for settings or data it cannot train on (its documented
# errors), and for a number too large for torch.
TRAINING_ERRORS = (ValueError, TypeError, FloatingPointError, OverflowError)


class CommandError(Exception):
    """A problem to report in one line, without a traceback."""


class Interrupted(Exception):
    """Ctrl-C, once the command has done what it can: what to report."""


def main(argv=None):
    """Run the ``sklearn-rnn`` command.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments, without the program name; None reads ``sys.argv``.

    Returns
    -------
    exit_code : int
        0 on success; 2 for a usage or data error, or an output that cannot
        be written, reported on stderr in one line as argparse does; 130 when
        interrupted (an interrupted ``train`` saves the last completed epoch);
        1, silently, when the reader of stdout stops reading (as ``head``
        does).

    Examples
    --------
    >>> from sklearn_rnn.cli import main
    >>> main(["--version"])
    sklearn-rnn ...
    0
    """
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:
            args.parser.refuse_unknown(unknown)
    except SystemExit as stop:
        # --help, --version and usage errors: argparse exits; return instead.
        return stop.code
    try:
        args.run(args)
        # Written now, so that a failure is reported here, not at exit.
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader of stdout went away (as with `| head`): stop quietly, and
        # keep Python from failing again when it flushes stdout at exit.
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except (CommandError, DataFileError) as error:
        _report(error)
        return EXIT_USAGE
    except OSError as error:
        # Files are reported where they are read or written; what is left is
        # stdout, on a full disk for example.
        _silence_stdout()
        _report(f"cannot write to stdout: {_reason(error)}")
        return EXIT_USAGE
    except Interrupted as interrupt:
        _report(interrupt, error=False)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        _report("interrupted", error=False)
        return EXIT_INTERRUPTED
    return 0


def _report(message, error=True):
    """Print one line on stderr; only the first line of a long message.

    torch's messages can go on with a C++ stack trace.
    """
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    text = lines[0] if lines else "unknown error"
    with suppress(OSError):
        print(f"{PROG}: {'error: ' * error}{text}", file=sys.stderr, flush=True)


def _reason(error):
    """An OSError as its reason alone (the file is named by the message)."""
    return getattr(error, "strerror", None) or str(error)


# --- the command line ----------------------------------------------------------


def build_parser():
    """The argument parser of ``sklearn-rnn`` and its three commands."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Train a recurrent neural network text classifier "
            "(sklearn_rnn.RNNTextClassifier) on a CSV, TSV or JSON Lines file, "
            "then predict or evaluate with the saved model."
        ),
        epilog=f"Run '{PROG} COMMAND --help' for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(
        parser_class=CommandParser,
        dest="command",
        metavar="COMMAND",
        required=True,
        title="commands",
    )
    _add_train_parser(commands)
    _add_predict_parser(commands)
    _add_evaluate_parser(commands)
    return parser


class CommandParser(argparse.ArgumentParser):
    """A command's parser: an unknown option is refused with this command's
    usage and the closest option it has."""

    def refuse_unknown(self, unknown):
        options = [name for action in self._actions for name in action.option_strings]
        message = f"unrecognized arguments: {' '.join(unknown)}"
        for argument in unknown:
            name = argument.split("=", 1)[0]
            if not name.startswith("--"):
                continue
            close = difflib.get_close_matches(name, options, n=1, cutoff=0.75)
            if close:
                message += f"; did you mean {close[0]} (for {name})?"
        self.error(message)


def _add_command(commands, name, summary, description, examples, run, usage=None):
    command = commands.add_parser(
        name,
        help=summary,
        usage=usage,
        description=_wrap(description),
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        # Abbreviated options would change meaning as the estimator gains
        # parameters.
        allow_abbrev=False,
    )
    command.set_defaults(run=run, parser=command)
    return command


def _add_train_parser(commands):
    train = _add_command(
        commands,
        "train",
        "train a model on labelled texts and save it",
        "Train an RNNTextClassifier on the texts and labels of DATA and save the "
        "model to the --output file (safetensors, loadable with "
        "sklearn_rnn.load_model). One line per epoch is printed unless --quiet.",
        f"""\
  {PROG} train reviews.csv -o model.safetensors
  {PROG} train reviews.tsv.gz --text-column review --label-column stars \\
      --max-epochs 5 --cell gru --hidden-size 64 -o model.safetensors
  {PROG} train tickets.jsonl --class-weight balanced --random-state 0 \\
      --device cpu -o tickets.safetensors""",
        run_train,
        usage="%(prog)s DATA -o MODEL [options] [model parameters]",
    )
    _add_data_arguments(train.add_argument_group("data"), labels=True)
    output = train.add_argument_group("output")
    output.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="MODEL",
        help="where to save the trained model (e.g. model.safetensors)",
    )
    _add_quiet_argument(output)
    _add_estimator_arguments(train)


def _add_predict_parser(commands):
    predict = _add_command(
        commands,
        "predict",
        "predict the labels of texts with a saved model",
        "Predict the label of every text in DATA with MODEL, and write a CSV file "
        "with a header: 'label', then one 'proba_<class>' column per class, one "
        "row per text in the order of DATA. It goes to stdout unless --output is "
        "given; messages go to stderr.",
        f"""\
  {PROG} predict model.safetensors new.csv > predictions.csv
  {PROG} predict model.safetensors new.jsonl.gz -o predictions.csv.gz
  {PROG} predict model.safetensors new.tsv --text-column review --device auto""",
        run_predict,
    )
    _add_model_arguments(predict)
    _add_data_arguments(predict, labels=False)
    predict.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="write the CSV to this file instead of stdout (gzip if it ends in .gz)",
    )
    _add_quiet_argument(predict)


def _add_evaluate_parser(commands):
    evaluate = _add_command(
        commands,
        "evaluate",
        "score a saved model on labelled texts",
        "Predict the texts of DATA with MODEL and compare with their labels: "
        "print the accuracy, a classification report (precision, recall, F1 "
        "and support per class) and the confusion matrix.",
        f"""\
  {PROG} evaluate model.safetensors test.csv
  {PROG} evaluate model.safetensors test.jsonl --label-column stars""",
        run_evaluate,
    )
    _add_model_arguments(evaluate)
    _add_data_arguments(evaluate, labels=True)
    _add_quiet_argument(evaluate)


def _add_model_arguments(parser):
    parser.add_argument("model", metavar="MODEL", help="a model saved by 'train'")
    parser.add_argument(
        "--device",
        default="cpu",
        help=(
            "where the model runs: cpu, cuda, cuda:1, mps, or auto for a CUDA GPU "
            "when there is one (default: %(default)s)"
        ),
    )


def _add_data_arguments(parser, labels):
    parser.add_argument(
        "data",
        metavar="DATA",
        help=(
            "a .csv, .tsv, .jsonl or .ndjson file, optionally gzip-compressed "
            "(.csv.gz...), in UTF-8, with a header row for CSV and TSV"
        ),
    )
    parser.add_argument(
        "--text-column",
        default="text",
        metavar="NAME",
        help="the column (or JSON key) of the texts (default: %(default)s)",
    )
    if labels:
        parser.add_argument(
            "--label-column",
            default="label",
            metavar="NAME",
            help="the column (or JSON key) of the labels (default: %(default)s)",
        )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="the format of DATA, when its extension does not tell",
    )


def _add_quiet_argument(parser):
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing but errors"
    )


def _add_estimator_arguments(parser):
    """One option per parameter of RNNTextClassifier, in groups."""
    parameters = option_parameters()
    for group_name, names in OPTION_GROUPS.items():
        group = parser.add_argument_group(f"{group_name} parameters")
        for name in names:
            default, description = parameters[name]
            group.add_argument(
                "--" + name.replace("_", "-"),
                dest=name,
                type=parse_value,
                default=argparse.SUPPRESS,
                metavar="VALUE",
                help=f"{description} (default: {_show(default)})".lstrip().replace(
                    "%", "%%"
                ),
            )


def _wrap(text):
    # The help keeps line breaks, for the examples; paragraphs are wrapped here.
    return textwrap.fill(text, width=76)


def _show(value):
    """A value as it would be typed on the command line."""
    return value if isinstance(value, str) else repr(value)


def parse_value(text):
    """A command-line value as a Python literal, or else as the text itself.

    ``"5"`` gives 5, ``"None"`` and ``"none"`` None, ``"{'spam': 2}"`` a dict,
    and ``"lstm"`` stays ``"lstm"``.
    """
    if text.lower() in WORDS:
        return WORDS[text.lower()]
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text


# --- the commands --------------------------------------------------------------


def run_train(args):
    """Train on the data file and save the model.

    Ctrl-C stops training and saves the model of the last completed epoch
    (the best one, with early stopping), as ``RNNTextClassifier.fit`` keeps
    it; then :class:`Interrupted` says what was saved.
    """
    say = _messenger(args.quiet)
    estimator = _estimator_from_options(args)
    inputs = {"the data file": args.data}
    if isinstance(estimator.embeddings, str):
        inputs["the word-vector file"] = estimator.embeddings
    _check_output(args.output, inputs, replaced=True)
    with _reader_proof_stdout() as stdout:
        try:
            texts, labels = read_columns(
                args.data,
                {
                    "--text-column": args.text_column,
                    "--label-column": args.label_column,
                },
                args.format,
            )
            say(f"Read {_texts(len(texts))} from {args.data}.")
            start = time.perf_counter()
            _fit(estimator, texts, labels)
        except _interrupted_after_epochs():
            # fit kept its completed epochs, as the exception says
            _save_interrupted(estimator, args.output)
        except KeyboardInterrupt:
            raise Interrupted(
                "interrupted before the first epoch of training ended: no model saved"
            ) from None
        seconds = time.perf_counter() - start
        _save(estimator, args.output)
        if not args.quiet:
            print(_training_summary(estimator, len(texts), seconds, args.output))
    if stdout.reader_gone:
        # the model is saved; end as a closed pipe ends every command
        raise BrokenPipeError


class _ReaderProofOutput(io.TextIOBase):
    """stdout that drops what it is given once its reader has gone.

    Training prints its progress on stdout; when that is a pipe whose reader
    stopped (``train ... | head -1``), the training goes on and its model is
    saved rather than lost to a ``BrokenPipeError``.
    """

    def __init__(self, stream):
        self.stream = stream
        self.reader_gone = False

    def write(self, text):
        if not self.reader_gone:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self.reader_gone = True
        return len(text)

    def flush(self):
        if not self.reader_gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self.reader_gone = True


@contextmanager
def _reader_proof_stdout():
    original = sys.stdout
    sys.stdout = _ReaderProofOutput(original)
    try:
        yield sys.stdout
    finally:
        sys.stdout.flush()
        sys.stdout = original


def _fit(estimator, texts, labels):
    try:
        estimator.fit(texts, labels)
    except BrokenPipeError:
        raise
    except OSError as error:
        if error.errno is None or error.filename is not None:
            # a word-vector file (--embeddings) that cannot be read
            raise CommandError(f"cannot train: {error}") from None
        # no file named: the progress lines printed on stdout
        _silence_stdout()
        raise CommandError(
            f"cannot write the progress of training to stdout: {_reason(error)} "
            "(--quiet prints none)"
        ) from None
    except TRAINING_ERRORS as error:
        raise CommandError(f"cannot train: {as_options(str(error))}") from None
    except (RuntimeError, MemoryError) as error:
        problem = _allocation_problem(error)
        if problem is None:
            raise
        raise CommandError(
            f"cannot train: {problem}; choose a smaller --hidden-size, "
            "--embedding-dim, --max-features or --batch-size"
        ) from None


def _allocation_problem(error):
    """What went wrong when torch could not make a tensor, or None.

    On the CPU, torch reports both a failed allocation and a size beyond its
    count of elements as a plain RuntimeError; Python as a MemoryError.
    """
    import torch

    message = str(error)
    if isinstance(error, MemoryError | torch.OutOfMemoryError) or (
        "can't allocate memory" in message
    ):
        wanted = re.search(r"allocate (\d+) bytes", message)
        amount = f" ({int(wanted[1]):,} bytes for one tensor)" if wanted else ""
        return f"not enough memory{amount}"
    if "size calculation overflow" in message:
        return "a tensor of these sizes would have more elements than torch can count"
    return None


def _save(estimator, path):
    from .persistence import save_model

    try:
        save_model(estimator, path)
    except (OSError, ValueError) as error:
        # ValueError: a model save_model refuses, as one with non-finite weights
        reason = _reason(error) if isinstance(error, OSError) else error
        raise CommandError(f"cannot save the model to {path}: {reason}") from None


def _save_interrupted(estimator, path):
    """Save what an interrupted fit kept, and raise :class:`Interrupted`."""
    kept = estimator.best_epoch_ or estimator.n_epochs_
    completed = (
        f"{estimator.n_epochs_} complete epoch{'s' * (estimator.n_epochs_ != 1)}"
    )
    which = "the best on validation" if estimator.best_epoch_ else "the last"
    _save(estimator, path)
    raise Interrupted(
        f"training was interrupted after {completed}: saved the model of "
        f"epoch {kept}, {which}, to {path}"
    )


def run_predict(args):
    """Write the predicted labels and probabilities as CSV."""
    say = _messenger(args.quiet)
    inputs = {"the model file": args.model, "the data file": args.data}
    if args.output is None:
        _check_stdout(inputs)
    else:
        _check_output(args.output, inputs, replaced=False)
    model = _load(args.model, args.device)
    (texts,) = read_columns(args.data, {"--text-column": args.text_column}, args.format)
    probabilities = _predict_proba(model, texts, say)
    labels = model.classes_[probabilities.argmax(axis=1)]
    if args.output is None:
        _write_predictions(sys.stdout, model.classes_, labels, probabilities)
        return
    try:
        with _output_file(args.output) as file:
            _write_predictions(file, model.classes_, labels, probabilities)
    except OSError as error:
        raise CommandError(f"cannot write {args.output}: {_reason(error)}") from None
    say(f"Wrote the predictions of {len(texts):,} texts to {args.output}.")


def run_evaluate(args):
    """Print the accuracy, classification report and confusion matrix."""
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix

    say = _messenger(args.quiet)
    model = _load(args.model, args.device)
    texts, labels = read_columns(
        args.data,
        {"--text-column": args.text_column, "--label-column": args.label_column},
        args.format,
    )
    classes = model.classes_
    y_true = as_model_labels(labels, classes, args.data, args.label_column)
    probabilities = _predict_proba(model, texts, say)
    y_pred = classes[probabilities.argmax(axis=1)]
    names = [str(label) for label in classes]
    print(f"Accuracy: {accuracy_score(y_true, y_pred):.4f} on {len(texts):,} texts")
    print()
    print("Classification report:")
    print(
        classification_report(
            y_true,
            y_pred,
            labels=classes,
            target_names=names,
            digits=4,
            zero_division=0,
        )
    )
    print("Confusion matrix (rows: true labels, columns: predicted labels):")
    print(_format_matrix(confusion_matrix(y_true, y_pred, labels=classes), names))


def _interrupted_after_epochs():
    from ._training import InterruptedAfterEpochs

    return InterruptedAfterEpochs


def _estimator_from_options(args):
    """An RNNTextClassifier with the parameters given, each checked."""
    from ._param_validation import validate_params
    from .classifier import RNNTextClassifier

    params = {
        name: getattr(args, name) for name in parameter_names() if hasattr(args, name)
    }
    estimator = RNNTextClassifier(**params, verbose=0 if args.quiet else 1)
    # the estimator's constraints, read as scikit-learn's own tools read them
    constraints = RNNTextClassifier._parameter_constraints  # noqa: SLF001
    for name in params:
        try:
            validate_params(estimator, {name: constraints[name]})
        except ValueError as error:
            option = "--" + name.replace("_", "-")
            raise CommandError(f"argument {option}: {error}") from None
    return estimator


def _load(path, device):
    from .persistence import load_model

    try:
        return load_model(path, device=device)
    except (OSError, ValueError) as error:
        raise CommandError(as_options(str(error))) from None


def as_options(message):
    """``message`` with the estimator's parameters spelt as this command's
    options: ``device='auto'`` becomes ``--device auto``."""
    names = "|".join(parameter_names())

    def option(match):
        value = match.group("quoted")
        if value is None:
            value = match.group("plain")
        return f"--{match.group('name').replace('_', '-')} {value}"

    pattern = (
        rf"(?<![\w.-])(?P<name>{names})="
        # a plain value ends before a sentence's full stop
        r"(?:'(?P<quoted>[^'\s]*)'|(?P<plain>[\w+-]+(?:\.[\w+-]+)*))"
    )
    return re.sub(pattern, option, message)


def _predict_proba(model, texts, say):
    """``model.predict_proba(texts)``, saying how far it got on long inputs."""
    n_texts = len(texts)
    say(f"Predicting {_texts(n_texts)}...")
    chunks = []
    for start in range(0, n_texts, PREDICTION_CHUNK):
        chunks.append(model.predict_proba(texts[start : start + PREDICTION_CHUNK]))
        if n_texts > PREDICTION_CHUNK:
            say(f"  {min(start + PREDICTION_CHUNK, n_texts):,} / {n_texts:,}")
    import numpy as np

    return np.concatenate(chunks)


def _write_predictions(file, classes, labels, probabilities):
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(["label", *(f"proba_{label}" for label in classes)])
    for label, row in zip(labels.tolist(), probabilities.tolist(), strict=True):
        writer.writerow([label, *row])


def _training_summary(estimator, n_texts, seconds, path):
    texts = _texts(n_texts)
    epochs = f"{estimator.n_epochs_} epoch{'s' * (estimator.n_epochs_ != 1)}"
    if estimator.best_epoch_ is not None:
        from ._training import validation_size

        n_valid = validation_size(n_texts, estimator.validation_fraction)
        texts = f"{_texts(n_texts - n_valid)} ({n_valid:,} held out for validation)"
        ended = (
            "stopped early"
            if estimator.n_epochs_ < estimator.max_epochs
            else "the most --max-epochs allows"
        )
        epochs += (
            f" ({ended}), keeping epoch {estimator.best_epoch_}, the best on validation"
        )
    classes = estimator.classes_.tolist()
    shown = ", ".join(map(str, classes[:10])) + (", ..." if len(classes) > 10 else "")
    return (
        f"Trained on {texts}, {len(classes)} classes ({shown}), "
        f"{epochs}, in {seconds:.1f} s.\nModel saved to {path}"
    )


def _texts(n_texts):
    return f"{n_texts:,} text{'s' * (n_texts != 1)}"


def _format_matrix(matrix, names):
    """A confusion matrix as text, with class names on both sides."""
    width = max(max(map(len, names)), len(str(matrix.max())))
    row_width = max(map(len, names))
    lines = [" " * row_width + "".join(f"  {name:>{width}}" for name in names)]
    for name, row in zip(names, matrix, strict=True):
        lines.append(f"{name:<{row_width}}" + "".join(f"  {n:>{width}}" for n in row))
    return "\n".join(lines)


def _messenger(quiet):
    """A function printing progress to stderr, or doing nothing when quiet."""

    def say(message):
        if not quiet:
            print(message, file=sys.stderr, flush=True)

    return say


def _check_output(path, inputs, replaced):
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
        raise CommandError(f"cannot write {path}: it is a directory")
    if not os.path.isdir(folder):
        raise CommandError(f"cannot write {path}: no directory {folder}")
    for what, input_path in inputs.items():
        if _same_file(path, input_path):
            raise CommandError(
                f"cannot write {path}: it is {what}, which would be overwritten"
            )
    in_place = os.path.exists(path) and not os.path.isfile(path)
    if in_place and replaced:
        raise CommandError(
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
        raise CommandError(f"cannot write {path}: {_reason(error)}") from None
    os.close(handle)
    os.remove(probe)


def _check_stdout(inputs):
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
            raise CommandError(
                f"stdout is {what}, {input_path}, which would be overwritten"
            )


@contextmanager
def _output_file(path):
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


def _silence_stdout():
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
