"""Metric values on hand-made cases, checked against numbers worked out by hand."""

from __future__ import annotations

import pytest

from gemini_sft_kfp.evaluation import metrics as m


def test_exact_match_normalises_case_whitespace_and_unicode_but_not_punctuation():
    assert m.exact_matches(
        ["  Queue:   BILLING\n", "ﬁne", "queue billing"],
        ["queue: billing", "fine", "queue: billing"],
    ) == [1.0, 1.0, 0.0]


def test_rouge_l_f_measure_by_hand():
    # reference "the cat sat on the mat" (6), prediction "the cat on the mat" (5): LCS 5
    [score] = m.rouge_l_scores(["the cat on the mat"], ["the cat sat on the mat"])
    precision, recall = 5 / 5, 5 / 6
    assert score == pytest.approx(2 * precision * recall / (precision + recall))


def test_rouge_l_keeps_non_ascii_words():
    # rouge-score's default tokenizer would drop these words entirely and score 0
    assert m.rouge_l_scores(["привет мир"], ["привет мир"]) == [1.0]
    assert m.rouge_l_scores(["привет"], ["мир"]) == [0.0]


def test_bleu_and_chrf_are_sacrebleu_scores_on_a_0_to_1_scale():
    import sacrebleu

    hyps = ["the cat sat on the mat", "a dog barked loudly"]
    refs = ["the cat sat on the mat", "the dog barked"]
    assert m.corpus_bleu(hyps, refs) == pytest.approx(
        sacrebleu.corpus_bleu(hyps, [refs]).score / 100
    )
    assert m.corpus_bleu(refs, refs) == pytest.approx(1.0)
    assert m.corpus_chrf(refs, refs) == pytest.approx(1.0)
    assert 0 < m.corpus_chrf(hyps, refs) < 1


def test_label_like_detection():
    assert m.is_label_like(["yes", "no", "Yes", "no "])
    assert not m.is_label_like(["a long free text answer", "another one", "third", "fourth"])
    assert not m.is_label_like(["same"] * 10)  # one class: nothing to classify
    assert not m.is_label_like([f"label {i % 3}\nsecond line" for i in range(9)])


def test_classification_accuracy_macro_f1_and_confusion_matrix():
    refs = ["cat", "cat", "dog", "dog", "bird", "bird"]
    preds = ["cat", "dog", "dog", "dog", "bird", "fish"]
    c = m.classification(preds, refs)
    assert c.labels == ["bird", "cat", "dog", m.OTHER_LABEL]
    assert c.matrix == [
        [1, 0, 0, 1],  # bird: one right, one "fish" (off-label)
        [0, 1, 1, 0],  # cat
        [0, 0, 2, 0],  # dog
        [0, 0, 0, 0],  # (other) is never a reference
    ]
    assert c.accuracy == pytest.approx(4 / 6)
    # per class F1: bird P1 R.5 -> 2/3; cat P1 R.5 -> 2/3; dog P2/3 R1 -> 0.8
    assert c.macro_f1 == pytest.approx((2 / 3 + 2 / 3 + 0.8) / 3)
    assert c.f1_by_label == pytest.approx({"bird": 2 / 3, "cat": 2 / 3, "dog": 0.8})
    assert c.support == {"bird": 2, "cat": 2, "dog": 2}


def test_percentiles():
    values = list(range(1, 101))
    assert m.percentile(values, 50) == pytest.approx(50.5)
    assert m.percentile(values, 95) == pytest.approx(95.05)
    assert m.percentile([], 95) == 0.0


def _texts(seed: int, n: int) -> tuple[list[str], list[str]]:
    """Random near-miss pairs with punctuation, numbers, dashes, entities and Unicode."""
    import random

    rng = random.Random(seed)
    vocab = [
        "the",
        "a",
        "cat",
        "dog",
        "sat",
        "on",
        "mat",
        "queue",
        "billing",
        "3.5",
        "1,000",
        "x-ray",
        "co-op",
        "&amp;",
        "Über",
        "naïve",
        ",",
        ".",
        "!",
        "?",
        ":",
        "(",
        ")",
        "-",
    ]
    preds, refs = [], []
    for _ in range(n):
        ref = [rng.choice(vocab) for _ in range(rng.randint(0, 14))]
        pred = [w for w in ref if rng.random() > 0.3] + [
            rng.choice(vocab) for _ in range(rng.randint(0, 3))
        ]
        if rng.random() < 0.2:
            rng.shuffle(pred)
        refs.append(" ".join(ref))
        preds.append(" ".join(pred))
    return preds, refs


@pytest.mark.parametrize("seed", range(6))
def test_bleu_chrf_rouge_and_f1_equal_the_reference_libraries(seed):
    """The pure-Python scores are the libraries' scores (checked against them here)."""
    import sacrebleu
    from rouge_score import rouge_scorer
    from sklearn import metrics as sk

    preds, refs = _texts(seed, 40)
    assert m.corpus_bleu(preds, refs) == pytest.approx(
        sacrebleu.corpus_bleu(preds, [refs]).score / 100, abs=1e-12
    )
    assert m.corpus_chrf(preds, refs) == pytest.approx(
        sacrebleu.corpus_chrf(preds, [refs]).score / 100, abs=1e-12
    )
    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=m._UnicodeTokenizer())
    expected = [scorer.score(r, p)["rougeL"].fmeasure for p, r in zip(preds, refs, strict=True)]
    assert m.rouge_l_scores(preds, refs) == pytest.approx(expected, abs=1e-12)

    labels = [r.split()[0] if r.split() else "none" for r in refs]
    guesses = [p.split()[0] if p.split() else "none" for p in preds]
    c = m.classification(guesses, labels)
    known = sorted({m.normalize(x) for x in labels})
    norm_guess = [m.normalize(g) if m.normalize(g) in known else m.OTHER_LABEL for g in guesses]
    norm_labels = [m.normalize(x) for x in labels]
    assert c.macro_f1 == pytest.approx(
        sk.f1_score(norm_labels, norm_guess, labels=known, average="macro", zero_division=0)
    )
    assert c.accuracy == pytest.approx(sk.accuracy_score(norm_labels, norm_guess))
    assert c.matrix == sk.confusion_matrix(norm_labels, norm_guess, labels=c.labels).tolist()


def test_percentile_equals_numpy():
    import numpy as np

    values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]
    for q in (0, 10, 50, 90, 95, 99, 100):
        assert m.percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
