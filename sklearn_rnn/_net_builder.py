"""The skorch net an estimator's parameters describe, and what it trains with.

One table turns the estimators' flat parameters into the module's and
skorch's (``NET_PARAMETERS``, read back by :func:`built_with` for the ones a
fitted net keeps); the fit and the model loader both build nets through
:func:`build_net`, so a loaded model is the network a fit would have made.
``settings`` is always the estimator's validated parameters, as a mapping of
plain Python values.
"""

import math

import torch
from skorch.callbacks import LRScheduler, ProgressBar
from skorch.helper import predefined_split

from ._device import device_memory
from ._distributed import AcceleratedRNNNet, print_on_main_process
from ._early_stopping import StopWithoutImprovement, last_improved_loss
from ._net import BAG_LR_FACTOR as NET_BAG_LR_FACTOR
from ._net import GradientClipping, RNNNet, discard
from .batching import BatchIterator
from .modules import RNNModule, count_weights
from .text import UNKNOWN_ID

# The fused (single-kernel) implementations take a fraction of the time of the
# default ones (benchmarks/bench_optimizer.py), which matters at a few ms of
# compute per batch. RMSprop has no fused kernel; its foreach one measured no
# faster than the default, and is kept as harmless.
OPTIMIZERS = {
    "adam": (torch.optim.Adam, {"fused": True}),
    "adamw": (torch.optim.AdamW, {"fused": True}),
    "sgd": (torch.optim.SGD, {"momentum": 0.9, "fused": True}),
    "rmsprop": (torch.optim.RMSprop, {"foreach": True}),
}
# Values each optimizer keeps per weight: Adam's two moments, SGD's momentum,
# RMSprop's running square.
OPTIMIZER_SLOTS = {"adam": 2, "adamw": 2, "sgd": 1, "rmsprop": 1}
# Our parameters that RNNModule takes under the same name (skorch's
# module__NAME): they shape the network, so they are fixed once it is fitted.
MODULE_PARAMETERS = (
    "embedding_dim",
    "hidden_size",
    "num_layers",
    "cell",
    "bidirectional",
    "dropout",
    "embedding_dropout",
    "freeze_embeddings",
    "pooling",
    "bag_of_words",
)
# Those of them that decide how many weights the module has.
SIZE_PARAMETERS = (
    "embedding_dim",
    "hidden_size",
    "num_layers",
    "cell",
    "bidirectional",
    "pooling",
    "bag_of_words",
)
# Our parameter -> the net's (skorch's, or RNNNet's own) parameter it sets.
NET_PARAMETERS = {
    **{name: f"module__{name}" for name in MODULE_PARAMETERS},
    "lr": "lr",
    "weight_decay": "optimizer__weight_decay",
    "batch_size": "batch_size",
    "max_epochs": "max_epochs",
    "precision": "precision",
    "verbose": "verbose",
}
LR_SCHEDULES = ("constant", "plateau", "cosine")
# "plateau" halves the learning rate after two epochs in a row without a lower
# training loss (ReduceLROnPlateau's patience: one). Under early stopping it waits
# one epoch less than early stopping does, so that the last epoch before
# stopping runs at the lower rate (waiting as long would halve the rate at the
# very epoch training stops), and counts as progress what early stopping does.
PLATEAU_FACTOR = 0.5
PLATEAU_PATIENCE = 1
# The bag of words' rate as a multiple of lr; RNNNet's default, kept here so
# that bench_accuracy --bag-lr-factor can set it for one process.
BAG_LR_FACTOR = NET_BAG_LR_FACTOR
# The bag's weights learn at the full factor when an epoch has at most this
# many batches (9,600 texts at the default batch size): a linear model must
# move far in few steps. With more batches an epoch moves it further anyway,
# and the full factor overshot: on SST-2's 67,000 phrases (950 batches) the
# bag at 10x lr ended a point below the one at 4x, while on IMDB's 25,000
# reviews both gave the same. The factor falls as the square root of the
# batches beyond these.
BAG_FULL_RATE_BATCHES = 150


def build_net(
    settings,
    n_tokens,
    n_classes,
    device,
    valid=None,
    callbacks=(),
    accelerator=None,
    n_train=None,
):
    """An uninitialized net for ``n_tokens`` ids and ``n_classes`` classes.

    ``valid`` is the validation set early stopping reads, or None;
    ``accelerator``, when given, makes the net train through Accelerate;
    ``n_train``, the number of texts it trains on, sets the bag of words'
    rate (see :func:`bag_lr_factor`).
    """
    optimizer, optimizer_defaults = OPTIMIZERS[settings["optimizer"]]
    pin_memory = device.startswith("cuda")
    params = {net_name: settings[name] for name, net_name in NET_PARAMETERS.items()}
    net_class, accelerate_params = RNNNet, {}
    if accelerator is not None:
        # Accelerate runs the mixed precision itself.
        net_class, params["precision"] = AcceleratedRNNNet, "float32"
        accelerate_params = {
            "accelerator": accelerator,
            # unwrapped by detach_accelerator, after early stopping
            "unwrap_after_train": False,
            **per_process_params(settings, accelerator),
        }
    return net_class(
        module=RNNModule,
        module__n_tokens=n_tokens,
        module__n_classes=n_classes,
        **params,
        optimizer=optimizer,
        bag_lr_factor=bag_lr_factor(n_train, settings["batch_size"]),
        **{f"optimizer__{name}": value for name, value in optimizer_defaults.items()},
        iterator_train=BatchIterator,
        iterator_train__shuffle=True,
        iterator_train__pin_memory=pin_memory,
        iterator_valid=BatchIterator,
        iterator_valid__pin_memory=pin_memory,
        train_split=fixed_split(valid),
        classes=list(range(n_classes)),
        callbacks=list(callbacks),
        device=device,
        **accelerate_params,
    )


