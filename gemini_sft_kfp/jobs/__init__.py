"""The lifecycle of a long-running Vertex AI job, in one place.

- ``runner``: ``CloudJob``: find, create once, poll, cancel (GCPC's ``JobRemoteRunner``).
- ``stop``: the one SIGTERM type (``Terminated``) and ``ExecutionContext``, which turns
  a stop into a cancel.
- ``identity``: the idempotency label and resume key that make a job "this task's".
- ``kinds``: the ``JobKind`` protocol every kind implements, and user rejections.
- ``tuning``, ``batch``: the two kinds (tuning jobs, batch prediction jobs).
- ``states``: job states, by name.
"""
