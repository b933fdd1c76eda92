"""Recurrent text classifiers as scikit-learn estimators.

The estimators hold the parameters, their constraints and docs, and short
``fit``/``partial_fit``/``predict*`` methods; the parameters they share are
``_base``'s, the training engine (``_training``) does the work and the
network (``_net``) predicts.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._base import BaseRNNClassifier
from ._inputs import check_ids, check_texts
from ._param_validation import InstanceOf, IsNone
from ._training import TextTrainer, Trainer, text_inputs, unknown_beyond
from .text import (
    UNKNOWN_TOKEN,
    VOCABULARY_CONSTRAINTS,
    TextVectorizer,
    tokens_and_ids,
)


class RNNClassifier(BaseRNNClassifier):
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
    hidden_size : int, default=64
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
        each vocabulary token gets one learnt weight per class, and a text
        adds its tokens' weights times their TF-IDF values (sublinear term
        frequency, idf from the training texts, L2-normalised), as logistic
        regression reads a ``TfidfVectorizer(sublinear_tf=True)`` matrix. The
        recurrent network then learns what word counts miss. These weights
        learn at ten times ``lr``, since each token's weights move only on the
        batches that hold the token; when an epoch has more than 150 batches,
        at ``10 * sqrt(150 / batches)`` times (see :ref:`bag_of_words`).
    embeddings : ndarray of shape (n_tokens, embedding_dim) or None, default=None
        Initial embedding weights, row ``i`` for token id ``i``; it must have a
        row for every id in the training data. To build one from word vectors
        and a fitted :class:`~sklearn_rnn.TextVectorizer`, or to have it done
        for you, use :class:`RNNTextClassifier`. Rows 0 and 1 (padding and
        unknown) are set to zero.
    freeze_embeddings : bool, default=False
        Keep the embeddings fixed during training.
    lr : float, default=3e-3
        Learning rate.
    batch_size : int, default=64
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
        when the loss has not fallen for some epochs in a row: with early
        stopping, the validation loss for ``n_iter_no_change - 1`` epochs (at
        least one) without an improvement as early stopping counts one, so
        that the last epoch before stopping runs at the lower rate; without,
        the training loss for two; ``"cosine"`` anneals it to 0 over
        ``max_epochs``; ``"constant"`` keeps it.
    early_stopping : "auto" or bool, default="auto"
        Hold out ``validation_fraction`` of the training data (stratified),
        stop when its loss has not improved for ``n_iter_no_change`` epochs,
        and keep the weights of the best epoch. An epoch improves when its
        validation loss is below the best epoch's by more than the standard
        error of the text-by-text difference: a smaller fall is noise.
        ``"auto"`` does so when there are at least 1000 training samples
        (below that, a validation split is too small to judge epochs by) and
        every class has enough samples for both sides of the split;
        otherwise it trains all ``max_epochs``.
    validation_fraction : float in (0, 1), default=0.1
        Share of the training data held out for early stopping. Only used
        when early stopping is on.
    n_iter_no_change : int, default=2
        Epochs without improvement of the validation loss (as
        ``early_stopping`` defines it) before stopping.
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
    pretrain : {None, "lm"}, default=None
        With ``"lm"``, a new network's embedding and recurrent layers are
        first trained as a language model on every text ``fit`` is given,
        labelled or not (a missing label in ``y`` marks a text without one):
        the forward direction learns to predict each next token, the
        backward direction each previous one, before any label is seen. The
        classifier then trains from those weights, at the same rates as
        the layers it adds. The language model predicts the 20,000 lowest
        ids (a TextVectorizer's most frequent tokens) through an adaptive
        softmax, and predicts higher ones as the unknown token while reading
        them as they are; padding is never read nor predicted. It costs
        ``pretrain_epochs`` passes over all the texts, run in float32 on
        ``device`` with Adam at ``lr``, ``batch_size`` and
        ``clip_grad_norm``, whatever ``optimizer`` and ``weight_decay`` say.
        A network is pretrained when it is built: by ``fit`` without
        ``warm_start`` and by the first ``partial_fit`` call, on that call's
        texts. Not with ``accelerate=True``. See :ref:`unlabeled_texts`.
    pretrain_epochs : int, default=1
        Passes of the language model over the texts, with ``pretrain``.
    self_training_rounds : int, default=0
        Rounds of self-training on the texts ``y`` leaves unlabeled, after
        the first training: the network predicts them, each one whose most
        probable class has probability ``self_training_threshold`` or more
        takes that class as its label for every later round, and a new
        network is trained on the labelled and self-labelled texts from the
        same starting weights (the pretrained ones, with ``pretrain``).
        Rounds stop early when no unlabeled text is left or none is sure.
        A self-labelled text weighs its own ``sample_weight`` (so lower
        weights for unlabeled texts trust their labels less), times
        ``class_weight`` of its label; ``"balanced"`` counts each round's
        training texts. Early stopping judges each round on the labelled
        texts held out of the first and on ``validation_fraction`` of the
        self-labelled ones, never trained on; ``validation_data``, when
        given, judges alone. Each round is a whole training, on up to all
        the texts: expect the fit to take many times as long. Applied by
        ``fit`` when it builds a network; ``partial_fit`` and a continued
        ``warm_start`` fit train on labelled texts only (and warn). Not with
        ``accelerate=True``. See :ref:`self_training`.
    self_training_threshold : float in [0, 1), default=0.75
        The probability of its predicted class an unlabeled text needs (at
        least) to be self-labelled, with ``self_training_rounds``; 0.75 is
        scikit-learn's ``SelfTrainingClassifier``'s default.

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
        Per epoch: ``epoch``, ``train_loss``, ``train_acc`` (the share of
        the epoch's training texts predicted right as they were trained,
        dropout included, unweighted; with ``accelerate``, the main
        process's share of the batches), ``dur`` (seconds), with a
        learning-rate schedule the epoch's ``lr``, and with early stopping
        ``valid_loss`` and ``valid_acc``.
    n_epochs_ : int
        Number of epochs trained, over all warm-started fits.
    best_epoch_ : int or None
        With early stopping, the epoch whose weights were kept: the last one
        whose validation loss improved, as ``early_stopping`` defines it;
        None without early stopping.
    pretrained_coverage_ : float or None
        1.0 when the network started from ``embeddings`` (a row for every
        id), None without them.
    pretrain_loss_ : list of float or None
        With ``pretrain``, the language model's mean loss in each
        pretraining epoch, in nats per predicted token; None without.
    self_labelled_per_round_ : list of int or None
        With ``self_training_rounds``, how many unlabeled texts each round
        labelled (empty when the first training was interrupted); None
        without. ``history_``, ``n_epochs_`` and
        ``best_epoch_`` then describe the last round's training.

    See Also
    --------
    RNNTextClassifier : The same model on raw texts.
    TextVectorizer : Turns texts into the ids this model reads.
    """

    _parameter_constraints = {
        **BaseRNNClassifier._parameter_constraints,  # noqa: SLF001 (extended here)
        "embeddings": [
            IsNone(),
            InstanceOf(np.ndarray, "an array of shape (n_tokens, embedding_dim)"),
        ],
    }
    _check_inputs = staticmethod(check_ids)

    def fit(self, X, y, sample_weight=None, validation_data=None):
        """Train on token ids.

        Parameters
        ----------
        X : array-like of shape (n_samples, max_length)
            Right-padded token ids, non-negative integers, 0 being padding.
        y : array-like of shape (n_samples,)
            Labels of any hashable type. A missing label (None, NaN or
            ``pd.NA``) marks an unlabeled sample: it adds its ids to the id
            space and, with ``pretrain``, to the language model's texts, and
            is never in the classification loss, the validation split or the
            class weights, unless ``self_training_rounds`` labels it. -1 is
            a label like any other.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample in the loss.
        validation_data : tuple (X_val, y_val), default=None
            Validation token ids, read with the id space of ``X`` (larger ids
            as the unknown token), and their labels, all among those of
            ``y``: early stopping judges epochs by the loss on them instead
            of holding out ``validation_fraction`` of ``X``, which then
            trains whole. Early stopping is on with them unless
            ``early_stopping=False``, which still records their loss and
            accuracy in ``history_`` each epoch. Like ``sample_weight``, it
            reaches this step through a pipeline as ``step__validation_data``
            and through a search by metadata routing; it is not transformed
            by a pipeline's earlier steps.

        Returns
        -------
        self : RNNClassifier
            The fitted classifier.
        """
        return self._train(Trainer.fit, X, y, sample_weight, validation_data)

    def partial_fit(self, X, y, classes=None, sample_weight=None, validation_data=None):
        """Train for one epoch on one chunk of token ids.

        For data that does not fit in memory at once: call it on one chunk
        after another. The first call fixes the classes, from ``classes``,
        and the id space: one id for every id of that chunk (or every row of
        ``embeddings``, when more); larger ids in later chunks are read as
        the unknown token, as in :meth:`predict`. So fit the vectorizer on
        the whole data first, and pass ``embeddings`` or start with a chunk
        that holds its largest id. Each call trains one epoch at the current
        learning rate and adds one row to ``history_``; ``max_epochs``,
        ``early_stopping``, ``validation_fraction``, ``n_iter_no_change``,
        ``lr_schedule``, ``warm_start`` and self-training are not used
        (unlabeled samples in the first call add to the id space and
        pretraining only). A model fitted with
        :meth:`fit` is trained further.

        Parameters
        ----------
        X : array-like of shape (n_samples, max_length)
            A chunk of right-padded token ids.
        y : array-like of shape (n_samples,)
            Their labels, all of them among ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every label of the whole data. Required in the first call; in
            later calls it can be left out, or must be the same.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample in the loss, used as given so
            that the weights of different chunks compare: each must be 0 or
            within [1e-6, 1e15].
        validation_data : tuple (X_val, y_val), default=None
            Validation token ids and their labels: their loss and accuracy
            after this epoch are recorded in ``history_`` (``valid_loss``,
            ``valid_acc``), to judge when to stop calling ``partial_fit``.

        Returns
        -------
        self : RNNClassifier
            The classifier, trained one epoch further.
        """
        return self._train(
            Trainer.partial_fit, X, y, classes, sample_weight, validation_data
        )

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
        ids = unknown_beyond(check_ids(X), self.n_tokens_)
        return self.net_.attention_weights_ids(ids)

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
        return self._proba_from_logits(self._logits(X))

    def predict_log_proba(self, X):
        """Log of the class probabilities of token-id sequences.

        Computed from the logits, so that classes of probability near 0 or
        1 keep their precision.

        Parameters
        ----------
        X : array-like of shape (n_samples, max_length)
            Right-padded token ids.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        return self._log_proba_from_logits(self._logits(X))

    def decision_function(self, X):
        """The network's scores for token-id sequences: its logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, max_length)
            Right-padded token ids.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            With two classes, as scikit-learn's binary classifiers give it:
            the log-odds of ``classes_[1]``, positive where it is predicted.
            With more, each class's logit, in the order of ``classes_``; the
            largest is the predicted class. The probabilities are their
            softmax.
        """
        return self._decision_from_logits(self._logits(X))

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
        return self._predict_from_logits(self._logits(X))

    def _logits(self, X):
        check_is_fitted(self, "net_")
        ids = unknown_beyond(check_ids(X), self.n_tokens_)
        return self.net_.logits_ids(ids)


class RNNTextClassifier(BaseRNNClassifier):
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
    max_len : int or None, default=128
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
    hidden_size : int, default=64
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
        each vocabulary token gets one learnt weight per class, and a text
        adds its tokens' weights times their TF-IDF values (sublinear term
        frequency, idf from the training texts, L2-normalised), as logistic
        regression reads a ``TfidfVectorizer(sublinear_tf=True)`` matrix. The
        recurrent network then learns what word counts miss. These weights
        learn at ten times ``lr``, since each token's weights move only on the
        batches that hold the token; when an epoch has more than 150 batches,
        at ``10 * sqrt(150 / batches)`` times (see :ref:`bag_of_words`).
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
    lr : float, default=3e-3
        Learning rate.
    batch_size : int, default=64
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
        when the loss has not fallen for some epochs in a row: with early
        stopping, the validation loss for ``n_iter_no_change - 1`` epochs (at
        least one) without an improvement as early stopping counts one, so
        that the last epoch before stopping runs at the lower rate; without,
        the training loss for two; ``"cosine"`` anneals it to 0 over
        ``max_epochs``; ``"constant"`` keeps it.
    early_stopping : "auto" or bool, default="auto"
        Hold out ``validation_fraction`` of the training data (stratified),
        stop when its loss has not improved for ``n_iter_no_change`` epochs,
        and keep the weights of the best epoch. An epoch improves when its
        validation loss is below the best epoch's by more than the standard
        error of the text-by-text difference: a smaller fall is noise.
        ``"auto"`` does so when there are at least 1000 training samples
        (below that, a validation split is too small to judge epochs by) and
        every class has enough samples for both sides of the split;
        otherwise it trains all ``max_epochs``.
    validation_fraction : float in (0, 1), default=0.1
        Share of the training data held out for early stopping. Only used
        when early stopping is on.
    n_iter_no_change : int, default=2
        Epochs without improvement of the validation loss (as
        ``early_stopping`` defines it) before stopping.
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
    pretrain : {None, "lm"}, default=None
        With ``"lm"``, a new network's embedding and recurrent layers are
        first trained as a language model on every text ``fit`` is given,
        labelled or not (a missing label in ``y`` marks a text without one):
        the forward direction learns to predict each next token, the
        backward direction each previous one, before any label is seen. The
        classifier then trains from those weights, at the same rates as
        the layers it adds. The language model predicts the 20,000 lowest
        ids (a TextVectorizer's most frequent tokens) through an adaptive
        softmax, and predicts higher ones as the unknown token while reading
        them as they are; padding is never read nor predicted. It costs
        ``pretrain_epochs`` passes over all the texts, run in float32 on
        ``device`` with Adam at ``lr``, ``batch_size`` and
        ``clip_grad_norm``, whatever ``optimizer`` and ``weight_decay`` say.
        A network is pretrained when it is built: by ``fit`` without
        ``warm_start`` and by the first ``partial_fit`` call, on that call's
        texts. Not with ``accelerate=True``. See :ref:`unlabeled_texts`.
    pretrain_epochs : int, default=1
        Passes of the language model over the texts, with ``pretrain``.
    self_training_rounds : int, default=0
        Rounds of self-training on the texts ``y`` leaves unlabeled, after
        the first training: the network predicts them, each one whose most
        probable class has probability ``self_training_threshold`` or more
        takes that class as its label for every later round, and a new
        network is trained on the labelled and self-labelled texts from the
        same starting weights (the pretrained ones, with ``pretrain``).
        Rounds stop early when no unlabeled text is left or none is sure.
        A self-labelled text weighs its own ``sample_weight`` (so lower
        weights for unlabeled texts trust their labels less), times
        ``class_weight`` of its label; ``"balanced"`` counts each round's
        training texts. Early stopping judges each round on the labelled
        texts held out of the first and on ``validation_fraction`` of the
        self-labelled ones, never trained on; ``validation_data``, when
        given, judges alone. Each round is a whole training, on up to all
        the texts: expect the fit to take many times as long. Applied by
        ``fit`` when it builds a network; ``partial_fit`` and a continued
        ``warm_start`` fit train on labelled texts only (and warn). Not with
        ``accelerate=True``. See :ref:`self_training`.
    self_training_threshold : float in [0, 1), default=0.75
        The probability of its predicted class an unlabeled text needs (at
        least) to be self-labelled, with ``self_training_rounds``; 0.75 is
        scikit-learn's ``SelfTrainingClassifier``'s default.

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
        Per epoch: ``epoch``, ``train_loss``, ``train_acc`` (the share of
        the epoch's training texts predicted right as they were trained,
        dropout included, unweighted; with ``accelerate``, the main
        process's share of the batches), ``dur`` (seconds), with a
        learning-rate schedule the epoch's ``lr``, and with early stopping
        ``valid_loss`` and ``valid_acc``.
    n_epochs_ : int
        Number of epochs trained, over all warm-started fits.
    best_epoch_ : int or None
        With early stopping, the epoch whose weights were kept: the last one
        whose validation loss improved, as ``early_stopping`` defines it;
        None without early stopping.
    pretrained_coverage_ : float or None
        The share of the vocabulary that had a pretrained vector in
        ``embeddings``; None without word vectors.
    pretrain_loss_ : list of float or None
        With ``pretrain``, the language model's mean loss in each
        pretraining epoch, in nats per predicted token; None without.
    self_labelled_per_round_ : list of int or None
        With ``self_training_rounds``, how many unlabeled texts each round
        labelled (empty when the first training was interrupted); None
        without. ``history_``, ``n_epochs_`` and
        ``best_epoch_`` then describe the last round's training.

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

    _trainer = TextTrainer
    _check_inputs = staticmethod(check_texts)

    _parameter_constraints = {
        # scikit-learn's pattern: a class's constraints merged into another's
        **TextVectorizer._parameter_constraints,  # noqa: SLF001
        "vocabulary": [
            InstanceOf(TextVectorizer, "a fitted TextVectorizer"),
            *VOCABULARY_CONSTRAINTS,
        ],
        **BaseRNNClassifier._parameter_constraints,  # noqa: SLF001 (extended here)
    }

    def __init__(
        self,
        *,
        max_features=50_000,
        min_df=1,
        max_len=128,
        lowercase=True,
        token_pattern=None,
        tokenizer=None,
        analyzer="word",
        truncation="post",
        vocabulary=None,
        embedding_dim=100,
        hidden_size=64,
        num_layers=1,
        cell="lstm",
        bidirectional=True,
        dropout=0.5,
        embedding_dropout=0.5,
        pooling="max",
        bag_of_words=True,
        embeddings=None,
        freeze_embeddings=False,
        lr=3e-3,
        batch_size=64,
        max_epochs=20,
        optimizer="adam",
        weight_decay=0.0,
        clip_grad_norm=5.0,
        lr_schedule="plateau",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=2,
        class_weight=None,
        device="auto",
        precision="float32",
        accelerate=False,
        random_state=None,
        verbose=0,
        warm_start=False,
        pretrain=None,
        pretrain_epochs=1,
        self_training_rounds=0,
        self_training_threshold=0.75,
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
            pretrain=pretrain,
            pretrain_epochs=pretrain_epochs,
            self_training_rounds=self_training_rounds,
            self_training_threshold=self_training_threshold,
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

    def fit(self, X, y, sample_weight=None, validation_data=None):
        """Learn the vocabulary and train the network.

        Parameters
        ----------
        X : sequence of str
            Texts: a list, tuple, 1-D array, pandas Series or one-column
            DataFrame.
        y : array-like of shape (n_samples,)
            Labels of any hashable type (str, int, bool...). A missing label
            (None, NaN or ``pd.NA``) marks an unlabeled text: it adds its
            words to the vocabulary and, with ``pretrain``, to the language
            model's texts, and is never in the classification loss, the
            validation split or the class weights, unless
            ``self_training_rounds`` labels it. -1 is a label like any
            other. See :ref:`unlabeled_texts`.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each text in the loss.
        validation_data : tuple (X_val, y_val), default=None
            Validation texts and their labels, all among those of ``y``, such
            as a data set's official development split: early stopping judges
            epochs by the loss on them instead of holding out
            ``validation_fraction`` of ``X``, which then trains whole. The
            texts are read with the vocabulary learnt from ``X``. Early
            stopping is on with them unless ``early_stopping=False``, which
            still records their loss and accuracy in ``history_`` each epoch.
            Like ``sample_weight``, it reaches this step through a pipeline as
            ``step__validation_data`` and through a search or
            ``cross_validate`` by metadata routing (see the user guide); it is
            not transformed by a pipeline's earlier steps.

        Returns
        -------
        self : RNNTextClassifier
            The fitted classifier.
        """
        return self._train(TextTrainer.fit, X, y, sample_weight, validation_data)

    def partial_fit(self, X, y, classes=None, sample_weight=None, validation_data=None):
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
        ``n_iter_no_change``, ``lr_schedule``, ``warm_start`` and
        self-training are not used (unlabeled texts in the first call add
        to the vocabulary and pretraining only). A model fitted with
        :meth:`fit` is trained further.

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
        validation_data : tuple (X_val, y_val), default=None
            Validation texts and their labels: their loss and accuracy
            after this epoch are recorded in ``history_`` (``valid_loss``,
            ``valid_acc``), to judge when to stop calling ``partial_fit``.

        Returns
        -------
        self : RNNTextClassifier
            The classifier, trained one epoch further.
        """
        return self._train(
            TextTrainer.partial_fit, X, y, classes, sample_weight, validation_data
        )

    def __sklearn_clone__(self):
        copy = super().__sklearn_clone__()
        # clone would unfit a TextVectorizer given as the vocabulary; it is
        # only read, so the clones share it.
        copy.vocabulary = self.vocabulary
        return copy

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
        tokenized, ids = tokens_and_ids(self.vectorizer_, X)
        weights = self.net_.attention_weights_ids(ids)
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
        return self._proba_from_logits(self._logits(X))

    def predict_log_proba(self, X):
        """Log of the class probabilities of texts.

        Computed from the logits, so that classes of probability near 0 or
        1 keep their precision.

        Parameters
        ----------
        X : sequence of str
            Texts.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        return self._log_proba_from_logits(self._logits(X))

    def decision_function(self, X):
        """The network's scores for texts: its logits.

        Parameters
        ----------
        X : sequence of str
            Texts.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            With two classes, as scikit-learn's binary classifiers give it:
            the log-odds of ``classes_[1]``, positive where it is predicted.
            With more, each class's logit, in the order of ``classes_``; the
            largest is the predicted class. The probabilities are their
            softmax.
        """
        return self._decision_from_logits(self._logits(X))

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
        return self._predict_from_logits(self._logits(X))

    def _logits(self, X):
        check_is_fitted(self, "net_")
        return self.net_.logits_ids(
            *text_inputs(self.vectorizer_, self.net_, check_texts(X))
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
