"""The sklearn-rnn command: train, predict and evaluate on files, and its errors."""

import csv
import errno
import gzip
import inspect
import math
import os
import re
import runpy
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from cli_helpers import (
    TINY,
    WRITTEN_PRECISION,
    assert_usage_error,
    cli_command,
    cli_env,
    read_predictions,
    run,
    run_cli,
    texts_and_labels,
    write_data,
    write_lines,
)
from helpers import keyword_data

import sklearn_rnn
from sklearn_rnn import RNNTextClassifier, cli, load_model
from sklearn_rnn._cli_parameters import (
    NOT_OPTIONS,
    documented_parameters,
    option_parameters,
)
from sklearn_rnn._data_files import as_model_labels
from sklearn_rnn.cli import as_options, parse_value

# --- round trips ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["data.csv", "data.tsv", "data.jsonl", "data.ndjson.gz", "data.csv.gz"]
)
def test_train_predict_evaluate_round_trip(name, tmp_path, capsys):
    texts, labels = texts_and_labels()
    data = write_data(tmp_path / name, texts, labels)
    model = tmp_path / "model.safetensors"
    output = tmp_path / ("predictions.csv.gz" if name.endswith(".gz") else "out.csv")

    code, out, err = run(capsys, "train", data, *TINY, "-q", "-o", model)
    assert (code, out, err) == (0, "", "")
    assert model.is_file()

    code, out, err = run(capsys, "predict", model, data, "-o", output, "-q")
    assert (code, out, err) == (0, "", "")
    header, predicted, proba = read_predictions(output)
    fitted = load_model(model)
    assert header == ["label", "proba_neg", "proba_pos"]
    assert len(predicted) == len(texts)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=WRITTEN_PRECISION)
    np.testing.assert_allclose(
        proba, fitted.predict_proba(texts), rtol=0, atol=WRITTEN_PRECISION
    )
    assert predicted == fitted.predict(texts).tolist()

    code, out, err = run(capsys, "evaluate", model, data)
    assert code == 0, err
    accuracy = np.mean(np.array(predicted) == np.array(labels))
    assert f"Accuracy: {accuracy:.4f} on 60 texts" in out
    assert "precision    recall  f1-score   support" in out
    assert "Confusion matrix" in out


def test_train_shows_epochs_and_a_summary(tmp_path, capsys):
    texts, labels = texts_and_labels()
    data = write_data(tmp_path / "data.csv", texts, labels)
    model = tmp_path / "model.safetensors"
    code, out, err = run(capsys, "train", data, *TINY, "-o", model)
    assert code == 0
    assert "train_loss" in out
    assert (
        "Early stopping is off (by default below 1,000 texts, or when a "
        "validation split cannot hold every class): training on all 60 texts "
        "for 2 epochs." in out
    )
    assert "Trained on 60 texts, 2 classes (neg, pos), 2 epochs, in" in out
    assert f"Model saved to {model}" in out
    assert f"Read 60 texts from {data}." in err


@pytest.mark.parametrize(
    ("options", "ended"),
    [
        # the rate is too small to lower the validation loss by early
        # stopping's threshold: the second epoch is no better than the first
        (
            ["--max-epochs", "5", "--lr", "1e-9", "--n-iter-no-change", "1"],
            "stopped early",
        ),
        (["--n-iter-no-change", "5"], "the most --max-epochs allows"),
    ],
)
def test_the_summary_says_what_early_stopping_held_out_and_why_training_ended(
    tmp_path, capsys, options, ended
):
    texts, labels = texts_and_labels()
    data = write_data(tmp_path / "data.csv", texts, labels)
    model = tmp_path / "model.safetensors"
    args = [*TINY, "--early-stopping", "True", *options]
    code, out, _ = run(capsys, "train", data, *args, "-o", model)
    assert code == 0
    assert (
        "Early stopping is on: training on 54 texts, 6 held out for validation." in out
    )
    summary = re.search(r"Trained on (.*), in", out).group(1)
    assert summary.startswith(
        "54 texts (6 held out for validation), 2 classes (neg, pos), 2 epochs "
        f"({ended}), keeping epoch "
    )
    assert summary.endswith(", the best on validation")


def test_errors_name_the_options_not_the_parameters(tmp_path, capsys):
    texts, labels = texts_and_labels()
    data = write_data(tmp_path / "data.csv", texts, labels)
    options = [*TINY, "--device", "cuda:99"]
    code, _, err = run(capsys, "train", data, *options, "-o", tmp_path / "m")
    # no CUDA, or fewer than 100 CUDA devices: refused either way
    assert_usage_error(code, err, "cannot train: --device cuda:99 was requested")
    assert "device=" not in err


