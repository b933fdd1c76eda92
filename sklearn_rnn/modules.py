"""The PyTorch network: embedding, recurrent core, pooling and linear head."""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .text import UNKNOWN_ID

RNN_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
POOLINGS = ("last", "mean", "max", "attention")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def count_weights(
    n_tokens,
    n_classes,
    embedding_dim=100,
    hidden_size=64,
    num_layers=1,
    cell="lstm",
    bidirectional=True,
    pooling="max",
    bag_of_words=False,
):
    """The number of weights :class:`RNNModule` would have, without building it.

    Takes :class:`RNNModule`'s size parameters; Python integers never overflow,
    so it answers for sizes too large to allocate.
    """
    directions = 2 if bidirectional else 1
    gates = GATES[cell] * hidden_size
    total = n_tokens * embedding_dim
    for layer in range(min(num_layers, 2)):
        input_size = embedding_dim if layer == 0 else hidden_size * directions
        # input and recurrent matrices, and two bias vectors, per direction
        per_layer = directions * gates * (input_size + hidden_size + 2)
        total += per_layer * (1 if layer == 0 else num_layers - 1)
    state_size = hidden_size * directions
    if pooling == "attention":
        total += state_size * hidden_size + 2 * hidden_size
    total += (state_size + 1) * n_classes
    if bag_of_words:
        total += n_tokens * n_classes
    return total


