"""Pre-tensorized token ids and the iterator that cuts them into batches.

Batches are made by slicing whole tensors, never sample by sample, and each batch
is trimmed to its own longest text so that no column of pure padding is carried.
"""

import math

import numpy as np
import torch
from torch.utils.data import Dataset

# Prediction batches hold texts of similar lengths, as many as fit in this many
# token positions (at most PREDICT_MAX_TEXTS). Larger batches run slower per
# token once their states outgrow the caches: on IMDB lengths (798 tokens),
# batches of 16 to 64 texts ran 1.8-2.2x faster than batches of 256
# (benchmarks/bench_predict_batches.py).
PREDICT_BATCH_TOKENS = 32_768
PREDICT_MAX_TEXTS = 512


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
    counts : scipy.sparse matrix of shape (n_samples, n_tokens), optional
        Token counts over each whole text, for the bag of words; without them
        the bag reads ``ids``.
    """

    def __init__(self, ids, y=None, sample_weight=None, counts=None):
        self.ids = torch.from_numpy(np.require(ids, np.int64, ["C", "W"]))
        self.lengths = (self.ids != 0).sum(dim=1).clamp_(min=1)
        self.bag = None if counts is None else _Bags(counts)
        self.y = None if y is None else torch.as_tensor(np.asarray(y, dtype=np.int64))
        self.sample_weight = (
            None
            if sample_weight is None
            else torch.as_tensor(np.asarray(sample_weight, dtype=np.float32))
        )

    def __len__(self):
        return len(self.ids)

    def document_frequency(self, n_tokens):
        """How many texts hold each id, for ids 0 to ``n_tokens - 1``: in the
        whole texts when there are counts, else in ``ids``."""
        if self.bag is not None:
            return self.bag.document_frequency(n_tokens)
        ordered = np.sort(self.ids.numpy(), axis=1)
        first = np.ones(ordered.shape, dtype=bool)
        first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
        frequency = np.bincount(ordered[first], minlength=n_tokens)[:n_tokens]
        frequency[0] = 0  # padding
        return frequency

    def __getitem__(self, index):
        return self.batch(torch.as_tensor([index]))

    def batch(self, index, pin_memory=False):
        """Return ``(inputs, targets)`` for the samples at ``index``.

        ``inputs`` is a dict with ``ids`` trimmed to the longest text among them,
        their ``lengths`` (kept on the host, where batches are cut) and, when
        the data has them, their ``sample_weight`` and their bags of words:
        ``bag_ids``, each text's distinct token ids right-padded with 0 to the
        batch's most, and ``bag_counts``, how often each id occurs in the
        whole text, 0 at padding.
        """
        lengths = self.lengths[index]
        ids = self.ids[index, : int(lengths.max())]
        inputs = {"ids": ids, "lengths": lengths}
        if self.sample_weight is not None:
            inputs["sample_weight"] = self.sample_weight[index]
        if self.bag is not None:
            inputs["bag_ids"], inputs["bag_counts"] = self.bag.rows(index)
        if pin_memory:
            for name in ("ids", "bag_ids", "bag_counts"):
                if name in inputs:
                    inputs[name] = inputs[name].pin_memory()
        targets = None if self.y is None else self.y[index]
        return inputs, targets


class _Bags:
    """Sparse token counts, gathered a batch at a time.

    A batch's rows are gathered in one vectorized step into two dense
    (n_texts, width) tensors of ids and counts, the layout ``embedding_bag``
    reads as one bag per row, and whose first dimension is the batch's, as
    skorch expects of every input. The module weights the counts.
    """

    def __init__(self, counts):
        counts = counts.tocsr()
        counts.sum_duplicates()  # sorted, unique ids in each row
        self.indptr = torch.from_numpy(counts.indptr.astype(np.int64))
        self.ids = torch.from_numpy(counts.indices.astype(np.int64))
        self.counts = torch.from_numpy(counts.data.astype(np.float32))

    def document_frequency(self, n_tokens):
        """How many texts hold each id, for ids 0 to ``n_tokens - 1``."""
        return np.bincount(self.ids.numpy(), minlength=n_tokens)[:n_tokens]

    def rows(self, index):
        """The bags of the texts at ``index``: padded ids and their counts."""
        starts = self.indptr[index]
        sizes = self.indptr[index + 1] - starts
        offsets = torch.cumsum(sizes, 0) - sizes
        columns = torch.arange(int(sizes.sum())) - torch.repeat_interleave(
            offsets, sizes
        )
        positions = columns + torch.repeat_interleave(starts, sizes)
        batch_rows = torch.repeat_interleave(torch.arange(len(index)), sizes)
        shape = (len(index), max(int(sizes.max()), 1))
        ids = torch.zeros(shape, dtype=torch.int64)
        counts = torch.zeros(shape, dtype=torch.float32)
        ids[batch_rows, columns] = self.ids[positions]
        counts[batch_rows, columns] = self.counts[positions]
        return ids, counts


class BatchIterator:
    """Iterate over an :class:`EncodedTexts` in mini-batches.

    skorch builds one per ``fit`` and loops over it once per epoch. With
    ``shuffle``, each epoch draws a new order, sorts it by length within pools
    of ``pool_batches`` batches, cuts the pools into batches and shuffles the
    batches: texts of similar lengths share a batch (so trimming leaves little
    padding) while batches still come in random order. Randomness is drawn
    from torch's global generator, which the estimator seeds inside
    ``torch.random.fork_rng`` so that fits are reproducible. Without
    ``shuffle`` the samples come in their order, so predictions line up with
    the data.

    Parameters
    ----------
    dataset : EncodedTexts
        The data.
    batch_size : int
        Samples per batch (the last one may be smaller).
    shuffle : bool, default=False
        Draw a new, length-bucketed order of the samples at each epoch.
    pool_batches : int, default=50
        Batches per pool sorted by length when shuffling. Larger pools leave
        less padding and less randomness.
    pin_memory : bool, default=False
        Put each batch's ids in pinned memory, for asynchronous copies to a GPU.
    num_shards : int, default=1
        In distributed training, the number of processes sharing each epoch.
        Every process draws the same order of batches (their generators are
        seeded alike) and keeps every ``num_shards``-th one, starting at
        ``shard_index``; all keep as many batches, so up to ``num_shards - 1``
        batches of an epoch are left out.
    shard_index : int, default=0
        This process's place among the ``num_shards``.
    seed : int or None, default=None
        Shuffle with a generator of this seed rather than torch's global one,
        so that processes whose global generators have diverged (dropout on
        the CPU draws from it) still shuffle alike.
    """

    def __init__(
        self,
        dataset,
        batch_size,
        shuffle=False,
        pool_batches=50,
        pin_memory=False,
        num_shards=1,
        shard_index=0,
        seed=None,
    ):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.pool_batches = pool_batches
        self.pin_memory = pin_memory
        self.num_shards = num_shards
        self.shard_index = shard_index
        self.seed = seed

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size) // self.num_shards

    def __iter__(self):
        if self.shuffle:
            batches = self._bucketed_batches()
        else:
            batches = torch.arange(len(self.dataset)).split(self.batch_size)
        if self.num_shards > 1:
            batches = batches[self.shard_index :: self.num_shards][: len(self)]
        for index in batches:
            yield self.dataset.batch(index, pin_memory=self.pin_memory)

    def _bucketed_batches(self):
        generator = None
        if self.seed is not None:
            generator = torch.Generator().manual_seed(self.seed)
        order = torch.randperm(len(self.dataset), generator=generator)
        # capped: a batch_size near int64's limit times pool_batches overflows
        pool_size = min(self.pool_batches * self.batch_size, len(order))
        pools = order.split(max(pool_size, 1))
        lengths = self.dataset.lengths
        by_length = torch.cat(
            [pool[torch.argsort(lengths[pool], stable=True)] for pool in pools]
        )
        batches = by_length.split(self.batch_size)
        return [batches[i] for i in torch.randperm(len(batches), generator=generator)]


def prediction_batches(lengths):
    """Indices of prediction batches of similar lengths, longest texts first.

    Each batch holds as many texts as fit in ``PREDICT_BATCH_TOKENS`` positions
    at its longest text's length (at least one, at most ``PREDICT_MAX_TEXTS``),
    so memory is bounded by the batch, not by the data.
    """
    order = torch.argsort(lengths, descending=True, stable=True)
    sorted_lengths = lengths[order].tolist()
    start = 0
    while start < len(order):
        size = PREDICT_BATCH_TOKENS // sorted_lengths[start]
        size = min(max(size, 1), PREDICT_MAX_TEXTS)
        yield order[start : start + size]
        start += size
