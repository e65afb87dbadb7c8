"""Self-supervised pretext tasks trained on the unlabeled pool: per-sample losses and embeddings.

``train_pretext(task, images, seed, device)`` for ``task`` in :data:`PRETEXT_TASKS`; results are cached
with :func:`save_result` / :func:`load_result`.
"""

from alnb.pretext.storage import has_result, load_result, save_result
from alnb.pretext.training import (DEFAULT_SETTINGS, PRETEXT_TASKS, PretextResult, build_model, check_task,
                                   task_options, train_pretext)

__all__ = ["DEFAULT_SETTINGS", "PRETEXT_TASKS", "PretextResult", "build_model", "check_task", "has_result",
           "load_result", "save_result", "task_options", "train_pretext"]