class RNNModule(nn.Module):
    """Embedding, recurrent layers, pooling over real tokens, and a linear head.

    Padding never enters the recurrence. Texts are right-padded, so the
    forward direction reaches every real token before any padding; the
    backward direction reads each text reversed within its own length, so it
    too starts at a real token. States at padded positions exist but are never
    read: pooling looks at real tokens only. Adding padding to a batch
    therefore changes no output.

    Why not ``pack_padded_sequence``: on the CPU, PyTorch's backward pass
    through packed sequences is several times slower than through the fused
    padded kernel (``benchmarks/bench_paths.py`` measures it on the lengths of
    real data sets), and with batches of similar lengths the padded kernel
    wastes little. Running each direction as its own layer is what lets the backward
    direction read each text from its own end.

    Parameters
    ----------
    n_tokens : int
        Size of the id space, padding (0) and unknown (1) included.
    n_classes : int
        Number of output logits.
    embedding_dim : int, default=100
        Size of the token embeddings.
    hidden_size : int, default=64
        Size of the recurrent state, per direction.
    num_layers : int, default=1
        Number of stacked recurrent layers.
    cell : {"rnn", "lstm", "gru"}, default="lstm"
        The recurrent layer: Elman RNN (tanh), LSTM or GRU.
    bidirectional : bool, default=True
        Also read each text from its end to its start.
    dropout : float, default=0.0
        Dropout between stacked recurrent layers and before the linear head.
    pooling : {"last", "mean", "max", "attention"}, default="max"
        How the states along a text become one vector: the final state
        (for a bidirectional network, the forward state at the last token
        joined with the backward state at the first token), the mean or
        maximum of the states over the text's real tokens, or their average
        weighted by additive attention over the real tokens.
    embedding_dropout : float, default=0.0
        Dropout on the token embeddings, before the first recurrent layer.
    freeze_embeddings : bool, default=False
        Keep the embedding weights fixed during training.
    bag_of_words : bool, default=False
        Add to the logits a linear model over the tokens: ``bag`` holds one
        weight per token and class, starting at zero, and a text adds the
        weights of its distinct tokens times their TF-IDF values, L2-normalised
        over the text: ``(1 + log(count)) * idf`` as scikit-learn's
        ``TfidfVectorizer(sublinear_tf=True)`` has them, with the ``bag_idf``
        buffer that :meth:`set_bag_idf` sets from the training texts (all ones
        until then). Padding has no weight. :meth:`forward` can be given the
        bag of a longer text than ``ids`` holds.
    packed : bool, default=False
        Run each recurrent layer on packed sequences
        (``pack_padded_sequence``) rather than on the trimmed padded batch.
        Both read no padding and give the same outputs; on the CPU the
        padded path trains several times faster (see the class's notes), and
        on a GPU the choice is left to measurement
        (``benchmarks/bench_paths.py --device cuda``). The weights are the
        same either way.
    """

    def __init__(
        self,
        n_tokens,
        n_classes,
        embedding_dim=100,
        hidden_size=64,
        num_layers=1,
        cell="lstm",
        bidirectional=True,
        dropout=0.0,
        pooling="max",
        embedding_dropout=0.0,
        freeze_embeddings=False,
        bag_of_words=False,
        packed=False,
    ):
        super().__init__()
        self.packed = packed
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}.")
        self.pooling = pooling
        self.hidden_size = hidden_size
        self.num_directions = 2 if bidirectional else 1
        self.embedding = nn.Embedding(n_tokens, embedding_dim, padding_idx=0)
        self.set_embeddings(self.embedding.weight)
        self.embedding.weight.requires_grad_(not freeze_embeddings)
        self.embedding_dropout = Dropout(embedding_dropout)
        self.layers = nn.ModuleList(
            nn.ModuleList(
                RNN_CELLS[cell](
                    embedding_dim if layer == 0 else hidden_size * self.num_directions,
                    hidden_size,
                    batch_first=True,
                )
                for _ in range(self.num_directions)
            )
            for layer in range(num_layers)
        )
        self.dropout = Dropout(dropout)
        state_size = hidden_size * self.num_directions
        if pooling == "attention":
            self.attention = AdditiveAttention(state_size, hidden_size)
        self.head = nn.Linear(state_size, n_classes)
        self.bag = None
        if bag_of_words:
            self.bag = nn.Embedding(n_tokens, n_classes, padding_idx=0)
            nn.init.zeros_(self.bag.weight)
        idf = torch.ones(n_tokens) if bag_of_words else None
        self.register_buffer("bag_idf", idf)

    def __setstate__(self, state):
        super().__setstate__(state)
        if "bag_idf" not in self._buffers:
            # pickled before the bag read TF-IDF values: see _bag_weights
            self.register_buffer("bag_idf", None)

    def set_bag_idf(self, n_texts, document_frequency):
        """Set the bag of words' inverse document frequencies.

        Parameters
        ----------
        n_texts : int
            The number of training texts.
        document_frequency : array-like of shape (n_tokens,)
            How many of them hold each token id. Each id's idf is
            ``log((1 + n_texts) / (1 + document_frequency)) + 1``, as in
            scikit-learn's ``TfidfVectorizer``; padding's is 0.
        """
        frequency = torch.as_tensor(document_frequency, dtype=torch.float64)
        if self.bag_idf is None or frequency.shape != self.bag_idf.shape:
            expected = None if self.bag_idf is None else tuple(self.bag_idf.shape)
            raise ValueError(
                f"document_frequency must have shape {expected} (one count per "
                f"token id of a bag of words), got {tuple(frequency.shape)}."
            )
        idf = torch.log((1 + n_texts) / (1 + frequency)) + 1
        idf[0] = 0.0
        with torch.no_grad():
            self.bag_idf.copy_(idf)

    def set_embeddings(self, weights):
        """Copy ``weights`` (n_tokens, embedding_dim) into the embedding.

        Padding and the unknown token start at zero: the unknown token stays
        neutral unless rare tokens were mapped to it in training.
        """
        weights = torch.as_tensor(weights)
        if weights.shape != self.embedding.weight.shape:
            expected = tuple(self.embedding.weight.shape)
            raise ValueError(
                f"Embedding weights must have shape {expected}, got "
                f"{tuple(weights.shape)}."
            )
        with torch.no_grad():
            self.embedding.weight.copy_(weights)
            self.embedding.weight[[0, UNKNOWN_ID]] = 0.0

    def forward(self, ids, lengths=None, bag_ids=None, bag_counts=None):
        """Return the logits of a batch.

        Parameters
        ----------
        ids : LongTensor of shape (batch, time)
            Right-padded token ids; 0 is padding.
        lengths : LongTensor of shape (batch,), optional
            Number of real tokens per row. Computed from ``ids`` when not
            given. A row of padding only counts as one token.
        bag_ids : LongTensor of shape (batch, width), optional
            With ``bag_of_words``, each text's distinct token ids, right-padded
            with 0; they may come from a longer text than ``ids`` holds.
            Without them, the bag reads ``ids``.
        bag_counts : Tensor of shape (batch, width), optional
            With ``bag_ids``: how often each id occurs in its text, 0 at
            padding.

        Returns
        -------
        logits : Tensor of shape (batch, n_classes)
        """
        states, lengths = self._encode(ids, lengths)
        logits = self.head(self.dropout(self._pool(states, lengths)))
        if self.bag is None:
            return logits
        if bag_ids is None:
            bag_ids, bag_counts = distinct_ids(ids)
        # in float32 whatever the autocast: sums over thousands of tokens
        with torch.autocast(logits.device.type, enabled=False):
            per_token = nn.functional.embedding_bag(
                bag_ids,
                self.bag.weight.float(),
                per_sample_weights=self._bag_weights(bag_ids, bag_counts.float()),
                mode="sum",
                padding_idx=0,
            )
        return logits + per_token.to(logits.dtype)

    def _bag_weights(self, bag_ids, counts):
        """Each bag id's value: its TF-IDF, L2-normalised over the text."""
        if self.bag_idf is None:
            # A network pickled or saved before the idf existed was trained on
            # counts over the square root of the text's length.
            return counts * counts.sum(dim=1, keepdim=True).clamp(min=1).rsqrt()
        present = counts > 0
        sublinear = torch.where(present, counts.clamp(min=1).log() + 1, 0.0)
        values = sublinear * self.bag_idf.float()[bag_ids]
        norms = values.norm(dim=1, keepdim=True)
        # a text without tokens has no values to scale
        return values / norms.clamp(min=torch.finfo(values.dtype).tiny)

    def flatten_parameters(self):
        """Put each recurrent layer's weights in cuDNN's single buffer.

        A no-op on the CPU. On a GPU, weights that were loaded or moved
        otherwise lose it, and every call would copy them anew.
        """
        for directions in self.layers:
            for layer in directions:
                layer.flatten_parameters()

    def attention_weights(self, ids, lengths=None):
        """Attention weight of each token, zero at padding; rows sum to 1.

        Only for ``pooling="attention"``. Takes the arguments of
        :meth:`forward`; returns a Tensor of the shape of ``ids``.
        """
        if self.pooling != "attention":
            raise ValueError(
                f"Attention weights need pooling='attention', not {self.pooling!r}."
            )
        states, lengths = self._encode(ids, lengths)
        return self.attention(states, real_token_mask(lengths, states.shape[1]))

    def _encode(self, ids, lengths):
        """The top layer's states at every position, and the lengths.

        Except for attention, the top layer's backward states are left in
        each text's reversed order (see ``_pool``).
        """
        if lengths is None:
            lengths = (ids != 0).sum(dim=1)
        # packing takes the lengths on the host, where batches come with them
        host_lengths = lengths.cpu().clamp(min=1) if self.packed else None
        lengths = lengths.to(ids.device, torch.int64, non_blocking=True).clamp(min=1)
        # One lookup and one dropout mask per token, which the backward
        # direction reads reversed: a mask drawn once serves both directions.
        states = self.embedding_dropout(self.embedding(ids))
        reverse = None
        if self.num_directions == 2:
            reverse = reversal_index(lengths, ids.shape[1])
            backward_input = reverse_within_lengths(states, reverse)
        last_depth = len(self.layers) - 1
        keep_reversed = self.pooling in ("mean", "max", "last")
        for depth, directions in enumerate(self.layers):
            if depth > 0:
                states = self.dropout(states)
                if reverse is not None:
                    backward_input = reverse_within_lengths(states, reverse)
            outputs = [_recurrent(directions[0], states, host_lengths)]
            if reverse is not None:
                backward = _recurrent(directions[1], backward_input, host_lengths)
                if depth < last_depth or not keep_reversed:
                    backward = reverse_within_lengths(backward, reverse)
                outputs.append(backward)
            states = torch.cat(outputs, dim=2)
        return states, lengths

    def language_model_states(self, ids, lengths):
        """Each direction's top-layer states, read as a language model.

        Parameters
        ----------
        ids : LongTensor of shape (batch, time)
            Right-padded token ids; 0 is padding.
        lengths : LongTensor of shape (batch,)
            Number of real tokens per row, at least 1.

        Returns
        -------
        forward : Tensor of shape (batch, time, hidden_size)
            The forward direction's state at each position: it has read the
            text's tokens up to that one.
        backward : Tensor of shape (batch, time, hidden_size) or None
            The backward direction's states, in each text's reversed order
            (see :func:`reverse_within_lengths`): at position ``t`` it has
            read the text's last ``t + 1`` tokens. None for a one-way network.

        Above the first layer, each direction reads its own direction's states
        below it and zeros in place of the other's, whose states have read the
        tokens this one is to predict.
        """
        lengths = lengths.to(ids.device, torch.int64).clamp(min=1)
        forward = self.embedding_dropout(self.embedding(ids))
        backward, reverse = None, None
        if self.num_directions == 2:
            reverse = reversal_index(lengths, ids.shape[1])
            backward = reverse_within_lengths(forward, reverse)
        for depth, directions in enumerate(self.layers):
            if depth > 0 and backward is None:
                forward = self.dropout(forward)
            elif depth > 0:
                silent = torch.zeros_like(forward)
                forward = self.dropout(torch.cat([forward, silent], dim=2))
                backward = self.dropout(torch.cat([silent, backward], dim=2))
            forward = _recurrent(directions[0], forward)
            if backward is not None:
                backward = _recurrent(directions[1], backward)
        return forward, backward

    def _pool(self, states, lengths):
        """One vector per text from the top layer's states at real tokens.

        Except for attention, the backward half of ``states`` is in each
        text's reversed order. Mean and max do not depend on order, and
        reversal within a text's length keeps real tokens in the first
        ``length`` positions, so one mask fits both halves. For ``"last"``,
        position ``length - 1`` holds the forward state at the text's last
        token and the backward state at its first.
        """
        if self.pooling == "last":
            rows = torch.arange(len(states), device=states.device)
            return states[rows, lengths - 1]
        mask = real_token_mask(lengths, states.shape[1])
        if self.pooling == "mean":
            return masked_mean(states, mask)
        if self.pooling == "max":
            return masked_max(states, mask)
        weights = self.attention(states, mask)
        return torch.bmm(weights.unsqueeze(1), states).squeeze(1)


