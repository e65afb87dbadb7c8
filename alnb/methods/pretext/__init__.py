"""Self-supervised models trained on the unlabeled pool U: per-sample losses, embeddings, clusterings.

Every model is registered in :data:`SELF_SUPERVISED` (:mod:`alnb.methods.pretext.registry`) with its options;
:func:`train_self_supervised` trains any of them and returns a :class:`PretextResult`, cached with
:func:`save_result` / :func:`load_result`. The pretext tasks (:data:`PRETEXT_TASKS`) score every image by
their loss; DeepCluster (:mod:`alnb.methods.pretext.deepcluster`) clusters the images instead.
"""

from alnb.methods.pretext import deepcluster, inpainting, rotation, simclr, vae  # noqa: F401  (register)
from alnb.methods.pretext.deepcluster import clustering_nmi, train_deepcluster
from alnb.methods.pretext.registry import (
    SELF_SUPERVISED,
    PretextResult,
    SelfSupervisedMethod,
    declared_self_supervised_options,
    self_supervised_method,
    train_self_supervised,
)
from alnb.methods.pretext.storage import has_result, load_result, save_result
from alnb.methods.pretext.training import build_model, train_pretext

SELF_SUPERVISED_METHODS = tuple(SELF_SUPERVISED)
PRETEXT_TASKS = tuple(name for name, method in SELF_SUPERVISED.items() if method.scores)

__all__ = [
    "PRETEXT_TASKS",
    "SELF_SUPERVISED",
    "SELF_SUPERVISED_METHODS",
    "PretextResult",
    "SelfSupervisedMethod",
    "build_model",
    "clustering_nmi",
    "declared_self_supervised_options",
    "has_result",
    "load_result",
    "save_result",
    "self_supervised_method",
    "train_deepcluster",
    "train_pretext",
    "train_self_supervised",
]
