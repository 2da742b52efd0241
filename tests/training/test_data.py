"""`load_dataset`'s pipelines: splits, batches, seeds and the variants."""

import os

import numpy as np
import pytest
import tensorflow as tf

from tests.training.idx_files import example_ids, fake_fashion_mnist
from constrained_zoo.training.data import sources, variants
from constrained_zoo.datasets import dataset_info
from constrained_zoo.training.data import DatasetSpec, SplitSettings, load_dataset, measure_throughput


def collect(dataset):
    """All `(images, labels)` of a batched dataset, concatenated."""
    xs, ys = zip(*((x.numpy(), y.numpy()) for x, y in dataset))
    return np.concatenate(xs), np.concatenate(ys)


@pytest.fixture(scope="module")
def fake_dir(tmp_path_factory):
    """300 train / 50 test Fashion-MNIST-shaped images that encode their ids."""
    return fake_fashion_mnist(tmp_path_factory.mktemp("fake") / "fm")


@pytest.fixture(scope="module")
def fashion():
    if not os.path.isfile(os.path.join(sources.DEBIAN_DIR, "train-images-idx3-ubyte.gz")):
        pytest.skip(f"Fashion-MNIST IDX files not in {sources.DEBIAN_DIR} "
                    "(apt-get install dataset-fashion-mnist)")
    return load_dataset("fashion_mnist", data_dir=sources.DEBIAN_DIR, batch_size=128)


# ---------------------------------------------------------------- batches
def test_fashion_mnist_batches_and_spec(fashion):
    splits, spec = fashion
    assert spec == DatasetSpec(
        name="fashion_mnist", input_shape=(28, 28, 1), num_classes=10,
        class_names=dataset_info("fashion_mnist").class_names, num_train=54_000,
        num_validation=6_000, num_test=10_000, source=os.path.abspath(sources.DEBIAN_DIR),
    )
    for split in splits:
        assert split.element_spec == (
            tf.TensorSpec((None, 28, 28, 1), tf.float32), tf.TensorSpec((None,), tf.int32)
        )
    images, labels = next(iter(splits.train))
    assert images.shape == (128, 28, 28, 1) and labels.shape == (128,)
    assert 0 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 1
    assert sum(1 for _ in splits.test) == 79  # ceil(10,000 / 128): the last batch is kept


def test_pipeline_throughput_is_measured(fashion):
    splits, spec = fashion
    rate = measure_throughput(splits.train, batches=100)
    # Hundreds of thousands of examples/s on a laptop; a model on 2 CPU cores
    # trains at ~20,000. A loose floor, to catch a pipeline gone pathological.
    assert rate > 5_000, f"{rate:,.0f} examples/s"
    with pytest.raises(ValueError, match="`batches`"):
        measure_throughput(splits.train, batches=0)


@pytest.mark.parametrize("name, shape, counts", [
    ("mnist1d", (40, 1), (3600, 400, 1000)),
    ("digits", (8, 8, 1), (1293, 144, 360)),
])
def test_small_datasets(name, shape, counts):
    splits, spec = load_dataset(name, batch_size=64)
    assert (spec.input_shape, spec.num_classes) == (shape, 10)
    assert (spec.num_train, spec.num_validation, spec.num_test) == counts
    for split, count in zip(splits, counts):
        x, y = collect(split)
        assert x.shape == (count, *shape) and x.dtype == np.float32
        assert y.dtype == np.int32 and 0 <= y.min() and y.max() < 10


def test_tfds_under_mock_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=50):
        splits, spec = load_dataset(SplitSettings("mnist", validation_fraction=0.2), batch_size=16)
    assert (spec.num_train, spec.num_validation, spec.num_test) == (40, 10, 50)
    assert spec.source == "tfds" and spec.input_shape == (28, 28, 1)
    x, y = collect(splits.train)
    assert x.shape == (40, 28, 28, 1) and x.dtype == np.float32 and y.dtype == np.int32


