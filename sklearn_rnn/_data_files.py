"""Labelled texts from CSV, TSV and JSON Lines files, read with the stdlib.

Reading is strict: every record of the file is one row of data, or the file
is refused. Every problem is a :class:`DataFileError` whose message names the
file, and where it can the line and the column, so that the command line can
report it in one line.
"""

import codecs
import csv
import gzip
import io
import itertools
import json
import os
import re
import zlib
from contextlib import contextmanager

FORMATS = ("csv", "tsv", "jsonl")
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
DELIMITERS = {"csv": ",", "tsv": "\t"}
# csv refuses fields over 128 KiB by default; a text may be longer. This is
# the largest limit every platform's C long holds.
CSV_FIELD_LIMIT = 2**31 - 1
# A text file holds no NUL: one is a sign of UTF-16 or of a binary file.
NUL_PROBLEM = (
    "a NUL byte, which no text holds: is the file UTF-16 (then give "
    "--encoding utf-16) or binary?"
)
# Labels read as integers when every one is written this way: "007" and "+1"
# stay text, as turning them into 7 and 1 would lose how they were written.
INTEGER_LABEL = re.compile(r"-?(?:0|[1-9][0-9]*)")
LABEL_TYPES = ("auto", "str")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class DataFileError(ValueError):
    """A data file that is missing, unreadable, or lacks what was asked."""


def data_format(path, given=None):
    """The format of a data file: ``given``, or else from its extension."""
    if given is not None:
        return given
    name = path.lower().removesuffix(".gz")
    for extension, file_format in EXTENSIONS.items():
        if name.endswith(extension):
            return file_format
    raise DataFileError(
        f"cannot tell the format of {path} from its name: use a .csv, .tsv, "
        ".jsonl or .ndjson file (optionally .gz), or give --format"
    )


def read_columns(path, columns, file_format=None, *, encoding=None, header=True):
    """Read some columns of a data file, checking every value.

    Parameters
    ----------
    path : str
        A CSV, TSV or JSON Lines file, gzip-compressed if its name ends in
        ``.gz``.
    columns : dict
        Which columns to read: the option that names each one (for messages),
        mapped to the column's name, or to its position counting from 1 when
        ``header=False``. ``"--text-column"`` holds texts, ``"--id-column"``
        anything but an empty value, and any other column labels.
    file_format : {"csv", "tsv", "jsonl"} or None, default=None
        None tells the format from the extension.
    encoding : str or None, default=None
        The file's text encoding; None is UTF-8, with or without a byte-order
        mark.
    header : bool, default=True
        Whether the first row of a CSV or TSV file names its columns. Without
        one, every row is data and columns are given by position.

    Returns
    -------
    values : list of list
        The values of each column, in the order of ``columns``: texts are
        ``str``; labels and ids are ``str`` in CSV and TSV and as JSON gives
        them in JSON Lines.

    Raises
    ------
    DataFileError
        For a file that is missing, unreadable or empty, a missing column (the
        message names those present), a malformed record (a quote left open
        to the end of the file, text after a closing quote, a row with another
        number of fields than the header, a NUL byte, bytes that are not
        text in the encoding, a line of JSON Lines that is not one strict
        JSON object), or a missing or invalid value. The message gives the
        line where it can, and the byte offset of undecodable bytes.
    """
    if not os.path.exists(path):
        raise DataFileError(f"{path}: no such file")
    file_format = data_format(path, file_format)
    if not header and file_format == "jsonl":
        raise DataFileError(
            f"{path} is JSON Lines, whose records name their keys: --no-header "
            "applies to CSV and TSV files only"
        )
    encoding = _codec(encoding)
    names = list(columns.values())
    # a column two options name is read once, with the checks of both
    problems = {}
    for option, name in columns.items():
        problems.setdefault(name, []).append(
            COLUMN_PROBLEMS.get(option, _label_problem)
        )
    values = {name: [] for name in names}
    first_missing = {}
    try:
        with _open_data(path, encoding) as file, _long_csv_fields():
            present, records = _records(file, file_format, path, header)
            if present is not None:
                _check_columns(columns, present, path, suggest_no_header=header)
            seen = {}
            for line, record in records:
                if present is None:
                    seen.update(dict.fromkeys(record))
                for name, checks in problems.items():
                    value = record.get(name)
                    if value is None:
                        # Not an error yet: in JSON Lines, the column may be
                        # missing from every record.
                        first_missing.setdefault(name, line)
                    for check in checks if value is not None else ():
                        if problem := check(value):
                            raise DataFileError(
                                f"{path}, line {line}, {_column(name)}: {problem}"
                            )
                    values[name].append(value)
    except UnicodeDecodeError:
        raise DataFileError(_undecodable_message(path, encoding)) from None
    except (OSError, EOFError, zlib.error) as error:
        reason = getattr(error, "strerror", None) or error
        raise DataFileError(f"cannot read {path}: {reason}") from None
    if not values[names[0]]:
        raise DataFileError(f"{path} has no rows of data")
    if present is None:
        _check_columns(columns, list(seen), path)
    if first_missing:
        name = min(first_missing, key=first_missing.get)
        raise DataFileError(
            f"{path}, line {first_missing[name]}: no value in {_column(name)}"
        )
    return [values[name] for name in names]


