"""The training engine behind the estimators: one fit, from validated settings
to the fitted attributes the estimator takes over.

A :class:`Trainer` is built for each call of ``fit`` or ``partial_fit`` from
the estimator's validated parameters, read-only, and its fitted attributes,
if any: the model a continued fit starts from. Its fit methods leave the new
fitted attributes on the trainer; the estimator takes them over in one step,
so that an error or an interrupt anywhere before leaves it as it was, never a
new vectorizer beside an old network. :class:`TextTrainer` adds what raw
texts need: the vectorizer, pretrained vectors and the whole-text bag of
words.
"""

import copy
from functools import partial
from types import MappingProxyType

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import EarlyStopping, LRScheduler, ProgressBar
from skorch.helper import predefined_split

from ._device import device_memory, resolve_device, seeded_generators
from ._distributed import (
    AcceleratedRNNNet,
    accelerate_device,
    check_batches_for_processes,
    detach_accelerator,
    make_accelerator,
    print_on_main_process,
    share_shuffles,
    shared_seed,
)
from ._inputs import (
    check_ids,
    check_labels,
    check_labels_present_and_comparable,
    check_sample_weight,
    check_texts,
    training_weights,
)
from ._net import BAG_LR_FACTOR as NET_BAG_LR_FACTOR
from ._net import GradientClipping, RNNNet, discard
from ._warnings import warn_user
from .batching import BatchIterator, EncodedTexts
from .embeddings import embedding_matrix
from .modules import RNNModule, count_weights
from .text import (
    TEXT_PARAMETERS,
    UNKNOWN_ID,
    TextVectorizer,
    encode,
    vocabulary_tokens,
)

# The fused (single-kernel) implementations take a fraction of the time of the
# default ones: an Adam step over a 50k-token embedding drops from about 48 ms
# to 9 ms on one CPU thread (benchmarks/bench_optimizer.py), which matters at a
# few ms of compute per batch. RMSprop has no fused kernel; its foreach one
# measured no faster than the default, and is kept as harmless.
OPTIMIZERS = {
    "adam": (torch.optim.Adam, {"fused": True}),
    "adamw": (torch.optim.AdamW, {"fused": True}),
    "sgd": (torch.optim.SGD, {"momentum": 0.9, "fused": True}),
    "rmsprop": (torch.optim.RMSprop, {"foreach": True}),
}


# Values each optimizer keeps per weight: Adam's two moments, SGD's momentum,
# RMSprop's running square.
OPTIMIZER_SLOTS = {"adam": 2, "adamw": 2, "sgd": 1, "rmsprop": 1}


HISTORY_KEYS = ("epoch", "train_loss", "valid_loss", "valid_acc", "lr", "dur")
LR_SCHEDULES = ("constant", "plateau", "cosine")
# With "auto", early stopping needs this many training samples: below it, a
# validation split is too small to judge epochs by.
AUTO_EARLY_STOPPING_MIN_SAMPLES = 1000
# "plateau" halves the learning rate once the loss has not improved for more
# than this many epochs in a row (two), leaving the default early stopping
# (n_iter_no_change=3) an epoch at the lower rate before it gives up.
PLATEAU_FACTOR = 0.5
PLATEAU_PATIENCE = 1
# The bag of words' rate as a multiple of lr; RNNNet's default, kept here so
# that bench_accuracy --bag-lr-factor can set it for one process.
BAG_LR_FACTOR = NET_BAG_LR_FACTOR


def _given_embeddings(matrix, random_state):
    """An embedding matrix given whole: every id has its row, and nothing is
    drawn (``random_state`` is there for the signature pretrained vectors
    need)."""
    return matrix, 1.0


