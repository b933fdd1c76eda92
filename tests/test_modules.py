import itertools

import numpy as np
import pytest
import scipy.sparse
import torch
from sklearn.feature_extraction.text import TfidfTransformer

from sklearn_rnn.batching import (
    PREDICT_BATCH_TOKENS,
    PREDICT_MAX_TEXTS,
    BatchIterator,
    EncodedTexts,
    prediction_batches,
)
from sklearn_rnn.modules import Dropout, RNNModule

CONFIGS = list(
    itertools.product(
        ["rnn", "lstm", "gru"], [False, True], ["last", "mean", "max", "attention"]
    )
)


def make_module(cell, bidirectional, pooling, num_layers=1, bag_of_words=True):
    torch.manual_seed(0)
    module = RNNModule(
        n_tokens=20,
        n_classes=3,
        embedding_dim=6,
        hidden_size=5,
        num_layers=num_layers,
        cell=cell,
        bidirectional=bidirectional,
        dropout=0.3,
        pooling=pooling,
        bag_of_words=bag_of_words,
    )
    if bag_of_words:
        # the bag starts at zero and the idf at one; other values make the
        # tests see them
        with torch.no_grad():
            module.bag.weight[1:].normal_()
        module.set_bag_idf(10, np.arange(20) % 7)
    return module.eval()


def random_batch(seed=0, n_rows=6, max_length=9):
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, max_length + 1, (n_rows,), generator=generator)
    lengths[0] = max_length
    ids = torch.randint(1, 20, (n_rows, max_length), generator=generator)
    ids[torch.arange(max_length)[None, :] >= lengths[:, None]] = 0
    return ids, lengths


@pytest.mark.parametrize(("cell", "bidirectional", "pooling"), CONFIGS)
def test_extra_padding_changes_no_output(cell, bidirectional, pooling):
    module = make_module(cell, bidirectional, pooling, num_layers=2)
    ids, lengths = random_batch()
    padded = torch.cat([ids, torch.zeros(len(ids), 7, dtype=ids.dtype)], dim=1)
    with torch.no_grad():
        expected = module(ids, lengths)
        torch.testing.assert_close(module(padded, lengths), expected)
        torch.testing.assert_close(module(padded), expected)


@pytest.mark.parametrize(("cell", "bidirectional", "pooling"), CONFIGS)
def test_each_text_gets_the_output_it_gets_alone(cell, bidirectional, pooling):
    module = make_module(cell, bidirectional, pooling)
    ids, lengths = random_batch(seed=1)
    with torch.no_grad():
        together = module(ids, lengths)
        for row, length in enumerate(lengths):
            alone = module(ids[row : row + 1, :length], length[None])
            torch.testing.assert_close(together[row : row + 1], alone)


def states_of_one_text(module, ids):
    """Reference recurrence of one unpadded text, the backward one by flipping."""
    states = module.embedding(ids[None, :])
    for directions in module.layers:
        outputs = [directions[0](states)[0]]
        if len(directions) == 2:
            outputs.append(directions[1](states.flip(1))[0].flip(1))
        states = torch.cat(outputs, dim=2)
    return states[0]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_last_pooling_joins_forward_end_and_backward_start(cell):
    module = make_module(
        cell, bidirectional=True, pooling="last", num_layers=2, bag_of_words=False
    )
    ids, lengths = random_batch(seed=2)
    hidden = module.hidden_size
    with torch.no_grad():
        logits = module(ids, lengths)
        for row, length in enumerate(lengths):
            states = states_of_one_text(module, ids[row, :length])
            pooled = torch.cat([states[length - 1, :hidden], states[0, hidden:]])
            torch.testing.assert_close(logits[row], module.head(pooled))


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_mean_and_max_pool_over_real_tokens_only(pooling, bidirectional):
    module = make_module(
        "gru", bidirectional=bidirectional, pooling=pooling, bag_of_words=False
    )
    ids, lengths = random_batch(seed=3)
    with torch.no_grad():
        logits = module(ids, lengths)
        for row, length in enumerate(lengths):
            states = states_of_one_text(module, ids[row, :length])
            pooled = states.mean(0) if pooling == "mean" else states.amax(0)
            torch.testing.assert_close(logits[row], module.head(pooled))


