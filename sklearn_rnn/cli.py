"""The ``sklearn-rnn`` command: train, predict and evaluate on data files.

Data files are CSV, TSV or JSON Lines, optionally gzip-compressed, read with
the standard library only. Models are saved and loaded with
:func:`~sklearn_rnn.save_model` and :func:`~sklearn_rnn.load_model`, never
with pickle.
"""

import argparse
import ast
import difflib
import io
import os
import re
import sys
import textwrap
import time
from contextlib import contextmanager, suppress

from ._cli_parameters import OPTION_GROUPS, option_parameters, parameter_names
from ._data_files import (
    FORMATS,
    LABEL_TYPES,
    DataFileError,
    as_model_labels,
    data_format,
    read_columns,
    read_labels,
)
from ._output_files import (
    OutputError,
    PredictionTable,
    check_output,
    check_stdout,
    os_error_reason,
    write_table,
)
from ._version import __version__

# PyTorch, scikit-learn and the modules that load them are imported by the
# commands that use them, not here: --help, --version and a mistyped option
# answer without waiting seconds for them.

PROG = "sklearn-rnn"
# Lowercase spellings accepted on top of the Python literals.
WORDS = {"true": True, "false": False, "none": None}
# Texts predicted at a time, so that long predictions can report progress.
PREDICTION_CHUNK = 10_000
# Decimal places of the probabilities written: enough to act on, and to
# rank by, without the 17 digits of a float's repr.
DECIMALS = 4
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
    except (CommandError, DataFileError, OutputError) as error:
        _report(error)
        return EXIT_USAGE
    except OSError as error:
        # Files are reported where they are read or written; what is left is
        # stdout, on a full disk for example.
        _silence_stdout()
        _report(f"cannot write to stdout: {os_error_reason(error)}")
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
    data = train.add_argument_group("data")
    _add_data_arguments(data, labels=True)
    data.add_argument(
        "--label-type",
        choices=LABEL_TYPES,
        default="auto",
        help=(
            "auto reads labels that are all integers (0, 1, -1, but not 007) as "
            "integers, as pandas does, and others as text; str keeps every label "
            "as text (default: %(default)s)"
        ),
    )
    data.add_argument(
        "--validation-data",
        metavar="FILE",
        help=(
            "labelled texts for early stopping to judge epochs by, such as a "
            "development split, read with the same columns and options as DATA; "
            "nothing of DATA is then held out"
        ),
    )
    data.add_argument(
        "--unlabeled",
        metavar="FILE",
        help=(
            "texts without labels, read from the text column of FILE with the "
            "same options as DATA: with --pretrain lm the network learns to "
            "read from them before it trains on the labels; with "
            "--self-training-rounds it labels the ones it is surest of and "
            "trains again"
        ),
    )
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
        "with a header: the --id-column and the text if asked for, 'label', then "
        "one 'proba_<class>' column per class, one row per text in the order of "
        "DATA. It goes to stdout unless --output is given; messages go to stderr.",
        f"""\
  {PROG} predict model.safetensors new.csv > predictions.csv
  {PROG} predict model.safetensors new.jsonl.gz -o predictions.csv.gz
  {PROG} predict model.safetensors tickets.csv --id-column ticket_id --keep-text
  {PROG} predict model.safetensors new.tsv --text-column review --device auto""",
        run_predict,
    )
    _add_model_arguments(predict)
    _add_data_arguments(predict, labels=False, ids=True)
    output = predict.add_argument_group("output")
    output.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="write the CSV to this file instead of stdout (gzip if it ends in .gz)",
    )
    output.add_argument(
        "--keep-text",
        action="store_true",
        help="copy each text into the output, before its label",
    )
    _add_decimals_argument(output)
    _add_quiet_argument(output)


def _add_evaluate_parser(commands):
    evaluate = _add_command(
        commands,
        "evaluate",
        "score a saved model on labelled texts",
        "Predict the texts of DATA with MODEL and compare with their labels: "
        "print the accuracy, a classification report (precision, recall, F1 "
        "and support per class) and the confusion matrix. --show-errors and "
        "--errors show or write the texts the model gets wrong.",
        f"""\
  {PROG} evaluate model.safetensors test.csv
  {PROG} evaluate model.safetensors test.jsonl --label-column stars
  {PROG} evaluate model.safetensors test.csv --show-errors 10 --errors wrong.csv""",
        run_evaluate,
    )
    _add_model_arguments(evaluate)
    _add_data_arguments(evaluate, labels=True, ids=True)
    output = evaluate.add_argument_group("output")
    output.add_argument(
        "--show-errors",
        type=_count,
        default=0,
        metavar="N",
        help=(
            "print the N misclassified texts the model was surest of, with their "
            "true and predicted labels and probabilities"
        ),
    )
    output.add_argument(
        "--errors",
        metavar="OUT",
        help=(
            "write every misclassified text to this CSV file (gzip if it ends "
            "in .gz), in the order of DATA: the --id-column (else the row "
            "number), the text, its label, the predicted label and the "
            "probabilities"
        ),
    )
    _add_decimals_argument(output)
    _add_quiet_argument(output)


