"""Predictions on real images: `models.preprocess`, `models.decode_predictions`, `python -m constrained_zoo.models.predict`.

Every image is written here, into `tmp_path`, with Pillow; the Fashion-MNIST
test split (the IDX files of `FASHION_MNIST_DIR`) supplies one real image
for the published weights of `cnn_bn_10k`.
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw

from constrained_zoo import models
from constrained_zoo.models import predict
from constrained_zoo.models.preprocessing import INVERT_THRESHOLD, LUMA_WEIGHTS

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
#: A small model with published Fashion-MNIST weights and a test accuracy above 0.9.
SMALL_MODEL = "cnn_bn_10k"
TIMEOUT = 300  # seconds: a CLI run takes ~20 s on two busy cores


@pytest.fixture(autouse=True)
def package_weights(monkeypatch):
    monkeypatch.delenv(models.WEIGHTS_DIR_ENV, raising=False)


def _rng():
    return np.random.default_rng(0)


def _test_split():
    """Fashion-MNIST's test images (float32, as the models were trained) and labels; skips if absent."""
    names = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    if not all(os.path.exists(os.path.join(FASHION_MNIST_DIR, n)) or os.path.exists(os.path.join(FASHION_MNIST_DIR, n + ".gz"))
               for n in names):
        pytest.skip(f"Fashion-MNIST's IDX files are not in {FASHION_MNIST_DIR} (apt-get install dataset-fashion-mnist)")
    from constrained_zoo.training.data import sources  # the tests may use training; `models` never does

    _, (x_test, y_test) = sources.load_arrays("fashion_mnist", data_dir=FASHION_MNIST_DIR)
    return x_test, y_test  # (10000, 28, 28, 1), (10000,)


def _garment(height=28, width=28, background=0, garment=255, mode="L"):
    """A rectangle 'garment' on a plain background, as a Pillow image."""
    image = Image.new(mode, (width, height), background)
    ImageDraw.Draw(image).rectangle([width // 4, height // 5, width - 1 - width // 4, height - 1 - height // 5], fill=garment)
    return image


# -------------------------------------------------------------- class names
def test_class_names():
    assert models.class_names("fashion_mnist") == (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    )
    assert models.class_names("digits") == models.class_names("mnist1d") == tuple("0123456789")
    assert models.class_names("fashion_mnist.frontier") == models.class_names("fashion_mnist")  # a weights name
    from constrained_zoo.training.data import sources

    assert sources.load_arrays("fashion_mnist", with_info=True)[1].class_names is models.class_names("fashion_mnist")  # one source of truth


@pytest.mark.parametrize("dataset", ["cifar10", "", None])
def test_unknown_dataset_is_named(dataset):
    with pytest.raises(ValueError, match=r"argument `dataset`.*'digits', 'fashion_mnist', 'mnist1d'") as error:
        models.class_names(dataset)
    assert f"dataset={dataset!r}" in str(error.value)


def test_dataset_info_says_what_the_models_take():
    fashion, digits, mnist1d = (models.dataset_info(d) for d in ("fashion_mnist", "digits", "mnist1d"))
    assert (fashion.kind, fashion.input_shape, fashion.value_range, fashion.background) == ("image", (28, 28, 1), (0.0, 1.0), 0.0)
    assert (digits.input_shape, digits.value_range) == ((8, 8, 1), (0.0, 1.0))
    assert (mnist1d.kind, mnist1d.input_shape, mnist1d.value_range) == ("sequence", (40, 1), None)
    assert {fashion.outputs, digits.outputs, mnist1d.outputs} == {"logits"}


# ------------------------------------------------------ decode_predictions
def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("top", [1, 3, 10])
def test_decode_predictions_is_the_softmax_sorted(top):
    logits = _rng().normal(scale=3.0, size=(5, 10)).astype(np.float32)
    decoded = models.decode_predictions(logits, "fashion_mnist", top=top)
    expected = _softmax(logits.astype(np.float64))
    names = models.class_names("fashion_mnist")
    assert len(decoded) == 5
    for row, probabilities in zip(decoded, expected):
        assert len(row) == top
        order = np.argsort(-probabilities)[:top]
        assert [name for name, _ in row] == [names[j] for j in order]
        np.testing.assert_allclose([p for _, p in row], probabilities[order], rtol=1e-12)
        assert all(isinstance(p, float) for _, p in row)
    if top == 10:
        np.testing.assert_allclose([sum(p for _, p in row) for row in decoded], 1.0, rtol=1e-12)


def test_decode_predictions_is_stable_for_large_logits_and_takes_tensors():
    import keras

    logits = keras.ops.convert_to_tensor([[1000.0, 999.0] + [0.0] * 8])
    (row,) = models.decode_predictions(logits, "digits", top=2)
    assert [name for name, _ in row] == ["0", "1"]
    np.testing.assert_allclose([p for _, p in row], [1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1))])