class Trainer:
    """One fit of a recurrent classifier on token ids.

    Parameters
    ----------
    settings : mapping
        The estimator's validated parameters, as plain Python values; read
        here as attributes (``self.hidden_size``), never written.
    fitted : mapping, default=None
        The estimator's fitted attributes (``net_``, ``classes_``...), the
        model a continued fit starts from; None or empty for an unfitted
        estimator.
    """

    def __init__(self, settings, fitted=None):
        self.settings = MappingProxyType(dict(settings))
        for name, value in (fitted or {}).items():
            setattr(self, name, value)

    def __getattr__(self, name):
        # only for names not set on the trainer: the settings
        settings = self.__dict__.get("settings", {})
        if name in settings:
            return settings[name]
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r} (neither "
            "a setting nor a fitted attribute)"
        )

    def fitted_attributes(self):
        """The fitted attributes this trainer holds, for the estimator."""
        return {
            name: value
            for name, value in vars(self).items()
            if name.endswith("_") and not name.startswith("_")
        }

    def fit(self, X, y, sample_weight):
        """``RNNClassifier.fit``'s work: check the ids, targets and weights,
        then train."""
        return self._train_on_ids(X, y, None, sample_weight, incremental=False)

    def partial_fit(self, X, y, classes, sample_weight):
        """``RNNClassifier.partial_fit``'s work: one epoch on one chunk."""
        return self._train_on_ids(X, y, classes, sample_weight, incremental=True)

    def _train_on_ids(self, X, y, classes, sample_weight, incremental):
        ids, y, classes, sample_weight, device, accelerator, continuing = self._checked(
            X, y, classes, sample_weight, incremental, check_ids
        )
        ids, n_tokens, make_embeddings = self._id_space(ids, continuing)
        return self.fit_ids(
            ids,
            y,
            classes,
            sample_weight,
            n_tokens,
            device,
            make_embeddings,
            incremental=incremental,
            accelerator=accelerator,
        )

    def _checked(self, X, y, classes, sample_weight, incremental, check_data):
        """The checks every fit starts with, in the order that fails fastest.

        Returns the checked data, labels, classes and weights, the device and
        accelerator, and whether the fitted network is trained further
        (always in ``partial_fit``, with ``warm_start`` in ``fit``).
        """
        if incremental:
            continuing = hasattr(self, "net_")
        else:
            continuing = self._continues_training()
        # before any data is read
        device, accelerator = self.training_device(continuing)
        data = check_data(X)
        if incremental:
            y, classes, sample_weight = self._check_chunk_targets(
                y, len(data), classes, sample_weight
            )
        else:
            y, classes, sample_weight = self._check_targets(y, len(data), sample_weight)
        return data, y, classes, sample_weight, device, accelerator, continuing

    def _id_space(self, ids, continuing):
        """The ids as the network reads them, its number of ids, and how to
        make its initial embeddings.

        A new network has a row for every id of ``ids`` (or of
        ``embeddings``, when larger); a fitted one reads the ids beyond its
        own as the unknown token.
        """
        if continuing:
            return unknown_beyond(ids, self.n_tokens_), self.n_tokens_, None
        n_tokens = max(int(ids.max()) + 1, UNKNOWN_ID + 1)
        if self.embeddings is None:
            return ids, n_tokens, None
        matrix = self._check_embedding_matrix(n_tokens)
        return ids, len(matrix), partial(_given_embeddings, matrix)

    def _check_embedding_matrix(self, n_tokens):
        matrix = np.asarray(self.embeddings)
        if not (
            matrix.ndim == 2
            and np.issubdtype(matrix.dtype, np.number)
            and matrix.shape[1] == self.embedding_dim
            and matrix.shape[0] >= n_tokens
        ):
            raise ValueError(
                "embeddings must be an array of shape (n_ids, embedding_dim): one "
                f"row per token id, at least {n_tokens} rows for the ids in X, and "
                f"embedding_dim={self.embedding_dim} columns; got an array of "
                f"shape {matrix.shape} and dtype {matrix.dtype}."
            )
        if not np.all(np.isfinite(matrix)):
            raise ValueError("embeddings holds NaN or infinity.")
        return matrix.astype(np.float32)

    def training_device(self, continuing):
        """The device this fit trains on, and the accelerator with ``accelerate``.

        A continued fit moves the network there if it is elsewhere; see
        ``warm_start``. The device is checked against ``precision``.
        """
        if continuing:
            self._check_same_accelerate()
            self._check_continuable()
        if self.accelerate:
            if self.device != "auto":
                raise ValueError(
                    f"With accelerate=True, Accelerate chooses the device (from "
                    f"'accelerate launch' or 'accelerate config'); leave "
                    f"device='auto' rather than {self.device!r}."
                )
            device = accelerate_device()
        else:
            # a continued fit moves the network if device asks for another
            device = resolve_device(self.device)
        # before an accelerator exists: Accelerate fixes its precision for
        # the whole process
        _check_precision(self.precision, device)
        accelerator = make_accelerator(self.precision) if self.accelerate else None
        return device, accelerator

    def _check_same_accelerate(self):
        accelerated = isinstance(self.net_, AcceleratedRNNNet)
        if accelerated and not self.accelerate:
            raise ValueError(
                "This network was trained with Accelerate; continue training it "
                "with accelerate=True, or fit anew (warm_start=False)."
            )
        if self.accelerate and not accelerated:
            raise ValueError(
                "This network was built without Accelerate (trained with "
                "accelerate=False, or loaded by load_model, which builds a plain "
                "network); continue training it with accelerate=False, or fit "
                "anew (warm_start=False, or a new estimator for partial_fit)."
            )

    def _check_continuable(self):
        """Refuse parameters changed since the fit that continuing cannot apply.

        The network, its optimizer and (for texts) the vocabulary are kept:
        a changed size, cell, precision or tokenization would be silently
        ignored.
        """
        kept = {
            name: value
            for name, value in self._built_with().items()
            if getattr(self, name) != value
        }
        if kept:
            changes = ", ".join(
                f"{name}={getattr(self, name)!r} (fitted with {value!r})"
                for name, value in kept.items()
            )
            raise ValueError(
                f"warm_start=True continues the fitted network, which cannot take "
                f"the parameters changed since it was fitted: {changes}. Set them "
                "back to continue, or fit a new model (warm_start=False)."
            )

    def _built_with(self):
        """The fitted model's values of the parameters a continued fit keeps."""
        net = self.net_
        built = {name: getattr(net, f"module__{name}") for name in NETWORK_PARAMETERS}
        built["precision"] = net.precision
        built["optimizer"] = next(
            name
            for name, (optimizer, _) in OPTIMIZERS.items()
            if optimizer is net.optimizer
        )
        return built

    def fit_ids(
        self,
        ids,
        y,
        classes,
        sample_weight,
        n_tokens,
        device,
        make_embeddings=None,
        other_attributes=(),
        counts=None,
        incremental=False,
        accelerator=None,
    ):
        """Train the network on token ids and set the fitted attributes.

        ``make_embeddings``, given a ``RandomState``, returns initial
        embedding weights and the share of the vocabulary they cover.
        ``counts``, whole-text token counts, feed the bag of words when given.
        With ``incremental``, train one epoch, without early stopping or a
        learning-rate schedule, continuing the network if there is one.
        ``accelerator``, when given, trains through Accelerate.
        ``other_attributes`` are (name, value) pairs set along with the
        network's.
        A continued fit trains a copy of the fitted net, so that a failed or
        interrupted fit leaves the fitted one as it was.
        """
        y_index = np.searchsorted(classes, y)
        weights = training_weights(
            y, sample_weight, self.class_weight, classes, rescale=not incremental
        )
        continuing = self._continues_training() or (
            incremental and hasattr(self, "net_")
        )
        seed = shared_seed(_draw_seed(self.random_state), accelerator)
        if incremental and continuing:
            # each chunk shuffled anew, yet reproducibly
            seed = (seed + len(self.history_)) % np.iinfo(np.int32).max
        early_stopping = not incremental and self._uses_early_stopping(
            y_index, len(classes)
        )
        embeddings, coverage = None, None
        if make_embeddings is not None and not continuing:
            embeddings, coverage = make_embeddings(np.random.RandomState(seed))
        with seeded_generators(seed, device):
            train, valid = self._split(
                ids, counts, y_index, weights, len(classes), seed, early_stopping
            )
            if accelerator is not None:
                check_batches_for_processes(len(train), self.batch_size, accelerator)
            callbacks = self.callbacks(early_stopping, schedule=not incremental)
            run = (train, valid, callbacks, device, accelerator, seed, incremental)
            if continuing:
                net = self._train_continued(*run)
                coverage = getattr(self, "pretrained_coverage_", None)
            else:
                self._check_network_fits(n_tokens, len(classes), device)
                net = self._train_new(*run, n_tokens, len(classes), embeddings)
            if incremental:
                net.history.record("lr", net.optimizer_.param_groups[0]["lr"])
        previous = self.history_ if continuing else []
        n_rows_before = len(self.net_.history) if continuing else 0
        interrupted_in = _keep_result(net, previous, n_rows_before, early_stopping)
        for name, value in other_attributes:
            setattr(self, name, value)
        rows = net.history[n_rows_before:]
        self.set_fitted(
            net,
            classes,
            n_tokens,
            previous + _history_rows(rows, len(previous)),
            _best_epoch(rows, len(previous)) if early_stopping else None,
            coverage,
        )
        if interrupted_in is not None:
            raise InterruptedAfterEpochs(
                f"fit was interrupted in epoch {interrupted_in}; the estimator "
                f"is fitted with the weights of epoch "
                f"{self.best_epoch_ or self.n_epochs_}, and warm_start=True "
                "continues from there."
            )
        return self

    def _train_continued(
        self, train, valid, callbacks, device, accelerator, seed, incremental
    ):
        """Train a copy of the fitted net: the fitted one stays as it is until
        the estimator takes over the new one, whatever stops this fit."""
        net = copy.deepcopy(self.net_)
        if accelerator is None and torch.device(net.device) != torch.device(device):
            net.move_to(device)
        self._configure_continued_net(
            net, callbacks, valid, accelerator, seed, incremental
        )
        try:
            net.partial_fit(train, None, epochs=1 if incremental else self.max_epochs)
        finally:
            detach_accelerator(net)
        return net

    def _train_new(
        self,
        train,
        valid,
        callbacks,
        device,
        accelerator,
        seed,
        incremental,
        n_tokens,
        n_classes,
        embeddings,
    ):
        net = self.build_net(n_tokens, n_classes, device, valid, callbacks, accelerator)
        net.initialize()
        share_shuffles(net, accelerator, seed)
        if embeddings is not None:
            net.module_.set_embeddings(embeddings)
        try:
            net.partial_fit(train, None, epochs=1 if incremental else None)
        finally:
            detach_accelerator(net)
        return net

    def _configure_continued_net(
        self, net, callbacks, valid, accelerator, seed, incremental
    ):
        """Set up a fitted net to train on, with this fit's training settings."""
        self._set_training_rates(net, incremental)
        net.set_params(verbose=self.verbose)
        if accelerator is not None:
            net.attach(accelerator)
            # set_params refuses iterator parameters on an initialized net;
            # skorch reads them from these attributes
            for name, value in self._per_process_params(accelerator).items():
                setattr(net, name, value)
        net.callbacks = callbacks
        net.initialize_callbacks()
        net.train_split = _fixed_split(valid)
        net.batch_size = self.batch_size
        share_shuffles(net, accelerator, seed)

    def _set_training_rates(self, net, incremental):
        """The optimizer's rates and weight decay for a continued fit."""
        bag = net.module_.bag
        changed = net.lr != self.lr
        for group in net.optimizer_.param_groups:
            if changed:
                is_bag = bag is not None and any(
                    p is bag.weight for p in group["params"]
                )
                group["lr"] = group["initial_lr"] = self.lr * (
                    net.bag_lr_factor if is_bag else 1
                )
            elif incremental or self.lr_schedule == "cosine":
                # partial_fit trains at the initial rates; a cosine fit
                # anneals anew from them, not from ~0
                group["lr"] = group.get("initial_lr", group["lr"])
            group["weight_decay"] = self.weight_decay
        net.lr = self.lr
        net.optimizer__weight_decay = self.weight_decay

    def _check_network_fits(self, n_tokens, n_classes, device):
        """Refuse sizes whose training state cannot fit in the device's memory."""
        memory = device_memory(device)
        if memory is None:
            return

        def bytes_to_train(n_tokens):
            n_weights = count_weights(
                n_tokens,
                n_classes,
                embedding_dim=self.embedding_dim,
                hidden_size=self.hidden_size,
                num_layers=self.num_layers,
                cell=self.cell,
                bidirectional=self.bidirectional,
                pooling=self.pooling,
                bag_of_words=self.bag_of_words,
            )
            # float32 weights, their gradients, and the optimizer's state
            return 4 * n_weights * (2 + OPTIMIZER_SLOTS[self.optimizer]), n_weights

        needed, n_weights = bytes_to_train(n_tokens)
        if needed <= memory:
            return
        # the weights grow linearly with the id space
        fixed, _ = bytes_to_train(0)
        per_token = bytes_to_train(1)[0] - fixed
        largest = (memory - fixed) // per_token - 1
        ids_room = (
            f"ids up to {largest:,} would fit"
            if largest > UNKNOWN_ID
            else "no id space fits"
        )
        raise ValueError(
            f"The network is too large to train: embedding_dim="
            f"{self.embedding_dim}, hidden_size={self.hidden_size} and "
            f"num_layers={self.num_layers} over an id space of {n_tokens:,} "
            f"tokens (ids 0 to {n_tokens - 1:,}) make {n_weights:.3g} weights, "
            f"whose training needs at least {needed / 2**30:,.4g} GiB (weights, "
            f"gradients and {self.optimizer} state), more than the "
            f"{memory / 2**30:,.4g} GiB of device {device!r}; at these sizes "
            f"{ids_room}. Lower the sizes, max_features or the token ids."
        )

    def set_fitted(self, net, classes, n_tokens, history, best_epoch, coverage):
        """Set the network's fitted attributes, all in one place."""
        self.net_ = net
        self.classes_ = classes
        self.n_tokens_ = n_tokens
        self.history_ = history
        self.n_epochs_ = len(history)
        self.best_epoch_ = best_epoch
        self.pretrained_coverage_ = coverage

    def _uses_early_stopping(self, y_index, n_classes):
        """Whether this fit stops early.

        ``"auto"`` needs enough samples, and a stratified split that keeps
        every class on both sides; without one it trains without stopping
        early, where ``True`` would be an error.
        """
        if self.early_stopping != "auto":
            return bool(self.early_stopping)
        n_samples = len(y_index)
        n_valid = self._n_validation(n_samples)
        return (
            n_samples >= AUTO_EARLY_STOPPING_MIN_SAMPLES
            and min(n_valid, n_samples - n_valid) >= n_classes
            and np.bincount(y_index, minlength=n_classes).min() >= 2
        )

    def _n_validation(self, n_samples):
        return int(np.ceil(self.validation_fraction * n_samples))

    def _continues_training(self):
        return self.warm_start and hasattr(self, "net_")

    def _split(self, ids, counts, y_index, weights, n_classes, seed, early_stopping):
        if not early_stopping:
            return EncodedTexts(ids, y_index, weights, counts), None
        n_valid = self._n_validation(len(y_index))
        if n_valid < n_classes or len(y_index) - n_valid < n_classes:
            raise ValueError(
                f"early_stopping needs a validation split of "
                f"validation_fraction={self.validation_fraction} that holds every "
                f"one of the {n_classes} classes, and a training part that does "
                f"too; with {len(y_index)} samples the split has {n_valid} "
                "validation samples. Use more data, a larger validation_fraction "
                "or early_stopping=False."
            )
        try:
            train_index, valid_index = train_test_split(
                np.arange(len(y_index)),
                test_size=n_valid,
                stratify=y_index,
                random_state=np.random.RandomState(seed),
            )
        except ValueError as error:
            raise ValueError(
                "early_stopping could not make a stratified validation split "
                f"(validation_fraction={self.validation_fraction}): {error}"
            ) from None
        return tuple(
            EncodedTexts(
                ids[index],
                y_index[index],
                None if weights is None else weights[index],
                None if counts is None else counts[index],
            )
            for index in (train_index, valid_index)
        )

    def build_net(
        self, n_tokens, n_classes, device, valid, callbacks, accelerator=None
    ):
        optimizer, optimizer_defaults = OPTIMIZERS[self.optimizer]
        optimizer_params = {
            f"optimizer__{name}": value for name, value in optimizer_defaults.items()
        }
        pin_memory = device.startswith("cuda")
        net_class, precision, accelerate_params = RNNNet, self.precision, {}
        if accelerator is not None:
            # Accelerate runs the mixed precision itself.
            net_class, precision = AcceleratedRNNNet, "float32"
            accelerate_params = {
                "accelerator": accelerator,
                # unwrapped by detach_accelerator, after early stopping
                "unwrap_after_train": False,
                **self._per_process_params(accelerator),
            }
        return net_class(
            module=RNNModule,
            module__n_tokens=n_tokens,
            module__n_classes=n_classes,
            module__embedding_dim=self.embedding_dim,
            module__hidden_size=self.hidden_size,
            module__num_layers=self.num_layers,
            module__cell=self.cell,
            module__bidirectional=self.bidirectional,
            module__dropout=self.dropout,
            module__embedding_dropout=self.embedding_dropout,
            module__freeze_embeddings=self.freeze_embeddings,
            module__pooling=self.pooling,
            module__bag_of_words=self.bag_of_words,
            optimizer=optimizer,
            lr=self.lr,
            optimizer__weight_decay=self.weight_decay,
            bag_lr_factor=BAG_LR_FACTOR,
            **optimizer_params,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            iterator_train=BatchIterator,
            iterator_train__shuffle=True,
            iterator_train__pin_memory=pin_memory,
            iterator_valid=BatchIterator,
            iterator_valid__pin_memory=pin_memory,
            train_split=_fixed_split(valid),
            classes=list(range(n_classes)),
            callbacks=callbacks,
            device=device,
            precision=precision,
            verbose=self.verbose,
            **accelerate_params,
        )

    def _per_process_params(self, accelerator):
        """Net parameters that depend on this process of a distributed fit.

        Each process trains on its shard of the batches, and only the main
        one prints the epoch log (AccelerateMixin's own sink would print
        whatever ``verbose`` says).
        """
        return {
            "iterator_train__num_shards": accelerator.num_processes,
            "iterator_train__shard_index": accelerator.process_index,
            "callbacks__print_log__sink": (
                print_on_main_process if self.verbose else discard
            ),
        }

    def callbacks(self, early_stopping, schedule=True):
        callbacks = []
        if self.clip_grad_norm is not None:
            callbacks.append(
                ("gradient_clipping", GradientClipping(self.clip_grad_norm))
            )
        monitor = "valid_loss" if early_stopping else "train_loss"
        if schedule and self.lr_schedule != "constant":
            callbacks.append(("lr_schedule", self._lr_scheduler(monitor)))
        if self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        if early_stopping:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor=monitor,
                        patience=self.n_iter_no_change,
                        load_best=True,
                        sink=print if self.verbose else discard,
                    ),
                )
            )
        return callbacks

    def _lr_scheduler(self, monitor):
        if self.lr_schedule == "plateau":
            return LRScheduler(
                policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
                monitor=monitor,
                event_name="lr",
                factor=PLATEAU_FACTOR,
                patience=PLATEAU_PATIENCE,
            )
        return LRScheduler(
            policy=torch.optim.lr_scheduler.CosineAnnealingLR,
            event_name="lr",
            T_max=self.max_epochs,
            # a continued fit anneals anew from the initial rate
            last_epoch=-1,
        )

    def _check_targets(self, y, n_samples, sample_weight):
        """Validate ``y`` and ``sample_weight``; return them and the classes."""
        y = check_labels(y, n_samples)
        if self._continues_training():
            classes = self.classes_
            unseen = np.setdiff1d(y, classes)
            if unseen.size:
                raise ValueError(
                    f"warm_start=True continues a fit made with classes "
                    f"{classes.tolist()}, but y holds new labels {unseen.tolist()}."
                )
        else:
            classes = np.unique(y)
            if len(classes) < 2:
                raise ValueError(
                    f"y holds a single class ({classes[0]!r}); a classifier needs "
                    "at least 2 classes."
                )
        return y, classes, check_sample_weight(sample_weight, n_samples)

    def _check_chunk_targets(self, y, n_samples, classes, sample_weight):
        """Validate a chunk's ``y`` for ``partial_fit``; return the classes."""
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' needs the labels of all the data, which "
                "partial_fit never sees at once. Compute the weights beforehand, "
                "e.g. with sklearn.utils.class_weight.compute_class_weight, and "
                "pass them as a dict."
            )
        if classes is None:
            if not hasattr(self, "classes_"):
                raise ValueError(
                    "classes must be given in the first call to partial_fit: "
                    "every label of the whole data, as a chunk may lack some."
                )
            classes = self.classes_
        else:
            # looked at as given: numpy would turn ["neg", 1] into strings
            check_labels_present_and_comparable(
                np.asarray(classes, dtype=object).ravel(), "classes"
            )
            given = np.asarray(classes)
            check_labels_present_and_comparable(given.ravel(), "classes")
            check_classification_targets(given)
            classes = np.unique(given)
            if len(classes) < 2:
                raise ValueError(
                    f"classes holds {len(classes)} label(s); a classifier needs at "
                    "least 2 classes."
                )
            if hasattr(self, "classes_") and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"classes={classes.tolist()} differs from the classes "
                    f"{self.classes_.tolist()} the model was trained with."
                )
        y = check_labels(y, n_samples)
        unknown = np.setdiff1d(y, classes)
        if unknown.size:
            raise ValueError(
                f"y holds labels that are not in classes {classes.tolist()}: "
                f"{unknown.tolist()}."
            )
        return y, classes, check_sample_weight(sample_weight, n_samples)


