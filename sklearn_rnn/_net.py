"""The skorch net that trains :class:`~sklearn_rnn.modules.RNNModule`."""

import importlib
import math
from collections.abc import Mapping
from contextlib import nullcontext

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping, GradientNormClipping, LRScheduler
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator
from torch.utils.data import Dataset

from ._device import PRECISIONS
from ._early_stopping import ValidLossScoring
from ._epoch_log import EpochLog
from .batching import BatchIterator, EncodedTexts, prediction_batches
from .modules import RNNModule

# With bag_of_words, the token weights learn this many times faster than the
# rest of the network: a token's weights get a gradient only from the batches
# that hold it, so at the shared rate rare tokens barely move
# (benchmarks/bench_accuracy.py --bag-lr-factor 1 measures the alternative).
BAG_LR_FACTOR = 10
# A training batch whose mean cross-entropy exceeds this many times that of a
# uniform guess, log(n_classes), has diverged: training starts near log(n)
# and lowers it, and a loss of 100 log(n) means the right class gets a
# probability of n**-100 on average, which no network that is learning
# assigns to the texts it learns from.
DIVERGED_LOSS_FACTOR = 100
# No weight of a network that trains sanely comes near this: weights start
# below 1 and Adam moves each by about lr a step. Beyond it a network has
# exploded even where its loss still looks finite, and in float32 a step of
# 1e-3 no longer changes the weight at all.
DIVERGED_WEIGHT = 1e6


