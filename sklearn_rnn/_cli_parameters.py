"""The parameters of RNNTextClassifier that the command line offers as options,
grouped for ``train --help``, with their defaults and descriptions.

They are read from ``classifier.py``'s source, not from the imported class:
importing it loads PyTorch, seconds that ``--help`` and a mistyped option
should not wait for. tests/test_cli.py checks that the two agree.
"""

import ast
import importlib.util
import inspect
import re
from pathlib import Path

ESTIMATOR = "RNNTextClassifier"
# Parameters a command line cannot or need not set: a function cannot be typed
# (nor saved safely), there is no fitted model to continue, and the command
# sets the verbosity from --quiet.
NOT_OPTIONS = ("tokenizer", "vocabulary", "warm_start", "verbose")
# train --help's groups of model parameters, in this order, each with its
# most used parameters first.
OPTION_GROUPS = {
    "training": (
        "max_epochs",
        "lr",
        "batch_size",
        "class_weight",
        "random_state",
        "early_stopping",
        "n_iter_no_change",
        "validation_fraction",
        "lr_schedule",
        "optimizer",
        "weight_decay",
        "clip_grad_norm",
        "pretrain",
        "pretrain_epochs",
        "self_training_rounds",
        "self_training_threshold",
    ),
    "network": (
        "cell",
        "hidden_size",
        "embedding_dim",
        "bidirectional",
        "num_layers",
        "pooling",
        "dropout",
        "embedding_dropout",
        "bag_of_words",
        "embeddings",
        "freeze_embeddings",
    ),
    "text": (
        "max_len",
        "max_features",
        "min_df",
        "lowercase",
        "token_pattern",
        "analyzer",
        "truncation",
    ),
    "device": ("device", "precision", "accelerate"),
}


def option_parameters():
    """Name -> (default, description) of every parameter offered as an option,
    in the order of ``OPTION_GROUPS``."""
    docstring, defaults = _estimator_source()
    descriptions = documented_parameters(docstring)
    return {
        name: (defaults[name], descriptions.get(name, ""))
        for names in OPTION_GROUPS.values()
        for name in names
    }


def parameter_names():
    """The names of the options' parameters."""
    return [name for names in OPTION_GROUPS.values() for name in names]


def _estimator_source():
    """RNNTextClassifier's docstring and ``__init__`` defaults, from its source;
    from the class itself where the source is not installed."""
    spec = importlib.util.find_spec(f"{__package__}.classifier")
    path = Path(spec.origin) if spec and spec.origin else None
    if path is None or path.suffix != ".py" or not path.is_file():
        return _estimator_class_source()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    cls = next(
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef) and node.name == ESTIMATOR
    )
    init = next(
        node
        for node in cls.body
        if isinstance(node, ast.FunctionDef) and node.name == "__init__"
    )
    defaults = {
        argument.arg: ast.literal_eval(default)
        for argument, default in zip(
            init.args.kwonlyargs, init.args.kw_defaults, strict=True
        )
    }
    return ast.get_docstring(cls), defaults


def _estimator_class_source():
    from .classifier import RNNTextClassifier

    return inspect.getdoc(RNNTextClassifier), RNNTextClassifier().get_params()


def documented_parameters(docstring):
    """Each parameter's accepted values and first sentence, from a numpydoc
    docstring."""
    lines = (docstring or "").splitlines()
    descriptions, name, text = {}, None, []
    in_parameters = False
    for line, underline in zip(lines, lines[1:] + [""], strict=True):
        if re.fullmatch(r"-{3,}", underline):
            in_parameters = line == "Parameters"
            name = None
            continue
        if not in_parameters or re.fullmatch(r"-{3,}", line):
            continue
        entry = re.fullmatch(r"(\w+) : (.*?),?\s*(?:default=.*)?", line)
        if entry:
            name, text = entry[1], []
            descriptions[name] = (entry[2], text)
        elif name and line.startswith(" "):
            text.append(line.strip())
    return {
        name: f"{_first_sentence(' '.join(text))} [{plain_rst(kind)}]"
        for name, (kind, text) in descriptions.items()
    }


def _first_sentence(text):
    return plain_rst(re.split(r"(?<=\.)\s", text, maxsplit=1)[0])


def plain_rst(text):
    """reStructuredText roles and literals as plain text."""
    text = re.sub(r":\w+:`~?(?:[\w.]+\.)?([^`]+)`", r"\1", text)
    return text.replace("``", "")