@pytest.mark.parametrize("top", [0, 11, -1, True, 2.0, "3"])
def test_decode_predictions_checks_top(top):
    with pytest.raises(ValueError, match=rf"argument `top`.*from 1 to 10.*Received: top={top!r}"):
        models.decode_predictions(np.zeros((1, 10)), "fashion_mnist", top=top)


@pytest.mark.parametrize("shape", [(10,), (2, 9), (1, 2, 10)])
def test_decode_predictions_checks_the_logits_shape(shape):
    with pytest.raises(ValueError, match=r"argument `logits`. Expected \(N, 10\).*" + re.escape(f"logits.shape={shape}")):
        models.decode_predictions(np.zeros(shape), "fashion_mnist")


# ------------------------------------------------------------- preprocess
def test_arrays_at_the_models_shape_pass_through():
    pixels = _rng().integers(0, 256, size=(28, 28), dtype=np.uint8)
    pixels[0, :] = pixels[-1, :] = pixels[:, 0] = pixels[:, -1] = 0  # a dark border, as Fashion-MNIST's
    as_float = pixels[..., None] / np.float32(255)  # what training.sources gives
    np.testing.assert_array_equal(models.preprocess(pixels, "fashion_mnist"), as_float[None])
    np.testing.assert_array_equal(models.preprocess(pixels[..., None], "fashion_mnist"), as_float[None])
    np.testing.assert_array_equal(models.preprocess(as_float, "fashion_mnist"), as_float[None])
    batch = np.stack([as_float, as_float * np.float32(0.5)])  # (2, 28, 28, 1): a batch
    out = models.preprocess(batch, "fashion_mnist")
    assert out.dtype == np.float32 and out is not batch
    np.testing.assert_array_equal(out, batch)


def test_the_fashion_mnist_test_split_passes_through_unchanged():
    x_test, _ = _test_split()
    # No image's border is light enough for `invert="auto"`: all come back as they are.
    np.testing.assert_array_equal(models.preprocess(x_test, "fashion_mnist"), x_test)


def test_grayscale_png_and_pil_image_read_as_their_pixels(tmp_path):
    image = _garment(40, 40, background=10, garment=200)
    image.save(tmp_path / "g.png")
    expected = np.asarray(image) / np.float32(255)  # (40, 40)
    from_file, from_pil, from_pathlib = (
        models.preprocess(source, "fashion_mnist") for source in (str(tmp_path / "g.png"), image, tmp_path / "g.png")
    )
    np.testing.assert_array_equal(from_file, from_pil)
    np.testing.assert_array_equal(from_file, from_pathlib)
    # 40×40 -> 28×28: resized, not padded; the plain background stays as it was.
    assert from_file.shape == (1, 28, 28, 1)
    np.testing.assert_allclose(from_file[0, :2, :, 0], expected[0, 0], atol=1e-6)
    assert from_file[0, 14, 14, 0] == pytest.approx(200 / 255, abs=1e-6)


