"""The encoders ``alnb select --encoder`` can embed a folder with, and where their weights come from.

* label-free (``LABEL_FREE``): trained or computed on the folder's own decoded images, no weights needed.
  ``ssl`` is SimCLR trained on the folder (:func:`alnb.select.embeddings.ssl_encoder`, the default); ``kmeans``
  is Coates & Ng's single-layer k-means features (:mod:`alnb.select.label_free`), no training. Another
  label-free encoder is one entry: a name and a function of the decoded images (uint8 ``[N, H, W, C]``), a seed
  and a torch device returning float32 ``[N, d]``.
* pretrained (``PRETRAINED``), read from the image files with the model's own preprocessing:
  ``timm:<model>`` (timm's ``resolve_data_config`` / ``create_transform``, pooled features),
  ``open_clip:<arch>/<pretrained tag>`` (open_clip's image transform and ``encode_image``),
  ``torchvision:<model>`` (the weights enum's ``transforms()``, the classifier replaced by the identity).

Weights: ``--weights FILE`` loads a local checkpoint (a state dict, or a dict holding one under ``state_dict``
or ``model``) with no network at all. Without it the published weights are read from the user's cache (the
Hugging Face hub cache, torch hub's ``checkpoints``), or downloaded when the machine is online. An encoder whose
weights are neither cached nor reachable is refused in one :class:`~alnb.select.folder.SelectError` line that
names the model, where it looked and the command that fetches them; that check runs before any compute.

Inference is batched on the device (``auto``: CUDA when present), under bf16 autocast on CUDA. The weights'
hash (SHA-1 of the loaded state dict's names, shapes and bytes) keys the embedding cache and is recorded in
the manifest.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from alnb.select.folder import SelectError

DEFAULT_ENCODER = "ssl"
EXTRA = "pip install -e '.[encoders]'"
BATCH_SIZE = 64


@dataclass(frozen=True)
class LabelFree:
    """An encoder computed on the folder's own decoded images: ``embed(pixels [N, H, W, C] uint8, seed,
    device) -> float32 [N, d]``."""

    description: str
    embed: Callable[[np.ndarray, int, torch.device], np.ndarray] | None


# ``ssl`` is handled by the pipeline itself (it also yields SimCLR's per-image losses and has its own cache).
def _kmeans_features(pixels: np.ndarray, seed: int, device: torch.device) -> np.ndarray:
    """Coates–Ng single-layer k-means features of images given as uint8 ``[N, H, W, C]``."""
    from alnb.select.label_free import label_free_embeddings

    return label_free_embeddings(np.ascontiguousarray(pixels.transpose(0, 3, 1, 2)), seed, device)


LABEL_FREE: dict[str, LabelFree] = {
    "ssl": LabelFree("SimCLR (small CNN) trained on the folder", None),
    "kmeans": LabelFree("single-layer k-means features of the folder (Coates, Lee & Ng 2011)", _kmeans_features),
}


@dataclass(frozen=True)
class EncoderChoice:
    """A parsed ``--encoder``: ``family`` (a label-free name, or timm / open_clip / torchvision) and ``model``."""

    text: str
    family: str
    model: str

    @property
    def pretrained(self) -> bool:
        return self.family in PRETRAINED


@dataclass
class LoadedEncoder:
    """A pretrained model ready to embed: ``forward(batch) -> features``, its ``transform`` (PIL → tensor) and the
    hash of its weights."""

    forward: Callable[[torch.Tensor], torch.Tensor]
    transform: Callable
    weights_hash: str
    weights_source: str


def _offline_refusal(choice: EncoderChoice, looked: str, fetch: str) -> SelectError:
    return SelectError(
        f"--encoder: {choice.text}: its weights are not in {looked} and the hub cannot be reached (offline); "
        f"fetch them online with: {fetch}, or pass --weights FILE"
    )


def _online(host: str) -> bool:
    """Whether ``host``:443 answers within 3 s (False under ``HF_HUB_OFFLINE=1`` for the Hugging Face hub)."""
    if host == "huggingface.co" and os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on"):
        return False
    try:
        with socket.create_connection((host, 443), timeout=3):
            return True
    except OSError:
        return False


def _hf_cached(repo_id: str) -> bool:
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(repo_id, local_files_only=True)
    except Exception:  # huggingface_hub raises LocalEntryNotFoundError (or an OSError subclass) when not cached
        return False
    return True


def _url_cache_file(url: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url.split("?")[0])


def _check_published(choice: EncoderChoice, hf_hub_id: str | None, url: str | None, fetch: str) -> str:
    """Where the published weights will come from ('cache' / 'hub'); the one-line refusal when neither works."""
    if hf_hub_id:
        repo = "/".join(hf_hub_id.split("@")[0].split("/")[:2])
        if _hf_cached(repo):
            return f"cache (huggingface {repo})"
        if _online("huggingface.co"):
            return f"hub (huggingface {repo})"
        raise _offline_refusal(choice, f"the Hugging Face cache (huggingface {repo})", fetch)
    if url:
        file = _url_cache_file(url)
        if file.is_file():
            return f"cache ({file.name})"
        host = url.split("/")[2]
        if _online(host):
            return f"hub ({host})"
        raise _offline_refusal(choice, f"torch hub's checkpoints ({file.name})", fetch)
    raise SelectError(f"--encoder: {choice.text} has no published weights; pass --weights FILE")


def _import(choice: EncoderChoice, package: str):
    import importlib

    try:
        return importlib.import_module(package)
    except ImportError:
        raise SelectError(f"--encoder: {choice.text} needs the package {package} ({EXTRA})") from None


def _read_checkpoint(file: Path) -> dict:
    if file.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(file))
    else:
        state = torch.load(file, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    return {k.removeprefix("module."): v for k, v in state.items()}


def _load_state(choice: EncoderChoice, model: torch.nn.Module, file: Path) -> None:
    try:
        model.load_state_dict(_read_checkpoint(file), strict=True)
    except (RuntimeError, ValueError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SelectError(f"--weights: {file.name} does not fit {choice.text}: {first}") from None


# -- timm ---------------------------------------------------------------------------------------------------


def _timm_check(choice: EncoderChoice, weights: Path | None) -> str:
    timm = _import(choice, "timm")
    if not timm.is_model(choice.model):
        raise SelectError(
            f"--encoder: {choice.text}: timm has no model {choice.model!r} (list them: python -c "
            f"\"import timm; print(timm.list_models('*{choice.model.split('.')[0][:6]}*'))\")"
        )
    if weights is not None:
        return f"--weights {weights.name}"
    cfg = timm.models.get_pretrained_cfg(choice.model) or None
    fetch = f"python -c \"import timm; timm.create_model('{choice.model}', pretrained=True)\""
    return _check_published(choice, getattr(cfg, "hf_hub_id", None), getattr(cfg, "url", None), fetch)


def _timm_load(choice: EncoderChoice, weights: Path | None) -> tuple[torch.nn.Module, Callable]:
    import timm

    model = timm.create_model(choice.model, pretrained=weights is None)
    if weights is not None:
        _load_state(choice, model, weights)
    model.reset_classifier(0)  # pooled features
    transform = timm.data.create_transform(**timm.data.resolve_data_config({}, model=model))
    return model, transform


# -- open_clip ----------------------------------------------------------------------------------------------


def _open_clip_names(choice: EncoderChoice) -> tuple[str, str | None]:
    arch, _, tag = choice.model.partition("/")
    return arch, tag or None


def _open_clip_check(choice: EncoderChoice, weights: Path | None) -> str:
    open_clip = _import(choice, "open_clip")
    arch, tag = _open_clip_names(choice)
    if arch not in open_clip.list_models():
        raise SelectError(
            f"--encoder: {choice.text}: open_clip has no architecture {arch!r} (list them: python -c "
            f'"import open_clip; print(open_clip.list_pretrained())")'
        )
    if weights is not None:
        return f"--weights {weights.name}"
    if tag is None or tag not in open_clip.list_pretrained_tags_by_model(arch):
        raise SelectError(
            f"--encoder: {choice.text}: give open_clip:<arch>/<pretrained tag>; tags of {arch}: "
            f"{', '.join(open_clip.list_pretrained_tags_by_model(arch)) or 'none'} (or pass --weights FILE)"
        )
    cfg = open_clip.get_pretrained_cfg(arch, tag)
    fetch = f"python -c \"import open_clip; open_clip.create_model_and_transforms('{arch}', pretrained='{tag}')\""
    return _check_published(choice, cfg.get("hf_hub"), cfg.get("url"), fetch)


def _open_clip_load(choice: EncoderChoice, weights: Path | None) -> tuple[torch.nn.Module, Callable]:
    import open_clip

    arch, tag = _open_clip_names(choice)
    model, _, transform = open_clip.create_model_and_transforms(arch, pretrained=None if weights else tag)
    if weights is not None:
        _load_state(choice, model, weights)
    return model, transform


# -- torchvision --------------------------------------------------------------------------------------------

HEADS = ("fc", "classifier", "heads", "head")


def _torchvision_check(choice: EncoderChoice, weights: Path | None) -> str:
    import torchvision

    if choice.model not in torchvision.models.list_models():
        raise SelectError(
            f"--encoder: {choice.text}: torchvision has no model {choice.model!r} (list them: python -c "
            f'"import torchvision; print(torchvision.models.list_models())")'
        )
    if weights is not None:
        return f"--weights {weights.name}"
    default = torchvision.models.get_model_weights(choice.model).DEFAULT
    fetch = f"python -c \"import torchvision; torchvision.models.get_model('{choice.model}', weights='DEFAULT')\""
    return _check_published(choice, None, default.url, fetch)


def _torchvision_load(choice: EncoderChoice, weights: Path | None) -> tuple[torch.nn.Module, Callable]:
    import torchvision

    default = torchvision.models.get_model_weights(choice.model).DEFAULT
    model = torchvision.models.get_model(choice.model, weights=None if weights else default)
    if weights is not None:
        _load_state(choice, model, weights)
    head = next((name for name in HEADS if isinstance(getattr(model, name, None), torch.nn.Module)), None)
    if head is not None:
        setattr(model, head, torch.nn.Identity())
    return model, default.transforms()


@dataclass(frozen=True)
class Pretrained:
    """A family of pretrained models: ``check(choice, weights)`` says where the weights come from (or refuses),
    ``load(choice, weights)`` returns (the model, its transform); ``embed`` names the method giving features."""

    syntax: str
    check: Callable[[EncoderChoice, Path | None], str]
    load: Callable[[EncoderChoice, Path | None], tuple]
    embed: str = "forward"


PRETRAINED: dict[str, Pretrained] = {
    "timm": Pretrained("timm:<model>", _timm_check, _timm_load),
    "open_clip": Pretrained("open_clip:<arch>/<pretrained tag>", _open_clip_check, _open_clip_load, "encode_image"),
    "torchvision": Pretrained("torchvision:<model>", _torchvision_check, _torchvision_load),
}


def encoder_choices() -> str:
    return ", ".join([*LABEL_FREE, *(family.syntax for family in PRETRAINED.values())])


def parse_encoder(text: str) -> EncoderChoice:
    """``--encoder``'s value parsed, or :class:`SelectError` naming the valid forms."""
    family, colon, model = text.partition(":")
    if not colon and text in LABEL_FREE:
        return EncoderChoice(text, text, "")
    if colon and family in PRETRAINED and model.strip():
        return EncoderChoice(text, family, model.strip())
    raise SelectError(f"--encoder: {text!r} is not an encoder; valid: {encoder_choices()}")