def test_train_passes_options_to_the_estimator(tmp_path, capsys):
    texts, labels = texts_and_labels()
    data = write_data(tmp_path / "data.csv", texts, labels, "review", "stars")
    model = tmp_path / "model.safetensors"
    code, _, err = run(
        capsys, "train", data, "--text-column", "review", "--label-column", "stars",
        *TINY, "--cell", "gru", "--bidirectional", "false", "--max-len", "None",
        "--class-weight", "{'neg': 1.0, 'pos': 2.0}", "--token-pattern", r"\w+",
        "-q", "-o", model,
    )  # fmt: skip
    assert code == 0, err
    params = load_model(model).get_params()
    assert params["cell"] == "gru"
    assert params["bidirectional"] is False
    assert params["max_len"] is None
    assert params["class_weight"] == {"neg": 1.0, "pos": 2.0}
    assert params["token_pattern"] == r"\w+"
    assert params["max_epochs"] == 2


def test_predict_writes_clean_csv_to_stdout(trained, capsys):
    model, data, texts, _ = trained
    code, out, err = run(capsys, "predict", model, data)
    assert code == 0
    header, labels, proba = read_predictions(out)
    assert header == ["label", "proba_neg", "proba_pos"]
    np.testing.assert_allclose(
        proba, load_model(model).predict_proba(texts), rtol=0, atol=WRITTEN_PRECISION
    )
    assert "Predicting 60 texts..." in err


def test_one_text_is_one_text(trained, tmp_path, capsys):
    model, _, texts, _ = trained
    data = write_data(tmp_path / "one.csv", texts[:1])
    code, _, err = run(capsys, "predict", model, data)
    assert code == 0
    assert "Predicting 1 text..." in err


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "device='cuda' was requested. Use device='auto' to fall back.",
            "--device cuda was requested. Use --device auto to fall back.",
        ),
        ("Lower lr=0.1. Or max_len=None;", "Lower --lr 0.1. Or --max-len None;"),
        # not parameters of the command: left as they are
        ("module__hidden_size=3, self.lr=2", "module__hidden_size=3, self.lr=2"),
    ],
)
def test_messages_spell_parameters_as_options(message, expected):
    assert as_options(message) == expected


def test_predict_reports_progress_in_chunks(trained, tmp_path, capsys, monkeypatch):
    model, data, texts, _ = trained
    monkeypatch.setattr(cli, "PREDICTION_CHUNK", 25)
    code, out, err = run(capsys, "predict", model, data)
    assert code == 0
    progress = [line.strip() for line in err.splitlines() if " / " in line]
    assert progress == ["25 / 60", "50 / 60", "60 / 60"]
    # other batches, other float32 rounding
    np.testing.assert_allclose(
        read_predictions(out)[2],
        load_model(model).predict_proba(texts),
        rtol=0,
        atol=WRITTEN_PRECISION + 1e-5,
    )


def test_format_option_overrides_the_extension(trained, tmp_path, capsys):
    model, _, texts, _ = trained
    data = write_data(tmp_path / "data.tsv", texts)
    renamed = tmp_path / "data.txt"
    os.replace(data, renamed)
    code, out, err = run(capsys, "predict", model, renamed, "--format", "tsv", "-q")
    assert code == 0, err
    assert len(read_predictions(out)[1]) == len(texts)


def test_reads_texts_longer_than_the_csv_field_limit(trained, tmp_path, capsys):
    model, _, _, _ = trained
    texts = ["w1 " * 100_000, "key0 w2"]
    data = write_data(tmp_path / "long.csv", texts)
    limit = csv.field_size_limit()
    code, out, err = run(capsys, "predict", model, data)
    assert code == 0, err
    assert len(read_predictions(out)[1]) == 2
    assert csv.field_size_limit() == limit


def test_int_labels_from_json_lines(tmp_path, capsys):
    texts, labels = texts_and_labels()
    numbers = [int(label == "pos") for label in labels]
    data = write_data(tmp_path / "data.jsonl", texts, numbers)
    assert '"label":1' in Path(data).read_text(encoding="utf-8")
    model = tmp_path / "model.safetensors"
    assert run(capsys, "train", data, *TINY, "-q", "-o", model)[0] == 0
    fitted = load_model(model)
    assert fitted.classes_.tolist() == [0, 1]

    code, out, _ = run(capsys, "predict", model, data)
    header, predicted, _ = read_predictions(out)
    assert header == ["label", "proba_0", "proba_1"]
    assert predicted == [str(label) for label in fitted.predict(texts)]

    # The same labels as CSV strings are compared as the model's ints.
    as_csv = write_data(tmp_path / "data.csv", texts, numbers)
    json_report = run(capsys, "evaluate", model, data)[1]
    code, csv_report, err = run(capsys, "evaluate", model, as_csv)
    assert code == 0, err
    assert csv_report == json_report

    unseen = write_data(tmp_path / "unseen.csv", texts[:3], [0, 1, 2])
    code, _, err = run(capsys, "evaluate", model, unseen)
    assert_usage_error(code, err, "not trained on: '2'", "classes are 0, 1")


