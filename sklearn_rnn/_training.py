"""The training engine behind the estimators: one fit, from validated settings
to the fitted attributes the estimator takes over.

A :class:`Trainer` is built for each call of ``fit`` or ``partial_fit`` from
the estimator's validated parameters, read-only, and its fitted attributes,
if any: the model a continued fit starts from. Its fit methods leave the new
fitted attributes on the trainer; the estimator takes them over in one step,
so that an error or an interrupt anywhere before leaves it as it was, never a
new vectorizer beside an old network. :class:`TextTrainer` adds what raw
texts need: the vectorizer, pretrained vectors and the whole-text bag of
words. How the parameters become a skorch net is ``_net_builder``'s job.
"""

import copy
from dataclasses import dataclass, replace
from functools import partial
from types import MappingProxyType

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._device import (
    check_precision,
    generators_kept,
    resolve_device,
    seed_generators,
    seeded_generators,
)
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
    check_targets,
    check_texts,
    check_validation_data,
    training_weights,
    validation_labels,
)
from ._net import proba_from_logits, unwrapped
from ._net_builder import (
    build_net,
    built_with,
    check_network_fits,
    fixed_split,
    per_process_params,
    training_callbacks,
)
from ._param_validation import python_scalar
from ._self_training import LabelledTexts, SelfTrainingTexts
from ._unlabeled import quiet_unlabeled_only_ids, split_unlabeled
from ._validation_split import describe_split, stratified_split, uses_early_stopping
from ._warnings import warn_user
from .batching import EncodedTexts
from .embeddings import embedding_matrix
from .pretraining import pretrain_language_model, pretrained_parameters
from .text import (
    TEXT_PARAMETERS,
    UNKNOWN_ID,
    TextVectorizer,
    encode,
    vocabulary_tokens,
)

HISTORY_KEYS = (
    "epoch",
    "train_loss",
    "train_acc",
    "valid_loss",
    "valid_acc",
    "lr",
    "dur",
)
# The parameters that decide what a text's tokens are.
TOKENIZING_PARAMETERS = ("lowercase", "token_pattern", "tokenizer", "analyzer")


class InterruptedAfterEpochs(KeyboardInterrupt):
    """An interrupted fit that kept its completed epochs: the estimator is fitted."""


