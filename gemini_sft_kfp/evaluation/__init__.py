"""Evaluation as a library: score a tuned model (and a baseline) on an eval set, then gate.

One implementation behind every caller, so the numbers a user sees locally are the
numbers a pipeline branches on: the ``evaluate_model`` component (a thin wrapper in
``components/evaluate_model/``), ``select_checkpoint``, ``check_run_inputs`` (its checks
of the settings and data), ``gemini-sft evaluate`` and ``bench/``. The entry point is
``evaluation.evaluate``; ``eval_data`` reads the JSONL, ``runner`` / ``rest`` send the
online requests, ``batch`` runs batch prediction jobs, ``judge`` calls the Gen AI
evaluation service, ``metrics`` and ``gate`` score and decide, ``report`` renders
Markdown.
"""