class RNNNet(NeuralNetClassifier):
    """A skorch classifier net that reads the batches of ``BatchIterator``.

    Each batch's inputs are a dict of token ids, lengths and optional sample
    weights; the ids are copied to the device without blocking (from pinned
    memory on a GPU). The criterion must be built with ``reduction="none"`` so
    that per-sample weights can be applied.

    Parameters
    ----------
    precision : {"float32", "bf16", "fp16"}, default="float32"
        Run the module under ``torch.autocast`` in that precision (under
        bfloat16, :class:`RNNModule` keeps its recurrent layers in float32);
        the weights, the loss and the logits :meth:`infer` returns stay in
        float32. ``"fp16"`` scales the loss with a ``torch.amp.GradScaler`` so
        that small gradients do not underflow; an exception in the middle of
        a step leaves a scaler that can step again.
    *args, **kwargs
        As for :class:`skorch.NeuralNetClassifier`.
    """

    def __init__(
        self, *args, precision="float32", bag_lr_factor=BAG_LR_FACTOR, **kwargs
    ):
        # per-text losses, which sample weights multiply before the mean
        kwargs.setdefault("criterion", torch.nn.CrossEntropyLoss)
        kwargs.setdefault("criterion__reduction", "none")
        # On its own, the net must batch EncodedTexts with our iterator: the
        # default DataLoader cannot stack rows trimmed to their own lengths.
        kwargs.setdefault("iterator_train", BatchIterator)
        kwargs.setdefault("iterator_valid", BatchIterator)
        if kwargs["iterator_train"] is BatchIterator:
            kwargs.setdefault("iterator_train__shuffle", True)
        super().__init__(*args, **kwargs)
        self.precision = precision
        self.bag_lr_factor = bag_lr_factor

    def get_params_for_optimizer(self, prefix, named_parameters):
        """skorch's optimizer arguments, with the bag of words' weights in a
        group of their own at ``bag_lr_factor`` times the rate.

        The network's group comes first, where the history's ``lr`` is read.
        """
        named = list(named_parameters)
        (groups,), kwargs = super().get_params_for_optimizer(prefix, iter(named))
        bag = [weight for name, weight in named if name.split(".")[0] == "bag"]
        if prefix != "optimizer" or len(groups) != 1 or not bag:
            return (groups,), kwargs
        rest = [weight for name, weight in named if name.split(".")[0] != "bag"]
        rate = kwargs.get("lr", self.lr) * self.bag_lr_factor
        return ([{"params": rest}, {"params": bag, "lr": rate}],), kwargs

    @property
    def _default_callbacks(self):
        replaced = {"print_log": EpochLog(), "valid_loss": ValidLossScoring()}
        return [
            (name, replaced.get(name, callback))
            for name, callback in super()._default_callbacks
        ]

    def initialize(self):
        self.grad_scaler_ = None
        self.interrupted_ = False
        self.epoch_weights_ = None
        self.valid_text_losses_ = []
        return super().initialize()

    def initialize_callbacks(self):
        """skorch's callbacks, with early stopping moved after the epoch log.

        skorch puts its epoch log after every other callback, and early
        stopping ends training by raising at the end of the epoch that
        exhausts its patience: that epoch's row would never be printed, and
        the table would show one epoch less than ``n_epochs_`` counts.
        """
        super().initialize_callbacks()
        # stable: every other callback keeps its place
        self.callbacks_.sort(key=lambda item: isinstance(item[1], EarlyStopping))
        return self

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # skorch swallows KeyboardInterrupt and returns as if training had
        # ended; remember that it happened so the estimator can say so. Its
        # EarlyStopping stops training by raising one too: that is no
        # interrupt.
        self.interrupted_ = False
        self.epoch_weights_ = None
        # what the epoch log counts towards
        self.planned_epochs_ = self.max_epochs if epochs is None else epochs
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            self.interrupted_ = not self._stopped_early()
            raise

    def _stopped_early(self):
        return any(
            isinstance(callback, EarlyStopping)
            and callback.misses_ >= callback.patience
            for _, callback in self.callbacks_
        )

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        """Stop training on a non-finite or exploding batch loss.

        Read from the history, where skorch has already put the loss as a
        number: the check waits for nothing more. The step it follows has
        already changed the weights; the estimator rolls them back.
        """
        if not training:
            return
        self._count_correct(batch, kwargs.get("y_pred"))
        loss = self.history[-1, "batches", -1, "train_loss"]
        if isinstance(batch, tuple | list) and isinstance(batch[0], Mapping):
            weights = batch[0].get("sample_weight")
            if weights is not None:
                # per weighted text, whatever the weights' scale: heavy texts
                # in a batch are no divergence. The batch's own weights, still
                # on the host: no device read.
                mean_weight = float(weights.numpy().mean())
                if mean_weight == 0:
                    return
                loss = loss / mean_weight
        n_classes = unwrapped(self.module_).head.out_features
        limit = DIVERGED_LOSS_FACTOR * math.log(n_classes)
        if not math.isfinite(loss):
            self._diverged(f"the loss became {loss}")
        if loss > limit:
            self._diverged(
                f"the loss reached {loss:.4g}, over {DIVERGED_LOSS_FACTOR} times "
                f"that of a uniform guess ({limit:.4g})"
            )

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train, dataset_valid, **kwargs)
        self.train_correct_, self.train_seen_ = None, 0
        self.valid_text_losses_ = []

    def _count_correct(self, batch, logits):
        """Add a training batch's correct predictions to the epoch's count,
        from the logits its step computed (with dropout, as it trained)."""
        if logits is None or not isinstance(batch, tuple | list):
            return
        targets = batch[1]
        if targets is None:
            return
        targets = targets.to(logits.device, non_blocking=True)
        correct = (logits.argmax(dim=1) == targets).sum()
        # kept on the device: read once an epoch, not once a batch
        previous = self.train_correct_
        self.train_correct_ = correct if previous is None else previous + correct
        self.train_seen_ += len(targets)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Record the training accuracy; check the weights, and keep them for
        an interrupt.

        Checked once an epoch: a non-finite gradient or step leaves
        non-finite weights, which also turn the next batches' losses
        non-finite; a weight past ``DIVERGED_WEIGHT`` has exploded.
        """
        if self.train_seen_:
            accuracy = int(self.train_correct_) / self.train_seen_
            self.history.record("train_acc", accuracy)
        self._check_weights()
        self.epoch_weights_ = (
            len(self.history),
            {
                name: w.detach().clone()
                for name, w in unwrapped(self.module_).state_dict().items()
            },
        )

    def roll_back_to_last_completed_epoch(self, n_rows_before, best_restored):
        """After an interrupt, go back to the end of the last completed epoch.

        Returns False when no epoch after the history's first
        ``n_rows_before`` rows was completed. With ``best_restored`` (early
        stopping), skorch has already restored the best epoch's weights and
        only the history is cut.
        """
        if self.epoch_weights_ is None or self.epoch_weights_[0] <= n_rows_before:
            return False
        n_rows, weights = self.epoch_weights_
        del self.history[n_rows:]
        if not best_restored:
            self.module_.load_state_dict(weights)
        return True

    def forget_training_data(self):
        """Drop what the net holds only for training, so pickles stay small."""
        self.train_split = None
        self.epoch_weights_ = None
        self.valid_text_losses_ = []
        for _, callback in self.callbacks_:
            if isinstance(callback, EarlyStopping):
                callback.best_model_weights_ = None
            elif isinstance(callback, LRScheduler):
                # The schedule holds the optimizer, which skorch pickles apart
                # from optimizer_: a second copy of its state. A continued fit
                # builds a new schedule anyway.
                callback.lr_scheduler_ = None

    def _check_weights(self):
        named = [
            (name, weight)
            for name, weight in unwrapped(self.module_).named_parameters()
            if weight.numel()
        ]
        with torch.no_grad():
            largest = torch.stack(
                [
                    torch.linalg.vector_norm(w.detach().float(), math.inf)
                    for _, w in named
                ]
            ).tolist()
        for (name, _), value in zip(named, largest, strict=True):
            if not value <= DIVERGED_WEIGHT:
                what = (
                    "became non-finite"
                    if not math.isfinite(value)
                    else (f"reached {value:.3g}, past {DIVERGED_WEIGHT:g}")
                )
                self._diverged(f"the weights {name!r} {what}")

    def _diverged(self, what):
        raise FloatingPointError(
            f"Training diverged: {what} in epoch {len(self.history)}. Lower the "
            f"learning rate (lr={self.lr}), keep gradient clipping on "
            "(clip_grad_norm), or check the sample weights. The estimator was "
            "left as it was before this fit."
        )

    def get_dataset(self, X, y=None):
        """Wrap token ids (and targets) so the net can be used on its own."""
        if isinstance(X, Dataset):
            return X
        return EncodedTexts(X, y)

    def infer(self, x, **fit_params):
        """The module's logits, in float32 whatever the autocast.

        skorch's scoring and the estimator's probabilities read them with
        numpy, which has no bfloat16.
        """
        on_device = {
            name: x[name].to(self.device, non_blocking=True)
            for name in ("ids", "bag_ids", "bag_counts")
            if name in x
        }
        with self._autocast():
            logits = self.module_(lengths=x["lengths"], **on_device, **fit_params)
        return logits.float()

    def logits_ids(self, ids, counts=None):
        """The network's logits for right-padded token ids, in float64.

        ``counts``, whole-text token counts, feed the bag of words when
        given. Texts are predicted in batches of similar lengths.
        """
        n_classes = unwrapped(self.module_).head.out_features
        logits = np.empty((len(ids), n_classes), dtype=np.float64)
        with torch.inference_mode():
            for index, inputs in self._inference_batches(ids, counts):
                logits[index.numpy()] = self.infer(inputs).double().cpu().numpy()
        return logits

    def attention_weights_ids(self, ids):
        """Each text's attention weights over its real tokens, as arrays."""
        module = unwrapped(self.module_)
        if module.pooling != "attention":
            raise ValueError(
                "attention_weights needs a model fitted with pooling='attention'; "
                f"this one pools with {module.pooling!r}."
            )
        weights = [None] * len(ids)
        with torch.inference_mode():
            for index, inputs in self._inference_batches(ids):
                with self._autocast():
                    batch_weights = module.attention_weights(
                        inputs["ids"].to(self.device), inputs["lengths"]
                    )
                batch_weights = batch_weights.float().cpu().numpy()
                for row, (position, length) in enumerate(
                    zip(index.tolist(), inputs["lengths"].tolist(), strict=True)
                ):
                    weights[position] = batch_weights[row, :length]
        return weights

    def _inference_batches(self, ids, counts=None):
        """(index, inputs) over ``ids`` in length-sorted batches, the module
        in eval mode; callers run under ``torch.inference_mode()``."""
        data = EncodedTexts(ids, counts=counts)
        module = self.module_
        if module.training:  # eval() walks every submodule: skip it when done
            module.eval()
        for index in prediction_batches(data.lengths):
            yield index, data.batch(index)[0]

    def __setstate__(self, state):
        # nets pickled before the bag's rate was a net parameter had it as
        # this default, in a param group of their own
        state.setdefault("bag_lr_factor", BAG_LR_FACTOR)
        super().__setstate__(state)
        module = unwrapped(getattr(self, "module_", None))
        if isinstance(module, RNNModule):
            module.flatten_parameters()

    def move_to(self, device):
        """Move the fitted module, loss and optimizer state to ``device``.

        skorch's ``set_params(device=...)`` moves nothing once a net is
        initialized: this does, for a continued fit on another device.
        """
        module = unwrapped(self.module_)
        before = list(module.parameters())
        module.to(device)
        self.criterion_.to(device)
        # Between some devices (to and from "meta", say) .to() makes new
        # parameters: the optimizer must train those, not the old ones.
        moved = dict(zip(map(id, before), module.parameters(), strict=True))
        optimizer = self.optimizer_
        for group in optimizer.param_groups:
            group["params"] = [moved[id(p)] for p in group["params"]]
        states = {moved[id(p)]: state for p, state in optimizer.state.items()}
        optimizer.state.clear()
        optimizer.state.update(states)
        for state in states.values():
            for name, value in state.items():
                # Adam's step count stays where the optimizer keeps it
                if isinstance(value, torch.Tensor) and value.dim() > 0:
                    state[name] = value.to(device)
        self.device = device
        module.flatten_parameters()
        return self

    def get_loss(self, y_pred, y_true, X=None, training=False):
        targets = y_true.to(self.device, non_blocking=True)
        losses = self.criterion_(y_pred.float(), targets)
        if isinstance(X, Mapping) and "sample_weight" in X:
            losses = losses * X["sample_weight"].to(self.device, non_blocking=True)
        if not training:
            # each text's, for early stopping to judge an improvement by
            self.valid_text_losses_.append(losses.detach())
        return losses.mean()

    def train_step(self, batch, **fit_params):
        if self.precision != "fp16":
            return super().train_step(batch, **fit_params)
        # Loss scaling: backward on the scaled loss, unscale before the
        # callbacks see the gradients (clipping), and let the scaler skip
        # steps whose gradients overflowed.
        scaler = self._grad_scaler()
        self.optimizer_.zero_grad()
        self._set_training(True)
        inputs, targets = unpack_data(batch)
        try:
            y_pred = self.infer(inputs, **fit_params)
            loss = self.get_loss(y_pred, targets, X=inputs, training=True)
            scaler.scale(loss).backward()
            scaler.unscale_(self.optimizer_)
            self.notify(
                "on_grad_computed",
                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
            scaler.step(self.optimizer_)
            scaler.update()
        except BaseException:
            # A scaler stopped between unscale_ and update can neither be
            # pickled nor step again: start a new one at the same scale.
            self.grad_scaler_ = self._new_grad_scaler(scaler.state_dict())
            raise
        return {"loss": loss, "y_pred": y_pred}

    def _grad_scaler(self):
        if getattr(self, "grad_scaler_", None) is None:
            self.grad_scaler_ = self._new_grad_scaler()
        return self.grad_scaler_

    def _new_grad_scaler(self, state=None):
        scaler = torch.amp.GradScaler(torch.device(self.device).type)
        if state is not None:
            scaler.load_state_dict(state)
        return scaler

    def _autocast(self):
        dtype = PRECISIONS[self.precision].autocast_dtype
        # Mixed precision only on CUDA: a model trained so on a GPU and loaded
        # on a CPU-only machine runs in float32 there, as the CPU's recurrent
        # kernels have no reduced-precision path.
        if dtype is None or torch.device(self.device).type != "cuda":
            return nullcontext()
        return torch.autocast("cuda", dtype=dtype)


# Accelerated models pickled before these names moved to _distributed look
# them up here. Loaded when asked for, so that _net imports nothing above it
# at import time.
MOVED_TO_DISTRIBUTED = ("AcceleratedRNNNet", "print_on_main_process")


def __getattr__(name):
    if name not in MOVED_TO_DISTRIBUTED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    distributed = importlib.import_module("._distributed", __package__)
    return getattr(distributed, name)


def proba_from_logits(logits):
    """Class probabilities from the float64 logits of :meth:`RNNNet.logits_ids`."""
    return torch.from_numpy(logits).softmax(dim=1).numpy()


def unwrapped(module):
    """The module inside a DistributedDataParallel wrapper, or the module."""
    if isinstance(module, torch.nn.parallel.DistributedDataParallel):
        return module.module
    return module


def discard(*args, **kwargs):
    """A sink that prints nothing."""


class GradientClipping(GradientNormClipping):
    """skorch's gradient-norm clipping, through Accelerate's on accelerated nets.

    Accelerate's loss scaling (``precision="fp16"``) leaves the gradients
    scaled when the callbacks see them; its ``clip_grad_norm_`` unscales them
    first.
    """

    def on_grad_computed(self, net, named_parameters, **kwargs):
        accelerator = getattr(net, "accelerator", None)
        if accelerator is None or self.gradient_clip_value is None:
            return super().on_grad_computed(net, named_parameters, **kwargs)
        accelerator.clip_grad_norm_(
            [parameter for _, parameter in named_parameters],
            max_norm=self.gradient_clip_value,
            norm_type=self.gradient_clip_norm_type,
        )
