"""The PyTorch network: embedding, recurrent core, pooling and linear head."""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .text import UNKNOWN_ID

RNN_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
POOLINGS = ("last", "mean", "max")


class RNNModule(nn.Module):
    """Embedding, recurrent layers, pooling over real tokens, and a linear head.

    Padding never enters the recurrence: sequences are packed by their lengths,
    and pooling looks at real tokens only, so adding padding to a batch changes
    no output.

    Parameters
    ----------
    n_tokens : int
        Size of the id space, padding (0) and unknown (1) included.
    n_classes : int
        Number of output logits.
    embedding_dim : int, default=100
        Size of the token embeddings.
    hidden_size : int, default=128
        Size of the recurrent state, per direction.
    num_layers : int, default=1
        Number of stacked recurrent layers.
    cell : {"rnn", "lstm", "gru"}, default="lstm"
        The recurrent layer: Elman RNN (tanh), LSTM or GRU.
    bidirectional : bool, default=True
        Also read each text from its end to its start.
    dropout : float, default=0.0
        Dropout between stacked recurrent layers and before the linear head.
    pooling : {"last", "mean", "max"}, default="max"
        How the states along a text become one vector: the final state
        (for a bidirectional network, the forward state at the last token
        joined with the backward state at the first token), or the mean or
        maximum of the states over the text's real tokens.
    """

    def __init__(
        self,
        n_tokens,
        n_classes,
        embedding_dim=100,
        hidden_size=128,
        num_layers=1,
        cell="lstm",
        bidirectional=True,
        dropout=0.0,
        pooling="max",
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}.")
        self.pooling = pooling
        self.num_directions = 2 if bidirectional else 1
        self.embedding = nn.Embedding(n_tokens, embedding_dim, padding_idx=0)
        with torch.no_grad():
            # The unknown token starts neutral: unless rare tokens were mapped
            # to it in training, it is never trained.
            self.embedding.weight[UNKNOWN_ID].zero_()
        self.rnn = RNN_CELLS[cell](
            embedding_dim,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            # PyTorch applies this dropout between layers only.
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * self.num_directions, n_classes)

    def forward(self, ids, lengths=None):
        """Return the logits of a batch.

        Parameters
        ----------
        ids : LongTensor of shape (batch, time)
            Right-padded token ids; 0 is padding.
        lengths : LongTensor of shape (batch,), optional
            Number of real tokens per row, on the CPU. Computed from ``ids``
            when not given. A row of padding only counts as one token.

        Returns
        -------
        logits : Tensor of shape (batch, n_classes)
        """
        if lengths is None:
            lengths = (ids != 0).sum(dim=1)
        lengths = lengths.to("cpu", torch.int64).clamp(min=1)
        embedded = self.embedding(ids)
        packed = pack_padded_sequence(
            embedded, lengths, batch_first=True, enforce_sorted=False
        )
        outputs, final_state = self.rnn(packed)
        if self.pooling == "last":
            if isinstance(final_state, tuple):  # LSTM: (h_n, c_n)
                final_state = final_state[0]
            pooled = last_layer_state(final_state, self.num_directions)
        else:
            states, _ = pad_packed_sequence(outputs, batch_first=True)
            mask = real_token_mask(lengths, states.shape[1], states.device)
            if self.pooling == "mean":
                pooled = masked_mean(states, mask)
            else:
                pooled = masked_max(states, mask)
        return self.head(self.dropout(pooled))


def last_layer_state(final_state, num_directions):
    """Join the final states of each direction of the top layer.

    For packed input, PyTorch's final forward state is the one at each text's
    last real token and the final backward state the one at its first token.
    """
    top_layer = final_state[-num_directions:]
    return torch.cat(list(top_layer), dim=1)


def real_token_mask(lengths, max_length, device):
    """Boolean mask of shape (batch, max_length), True on real tokens."""
    positions = torch.arange(max_length)
    return (positions[None, :] < lengths[:, None]).to(device, non_blocking=True)


def masked_mean(states, mask):
    mask = mask.unsqueeze(-1).to(states.dtype)
    return (states * mask).sum(dim=1) / mask.sum(dim=1)


def masked_max(states, mask):
    return states.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(dim=1)
