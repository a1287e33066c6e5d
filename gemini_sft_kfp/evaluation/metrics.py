"""The scores, in plain Python: ROUGE-L and BLEU / chrF exactly as rouge-score and
sacreBLEU compute them (tests check equality with both), accuracy and macro-F1 as
scikit-learn does.

Plain Python because this runs in the component image, where rouge-score (nltk),
sacreBLEU, scikit-learn and numpy would add about 250 MB and seconds of import time
for a few loops over counters; evaluation time is the model calls anyway.

Every quality metric is on a 0..1 scale so one ``threshold`` means the same for all
(sacreBLEU's 0..100 BLEU and chrF are divided by 100). A request that ended in an
error counts as an empty answer: a model that fails to answer must not look better.

Exact match compares after normalising: Unicode NFKC, case-folded, whitespace runs
collapsed to one space, leading/trailing whitespace removed. Punctuation is kept
(``queue: billing`` and ``queue billing`` differ).

``preference_accuracy`` (preference eval data only: a preferred and a dispreferred
completion per prompt) needs no judge: the share of examples whose answer is closer, by
ROUGE-L F-measure (``rouge_l_scores``), to the preferred completion than to the
dispreferred one. A tie counts half; an empty answer (or a failed request) counts 0,
never half, so a model that does not answer cannot score above one that answers badly.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

QUALITY_METRICS = (
    "exact_match",
    "rouge_l",
    "bleu",
    "chrf",
    "accuracy",
    "macro_f1",
    "preference_accuracy",
)
PREFERENCE_METRICS = ("preference_accuracy",)  # need preference eval data
CLASSIFICATION_METRICS = ("accuracy", "macro_f1")
OTHER_LABEL = "(other)"  # predictions that are none of the reference labels

# Label-like answers: few distinct, short, single-line references that repeat.
MAX_LABELS = 50
MAX_LABEL_CHARS = 64

BLEU_ORDER = 4  # sacreBLEU's defaults: word 4-grams, "exp" smoothing, 13a tokens
CHRF_ORDER, CHRF_BETA = 6, 2  # character 6-grams, recall weighted twice, no word n-grams
_LOG_ZERO = -9999999999.0  # sacreBLEU's floor for log(0)

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)
# sacreBLEU's "13a" tokenizer (mteval-v13a), rule for rule.
_13A_RULES = (
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
)


def normalize(text: str) -> str:
    """The form exact match and labels compare: NFKC, casefold, single spaces, stripped."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


class _UnicodeTokenizer:
    """rouge-score's default tokenizer drops every non-ASCII character; keep words instead."""

    def tokenize(self, text: str) -> list[str]:
        return _WORD.findall(normalize(text))


def preload() -> threading.Thread:
    """Nothing heavy is left to load; kept so callers need not change (a no-op thread)."""
    thread = threading.Thread(target=lambda: None, name="preload-metrics", daemon=True)
    thread.start()
    return thread


def exact_matches(predictions: Sequence[str], references: Sequence[str]) -> list[float]:
    return [
        float(normalize(p) == normalize(r)) for p, r in zip(predictions, references, strict=True)
    ]


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Longest common subsequence length, one row at a time (memory O(min(len)))."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for j, other in enumerate(b, 1):
            current.append(
                previous[j - 1] + 1 if token == other else max(previous[j], current[j - 1])
            )
        previous = current
    return previous[-1]


def rouge_l_scores(predictions: Sequence[str], references: Sequence[str]) -> list[float]:
    """Per-example ROUGE-L F-measure (rouge-score's ``rougeL``, with Unicode words)."""
    tokenizer = _UnicodeTokenizer()
    scores = []
    for prediction, reference in zip(predictions, references, strict=True):
        pred, ref = tokenizer.tokenize(prediction), tokenizer.tokenize(reference)
        lcs = _lcs_length(pred, ref) if pred and ref else 0
        if not lcs:
            scores.append(0.0)
            continue
        precision, recall = lcs / len(pred), lcs / len(ref)
        scores.append(2 * precision * recall / (precision + recall))
    return scores


def preference_wins(
    predictions: Sequence[str], preferred: Sequence[str], dispreferred: Sequence[str]
) -> list[float]:
    """Per example: 1 when the answer is closer (ROUGE-L F) to the preferred completion
    than to the dispreferred one, 0.5 on a tie, 0 otherwise or when there is no answer."""
    to_preferred = rouge_l_scores(predictions, preferred)
    to_dispreferred = rouge_l_scores(predictions, dispreferred)
    wins = []
    for answer, good, bad in zip(predictions, to_preferred, to_dispreferred, strict=True):
        if not answer.strip():
            wins.append(0.0)
        else:
            wins.append(1.0 if good > bad else 0.5 if good == bad else 0.0)
    return wins


