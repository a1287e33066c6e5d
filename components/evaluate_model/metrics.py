"""Scores from maintained libraries: rouge-score, sacreBLEU, scikit-learn.

Every quality metric is on a 0..1 scale so one ``threshold`` means the same for all
(sacreBLEU's 0..100 BLEU and chrF are divided by 100). A request that ended in an
error counts as an empty answer: a model that fails to answer must not look better.

Exact match compares after normalising: Unicode NFKC, case-folded, whitespace runs
collapsed to one space, leading/trailing whitespace removed. Punctuation is kept
(``queue: billing`` and ``queue billing`` differ).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

QUALITY_METRICS = ("exact_match", "rouge_l", "bleu", "chrf", "accuracy", "macro_f1")
CLASSIFICATION_METRICS = ("accuracy", "macro_f1")
OTHER_LABEL = "(other)"  # predictions that are none of the reference labels

# Label-like answers: few distinct, short, single-line references that repeat.
MAX_LABELS = 50
MAX_LABEL_CHARS = 64

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)


def normalize(text: str) -> str:
    """The form exact match and labels compare: NFKC, casefold, single spaces, stripped."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


class _UnicodeTokenizer:
    """rouge-score's default tokenizer drops every non-ASCII character; keep words instead."""

    def tokenize(self, text: str) -> list[str]:
        return _WORD.findall(normalize(text))


def preload() -> threading.Thread:
    """rouge-score imports nltk (about 2 s): load it while the first requests are in flight."""

    def load() -> None:
        import sacrebleu  # noqa: F401
        from rouge_score import rouge_scorer  # noqa: F401
        from sklearn import metrics  # noqa: F401

    thread = threading.Thread(target=load, name="preload-metrics", daemon=True)
    thread.start()
    return thread


def exact_matches(predictions: Sequence[str], references: Sequence[str]) -> list[float]:
    return [
        float(normalize(p) == normalize(r)) for p, r in zip(predictions, references, strict=True)
    ]


def rouge_l_scores(predictions: Sequence[str], references: Sequence[str]) -> list[float]:
    """Per-example ROUGE-L F-measure."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_UnicodeTokenizer())
    return [
        scorer.score(r, p)["rougeL"].fmeasure for p, r in zip(predictions, references, strict=True)
    ]


def corpus_bleu(predictions: Sequence[str], references: Sequence[str]) -> float:
    import sacrebleu

    return sacrebleu.corpus_bleu(list(predictions), [list(references)]).score / 100.0


def corpus_chrf(predictions: Sequence[str], references: Sequence[str]) -> float:
    import sacrebleu

    return sacrebleu.corpus_chrf(list(predictions), [list(references)]).score / 100.0


def is_label_like(references: Sequence[str]) -> bool:
    """True when the references look like class labels rather than free text."""
    labels = {normalize(r) for r in references}
    return (
        2 <= len(labels) <= MAX_LABELS
        and len(labels) <= len(references) / 2
        and all(len(label) <= MAX_LABEL_CHARS for label in labels)
        and not any("\n" in r.strip() for r in references)
    )


@dataclass(frozen=True)
class Classification:
    """Label metrics: accuracy, macro-F1 over the reference labels, a confusion matrix."""

    labels: list[str]  # matrix row/column order; OTHER_LABEL last when predictions stray
    matrix: list[list[int]]  # rows: reference label, columns: predicted label
    accuracy: float
    macro_f1: float
    f1_by_label: dict[str, float]  # reference labels only
    support: dict[str, int]  # examples per reference label


def classification(predictions: Sequence[str], references: Sequence[str]) -> Classification:
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
    )

    ref_labels = [normalize(r) for r in references]
    known = sorted(set(ref_labels))
    pred_labels = [normalize(p) if normalize(p) in known else OTHER_LABEL for p in predictions]
    labels = known + ([OTHER_LABEL] if OTHER_LABEL in pred_labels else [])
    matrix = confusion_matrix(ref_labels, pred_labels, labels=labels).tolist()
    macro_f1 = f1_score(ref_labels, pred_labels, labels=known, average="macro", zero_division=0)
    _, _, f1s, support = precision_recall_fscore_support(
        ref_labels, pred_labels, labels=known, zero_division=0
    )
    return Classification(
        labels=labels,
        matrix=matrix,
        accuracy=float(accuracy_score(ref_labels, pred_labels)),
        macro_f1=float(macro_f1),
        f1_by_label={label: float(f) for label, f in zip(known, f1s, strict=True)},
        support={label: int(n) for label, n in zip(known, support, strict=True)},
    )


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default); 0.0 for no values."""
    if not values:
        return 0.0
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q))


def mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else 0.0
