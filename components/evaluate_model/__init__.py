"""``evaluate_model``: score a tuned endpoint against a baseline and apply the quality gate."""
