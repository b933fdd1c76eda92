"""Early stopping that counts an epoch as better only beyond the noise of its
validation texts.

The validation loss is a mean over a few hundred or thousand texts: between
two epochs it can fall by less than the spread of its texts' own changes,
which is noise, while the network is already fitting its training texts more
than it learns. On MR (9,600 sentences) the validation loss fell by 0.5% from
the second to the third epoch as test accuracy fell by 1.5 points, and plain
"lowest loss" kept the third. Here an epoch counts as an improvement only
when its loss is lower than the best epoch's by more than the standard error
of that difference, measured text by text on the same validation texts
(docs/benchmarks.rst has the figures).
"""

import math

import numpy as np
import torch
from skorch.callbacks import EarlyStopping, PassthroughScoring

# How many standard errors of the paired difference a lower validation loss
# must clear to count: one, a one-sided test at about 84%.
IMPROVEMENT_STANDARD_ERRORS = 1.0


def significantly_lower(
    losses, best_losses, standard_errors=IMPROVEMENT_STANDARD_ERRORS
):
    """Whether per-text ``losses`` are lower than ``best_losses``, the same
    texts' losses at the best epoch, by more than ``standard_errors``
    standard errors of their mean difference."""
    gains = np.asarray(best_losses, dtype=np.float64) - np.asarray(
        losses, dtype=np.float64
    )
    mean_gain = gains.mean()
    if len(gains) < 2:
        return bool(mean_gain > 0)
    standard_error = gains.std(ddof=1) / math.sqrt(len(gains))
    return bool(mean_gain > standard_errors * standard_error)


class ValidLossScoring(PassthroughScoring):
    """skorch's epoch ``valid_loss``, with ``valid_loss_best`` true at the
    first epoch of each fit and then only at an epoch whose per-text losses
    are :func:`significantly_lower` than the last best epoch's.

    The net gives the epoch's per-text validation losses as
    ``valid_text_losses_``, a list of tensors (see ``RNNNet.get_loss``).
    Each fit, continued or not, starts afresh, as skorch's early stopping
    does.
    """

    def __init__(self, name="valid_loss", lower_is_better=True, on_train=False):
        super().__init__(name, lower_is_better=lower_is_better, on_train=on_train)

    def initialize(self):
        super().initialize()
        self.best_losses_ = None
        return self

    def on_train_begin(self, net, **kwargs):
        self.best_losses_ = None

    def on_epoch_end(self, net, **kwargs):
        super().on_epoch_end(net, **kwargs)
        batches = getattr(net, "valid_text_losses_", None)
        if self.name not in net.history[-1] or not batches:
            return
        # read once an epoch: one transfer from the device
        losses = torch.cat(batches).double().cpu().numpy()
        # A fit compares its own epochs only, on one validation set. An
        # epoch with a non-finite loss is never the best: no later epoch
        # could then be compared with it.
        best = self.best_losses_
        improved = bool(np.isfinite(losses).all()) and (
            best is None or significantly_lower(losses, best)
        )
        if improved:
            self.best_losses_ = losses
        net.history.record(self.name + "_best", improved)

    def on_train_end(self, net, **kwargs):
        # the texts' losses are only needed while training
        self.best_losses_ = None


def last_improved_loss(net):
    """The validation loss of the last epoch marked an improvement (inf
    before any): what the plateau schedule watches under early stopping, so
    that it calls an epoch progress exactly when early stopping does."""
    for row in reversed(net.history):
        if row.get("valid_loss_best"):
            return row["valid_loss"]
    return math.inf


class StopWithoutImprovement(EarlyStopping):
    """skorch's ``EarlyStopping``, with an improvement being what the history
    marks ``<monitor>_best`` (see :class:`ValidLossScoring`, which must run
    before it), so that the epoch it restores, the epoch the table marks and
    ``best_epoch_`` are one. ``threshold``, ``threshold_mode`` and
    ``lower_is_better`` play no part."""

    def on_epoch_end(self, net, **kwargs):
        self.improved_ = bool(net.history[-1].get(self.monitor + "_best"))
        super().on_epoch_end(net, **kwargs)

    def _is_score_improved(self, score):
        return self.improved_
