"""``alnb select``: a folder to label ranked by the study's pool strategies, its files, and every refusal."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alnb.__main__ import main
from alnb.select import SelectError, SelectRequest, run_selection
from alnb.select.embeddings import load_user_embeddings
from alnb.select.objectives import prefix_objective
from alnb.select.outputs import OUTPUT_FILES
from alnb.select.ranking import check_method, rank

N_IMAGES = 36


def write_folder(root: Path) -> Path:
    """Three colour groups of 12×12 images, PNG and JPEG, some nested; a corrupt PNG; one exact duplicate."""
    rng = np.random.default_rng(0)
    for i in range(N_IMAGES):
        group = i % 3
        base = np.array([[200, 30, 30], [30, 200, 30], [30, 30, 200]][group], dtype=np.int64)
        pixels = np.clip(base + rng.integers(-25, 25, (12, 12, 3)), 0, 255).astype(np.uint8)
        folder = root / f"group{group}" / ("nested/deeper" if i % 2 else "")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(folder / f"img{i:02d}.{'jpg' if i % 4 == 0 else 'png'}")
    (root / "group0" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    (root / "z_copy_of_img01.png").write_bytes((root / "group1/nested/deeper/img01.png").read_bytes())
    (root / "notes.txt").write_text("not an image")
    return root


def image_paths(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.suffix in (".png", ".jpg"))


def write_npy(root: Path, out: Path, paths: list[str], vectors: np.ndarray) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "vectors.npy", vectors)
    (out / "vectors.txt").write_text("".join(f"{p}\n" for p in paths))
    return out / "vectors.npy"


def group_vectors(paths: list[str], seed: int = 0) -> np.ndarray:
    """Three well-separated groups (by the path's group folder) plus noise; the copy sits with group 1."""
    rng = np.random.default_rng(seed)
    centres = 3 * np.eye(3, 8)
    groups = [int(p[5]) if p.startswith("group") else 0 for p in paths]
    return (centres[groups] + 0.3 * rng.standard_normal((len(paths), 8))).astype(np.float32)


@pytest.fixture()
def folder(tmp_path):
    return write_folder(tmp_path / "photos")


@pytest.fixture()
def npy(folder, tmp_path):
    paths = [p for p in image_paths(folder) if "corrupt" not in p]
    return write_npy(folder, tmp_path / "emb", paths, group_vectors(paths))


def test_selection_from_user_vectors_writes_every_file_and_is_deterministic(folder, npy, tmp_path):
    request = SelectRequest(str(folder), 9, embeddings=str(npy), out=str(tmp_path / "out"), clusters=3)
    selection = run_selection(request, log=lambda _: None)
    files = {name: (tmp_path / "out" / name).read_bytes() for name in OUTPUT_FILES}
    table = selection.table
    assert list(table["rank"]) == list(range(1, 10)) and table["path"].is_unique
    assert "z_copy_of_img01.png" in selection.images.skipped  # a duplicate is reported, never ranked
    assert "z_copy_of_img01.png" not in set(table["path"])
    assert set(np.bincount(selection.clusters[selection.ranking.order[:3]], minlength=3)) == {1}  # one per group
    tasks = json.loads(files["label_studio_tasks.json"])
    assert tasks[0] == {
        "data": {"image": "/data/local-files/?d=photos/" + table["path"][0], "path": table["path"][0], "rank": 1},
        "meta": {"rank": 1},
    }
    assert [task["data"]["rank"] for task in tasks] == [task["meta"]["rank"] for task in tasks] == list(range(1, 10))
    assert files["to_label.txt"].decode().splitlines() == list(table["path"])
    manifest = json.loads(files["manifest.json"])
    assert manifest["method"] == "maxherding" and manifest["embeddings"]["source"] == "vectors.npy"
    assert "/" not in manifest["folder"]
    run_selection(request, log=lambda _: None)
    assert {name: (tmp_path / "out" / name).read_bytes() for name in OUTPUT_FILES} == files


def test_the_report_reads_the_selection_the_command_saved_and_the_request_is_checked_once(
    folder, npy, tmp_path, monkeypatch
):
    from alnb.select import load_selection, pipeline

    calls = []
    check = pipeline.check_request
    monkeypatch.setattr(pipeline, "check_request", lambda request: calls.append(request) or check(request))
    request = SelectRequest(str(folder), 9, embeddings=str(npy), out=str(tmp_path / "out"), clusters=3)
    selection = run_selection(request, log=lambda _: None)
    assert len(calls) == 1
    saved = load_selection(tmp_path / "out")
    assert saved.request == request and saved.paths == selection.paths and saved.notes == selection.notes
    np.testing.assert_array_equal(saved.ranking.order, selection.ranking.order)
    np.testing.assert_array_equal(saved.clusters, selection.clusters)
    np.testing.assert_array_equal(saved.coords, selection.coords)
    assert saved.forecast.z == selection.forecast.z and saved.images.skipped == selection.images.skipped
    pd = pytest.importorskip("pandas")
    pd.testing.assert_frame_equal(saved.table, selection.table, check_dtype=False)
    notebook = (Path(__file__).parents[1] / "notebooks" / "07_select.ipynb").read_text()
    assert "load_selection(" in notebook and "run_selection(" not in notebook


def test_corrupt_and_duplicate_images_are_skipped_when_decoding(folder, tmp_path):
    from alnb.select.folder import decode_images, list_images

    images = decode_images(list_images(folder), 16)
    assert images.skipped["group0/corrupt.png"].startswith("unreadable")
    assert images.skipped["z_copy_of_img01.png"] == "the same bytes as group1/nested/deeper/img01.png"
    assert images.pixels.shape == (N_IMAGES, 3, 16, 16) and len(images.paths) == N_IMAGES


@pytest.mark.parametrize("method", ["maxherding", "kcenter", "probcover"])
def test_every_prefix_of_a_greedy_ranking_is_the_pool_of_its_size(method):
    features = np.random.default_rng(1).standard_normal((300, 6)).astype(np.float32)
    full = rank(features, 30, method, np.random.default_rng(5), n_clusters=4)
    for size in (1, 7, 18):
        assert list(rank(features, size, method, np.random.default_rng(5), n_clusters=4).order) == list(
            full.order[:size]
        )


@pytest.mark.parametrize("method", ["maxherding", "kcenter", "probcover", "typiclust", "random", "kmeans_simclr_equal"])
def test_rankings_pick_distinct_unlabeled_images_and_keep_their_objective(method):
    features = np.random.default_rng(2).standard_normal((200, 5)).astype(np.float32)
    labeled = np.arange(0, 200, 20)
    ranking = rank(features, 25, method, np.random.default_rng(0), labeled, n_clusters=4)
    assert len(set(ranking.order)) == 25 and not set(ranking.order) & set(labeled)
    step = np.diff(np.concatenate([[ranking.start], ranking.values]))
    assert np.all(step >= -1e-9) if ranking.objective != "covering radius" else np.all(step <= 1e-9)


def test_prefix_objectives_match_a_dense_computation():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((120, 4)).astype(np.float32)
    picks, labeled = rng.choice(120, 15, replace=False), np.array([0, 1])
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    distances = np.linalg.norm(unit[:, None] - unit[None], axis=2)
    centres = [np.concatenate([labeled, picks[: k + 1]]) for k in range(15)]
    nearest = np.stack([distances[:, c].min(1) for c in centres], axis=1)
    coverage, start = prefix_objective(x, picks, labeled, "kernel coverage", bandwidth=0.7)
    np.testing.assert_allclose(coverage, np.exp(-((nearest / 0.7) ** 2)).mean(0), rtol=1e-4)
    np.testing.assert_allclose(start, np.exp(-((distances[:, labeled].min(1) / 0.7) ** 2)).mean(), rtol=1e-4)
    share, _ = prefix_objective(x, picks, labeled, "share within δ", delta=0.8)
    np.testing.assert_allclose(share, (nearest <= 0.8).mean(0), atol=1e-2)
    radius, _ = prefix_objective(x, picks, labeled, "covering radius")
    np.testing.assert_allclose(radius, nearest.max(0), rtol=1e-3)


def test_labeled_images_count_as_labeled_and_are_never_picked(folder, npy, tmp_path):
    labeled = tmp_path / "done.txt"
    labeled.write_text("# already labeled\ngroup0/img00.jpg\n\nz_copy_of_img01.png\n")
    selection = run_selection(
        SelectRequest(str(folder), 10, embeddings=str(npy), labeled=str(labeled), out=str(tmp_path / "out")),
        log=lambda _: None,
    )
    picked = set(selection.table["path"])
    assert not picked & {"group0/img00.jpg", "group1/nested/deeper/img01.png"}  # a copy stands for its original
    assert len(selection.labeled) == 2 and selection.ranking.start > 0
    assert selection.manifest["labeled"]["count"] == 2


def test_embedding_files_csv_with_and_without_header_and_npy_agree(folder, tmp_path):
    paths = ["a.png", "b/c.png"]
    vectors = np.array([[1.0, 2.0, 3.0], [4.0, 5.5, -6.0]], dtype=np.float32)
    npy = write_npy(folder, tmp_path / "e", paths, vectors)
    with_header = tmp_path / "with.csv"
    with_header.write_text("path,x0,x1,x2\na.png,1,2,3\nb/c.png,4,5.5,-6\n")
    without = tmp_path / "without.csv"
    without.write_text("a.png,1,2,3\nb/c.png,4,5.5,-6\n")
    for file in (npy, with_header, without):
        loaded = load_user_embeddings(file)
        assert loaded.paths == paths
        np.testing.assert_array_equal(loaded.vectors, vectors)


def test_embedding_file_in_parquet(tmp_path):
    pytest.importorskip("pyarrow", reason="Parquet needs pyarrow, which the project does not install")
    import pandas as pd

    file = tmp_path / "v.parquet"
    pd.DataFrame({"path": ["a.png", "b.png"], "embedding": [[1.0, 2.0], [3.0, 4.0]]}).to_parquet(file)
    loaded = load_user_embeddings(file)
    assert loaded.paths == ["a.png", "b.png"] and loaded.vectors.tolist() == [[1, 2], [3, 4]]


def test_oracle_and_unrankable_methods_are_refused_by_name():
    with pytest.raises(SelectError, match=r"^--method: balanced_random is an oracle reference.*valid: .*maxherding"):
        check_method("balanced_random")
    with pytest.raises(SelectError, match=r"^--method: 'nope' is not a registered"):
        check_method("nope")
    with pytest.raises(SelectError, match=r"^--method: maxherding_pca reads pca"):
        check_method("maxherding_pca")
    with pytest.raises(SelectError, match=r"^--method: simclr reads the per-image losses"):
        check_method("simclr", has_scores=False)


def _refusals(folder: Path, tmp: Path) -> dict[str, tuple[list[str], str]]:
    paths = [p for p in image_paths(folder) if "corrupt" not in p]
    short = write_npy(folder, tmp / "short", paths, group_vectors(paths)[:-1])
    (tmp / "short" / "vectors.txt").write_text("".join(f"{p}\n" for p in paths))
    nan = group_vectors(paths)
    nan[4, 2] = np.nan
    with_nan = write_npy(folder, tmp / "nan", paths, nan)
    stranger = write_npy(folder, tmp / "stranger", ["elsewhere.png"], np.ones((1, 3), np.float32))
    (tmp / "empty").mkdir()
    (tmp / "no_images").mkdir()
    (tmp / "no_images" / "readme.txt").write_text("x")
    labeled = tmp / "labeled.txt"
    labeled.write_text("group0/img00.jpg\nnot/here.png\n")
    f = str(folder)
    return {
        "missing folder": ([str(tmp / "absent"), "--budget", "3"], "FOLDER: .* is not a folder"),
        "empty folder": ([str(tmp / "empty"), "--budget", "3"], "FOLDER: .* is empty"),
        "no image": ([str(tmp / "no_images"), "--budget", "3"], "FOLDER: .* holds no image"),
        "budget 0": ([f, "--budget", "0"], r"--budget: 0 is outside \[1, 38\]"),
        "budget too large": ([f, "--budget", "39"], r"--budget: 39 is outside \[1, 38\]"),
        "labeled not in folder": (
            [f, "--budget", "3", "--labeled", str(labeled)],
            "--labeled: labeled.txt line 2 names not/here.png, which is not an image in FOLDER",
        ),
        "rows differ from paths": (
            [f, "--budget", "3", "--embeddings", str(short)],
            "--embeddings: vectors.npy has 36 rows but vectors.txt lists 37 paths",
        ),
        "nan vector": (
            [f, "--budget", "3", "--embeddings", str(with_nan)],
            r"--embeddings: vectors.npy row 5 \(.*\) holds a NaN or infinite value",
        ),
        "vector of a file not in folder": (
            [f, "--budget", "3", "--embeddings", str(stranger)],
            "--embeddings: vectors.npy names elsewhere.png, which is not an image",
        ),
        "oracle method": (
            [f, "--budget", "3", "--method", "balanced_random"],
            "--method: balanced_random is an oracle reference",
        ),
        "out inside folder": ([f, "--budget", "3", "--out", str(folder / "out")], "--out: .* is inside FOLDER"),
        "unknown encoder": (
            [f, "--budget", "3", "--encoder", "clip"],
            "--encoder: 'clip' is not an encoder; valid: ssl",
        ),
        "weights for ssl": (
            [f, "--budget", "3", "--weights", str(labeled)],
            "--weights: ssl is trained on the folder and reads no weights file",
        ),
        "encoder with embeddings": (
            [f, "--budget", "3", "--embeddings", str(stranger), "--encoder", "timm:resnet18"],
            "--encoder/--weights: not with --embeddings",
        ),
    }


def test_every_bad_input_is_refused_in_one_line_with_status_2_and_nothing_written(folder, tmp_path, capsys):
    for case, (argv, message) in _refusals(folder, tmp_path).items():
        out = tmp_path / "outputs"
        if "--out" not in argv:
            argv = [*argv, "--out", str(out)]
        before = sorted(p for p in tmp_path.rglob("*"))
        assert main(["select", *argv]) == 2, case
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("alnb select: "), (case, err)
        assert pytest.importorskip("re").search(message, err), (case, err)
        assert sorted(p for p in tmp_path.rglob("*")) == before, case
        assert not out.exists(), case


@pytest.mark.slow
def test_the_command_on_a_folder_writes_every_output_and_a_second_run_is_the_same(
    folder, tmp_path, monkeypatch, capsys
):
    from alnb.select import embeddings

    monkeypatch.setattr(embeddings, "MAX_EPOCHS", 2)  # a tiny encoder: the notebook then reads it from the cache
    out = tmp_path / "selection"
    argv = ["select", str(folder), "--budget", "8", "--out", str(out), "--clusters", "3"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "expected about" in printed and "training SimCLR on 36 images" in printed
    for name in (*OUTPUT_FILES, "selection.html"):
        assert (out / name).is_file(), name
    first = {name: (out / name).read_bytes() for name in OUTPUT_FILES}
    page = (out / "selection.html").read_text()
    assert "Label these first" in page and "corrupt.png" in page and "z_copy_of_img01.png" in page
    assert str(tmp_path) not in page and ">nan<" not in page.lower()
    assert main(argv) == 0
    assert "expected about" not in capsys.readouterr().out  # the encoder comes from the cache
    assert {name: (out / name).read_bytes() for name in OUTPUT_FILES} == first
    assert not any(p.name == "alnb_cache" or p.suffix in (".npz", ".csv") for p in folder.rglob("*"))


@pytest.mark.slow
def test_simulate_runs_a_small_study_on_class_folders_and_reports_its_verdict(tmp_path, monkeypatch, capsys):
    from alnb.select import embeddings, simulate

    monkeypatch.setattr(embeddings, "MAX_EPOCHS", 2)
    monkeypatch.setattr(simulate, "CANDIDATES", ("maxherding",))
    monkeypatch.setattr(simulate, "SEEDS", (0, 1))
    rng = np.random.default_rng(0)
    for c, colour in enumerate([[200, 30, 30], [30, 200, 30], [30, 30, 200]]):
        (tmp_path / "classes" / f"c{c}").mkdir(parents=True)
        for i in range(30):
            pixels = np.clip(np.array(colour) + rng.integers(-40, 40, (12, 12, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / "classes" / f"c{c}" / f"{i}.png")
    out = tmp_path / "out"
    assert main(["select", str(tmp_path / "classes"), "--budget", "6", "--out", str(out), "--simulate"]) == 0
    page = (out / "selection.html").read_text()
    assert "maxherding" in page and "mean_gain" in page and "Not run for this selection (pass <code>" not in page
    assert not (tmp_path / "classes" / "alnb_cache").exists()


def test_simulate_needs_class_subfolders(folder, tmp_path, capsys):
    flat = tmp_path / "flat"
    flat.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(flat / "a.png")
    assert main(["select", str(flat), "--budget", "1", "--simulate", "--out", str(tmp_path / "o")]) == 2
    assert "--simulate: FOLDER" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_the_simulation_sentence_claims_only_what_its_tests_allow():
    import pandas as pd

    from alnb.select.simulate import verdict_sentence

    def table(ci_low, outcome, better=0, ci_high=0.08, gain=0.04):
        return pd.DataFrame(
            [
                {
                    "init": "maxherding",
                    "kind": "self-supervised",
                    "seeds": 3,
                    "mean_gain": gain,
                    "ci_low": ci_low,
                    "ci_high": ci_high,
                    "outcome": outcome,
                    "better": better,
                },
                {
                    "init": "random",
                    "kind": "baseline",
                    "seeds": 3,
                    "mean_gain": 0.0,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "outcome": "baseline",
                    "better": 0,
                },
            ]
        )

    assert "no method is shown to beat random" in verdict_sentence(table(-0.01, "could not tell"))
    assert "the Holm-corrected primary test is not significant" in verdict_sentence(table(0.01, "could not tell"))
    assert "beats random in the Holm-corrected primary test" in verdict_sentence(table(0.01, "better"))
    # the outcome decides, not the secondary count: one query method better is not the primary test
    assert "beats random" not in verdict_sentence(table(0.01, "could not tell", better=1))
    # an interval wholly below 0 does not "include 0"
    below = verdict_sentence(table(-0.08, "worse", ci_high=-0.01, gain=-0.04))
    assert "wholly below 0" in below and "includes 0" not in below