def _recurrent(layer, inputs, packed_lengths=None):
    """The outputs of one recurrent layer, in float32 under bfloat16 autocast.

    Given ``packed_lengths`` (on the host), the layer reads packed sequences
    of those lengths; positions past a text's length come out as zeros.

    PyTorch's autocast runs cuDNN's recurrent kernels in float16 whatever
    lower precision was asked for, and bfloat16 training has no loss scaling
    to keep float16 gradients from underflowing: under bfloat16 the
    recurrence runs in float32, the embedding, attention and head in
    bfloat16.
    """
    device_type = inputs.device.type
    if (
        torch.is_autocast_enabled(device_type)
        and torch.get_autocast_dtype(device_type) == torch.bfloat16
    ):
        with torch.autocast(device_type, enabled=False):
            return _run(layer, inputs.float(), packed_lengths)
    return _run(layer, inputs, packed_lengths)


def _run(layer, inputs, packed_lengths):
    if packed_lengths is None:
        return layer(inputs)[0]
    packed = pack_padded_sequence(
        inputs, packed_lengths, batch_first=True, enforce_sorted=False
    )
    outputs, _ = pad_packed_sequence(
        layer(packed)[0], batch_first=True, total_length=inputs.shape[1]
    )
    return outputs


class Dropout(nn.Dropout):
    """:class:`torch.nn.Dropout` drawing its mask from uniform numbers.

    The same inverted dropout: each element is kept with probability
    ``1 - p`` and scaled by ``1 / (1 - p)``. On the CPU, PyTorch's dropout
    draws its mask with ``bernoulli_``, which costs a training step more than
    comparing uniform draws with ``p`` (``benchmarks/bench_dropout.py``
    measures both); on short texts, where the recurrence is cheap, the
    embedding's dropout is a sizeable share of the step. Other devices keep
    PyTorch's dropout, whose fused kernels draw and apply the mask in one
    pass.
    """

    def forward(self, inputs):
        if not self.training or self.p == 0:
            return inputs
        if inputs.device.type != "cpu":
            return super().forward(inputs)
        keep = torch.rand(inputs.shape) >= self.p
        return inputs * keep.to(inputs.dtype).mul_(1 / (1 - self.p))