def _codec(encoding):
    """The codec to read with: ``encoding``, or UTF-8 that skips a byte-order
    mark.

    Raises
    ------
    DataFileError
        For an encoding Python does not know.
    """
    if encoding is None:
        return "utf-8-sig"
    try:
        name = codecs.lookup(encoding).name
        # codecs such as hex and rot13 are known, but not text encodings
        io.TextIOWrapper(io.BytesIO(), encoding=name)
    except LookupError:
        raise DataFileError(
            f"unknown encoding {encoding!r} for --encoding: give one such as "
            "utf-8, cp1252, latin-1 or utf-16"
        ) from None
    # Excel and Notepad start UTF-8 files with a byte-order mark.
    return "utf-8-sig" if name == "utf-8" else name


def read_labels(labels, label_type="auto", file_format="csv"):
    """Labels read from a file, as the estimator should get them.

    With ``label_type="auto"``, CSV and TSV labels that are all integers
    written plainly (``0``, ``1``, ``-1``, not ``007`` nor ``+1``) and within
    int64 become ``int``, as pandas reads such a column, so that a model
    trained from a file scores against the same file read by pandas. JSON
    Lines labels keep the types JSON gives them. ``"str"`` turns every label
    into text.
    """
    if label_type == "str":
        return [_as_text(label) for label in labels]
    if file_format == "jsonl" or not all(
        isinstance(label, str) and INTEGER_LABEL.fullmatch(label) for label in labels
    ):
        return labels
    integers = [int(label) for label in labels]
    if min(integers) >= INT64_MIN and max(integers) <= INT64_MAX:
        return integers
    return labels


def _as_text(label):
    if isinstance(label, bool):
        return "true" if label else "false"
    return label if isinstance(label, str) else str(label)


def _column(name):
    """A column as messages name it: by name, or by position."""
    return f"column {name}" if isinstance(name, int) else f"column {name!r}"


def _open_data(path, encoding):
    if path.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")


@contextmanager
def _long_csv_fields():
    previous = csv.field_size_limit(CSV_FIELD_LIMIT)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _records(file, file_format, path, header):
    """The columns present (None for JSON Lines), and (line, record dict)
    pairs; without a header row, the columns are positions from 1."""
    if file_format == "jsonl":
        return None, _json_lines_records(file, path)
    # strict: a quoted field left open at the end of the file, or text after a
    # closing quote, is an error instead of a silently merged or altered row.
    reader = csv.reader(file, delimiter=DELIMITERS[file_format], strict=True)
    rows = _delimited_rows(reader, path)
    try:
        line, first = next(rows)
    except StopIteration:
        raise DataFileError(f"{path} is empty") from None
    if not header:
        columns = list(range(1, len(first) + 1))
        rows = itertools.chain([(line, first)], rows)
        return columns, _delimited_records(rows, columns, path, "the first row")
    _check_header(first, path)
    return first, _delimited_records(rows, first, path, "the header")