def test_rgb_becomes_luma_and_gray_rgb_stays_exact(tmp_path):
    rgb = _rng().integers(0, 80, size=(28, 28, 3), dtype=np.uint8)  # dark: not inverted
    Image.fromarray(rgb).save(tmp_path / "c.png")
    out = models.preprocess(tmp_path / "c.png", "fashion_mnist")[0, :, :, 0]
    luma = (rgb.astype(np.float64) @ np.array(LUMA_WEIGHTS)) / 255
    np.testing.assert_allclose(out, luma, atol=1e-6)
    pillow_l = np.asarray(Image.fromarray(rgb).convert("L")) / 255  # Pillow rounds to 8 bits
    np.testing.assert_allclose(out, pillow_l, atol=0.51 / 255)  # and Pillow's fixed-point weights
    gray = rgb[:, :, :1].repeat(3, axis=2)  # equal channels
    np.testing.assert_array_equal(models.preprocess(gray, "fashion_mnist"), rgb[None, :, :, :1] / np.float32(255))


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((28, 28, 4), np.uint8)  # transparent everywhere...
    rgba[8:20, 8:20] = (0, 0, 0, 255)  # ...but an opaque black square
    rgba[12:16, 12:16] = (0, 0, 0, 128)  # with a half-transparent hole
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    on_white = models.preprocess(tmp_path / "a.png", "fashion_mnist", invert=False)[0, :, :, 0]
    assert on_white[0, 0] == 1.0 and on_white[8, 8] == 0.0
    assert on_white[13, 13] == pytest.approx(1 - 128 / 255, abs=1e-6)
    inverted = models.preprocess(tmp_path / "a.png", "fashion_mnist")[0, :, :, 0]  # white border: auto inverts
    np.testing.assert_allclose(inverted, 1 - on_white, atol=1e-6)


def test_jpeg_reads_close_to_the_png(tmp_path):
    image = _garment(56, 56, background=0, garment=220, mode="RGB")
    image.save(tmp_path / "g.png")
    image.save(tmp_path / "g.jpg", quality=95)
    png, jpeg = (models.preprocess(tmp_path / name, "fashion_mnist") for name in ("g.png", "g.jpg"))
    assert np.abs(png - jpeg).mean() < 0.01


def test_other_sizes_keep_their_aspect_ratio_and_are_padded():
    tall = np.zeros((90, 60), np.uint8)  # a dark portrait photo...
    tall[30:60, 15:45] = 255  # ...of a light 30×30 square
    out = models.preprocess(tall, "fashion_mnist")[0, :, :, 0]
    # 90×60 -> 28×19 (60·28/90 = 18.7), centered: 4 columns of padding on the left, 5 on the right.
    assert np.all(out[:, :4] == 0) and np.all(out[:, 23:] == 0)
    rows, columns = np.nonzero(out > 0.5)
    height, width = np.ptp(rows) + 1, np.ptp(columns) + 1
    assert abs(height - width) <= 1 and 8 <= height <= 11, (height, width)  # a square stays a square
    wide = np.full((20, 100, 3), 30, np.uint8)  # the padding continues a gray background
    wide_out = models.preprocess(wide, "fashion_mnist")[0, :, :, 0]
    np.testing.assert_allclose(wide_out, 30 / 255, atol=1e-5)
    assert models.preprocess(tall, "digits").shape == (1, 8, 8, 1)


def test_light_backgrounds_are_inverted_by_auto():
    photo = np.asarray(_garment(100, 80, background=220, garment=40))  # dark garment on a light background
    auto, never, always = (models.preprocess(photo, "fashion_mnist", invert=i)[0, :, :, 0] for i in ("auto", False, True))
    np.testing.assert_array_equal(auto, always)
    assert auto[0, 0] == pytest.approx(1 - 220 / 255, abs=1e-6) and auto[14, 14] == pytest.approx(1 - 40 / 255, abs=1e-3)
    np.testing.assert_allclose(never, 1 - always, atol=1e-5)  # no value clipped: inverting commutes with resizing
    dark = np.asarray(_garment(28, 28, background=0, garment=200))
    assert models.preprocess(dark, "fashion_mnist")[0, 0, 0, 0] == 0.0  # dark border: kept
    assert models.preprocess(dark, "fashion_mnist", invert=True)[0, 0, 0, 0] == 1.0
    assert INVERT_THRESHOLD == 0.5


def test_files_are_read_as_viewers_show_them(tmp_path):
    pixels = np.zeros((20, 40), np.uint8)  # stored landscape, a light bar on the left
    pixels[:, :8] = 200
    exif = Image.Exif()
    exif[0x0112] = 6  # EXIF orientation: rotate 90° clockwise to display
    Image.fromarray(pixels).save(tmp_path / "rotated.png", exif=exif)
    shown = np.rot90(pixels, k=-1)  # (40, 20): the bar on top
    np.testing.assert_array_equal(
        models.preprocess(tmp_path / "rotated.png", "fashion_mnist"), models.preprocess(shown, "fashion_mnist")
    )