@pytest.mark.parametrize(
    "labels, classes, expected",
    [
        (["1", "0", "1.0", 1, 1.0], [0, 1], [1, 0, 1, 1, 1]),
        (["True", "false", True], [False, True], [True, False, True]),
        (["0.5", 2, "2"], [0.5, 2.0], [0.5, 2.0, 2.0]),
        (["spam", 1, "1"], ["1", "spam"], ["spam", "1", "1"]),
    ],
)
def test_labels_are_read_as_the_model_classes(labels, classes, expected):
    converted = as_model_labels(labels, np.array(classes), "data.csv", "label")
    assert converted.tolist() == expected
    assert converted.dtype == np.array(classes).dtype


@pytest.mark.parametrize(
    "text, value",
    [
        ("5", 5),
        ("1e-3", 0.001),
        ("None", None),
        ("none", None),
        ("false", False),
        ("True", True),
        ("{'spam': 2}", {"spam": 2}),
        ("lstm", "lstm"),
        (r"\w+", r"\w+"),
        ("'[0-9]+'", "[0-9]+"),
        ("glove.6B.50d.txt.gz", "glove.6B.50d.txt.gz"),
    ],
)
def test_parse_value(text, value):
    assert parse_value(text) == value


# --- errors --------------------------------------------------------------------


def test_missing_data_file(trained, tmp_path, capsys):
    model, _, _, _ = trained
    missing = tmp_path / "nope.csv"
    for args in (
        ["train", missing, "-o", tmp_path / "m.safetensors"],
        ["predict", model, missing],
        ["evaluate", model, missing],
    ):
        code, _, err = run(capsys, *args)
        assert_usage_error(code, err, f"{missing}: no such file")


def test_missing_or_invalid_model_file(trained, tmp_path, capsys):
    _, data, _, _ = trained
    code, _, err = run(capsys, "predict", tmp_path / "nope.safetensors", data)
    assert_usage_error(code, err, "No model file")
    code, _, err = run(capsys, "evaluate", data, data)
    assert_usage_error(code, err, "is not a readable sklearn-rnn model file")


def test_missing_column_names_those_present(trained, tmp_path, capsys):
    model, data, _, _ = trained
    code, _, err = run(
        capsys, "train", data, "--text-column", "review", "-o", tmp_path / "m"
    )
    assert_usage_error(
        code, err, "has no column 'review'", "its columns are 'text', 'label'",
        "--text-column",
    )  # fmt: skip
    code, _, err = run(capsys, "evaluate", model, data, "--label-column", "stars")
    assert_usage_error(code, err, "has no column 'stars'", "--label-column")

    jsonl = write_lines(tmp_path / "d.jsonl", ['{"body": "a", "y": 1}', '{"x": 2}'])
    code, _, err = run(capsys, "predict", model, jsonl)
    assert_usage_error(code, err, "no column 'text'", "are 'body', 'y', 'x'")


@pytest.mark.parametrize(
    "name, lines, message",
    [
        ("d.csv", ["text,label", "fine,neg", "pos"], "d.csv, line 3: 1 field where"),
        ("d.tsv", ["label\ttext", "neg\tfine", "pos"], "d.tsv, line 3: 1 field where"),
        (
            "d.jsonl",
            ['{"text": "fine", "label": "neg"}', "", '{"text": null, "label": "pos"}'],
            "d.jsonl, line 3: no value in column 'text'",
        ),
        (
            "d.jsonl",
            ['{"text": "fine", "label": "neg"}', '{"label": "pos"}'],
            "d.jsonl, line 2: no value in column 'text'",
        ),
        ("d.jsonl", ['{"text": 5, "label": "neg"}'], "column 'text': a number, not"),
        ("d.csv", ["text,label", "fine,"], "line 2, column 'label': an empty label"),
        ("d.csv", ["text,label", "a,b,c"], "line 2: 3 fields where the header has 2"),
        ("d.jsonl", ['{"text": "a"'], "d.jsonl, line 1: invalid JSON"),
        ("d.jsonl", ['["a", "b"]'], "expected a JSON object, found a list"),
        ("d.csv", ["text,label"], "d.csv has no rows of data"),
        ("d.csv", [], "d.csv is empty"),
    ],
)
def test_bad_rows_are_reported_with_their_line(name, lines, message, tmp_path, capsys):
    data = write_lines(tmp_path / name, lines)
    code, out, err = run(capsys, "train", data, *TINY, "-o", tmp_path / "m")
    assert_usage_error(code, err, message)
    assert not (tmp_path / "m").exists()


def test_unreadable_files(trained, tmp_path, capsys):
    model, _, _, _ = trained
    not_gzip = write_lines(tmp_path / "d.csv.gz", ["text", "plain"])
    code, _, err = run(capsys, "predict", model, not_gzip)
    assert_usage_error(code, err, "cannot read", "Not a gzipped file")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("text\ncafé\n".encode("latin-1"))
    code, _, err = run(capsys, "predict", model, latin1)
    assert_usage_error(code, err, "is not UTF-8 text")


