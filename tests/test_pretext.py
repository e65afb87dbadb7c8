"""Pretext tasks: learning happens, scores are deterministic per seed, shapes adapt, results round-trip."""

import math

import numpy as np
import pytest
import torch

from alnb.methods.pretext import PRETEXT_TASKS, build_model, has_result, load_result, save_result, train_pretext
from alnb.methods.pretext.augment import adjust_colour, fixed_views, gaussian_blur, grayscale, simclr_view
from alnb.methods.pretext.base import upsampling_plan
from alnb.methods.pretext.inpainting import central_region
from alnb.methods.pretext.simclr import nt_xent
from alnb.models.networks import SmallCNN
from alnb.models.training import random_resized_crop

TINY = {"epochs": 1, "batch_size": 32}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny convolutions run fastest (and least disturbed by other processes) on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digit_images(digits) -> torch.Tensor:
    return digits.train_images


def test_rotation_learns_on_digits(digit_images):
    result = train_pretext("rotation", digit_images, seed=0, device="cpu", epochs=3, batch_size=128)
    assert result.metrics["rotation_accuracy"] > 0.5  # chance is 0.25
    assert result.history[-1] < result.history[0] < math.log(4) + 0.1
    # the pool mean of per-sample losses is the mean cross-entropy, which this accuracy bounds loosely
    assert result.losses.mean() < math.log(4)


@pytest.mark.parametrize("task", PRETEXT_TASKS)
def test_same_seed_same_scores_other_seed_other_scores(task, digit_images):
    images = digit_images[:96]
    first = train_pretext(task, images, seed=3, device="cpu", **TINY)
    again = train_pretext(task, images, seed=3, device="cpu", **TINY)
    other = train_pretext(task, images, seed=4, device="cpu", **TINY)
    np.testing.assert_array_equal(first.losses, again.losses)
    np.testing.assert_array_equal(first.embeddings, again.embeddings)
    assert first.history == again.history
    assert not np.array_equal(first.losses, other.losses)


def test_global_rng_untouched(digit_images):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_pretext("vae", digit_images[:40], seed=0, device="cpu", **TINY)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize(
    "task, embedding_dim",
    [
        ("rotation", SmallCNN.feature_dim),
        ("inpainting", SmallCNN.feature_dim),
        ("vae", 16),
        ("simclr", SmallCNN.feature_dim),
    ],
)
@pytest.mark.parametrize("channels, size", [(1, 8), (1, 28), (3, 32), (3, 64)])
def test_shapes_adapt_to_every_image_size(task, embedding_dim, channels, size):
    images = torch.randint(
        0, 256, (6, channels, size, size), generator=torch.Generator().manual_seed(0), dtype=torch.uint8
    )
    options = {"latent_dim": 16} if task == "vae" else {}
    result = train_pretext(task, images, seed=0, device="cpu", epochs=2, batch_size=4, arch="smallcnn", **options)
    assert result.losses.shape == (6,) and result.losses.dtype == np.float64
    assert result.embeddings.dtype == np.float32
    assert result.embeddings.shape == (6, embedding_dim)
    assert len(result.history) == 2
    assert np.isfinite(result.losses).all() and np.isfinite(result.embeddings).all()


