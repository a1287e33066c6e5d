"""``register_model``: promote a tuned model version (aliases, labels, description)."""
