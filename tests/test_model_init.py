"""Weight-space initialisation (model.init): the backbone starts from the seed's pretext encoder at every cycle."""

import pytest
import torch

import alnb.models.training
from alnb.core.config import ParamsError
from alnb.models.networks import build_classifier
from alnb.run.protocol import protocol
from alnb.run.study import Study
from alnb.run.validation import params_from_dict

FAST = {
    "training": {"batch_size": 64, "min_samples_per_epoch": 128, "max_epochs": 2, "patience": 1},
    "pretext": {"tasks": ["rotation"], "settings": {"rotation": {"epochs": 1}}},
}


def test_every_cycle_starts_from_the_encoder_weights_and_a_seeded_head(tmp_path, monkeypatch):
    al = {"initial_size": 20, "budget": 10, "cycles": 1, "seeds": [0], "queries": ["random"]}
    study = Study(params_from_dict({"run_dir": str(tmp_path / "run"), "al": al, "model": {"init": "rotation"}, **FAST}))
    starts = []
    fit = alnb.models.training._fit

    def record_start(model, *args, **kwargs):
        starts.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        return fit(model, *args, **kwargs)

    monkeypatch.setattr(alnb.models.training, "_fit", record_start)
    results = study.grid.run(progress=False)
    encoder = {
        k[len("encoder.") :]: v
        for k, v in study.representations.self_supervised(0, "rotation").state_dict.items()
        if k.startswith("encoder.")
    }
    assert len(starts) == 2 and encoder  # cycles 0 and 1
    for start in starts:  # no warm start: cycle 1 starts from the encoder again, not from cycle 0's model
        for name, value in encoder.items():
            assert torch.equal(start[f"backbone.{name}"], value), name
    from alnb.core import seeding

    seeded = build_classifier("auto", 1, 8, 10, 0.3, seed=seeding.stream_seed(0, "init", 0))
    assert torch.equal(starts[0]["head.weight"], seeded.head.weight)
    assert not torch.equal(starts[0]["backbone.layers.0.weight"], seeded.backbone.layers[0].weight)
    assert set(results["model_init"]) == {"rotation"}


def test_scratch_keeps_the_protocol_and_the_trial_keys():
    study = Study(params_from_dict({}))
    assert "init" not in protocol(study.params)["model"] and "model_init" not in study.grid.factors
    assert study.representations.backbone_state(0) is None


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"model": {"init": "vae"}, "pretext": {"tasks": ["rotation"]}}, "model.init: unknown name 'vae'"),
        (
            {"model": {"init": "rotation", "arch": "resnet18"}, "pretext": {"tasks": ["rotation"], "arch": "smallcnn"}},
            "model.init: 'rotation' loads the smallcnn encoder",
        ),
        ({"ablations": {"model_inits": ["scratch", "simclr"]}}, "ablations.model_inits: unknown name 'simclr'"),
    ],
)
def test_validation_refuses_an_init_the_study_cannot_load(raw, message):
    with pytest.raises(ParamsError, match=message):
        params_from_dict(raw)


def test_pretext_arch_auto_gives_the_encoder_the_classifiers_architecture():
    raw = {"model": {"init": "rotation", "arch": "resnet18"}, "pretext": {"tasks": ["rotation"]}}
    assert params_from_dict(raw).pretext.arch == "auto"  # resnet18 encoders at 8×8, loadable into the classifier