def test_a_list_mixes_files_pil_images_and_arrays(tmp_path):
    _garment(mode="RGB").save(tmp_path / "one.png")
    out = models.preprocess([tmp_path / "one.png", _garment(60, 30), np.zeros((28, 28))], "fashion_mnist")
    assert out.shape == (3, 28, 28, 1) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_sixteen_bit_png(tmp_path):
    deep = (_rng().integers(0, 20000, size=(28, 28))).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    np.testing.assert_allclose(models.preprocess(tmp_path / "deep.png", "fashion_mnist")[0, :, :, 0], deep / 65535, atol=1e-6)


def test_a_text_file_named_png_is_named(tmp_path):
    fake = tmp_path / "shoe.png"
    fake.write_text("not an image\n")
    with pytest.raises(models.NotAnImageError, match=r"'.*shoe\.png' is not an image") as error:
        models.preprocess([np.zeros((28, 28)), fake], "fashion_mnist")
    assert isinstance(error.value, ValueError)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.png"):
        models.preprocess(tmp_path / "nothing.png", "fashion_mnist")


def test_sequences_are_not_images():
    with pytest.raises(ValueError, match=r"argument `dataset`.*'mnist1d' take sequences \(40, 1\), not images"):
        models.preprocess(np.zeros((28, 28)), "mnist1d")


@pytest.mark.parametrize("images, message", [
    ([np.zeros((28, 28)), np.zeros((28, 28, 2))], r"images\[1\] should be \(H, W\).*images\[1\].shape=\(28, 28, 2\)"),
    (np.full((28, 28), 255.0), r"float, so its values should be in \[0, 1\].*from 255.0 to 255.0"),
    (np.zeros((28, 28), np.int64), r"uint8 in \[0, 255\] or float.*dtype=int64"),
    (np.zeros((0, 28)), r"no pixels"),
    ([], r"no images"),
])
def test_bad_arrays_are_named(images, message):
    with pytest.raises(ValueError, match=message):
        models.preprocess(images, "fashion_mnist")


@pytest.mark.parametrize("invert", ["false", "true", None, 1])
def test_invert_is_checked(invert):
    with pytest.raises(ValueError, match=rf"argument `invert`.*Received: invert={invert!r}"):
        models.preprocess(np.zeros((28, 28)), "fashion_mnist", invert=invert)


# ------------------------------------------- published weights, real image
@pytest.fixture(scope="module")
def real_image(tmp_path_factory):
    """(PNG path, label, logits from the arrays): a test image the small model gets right, written as PNG."""
    x_test, y_test = _test_split()
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(models.WEIGHTS_DIR_ENV, raising=False)  # the package's published weights
        model = models.create_model(SMALL_MODEL, weights="fashion_mnist")
    logits = np.asarray(model.predict_on_batch(x_test[:200]))  # (200, 10)
    probabilities = _softmax(logits.astype(np.float64))
    right = np.nonzero((logits.argmax(axis=1) == y_test[:200]) & (probabilities.max(axis=1) > 0.9))[0]
    assert right.size, "the published weights get none of the first 200 test images right with confidence"
    index = int(right[0])
    path = tmp_path_factory.mktemp("real") / "test_image.png"
    Image.fromarray(np.round(x_test[index, :, :, 0] * 255).astype(np.uint8), "L").save(path)
    return path, int(y_test[index]), logits[index], model


def test_a_test_split_png_predicts_its_label(real_image):
    path, label, logits_from_arrays, model = real_image
    x = models.preprocess(path, "fashion_mnist")
    logits = np.asarray(model.predict_on_batch(x))
    np.testing.assert_allclose(logits[0], logits_from_arrays, rtol=1e-5, atol=1e-5)
    (top,) = models.decode_predictions(logits, "fashion_mnist", top=3)
    assert top[0][0] == models.class_names("fashion_mnist")[label] and top[0][1] > 0.9