@dataclass(frozen=True, eq=False)
class TrainingRun:
    """What one call of ``fit`` or ``partial_fit`` trains on, checked.

    ``chunk`` marks a ``partial_fit`` call: one epoch on one chunk, with
    neither early stopping nor a learning-rate schedule. ``continuing`` says
    that the fitted network is trained further rather than a new one built:
    always in a ``partial_fit`` call on a fitted model, and in ``fit`` with
    ``warm_start``. ``data`` is the checked input; once it is token ids,
    ``n_tokens`` is the size of the network's id space, ``counts`` the
    whole-text token counts the bag of words reads (or None), and
    ``make_embeddings``, given a ``RandomState``, returns a new network's
    initial embeddings and the share of the vocabulary they cover (or is
    None). ``validation`` is the user's ``validation_data``, checked: its
    data (once encoded, token ids), labels and token counts; or None.
    ``unlabeled`` is the data of the samples ``y`` leaves unlabeled (once
    encoded, token ids), read by a new network's id space and pretraining;
    or None; ``unlabeled_counts``, their whole-text token counts when the
    bag of words reads them; ``unlabeled_weight``, their ``sample_weight``,
    which self-training gives the texts it labels (None without weights).
    ``data``, ``y`` and ``sample_weight`` are the labelled samples'.
    """

    data: object
    y: np.ndarray
    classes: np.ndarray
    sample_weight: np.ndarray | None
    device: str
    accelerator: object
    chunk: bool
    continuing: bool
    n_tokens: int | None = None
    counts: object = None
    make_embeddings: object = None
    validation: tuple | None = None
    unlabeled: object = None
    unlabeled_counts: object = None
    unlabeled_weight: np.ndarray | None = None


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

    def fit(self, X, y, sample_weight, validation_data=None):
        """``RNNClassifier.fit``'s work: check the ids, targets and weights,
        then train."""
        run = self._start(X, y, None, sample_weight, False, check_ids, validation_data)
        return self.train(self._on_id_space(run))

    def partial_fit(self, X, y, classes, sample_weight, validation_data=None):
        """``RNNClassifier.partial_fit``'s work: one epoch on one chunk."""
        run = self._start(
            X, y, classes, sample_weight, True, check_ids, validation_data
        )
        if run is None:
            return self
        return self.train(self._on_id_space(run))

    def _start(
        self, X, y, classes, sample_weight, chunk, check_data, validation_data=None
    ):
        """The checks every fit starts with, in the order that fails fastest;
        returns what the fit trains on, or None for a ``partial_fit`` chunk
        without labels, which a fitted network skips."""
        if chunk:
            continuing = hasattr(self, "net_")
        else:
            continuing = self.warm_start and hasattr(self, "net_")
        # before any data is read
        self._check_accelerate_support(chunk)
        device, accelerator = self.training_device(continuing)
        data = check_data(X)
        split = split_unlabeled(
            data,
            y,
            sample_weight,
            chunk=chunk,
            continuing=continuing,
            pretrain=self.pretrain,
            self_training_rounds=self.self_training_rounds,
        )
        if split is None:
            return None
        data, y, sample_weight, unlabeled, unlabeled_weight = split
        y, classes, sample_weight = check_targets(
            y,
            len(data),
            sample_weight,
            partial_fit=chunk,
            classes=classes,
            fitted_classes=self.classes_ if continuing else None,
            class_weight=self.class_weight,
        )
        validation = None
        if validation_data is not None:
            valid_data, valid_y = check_validation_data(validation_data, check_data)
            validation = (valid_data, validation_labels(valid_y, classes), None)
        return TrainingRun(
            data,
            y,
            classes,
            sample_weight,
            device,
            accelerator,
            chunk,
            continuing,
            validation=validation,
            unlabeled=unlabeled,
            unlabeled_weight=unlabeled_weight,
        )

    def _check_accelerate_support(self, chunk):
        if self.pretrain is not None and self.accelerate:
            raise ValueError(
                f"pretrain={self.pretrain!r} does not run under Accelerate yet: "
                "pretrain without it (accelerate=False), then continue with "
                "partial_fit or warm_start on one process."
            )
        if self.self_training_rounds and self.accelerate and not chunk:
            raise ValueError(
                f"self_training_rounds={self.self_training_rounds} does not run "
                "under Accelerate yet: self-train without it (accelerate=False)."
            )

    def _self_trains(self, run):
        """Whether this fit self-trains: one that builds a network from
        labelled and unlabeled samples (``split_unlabeled`` warns when
        ``self_training_rounds`` cannot be applied)."""
        return bool(
            self.self_training_rounds
            and not run.chunk
            and not run.continuing
            and run.unlabeled is not None
        )

    def _on_id_space(self, run):
        """``run`` with the ids as the network reads them, its number of ids,
        and how to make its initial embeddings.

        A new network has a row for every id of the data (or of
        ``embeddings``, when larger); a fitted one reads the ids beyond its
        own as the unknown token.
        """
        ids = run.data
        if run.continuing:
            ids = unknown_beyond(ids, self.n_tokens_)
            run = replace(run, data=ids, n_tokens=self.n_tokens_)
        elif self.embeddings is None:
            run = replace(run, n_tokens=_id_space_of(ids, run.unlabeled))
        else:
            matrix = self._check_embedding_matrix(_id_space_of(ids, run.unlabeled))
            make_embeddings = partial(_given_embeddings, matrix)
            run = replace(run, n_tokens=len(matrix), make_embeddings=make_embeddings)
        if run.validation is None:
            return run
        # the validation ids, read in the same id space
        valid_ids, y_index, counts = run.validation
        valid_ids = unknown_beyond(valid_ids, run.n_tokens)
        return replace(run, validation=(valid_ids, y_index, counts))

    def _check_embedding_matrix(self, n_tokens):
        matrix = np.asarray(self.embeddings)
        if not (
            matrix.ndim == 2
            and np.issubdtype(matrix.dtype, np.number)
            and matrix.shape[1] == self.embedding_dim
            and matrix.shape[0] >= n_tokens
        ):
            raise ValueError(
                "embeddings must be an array of shape (n_tokens, embedding_dim): "
                f"one row per token id, at least {n_tokens} rows for the ids in X, "
                f"and embedding_dim={self.embedding_dim} columns; got an array of "
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
        check_precision(self.precision, device)
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
        return built_with(self.net_)

    def train(self, run, other_attributes=()):
        """Train the network on ``run``, whose data are token ids, and set the
        fitted attributes, with ``other_attributes`` ((name, value) pairs).

        A continued fit trains a copy of the fitted net, so that a failed or
        interrupted fit leaves the fitted one as it was.
        """
        y_index = np.searchsorted(run.classes, run.y)
        weights = training_weights(
            run.y,
            run.sample_weight,
            self.class_weight,
            run.classes,
            rescale=not run.chunk,
        )
        seed = self._seed(run)
        early_stopping = not run.chunk and uses_early_stopping(
            self.early_stopping,
            self.validation_fraction,
            y_index,
            len(run.classes),
            run.validation,
        )
        if self.verbose and not run.chunk:
            say = print if run.accelerator is None else print_on_main_process
            say(
                describe_split(
                    self.early_stopping,
                    self.validation_fraction,
                    self.max_epochs,
                    len(y_index),
                    early_stopping,
                    run.validation,
                )
            )
        embeddings, coverage = None, None
        if run.continuing:
            coverage = getattr(self, "pretrained_coverage_", None)
        elif run.make_embeddings is not None:
            embeddings, coverage = run.make_embeddings(np.random.RandomState(seed))
        self_training = self._self_trains(run)
        labelled = LabelledTexts(run.data, y_index, run.sample_weight, run.counts)
        with seeded_generators(seed, run.device):
            train_index = valid_texts = valid = None
            if run.validation is not None:
                valid = self._given_validation(run)
            elif early_stopping:
                train_index, valid_index = stratified_split(
                    y_index, len(run.classes), self.validation_fraction, seed
                )
                valid_texts = labelled.take(valid_index)
                valid = valid_texts.encoded_with(weights, valid_index)
            train_texts = labelled.take(train_index)
            train = train_texts.encoded_with(weights, train_index)
            net, start = self._train_net(
                run, train, valid, seed, early_stopping, embeddings, self_training
            )
            interrupted_round = None
            if self_training:
                texts = SelfTrainingTexts(
                    train_texts,
                    valid_texts,
                    run.unlabeled,
                    run.unlabeled_counts,
                    run.unlabeled_weight,
                    self.validation_fraction,
                    seed,
                )
                net, interrupted_round = self._self_train(
                    net, run, texts, valid, seed, early_stopping, start
                )
            elif not run.continuing:
                self.self_labelled_per_round_ = None
        self._take_result(net, run, early_stopping, coverage, other_attributes)
        if interrupted_round is not None:
            raise InterruptedAfterEpochs(
                f"fit was interrupted in self-training round {interrupted_round}; "
                f"the estimator is fitted with the network of round "
                f"{interrupted_round - 1} (self_labelled_per_round_ counts the "
                "rounds it kept)."
            )
        return self

    def _seed(self, run):
        seed = shared_seed(_draw_seed(self.random_state), run.accelerator)
        if run.chunk and run.continuing:
            # each chunk shuffled anew, yet reproducibly
            seed = (seed + len(self.history_)) % np.iinfo(np.int32).max
        return seed

    def _train_net(
        self, run, train, valid, seed, early_stopping, embeddings, self_training=False
    ):
        """The net trained on ``train``: a copy of the fitted one, or a new
        one; and, with ``self_training`` and ``pretrain``, the pretrained
        weights the later rounds start from (else None: a new net's own)."""
        if run.accelerator is not None:
            check_batches_for_processes(len(train), self.batch_size, run.accelerator)
        start = None
        if run.continuing:
            callbacks = training_callbacks(
                self.settings, early_stopping, schedule=not run.chunk
            )
            net = self._train_continued(run, train, valid, callbacks, seed)
        else:
            check_network_fits(
                self.settings, run.n_tokens, len(run.classes), run.device
            )
            unlabeled = None
            if run.unlabeled is not None:
                unlabeled = EncodedTexts(run.unlabeled, counts=run.unlabeled_counts)
            net = self._new_net(
                run,
                train,
                valid,
                seed,
                early_stopping,
                labelled=EncodedTexts(run.data, counts=run.counts),
                unlabeled=unlabeled,
                embeddings=embeddings,
            )
            module = unwrapped(net.module_)
            self.pretrain_loss_ = None
            if self.pretrain is not None:
                # the classifier then trains on the batches and dropout a
                # fit without pretraining draws
                with generators_kept(run.device):
                    self.pretrain_loss_ = self._pretrain(module, run, seed)
            if self_training and self.pretrain is not None:
                # on the host, where the later rounds only read them
                start = {
                    name: weight.detach().to("cpu", copy=True)
                    for name, weight in pretrained_parameters(module).items()
                }
            _train_detached(net, train, epochs=1 if run.chunk else None)
        if run.chunk:
            net.history.record("lr", net.optimizer_.param_groups[0]["lr"])
        return net, start

    def _new_net(
        self,
        run,
        train,
        valid,
        seed,
        early_stopping,
        labelled,
        unlabeled,
        embeddings=None,
        state=None,
    ):
        """A new, initialized net to train on ``train``, starting from
        ``embeddings`` or from pretrained weights ``state`` (by name); the ids
        that only the ``unlabeled`` texts hold (not the ``labelled`` ones)
        are kept quiet."""
        callbacks = training_callbacks(
            self.settings, early_stopping, schedule=not run.chunk
        )
        net = build_net(
            self.settings,
            run.n_tokens,
            len(run.classes),
            run.device,
            valid,
            callbacks,
            run.accelerator,
            n_train=len(train),
        )
        net.initialize()
        share_shuffles(net, run.accelerator, seed)
        # the module itself, whether or not Accelerate wrapped it
        module = unwrapped(net.module_)
        if state is not None:
            module.load_state_dict({**module.state_dict(), **state})
        if embeddings is not None:
            module.set_embeddings(embeddings)
        if module.bag is not None:
            module.set_bag_idf(len(train), train.document_frequency(run.n_tokens))
        if unlabeled is not None:
            quiet_unlabeled_only_ids(
                module,
                labelled,
                unlabeled,
                run.n_tokens,
                # nothing else gives or trains their embeddings
                zero_embeddings=run.make_embeddings is None
                and (self.pretrain is None or self.freeze_embeddings),
            )
        return net

    def _self_train(self, net, run, texts, valid, seed, early_stopping, start):
        """Self-training's rounds after the first fit ``net``: label the
        unlabeled texts it is sure of, train a new net (with the pretrained
        weights ``start``, if any) on the labelled ones, judged on ``valid``
        (the user's validation data) or on the held-out labelled and
        self-labelled texts ``texts`` keeps, and so on. Returns the last
        complete round's net, and the round an interrupt stopped, or None."""
        labelled_per_round = []
        self.self_labelled_per_round_ = labelled_per_round
        threshold = self.self_training_threshold
        for round_ in range(1, self.self_training_rounds + 1):
            if getattr(net, "interrupted_", False) or not texts.n_unlabeled:
                break
            try:
                proba = proba_from_logits(
                    net.logits_ids(texts.unlabeled_ids, texts.unlabeled_counts)
                )
                n_sure = texts.label_sure(proba, threshold)
                if self.verbose:
                    print(_describe_round(round_, n_sure, texts, threshold), flush=True)
                if not n_sure:
                    labelled_per_round.append(0)
                    break
                train = texts.train.encoded(run.classes, self.class_weight)
                if texts.valid is not None:
                    valid = texts.valid.encoded(run.classes, self.class_weight)
                # draws as a new fit with this random_state would
                seed_generators(seed, run.device)
                new_net = self._new_net(
                    run,
                    train,
                    valid,
                    seed,
                    early_stopping,
                    labelled=texts.labelled_texts(),
                    unlabeled=texts.unlabeled_texts(),
                    state=start,
                )
                _train_detached(new_net, train, epochs=None)
            except KeyboardInterrupt:
                return net, round_
            if getattr(new_net, "interrupted_", False):
                return net, round_
            net = new_net
            labelled_per_round.append(n_sure)
        return net, None

    def _pretrain(self, module, run, seed):
        """Pretrain a new network's embedding and recurrent layers as a
        language model on every text of ``run``; the losses of its epochs."""
        log = None
        if self.verbose:
            log = partial(print, flush=True)
        texts = run.data
        if run.unlabeled is not None:
            # split from one matrix of ids, so of one width
            texts = np.concatenate([run.data, run.unlabeled])
        return pretrain_language_model(
            module,
            texts,
            epochs=self.pretrain_epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            clip_grad_norm=self.clip_grad_norm,
            device=run.device,
            seed=seed,
            log=log,
        )

    def _train_continued(self, run, train, valid, callbacks, seed):
        """Train a copy of the fitted net: the fitted one stays as it is until
        the estimator takes over the new one, whatever stops this fit."""
        net = copy.deepcopy(self.net_)
        if run.accelerator is None and not _on_device(net, run.device):
            net.move_to(run.device)
        self._set_training_rates(net, run.chunk)
        net.set_params(verbose=self.verbose)
        if run.accelerator is not None:
            net.attach(run.accelerator)
            # set_params refuses iterator parameters on an initialized net;
            # skorch reads them from these attributes
            params = per_process_params(self.settings, run.accelerator)
            for name, value in params.items():
                setattr(net, name, value)
        net.callbacks = callbacks
        net.initialize_callbacks()
        net.train_split = fixed_split(valid)
        net.batch_size = self.batch_size
        share_shuffles(net, run.accelerator, seed)
        _train_detached(net, train, epochs=1 if run.chunk else self.max_epochs)
        return net

    def _set_training_rates(self, net, chunk):
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
            elif chunk or self.lr_schedule == "cosine":
                # partial_fit trains at the initial rates; a cosine fit
                # anneals anew from them, not from ~0
                group["lr"] = group.get("initial_lr", group["lr"])
            group["weight_decay"] = self.weight_decay
        net.lr = self.lr
        net.optimizer__weight_decay = self.weight_decay

    def _take_result(self, net, run, early_stopping, coverage, other_attributes):
        """Set the fitted attributes from the trained ``net``; after an
        interrupt that kept epochs, say so by raising InterruptedAfterEpochs."""
        previous = self.history_ if run.continuing else []
        n_rows_before = len(self.net_.history) if run.continuing else 0
        interrupted_in = _keep_result(net, previous, n_rows_before, early_stopping)
        for name, value in other_attributes:
            setattr(self, name, value)
        rows = net.history[n_rows_before:]
        history = previous + _history_rows(rows, len(previous))
        best_epoch = _best_epoch(rows, len(previous)) if early_stopping else None
        vars(self).update(
            network_attributes(
                net, run.classes, run.n_tokens, history, best_epoch, coverage
            )
        )
        if interrupted_in is not None:
            raise InterruptedAfterEpochs(
                f"fit was interrupted in epoch {interrupted_in}; the estimator "
                f"is fitted with the weights of epoch "
                f"{self.best_epoch_ or self.n_epochs_}, and warm_start=True "
                "continues from there."
            )

    def _given_validation(self, run):
        """The user's validation data as the net reads it, its loss weighted
        by ``class_weight`` as the training loss is."""
        ids, y_index, counts = run.validation
        weights = None
        if self.class_weight is not None:
            weights = training_weights(
                run.classes[y_index], None, self.class_weight, run.classes
            )
        return EncodedTexts(ids, y_index, weights, counts)


class TextTrainer(Trainer):
    """One fit of a recurrent classifier on raw texts: vectorizer, pretrained
    vectors and the whole-text bag of words on top of :class:`Trainer`."""

    def fit(self, X, y, sample_weight, validation_data=None):
        """``RNNTextClassifier.fit``'s work: texts, targets and weights checked,
        the vectorizer fitted (or the fitted one read), then training."""
        return self._fit_texts(
            self._start(X, y, None, sample_weight, False, check_texts, validation_data)
        )

    def partial_fit(self, X, y, classes, sample_weight, validation_data=None):
        """``RNNTextClassifier.partial_fit``'s work: one epoch on one chunk."""
        run = self._start(
            X, y, classes, sample_weight, True, check_texts, validation_data
        )
        if run is None:
            return self
        return self._fit_texts(run)

    def _fit_texts(self, run):
        continuing = run.continuing
        vectorizer = self.vectorizer_ if continuing else self.new_vectorizer()
        texts = run.data
        if run.unlabeled is not None:
            # the vocabulary is learnt from every text
            texts = texts + run.unlabeled
        # a continued network has the bag_of_words it was built with: checked
        ids, counts = encode(
            vectorizer, texts, fit=not continuing, counts=self.bag_of_words
        )
        unlabeled_ids = unlabeled_counts = None
        if run.unlabeled is not None:
            n_labelled = len(run.data)
            unlabeled_ids, ids = ids[n_labelled:], ids[:n_labelled]
            if counts is not None:
                unlabeled_counts, counts = counts[n_labelled:], counts[:n_labelled]
        if continuing:
            n_tokens = self.n_tokens_
        else:
            n_tokens = len(vectorizer.vocabulary_) + UNKNOWN_ID + 1
        make_embeddings = None
        if self.embeddings is not None:
            make_embeddings = partial(self._pretrained_embeddings, vectorizer)
        validation = run.validation
        if validation is not None:
            texts, y_index, _ = validation
            # the validation texts are read with the training vocabulary
            valid_ids, valid_counts = encode(
                vectorizer, texts, counts=self.bag_of_words
            )
            validation = (valid_ids, y_index, valid_counts)
        run = replace(
            run,
            data=ids,
            counts=counts,
            n_tokens=n_tokens,
            make_embeddings=make_embeddings,
            validation=validation,
            unlabeled=unlabeled_ids,
            unlabeled_counts=unlabeled_counts,
        )
        return self.train(run, other_attributes=[("vectorizer_", vectorizer)])

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


def _describe_round(round_, n_sure, texts, threshold):
    """One line saying what a round of self-training labelled."""
    if not n_sure:
        return (
            f"Self-training round {round_}: no unlabeled text reaches "
            f"probability {threshold}; the last network is kept."
        )
    return (
        f"Self-training round {round_}: {n_sure:,} more texts labelled "
        f"(probability >= {threshold}), {texts.n_unlabeled:,} left; training "
        f"a new network on {len(texts.train):,} texts."
    )


def text_inputs(vectorizer, net, texts):
    """The ids of ``texts`` for ``net``, with their whole-text counts when its
    bag of words reads them."""
    return encode(vectorizer, texts, counts=net.module_.bag is not None)


def _id_space_of(ids, unlabeled=None):
    """The ids a new network needs rows for: every id of ``ids`` and of the
    ``unlabeled`` ids, and at least padding and the unknown token."""
    largest = int(ids.max())
    if unlabeled is not None:
        largest = max(largest, int(unlabeled.max()))
    return max(largest + 1, UNKNOWN_ID + 1)


def unknown_beyond(ids, n_tokens):
    """Read ids the network has no embedding for as the unknown token."""
    return np.where(ids < n_tokens, ids, UNKNOWN_ID)


def network_attributes(net, classes, n_tokens, history, best_epoch, coverage):
    """The fitted attributes of a trained or restored network, by name."""
    return {
        "net_": net,
        "classes_": classes,
        "n_tokens_": n_tokens,
        "history_": history,
        "n_epochs_": len(history),
        "best_epoch_": best_epoch,
        "pretrained_coverage_": coverage,
    }


def _draw_seed(random_state):
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _on_device(net, device):
    return torch.device(net.device) == torch.device(device)


def _train_detached(net, train, epochs):
    """Train ``net``, then detach any accelerator, whatever stops it."""
    try:
        net.partial_fit(train, None, epochs=epochs)
    finally:
        detach_accelerator(net)


def _keep_result(net, previous, n_rows_before, early_stopping):
    """Forget the training data; after an interrupt, keep the completed
    epochs and return the number of the interrupted one, or give up."""
    interrupted_in = None
    if getattr(net, "interrupted_", False):
        # over all fits, counted before the unfinished epoch's row goes
        interrupted_in = len(previous) + len(net.history) - n_rows_before
        if not net.roll_back_to_last_completed_epoch(n_rows_before, early_stopping):
            raise KeyboardInterrupt(
                f"fit was interrupted in epoch {interrupted_in}, before any "
                "epoch of this fit ended; the estimator is as it was."
            )
    net.forget_training_data()
    return interrupted_in


def _history_rows(rows, n_earlier):
    """This fit's rows of the net's history, numbered after the earlier
    fits', which a loaded model keeps in ``history_`` only; in Python
    numbers, since skorch averages the losses with numpy, and
    ``np.float64(0.69)`` is how numpy 2 prints them."""
    return [
        {
            **{key: python_scalar(row[key]) for key in HISTORY_KEYS if key in row},
            "epoch": epoch,
        }
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
