"""Wait for a tuning job; publish the tuned model, endpoint, metrics and checkpoints."""