def test_a_row_of_padding_only_is_read_as_one_token():
    module = make_module("lstm", bidirectional=True, pooling="mean")
    ids = torch.tensor([[3, 4, 0], [0, 0, 0]])
    with torch.no_grad():
        logits = module(ids)
    assert torch.isfinite(logits).all()


def test_unknown_pooling_is_refused():
    with pytest.raises(ValueError, match="pooling"):
        RNNModule(n_tokens=5, n_classes=2, pooling="sum")


def test_batches_are_trimmed_to_their_longest_text():
    ids = torch.zeros((5, 10), dtype=torch.int64)
    for row, length in enumerate([2, 3, 1, 4, 2]):
        ids[row, :length] = 1
    data = EncodedTexts(ids.numpy(), y=[0, 1, 0, 1, 0])
    batches = list(BatchIterator(data, batch_size=2))
    assert [batch[0]["ids"].shape[1] for batch in batches] == [3, 4, 2]
    assert [batch[0]["lengths"].tolist() for batch in batches] == [[2, 3], [1, 4], [2]]
    assert len(BatchIterator(data, batch_size=2)) == 3


def test_shuffled_batches_cover_every_sample_once_per_epoch():
    ids = torch.arange(1, 11).reshape(10, 1)
    iterator = BatchIterator(EncodedTexts(ids.numpy()), batch_size=3, shuffle=True)
    torch.manual_seed(0)
    first = torch.cat([inputs["ids"][:, 0] for inputs, _ in iterator])
    second = torch.cat([inputs["ids"][:, 0] for inputs, _ in iterator])
    assert sorted(first.tolist()) == sorted(second.tolist()) == list(range(1, 11))
    assert first.tolist() != second.tolist()


def test_shuffled_batches_group_texts_of_similar_length():
    lengths = torch.randint(1, 200, (3200,), generator=torch.Generator().manual_seed(0))
    ids = (torch.arange(200)[None, :] < lengths[:, None]).long() * 5
    iterator = BatchIterator(EncodedTexts(ids.numpy()), batch_size=32, shuffle=True)
    torch.manual_seed(0)
    batches = [inputs["lengths"] for inputs, _ in iterator]
    padded = sum(len(batch) * int(batch.max()) for batch in batches)
    # Random batches of 32 would carry about 1.9x the real tokens; buckets of
    # 50 batches sorted by length carry almost none in padding.
    assert padded / int(lengths.sum()) < 1.05
    first_lengths = [int(batch[0]) for batch in batches]
    assert first_lengths != sorted(first_lengths)


def test_prediction_batches_bound_their_token_positions():
    lengths = torch.randint(
        1, 3000, (2000,), generator=torch.Generator().manual_seed(0)
    )
    lengths[:700] = 3  # many short texts: capped by the number of texts
    batches = list(prediction_batches(lengths))
    assert sorted(torch.cat(batches).tolist()) == list(range(2000))
    for index in batches:
        positions = len(index) * int(lengths[index].max())
        assert positions <= PREDICT_BATCH_TOKENS or len(index) == 1
        assert len(index) <= PREDICT_MAX_TEXTS
    assert max(len(index) for index in batches) == PREDICT_MAX_TEXTS


@pytest.mark.parametrize("bidirectional", [False, True])
def test_attention_weights_cover_real_tokens_and_sum_to_one(bidirectional):
    module = make_module("lstm", bidirectional, "attention", num_layers=2)
    ids, lengths = random_batch(seed=2)
    with torch.no_grad():
        weights = module.attention_weights(ids, lengths)
    assert weights.shape == ids.shape
    real = torch.arange(ids.shape[1])[None, :] < lengths[:, None]
    assert torch.all(weights[~real] == 0)
    assert torch.all(weights[real] > 0)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(len(ids)))


def test_attention_pooling_is_the_attention_weighted_state_average():
    module = make_module("gru", True, "attention", bag_of_words=False)
    ids, lengths = random_batch(seed=3)
    with torch.no_grad():
        states, _ = module._encode(ids, lengths)
        weights = module.attention_weights(ids, lengths)
        pooled = (weights.unsqueeze(-1) * states).sum(dim=1)
        torch.testing.assert_close(module(ids, lengths), module.head(pooled))


def test_attention_weights_need_attention_pooling():
    module = make_module("lstm", True, "max")
    ids, lengths = random_batch()
    with pytest.raises(ValueError, match="pooling='attention'"):
        module.attention_weights(ids, lengths)