class AdditiveAttention(nn.Module):
    """Additive attention with a learnt query: one weight per real token.

    The score of a state ``h`` is ``v . tanh(W h + b)`` (Bahdanau et al.,
    2015, with the decoder state replaced by a learnt vector, as in Yang et
    al., 2016); the weights are the softmax of the scores over a text's real
    tokens.
    """

    def __init__(self, state_size, attention_size):
        super().__init__()
        self.project = nn.Linear(state_size, attention_size)
        self.score = nn.Linear(attention_size, 1, bias=False)

    def forward(self, states, mask):
        scores = self.score(torch.tanh(self.project(states))).squeeze(-1)
        return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)


def distinct_ids(ids):
    """Each row's distinct ids and how often each occurs, as the bag reads them.

    Returns two tensors of the shape of ``ids``: the distinct ids of each row
    in ascending order, right-padded with 0, and their counts, 0 at padding.
    """
    ordered = ids.sort(dim=1).values
    starts = torch.ones_like(ordered, dtype=torch.bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    run = starts.cumsum(dim=1) - 1
    distinct = torch.zeros_like(ordered).scatter_(1, run, ordered)
    counts = torch.zeros(ordered.shape, device=ids.device)
    counts.scatter_add_(1, run, torch.ones(ordered.shape, device=ids.device))
    return distinct, counts * (distinct != 0)


def reversal_index(lengths, max_length):
    """Positions that reverse each row within its length, leaving padding put.

    Row ``b`` maps position ``t < lengths[b]`` to ``lengths[b] - 1 - t``; the
    mapping is its own inverse.
    """
    positions = torch.arange(max_length, device=lengths.device)[None, :]
    reversed_positions = lengths[:, None] - 1 - positions
    return torch.where(reversed_positions >= 0, reversed_positions, positions)


def reverse_within_lengths(sequences, index):
    """Reorder (batch, time, features) along time by a ``reversal_index``."""
    return sequences.gather(1, index[:, :, None].expand_as(sequences))


def real_token_mask(lengths, max_length):
    """Boolean mask of shape (batch, max_length), True on real tokens."""
    positions = torch.arange(max_length, device=lengths.device)
    return positions[None, :] < lengths[:, None]


def masked_mean(states, mask):
    mask = mask.unsqueeze(-1).to(states.dtype)
    return (states * mask).sum(dim=1) / mask.sum(dim=1)


def masked_max(states, mask):
    return states.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(dim=1)
