"""Self-supervised pretext tasks trained on the unlabeled pool."""