def test_unknown_extension(trained, tmp_path, capsys):
    model, _, texts, _ = trained
    data = write_lines(tmp_path / "data.txt", ["text", "hello"])
    code, _, err = run(capsys, "predict", model, data)
    assert_usage_error(code, err, "cannot tell the format of", "--format")


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--cell", "lsmt", "argument --cell: The 'cell' parameter"),
        ("--max-epochs", "0", "argument --max-epochs: The 'max_epochs' parameter"),
        ("--dropout", "high", "Got 'high' instead"),
        ("--lr", str(10**400), "The 'lr' parameter"),
        ("--hidden-size", str(2**64), "in the range [1, 2**63 - 1]"),
    ],
)
def test_bad_parameter_values(trained, tmp_path, capsys, option, value, message):
    _, data, _, _ = trained
    code, _, err = run(capsys, "train", data, option, value, "-o", tmp_path / "m")
    assert_usage_error(code, err, message)


def test_failed_training_is_reported(tmp_path, capsys):
    data = write_data(tmp_path / "d.csv", ["a b", "c d", "e f"], ["x", "x", "x"])
    code, _, err = run(capsys, "train", data, *TINY, "-o", tmp_path / "m")
    assert_usage_error(code, err, "cannot train: ", "at least 2 classes")


def test_a_model_save_model_refuses_is_one_error_and_no_file(tmp_path, capsys):
    """Weights made NaN as save_model starts, where no fit can check them."""
    import sklearn_rnn.persistence as persistence

    def spoil_weights_on_save(frame, event, arg):
        if frame.f_code is persistence.save_model.__code__ and event == "call":
            with torch.no_grad():
                frame.f_locals["model"].net_.module_.head.bias[0] = math.nan
        return None

    texts, labels = texts_and_labels()
    data = write_data(tmp_path / "d.csv", texts, labels)
    output = tmp_path / "m.safetensors"
    sys.settrace(spoil_weights_on_save)
    try:
        code, _, err = run(capsys, "train", data, *TINY, "--quiet", "-o", output)
    finally:
        sys.settrace(None)
    assert_usage_error(code, err, "cannot save the model to", "'head.bias'", "NaN")
    assert not output.exists()


def test_missing_word_vector_file_is_reported(trained, tmp_path, capsys):
    _, data, _, _ = trained
    missing = tmp_path / "vectors.txt"
    code, _, err = run(
        capsys, "train", data, *TINY, "--embeddings", missing, "-o", tmp_path / "m"
    )
    assert_usage_error(code, err, "cannot train: ", "vectors.txt")


def test_output_folder_must_exist_before_training(trained, tmp_path, capsys):
    model, data, _, _ = trained
    missing = tmp_path / "missing" / "m.safetensors"
    code, _, err = run(capsys, "train", data, *TINY, "-o", missing)
    assert_usage_error(code, err, "cannot write", "no directory")
    code, _, err = run(capsys, "predict", model, data, "-o", missing)
    assert_usage_error(code, err, "cannot write", "no directory")


def test_usage_errors_exit_2(capsys):
    code, _, err = run(capsys)
    assert code == 2
    assert "required" in err
    code, _, err = run(capsys, "train", "data.csv")
    assert code == 2
    assert "-o/--output" in err
    # No abbreviations: they would change meaning as the estimator grows.
    code, _, err = run(capsys, "train", "data.csv", "-o", "m", "--max-epoch", "2")
    assert code == 2
    assert "unrecognized arguments: --max-epoch" in err


@pytest.mark.parametrize(
    ("args", "command", "suggested"),
    [
        (["train", "d.csv", "-o", "m", "--max-epoch", "2"], "train", "--max-epochs"),
        (["train", "d.csv", "-o", "m", "--hiden-size=8"], "train", "--hidden-size"),
        (["predict", "m", "d.csv", "--txt-column", "t"], "predict", "--text-column"),
    ],
)
def test_a_mistyped_option_is_answered_with_the_closest_one(
    capsys, args, command, suggested
):
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    usage, error = err.strip().splitlines()[0], err.strip().splitlines()[-1]
    assert usage.startswith(f"usage: sklearn-rnn {command}")
    mistyped = args[-2].split("=")[0] if "=" not in args[-1] else args[-1].split("=")[0]
    assert error.endswith(f"did you mean {suggested} (for {mistyped})?")


def test_an_option_close_to_none_gets_no_suggestion(capsys):
    code, _, err = run(capsys, "train", "d.csv", "-o", "m", "--zzz")
    assert code == 2
    assert err.strip().splitlines()[-1].endswith("unrecognized arguments: --zzz")


# --- help and entry points ----------------------------------------------------