def _delimited_rows(reader, path):
    """(line, fields) of each record, where line is the one it starts on."""
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise DataFileError(
                f"{path}, line {line}: {_csv_problem(error, reader.dialect)}"
            ) from None
        if any("\0" in field for field in row):
            raise DataFileError(f"{path}, line {line}: {NUL_PROBLEM}")
        yield line, row


def _csv_problem(error, dialect):
    """What a csv.Error means, and how such a field is written."""
    quote = dialect.quotechar
    message = str(error)
    if message == "unexpected end of data":
        return (
            f"a field opens a quote ({quote}) that is never closed, so it would "
            "run to the end of the file; a stray quote at the start of a field "
            f"must be doubled ({quote}{quote}) inside a quoted field"
        )
    if message.endswith(f"expected after '{quote}'"):
        return (
            f"text follows the closing quote ({quote}) of a quoted field; a quote "
            f"inside a quoted field is written twice ({quote}{quote})"
        )
    return message


def _check_header(header, path):
    seen = set()
    for name in header:
        if name in seen:
            raise DataFileError(f"{path}, line 1: the header names {name!r} twice")
        seen.add(name)


def _delimited_records(rows, columns, path, model_row):
    for line, row in rows:
        if not row:
            continue
        if len(row) != len(columns):
            fields = f"{len(row)} field{'s' * (len(row) != 1)}"
            raise DataFileError(
                f"{path}, line {line}: {fields} where {model_row} has "
                f"{len(columns)} (a field holding the delimiter, a quote or a "
                "line break must be quoted)"
            )
        yield line, dict(zip(columns, row, strict=True))


def _json_lines_records(file, path):
    for line, text in enumerate(file, start=1):
        if not text.strip():
            continue
        if "\0" in text:
            raise DataFileError(f"{path}, line {line}: {NUL_PROBLEM}")
        try:
            record = json.loads(
                text,
                object_pairs_hook=_object_without_repeated_keys,
                parse_constant=_refuse_constant,
            )
        except (json.JSONDecodeError, _StrictJSONError) as error:
            reason = error.msg if isinstance(error, json.JSONDecodeError) else error
            raise DataFileError(
                f"{path}, line {line}: invalid JSON ({reason})"
            ) from None
        if not isinstance(record, dict):
            raise DataFileError(
                f"{path}, line {line}: expected a JSON object, found "
                f"{_json_kind(record)}"
            )
        yield line, record


class _StrictJSONError(ValueError):
    """JSON that json.loads accepts but that is not strict JSON, or ambiguous."""


def _object_without_repeated_keys(pairs):
    record = {}
    for key, value in pairs:
        if key in record:
            raise _StrictJSONError(f"the key {key!r} appears twice in one object")
        record[key] = value
    return record


def _refuse_constant(name):
    # json.loads reads NaN and Infinity, which are not JSON.
    raise _StrictJSONError(f"{name} is not a JSON value")


def _undecodable_message(path, encoding):
    """Where the first bytes that are not text in ``encoding`` are."""
    if encoding == "utf-8-sig":
        problem = "not UTF-8 text"
        advice = (
            "give the file's encoding with --encoding (cp1252 for a file saved "
            "by Excel on Windows, for instance), or save it as UTF-8"
        )
    else:
        problem, advice = f"not {encoding} text", "check --encoding"
    if not os.path.isfile(path):
        # a pipe cannot be read a second time
        return f"{path} is {problem}: {advice}"
    try:
        with _open_binary(path) as file:
            utf16 = file.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
            file.seek(0)
            position = _first_undecodable(file, encoding)
    except (OSError, EOFError, zlib.error):
        position, utf16 = None, False
    if utf16 and encoding == "utf-8-sig":
        advice = "the file starts as UTF-16 does: give --encoding utf-16"
    if position is None:
        return f"{path} is {problem}: {advice}"
    line, offset, data = position
    return (
        f"{path}, line {line}, byte offset {offset:,}: {data!r} is {problem}; {advice}"
    )


