"""``evaluate_model``: score a tuned endpoint against a baseline and apply the quality gate.

The KFP wrapper only; the evaluation itself is ``gemini_sft_kfp.evaluation``.
"""