def test_help_of_each_command(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert all(command in out for command in ("train", "predict", "evaluate"))

    code, out, _ = run(capsys, "train", "--help")
    assert code == 0
    for name in RNNTextClassifier().get_params():
        if name not in NOT_OPTIONS:
            assert f"--{name.replace('_', '-')} VALUE" in out
    groups = [line for line in out.splitlines() if re.fullmatch(r"[a-z ]+:", line)]
    assert groups == [
        "options:",
        "data:",
        "output:",
        "training parameters:",
        "network parameters:",
        "text parameters:",
        "device parameters:",
        "examples:",
    ]
    training = out[out.index("training parameters:") :]
    assert training.index("--max-epochs") < training.index("--clip-grad-norm")
    assert "--max-epochs VALUE" in out
    assert "(default: 20)" in out
    assert "Passes over the training data" in out
    assert "--output MODEL" in out
    assert "examples:" in out

    for command, options in {
        "predict": ["--text-column", "--output", "--format", "proba_<class>"],
        "evaluate": ["--text-column", "--label-column", "confusion matrix"],
    }.items():
        code, out, _ = run(capsys, command, "--help")
        assert code == 0
        assert all(option in out for option in options)
        assert "examples:" in out


def test_the_options_read_from_the_source_are_the_estimators_parameters():
    parameters = option_parameters()
    defaults = RNNTextClassifier().get_params()
    assert set(parameters) | set(NOT_OPTIONS) == set(defaults)
    assert set(parameters).isdisjoint(NOT_OPTIONS)
    documented = documented_parameters(inspect.getdoc(RNNTextClassifier))
    for name, (default, description) in parameters.items():
        assert default == defaults[name], name
        assert description == documented[name] != "", name


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--version"], ["train", "--help"], ["train", "--max-epoch", "2"]],
)
def test_help_version_and_usage_errors_load_no_heavy_library(args):
    # what makes them answer at once: neither PyTorch, scikit-learn nor numpy
    program = (
        "import sys; from sklearn_rnn.cli import main; "
        f"code = main({args!r}); "
        "print(sorted({'torch', 'sklearn', 'numpy', 'scipy'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=cli_env()
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_the_package_loads_its_modules_when_first_used():
    program = (
        "import sys, sklearn_rnn; "
        "print('torch' in sys.modules); "
        "print(sklearn_rnn.RNNTextClassifier.__name__, 'torch' in sys.modules); "
        "print(sorted(set(sklearn_rnn.__all__) - set(dir(sklearn_rnn))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=cli_env()
    )
    assert result.stdout.split("\n")[:3] == [
        "False",
        "RNNTextClassifier True",
        "[]",
    ]
    with pytest.raises(AttributeError, match="no attribute 'Missing'"):
        sklearn_rnn.Missing  # noqa: B018


def test_python_m_sklearn_rnn(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["sklearn-rnn", "--version"])
    with pytest.raises(SystemExit) as stop:
        runpy.run_module("sklearn_rnn", run_name="__main__")
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("sklearn-rnn ")


def test_installed_console_script():
    script = Path(sys.executable).with_name("sklearn-rnn")
    script = str(script) if script.exists() else shutil.which("sklearn-rnn")
    if script is None:
        pytest.skip("the sklearn-rnn script is not installed")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [script, "train", "--help"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "usage: sklearn-rnn train" in result.stdout
    assert "--max-epochs" in result.stdout


# --- strict reading: one record, one row -------------------------------------


@pytest.mark.parametrize(
    "name, content, message",
    [
        # A quote opening a field that never closes would swallow every later
        # row into one text (pandas refuses this file too).
        (
            "d.csv",
            'text\none\n"two\nthree\nfour\n',
            "d.csv, line 3: a field opens a quote",
        ),
        ("d.tsv", 'text\none\n"two\tthree\nfour\n', "d.tsv, line 3: a field opens"),
        ("d.csv", 'text\n"two" and three\n', "line 2: text follows the closing quote"),
        ("d.csv", "text,label\nfine,neg\na,b,c\n", "line 3: 3 fields where the header"),
        ("d.csv", "text,label\nfine\n", "line 2: 1 field where the header has 2"),
        ("d.csv", "text,text\nfine,neg\n", "line 1: the header names 'text' twice"),
        ("d.csv", "text\nfine\nnul\0byte\n", "d.csv, line 3: a NUL byte"),
        ("d.jsonl", '{"text": "a"}\n{"text": "b\0"}\n', "d.jsonl, line 2: a NUL byte"),
        (
            "d.jsonl",
            '{"text": "a"}\n\n{"text": "b"\n{"text": "c"}\n',
            "d.jsonl, line 3: invalid JSON",
        ),
        (
            "d.jsonl",
            '{"text": "a", "text": "b"}\n',
            "line 1: invalid JSON (the key 'text' appears twice",
        ),
        ("d.jsonl", '{"text": "a", "n": NaN}\n', "invalid JSON (NaN is not a JSON"),
    ],
)
def test_predict_refuses_a_malformed_record(
    name, content, message, trained, tmp_path, capsys
):
    model, _, _, _ = trained
    data = tmp_path / name
    data.write_bytes(content.encode("utf-8"))
    code, out, err = run(capsys, "predict", model, data)
    assert_usage_error(code, err, message)
    assert out == ""


def test_a_stray_quote_is_refused_as_pandas_refuses_it(trained, tmp_path):
    model, _, _, _ = trained
    data = write_lines(tmp_path / "d.csv", ["text", "one", '"two', "three"])
    with pytest.raises(pd.errors.ParserError):
        pd.read_csv(data)
    # in a real process, as a user runs it
    result = run_cli("predict", model, data)
    assert_usage_error(result.returncode, result.stderr, "line 3: a field opens")
    assert result.stdout == ""


@pytest.mark.parametrize("name", ["d.csv", "d.jsonl", "d.csv.gz"])
def test_bytes_that_are_not_utf8_are_named_with_their_line_and_offset(
    name, trained, tmp_path, capsys
):
    model, _, _, _ = trained
    lines = ["text", "fine", "café"] if ".csv" in name else ['{"text": "café"}']
    content = "".join(line + "\n" for line in lines).encode("latin-1")
    data = tmp_path / name
    data.write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    code, _, err = run(capsys, "predict", model, data)
    line = 3 if ".csv" in name else 1
    # 13 bytes before the é in both: 'text\nfine\ncaf' and '{"text": "caf'
    assert_usage_error(
        code,
        err,
        f"{name}, line {line}, byte offset 13: b'\\xe9' is not UTF-8 text",
        "--encoding",
    )


def test_quoted_line_breaks_and_quotes_are_one_text(trained, tmp_path, capsys):
    model, _, _, _ = trained
    texts = ['a "quoted" word', "two\nlines", "three\n\nlines", '"', "", "plain"]
    for name, delimiter in [("d.csv", ","), ("d.tsv", "\t")]:
        data = write_data(tmp_path / name, texts)
        assert len(pd.read_csv(data, sep=delimiter)) == len(texts)
        code, out, err = run(capsys, "predict", model, data, "-q")
        assert code == 0, err
        _, labels, proba = read_predictions(out)
        assert len(labels) == len(texts)
        np.testing.assert_allclose(
            proba,
            load_model(model).predict_proba(texts),
            rtol=0,
            atol=WRITTEN_PRECISION,
        )


# --- outputs: checked before work, never an input, never half written ---------


def test_an_input_is_never_an_output(trained, tmp_path, capsys):
    model, data, _, _ = trained
    before = {path: Path(path).read_bytes() for path in (model, data)}
    symlink = tmp_path / "link.csv"
    symlink.symlink_to(data)
    hard_link = tmp_path / "hard.safetensors"
    os.link(model, hard_link)
    for args, what in [
        (["train", data, *TINY, "-o", data], "it is the data file"),
        (["train", data, *TINY, "-o", symlink], "it is the data file"),
        (["predict", model, data, "-o", model], "it is the model file"),
        (["predict", model, data, "-o", hard_link], "it is the model file"),
        (["predict", model, data, "-o", symlink], "it is the data file"),
    ]:
        code, out, err = run(capsys, *args)
        assert_usage_error(code, err, f"cannot write {args[-1]}: {what}")
        assert "texts from" not in err and "Predicting" not in err
    with open(data, "ab") as appended:
        result = run_cli("predict", model, data, stdout=appended)
    assert_usage_error(result.returncode, result.stderr, "stdout is the data file")
    assert before == {path: Path(path).read_bytes() for path in (model, data)}


def test_train_refuses_a_device_as_its_output_before_training(trained, capsys):
    _, data, _, _ = trained
    # save_model renames a new file over its target: that must not be /dev/full
    assert os.path.exists("/dev/full") or pytest.skip("no /dev/full")
    code, _, err = run(capsys, "train", data, *TINY, "-o", "/dev/full")
    assert_usage_error(code, err, "cannot write /dev/full: not a regular file")
    assert "texts from" not in err
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_train_checks_the_output_folder_takes_files_before_training(
    trained, read_only_folder, capsys
):
    _, data, _, _ = trained
    output = read_only_folder / "m.safetensors"
    code, _, err = run(capsys, "train", data, *TINY, "-o", output)
    assert_usage_error(code, err, f"cannot write {output}: ", "Read-only file system")
    assert "texts from" not in err


def test_predict_output_replaces_an_old_file_only_once_complete(
    trained, tmp_path, capsys
):
    model, _, _, _ = trained
    texts, _ = keyword_data(300, seed=3)
    data = write_data(tmp_path / "many.csv", texts)
    disk = small_disk(tmp_path / "disk", "8k")
    output = disk / "predictions.csv"
    output.write_text("an earlier result\n")
    code, _, err = run(capsys, "predict", model, data, "-o", output, "-q")
    assert_usage_error(code, err, f"cannot write {output}: No space left")
    assert output.read_text() == "an earlier result\n"
    assert sorted(path.name for path in disk.iterdir()) == ["predictions.csv"]


def test_predict_output_keeps_the_mode_of_a_replaced_file(trained, tmp_path, capsys):
    model, data, texts, _ = trained
    output = tmp_path / "predictions.csv"
    output.write_text("old\n")
    output.chmod(0o604)
    assert run(capsys, "predict", model, data, "-o", output, "-q")[0] == 0
    assert stat.S_IMODE(output.stat().st_mode) == 0o604
    assert len(read_predictions(output)[1]) == len(texts)
    new = tmp_path / "new.csv"
    umask = os.umask(0o027)
    try:
        assert run(capsys, "predict", model, data, "-o", new, "-q")[0] == 0
    finally:
        os.umask(umask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o640
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "new.csv",
        "predictions.csv",
    ]


def test_train_on_a_full_disk_is_one_error_and_leaves_no_file(
    trained, tmp_path, capsys
):
    _, data, _, _ = trained
    disk = small_disk(tmp_path / "disk", "4k")
    output = disk / "m.safetensors"
    code, _, err = run(capsys, "train", data, *TINY, "-q", "-o", output)
    assert_usage_error(
        code, err, f"cannot save the model to {output}: No space left on device"
    )
    assert list(disk.iterdir()) == []


@pytest.mark.parametrize("command", ["predict", "train"])
def test_stdout_on_a_full_device_is_one_error(command, trained, tmp_path):
    model, data, _, _ = trained
    assert os.path.exists("/dev/full") or pytest.skip("no /dev/full")
    args = {
        "predict": ["predict", model, data, "-q"],
        "train": ["train", data, *TINY, "-o", tmp_path / "m.safetensors"],
    }[command]
    with open("/dev/full", "w") as full:
        result = run_cli(*args, stdout=full)
    assert_usage_error(result.returncode, result.stderr, "No space left on device")
    assert "Exception ignored" not in result.stderr


def test_predict_to_a_full_device_is_one_error(trained, capsys):
    model, data, _, _ = trained
    assert os.path.exists("/dev/full") or pytest.skip("no /dev/full")
    code, _, err = run(capsys, "predict", model, data, "-q", "-o", "/dev/full")
    assert_usage_error(code, err, "cannot write /dev/full: No space left")


def test_a_reader_that_stops_early_ends_predict_quietly(trained, tmp_path):
    model, _, _, _ = trained
    # Far more output than a pipe holds, so writing must meet the closed end.
    texts, _ = keyword_data(8000, seed=4)
    data = write_data(tmp_path / "many.csv", texts)
    process = start_cli("predict", model, data, "-q", stdout=subprocess.PIPE)
    assert process.stdout.readline() == b"label,proba_neg,proba_pos\n"
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert err == b""


def test_train_whose_reader_has_gone_still_saves_its_model(tmp_path):
    texts, labels = texts_and_labels()
    data = write_data(tmp_path / "d.csv", texts, labels)
    output = tmp_path / "m.safetensors"
    # stdout a pipe whose reading end is closed before the command starts:
    # every epoch line meets it, on any machine
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        process = start_cli("train", data, *TINY, "-o", output, stdout=write_end)
    finally:
        os.close(write_end)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 1
    assert b"Traceback" not in err
    assert load_model(output).n_epochs_ == 2


# --- a damaged model, impossible sizes -----------------------------------------


@pytest.mark.parametrize(
    "damage", ["truncate", "header", "tensor data", "empty", "garbage"]
)
def test_a_damaged_model_file_is_one_error(damage, trained, tmp_path, capsys):
    model, data, _, _ = trained
    content = bytearray(Path(model).read_bytes())
    if damage == "truncate":
        content = content[: len(content) // 2]
    elif damage == "header":
        start = content.index(b'"format"')
        content[start : start + 8] = b'"formXt"'
    elif damage == "tensor data":
        # safetensors: the header's length in 8 bytes, the header, the tensors
        data_start = 8 + int.from_bytes(content[:8], "little")
        middle = (data_start + len(content)) // 2
        content[middle : middle + 16] = bytes(
            255 - b for b in content[middle : middle + 16]
        )
    elif damage == "empty":
        content = b""
    else:
        content = bytes(range(256)) * 8
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(content)
    for command in ["predict", "evaluate"]:
        code, out, err = run(capsys, command, damaged, data)
        assert_usage_error(code, err, str(damaged))
        assert out == ""


@pytest.mark.parametrize(
    "option, value",
    [
        # Sizes no machine can hold, so that no allocation can succeed (under
        # overcommit, a merely huge one could, and then be killed).
        ("--hidden-size", 10**15),
        ("--hidden-size", 10**20),
        ("--embedding-dim", 10**18),
    ],
)
def test_an_impossible_size_is_one_error(option, value, trained, tmp_path, capsys):
    _, data, _, _ = trained
    output = tmp_path / "m.safetensors"
    code, _, err = run(capsys, "train", data, *TINY, option, value, "-q", "-o", output)
    assert_usage_error(code, err)
    assert not output.exists()


# --- Ctrl-C during train --------------------------------------------------------


@pytest.mark.parametrize("early_stopping", [False, True])
def test_ctrl_c_during_train_saves_the_completed_epochs(early_stopping, tmp_path):
    texts, labels = keyword_data(200, seed=5)
    data = write_data(tmp_path / "data.csv", texts, labels)
    output = tmp_path / "m.safetensors"
    # So many epochs that training is still running when the signal arrives.
    options = ["--max-epochs", "100000", "--early-stopping", str(early_stopping)]
    if early_stopping:
        options += ["--n-iter-no-change", "100000"]
    process = start_cli(
        "train", data, *TINY, *options, "-o", output, stdout=subprocess.PIPE
    )
    for line in process.stdout:
        # the first epoch's row of the table, printed once the epoch has ended
        if line.split()[:1] == [b"1/100000"]:
            break
    out, err = interrupt(process)
    err = err.decode()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    last = err.splitlines()[-1]
    which = "the best on validation" if early_stopping else "the last"
    found = re.fullmatch(
        r"sklearn-rnn: training was interrupted after (\d+) complete epochs?: saved "
        rf"the model of epoch (\d+), {which}, to (.*)",
        last,
    )
    assert found, last
    completed, kept = int(found[1]), int(found[2])
    assert found[3] == str(output)
    assert 1 <= kept <= completed
    model = load_model(output)
    assert model.n_epochs_ == completed
    assert (model.best_epoch_ or model.n_epochs_) == kept
    assert "Model saved" not in out.decode()
    assert model.predict(texts[:5]).shape == (5,)


def test_ctrl_c_before_the_first_epoch_ends_saves_nothing(tmp_path):
    data = tmp_path / "data.csv"
    os.mkfifo(data)
    output = tmp_path / "m.safetensors"
    process = start_cli("train", data, *TINY, "-o", output, stdout=subprocess.PIPE)
    # The command opens the pipe for reading, then waits for its rows: it is
    # interrupted before any training can have happened.
    writer = open_fifo_for_writing(data, process)
    os.write(writer, b"text,label\na b,pos\n")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    os.close(writer)
    assert process.returncode == 130
    assert err.decode().splitlines() == [
        "sklearn-rnn: interrupted before the first epoch of training ended: "
        "no model saved"
    ]
    assert not output.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data.csv"]


# --- helpers for real processes ---------------------------------------------------


def start_cli(*args, stdout):
    # unbuffered: epoch lines reach the pipe as they are printed
    env = cli_env(PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        cli_command(args),
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=_default_interrupt,
    )


def interrupt(process, patience=30, timeout=120):
    """Press Ctrl-C, and again every ``patience`` seconds until ``process``
    ends, as a user would: once in about a dozen runs on a loaded machine a
    SIGINT went unanswered and training went on (cause not found). Its
    (stdout, stderr)."""
    deadline = time.monotonic() + timeout
    while True:
        process.send_signal(signal.SIGINT)
        try:
            return process.communicate(timeout=patience)
        except subprocess.TimeoutExpired:
            if time.monotonic() > deadline:
                process.kill()
                raise


def _default_interrupt():
    # A shell starts background jobs with SIGINT ignored, and the command
    # would inherit that (Python keeps an ignored SIGINT ignored): the tests
    # that interrupt it would hang when the suite runs as such a job.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def open_fifo_for_writing(path, process):
    """Open a named pipe once ``process`` has opened it for reading."""
    deadline = time.monotonic() + 120
    while True:
        try:
            return os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as error:
            # ENXIO: no reader yet
            if error.errno != errno.ENXIO:
                raise
        if process.poll() is not None:
            pytest.fail(f"the command ended first: {process.stderr.read()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the command never opened its data file")
        time.sleep(0.01)


def small_disk(folder, size):
    """A real file system of ``size`` bytes at ``folder`` (tmpfs, root only)."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    _MOUNTED.append(folder)
    return folder


_MOUNTED = []


@pytest.fixture(autouse=True)
def _unmount_small_disks():
    yield
    while _MOUNTED:
        subprocess.run(["umount", str(_MOUNTED.pop())], check=True)


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder no file can be created in, even by root: a read-only mount."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=4k", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {mounted.stderr.strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_bytes_that_are_not_utf8_in_a_pipe_are_an_error_not_a_hang(tmp_path):
    import threading

    from sklearn_rnn._data_files import DataFileError, read_columns

    fifo = tmp_path / "d.csv"
    os.mkfifo(fifo)

    def write():
        with open(fifo, "wb") as file:
            file.write(b"text,label\nok,neg\n\xff\xfe bad,pos\n")

    writer = threading.Thread(target=write)
    writer.start()
    outcome = []

    def read():
        try:
            read_columns(str(fifo), {"--text-column": "text"})
        except DataFileError as error:
            outcome.append(str(error))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(120)
    writer.join(5)
    # a second read of the pipe would wait for a writer that never comes
    assert not reader.is_alive(), "reading the pipe twice hung"
    assert outcome and "not UTF-8" in outcome[0]
