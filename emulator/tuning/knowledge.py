"""What a simulated tuned model "learned": TF-IDF retrieval over its training examples.

A tuned model answers with the model turn of the training example whose user turns are
closest to the prompt (preference data: its preferred completion; continued tuning: the
newest data first, then what the model it started from knew). This is a simulation,
not training; it makes local evaluation meaningful (a tuned model beats its base model
on held-out data of the same task).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gemini_sft_kfp.emulator.tuning.datasets import DatasetProblem, parse_jsonl

if TYPE_CHECKING:
    from gemini_sft_kfp.emulator.cloud_storage.gcs import GcsServer


MEMO_SIZE = 8192  # answers remembered per model: evaluation reruns the same prompts


@dataclass
class Index:
    """Fitted vectoriser + matrix of training prompts, and the answers they map to."""

    vectorizer: object
    matrix: object
    answers: list[str]
    exact: dict[str, str]  # normalised training prompt -> its own answer (the first one)
    memo: dict[tuple[str, bool], str] = field(default_factory=dict)

    def answer(self, prompt: str, confused: bool = False) -> str:
        """A training prompt's own answer, else the closest example's; ``confused``: the
        closest *different* answer (an under-trained checkpoint: right format, sometimes
        the wrong content).

        Deterministic, so remembered: the emulator shares the machine with the client
        a benchmark measures, and a remote model's own work costs the client nothing.
        """
        key = (prompt, confused)
        found = self.memo.get(key)
        if found is None:
            found = self._answer(prompt, confused)
            if len(self.memo) >= MEMO_SIZE:
                self.memo.clear()
            self.memo[key] = found
        return found

    def _answer(self, prompt: str, confused: bool) -> str:
        import sklearn
        from sklearn.metrics.pairwise import linear_kernel

        own = self.exact.get(normalised(prompt))
        if own is not None and not confused:
            return own
        # the fitted vectoriser's own input is known good: skip sklearn's per-call checks
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            scores = linear_kernel(self.vectorizer.transform([prompt]), self.matrix)[0]
        best = own if own is not None else self.answers[int(scores.argmax())]
        if not confused:
            return best
        for position in scores.argsort()[::-1]:
            if self.answers[position] != best:
                return self.answers[position]
        return best


# every word and number counts, one character long too ("ticket 3", "a", "7"):
# scikit-learn's default pattern drops them, so prompts differing only there collided
TOKEN_PATTERN = r"(?u)\b\w+\b"


def normalised(prompt: str) -> str:
    return " ".join(prompt.split()).casefold()


def build_index(prompts: list[str], answers: list[str]) -> Index:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode", token_pattern=TOKEN_PATTERN
    )
    matrix = vectorizer.fit_transform(prompts)
    exact: dict[str, str] = {}
    for prompt, answer in zip(prompts, answers, strict=True):
        exact.setdefault(normalised(prompt), answer)
    return Index(vectorizer, matrix, answers, exact)


class KnowledgeCache:
    """One index per tuned model version (``ID@V``), built on first use from Cloud Storage."""

    def __init__(self, gcs: GcsServer) -> None:
        self._gcs = gcs
        self._lock = threading.Lock()
        self._indexes: dict[str, Index | None] = {}

    def index(self, key: str, training_uris: list[str]) -> Index | None:
        """None when the training data is gone (the model then answers like its base model)."""
        with self._lock:
            if key not in self._indexes:
                self._indexes[key] = self._build(training_uris)
            return self._indexes[key]

    def _build(self, uris: list[str]) -> Index | None:
        prompts, answers = [], []
        # newest data first (continued tuning lists the parent's data, then its own): where
        # both teach a prompt, the later tuning wins, as training on top of a model does
        for uri in reversed(uris):
            try:
                dataset = parse_jsonl(self._gcs.read(uri), uri)
            except (KeyError, DatasetProblem):
                continue
            for example in dataset.examples:
                if example.answer:
                    prompts.append(example.prompt)
                    answers.append(example.answer)
        if not prompts:
            return None
        try:
            return build_index(prompts, answers)
        except ValueError:  # e.g. empty vocabulary
            return None

    def forget(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._indexes.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._indexes.clear()
