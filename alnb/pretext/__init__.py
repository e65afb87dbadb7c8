"""Self-supervised pretext tasks trained on the unlabeled pool; their losses and embeddings feed initial pools."""

PRETEXT_TASKS = ("rotation", "inpainting", "vae", "simclr")