def _first_undecodable(file, encoding):
    """(line, byte offset, bytes) of the first bytes ``encoding`` cannot
    decode in the binary ``file``, counted in the decompressed data; None if
    there are none."""
    offset, newlines = 0, 0
    if encoding == "utf-8-sig":
        # counted in the file's bytes, the byte-order mark included
        if file.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
            offset = len(codecs.BOM_UTF8)
        else:
            file.seek(0)
        encoding = "utf-8"
    decoder = codecs.getincrementaldecoder(encoding)()
    while chunk := file.read(1 << 20):
        # bytes the decoder holds from the previous chunk, an incomplete
        # character, come first in what it reports
        held = decoder.getstate()[0]
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as error:
            start = offset - len(held) + error.start
            before = error.object[: error.start]
            line = newlines - held.count(b"\n") + before.count(b"\n") + 1
            return line, start, error.object[error.start : error.end]
        offset += len(chunk)
        newlines += chunk.count(b"\n")
    held = decoder.getstate()[0]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        # a character cut short by the end of the file
        return newlines - held.count(b"\n") + 1, offset - len(held), held
    return None


def _open_binary(path):
    if path.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def _check_columns(columns, present, path, suggest_no_header=False):
    """Refuse a column that is not ``present``; ``suggest_no_header`` for
    columns read from a header row, which may have been the first text."""
    for option, name in columns.items():
        if name in present:
            continue
        if isinstance(name, int):
            # a position, without a header row
            raise DataFileError(
                f"{path} has no column {name}: its rows have {len(present)} "
                f"field{'s' * (len(present) != 1)}. Choose one with {option}."
            )
        listed = ", ".join(map(repr, present)) or "none"
        hint = (
            " If the file has no header row, give --no-header and the columns "
            "by position."
            if suggest_no_header
            else ""
        )
        raise DataFileError(
            f"{path} has no column {name!r}; its columns are {listed}. "
            f"Choose one with {option}.{hint}"
        )


def _text_problem(value):
    if not isinstance(value, str):
        return f"{_json_kind(value)}, not a text"
    return None


def _scalar_problem(noun):
    """The check of a column whose values are non-empty strings or numbers,
    each a ``noun`` ("label")."""
    article = "an" if noun[0] in "aeiou" else "a"

    def problem(value):
        if value == "":
            return f"an empty {noun}"
        if not isinstance(value, str | int | float):
            return f"{_json_kind(value)}, not {article} {noun}"
        return None

    return problem


_label_problem = _scalar_problem("label")
COLUMN_PROBLEMS = {
    "--text-column": _text_problem,
    "--id-column": _scalar_problem("id"),
}


def _json_kind(value):
    if isinstance(value, bool):
        return "a boolean"
    kinds = {dict: "an object", list: "a list", str: "a string"}
    return kinds.get(type(value), "a number")


def as_model_labels(
    labels, classes, path, column, unknown_as="the model was not trained on"
):
    """The labels read from a file, as values of the model's ``classes_``.

    CSV gives every label as a string: ``"1"`` becomes 1 for a model trained
    on int labels, ``"true"`` becomes True for bool labels.

    Raises
    ------
    DataFileError
        For labels that are none of the model's classes.
    """
    import numpy as np  # here: the command line's --help does without it

    by_key = {_label_key(label, classes.dtype.kind): label for label in classes}
    converted, unknown = [], {}
    for label in labels:
        key = _label_key(label, classes.dtype.kind)
        if key in by_key:
            converted.append(by_key[key])
        else:
            unknown.setdefault(label, None)
    if unknown:
        shown = ", ".join(map(repr, list(unknown)[:5]))
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        known = ", ".join(repr(label) for label in classes.tolist())
        raise DataFileError(
            f"{path}: column {column!r} has labels {unknown_as}: {shown}{more}; "
            f"the classes are {known}"
        )
    return np.asarray(converted, dtype=classes.dtype)


def _label_key(label, kind):
    """A label as text, the same for equal values of any type.

    For int, float and bool classes, ``1``, ``1.0`` and ``"1"`` are one label,
    as are ``True`` and ``"true"``.
    """
    if type(label).__module__ == "numpy":  # a numpy scalar: its Python value
        label = label.item()
    text = str(label)
    if kind == "b":
        return text.strip().lower()
    if kind in "iuf":
        for number_type in (int, float):
            try:
                number = number_type(text)
            except ValueError:
                continue
            if isinstance(number, float) and number.is_integer():
                number = int(number)
            return repr(number)
    return text