# --------------------------------------------------------- splits, seeds
def test_validation_is_carved_from_train_never_from_test(fake_dir):
    splits, spec = load_dataset(SplitSettings(validation_fraction=0.2), data_dir=fake_dir, batch_size=32)
    (train_flag, train_ids), (val_flag, val_ids), (test_flag, test_ids) = (
        example_ids(collect(split)[0]) for split in splits
    )
    assert (spec.num_train, spec.num_validation, spec.num_test) == (240, 60, 50)
    assert set(train_flag) == set(val_flag) == {1} and set(test_flag) == {2}
    assert not set(train_ids) & set(val_ids)
    assert sorted(np.concatenate([train_ids, val_ids])) == list(range(300))
    np.testing.assert_array_equal(test_ids, np.arange(50))  # all of test, in order


def test_seed_fixes_validation_and_order_and_reshuffles_each_epoch(fake_dir):
    def ids(split):
        return example_ids(collect(split)[0])[1]

    a, _ = load_dataset(SplitSettings(seed=1), data_dir=fake_dir, batch_size=32)
    b, _ = load_dataset(SplitSettings(seed=1), data_dir=fake_dir, batch_size=32)
    c, _ = load_dataset(SplitSettings(seed=2), data_dir=fake_dir, batch_size=32)
    np.testing.assert_array_equal(ids(a.validation), ids(b.validation))
    assert set(ids(a.validation)) != set(ids(c.validation))
    epoch1, epoch2 = ids(a.train), ids(a.train)
    assert not np.array_equal(epoch1, epoch2) and sorted(epoch1) == sorted(epoch2)
    np.testing.assert_array_equal(epoch1, ids(b.train))  # the same orders, run to run


def test_max_train_examples_keeps_validation(fake_dir):
    full, _ = load_dataset(SplitSettings(seed=3), data_dir=fake_dir)
    capped, spec = load_dataset(SplitSettings(seed=3, max_train_examples=25), data_dir=fake_dir)
    assert spec.num_train == 25 and len(collect(capped.train)[0]) == 25
    np.testing.assert_array_equal(collect(full.validation)[0], collect(capped.validation)[0])