def bag_lr_factor(n_train, batch_size):
    """The bag of words' rate over ``lr`` for an epoch of ``n_train`` texts:
    ``BAG_LR_FACTOR`` up to ``BAG_FULL_RATE_BATCHES`` batches, then less, as
    the square root of their ratio; ``BAG_LR_FACTOR`` when not told."""
    if n_train is None:
        return BAG_LR_FACTOR
    batches = max(math.ceil(n_train / batch_size), 1)
    return BAG_LR_FACTOR * min(1.0, math.sqrt(BAG_FULL_RATE_BATCHES / batches))


def built_with(net):
    """The values of the parameters a fitted ``net`` was built with and keeps:
    its module's, ``precision`` and ``optimizer``."""
    kept = (*MODULE_PARAMETERS, "precision")
    built = {name: getattr(net, NET_PARAMETERS[name]) for name in kept}
    built["optimizer"] = next(
        name
        for name, (optimizer, _) in OPTIMIZERS.items()
        if optimizer is net.optimizer
    )
    return built


def per_process_params(settings, accelerator):
    """Net parameters that depend on this process of a distributed fit.

    Each process trains on its shard of the batches, and only the main one
    prints the epoch log (AccelerateMixin's own sink would print whatever
    ``verbose`` says).
    """
    return {
        "iterator_train__num_shards": accelerator.num_processes,
        "iterator_train__shard_index": accelerator.process_index,
        "callbacks__print_log__sink": (
            print_on_main_process if settings["verbose"] else discard
        ),
    }


def fixed_split(valid):
    """A skorch ``train_split`` returning our own validation set, or None."""
    return None if valid is None else predefined_split(valid)


def training_callbacks(settings, early_stopping, schedule=True):
    """The callbacks of one fit: gradient clipping, the learning-rate schedule
    when ``schedule`` is true, a progress bar at ``verbose >= 2``, and early
    stopping."""
    callbacks = []
    if settings["clip_grad_norm"] is not None:
        clipping = GradientClipping(settings["clip_grad_norm"])
        callbacks.append(("gradient_clipping", clipping))
    monitor = "valid_loss" if early_stopping else "train_loss"
    if schedule and settings["lr_schedule"] != "constant":
        scheduler = _lr_scheduler(settings, monitor, early_stopping)
        callbacks.append(("lr_schedule", scheduler))
    if settings["verbose"] >= 2:
        callbacks.append(("progress_bar", ProgressBar()))
    if early_stopping:
        stopping = StopWithoutImprovement(
            monitor=monitor,
            patience=settings["n_iter_no_change"],
            load_best=True,
            sink=print if settings["verbose"] else discard,
        )
        callbacks.append(("early_stopping", stopping))
    return callbacks


def _lr_scheduler(settings, monitor, early_stopping):
    if settings["lr_schedule"] == "plateau":
        watched = {"monitor": monitor}
        if early_stopping:
            # progress is what early stopping calls an improvement and
            # nothing else: a lower loss within the noise would put the
            # halving off past the epoch training stops at
            watched = {"monitor": last_improved_loss, "threshold": 0.0}
        return LRScheduler(
            policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
            event_name="lr",
            factor=PLATEAU_FACTOR,
            patience=_plateau_patience(settings, early_stopping),
            **watched,
        )
    return LRScheduler(
        policy=torch.optim.lr_scheduler.CosineAnnealingLR,
        event_name="lr",
        T_max=settings["max_epochs"],
        # a continued fit anneals anew from the initial rate
        last_epoch=-1,
    )


def _plateau_patience(settings, early_stopping):
    """ReduceLROnPlateau's ``patience``: the rate halves after one epoch more
    than this without improvement."""
    if not early_stopping:
        return PLATEAU_PATIENCE
    return max(settings["n_iter_no_change"] - 2, 0)


def check_network_fits(settings, n_tokens, n_classes, device):
    """Refuse sizes whose training state cannot fit in the device's memory.

    Weights, gradients and the optimizer's state are counted, in float32; a
    device whose memory cannot be told refuses nothing.
    """
    memory = device_memory(device)
    if memory is None:
        return
    needed, n_weights = _bytes_to_train(settings, n_tokens, n_classes)
    if needed <= memory:
        return
    # the weights grow linearly with the id space
    fixed, _ = _bytes_to_train(settings, 0, n_classes)
    per_token = _bytes_to_train(settings, 1, n_classes)[0] - fixed
    largest = (memory - fixed) // per_token - 1
    ids_room = (
        f"ids up to {largest:,} would fit"
        if largest > UNKNOWN_ID
        else "no id space fits"
    )
    raise ValueError(
        f"The network is too large to train: embedding_dim="
        f"{settings['embedding_dim']}, hidden_size={settings['hidden_size']} and "
        f"num_layers={settings['num_layers']} over an id space of {n_tokens:,} "
        f"tokens (ids 0 to {n_tokens - 1:,}) make {n_weights:.3g} weights, "
        f"whose training needs at least {needed / 2**30:,.4g} GiB (weights, "
        f"gradients and {settings['optimizer']} state), more than the "
        f"{memory / 2**30:,.4g} GiB of device {device!r}; at these sizes "
        f"{ids_room}. Lower the sizes, max_features or the token ids."
    )


def _bytes_to_train(settings, n_tokens, n_classes):
    """Bytes of float32 weights, gradients and optimizer state, and the
    number of weights."""
    n_weights = count_weights(
        n_tokens,
        n_classes,
        **{name: settings[name] for name in SIZE_PARAMETERS},
    )
    return 4 * n_weights * (2 + OPTIMIZER_SLOTS[settings["optimizer"]]), n_weights
