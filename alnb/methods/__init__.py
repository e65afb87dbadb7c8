"""The study's methods: initial-pool strategies, AL query methods, self-supervised models, and what they share."""