def test_no_validation(fake_dir):
    splits, spec = load_dataset(SplitSettings(validation_fraction=0), data_dir=fake_dir)
    assert splits.validation is None and spec.num_validation == 0 and spec.num_train == 300


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(batch_size=0), ValueError, "argument `batch_size`.*Received: batch_size=0"),
    (dict(batch_size=2.5), TypeError, "argument `batch_size`"),
    (dict(first_epoch=-1), ValueError, "argument `first_epoch`"),
    (dict(first_epoch=3, epochs=3), ValueError, "argument `epochs`.*>= 4.*Received: epochs=3"),
    (dict(augment=1), TypeError, "argument `augment`.*Received: augment=1"),
    (dict(split=None), TypeError, "argument `split`.*Received: split=None"),
])
def test_invalid_arguments(fake_dir, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_dataset(data_dir=fake_dir, **kwargs)


@pytest.mark.parametrize("shift", [28, -28])
def test_a_shift_wider_than_the_images_is_named(fake_dir, shift):
    with pytest.raises(ValueError, match=f"argument `shift`.*28 pixels.*Received: shift={shift}"):
        load_dataset(SplitSettings(shift=shift), data_dir=fake_dir)


# ---------------------------------------------------------------- variants
def test_pixel_permutation_is_fixed():
    perm = variants.pixel_permutation((28, 28))
    np.testing.assert_array_equal(perm, variants.pixel_permutation((28, 28)))
    assert sorted(perm) == list(range(784))
    # Pinned, so that it is the same between runs and machines: a change
    # would silently change the shuffled-pixels experiment.
    assert perm[:6].tolist() == [269, 149, 241, 660, 96, 298]
    assert variants.pixel_permutation((40,))[:6].tolist() == [36, 23, 27, 34, 18, 4]


@pytest.mark.parametrize("name", ["digits", "mnist1d"])
def test_pixel_shuffle_is_one_permutation_for_train_and_test(name):
    plain, spec = load_dataset(SplitSettings(name, seed=5))
    shuffled, shuffled_spec = load_dataset(SplitSettings(name, seed=5, pixel_shuffle=True))
    assert shuffled_spec.pixel_shuffle and shuffled_spec.input_shape == spec.input_shape
    perm = variants.pixel_permutation(spec.input_shape[:-1])
    for a, b in zip(plain, shuffled):  # train (same seeded order), validation, test
        x, _ = collect(a)
        y, _ = collect(b)
        flat = x.reshape(len(x), -1, x.shape[-1])
        np.testing.assert_array_equal(y.reshape(flat.shape), flat[:, perm, :])
        assert not np.array_equal(x, y)


@pytest.mark.parametrize("name, shift", [("digits", 2), ("digits", -3), ("mnist1d", 5)])
def test_shift_moves_test_images_only(name, shift):
    plain, _ = load_dataset(SplitSettings(name, seed=0))
    moved, spec = load_dataset(SplitSettings(name, seed=0, shift=shift))
    assert spec.shift == shift
    x, y = collect(plain.test)
    x_moved, y_moved = collect(moved.test)
    expected = np.zeros_like(x)  # the width (images) or the length (sequences)
    if shift > 0:
        expected[..., shift:, :] = x[..., :-shift, :]
    else:
        expected[..., :shift, :] = x[..., -shift:, :]
    np.testing.assert_array_equal(x_moved, expected)
    np.testing.assert_array_equal(y_moved, y)
    for split in ("train", "validation"):
        np.testing.assert_array_equal(
            collect(getattr(plain, split))[0], collect(getattr(moved, split))[0]
        )


def test_shift_images_does_not_wrap():
    x = np.arange(1, 5, dtype=np.float32).reshape(1, 1, 4, 1)
    np.testing.assert_array_equal(variants.shift_images(x, 1).ravel(), [0, 1, 2, 3])
    np.testing.assert_array_equal(variants.shift_images(x, -2).ravel(), [3, 4, 0, 0])


def _translations(image, max_shift):
    """Every zero-filled translation of `image` (H, W, C) by up to max_shift."""
    size_h, size_w = image.shape[:2]
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            out = np.zeros_like(image)
            out[max(dy, 0): size_h + min(dy, 0), max(dx, 0): size_w + min(dx, 0)] = \
                image[max(-dy, 0): size_h - max(dy, 0), max(-dx, 0): size_w - max(dx, 0)]
            yield out


def test_augment_translates_train_images_only(fake_dir):
    plain, _ = load_dataset(SplitSettings(seed=4), data_dir=fake_dir, batch_size=64)
    augmented, spec = load_dataset(SplitSettings(seed=4), data_dir=fake_dir, batch_size=64, augment=True)
    assert spec.augment
    x, y = collect(plain.train)
    x_aug, y_aug = collect(augmented.train)  # same shuffle: same order
    np.testing.assert_array_equal(y, y_aug)
    moved = 0
    for original, translated in zip(x, x_aug):
        assert any(np.array_equal(translated, t) for t in _translations(original, 2))
        moved += not np.array_equal(original, translated)
    assert moved > len(x) // 2
    np.testing.assert_array_equal(collect(plain.test)[0], collect(augmented.test)[0])
    again, _ = load_dataset(SplitSettings(seed=4), data_dir=fake_dir, batch_size=64, augment=True)
    np.testing.assert_array_equal(collect(again.train)[0], x_aug)  # reproducible


def test_augment_draws_new_offsets_each_epoch(fake_dir):
    plain, spec = load_dataset(data_dir=fake_dir, epochs=2, batch_size=64)
    augmented, _ = load_dataset(data_dir=fake_dir, epochs=2, batch_size=64, augment=True)
    x, _ = collect(plain.train)  # two epochs, in the same orders as `augmented`
    x_aug, _ = collect(augmented.train)
    ids = example_ids(x)[1]
    offsets = {}  # (epoch, id) -> the first translation that matches
    for i, (original, translated) in enumerate(zip(x, x_aug)):
        match = next(k for k, t in enumerate(_translations(original, 2)) if np.array_equal(t, translated))
        offsets[i // spec.num_train, ids[i]] = match
    assert len(offsets) == 2 * spec.num_train  # each example once per epoch
    changed = sum(offsets[0, j] != offsets[1, j] for j in set(ids))
    assert changed > spec.num_train // 2


def test_a_resumed_run_sees_the_same_batches(fake_dir):
    full, spec = load_dataset(data_dir=fake_dir, batch_size=64, augment=True, epochs=3)
    resumed, _ = load_dataset(data_dir=fake_dir, batch_size=64, augment=True, first_epoch=2, epochs=3)
    steps = -(-spec.num_train // 64)  # the last batch of every epoch is partial
    assert full.train.cardinality() == 3 * steps and resumed.train.cardinality() == steps
    batches = [x.numpy() for x, _ in full.train]
    assert [len(b) for b in batches[:steps]] == [64] * (steps - 1) + [spec.num_train % 64]
    for a, (b, _) in zip(batches[2 * steps:], resumed.train):
        np.testing.assert_array_equal(a, b.numpy())
    plain, _ = load_dataset(data_dir=fake_dir, batch_size=64, epochs=3)
    ids = example_ids(collect(plain.train)[0])[1].reshape(3, spec.num_train)  # (epoch, position)
    assert len(set(ids[0])) == spec.num_train  # each epoch is a permutation of the same set
    assert sorted(ids[0]) == sorted(ids[1]) == sorted(ids[2])
    assert not np.array_equal(ids[0], ids[1])


def test_epoch_order_does_not_depend_on_the_global_seed(fake_dir):
    orders = []
    for global_seed in (1, 2):
        tf.random.set_seed(global_seed)
        splits, _ = load_dataset(data_dir=fake_dir, epochs=1, augment=True)
        orders.append(collect(splits.train)[0])
    np.testing.assert_array_equal(*orders)


def test_random_translate_sequences():
    x = np.random.default_rng(0).random((16, 12, 2)).astype(np.float32)
    y = variants.random_translate(tf.constant(x), tf.constant([1, 2]), 2).numpy()
    for original, translated in zip(x, y):
        assert any(np.array_equal(translated, variants.shift_images(original[None], k)[0])
                   for k in range(-2, 3))


def test_flip_mirrors_about_half_the_train_images_and_keeps_translations(fake_dir):
    plain, _ = load_dataset(SplitSettings(seed=4), data_dir=fake_dir, batch_size=64)
    flipped, spec = load_dataset(SplitSettings(seed=4), data_dir=fake_dir, batch_size=64, flip=True)
    assert spec.flip and not spec.augment
    x, y = collect(plain.train)
    x_flip, y_flip = collect(flipped.train)  # same shuffle: same order
    np.testing.assert_array_equal(y, y_flip)
    mirrored = [np.array_equal(b, a[:, ::-1]) and not np.array_equal(a, b) for a, b in zip(x, x_flip)]
    unchanged = [np.array_equal(a, b) for a, b in zip(x, x_flip)]
    assert all(m or u for m, u in zip(mirrored, unchanged))  # each image: itself or its mirror
    assert 0.3 * len(x) < sum(mirrored) < 0.7 * len(x)
    np.testing.assert_array_equal(collect(plain.test)[0], collect(flipped.test)[0])
    # Its own random stream: the translations of --augment are the same with or without flips.
    translated, _ = load_dataset(SplitSettings(seed=4), data_dir=fake_dir, batch_size=64, augment=True)
    both, _ = load_dataset(SplitSettings(seed=4), data_dir=fake_dir, batch_size=64, augment=True, flip=True)
    x_t, x_both = collect(translated.train)[0], collect(both.train)[0]
    for t, b, m in zip(x_t, x_both, mirrored):
        np.testing.assert_array_equal(b, t[:, ::-1] if m else t)


def test_random_flip_reverses_the_last_spatial_axis_of_sequences():
    x = np.random.default_rng(0).random((32, 12, 2)).astype(np.float32)
    y = variants.random_flip(tf.constant(x), tf.constant([3, 4])).numpy()
    flipped = [np.array_equal(b, a[::-1]) for a, b in zip(x, y)]
    assert all(f or np.array_equal(a, b) for f, a, b in zip(flipped, x, y)) and 0 < sum(flipped) < len(x)


def test_flip_must_be_a_bool(fake_dir):
    with pytest.raises(TypeError, match="flip"):
        load_dataset(data_dir=fake_dir, flip="yes")