# ------------------------------------------------------------------- CLI
def test_help_shows_the_defaults_and_an_example(capsys):
    with pytest.raises(SystemExit) as done:
        predict.main(["--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: cnn_bn_50k)" in text and "(default: fashion_mnist)" in text and "(default: 3)" in text
    assert "(default: auto)" in text and "example: " in text and "shoe.png boot.jpg" in text


def _one_line_error(capsys, argv):
    code = predict.main(argv)
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_cli_errors_are_one_line(tmp_path, capsys):
    image = tmp_path / "ok.png"
    _garment().save(image)
    fake = tmp_path / "fake.png"
    fake.write_text("hello")
    line = _one_line_error(capsys, ["--model", SMALL_MODEL, str(image), str(fake)])
    assert "fake.png' is not an image" in line
    line = _one_line_error(capsys, [str(tmp_path / "missing.png")])
    assert line.endswith(f"error: No such file: {str(tmp_path / 'missing.png')!r}")
    line = _one_line_error(capsys, ["--model", "sharedconv_global", str(image)])
    assert "No published weights 'fashion_mnist' for model 'sharedconv_global' (--weights)" in line
    line = _one_line_error(capsys, ["--model", "cnn_bn_50k", "--weights", "imagenet", str(image)])
    assert "Unknown weights" in line and "'imagenet'" in line
    line = _one_line_error(capsys, ["--model", "cnn1d_base", "--weights", "mnist1d", str(image)])
    assert "'cnn1d_base' takes sequences (mnist1d), not images" in line
    line = _one_line_error(capsys, ["--model", "no_such_model", str(image)])
    assert "Unknown model" in line and "'no_such_model'" in line
    line = _one_line_error(capsys, ["--top", "11", str(image)])
    assert "--top" in line and "10 classes" in line


def test_format_is_one_aligned_block_per_file():
    text = predict.format_predictions([
        ("a.png", [("Ankle boot", 0.9), ("Bag", 0.1)]),
        ("b.jpg", [("Bag", 1.0), ("Ankle boot", 0.0)]),
    ])
    assert text.splitlines() == [
        "a.png", "  Ankle boot   90.00%", "  Bag          10.00%", "",
        "b.jpg", "  Bag         100.00%", "  Ankle boot    0.00%",
    ]


def _listing(folder):
    return sorted(
        (os.path.relpath(os.path.join(root, name), folder), os.path.getsize(os.path.join(root, name)))
        for root, _, files in os.walk(folder) for name in files
    )


def _cli(args, cwd):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", models.WEIGHTS_DIR_ENV)}
    env.update(KERAS_BACKEND="tensorflow", PYTHONPATH=REPO, PYTHONDONTWRITEBYTECODE="1", CUDA_VISIBLE_DEVICES="")
    script = os.path.join(os.path.dirname(sys.executable), "czoo-predict")  # the console script, quiet
    return subprocess.run([sys.executable, script, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)


def test_cli_end_to_end(real_image, tmp_path):
    path, label, _, _ = real_image
    work = tmp_path / "work"
    work.mkdir()
    (work / "garment.png").write_bytes(path.read_bytes())
    _garment(120, 90, background=250, garment=60, mode="RGB").save(work / "photo.jpg")  # light background
    before = _listing(work)
    done = _cli(["--model", SMALL_MODEL, "--weights", "fashion_mnist", "garment.png", "photo.jpg", "--top", "2"], work)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # TensorFlow's start-up lines are filtered
    lines = done.stdout.splitlines()
    assert len(lines) == 7 and lines[0] == "garment.png" and lines[3] == "" and lines[4] == "photo.jpg", done.stdout
    names = models.class_names("fashion_mnist")
    first = lines[1].split()
    assert " ".join(first[:-1]) == names[label] and float(first[-1].rstrip("%")) > 90
    probabilities = [float(line.split()[-1].rstrip("%")) for line in lines[1:3] + lines[5:7]]
    assert probabilities[0] >= probabilities[1] and probabilities[2] >= probabilities[3]
    assert all(0 <= p <= 100 for p in probabilities)
    assert len({line.rindex("%") for line in lines[1:3] + lines[5:7]}) == 1  # aligned
    assert _listing(work) == before  # nothing written


def test_cli_error_end_to_end(tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    before = _listing(tmp_path)
    done = _cli(["notes.png"], tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "czoo-predict: error: 'notes.png' is not an image "
        "(Pillow does not recognize its format)."
    ]
    assert _listing(tmp_path) == before