def check_encoder(choice: EncoderChoice, weights: str | None) -> str:
    """Where ``choice``'s weights will come from, checked before any compute (nothing is loaded or written);
    :class:`SelectError` for a missing ``--weights`` file, an unknown model, a missing package, or weights that
    cannot be had offline."""
    file = Path(weights) if weights else None
    if not choice.pretrained:
        if file is not None:
            raise SelectError(f"--weights: {choice.text} is trained on the folder and reads no weights file")
        return "trained on the folder"
    if file is not None and not file.is_file():
        raise SelectError(f"--weights: {weights} is not a file")
    return PRETRAINED[choice.family].check(choice, file)


def state_hash(model: torch.nn.Module) -> str:
    """SHA-1 (16 hex digits) of a model's state dict: every name, shape, dtype and byte."""
    digest = hashlib.sha1()
    for name, tensor in sorted(model.state_dict().items()):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{tuple(tensor.shape)}|{tensor.dtype}".encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]


def load_encoder(choice: EncoderChoice, weights: str | None, device: torch.device) -> LoadedEncoder:
    """The pretrained model on ``device`` in eval mode, its transform and its weights' hash."""
    family = PRETRAINED[choice.family]
    file = Path(weights) if weights else None
    model, transform = family.load(choice, file)
    model = model.eval().to(device)
    source = f"--weights {file.name}" if file else "published weights"
    return LoadedEncoder(getattr(model, family.embed), transform, state_hash(model), source)


def embed_files(
    encoder: LoadedEncoder, root: Path, paths: list[str], device: torch.device, batch_size: int = BATCH_SIZE
) -> np.ndarray:
    """float32 ``[len(paths), d]``: each image file opened as RGB, put through the model's transform, and
    embedded in batches on ``device`` (bf16 autocast on CUDA)."""
    from PIL import Image

    def load(path: str) -> torch.Tensor:
        with Image.open(root / path) as image:
            return encoder.transform(image.convert("RGB"))

    chunks = []
    with torch.inference_mode(), torch.autocast("cuda", torch.bfloat16, enabled=device.type == "cuda"):
        for lo in range(0, len(paths), batch_size):
            batch = torch.stack([load(path) for path in paths[lo : lo + batch_size]]).to(device)
            chunks.append(encoder.forward(batch).float().flatten(1).cpu())
    return torch.cat(chunks).numpy()