class TextTrainer(Trainer):
    """One fit of a recurrent classifier on raw texts: vectorizer, pretrained
    vectors and the whole-text bag of words on top of :class:`Trainer`."""

    def fit(self, X, y, sample_weight):
        """``RNNTextClassifier.fit``'s work: texts, targets and weights checked,
        the vectorizer fitted (or the fitted one read), then training."""
        checked = self._checked(X, y, None, sample_weight, False, check_texts)
        return self._fit_texts(*checked)

    def partial_fit(self, X, y, classes, sample_weight):
        """``RNNTextClassifier.partial_fit``'s work: one epoch on one chunk."""
        checked = self._checked(X, y, classes, sample_weight, True, check_texts)
        return self._fit_texts(*checked, incremental=True)

    def _fit_texts(
        self,
        texts,
        y,
        classes,
        sample_weight,
        device,
        accelerator,
        continuing,
        incremental=False,
    ):
        vectorizer = self.vectorizer_ if continuing else self.new_vectorizer()
        with_counts = self._reads_whole_texts() if continuing else self.bag_of_words
        ids, counts = encode(vectorizer, texts, fit=not continuing, counts=with_counts)
        if continuing:
            n_tokens = self.n_tokens_
        else:
            n_tokens = len(vectorizer.vocabulary_) + UNKNOWN_ID + 1
        make_embeddings = None
        if self.embeddings is not None:
            make_embeddings = partial(self._pretrained_embeddings, vectorizer)
        return self.fit_ids(
            ids,
            y,
            classes,
            sample_weight,
            n_tokens,
            device,
            make_embeddings,
            other_attributes=[("vectorizer_", vectorizer)],
            counts=counts,
            incremental=incremental,
            accelerator=accelerator,
        )

    def _built_with(self):
        return {
            **super()._built_with(),
            **{name: getattr(self.vectorizer_, name) for name in TEXT_PARAMETERS},
        }

    def _check_continuable(self):
        super()._check_continuable()
        if vocabulary_tokens(self.vocabulary) != vocabulary_tokens(
            self.vectorizer_.vocabulary
        ):
            raise ValueError(
                "warm_start=True continues the fitted network, which reads the "
                "vocabulary it was fitted with: vocabulary has changed since. Set "
                "it back to continue, or fit a new model (warm_start=False)."
            )
        if self.embeddings is not None and self.pretrained_coverage_ is None:
            warn_user(
                "embeddings only start a new network: this continued fit keeps "
                "the embeddings the network learnt without them. Fit a new model "
                "(warm_start=False) to start from the vectors.",
            )

    def _reads_whole_texts(self):
        """Whether the fitted network has a bag of words, fed whole texts."""
        return self.net_.module_.bag is not None

    def new_vectorizer(self):
        """An unfitted TextVectorizer with this estimator's text parameters."""
        vocabulary = self.vocabulary
        if isinstance(vocabulary, TextVectorizer):
            vocabulary = self._vocabulary_of(vocabulary)
        return TextVectorizer(
            **{name: getattr(self, name) for name in TEXT_PARAMETERS},
            vocabulary=vocabulary,
        )

    def _vocabulary_of(self, vectorizer):
        """The vocabulary of a fitted vectorizer that tokenizes as we do."""
        check_is_fitted(
            vectorizer,
            "vocabulary_",
            msg="vocabulary is a TextVectorizer that is not fitted; fit it first "
            "(it can read a generator over the whole data).",
        )
        differing = [
            f"{name}={getattr(vectorizer, name)!r} (this estimator: "
            f"{getattr(self, name)!r})"
            for name in TOKENIZING_PARAMETERS
            if getattr(vectorizer, name) != getattr(self, name)
        ]
        if differing:
            raise ValueError(
                "vocabulary is a TextVectorizer that tokenizes differently from "
                f"this estimator: {', '.join(differing)}. Its tokens would not "
                "be the ones looked up; set the same parameters on both."
            )
        return vectorizer.vocabulary_

    def _pretrained_embeddings(self, vectorizer, random_state):
        matrix, found = embedding_matrix(
            self.embeddings,
            vectorizer.vocabulary_,
            self.embedding_dim,
            self.lowercase,
            random_state,
        )
        if not found.any():
            warn_user(
                "None of the vocabulary's tokens has a pretrained vector in "
                "embeddings: every embedding starts at random. Check that the "
                "vectors' tokens are spelt as TextVectorizer's are (lowercase, "
                "token_pattern).",
            )
        return matrix, float(found.mean())


