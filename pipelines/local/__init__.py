"""Local runs of a pipeline (``gemini-sft run``, ``rehearse``): the KFP local runner with
progress, the backend (emulator or cloud), resume after a crash, Docker, the summary.

- ``run``: one run from options to verdict (``run_local``, ``rehearse``).
- ``kfp_runner``: KFP's local runner made readable: a progress line per task, the full log
  in a file, each task's outputs read back.
- ``backend``: where the cloud calls go: the emulator (given or started) or Google Cloud.
- ``resume``: a killed run's tuning job found by its run key and reused, never paid twice.
- ``dead_tasks``: the tasks a dead run left, ended before anything is decided.
- ``docker_runner``, ``docker_tasks``: ``--runner docker``, every task in the image.
- ``control_flow``: ``dsl.If`` and friends decided as on Vertex, or refused up front.
- ``pipeline_file``: a user's own pipeline from a ``.py`` file or compiled YAML.
- ``summary``: the end-of-run summary (JSON and rich).
"""
