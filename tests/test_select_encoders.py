"""``alnb select --encoder``: pretrained weights from a local file with no network, the one-line refusal of an
encoder that cannot load offline, near-duplicates ranked once, and MaxHerding's candidates at scale."""

import dataclasses
import json
import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alnb.__main__ import main
from alnb.select.candidates import herding_candidates
from alnb.select.encoders import check_encoder, parse_encoder
from alnb.select.folder import SelectError
from alnb.select.near_duplicates import near_duplicate_groups


def write_photos(root: Path, n: int = 24) -> Path:
    """``n`` distinct RGB images of varied sizes: stripes, rings and checkerboards of varied frequency and colour."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    for i in range(n):
        h, w = 48 + 8 * (i % 3), 64 - 8 * (i % 4)
        yy, xx = np.mgrid[:h, :w] / 8.0
        pattern = [
            np.sin(xx * (1 + i % 5)),
            np.sin(np.hypot(xx - 4, yy - 3) * (1 + i % 4)),
            np.sign(np.sin(xx * (1 + i % 3)) * np.sin(yy * (1 + i % 6))),
        ][i % 3]
        colour = rng.uniform(0, 1, 3)
        pixels = (127 + 120 * pattern[..., None] * colour).clip(0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(root / f"photo{i:02d}.png")
    return root


@pytest.fixture()
def offline(monkeypatch, tmp_path):
    """The network unreachable: the hub offline, empty caches, and any connection outside this machine refused."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    connect = socket.socket.connect

    def guarded(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"the network is unreachable in this test ({address[0]})")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.mark.slow
def test_timm_weights_from_a_local_file_embed_as_timm_does_with_no_network(offline, tmp_path):
    timm = pytest.importorskip("timm")
    import torch

    from alnb.select.encoders import state_hash

    folder = write_photos(tmp_path / "photos")
    torch.manual_seed(0)
    model = timm.create_model("resnet18", pretrained=False)
    weights = tmp_path / "resnet18.pth"
    torch.save(model.state_dict(), weights)
    out = tmp_path / "out"
    argv = [str(folder), "--budget", "20", "--encoder", "timm:resnet18", "--weights", str(weights), "--out", str(out)]
    argv.append("--keep-duplicates")  # random weights map distinct images to nearly parallel vectors
    assert main(["select", *argv]) == 0
    model.eval().reset_classifier(0)
    transform = timm.data.create_transform(**timm.data.resolve_data_config({}, model=model))
    paths = sorted(p.name for p in folder.iterdir())
    with torch.inference_mode():
        expected = model(torch.stack([transform(Image.open(folder / p).convert("RGB")) for p in paths])).numpy()
    (cached,) = (out / "cache").glob("embeddings_*.npz")
    with np.load(cached) as saved:
        np.testing.assert_allclose(saved["vectors"], expected, rtol=1e-4, atol=1e-5)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["embeddings"]["encoder"] == "timm:resnet18"
    assert manifest["embeddings"]["weights_hash"] == state_hash(model)
    assert len((out / "to_label.txt").read_text().splitlines()) == 20


@pytest.mark.parametrize("encoder", ["timm:resnet18", "torchvision:resnet18", "open_clip:RN50/openai"])
def test_an_encoder_that_cannot_load_offline_is_refused_in_one_line(offline, tmp_path, capsys, encoder):
    pytest.importorskip(encoder.split(":")[0])
    folder = write_photos(tmp_path / "photos", 4)
    out = tmp_path / "out"
    assert main(["select", str(folder), "--budget", "2", "--encoder", encoder, "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    model = encoder.split(":")[1].split("/")[0]
    assert encoder in error and "offline" in error and "fetch them online with: python -c" in error and model in error
    assert not out.exists()


def test_bad_encoder_values_are_refused_by_name(tmp_path):
    with pytest.raises(SelectError, match="--encoder: 'clip' is not an encoder; valid: ssl, kmeans, timm:<model>"):
        parse_encoder("clip")
    with pytest.raises(SelectError, match="--weights: .* is not a file"):
        check_encoder(parse_encoder("timm:resnet18"), str(tmp_path / "missing.pth"))
    with pytest.raises(SelectError, match="--weights: ssl is trained on the folder"):
        check_encoder(parse_encoder("ssl"), str(tmp_path / "missing.pth"))


def test_a_near_duplicate_pair_is_one_group_and_distinct_images_are_not():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3000, 64)).astype(np.float32)
    x[2500] = x[7] + 0.01 * rng.standard_normal(64)  # a near-copy of row 7
    x[2900] = x[2500] + 0.01 * rng.standard_normal(64)  # and a near-copy of that copy: same group
    groups = near_duplicate_groups(x, np.random.default_rng(1))
    assert groups == {7: [2500, 2900]}


