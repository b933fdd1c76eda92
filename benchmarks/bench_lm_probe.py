"""What pretrain="lm" teaches the network about the labels: a linear probe.

The network of ``RNNTextClassifier``'s defaults (``--hidden-sizes`` widths)
reads IMDB reviews: the first ``--labelled`` of the shuffled training split
with their labels, the next ``--unlabeled`` without. It is pretrained as a
language model on all of them, exactly as ``pretrain="lm"`` does
(``sklearn_rnn.pretraining.pretrain_language_model``, ``--pretrain-epochs``
passes). A logistic regression (its C chosen by 3-fold cross-validation on
the labelled reviews) then reads the mean and the max over real tokens of
each direction's language-model states, and is scored on ``--max-test`` test
reviews.

Side by side: the same probe on the same network at its random
initialisation, before pretraining; and TF-IDF bigrams + logistic regression
on the labelled reviews. A probe far above the random network's means that
the language model learnt features of the labels before seeing any; one at
its level means that whatever the classifier gains from pretraining, it must
learn from the labels.
"""

import time

import numpy as np
import torch
from _common import (
    fmt,
    load_texts,
    make_parser,
    parse_args,
    print_header,
    print_table,
    set_threads,
    tfidf_bigram_lr,
    write_json,
)
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_rnn import RNNTextClassifier, TextVectorizer
from sklearn_rnn.modules import (
    RNNModule,
    masked_max,
    masked_mean,
    real_token_mask,
)
from sklearn_rnn.pretraining import pretrain_language_model

NETWORK_PARAMETERS = (
    "embedding_dim",
    "num_layers",
    "cell",
    "bidirectional",
    "dropout",
    "embedding_dropout",
)
QUICK_SIZES = {"labelled": 200, "unlabeled": 300, "test": 300}


def pooled_states(module, ids, batch_size=256):
    """Mean and max over each text's real tokens of both directions' states."""
    features = []
    module.eval()
    with torch.no_grad():
        for start in range(0, len(ids), batch_size):
            batch = torch.as_tensor(ids[start : start + batch_size])
            lengths = (batch != 0).sum(dim=1).clamp(min=1)
            batch = batch[:, : int(lengths.max())]
            real = real_token_mask(lengths, batch.shape[1])
            parts = []
            for states in module.language_model_states(batch, lengths):
                if states is None:
                    continue
                # the backward states are in reversed order: real tokens first
                parts += [masked_mean(states, real), masked_max(states, real)]
            features.append(torch.cat(parts, dim=1).numpy())
    return np.concatenate(features)


def probe_accuracy(module, train_ids, train_labels, test_ids, test_labels):
    probe = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)),
        {"logisticregression__C": [1e-3, 1e-2, 1e-1, 1.0]},
        cv=3,
    )
    probe.fit(pooled_states(module, train_ids), train_labels)
    return float(np.mean(probe.predict(pooled_states(module, test_ids)) == test_labels))


def main():
    parser = make_parser(__doc__, ["imdb"])
    parser.add_argument("--labelled", type=int, default=1000)
    parser.add_argument("--unlabeled", type=int, default=20_000)
    parser.add_argument("--max-test", type=int, default=5000)
    parser.add_argument("--hidden-sizes", type=int, nargs="+", default=[64])
    parser.add_argument("--pretrain-epochs", type=int, default=1)
    parser.add_argument(
        "--max-len", type=int, help="tokens read per text; default: the estimator's"
    )
    args = parse_args(parser)
    set_threads(args.threads)
    sizes = (
        QUICK_SIZES
        if args.quick
        else {"labelled": args.labelled, "unlabeled": args.unlabeled}
        | {"test": args.max_test}
    )
    texts, labels = load_texts(args.data_dir, "imdb", "train", None, args.seed)
    n_labelled = sizes["labelled"]
    labelled, labels = texts[:n_labelled], labels[:n_labelled]
    unlabeled = texts[n_labelled : n_labelled + sizes["unlabeled"]]
    test_texts, test_labels = load_texts(
        args.data_dir, "imdb", "test", sizes["test"], args.seed
    )
    defaults = RNNTextClassifier().get_params()
    max_len = args.max_len or defaults["max_len"]
    vectorizer = TextVectorizer(max_len=max_len).fit(labelled + unlabeled)
    train_ids = vectorizer.transform(labelled)
    all_ids = np.concatenate([train_ids, vectorizer.transform(unlabeled)])
    test_ids = vectorizer.transform(test_texts)
    n_tokens = len(vectorizer.vocabulary_) + 2

    print_header("Linear probe of the language model's states", args)
    print(
        f"IMDB: {n_labelled:,} labelled and {len(unlabeled):,} unlabeled "
        f"reviews, {len(test_texts):,} test reviews, {max_len} tokens each.\n"
    )
    tfidf = tfidf_bigram_lr().fit(labelled, labels)
    rows = [
        {
            "features": "TF-IDF bigrams (reference)",
            "hidden size": "",
            "LM loss": "",
            "pretrain s": "",
            "probe accuracy %": fmt(
                100 * np.mean(tfidf.predict(test_texts) == test_labels)
            ),
        }
    ]
    results = []
    for hidden_size in args.hidden_sizes:
        torch.manual_seed(args.seed)
        module = RNNModule(
            n_tokens,
            len(np.unique(labels)),
            hidden_size=hidden_size,
            pooling=defaults["pooling"],
            **{name: defaults[name] for name in NETWORK_PARAMETERS},
        )
        accuracy = {
            "random": probe_accuracy(module, train_ids, labels, test_ids, test_labels)
        }
        start = time.perf_counter()
        losses = pretrain_language_model(
            module,
            all_ids,
            epochs=1 if args.quick else args.pretrain_epochs,
            batch_size=defaults["batch_size"],
            lr=defaults["lr"],
            clip_grad_norm=defaults["clip_grad_norm"],
            device="cpu",
            seed=args.seed,
        )
        seconds = time.perf_counter() - start
        accuracy["pretrained"] = probe_accuracy(
            module, train_ids, labels, test_ids, test_labels
        )
        results.append(
            {
                "hidden_size": hidden_size,
                "lm_loss": losses,
                "pretrain_seconds": seconds,
                "probe_accuracy": accuracy,
            }
        )
        for state, value in accuracy.items():
            rows.append(
                {
                    "features": f"network states, {state}",
                    "hidden size": hidden_size,
                    "LM loss": " ".join(f"{loss:.2f}" for loss in losses)
                    if state == "pretrained"
                    else "",
                    "pretrain s": fmt(seconds) if state == "pretrained" else "",
                    "probe accuracy %": fmt(100 * value),
                }
            )
    print_table("Test accuracy of a logistic regression on each feature set", rows)
    write_json(args.json, "bench_lm_probe", args, results)


if __name__ == "__main__":
    main()
