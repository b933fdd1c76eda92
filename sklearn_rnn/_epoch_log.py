"""The table of epochs a fit prints at ``verbose=1``: skorch's, with the epoch
out of those planned, the time so far and left, and colour only on a terminal.
"""

import os
import sys
import time

from skorch.callbacks import PrintLog

# skorch's own columns the table leaves out: the batches' losses, and the best
# markers, which colour their values (or are dropped, without colour).
BEST_SUFFIX = "_best"


def use_colour(stream):
    """Whether to colour text written to ``stream``: only on a terminal, and
    never when ``NO_COLOR`` is set to anything (https://no-color.org) or the
    terminal says it is dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def format_duration(seconds):
    """``seconds`` as ``42s``, ``3m05s`` or ``1h02m``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class EpochLog(PrintLog):
    """skorch's ``PrintLog`` with ``epoch`` shown as ``k/n``, ``n`` the last
    epoch this fit may reach, and two more columns: ``elapsed``, the time
    since the fit began, and ``left``, the time the remaining epochs up to
    ``n`` would take at this fit's mean so far (early stopping may end it
    sooner). The best values are coloured only when stdout is a terminal and
    ``NO_COLOR`` is not set.

    The net tells the planned number of epochs as ``planned_epochs_`` (see
    ``RNNNet.fit_loop``); without it, ``max_epochs``.
    """

    def initialize(self):
        super().initialize()
        self.colour_ = use_colour(sys.stdout)
        self.started_ = None
        self.first_epoch_ = 1
        return self

    def on_train_begin(self, net, **kwargs):
        self.started_ = time.monotonic()
        self.first_epoch_ = len(net.history) + 1
        # each fit prints its own header
        self.first_iteration_ = True

    def on_epoch_end(self, net, **kwargs):
        row = dict(net.history[-1])
        if not self.colour_:
            row = {
                key: value
                for key, value in row.items()
                if not key.endswith(BEST_SUFFIX)
            }
        planned = getattr(net, "planned_epochs_", None) or net.max_epochs
        last = self.first_epoch_ - 1 + planned
        epoch = row.get("epoch", len(net.history))
        row["epoch"] = f"{epoch}/{last}"
        if self.started_ is not None:
            elapsed = time.monotonic() - self.started_
            done = epoch - self.first_epoch_ + 1
            row["elapsed"] = format_duration(elapsed)
            row["left"] = format_duration(elapsed / done * max(last - epoch, 0))
        tabulated = self.table(row)
        if self.first_iteration_:
            header, lines = tabulated.split("\n", 2)[:2]
            self._sink(header, net.verbose)
            self._sink(lines, net.verbose)
            self.first_iteration_ = False
        self._sink(tabulated.rsplit("\n", 1)[-1], net.verbose)
        if self.sink is print:
            sys.stdout.flush()

    def _sorted_keys(self, keys):
        timing = [key for key in ("elapsed", "left") if key in keys]
        others = [key for key in keys if key not in timing]
        return super()._sorted_keys(others) + timing