def test_embedding_dropout_acts_in_training_only():
    torch.manual_seed(0)
    module = RNNModule(n_tokens=20, n_classes=2, embedding_dropout=0.5, dropout=0.0)
    ids, lengths = random_batch()
    module.train()
    assert not torch.equal(module(ids, lengths), module(ids, lengths))
    module.eval()
    torch.testing.assert_close(module(ids, lengths), module(ids, lengths))


@pytest.mark.cuda
def test_dropout_on_a_gpu_is_pytorchs_fused_one():
    inputs = torch.ones(1000, device="cuda")
    torch.cuda.manual_seed(0)
    ours = Dropout(0.5)(inputs)
    torch.cuda.manual_seed(0)
    pytorchs = torch.nn.functional.dropout(inputs, 0.5, training=True)
    assert torch.equal(ours, pytorchs)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_keeps_each_value_scaled_or_zeroes_it(p):
    inputs = torch.linspace(1, 2, 100_000, requires_grad=True)
    dropout = Dropout(p)
    torch.manual_seed(0)
    outputs = dropout(inputs)
    kept = outputs != 0
    torch.testing.assert_close(outputs[kept], inputs[kept] / (1 - p))
    # 100,000 draws: the kept share is within 0.02 of 1 - p by over 10
    # standard deviations, whatever the seed
    assert abs(kept.float().mean().item() - (1 - p)) < 0.02
    outputs.sum().backward()
    expected = kept.float() / (1 - p)
    torch.testing.assert_close(inputs.grad, expected)
    dropout.eval()
    assert dropout(inputs) is inputs


def test_frozen_embeddings_take_no_gradient():
    module = RNNModule(n_tokens=20, n_classes=2, freeze_embeddings=True)
    ids, lengths = random_batch()
    module(ids, lengths).sum().backward()
    assert module.embedding.weight.grad is None
    assert module.head.weight.grad is not None


def test_embeddings_of_the_wrong_shape_are_refused():
    module = RNNModule(n_tokens=20, n_classes=2, embedding_dim=4)
    with pytest.raises(ValueError, match=r"shape \(20, 4\)"):
        module.set_embeddings(torch.ones(4))


def id_counts(ids, n_tokens=20):
    counts = np.zeros((len(ids), n_tokens))
    for row, text_ids in enumerate(np.asarray(ids)):
        np.add.at(counts[row], text_ids[text_ids != 0], 1)
    return counts


def bag_logits(module, ids, lengths=None, **bag):
    """What the bag of words adds to the logits of ``ids``."""
    with torch.no_grad():
        with_bag = module(ids, lengths, **bag)
        kept, module.bag = module.bag, None
        without_bag = module(ids, lengths)
        module.bag = kept
    return with_bag - without_bag


def test_bag_of_words_adds_tokens_weighted_as_tfidf_does():
    module = make_module("gru", True, "max")
    training_ids, _ = random_batch(seed=1, n_rows=30)
    training_counts = id_counts(training_ids)
    tfidf = TfidfTransformer(sublinear_tf=True).fit(training_counts)
    module.set_bag_idf(30, (training_counts > 0).sum(axis=0))
    ids, lengths = random_batch()
    values = torch.as_tensor(
        tfidf.transform(id_counts(ids)).toarray(), dtype=torch.float32
    )
    expected = values @ module.bag.weight.detach()
    torch.testing.assert_close(bag_logits(module, ids, lengths), expected)


def test_a_network_from_before_the_idf_weights_counts_over_root_length():
    module = make_module("gru", True, "max")
    # as a network pickled before the idf existed is unpickled
    state = vars(module).copy()
    del state["_buffers"]["bag_idf"]
    old = RNNModule.__new__(RNNModule)
    old.__setstate__(state)
    assert old.bag_idf is None
    assert "bag_idf" not in old.state_dict()
    ids, lengths = random_batch()
    expected = module.bag.weight[ids].sum(dim=1) / lengths[:, None].float().sqrt()
    torch.testing.assert_close(bag_logits(old, ids, lengths), expected.detach())


