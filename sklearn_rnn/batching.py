"""Pre-tensorized token ids and the iterator that cuts them into batches.

Batches are made by slicing whole tensors, never sample by sample, and each batch
is trimmed to its own longest text so that no column of pure padding is carried.
"""

import math

import numpy as np
import torch
from torch.utils.data import Dataset


class EncodedTexts(Dataset):
    """Token ids, their lengths, and optionally targets and sample weights.

    Parameters
    ----------
    ids : ndarray of shape (n_samples, max_length)
        Right-padded token ids, 0 being padding.
    y : ndarray of shape (n_samples,), optional
        Class indices.
    sample_weight : ndarray of shape (n_samples,), optional
        Weight of each sample in the loss.
    """

    def __init__(self, ids, y=None, sample_weight=None):
        self.ids = torch.from_numpy(np.require(ids, np.int64, ["C", "W"]))
        self.lengths = (self.ids != 0).sum(dim=1).clamp_(min=1)
        self.y = None if y is None else torch.as_tensor(np.asarray(y, dtype=np.int64))
        self.sample_weight = (
            None
            if sample_weight is None
            else torch.as_tensor(np.asarray(sample_weight, dtype=np.float32))
        )

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, index):
        return self.batch(torch.as_tensor([index]))

    def batch(self, index, pin_memory=False):
        """Return ``(inputs, targets)`` for the samples at ``index``.

        ``inputs`` is a dict with ``ids`` trimmed to the longest text among them,
        their ``lengths`` (kept on the CPU for packing) and, when the data has
        them, their ``sample_weight``.
        """
        lengths = self.lengths[index]
        ids = self.ids[index, : int(lengths.max())]
        if pin_memory:
            ids = ids.pin_memory()
        inputs = {"ids": ids, "lengths": lengths}
        if self.sample_weight is not None:
            inputs["sample_weight"] = self.sample_weight[index]
        targets = None if self.y is None else self.y[index]
        return inputs, targets


class BatchIterator:
    """Iterate over an :class:`EncodedTexts` in mini-batches.

    skorch builds one per ``fit`` and loops over it once per epoch. Shuffling
    draws from torch's global generator, which the estimator seeds inside
    ``torch.random.fork_rng`` so that fits are reproducible.

    Parameters
    ----------
    dataset : EncodedTexts
        The data.
    batch_size : int
        Samples per batch (the last one may be smaller).
    shuffle : bool, default=False
        Draw a new order of the samples at each epoch.
    pin_memory : bool, default=False
        Put each batch's ids in pinned memory, for asynchronous copies to a GPU.
    """

    def __init__(self, dataset, batch_size, shuffle=False, pin_memory=False):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.pin_memory = pin_memory

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        n_samples = len(self.dataset)
        order = torch.randperm(n_samples) if self.shuffle else torch.arange(n_samples)
        for start in range(0, n_samples, self.batch_size):
            yield self.dataset.batch(
                order[start : start + self.batch_size], pin_memory=self.pin_memory
            )