def _tokenize_13a(line: str) -> list[str]:
    line = line.rstrip().replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        for entity, char in (("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")):
            line = line.replace(entity, char)
    line = f" {line} "
    for pattern, replacement in _13A_RULES:
        line = pattern.sub(replacement, line)
    return line.split()


def _ngrams(items: Sequence[str] | str, n: int) -> Counter:
    return Counter(tuple(items[i : i + n]) for i in range(len(items) - n + 1))


def corpus_bleu(predictions: Sequence[str], references: Sequence[str]) -> float:
    """sacreBLEU's ``corpus_bleu`` (one reference per example), on 0..1."""
    correct, total = [0] * BLEU_ORDER, [0] * BLEU_ORDER
    sys_len = ref_len = 0
    for prediction, reference in zip(predictions, references, strict=True):
        hyp, ref = _tokenize_13a(prediction), _tokenize_13a(reference)
        sys_len, ref_len = sys_len + len(hyp), ref_len + len(ref)
        for n in range(1, BLEU_ORDER + 1):
            ref_counts = _ngrams(ref, n)
            correct[n - 1] += sum(min(c, ref_counts[g]) for g, c in _ngrams(hyp, n).items())
            total[n - 1] += max(0, len(hyp) - n + 1)
    if not any(correct):
        return 0.0
    brevity = 1.0
    if sys_len < ref_len:
        brevity = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    logs, smooth = [], 1.0
    for n in range(BLEU_ORDER):
        if total[n] == 0:
            break
        if correct[n] == 0:
            smooth *= 2
            logs.append(math.log(1.0 / (smooth * total[n])))
        else:
            logs.append(math.log(correct[n] / total[n]))
    logs += [_LOG_ZERO] * (BLEU_ORDER - len(logs))
    return brevity * math.exp(sum(logs) / BLEU_ORDER)


def corpus_chrf(predictions: Sequence[str], references: Sequence[str]) -> float:
    """sacreBLEU's ``corpus_chrf`` (one reference per example), on 0..1."""
    stats = [[0, 0, 0] for _ in range(CHRF_ORDER)]  # per order: hyp, ref, matched n-grams
    for prediction, reference in zip(predictions, references, strict=True):
        hyp, ref = "".join(prediction.split()), "".join(reference.split())
        for n in range(1, CHRF_ORDER + 1):
            hyp_counts, ref_counts = _ngrams(hyp, n), _ngrams(ref, n)
            row = stats[n - 1]
            row[0] += sum(hyp_counts.values()) if ref_counts else 0
            row[1] += sum(ref_counts.values())
            row[2] += sum(min(c, ref_counts[g]) for g, c in hyp_counts.items())
    precisions, recalls = [], []
    for n_hyp, n_ref, n_match in stats:
        if n_hyp > 0 and n_ref > 0:
            precisions.append(n_match / n_hyp)
            recalls.append(n_match / n_ref)
    if not precisions:
        return 0.0
    precision, recall = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    if not precision + recall:
        return 0.0
    factor = CHRF_BETA**2
    return (1 + factor) * precision * recall / (factor * precision + recall)


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
    ref_labels = [normalize(r) for r in references]
    known = sorted(set(ref_labels))
    pred_labels = [normalize(p) if normalize(p) in known else OTHER_LABEL for p in predictions]
    labels = known + ([OTHER_LABEL] if OTHER_LABEL in pred_labels else [])
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for ref, pred in zip(ref_labels, pred_labels, strict=True):
        matrix[index[ref]][index[pred]] += 1
    f1_by_label, support = {}, {}
    for label in known:  # F1 = 2TP / (predicted + actual); 0 when undefined (zero_division=0)
        i = index[label]
        predicted, actual = sum(row[i] for row in matrix), sum(matrix[i])
        f1_by_label[label] = 2 * matrix[i][i] / (predicted + actual) if matrix[i][i] else 0.0
        support[label] = actual
    correct = sum(r == p for r, p in zip(ref_labels, pred_labels, strict=True))
    return Classification(
        labels=labels,
        matrix=matrix,
        accuracy=correct / len(ref_labels) if ref_labels else 0.0,
        macro_f1=sum(f1_by_label.values()) / len(known) if known else 0.0,
        f1_by_label=f1_by_label,
        support=support,
    )


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(float(v) for v in values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else 0.0