def test_near_duplicates_are_found_within_k_means_partitions_at_scale(monkeypatch):
    import alnb.select.near_duplicates as near

    monkeypatch.setattr(near, "PARTITION_SIZE", 500)
    rng = np.random.default_rng(0)
    centres = 2 * rng.standard_normal((8, 32))
    x = (centres[rng.integers(8, size=4000)] + rng.standard_normal((4000, 32))).astype(np.float32)
    x[3999] = x[10] * 1.001
    assert near.near_duplicate_groups(x, np.random.default_rng(1)) == {10: [3999]}


def planted(n: int, d: int, rare: int, seed: int = 0) -> np.ndarray:
    """``n`` points in 50 Gaussian clusters, and ``rare`` of them (the last rows) in one planted far cluster."""
    rng = np.random.default_rng(seed)
    centres = 3.0 * rng.standard_normal((50, d))
    x = centres[rng.integers(50, size=n)] + rng.standard_normal((n, d))
    x[n - rare :] = 12.0 * np.eye(d)[0] + rng.standard_normal((rare, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_a_planted_cluster_of_a_twentieth_of_a_percent_gets_candidates():
    n, rare = 50_000, 25
    x = planted(n, 16, rare)
    candidates, rule = herding_candidates(x, np.arange(n), np.random.default_rng(0), 100)
    assert "stratified" in rule and 9_000 <= len(candidates) <= 12_000
    assert np.isin(np.arange(n - rare, n), candidates).sum() >= 20  # uniform 10,000 of 50,000: about 5


@pytest.mark.slow
def test_the_candidate_rule_reaches_the_all_points_objective_within_one_percent():
    from alnb.methods.kernel_herding import kernel_herding
    from alnb.select.objectives import prefix_objective

    n, budget = 50_000, 100
    x = planted(n, 16, 25)
    candidates, _ = herding_candidates(x, np.arange(n), np.random.default_rng(0), budget)
    stratified = kernel_herding(x, budget, np.random.default_rng(0), candidates=candidates, normalize=False)
    everything = kernel_herding(x, budget, np.random.default_rng(0), max_candidates=n, normalize=False)
    ours, _ = prefix_objective(x, stratified, np.zeros(0, np.int64), "kernel coverage")
    best, _ = prefix_objective(x, everything, np.zeros(0, np.int64), "kernel coverage")
    assert ours[-1] >= 0.99 * best[-1]


def test_an_image_and_its_re_encoded_resized_copy_are_ranked_once(tmp_path):
    """Embeddings of what the images show (their centred 8×8 grey pixels), passed as --embeddings: the copy's
    is near-identical to its original's, and the pair is ranked once, the copy reported with its kept image."""
    from alnb.select import SelectRequest, run_selection

    folder = write_photos(tmp_path / "photos", 12)
    with Image.open(folder / "photo04.png") as image:
        w, h = image.size
        image.convert("RGB").resize((w - 4, h - 3), Image.BICUBIC).save(folder / "photo04_copy.jpg", quality=90)
    paths = sorted(p.name for p in folder.iterdir())

    def pixels(path: str) -> np.ndarray:
        with Image.open(folder / path) as image:
            grey = np.asarray(image.convert("L").resize((8, 8), Image.BILINEAR), dtype=np.float32).ravel()
        return grey - grey.mean()

    np.save(tmp_path / "vectors.npy", np.stack([pixels(p) for p in paths]))
    (tmp_path / "vectors.txt").write_text("".join(f"{p}\n" for p in paths))
    request = SelectRequest(str(folder), 11, embeddings=str(tmp_path / "vectors.npy"), out=str(tmp_path / "out"))
    selection = run_selection(request, log=lambda _: None)
    assert selection.near_duplicates == {"photo04.png": ["photo04_copy.jpg"]}
    assert "photo04_copy.jpg" not in set(selection.table["path"]) and len(selection.table) == 11
    assert selection.images.skipped["photo04_copy.jpg"].startswith("a near-duplicate of photo04.png")
    kept = SelectRequest(str(folder), 11, embeddings=str(tmp_path / "vectors.npy"), out=str(tmp_path / "all"))
    everything = run_selection(dataclasses.replace(kept, keep_duplicates=True), log=lambda _: None)
    assert everything.near_duplicates == {} and len(everything.paths) == 13


def test_published_weights_in_the_users_cache_are_used_offline(offline, tmp_path):
    pytest.importorskip("torchvision")
    import torch
    import torchvision

    url = torchvision.models.get_model_weights("resnet18").DEFAULT.url
    checkpoints = Path(torch.hub.get_dir()) / "checkpoints"
    assert str(checkpoints).startswith(str(tmp_path))  # TORCH_HOME points into this test's folder
    checkpoints.mkdir(parents=True)
    (checkpoints / url.rsplit("/", 1)[-1]).write_bytes(b"stands for the cached file")
    assert check_encoder(parse_encoder("torchvision:resnet18"), None).startswith("cache (resnet18-")


def test_torchvision_weights_from_a_file_embed_with_the_weights_transforms(offline, tmp_path):
    import torch
    import torchvision

    from alnb.select.encoders import embed_files, load_encoder

    folder = write_photos(tmp_path / "photos", 3)
    torch.manual_seed(0)
    model = torchvision.models.get_model("resnet18", weights=None)
    torch.save({"state_dict": model.state_dict()}, tmp_path / "resnet18.pt")
    choice = parse_encoder("torchvision:resnet18")
    assert check_encoder(choice, str(tmp_path / "resnet18.pt")) == "--weights resnet18.pt"
    encoder = load_encoder(choice, str(tmp_path / "resnet18.pt"), torch.device("cpu"))
    paths = sorted(p.name for p in folder.iterdir())
    vectors = embed_files(encoder, folder, paths, torch.device("cpu"), batch_size=2)
    model.fc = torch.nn.Identity()
    transform = torchvision.models.get_model_weights("resnet18").DEFAULT.transforms()
    with torch.inference_mode():
        expected = model.eval()(torch.stack([transform(Image.open(folder / p).convert("RGB")) for p in paths]))
    assert vectors.shape == (3, 512)
    np.testing.assert_allclose(vectors, expected.numpy(), rtol=1e-4, atol=1e-5)


def test_the_kmeans_encoder_embeds_the_decoded_images_with_coates_ng_features(tmp_path):
    """``--encoder kmeans``: the folder's decoded images through :func:`label_free_embeddings`, cached and named in
    the manifest; no weights are needed."""
    from alnb.select import SelectRequest, run_selection
    from alnb.select.label_free import label_free_embeddings

    folder = write_photos(tmp_path / "photos", 12)
    request = SelectRequest(str(folder), 5, encoder="kmeans", out=str(tmp_path / "out"), keep_duplicates=True)
    selection = run_selection(request, log=lambda _: None)
    assert selection.manifest["embeddings"]["encoder"] == "kmeans" and len(selection.table) == 5
    cached = next((tmp_path / "out" / "cache").glob("embeddings_*.npz"))
    with np.load(cached) as saved:
        embeddings = next(saved[name] for name in saved.files)
    assert np.allclose(embeddings, label_free_embeddings(selection.images.pixels, 0), atol=1e-5)