def _add_decimals_argument(parser):
    parser.add_argument(
        "--decimals",
        type=_count,
        default=DECIMALS,
        metavar="N",
        help="decimal places of the probabilities written (default: %(default)s)",
    )


def _count(text):
    """A command-line count: a whole number, 0 or more."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(
            f"expected a whole number, 0 or more: {text!r}"
        )
    return int(text)


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


def _add_data_arguments(parser, labels, ids=False):
    parser.add_argument(
        "data",
        metavar="DATA",
        help=(
            "a .csv, .tsv, .jsonl or .ndjson file, optionally gzip-compressed "
            "(.csv.gz...), with a header row for CSV and TSV unless --no-header"
        ),
    )
    parser.add_argument(
        "--text-column",
        metavar="NAME",
        help=(
            "the column (or JSON key) of the texts (default: text; with "
            "--no-header, its position, default 1)"
        ),
    )
    if labels:
        parser.add_argument(
            "--label-column",
            metavar="NAME",
            help=(
                "the column (or JSON key) of the labels (default: label; with "
                "--no-header, its position, default 2)"
            ),
        )
    if ids:
        parser.add_argument(
            "--id-column",
            metavar="NAME",
            help=(
                "a column (or JSON key) that identifies each text, such as an id, "
                "copied into the output as its first column"
            ),
        )
    parser.add_argument(
        "--no-header",
        dest="header",
        action="store_false",
        help=(
            "the CSV or TSV file has no header row: every row is data, and "
            "columns are given by position, counting from 1"
        ),
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="the format of DATA, when its extension does not tell",
    )
    parser.add_argument(
        "--encoding",
        metavar="NAME",
        help=(
            "the text encoding of DATA, such as cp1252 or utf-16 (default: "
            "UTF-8, with or without a byte-order mark)"
        ),
    )


def _columns(args, *attributes):
    """The columns to read, each option mapped to a name, or to a position
    with --no-header; options left out take their default, and an id column
    left out is not read."""
    defaults = {"text_column": ("text", 1), "label_column": ("label", 2)}
    columns = {}
    for attribute in attributes:
        value = getattr(args, attribute)
        if value is None:
            if attribute not in defaults:
                continue
            value = defaults[attribute][not args.header]
        option = "--" + attribute.replace("_", "-")
        if not args.header:
            value = _position(value, option)
        columns[option] = value
    return columns


def _position(value, option):
    if isinstance(value, int):
        return value
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise CommandError(
            f"argument {option}: with --no-header, columns are given by position "
            f"(1 for the first), not {value!r}"
        )
    return int(value)


def _column(args, attribute):
    """The column one option names, as ``_columns`` reads it."""
    return _columns(args, attribute)["--" + attribute.replace("_", "-")]


def _read(args, *attributes, path=None):
    """The columns the options ``attributes`` name, of the data file (or of
    ``path``), read as the data options say."""
    return read_columns(
        args.data if path is None else path,
        _columns(args, *attributes),
        args.format,
        encoding=args.encoding,
        header=args.header,
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
    if args.validation_data is not None:
        inputs["the validation data file"] = args.validation_data
    if args.unlabeled is not None:
        if estimator.pretrain is None and not estimator.self_training_rounds:
            raise CommandError(
                "--unlabeled texts are learnt from only with --pretrain lm or "
                "--self-training-rounds; add one, or leave the file out"
            )
        inputs["the unlabeled texts file"] = args.unlabeled
    if isinstance(estimator.embeddings, str):
        inputs["the word-vector file"] = estimator.embeddings
    check_output(args.output, inputs, replaced=True)
    with _reader_proof_stdout() as stdout:
        try:
            texts, labels = _read(args, "text_column", "label_column")
            labels = read_labels(
                labels, args.label_type, data_format(args.data, args.format)
            )
            say(f"Read {_texts(len(texts))} from {args.data}.")
            validation = _validation_data(args, labels, say)
            unlabeled = _unlabeled_texts(args, say)
            start = time.perf_counter()
            _fit(
                estimator,
                texts + unlabeled,
                labels + [None] * len(unlabeled),
                validation,
            )
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
            n_valid = None if validation is None else len(validation[0])
            summary = _training_summary(
                estimator, len(texts), seconds, args.output, n_valid
            )
            print(summary)
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


def _validation_data(args, labels, say):
    """The texts and labels of --validation-data, or None. Its labels are
    matched to the training labels by value, as ``evaluate`` matches a
    model's: ``"1"`` is the training label 1, ``"true"`` is True."""
    if args.validation_data is None:
        return None
    import numpy as np

    path = args.validation_data
    texts, valid_labels = _read(args, "text_column", "label_column", path=path)
    say(f"Read {_texts(len(texts))} from {path} for validation.")
    try:
        classes = np.unique(np.asarray(labels))
    except TypeError:
        # labels of mixed types, which fit refuses with its own message
        return texts, valid_labels
    column = _column(args, "label_column")
    valid_labels = as_model_labels(
        valid_labels, classes, path, column, "that the training data has not"
    ).tolist()
    return texts, valid_labels


