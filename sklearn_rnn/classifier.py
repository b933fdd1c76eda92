"""Recurrent text classifiers as scikit-learn estimators."""

import copy
from collections.abc import Mapping
from functools import partial
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import EarlyStopping, LRScheduler, ProgressBar
from skorch.helper import predefined_split

from ._device import (
    accelerate_device,
    device_memory,
    make_accelerator,
    resolve_device,
    seeded_generators,
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
from ._net import (
    PRECISIONS,
    AcceleratedRNNNet,
    GradientClipping,
    RNNNet,
    discard,
    print_on_main_process,
)
from ._param_validation import (
    BOOLEAN,
    RANDOM_STATE,
    InstanceOf,
    Interval,
    IsNone,
    Options,
    Satisfies,
    validate_params,
)
from ._warnings import warn_user
from .batching import BatchIterator, EncodedTexts, prediction_batches
from .embeddings import embedding_matrix, is_word_vectors
from .modules import POOLINGS, RNN_CELLS, RNNModule, count_weights
from .text import UNKNOWN_ID, UNKNOWN_TOKEN, TextVectorizer

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
# With bag_of_words, the token weights learn this many times faster than the
# rest of the network: a token's weights get a gradient only from the batches
# that hold it, so at the shared rate rare tokens barely move
# (benchmarks/bench_accuracy.py --bag-lr-factor 1 measures the alternative).
BAG_LR_FACTOR = 10


class _BaseRNNClassifier(ClassifierMixin, BaseEstimator):
    """Network and training parameters, and fitting on token ids."""

    _parameter_constraints = {
        "embedding_dim": [Interval(Integral, 1, None)],
        "hidden_size": [Interval(Integral, 1, None)],
        "num_layers": [Interval(Integral, 1, None)],
        "cell": [Options(*RNN_CELLS)],
        "bidirectional": [BOOLEAN],
        "dropout": [Interval(Real, 0, 1, "left")],
        "embedding_dropout": [Interval(Real, 0, 1, "left")],
        "pooling": [Options(*POOLINGS)],
        "bag_of_words": [BOOLEAN],
        "embeddings": [
            IsNone(),
            Satisfies(
                is_word_vectors,
                "a path to a word2vec or GloVe text file, a dict of token to "
                "vector, or gensim KeyedVectors",
            ),
        ],
        "freeze_embeddings": [BOOLEAN],
        "lr": [Interval(Real, 0, None, "neither")],
        "batch_size": [Interval(Integral, 1, None)],
        "max_epochs": [Interval(Integral, 1, None)],
        "optimizer": [Options(*OPTIMIZERS)],
        "weight_decay": [Interval(Real, 0, None, "left")],
        "clip_grad_norm": [Interval(Real, 0, None, "neither"), IsNone()],
        "lr_schedule": [Options(*LR_SCHEDULES)],
        "early_stopping": [Options("auto"), BOOLEAN],
        "validation_fraction": [Interval(Real, 0, 1, "neither")],
        "n_iter_no_change": [Interval(Integral, 1, None)],
        "class_weight": [
            Options("balanced"),
            InstanceOf(dict, "a dict of label to weight"),
            IsNone(),
        ],
        "device": [InstanceOf((str, torch.device), "'auto', 'cpu', 'cuda'")],
        "precision": [Options(*PRECISIONS)],
        "accelerate": [BOOLEAN],
        "random_state": list(RANDOM_STATE),
        "verbose": [Interval(Integral, 0, None), BOOLEAN],
        "warm_start": [BOOLEAN],
    }

    def __init__(
        self,
        *,
        embedding_dim=100,
        hidden_size=128,
        num_layers=1,
        cell="lstm",
        bidirectional=True,
        dropout=0.5,
        embedding_dropout=0.5,
        pooling="max",
        bag_of_words=True,
        embeddings=None,
        freeze_embeddings=False,
        lr=1e-3,
        batch_size=32,
        max_epochs=20,
        optimizer="adam",
        weight_decay=0.0,
        clip_grad_norm=5.0,
        lr_schedule="plateau",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=3,
        class_weight=None,
        device="auto",
        precision="float32",
        accelerate=False,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.cell = cell
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.embedding_dropout = embedding_dropout
        self.pooling = pooling
        self.bag_of_words = bag_of_words
        self.embeddings = embeddings
        self.freeze_embeddings = freeze_embeddings
        self.lr = lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.clip_grad_norm = clip_grad_norm
        self.lr_schedule = lr_schedule
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.device = device
        self.precision = precision
        self.accelerate = accelerate
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def _fit_on_copy(self, fit, *args):
        """Run ``fit`` on a copy of this estimator, then take its fitted state.

        The copy holds the parameters as validated plain values (numpy
        scalars turned into Python numbers), so training reads them in the
        form PyTorch takes, and the user's values are left as they were.
        Its fitted attributes are taken over in one step once ``fit``
        returns: an error or an interrupt anywhere before leaves this
        estimator as it was, never a new vectorizer beside an old network.
        An interrupted training that kept completed epochs is taken over too,
        as its ``KeyboardInterrupt`` says.
        """
        working = copy.copy(self)
        vars(working).update(validate_params(self, self._parameter_constraints))
        try:
            fit(working, *args)
        except _InterruptedAfterEpochs:
            self._take_fitted_state(working)
            raise
        self._take_fitted_state(working)
        return self

    def _take_fitted_state(self, working):
        vars(self).update(
            {
                name: value
                for name, value in vars(working).items()
                if name.endswith("_") and not name.startswith("_")
            }
        )

    def _training_device(self, continuing):
        """The device this fit trains on, and the accelerator with ``accelerate``.

        A continued fit moves the network there if it is elsewhere; see
        ``warm_start``. The device is checked against ``precision``.
        """
        if continuing:
            self._check_same_engine()
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

    def _check_same_engine(self):
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

    def _fit_ids(
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
                _check_batches_for_processes(len(train), self.batch_size, accelerator)
            callbacks = self._callbacks(early_stopping, schedule=not incremental)
            previous = self.history_ if continuing else []
            if continuing:
                # Trained on a copy: the fitted net stays as it is until the
                # estimator takes over the new one, whatever stops this fit.
                net = copy.deepcopy(self.net_)
                if accelerator is None and torch.device(net.device) != torch.device(
                    device
                ):
                    net.move_to(device)
                n_rows_before = len(net.history)
                coverage = getattr(self, "pretrained_coverage_", None)
                self._configure_continued_net(
                    net, callbacks, valid, accelerator, seed, incremental
                )
                try:
                    net.partial_fit(
                        train, None, epochs=1 if incremental else self.max_epochs
                    )
                finally:
                    _detach_accelerator(net)
            else:
                self._check_network_fits(n_tokens, len(classes), device)
                net = self._build_net(
                    n_tokens, len(classes), device, valid, callbacks, accelerator
                )
                n_rows_before = 0
                net.initialize()
                _share_shuffles(net, accelerator, seed)
                if embeddings is not None:
                    net.module_.set_embeddings(embeddings)
                try:
                    net.partial_fit(train, None, epochs=1 if incremental else None)
                finally:
                    _detach_accelerator(net)
            if incremental:
                net.history.record("lr", net.optimizer_.param_groups[0]["lr"])
        interrupted_in = None
        if getattr(net, "interrupted_", False):
            interrupted_in = len(previous) + len(net.history) - n_rows_before
            if not _keep_completed_epochs(net, n_rows_before, early_stopping):
                raise KeyboardInterrupt(
                    f"fit was interrupted in epoch {interrupted_in}, before any "
                    "epoch of this fit ended; the estimator is as it was."
                )
        _forget_training_data(net)
        for name, value in other_attributes:
            setattr(self, name, value)
        # This fit's epochs are numbered after the earlier ones, which a loaded
        # model keeps in history_ only, not in its net's history.
        rows = net.history[n_rows_before:]
        new = [
            {**{key: row[key] for key in HISTORY_KEYS if key in row}, "epoch": epoch}
            for epoch, row in enumerate(rows, start=len(previous) + 1)
        ]
        best = [
            row["epoch"]
            for row, raw in zip(new, rows, strict=True)
            if raw.get("valid_loss_best")
        ]
        best_epoch = best[-1] if early_stopping and best else None
        self._set_fitted(net, classes, n_tokens, previous + new, best_epoch, coverage)
        if interrupted_in is not None:
            kept = self.best_epoch_ or self.n_epochs_
            raise _InterruptedAfterEpochs(
                f"fit was interrupted in epoch {interrupted_in}; the estimator is "
                f"fitted with the weights of epoch {kept}, and warm_start=True "
                "continues from there."
            )
        return self

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
        _share_shuffles(net, accelerator, seed)

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
                    BAG_LR_FACTOR if is_bag else 1
                )
            elif incremental or self.lr_schedule == "cosine":
                # partial_fit trains at the initial rates; a cosine fit
                # anneals anew from them, not from ~0
                group["lr"] = group.get("initial_lr", group["lr"])
            group["weight_decay"] = self.weight_decay
        net.lr = self.lr
        net.optimizer__weight_decay = self.weight_decay

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

    def _set_fitted(self, net, classes, n_tokens, history, best_epoch, coverage):
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

    def _build_net(
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
                # unwrapped by _detach_accelerator, after early stopping
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
            criterion=torch.nn.CrossEntropyLoss,
            criterion__reduction="none",
            optimizer=optimizer,
            lr=self.lr,
            optimizer__weight_decay=self.weight_decay,
            optimizer__param_groups=[("bag.*", {"lr": self.lr * BAG_LR_FACTOR})],
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

    def _callbacks(self, early_stopping, schedule=True):
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

    def _inference_batches(self, ids, counts=None):
        """Yield (index, inputs) over ``ids`` in length-sorted batches.

        The module is put in eval mode; callers run under
        ``torch.inference_mode()``.
        """
        data = EncodedTexts(ids, counts=counts)
        module = self.net_.module_
        if module.training:  # eval() walks every submodule: skip it when done
            module.eval()
        for index in prediction_batches(data.lengths):
            yield index, data.batch(index)[0]

    def _predict_proba_ids(self, ids, counts=None):
        proba = np.empty((len(ids), len(self.classes_)), dtype=np.float64)
        with torch.inference_mode():
            for index, inputs in self._inference_batches(ids, counts):
                logits = self.net_.infer(inputs)
                proba[index.numpy()] = torch.softmax(logits.double(), 1).cpu().numpy()
        return proba

    def _attention_weights_ids(self, ids):
        module = self.net_.module_
        if module.pooling != "attention":
            raise ValueError(
                "attention_weights needs a model fitted with pooling='attention'; "
                f"this one pools with {module.pooling!r}."
            )
        weights = [None] * len(ids)
        with torch.inference_mode():
            for index, inputs in self._inference_batches(ids):
                with self.net_._autocast():
                    batch_weights = module.attention_weights(
                        inputs["ids"].to(self.net_.device), inputs["lengths"]
                    )
                batch_weights = batch_weights.float().cpu().numpy()
                for row, (position, length) in enumerate(
                    zip(index.tolist(), inputs["lengths"].tolist(), strict=True)
                ):
                    weights[position] = batch_weights[row, :length]
        return weights

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

    def _predict_from_proba(self, proba):
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


def _given_embeddings(matrix, random_state):
    return matrix, None


class RNNClassifier(_BaseRNNClassifier):
    """Recurrent neural network classifier on sequences of token ids.

    The id-level half of :class:`RNNTextClassifier`: it takes the output of
    :class:`~sklearn_rnn.TextVectorizer` (or any right-padded matrix of
    non-negative integer ids, 0 being padding), so that a ``Pipeline`` can tune
    both steps with nested parameters::

        Pipeline([("vec", TextVectorizer()), ("rnn", RNNClassifier())])

    Parameters
    ----------
    embedding_dim : int, default=100
        Size of the token embeddings.
    hidden_size : int, default=128
        Size of the recurrent state, per direction.
    num_layers : int, default=1
        Number of stacked recurrent layers.
    cell : {"lstm", "gru", "rnn"}, default="lstm"
        The recurrent layer: LSTM, GRU, or an Elman RNN with tanh.
    bidirectional : bool, default=True
        Also read each text backwards and join both readings.
    dropout : float in [0, 1), default=0.5
        Dropout between stacked recurrent layers and before the output layer.
    embedding_dropout : float in [0, 1), default=0.5
        Dropout on the token embeddings, before the first recurrent layer.
    pooling : {"max", "mean", "last", "attention"}, default="max"
        How the states along a text become one vector: their maximum or mean
        over the text's real tokens; the final state (the forward state at
        the last token joined, when bidirectional, with the backward state at
        the first token); or their average weighted by additive attention,
        whose weights :meth:`attention_weights` returns. Padding never takes
        part.
    bag_of_words : bool, default=True
        Add a linear model over the text's tokens to the network's output:
        each vocabulary token gets one learnt weight per class, and a text's
        weights are summed and divided by the square root of its length, as
        logistic regression reads a normalised bag of words. The recurrent
        network then learns what word counts miss. These weights learn at ten
        times ``lr``, since each token's weights move only on the batches
        that hold the token.
    embeddings : ndarray of shape (n_ids, embedding_dim) or None, default=None
        Initial embedding weights, row ``i`` for token id ``i``; it must have a
        row for every id in the training data. To build one from word vectors
        and a fitted :class:`~sklearn_rnn.TextVectorizer`, or to have it done
        for you, use :class:`RNNTextClassifier`. Rows 0 and 1 (padding and
        unknown) are set to zero.
    freeze_embeddings : bool, default=False
        Keep the embeddings fixed during training.
    lr : float, default=1e-3
        Learning rate.
    batch_size : int, default=32
        Texts per training batch.
    max_epochs : int, default=20
        Passes over the training data (fewer with early stopping).
    optimizer : {"adam", "adamw", "sgd", "rmsprop"}, default="adam"
        The optimizer; ``"sgd"`` uses momentum 0.9.
    weight_decay : float, default=0.0
        L2 penalty (decoupled for ``"adamw"``).
    clip_grad_norm : float or None, default=5.0
        Rescale gradients whose global norm exceeds this; None disables it.
    lr_schedule : {"plateau", "cosine", "constant"}, default="plateau"
        How the learning rate changes between epochs: ``"plateau"`` halves it
        after two epochs in a row without a lower loss (the validation loss
        with early stopping, the training loss without); ``"cosine"`` anneals it to 0
        over ``max_epochs``; ``"constant"`` keeps it.
    early_stopping : "auto" or bool, default="auto"
        Hold out ``validation_fraction`` of the training data (stratified),
        stop when its loss has not improved for ``n_iter_no_change`` epochs,
        and keep the weights of the best epoch. ``"auto"`` does so when there
        are at least 1000 training samples (below that, a validation split is
        too small to judge epochs by) and every class has enough samples for
        both sides of the split; otherwise it trains all ``max_epochs``.
    validation_fraction : float in (0, 1), default=0.1
        Share of the training data held out for early stopping. Only used
        when early stopping is on.
    n_iter_no_change : int, default=3
        Epochs without improvement of the validation loss before stopping.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn; they multiply
        ``sample_weight``.
    device : str or torch.device, default="auto"
        Where to train: ``"auto"`` takes a CUDA GPU when one is available and
        the CPU otherwise; ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
    precision : {"float32", "bf16", "fp16"}, default="float32"
        Mixed precision, keeping weights, loss and logits in float32:
        ``"fp16"`` runs the whole network under ``torch.autocast`` in float16,
        with loss scaling; ``"bf16"`` runs the embedding, attention and head
        in bfloat16 and the recurrent layers in float32 (PyTorch's autocast
        would run cuDNN's in float16, unscaled). Needs a CUDA device
        (PyTorch's CPU recurrent kernels have no mixed precision); worth it on
        GPUs with tensor cores.
    accelerate : bool, default=False
        Train through Hugging Face Accelerate (skorch's ``AccelerateMixin``;
        ``pip install 'sklearn-rnn[accelerate]'``): run the script with
        ``accelerate launch`` to train on several GPUs or machines at once,
        each process on its share of every epoch. Accelerate then chooses
        the device (leave ``device="auto"``) and applies ``precision``.
        The fitted model pickles and predicts without Accelerate.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation
        split. With an int, two fits on the same data give the same model on
        the CPU. The global random generators are left untouched either way.
    verbose : int, default=0
        0 prints nothing. 1 prints a line per epoch: the training loss, with
        early stopping the validation loss and accuracy, and the seconds it
        took. 2 also shows a progress bar over each epoch's batches (tqdm,
        on stderr).
    warm_start : bool, default=False
        When fitted already, continue training the same network, with its
        vocabulary, classes and optimizer state, for ``max_epochs`` more epochs
        instead of starting anew. The training parameters set since, ``lr``,
        ``weight_decay``, ``batch_size``, ``max_epochs``, the early-stopping
        settings, ``lr_schedule``, ``clip_grad_norm``, ``class_weight``,
        ``random_state`` and ``verbose``, apply to the continued training; a
        changed ``lr`` restarts the rates from it. Otherwise the schedule
        starts anew: cosine from the first fit's rate, plateau from the rate
        the optimizer has. Parameters that shape the network or its
        optimizer (sizes, ``cell``, dropouts, ``pooling``, ``precision``,
        ``optimizer``...) or the vocabulary are fixed once fitted: changing
        one and continuing is a ``ValueError`` that names it. A changed
        ``device`` moves the network and its optimizer state there.
        ``embeddings`` only start a new network: a continued one keeps the
        embeddings it learnt.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_tokens_ : int
        Size of the id space the network was built for; larger ids seen at
        prediction time are read as the unknown token (id 1).
    net_ : skorch.NeuralNetClassifier
        The trained skorch net; ``net_.module_`` is the PyTorch module.
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``dur`` (seconds), with a
        learning-rate schedule the epoch's ``lr``, and with early stopping
        ``valid_loss`` and ``valid_acc``.
    n_epochs_ : int
        Number of epochs trained, over all warm-started fits.
    best_epoch_ : int or None
        With early stopping, the epoch whose weights were kept (the one with
        the lowest validation loss); None without early stopping.
    pretrained_coverage_ : None
        Always None: pretrained vectors are aligned to a vocabulary only by
        :class:`RNNTextClassifier`.

    See Also
    --------
    RNNTextClassifier : The same model on raw texts.
    TextVectorizer : Turns texts into the ids this model reads.
    """

    _parameter_constraints = {
        **_BaseRNNClassifier._parameter_constraints,
        "embeddings": [
            IsNone(),
            InstanceOf(np.ndarray, "an array of shape (n_ids, embedding_dim)"),
        ],
    }

    def fit(self, X, y, sample_weight=None):
        """Train on token ids.

        Parameters
        ----------
        X : array-like of shape (n_samples, max_length)
            Right-padded token ids, non-negative integers, 0 being padding.
        y : array-like of shape (n_samples,)
            Labels of any hashable type.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample in the loss.

        Returns
        -------
        self : RNNClassifier
            The fitted classifier.
        """
        return self._fit_on_copy(type(self)._fit, X, y, sample_weight)

    def _fit(self, X, y, sample_weight):
        device, accelerator = self._training_device(self._continues_training())
        ids = check_ids(X)
        y, classes, sample_weight = self._check_targets(y, len(ids), sample_weight)
        make_embeddings = None
        if self._continues_training():
            n_tokens = self.n_tokens_
            ids = _unknown_beyond(ids, n_tokens)
        else:
            n_tokens = max(int(ids.max()) + 1, UNKNOWN_ID + 1)
            if self.embeddings is not None:
                matrix = self._check_embedding_matrix(n_tokens)
                n_tokens = len(matrix)
                make_embeddings = partial(_given_embeddings, matrix)
        return self._fit_ids(
            ids,
            y,
            classes,
            sample_weight,
            n_tokens,
            device,
            make_embeddings,
            accelerator=accelerator,
        )

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

    def attention_weights(self, X):
        """How much attention pooling gave each token of each sequence.

        Only for ``pooling="attention"``.

        Parameters
        ----------
        X : array-like of shape (n_samples, max_length)
            Right-padded token ids.

        Returns
        -------
        weights : list of ndarray
            For each row, the attention weight of each of its tokens (padding
            excluded; a row of padding only is read as one padding token);
            each sums to 1.
        """
        check_is_fitted(self, "net_")
        ids = _unknown_beyond(check_ids(X), self.n_tokens_)
        return self._attention_weights_ids(ids)

    def predict_proba(self, X):
        """Class probabilities of token-id sequences.

        Parameters
        ----------
        X : array-like of shape (n_samples, max_length)
            Right-padded token ids.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; rows sum to 1.
        """
        check_is_fitted(self, "net_")
        return self._predict_proba_ids(_unknown_beyond(check_ids(X), self.n_tokens_))

    def predict(self, X):
        """Predict the class of token-id sequences.

        Parameters
        ----------
        X : array-like of shape (n_samples, max_length)
            Right-padded token ids.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        return self._predict_from_proba(self.predict_proba(X))


class RNNTextClassifier(_BaseRNNClassifier):
    """Recurrent neural network classifier on raw texts.

    Fits a :class:`~sklearn_rnn.TextVectorizer` and an RNN (embedding, LSTM,
    GRU or plain RNN, optionally stacked and bidirectional, pooling over the
    real tokens, linear output) trained with skorch, from one flat set of
    parameters that ``GridSearchCV`` can tune together.

    Parameters
    ----------
    max_features : int or None, default=50000
        Keep at most this many tokens in the vocabulary, the most frequent.
    min_df : int or float, default=1
        Ignore tokens found in fewer texts than this (a count, or a proportion
        when a float in (0, 1]).
    max_len : int or None, default=256
        Read at most this many tokens of each text; None reads all of them.
    lowercase : bool, default=True
        Lowercase texts before tokenizing.
    token_pattern : str or None, default=None
        Regular expression for tokens. None is the built-in pattern: runs of
        letters, digits, underscores and combining marks in any script, and
        single punctuation marks.
    tokenizer : callable or None, default=None
        Function from a text to its list of tokens; overrides
        ``token_pattern``. Must be picklable (not a lambda) for the model to be
        saved or used with ``n_jobs`` > 1.
    analyzer : {"word", "char"}, default="word"
        Word tokens or single characters.
    truncation : {"post", "pre"}, default="post"
        Which end of a text longer than ``max_len`` is cut.
    vocabulary : TextVectorizer, Mapping, iterable of str or None, default=None
        A fixed vocabulary, not learnt from the training texts (``min_df``
        and ``max_features`` are then not used): a fitted
        :class:`TextVectorizer`, whose ``lowercase``, ``token_pattern``,
        ``tokenizer`` and ``analyzer`` must equal this estimator's (it can
        learn from a generator over data larger than memory, for
        :meth:`partial_fit`); or tokens as :class:`TextVectorizer` takes them,
        a list or a mapping of token to id. None learns the vocabulary in
        :meth:`fit`, or from the first chunk in :meth:`partial_fit`.
    embedding_dim : int, default=100
        Size of the token embeddings.
    hidden_size : int, default=128
        Size of the recurrent state, per direction.
    num_layers : int, default=1
        Number of stacked recurrent layers.
    cell : {"lstm", "gru", "rnn"}, default="lstm"
        The recurrent layer: LSTM, GRU, or an Elman RNN with tanh.
    bidirectional : bool, default=True
        Also read each text backwards and join both readings.
    dropout : float in [0, 1), default=0.5
        Dropout between stacked recurrent layers and before the output layer.
    embedding_dropout : float in [0, 1), default=0.5
        Dropout on the token embeddings, before the first recurrent layer.
    pooling : {"max", "mean", "last", "attention"}, default="max"
        How the states along a text become one vector: their maximum or mean
        over the text's real tokens; the final state (the forward state at
        the last token joined, when bidirectional, with the backward state at
        the first token); or their average weighted by additive attention,
        whose weights :meth:`attention_weights` returns. Padding never takes
        part.
    bag_of_words : bool, default=True
        Add a linear model over the text's tokens to the network's output:
        each vocabulary token gets one learnt weight per class, and a text's
        weights are summed and divided by the square root of its length, as
        logistic regression reads a normalised bag of words. The recurrent
        network then learns what word counts miss. These weights learn at ten
        times ``lr``, since each token's weights move only on the batches
        that hold the token.
    embeddings : str, os.PathLike, dict, gensim KeyedVectors or None, \
            default=None
        Pretrained word vectors to start the embedding from: a word2vec or
        GloVe text file (gzip allowed, by a ``.gz`` name), a dict of token to
        vector, or gensim ``KeyedVectors``. Vectors are looked up for each
        token of the learnt vocabulary, as spelt there and, with
        ``lowercase=True``, also in lowercase; tokens without one start from
        random vectors of the same mean and spread. Their size must equal
        ``embedding_dim``. A path keeps the estimator (and its clones and
        pickles) small; a dict or ``KeyedVectors`` is stored as a parameter.
    freeze_embeddings : bool, default=False
        Keep the embeddings fixed during training (useful with
        ``embeddings``, on small data).
    lr : float, default=1e-3
        Learning rate.
    batch_size : int, default=32
        Texts per training batch.
    max_epochs : int, default=20
        Passes over the training data (fewer with early stopping).
    optimizer : {"adam", "adamw", "sgd", "rmsprop"}, default="adam"
        The optimizer; ``"sgd"`` uses momentum 0.9.
    weight_decay : float, default=0.0
        L2 penalty (decoupled for ``"adamw"``).
    clip_grad_norm : float or None, default=5.0
        Rescale gradients whose global norm exceeds this; None disables it.
    lr_schedule : {"plateau", "cosine", "constant"}, default="plateau"
        How the learning rate changes between epochs: ``"plateau"`` halves it
        after two epochs in a row without a lower loss (the validation loss
        with early stopping, the training loss without); ``"cosine"`` anneals it to 0
        over ``max_epochs``; ``"constant"`` keeps it.
    early_stopping : "auto" or bool, default="auto"
        Hold out ``validation_fraction`` of the training data (stratified),
        stop when its loss has not improved for ``n_iter_no_change`` epochs,
        and keep the weights of the best epoch. ``"auto"`` does so when there
        are at least 1000 training samples (below that, a validation split is
        too small to judge epochs by) and every class has enough samples for
        both sides of the split; otherwise it trains all ``max_epochs``.
    validation_fraction : float in (0, 1), default=0.1
        Share of the training data held out for early stopping. Only used
        when early stopping is on.
    n_iter_no_change : int, default=3
        Epochs without improvement of the validation loss before stopping.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn; they multiply
        ``sample_weight``.
    device : str or torch.device, default="auto"
        Where to train: ``"auto"`` takes a CUDA GPU when one is available and
        the CPU otherwise; ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
    precision : {"float32", "bf16", "fp16"}, default="float32"
        Mixed precision, keeping weights, loss and logits in float32:
        ``"fp16"`` runs the whole network under ``torch.autocast`` in float16,
        with loss scaling; ``"bf16"`` runs the embedding, attention and head
        in bfloat16 and the recurrent layers in float32 (PyTorch's autocast
        would run cuDNN's in float16, unscaled). Needs a CUDA device
        (PyTorch's CPU recurrent kernels have no mixed precision); worth it on
        GPUs with tensor cores.
    accelerate : bool, default=False
        Train through Hugging Face Accelerate (skorch's ``AccelerateMixin``;
        ``pip install 'sklearn-rnn[accelerate]'``): run the script with
        ``accelerate launch`` to train on several GPUs or machines at once,
        each process on its share of every epoch. Accelerate then chooses
        the device (leave ``device="auto"``) and applies ``precision``.
        The fitted model pickles and predicts without Accelerate.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation
        split. With an int, two fits on the same data give the same model on
        the CPU. The global random generators are left untouched either way.
    verbose : int, default=0
        0 prints nothing. 1 prints a line per epoch: the training loss, with
        early stopping the validation loss and accuracy, and the seconds it
        took. 2 also shows a progress bar over each epoch's batches (tqdm,
        on stderr).
    warm_start : bool, default=False
        When fitted already, continue training the same network, with its
        vocabulary, classes and optimizer state, for ``max_epochs`` more epochs
        instead of starting anew. The training parameters set since, ``lr``,
        ``weight_decay``, ``batch_size``, ``max_epochs``, the early-stopping
        settings, ``lr_schedule``, ``clip_grad_norm``, ``class_weight``,
        ``random_state`` and ``verbose``, apply to the continued training; a
        changed ``lr`` restarts the rates from it. Otherwise the schedule
        starts anew: cosine from the first fit's rate, plateau from the rate
        the optimizer has. Parameters that shape the network or its
        optimizer (sizes, ``cell``, dropouts, ``pooling``, ``precision``,
        ``optimizer``...) or the vocabulary are fixed once fitted: changing
        one and continuing is a ``ValueError`` that names it. A changed
        ``device`` moves the network and its optimizer state there.
        ``embeddings`` only start a new network: a continued one keeps the
        embeddings it learnt.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    vectorizer_ : TextVectorizer
        The fitted vectorizer.
    n_tokens_ : int
        Size of the id space: the vocabulary plus padding and unknown.
    net_ : skorch.NeuralNetClassifier
        The trained skorch net; ``net_.module_`` is the PyTorch module.
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``dur`` (seconds), with a
        learning-rate schedule the epoch's ``lr``, and with early stopping
        ``valid_loss`` and ``valid_acc``.
    n_epochs_ : int
        Number of epochs trained, over all warm-started fits.
    best_epoch_ : int or None
        With early stopping, the epoch whose weights were kept (the one with
        the lowest validation loss); None without early stopping.
    pretrained_coverage_ : float or None
        The share of the vocabulary that had a pretrained vector in
        ``embeddings``; None without word vectors.

    See Also
    --------
    RNNClassifier : The same model on token ids, for use in a ``Pipeline``.
    TextVectorizer : The tokenizer and vocabulary used here.

    Examples
    --------
    >>> from sklearn_rnn import RNNTextClassifier
    >>> texts = ["a great film", "a dull film", "great acting", "dull plot"] * 10
    >>> labels = ["pos", "neg", "pos", "neg"] * 10
    >>> clf = RNNTextClassifier(hidden_size=16, random_state=0)
    >>> clf.fit(texts, labels).predict(["great film"])
    array(['pos'], dtype='<U3')
    """

    _parameter_constraints = {
        **TextVectorizer._parameter_constraints,
        "vocabulary": [
            InstanceOf(TextVectorizer, "a fitted TextVectorizer"),
            *TextVectorizer._vocabulary_constraints["vocabulary"],
        ],
        **_BaseRNNClassifier._parameter_constraints,
    }

    def __init__(
        self,
        *,
        max_features=50_000,
        min_df=1,
        max_len=256,
        lowercase=True,
        token_pattern=None,
        tokenizer=None,
        analyzer="word",
        truncation="post",
        vocabulary=None,
        embedding_dim=100,
        hidden_size=128,
        num_layers=1,
        cell="lstm",
        bidirectional=True,
        dropout=0.5,
        embedding_dropout=0.5,
        pooling="max",
        bag_of_words=True,
        embeddings=None,
        freeze_embeddings=False,
        lr=1e-3,
        batch_size=32,
        max_epochs=20,
        optimizer="adam",
        weight_decay=0.0,
        clip_grad_norm=5.0,
        lr_schedule="plateau",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=3,
        class_weight=None,
        device="auto",
        precision="float32",
        accelerate=False,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        super().__init__(
            embedding_dim=embedding_dim,
            hidden_size=hidden_size,
            num_layers=num_layers,
            cell=cell,
            bidirectional=bidirectional,
            dropout=dropout,
            embedding_dropout=embedding_dropout,
            pooling=pooling,
            bag_of_words=bag_of_words,
            embeddings=embeddings,
            freeze_embeddings=freeze_embeddings,
            lr=lr,
            batch_size=batch_size,
            max_epochs=max_epochs,
            optimizer=optimizer,
            weight_decay=weight_decay,
            clip_grad_norm=clip_grad_norm,
            lr_schedule=lr_schedule,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            class_weight=class_weight,
            device=device,
            precision=precision,
            accelerate=accelerate,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
        )
        self.max_features = max_features
        self.min_df = min_df
        self.max_len = max_len
        self.lowercase = lowercase
        self.token_pattern = token_pattern
        self.tokenizer = tokenizer
        self.analyzer = analyzer
        self.truncation = truncation
        self.vocabulary = vocabulary

    def fit(self, X, y, sample_weight=None):
        """Learn the vocabulary and train the network.

        Parameters
        ----------
        X : sequence of str
            Texts: a list, tuple, 1-D array, pandas Series or one-column
            DataFrame.
        y : array-like of shape (n_samples,)
            Labels of any hashable type (str, int, bool...).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each text in the loss.

        Returns
        -------
        self : RNNTextClassifier
            The fitted classifier.
        """
        return self._fit_on_copy(type(self)._fit, X, y, sample_weight)

    def _fit(self, X, y, sample_weight):
        continuing = self._continues_training()
        # fails before any text is read
        device, accelerator = self._training_device(continuing)
        texts = check_texts(X)
        y, classes, sample_weight = self._check_targets(y, len(texts), sample_weight)
        return self._fit_texts(
            texts, y, classes, sample_weight, device, accelerator, continuing
        )

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on one chunk of texts.

        For data that does not fit in memory at once: call it on one chunk
        after another, for as many passes over the data as you like. The
        first call fixes the classes, from ``classes``, and the vocabulary:
        ``vocabulary`` when it is given, else the tokens of the first chunk
        (under ``min_df`` and ``max_features``); tokens outside it are read as
        unknown. Best, fit a :class:`TextVectorizer` on the whole data first
        (it reads a generator a chunk at a time) and pass it as
        ``vocabulary``.

        Each call trains one epoch over the chunk at the current learning
        rate and adds one row to ``history_``. Early stopping and
        ``lr_schedule`` need whole epochs over all the data, so they are not
        applied; ``max_epochs``, ``early_stopping``, ``validation_fraction``,
        ``n_iter_no_change``, ``lr_schedule`` and ``warm_start`` are not
        used. A model fitted with :meth:`fit` is trained further.

        Parameters
        ----------
        X : sequence of str
            A chunk of texts.
        y : array-like of shape (n_samples,)
            Their labels, all of them among ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every label of the whole data. Required in the first call, as in
            scikit-learn's other incremental estimators; in later calls it
            can be left out, or must be the same.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each text in the loss, used as given so
            that the weights of different chunks compare: each must be 0 or
            within [1e-6, 1e15], where float32 training can use it (``fit``
            rescales its weights instead). With ``optimizer="sgd"`` they
            scale the step too.

        Returns
        -------
        self : RNNTextClassifier
            The classifier, trained one epoch further.
        """
        return self._fit_on_copy(type(self)._partial_fit, X, y, classes, sample_weight)

    def _partial_fit(self, X, y, classes, sample_weight):
        continuing = hasattr(self, "net_")
        device, accelerator = self._training_device(continuing)
        texts = check_texts(X)
        y, classes, sample_weight = self._check_chunk_targets(
            y, len(texts), classes, sample_weight
        )
        return self._fit_texts(
            texts,
            y,
            classes,
            sample_weight,
            device,
            accelerator,
            continuing,
            incremental=True,
        )

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
        vectorizer = self.vectorizer_ if continuing else self._new_vectorizer()
        counts = None
        if self._reads_whole_texts() if continuing else self.bag_of_words:
            ids, counts = vectorizer._ids_and_counts(texts, fit=not continuing)
        elif continuing:
            ids = vectorizer.transform(texts)
        else:
            ids = vectorizer.fit_transform(texts)
        if continuing:
            n_tokens = self.n_tokens_
        else:
            n_tokens = len(vectorizer.vocabulary_) + UNKNOWN_ID + 1
        make_embeddings = None
        if self.embeddings is not None:
            make_embeddings = partial(self._pretrained_embeddings, vectorizer)
        return self._fit_ids(
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
            **{name: getattr(self.vectorizer_, name) for name in _TEXT_PARAMETERS},
        }

    def _check_continuable(self):
        super()._check_continuable()
        if _vocabulary_tokens(self.vocabulary) != _vocabulary_tokens(
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

    def _ids_and_counts(self, X):
        """The fitted vectorizer's ids of ``X``, and its counts if needed."""
        texts = check_texts(X)
        if self._reads_whole_texts():
            return self.vectorizer_._ids_and_counts(texts, fit=False)
        return self.vectorizer_.transform(texts), None

    def __sklearn_clone__(self):
        copy = super().__sklearn_clone__()
        # clone would unfit a TextVectorizer given as the vocabulary; it is
        # only read, so the clones share it.
        copy.vocabulary = self.vocabulary
        return copy

    def _new_vectorizer(self):
        """An unfitted TextVectorizer with this estimator's text parameters."""
        vocabulary = self.vocabulary
        if isinstance(vocabulary, TextVectorizer):
            vocabulary = self._vocabulary_of(vocabulary)
        return TextVectorizer(
            **{name: getattr(self, name) for name in _TEXT_PARAMETERS},
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

    def attention_weights(self, X):
        """How much attention pooling gave each token of each text.

        Only for ``pooling="attention"``.

        Parameters
        ----------
        X : sequence of str
            Texts.

        Returns
        -------
        tokens : list of list of str
            The tokens the network read in each text (at most ``max_len``); a
            text without tokens reads as ``["<unk>"]``.
        weights : list of ndarray of shape (n_tokens_of_text,)
            The attention weight of each of those tokens; each sums to 1.
        """
        check_is_fitted(self, "net_")
        tokenized = self.vectorizer_._tokens(X)
        weights = self._attention_weights_ids(self.vectorizer_._to_ids(tokenized))
        return [tokens or [UNKNOWN_TOKEN] for tokens in tokenized], weights

    def predict_proba(self, X):
        """Class probabilities of texts.

        Parameters
        ----------
        X : sequence of str
            Texts.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; rows sum to 1.
        """
        check_is_fitted(self, "net_")
        return self._predict_proba_ids(*self._ids_and_counts(X))

    def predict(self, X):
        """Predict the class of texts.

        Parameters
        ----------
        X : sequence of str
            Texts.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``, of the type they had in ``fit``.
        """
        return self._predict_from_proba(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


def _vocabulary_tokens(vocabulary):
    """A fixed vocabulary in a form that compares: None, a dict or a list."""
    if vocabulary is None:
        return None
    if isinstance(vocabulary, TextVectorizer):
        vocabulary = getattr(vocabulary, "vocabulary_", None)
        return None if vocabulary is None else dict(vocabulary)
    if isinstance(vocabulary, Mapping):
        return dict(vocabulary)
    return list(vocabulary)


class _InterruptedAfterEpochs(KeyboardInterrupt):
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
_TEXT_PARAMETERS = tuple(TextVectorizer._parameter_constraints)
# The parameters that decide what a text's tokens are.
TOKENIZING_PARAMETERS = ("lowercase", "token_pattern", "tokenizer", "analyzer")


def _check_precision(precision, device):
    if precision != "float32" and torch.device(device).type != "cuda":
        raise ValueError(
            f"precision={precision!r} needs a CUDA device, but training would run "
            f"on {device!r}: PyTorch's CPU kernels for recurrent layers have no "
            "mixed precision. Use precision='float32' on the CPU."
        )


def _unknown_beyond(ids, n_tokens):
    """Read ids the network has no embedding for as the unknown token."""
    return np.where(ids < n_tokens, ids, UNKNOWN_ID)


def _draw_seed(random_state):
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _fixed_split(valid):
    """A skorch ``train_split`` returning our own validation set, or None."""
    return None if valid is None else predefined_split(valid)


def _keep_completed_epochs(net, n_rows_before, early_stopping):
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


def _check_batches_for_processes(n_samples, batch_size, accelerator):
    n_batches = -(-n_samples // batch_size)
    if n_batches < accelerator.num_processes:
        raise ValueError(
            f"{n_samples} training samples make {n_batches} batch(es) of "
            f"batch_size={batch_size}, fewer than the {accelerator.num_processes} "
            "processes that share each epoch: every process needs one. Train on "
            "more samples at a time, or with a smaller batch_size."
        )


def _share_shuffles(net, accelerator, seed):
    """Have every process of a distributed fit shuffle each epoch alike."""
    if accelerator is not None:
        shared = accelerator.num_processes > 1
        net.shuffle_seed_ = seed if shared else None


def _detach_accelerator(net):
    """Unwrap an accelerated net's module and optimizer once training ended.

    Done here rather than by skorch at the end of training, where the module
    would be unwrapped before early stopping loads the best weights, saved
    from the wrapped module under other names.
    """
    if isinstance(net, AcceleratedRNNNet):
        net.detach()


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