def test_resnet18_encoder():
    images = torch.randint(0, 256, (4, 3, 32, 32), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    result = train_pretext("rotation", images, seed=0, device="cpu", epochs=1, batch_size=4, arch="resnet18")
    assert result.embeddings.shape == (4, 512)
    assert result.settings["arch"] == "resnet18"


def test_vae_score_is_reconstruction_plus_kl(digit_images):
    result = train_pretext("vae", digit_images[:64], seed=0, device="cpu", **TINY)
    assert result.metrics["kl"] > 0
    assert result.losses.mean() == pytest.approx(result.metrics["reconstruction"] + result.metrics["kl"])


def test_inpainting_never_sees_the_centre(digit_images):
    result = train_pretext("inpainting", digit_images[:64], seed=0, device="cpu", **TINY)
    model = build_model(result)
    x = digit_images[:5].float() / 255
    changed = x.clone()
    changed[:, :, 2:6, 2:6] = torch.rand(5, 1, 4, 4)
    with torch.no_grad():
        torch.testing.assert_close(model.inpaint(changed), model.inpaint(x))
        assert model.inpaint(x).shape == (5, 1, 4, 4)


def test_save_load_round_trip(tmp_path, digit_images):
    result = train_pretext("simclr", digit_images[:64], seed=1, device="cpu", **TINY, temperature=0.2)
    folder = tmp_path / "digits" / "seed1" / "simclr"
    assert not has_result(folder)
    save_result(result, folder)
    assert has_result(folder)
    assert sorted(p.name for p in folder.iterdir()) == [
        "arrays.npz",
        "arrays.npz.manifest.json",
        "meta.json",
        "model.pt",
        "model.pt.manifest.json",
    ]
    loaded = load_result(folder)
    assert loaded.task == "simclr"
    np.testing.assert_array_equal(loaded.losses, result.losses)
    np.testing.assert_array_equal(loaded.embeddings, result.embeddings)
    assert loaded.losses.dtype == np.float64 and loaded.embeddings.dtype == np.float32
    assert loaded.history == result.history and loaded.metrics == result.metrics
    assert loaded.settings["options"] == {"temperature": 0.2} and loaded.settings["seed"] == 1
    assert loaded.state_dict.keys() == result.state_dict.keys()
    for key, value in result.state_dict.items():
        assert torch.equal(loaded.state_dict[key], value)
    save_result(loaded, folder)  # overwriting a complete result keeps it complete
    np.testing.assert_array_equal(load_result(folder).losses, result.losses)


def test_rebuilt_model_reproduces_scores(tmp_path, digit_images):
    result = train_pretext("rotation", digit_images[:64], seed=0, device="cpu", **TINY)
    model = build_model(load_result(save_result(result, tmp_path / "r")))
    with torch.no_grad():
        losses, embeddings, _ = model.evaluate(digit_images[:64].float() / 255)
    np.testing.assert_allclose(losses.double().numpy(), result.losses, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(embeddings.numpy(), result.embeddings, rtol=1e-5, atol=1e-5)


def test_load_incomplete_folder_is_none(tmp_path):
    assert load_result(tmp_path) is None


def test_bad_names_and_images(digit_images):
    with pytest.raises(ValueError, match="valid: deepcluster, inpainting, rotation, simclr, vae"):
        train_pretext("jigsaw", digit_images[:8], seed=0)
    with pytest.raises(ValueError, match="uint8"):
        train_pretext("vae", digit_images[:8].float(), seed=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_runs_on_cuda(digit_images):
    for task in PRETEXT_TASKS:
        result = train_pretext(task, digit_images[:64], seed=0, device="cuda", **TINY)
        assert result.losses.shape == (64,) and np.isfinite(result.losses).all()


# ----------------------------------------------------------------------------- building blocks


def test_upsampling_plan_and_central_region():
    assert [upsampling_plan(s) for s in (4, 8, 14, 16, 28, 32, 64)] == [
        (4, 0),
        (4, 1),
        (7, 1),
        (4, 2),
        (7, 2),
        (4, 3),
        (4, 4),
    ]
    assert central_region(8) == slice(2, 6)
    assert central_region(28) == slice(7, 21)
    assert central_region(64) == slice(16, 48)


def test_nt_xent_hand_computed():
    e = torch.eye(2)
    losses, hits = nt_xent(e, e.clone(), temperature=1.0)
    # each anchor: one positive at similarity 1, two negatives at similarity 0
    torch.testing.assert_close(losses, torch.full((2,), math.log(1 + 2 / math.e)))
    torch.testing.assert_close(hits, torch.ones(2))
    lone, _ = nt_xent(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]), temperature=0.1)
    torch.testing.assert_close(lone, torch.zeros(1))  # no negatives: the positive takes all the mass


def test_colour_operations():
    x = torch.rand(3, 3, 5, 5, generator=torch.Generator().manual_seed(0))
    ones = torch.ones(3)
    torch.testing.assert_close(adjust_colour(x, ones, ones, ones, torch.zeros(3)), x)
    grey = grayscale(x)
    torch.testing.assert_close(grey[:, 0], grey[:, 2])
    torch.testing.assert_close(grey[0, 0, 0, 0], 0.299 * x[0, 0, 0, 0] + 0.587 * x[0, 1, 0, 0] + 0.114 * x[0, 2, 0, 0])
    # a full turn of hue changes nothing
    torch.testing.assert_close(adjust_colour(x, ones, ones, ones, ones), x, atol=1e-5, rtol=0)


def test_blur_and_crop():
    flat = torch.full((2, 1, 8, 8), 0.3)
    torch.testing.assert_close(gaussian_blur(flat, torch.tensor([0.5, 2.0])), flat)
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    blurred = gaussian_blur(x, torch.tensor([1.0, 1.0]))
    assert blurred.std() < x.std()
    whole = random_resized_crop(x, x.shape[-1], torch.Generator().manual_seed(0), scale=(1.0, 1.0), ratio=(1.0, 1.0))
    torch.testing.assert_close(whole, x)


def test_views():
    x = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    assert len(fixed_views(x)) == 4 and len(fixed_views(x[:, :1])) == 2
    torch.testing.assert_close(fixed_views(x)[0], x.flip(3))
    first = simclr_view(x, torch.Generator().manual_seed(5))
    assert torch.equal(first, simclr_view(x, torch.Generator().manual_seed(5)))
    assert first.shape == x.shape and 0 <= first.min() and first.max() <= 1
    assert simclr_view(x[:, :1], torch.Generator().manual_seed(5)).shape == (4, 1, 8, 8)


@pytest.mark.parametrize(
    "damaged,match",
    [
        ("meta.json", r"meta\.json: not valid JSON"),
        ("arrays.npz", r"arrays\.npz: truncated or altered"),
        ("model.pt", r"model\.pt: truncated or altered"),
    ],
)
def test_damaged_saved_result_is_reported_and_retrained(tmp_path, digit_images, damaged, match):
    """A file cut short by a crash of an older version (no fsync) is never taken for a complete result."""
    from alnb.core.durable import DamagedFileWarning

    folder = save_result(train_pretext("rotation", digit_images[:32], seed=0, device="cpu", **TINY), tmp_path / "r")
    path = folder / damaged
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.warns(DamagedFileWarning, match=match + r".*; the pretext model is trained again$"):
        assert not has_result(folder)