def test_document_frequencies_of_the_wrong_shape_are_refused():
    module = make_module("gru", True, "max")
    with pytest.raises(ValueError, match=r"shape \(20,\)"):
        module.set_bag_idf(3, np.ones(19))
    without_bag = make_module("gru", True, "max", bag_of_words=False)
    with pytest.raises(ValueError, match="bag of words"):
        without_bag.set_bag_idf(3, np.ones(20))


def test_document_frequencies_count_texts_not_occurrences():
    ids = np.array([[2, 2, 3, 0], [3, 4, 4, 4]])
    expected = [0, 0, 1, 2, 1, 0]
    from_ids = EncodedTexts(ids).document_frequency(6)
    counts = scipy.sparse.csr_matrix(id_counts(ids, 6))
    from_counts = EncodedTexts(ids, counts=counts).document_frequency(6)
    np.testing.assert_array_equal(from_ids, expected)
    np.testing.assert_array_equal(from_counts, expected)


def test_a_bag_given_as_counts_equals_the_bag_of_the_ids():
    module = make_module("lstm", False, "mean")
    ids, lengths = random_batch()
    counts = id_counts(ids)
    data = EncodedTexts(ids.numpy(), counts=scipy.sparse.csr_matrix(counts))
    index = torch.tensor([4, 0, 2, 5])  # gathered out of order
    inputs, _ = data.batch(index)
    with torch.no_grad():
        from_ids = module(ids[index], lengths[index])
        from_counts = module(**inputs)
    torch.testing.assert_close(from_counts, from_ids)


def test_a_bag_may_count_more_tokens_than_the_ids_hold():
    module = make_module("gru", True, "last")
    ids = torch.tensor([[3, 4]])
    # the text's tokens are 3, 4, 5, 5; the network reads only the first two
    longer = scipy.sparse.csr_matrix(([1, 1, 2], [3, 4, 5], [0, 3]), shape=(1, 20))
    inputs, _ = EncodedTexts(ids.numpy(), counts=longer).batch(torch.arange(1))
    values = torch.tensor([1, 1, 1 + np.log(2)]).float() * module.bag_idf[[3, 4, 5]]
    expected = (values / values.norm()) @ module.bag.weight[[3, 4, 5]].detach()
    torch.testing.assert_close(bag_logits(module, **inputs), expected[None, :])


def test_bag_of_words_starts_at_zero_and_padding_never_learns():
    module = RNNModule(n_tokens=20, n_classes=3, bag_of_words=True)
    assert not module.bag.weight.any()
    ids, lengths = random_batch()
    module(ids, lengths).sum().backward()
    assert not module.bag.weight.grad[0].any()
    assert module.bag.weight.grad[ids[0, 0]].any()


def test_no_bag_of_words_by_default_in_the_module():
    assert RNNModule(n_tokens=20, n_classes=3).bag is None


def test_shards_of_a_seeded_iterator_share_out_each_epoch():
    ids, _ = random_batch(n_rows=40, max_length=9)
    ids[:, 0] = torch.arange(2, 42)  # the first token names the text
    data = EncodedTexts(ids.numpy())
    shards = []
    for shard_index in (0, 1):
        # each process's global generator in another state: the seed decides
        torch.manual_seed(shard_index)
        iterator = BatchIterator(
            data,
            batch_size=3,
            shuffle=True,
            num_shards=2,
            shard_index=shard_index,
            seed=7,
        )
        assert len(iterator) == 7  # 14 batches, 7 for each process
        shards.append({int(row[0]) for inputs, _ in iterator for row in inputs["ids"]})
    assert not shards[0] & shards[1]
    assert shards[0] | shards[1] == set(range(2, 42))


@pytest.mark.parametrize(("cell", "bidirectional", "pooling"), CONFIGS)
def test_the_packed_path_gives_the_padded_paths_outputs_and_gradients(
    cell, bidirectional, pooling
):
    ids, lengths = random_batch()
    results = []
    for packed in (False, True):
        module = make_module(cell, bidirectional, pooling, num_layers=2).eval()
        module.packed = packed
        logits = module(ids, lengths)
        logits.square().sum().backward()
        results.append((logits, [p.grad for p in module.parameters()]))
    (padded, padded_grads), (packed, packed_grads) = results
    torch.testing.assert_close(packed, padded)
    for packed_grad, padded_grad in zip(packed_grads, padded_grads, strict=True):
        torch.testing.assert_close(packed_grad, padded_grad)
