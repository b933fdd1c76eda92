"""Learning curves from a fitted classifier's training history."""

import numbers

from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

LOSS_CURVES = ("train_loss", "valid_loss")


class TrainingHistoryDisplay:
    """Per-epoch curves of a training history, drawn with matplotlib.

    Build it with :meth:`from_estimator` (a fitted :class:`RNNTextClassifier`
    or :class:`RNNClassifier`) or :meth:`from_history` (a list of per-epoch
    dicts, such as ``history_``). Like scikit-learn's displays, it keeps the
    figures and the matplotlib objects it drew, so a plot can be restyled
    afterwards. matplotlib is an optional dependency, needed only to plot.

    Parameters
    ----------
    epochs : list of int
        The epoch numbers, the x-axis.
    curves : dict of str to list of float
        One curve per history key, aligned with ``epochs``; an epoch without
        the key holds NaN (a gap in the line).
    best_epoch : int or None, default=None
        The epoch whose weights the estimator kept, marked by a vertical line.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes the curves are drawn on.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.
    lines_ : dict of str to matplotlib Line2D
        The line drawn for each curve.
    best_epoch_line_ : matplotlib Line2D or None
        The vertical line at ``best_epoch``.

    Examples
    --------
    >>> from sklearn_rnn.plotting import TrainingHistoryDisplay
    >>> history = [
    ...     {"epoch": 1, "train_loss": 0.69, "valid_loss": 0.65},
    ...     {"epoch": 2, "train_loss": 0.52, "valid_loss": 0.58},
    ... ]
    >>> display = TrainingHistoryDisplay.from_history(history, plot=False)
    >>> display.curves
    {'train_loss': [0.69, 0.52], 'valid_loss': [0.65, 0.58]}
    """

    def __init__(self, *, epochs, curves, best_epoch=None):
        self.epochs = epochs
        self.curves = curves
        self.best_epoch = best_epoch

    @classmethod
    def from_estimator(cls, estimator, *, metrics=LOSS_CURVES, ax=None, plot=True):
        """Curves of a fitted estimator's ``history_``.

        Parameters
        ----------
        estimator : RNNTextClassifier, RNNClassifier or Pipeline
            A fitted classifier, or a pipeline ending in one. Its
            ``best_epoch_`` is marked.
        metrics : sequence of str, default=("train_loss", "valid_loss")
            History keys to draw, such as ``("train_acc", "valid_acc")`` or
            ``("lr",)``. Keys the history never recorded are left out
            (``valid_loss`` without early stopping); naming only such keys is
            an error.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        plot : bool, default=True
            Draw at once. With False, no matplotlib is needed until
            :meth:`plot` is called.

        Returns
        -------
        display : TrainingHistoryDisplay
        """
        if isinstance(estimator, Pipeline):
            estimator = estimator[-1]
        check_is_fitted(estimator, "history_")
        return cls.from_history(
            estimator.history_,
            metrics=metrics,
            best_epoch=estimator.best_epoch_,
            ax=ax,
            plot=plot,
        )

    @classmethod
    def from_history(
        cls, history, *, metrics=LOSS_CURVES, best_epoch=None, ax=None, plot=True
    ):
        """Curves of a list of per-epoch dicts.

        Parameters
        ----------
        history : list of dict
            One dict per epoch with an ``"epoch"`` number, as in ``history_``.
        metrics : sequence of str, default=("train_loss", "valid_loss")
            History keys to draw; keys no epoch has are left out, and naming
            only such keys is an error.
        best_epoch : int or None, default=None
            Epoch to mark with a vertical line.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        plot : bool, default=True
            Draw at once.

        Returns
        -------
        display : TrainingHistoryDisplay
        """
        if isinstance(metrics, str):
            metrics = (metrics,)
        if not history:
            raise ValueError("The history is empty: there is no epoch to plot.")
        if not all(isinstance(row, dict) and "epoch" in row for row in history):
            raise TypeError(
                "history must be a list of dicts, each with an 'epoch' key, "
                "such as a fitted estimator's history_."
            )
        recorded = [name for name in metrics if any(name in row for row in history)]
        if not recorded:
            known = sorted({key for row in history for key in row} - {"epoch"})
            raise ValueError(
                f"None of the metrics {list(metrics)} is in the history; it "
                f"records {known}."
            )
        curves = {
            name: [_as_float(row.get(name, float("nan")), name) for row in history]
            for name in recorded
        }
        display = cls(
            epochs=[row["epoch"] for row in history],
            curves=curves,
            best_epoch=best_epoch,
        )
        return display.plot(ax=ax) if plot else display

    def plot(self, *, ax=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        Returns
        -------
        display : TrainingHistoryDisplay
            This display, with ``ax_``, ``figure_``, ``lines_`` and
            ``best_epoch_line_`` set.
        """
        plt = _import_pyplot()
        if ax is None:
            _, ax = plt.subplots()
        self.lines_ = {
            name: ax.plot(self.epochs, values, marker="o", markersize=3, label=name)[0]
            for name, values in self.curves.items()
        }
        self.best_epoch_line_ = None
        if self.best_epoch is not None:
            self.best_epoch_line_ = ax.axvline(
                self.best_epoch,
                color="grey",
                linestyle=":",
                label=f"best epoch ({self.best_epoch})",
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel(y_label(self.curves))
        ax.legend()
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


# What the y-axis shows, for history keys ending in these.
Y_LABELS = {
    "_loss": "loss (cross-entropy)",
    "_acc": "accuracy",
    "lr": "learning rate",
    "dur": "seconds",
}


def y_label(names):
    """The y-axis label of curves named ``names``: what each kind measures,
    joined when they differ."""
    labels = []
    for name in names:
        label = next(
            (text for end, text in Y_LABELS.items() if name.endswith(end)), name
        )
        if label not in labels:
            labels.append(label)
    return " / ".join(labels)


def _as_float(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"History values must be numbers; {name!r} holds {value!r}.")
    return float(value)


def _import_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "Plotting needs matplotlib: pip install matplotlib"
        ) from error
    return plt
