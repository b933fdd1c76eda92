"""Language-model pretraining of a network's embedding and recurrent layers.

Before the classifier sees a label, its embedding and recurrent layers learn
to read the texts as a language model: the forward direction predicts each
next token, the backward direction each previous one. The prediction heads
are thrown away afterwards; the classifier starts from the weights they
shaped. Each direction reads its own direction only (see
``RNNModule.language_model_states``), and padding is never a target.
"""

import math
import time

import torch
from torch import nn

from .batching import BatchIterator, EncodedTexts
from .modules import real_token_mask, reversal_index, reverse_within_lengths
from .text import UNKNOWN_ID

# The values of the estimators' pretrain parameter.
PRETRAINING = ("lm",)
# The language model predicts the lowest ids, the most frequent tokens of a
# TextVectorizer's vocabulary (it numbers them by frequency), and predicts
# the rarer ones as the unknown token, though it reads them as they are: of
# the tokens of 21,000 IMDB reviews cut at 128, the first 20,000 ids are
# 98.4% (benchmarks/bench_lm_softmax.py --texts 21000).
MAX_TARGETS = 20_000
# Adaptive softmax: the most frequent ids get a full softmax, the rarer ones
# smaller projections in two tails (Grave et al., 2017), so that a step costs
# a fraction of a softmax over every target. On those reviews the first 1,000
# ids are 81.6% of the tokens, the first 5,000 92.8%.
HEAD_SIZE = 1_000
TAIL_SIZE = 5_000
# Each tail's projection is this many times smaller than the one before.
TAIL_DIVISOR = 4.0


class LanguageModelHeads(nn.Module):
    """One adaptive softmax per direction over the ``n_targets`` most
    frequent ids, reading states of ``hidden_size``."""

    def __init__(self, hidden_size, n_targets, n_directions):
        super().__init__()
        self.n_targets = n_targets
        cutoffs = [size for size in (HEAD_SIZE, TAIL_SIZE) if size < n_targets]
        if not cutoffs:
            # AdaptiveLogSoftmaxWithLoss needs a tail: a tiny vocabulary's
            # has its last id alone
            cutoffs = [n_targets - 1]
        # each tail projects the states to hidden_size // div_value**k
        # numbers: at least one, or the tail's ids would be predicted from
        # its bias alone (just below the root, which rounding could push over)
        largest = hidden_size ** (1 / len(cutoffs)) * (1 - 1e-9)
        div_value = max(min(TAIL_DIVISOR, largest), 1.0)
        self.directions = nn.ModuleList(
            nn.AdaptiveLogSoftmaxWithLoss(
                hidden_size, n_targets, cutoffs, div_value=div_value
            )
            for _ in range(n_directions)
        )

    def loss(self, module, ids, lengths):
        """The summed negative log-likelihood, in nats, of each real token
        from the ones before it (forward) and after it (backward), and the
        number of tokens predicted; ``(None, 0)`` when there are none (texts
        of one token)."""
        lengths = lengths.to(ids.device, torch.int64).clamp(min=1)
        width = ids.shape[1]
        # position t predicts the token at t + 1, which exists for t < length - 1
        predicting = real_token_mask(lengths - 1, width - 1)
        count = int(predicting.sum()) * len(self.directions)
        if count == 0:
            return None, 0
        states = module.language_model_states(ids, lengths)
        targets = torch.where(
            ids < self.n_targets, ids, torch.full_like(ids, UNKNOWN_ID)
        )
        sequences = [targets]
        if len(self.directions) == 2:
            reverse = reversal_index(lengths, width)
            sequences.append(
                reverse_within_lengths(targets.unsqueeze(2), reverse).squeeze(2)
            )
        total = 0.0
        for head, direction_states, sequence in zip(
            self.directions, states, sequences, strict=False
        ):
            output = head(
                direction_states[:, :-1][predicting].float(),
                sequence[:, 1:][predicting],
            ).output
            total = total - output.sum()
        return total, count


def pretrained_parameters(module):
    """The parameters pretraining trains, by name: those of the embedding
    (unless frozen) and of the recurrent layers."""
    return {
        name: weight
        for name, weight in module.named_parameters()
        if name.split(".")[0] in ("embedding", "layers") and weight.requires_grad
    }


def pretrain_language_model(
    module,
    ids,
    *,
    epochs,
    batch_size,
    lr,
    clip_grad_norm,
    device,
    seed,
    log=None,
):
    """Train ``module``'s embedding and recurrent layers as a language model.

    Parameters
    ----------
    module : RNNModule
        The network, on ``device``; its embedding and recurrent weights are
        trained in place, its head and bag of words are left alone.
    ids : ndarray of shape (n_texts, max_length)
        Right-padded token ids of the texts to read.
    epochs : int
        Passes over the texts.
    batch_size, lr, clip_grad_norm : int, float, float or None
        As for the classifier: texts per batch, Adam's rate and the largest
        gradient norm.
    device : str
        Where ``module`` is.
    seed : int
        Seeds the batch order (the caller seeds dropout).
    log : callable, optional
        Called with a line of text after each epoch.

    Returns
    -------
    losses : list of float
        The mean loss of each epoch, in nats per predicted token.
    """
    n_targets = min(int(module.embedding.num_embeddings), MAX_TARGETS)
    heads = LanguageModelHeads(module.hidden_size, n_targets, module.num_directions).to(
        device
    )
    trained = list(pretrained_parameters(module).values())
    optimizer = torch.optim.Adam([*trained, *heads.parameters()], lr=lr)
    batches = BatchIterator(EncodedTexts(ids), batch_size, shuffle=True, seed=seed)
    was_training = module.training
    module.train()
    losses = []
    try:
        for epoch in range(epochs):
            batches.seed = seed + epoch
            started, total, n_predicted = time.perf_counter(), 0.0, 0
            for inputs, _ in batches:
                summed, count = heads.loss(
                    module, inputs["ids"].to(device), inputs["lengths"]
                )
                if count == 0:
                    continue
                optimizer.zero_grad(set_to_none=True)
                (summed / count).backward()
                if clip_grad_norm is not None:
                    nn.utils.clip_grad_norm_(trained, clip_grad_norm)
                optimizer.step()
                total += float(summed.detach())
                n_predicted += count
            if n_predicted == 0:
                raise ValueError(
                    "pretrain='lm' has nothing to learn from: every text has a "
                    "single token, so no token has another to predict it from. "
                    "Fit without pretrain."
                )
            losses.append(total / n_predicted)
            if log is not None:
                log(
                    f"pretraining epoch {epoch + 1}/{epochs}: language-model loss "
                    f"{losses[-1]:.3f} (perplexity {_perplexity(losses[-1]):.0f}), "
                    f"{time.perf_counter() - started:.1f} s"
                )
    finally:
        module.train(was_training)
    return losses


def _perplexity(loss):
    return math.exp(min(loss, 700.0))
