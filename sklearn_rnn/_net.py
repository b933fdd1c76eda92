"""The skorch net that trains :class:`~sklearn_rnn.modules.RNNModule`."""

from collections.abc import Mapping

from skorch import NeuralNetClassifier
from skorch.utils import to_device
from torch.utils.data import Dataset

from .batching import EncodedTexts


class RNNNet(NeuralNetClassifier):
    """A skorch classifier net that reads the batches of ``BatchIterator``.

    Each batch's inputs are a dict of token ids, lengths and optional sample
    weights. Only the ids go to the device: the lengths stay on the CPU, where
    ``pack_padded_sequence`` wants them. The criterion must be built with
    ``reduction="none"`` so that per-sample weights can be applied.
    """

    def get_dataset(self, X, y=None):
        """Wrap token ids (and targets) so the net can be used on its own."""
        if isinstance(X, Dataset):
            return X
        return EncodedTexts(X, y)

    def infer(self, x, **fit_params):
        ids = x["ids"].to(self.device, non_blocking=True)
        return self.module_(ids, x["lengths"], **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        losses = self.criterion_(y_pred, to_device(y_true, self.device))
        if isinstance(X, Mapping) and "sample_weight" in X:
            losses = losses * X["sample_weight"].to(self.device, non_blocking=True)
        return losses.mean()
