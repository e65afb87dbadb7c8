"""Self-supervised models trained on the unlabeled pool: per-sample losses, embeddings, clusterings.

``train_pretext(task, images, seed, device)`` for ``task`` in :data:`PRETEXT_TASKS`; results are cached
with :func:`save_result` / :func:`load_result`. DeepCluster (:mod:`alnb.methods.pretext.deepcluster`) yields a
clustering and embeddings instead of per-sample losses; :data:`SELF_SUPERVISED_METHODS` names them all.
"""

from alnb.methods.pretext.deepcluster import (
    DeepClusterResult,
    clustering_nmi,
    has_deepcluster,
    load_deepcluster,
    save_deepcluster,
    train_deepcluster,
)
from alnb.methods.pretext.storage import has_result, load_result, save_result
from alnb.methods.pretext.training import (
    DEFAULT_SETTINGS,
    PRETEXT_TASKS,
    PretextResult,
    build_model,
    check_task,
    task_options,
    train_pretext,
)

SELF_SUPERVISED_METHODS = (*PRETEXT_TASKS, "deepcluster")

__all__ = [
    "SELF_SUPERVISED_METHODS",
    "DeepClusterResult",
    "clustering_nmi",
    "has_deepcluster",
    "load_deepcluster",
    "save_deepcluster",
    "train_deepcluster",
    "DEFAULT_SETTINGS",
    "PRETEXT_TASKS",
    "PretextResult",
    "build_model",
    "check_task",
    "has_result",
    "load_result",
    "save_result",
    "task_options",
    "train_pretext",
]
