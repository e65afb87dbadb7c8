"""Networks (small CNN, ResNet18) and their training with early stopping on validation."""
