import json

from alnb.core.progress import PROGRESS_ENV, TerminalProgress, progress_bar
from alnb.run.store import TrialKey


def test_progress_goes_to_the_file_when_a_driver_asks(tmp_path, monkeypatch, capsys):
    target = tmp_path / "progress.json"
    monkeypatch.setenv(PROGRESS_ENV, str(target))
    with progress_bar(3, "trials") as bar:
        bar.update()
        bar.update()
    state = json.loads(target.read_text())
    assert state["done"] == 2 and state["total"] == 3 and state["desc"] == "trials"
    assert capsys.readouterr().err == ""  # nothing reaches the notebook's output


def test_terminal_progress_draws_what_the_kernel_wrote(tmp_path, monkeypatch, capsys):
    target = tmp_path / "progress.json"
    monkeypatch.setenv(PROGRESS_ENV, str(target))
    with TerminalProgress(target, "03", interval=0.01):
        with progress_bar(4, "trials") as bar:
            for _ in range(4):
                bar.update()
    err = capsys.readouterr().err
    assert "03 trials" in err and "4/4" in err
    assert not target.exists()


def test_trial_key_folder_names_every_factor():
    key = TrialKey("digits", "random", "lc", 0, (("initial_size", 10), ("imbalance_factor", 10.0)))
    assert key.folder_name == "digits__random__lc__s0__initial_size-10__imbalance_factor-10"
    assert key.as_dict()["initial_size"] == 10
