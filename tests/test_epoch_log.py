"""The epoch table of verbose=1: progress out of the planned epochs, time
left, and colour only on a terminal."""

import io
import sys

import pytest
from helpers import FAST, keyword_data

from sklearn_rnn import RNNTextClassifier
from sklearn_rnn._epoch_log import format_duration

ESCAPE = "\x1b["


class Terminal(io.StringIO):
    """Captured output that says it is a terminal, as a console's stdout does."""

    def isatty(self):
        return True


@pytest.fixture(scope="module")
def texts():
    return keyword_data(120, seed=2)


def fit_printing(texts, **params):
    X, y = texts
    clf = RNNTextClassifier(**{**FAST, "verbose": 1, **params})
    return clf.fit(X, y)


def table_rows(out):
    """The epoch rows of a printed table: their first cell and the rest."""
    return [line.split() for line in out.splitlines() if "/" in line.split()[0]]


def test_each_epoch_shows_its_number_out_of_the_planned_and_the_time_left(
    texts, capsys
):
    fit_printing(texts, max_epochs=3, early_stopping=False)
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "train_loss" in line)
    assert header.split()[0] == "epoch"
    assert header.split()[-2:] == ["elapsed", "left"]
    rows = table_rows(out)
    assert [row[0] for row in rows] == ["1/3", "2/3", "3/3"]
    assert rows[-1][-1] == "0s"  # nothing left after the last epoch
    assert all(row[-2].endswith("s") for row in rows)


def test_a_continued_fit_counts_on_from_the_epochs_before(texts, capsys):
    clf = fit_printing(texts, max_epochs=2, early_stopping=False)
    capsys.readouterr()
    clf.set_params(warm_start=True).fit(*texts)
    out = capsys.readouterr().out
    assert [row[0] for row in table_rows(out)] == ["3/4", "4/4"]
    assert sum("train_loss" in line for line in out.splitlines()) == 1  # its own


def test_partial_fit_plans_one_epoch_per_call(texts, capsys):
    X, y = texts
    clf = RNNTextClassifier(**{**FAST, "verbose": 1})
    clf.partial_fit(X[:60], y[:60], classes=["neg", "pos"])
    clf.partial_fit(X[60:], y[60:])
    rows = table_rows(capsys.readouterr().out)
    assert [row[0] for row in rows] == ["1/1", "2/2"]


def test_the_epoch_that_ends_early_stopping_has_its_row(texts, capsys):
    # a rate too small to move the loss by early stopping's threshold (1e-4
    # relative): every epoch after the first is a miss, whatever the CPU
    clf = fit_printing(
        texts,
        lr=1e-12,
        lr_schedule="constant",
        early_stopping=True,
        n_iter_no_change=2,
        max_epochs=10,
    )
    out = capsys.readouterr().out
    assert clf.n_epochs_ == 3
    assert [row[0] for row in table_rows(out)] == ["1/10", "2/10", "3/10"]
    lines = out.splitlines()
    stopping = next(i for i, line in enumerate(lines) if line.startswith("Stopping"))
    assert lines[stopping - 1].split()[0] == "3/10"


def test_no_colour_codes_in_captured_output(texts, capsys):
    fit_printing(texts, max_epochs=3, early_stopping=False)
    out = capsys.readouterr().out
    assert "train_loss" in out and ESCAPE not in out


def test_colour_on_a_terminal_unless_no_color_is_set(texts, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    # the training loss falls at every epoch: each is the best so far
    fit_printing(texts, max_epochs=3, early_stopping=False)
    assert ESCAPE in terminal.getvalue()

    monkeypatch.setenv("NO_COLOR", "1")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    fit_printing(texts, max_epochs=3, early_stopping=False)
    assert "train_loss" in terminal.getvalue()
    assert ESCAPE not in terminal.getvalue()


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.4, "0s"), (42, "42s"), (59.6, "1m00s"), (185, "3m05s"), (3720, "1h02m")],
)
def test_durations_read_as_a_person_writes_them(seconds, shown):
    assert format_duration(seconds) == shown