def _unlabeled_texts(args, say):
    """The texts of --unlabeled, or none."""
    if args.unlabeled is None:
        return []
    (texts,) = _read(args, "text_column", path=args.unlabeled)
    say(f"Read {_texts(len(texts))} without labels from {args.unlabeled}.")
    return texts


def _fit(estimator, texts, labels, validation_data=None):
    try:
        estimator.fit(texts, labels, validation_data=validation_data)
    except BrokenPipeError:
        raise
    except OSError as error:
        if error.errno is None or error.filename is not None:
            # a word-vector file (--embeddings) that cannot be read
            raise CommandError(f"cannot train: {error}") from None
        # no file named: the progress lines printed on stdout
        _silence_stdout()
        reason = os_error_reason(error)
        raise CommandError(
            f"cannot write the progress of training to stdout: {reason} "
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
        reason = os_error_reason(error) if isinstance(error, OSError) else error
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
        check_stdout(inputs)
    else:
        check_output(args.output, inputs, replaced=False)
    model = _load(args.model, args.device)
    texts, *ids = _read(args, "text_column", "id_column")
    probabilities = _predict_proba(model, texts, say)
    table = PredictionTable(model.classes_, probabilities, args.decimals)
    if ids:
        table.add_column(_id_name(args), ids[0])
    if args.keep_text:
        table.add_column(_text_name(args), texts)
    if args.output is None:
        table.write(sys.stdout)
        return
    write_table(table, args.output)
    say(f"Wrote the predictions of {_texts(len(texts))} to {args.output}.")


def run_evaluate(args):
    """Print the accuracy, classification report and confusion matrix, and
    show or write the misclassified texts."""
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix

    say = _messenger(args.quiet)
    if args.errors is not None:
        inputs = {"the model file": args.model, "the data file": args.data}
        check_output(args.errors, inputs, replaced=False)
    model = _load(args.model, args.device)
    texts, labels, *ids = _read(args, "text_column", "label_column", "id_column")
    classes = model.classes_
    label_column = _column(args, "label_column")
    y_true = as_model_labels(labels, classes, args.data, label_column)
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
    wrong = (y_true != y_pred).nonzero()[0]
    if args.show_errors:
        print()
        print(_shown_errors(wrong, texts, y_true, y_pred, probabilities, args))
    if args.errors is not None:
        table = PredictionTable(
            classes, probabilities[wrong], args.decimals, label_name="predicted"
        )
        if ids:
            table.add_column(_id_name(args), [ids[0][i] for i in wrong])
        else:
            table.add_column("row", (wrong + 1).tolist())
        table.add_column(_text_name(args), [texts[i] for i in wrong])
        table.add_column("label", y_true[wrong].tolist())
        write_table(table, args.errors)
        misclassified = _texts(len(wrong)).replace(" text", " misclassified text")
        say(f"Wrote {misclassified} to {args.errors}.")


def _shown_errors(wrong, texts, y_true, y_pred, probabilities, args):
    """The ``args.show_errors`` mistakes the model was surest of, as text."""
    if not len(wrong):
        return "Misclassified: none."
    confidence = probabilities[wrong].max(axis=1)
    # stable: among equally sure mistakes, the first in the file first
    shown = wrong[(-confidence).argsort(kind="stable")[: args.show_errors]]
    lines = [
        f"Misclassified: {len(wrong):,} of {len(texts):,} texts; the "
        f"{len(shown):,} the model was surest of:"
    ]
    decimals = args.decimals
    for index in shown:
        sure = probabilities[index].max()
        lines.append(
            f"  row {index + 1}: true {y_true[index]!s}, predicted {y_pred[index]!s} "
            f"(p={sure:.{decimals}f}): {_one_line(texts[index])}"
        )
    return "\n".join(lines)


def _one_line(text, width=100):
    """A text on one line of at most ``width`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def _id_name(args):
    column = _column(args, "id_column")
    return "id" if isinstance(column, int) else column


def _text_name(args):
    column = _column(args, "text_column")
    return "text" if isinstance(column, int) else column


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
    message = re.sub(r"\bvalidation_data\b", "--validation-data", message)

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


def _training_summary(estimator, n_texts, seconds, path, n_given_valid=None):
    """What training did, in two lines; ``n_given_valid`` counts the texts
    of --validation-data, if given."""
    texts = _texts(n_texts)
    epochs = f"{estimator.n_epochs_} epoch{'s' * (estimator.n_epochs_ != 1)}"
    if estimator.best_epoch_ is not None:
        if n_given_valid is not None:
            texts += f" (validated on {_texts(n_given_valid)} of --validation-data)"
        else:
            from ._validation_split import validation_size

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


def _silence_stdout():
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