class InterruptedAfterEpochs(KeyboardInterrupt):
    """An interrupted fit that kept its completed epochs: the estimator is fitted."""


# Parameters that shape the network, as RNNModule takes them: fixed once
# fitted, so a continued fit cannot apply a change.
NETWORK_PARAMETERS = (
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
# The parameters that decide what a text's tokens are.
TOKENIZING_PARAMETERS = ("lowercase", "token_pattern", "tokenizer", "analyzer")


def _check_precision(precision, device):
    if precision != "float32" and torch.device(device).type != "cuda":
        raise ValueError(
            f"precision={precision!r} needs a CUDA device, but training would run "
            f"on {device!r}: PyTorch's CPU kernels for recurrent layers have no "
            "mixed precision. Use precision='float32' on the CPU."
        )


def text_inputs(vectorizer, net, texts):
    """The ids of ``texts`` for ``net``, with their whole-text counts when its
    bag of words reads them."""
    return encode(vectorizer, texts, counts=net.module_.bag is not None)


def unknown_beyond(ids, n_tokens):
    """Read ids the network has no embedding for as the unknown token."""
    return np.where(ids < n_tokens, ids, UNKNOWN_ID)


def _draw_seed(random_state):
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _fixed_split(valid):
    """A skorch ``train_split`` returning our own validation set, or None."""
    return None if valid is None else predefined_split(valid)


def _keep_result(net, previous, n_rows_before, early_stopping):
    """Forget the training data; after an interrupt, keep the completed
    epochs and return the number of the interrupted one, or give up."""
    interrupted_in = None
    if getattr(net, "interrupted_", False):
        # over all fits, counted before the unfinished epoch's row goes
        interrupted_in = len(previous) + len(net.history) - n_rows_before
        if not _roll_back_to_last_completed_epoch(net, n_rows_before, early_stopping):
            raise KeyboardInterrupt(
                f"fit was interrupted in epoch {interrupted_in}, before any "
                "epoch of this fit ended; the estimator is as it was."
            )
    _forget_training_data(net)
    return interrupted_in


def _history_rows(rows, n_earlier):
    """This fit's rows of the net's history, numbered after the earlier
    fits', which a loaded model keeps in ``history_`` only."""
    return [
        {**{key: row[key] for key in HISTORY_KEYS if key in row}, "epoch": epoch}
        for epoch, row in enumerate(rows, start=n_earlier + 1)
    ]


def _best_epoch(rows, n_earlier):
    """The number of the epoch early stopping kept, or None."""
    best = [
        epoch
        for epoch, row in enumerate(rows, start=n_earlier + 1)
        if row.get("valid_loss_best")
    ]
    return best[-1] if best else None


def _roll_back_to_last_completed_epoch(net, n_rows_before, early_stopping):
    """After an interrupt, go back to the end of the last completed epoch.

    Returns False when no epoch of this fit was completed. With early
    stopping, skorch has already restored the best epoch's weights.
    """
    if net.epoch_weights_ is None or net.epoch_weights_[0] <= n_rows_before:
        return False
    n_rows, weights = net.epoch_weights_
    del net.history[n_rows:]
    if not early_stopping:
        net.module_.load_state_dict(weights)
    return True


def _forget_training_data(net):
    """Drop what the net holds only for training, so pickles stay small."""
    net.train_split = None
    net.epoch_weights_ = None
    for _, callback in net.callbacks_:
        if isinstance(callback, EarlyStopping):
            callback.best_model_weights_ = None
        elif isinstance(callback, LRScheduler):
            # The schedule holds the optimizer, which skorch pickles apart from
            # net_.optimizer_: a second copy of its state. A continued fit
            # builds a new schedule anyway.
            callback.lr_scheduler_ = None
