"""The committed sample data is what the seeded generator makes, and fit for its purpose."""

from __future__ import annotations

import importlib.util

import orjson

from tests.support import REPO

EXAMPLES = REPO / "examples"


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "make_sample_data", EXAMPLES / "make_sample_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tickets(name: str) -> list[tuple[str, str]]:
    rows = [orjson.loads(line) for line in (EXAMPLES / "data" / name).read_bytes().splitlines()]
    return [
        (r["contents"][0]["parts"][0]["text"], r["contents"][1]["parts"][0]["text"]) for r in rows
    ]


def test_committed_files_match_the_seeded_generator():
    generator = load_generator()
    for name, examples in generator.generate().items():
        expected = b"".join(orjson.dumps(e) + b"\n" for e in examples)
        assert (EXAMPLES / "data" / f"{name}.jsonl").read_bytes() == expected, name


def test_sizes_answer_format_and_held_out_eval():
    train, validation, evaluation = (tickets(f"{n}.jsonl") for n in ("train", "validation", "eval"))
    assert len(train) >= 240 and len(validation) >= 50 and len(evaluation) >= 100
    queues = load_generator().QUEUES
    for _, answer in train + validation + evaluation:
        assert answer.startswith("queue: ") and answer.removeprefix("queue: ") in queues
    seen = {t.lower() for t, _ in train + validation}
    assert not any(t.lower() in seen for t, _ in evaluation)


def test_nearest_neighbour_gets_most_but_not_all_eval_tickets():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    train, evaluation = tickets("train.jsonl"), tickets("eval.jsonl")
    vectorizer = TfidfVectorizer().fit([t for t, _ in train])
    similarity = cosine_similarity(
        vectorizer.transform([t for t, _ in evaluation]),
        vectorizer.transform([t for t, _ in train]),
    )
    predicted = [train[i][1] for i in similarity.argmax(axis=1)]
    accuracy = sum(p == a for p, (_, a) in zip(predicted, evaluation, strict=True)) / len(
        evaluation
    )
    assert 0.8 <= accuracy <= 0.95


def preference_rows(name: str) -> list[tuple[str, str, str]]:
    """(ticket, preferred, dispreferred) of each line of a preference file."""
    rows = []
    for line in (EXAMPLES / "data" / name).read_bytes().splitlines():
        record = orjson.loads(line)
        by_score = {c["score"]: c["completion"]["parts"][0]["text"] for c in record["completions"]}
        rows.append((record["contents"][-1]["parts"][0]["text"], by_score[1], by_score[0]))
    return rows


def test_preference_set_is_held_out_preferred_in_the_sft_style_and_valid():
    from gemini_sft_kfp.components.validate_dataset.validator import validate_files

    train, validation, evaluation = (
        preference_rows(f"preference_{n}.jsonl") for n in ("train", "validation", "eval")
    )
    assert (len(train), len(validation), len(evaluation)) == (80, 20, 40)
    generator = load_generator()
    queues = {*generator.QUEUES, generator.NEW_QUEUE}  # the queue only preferences know
    for _, preferred, dispreferred in train + validation + evaluation:
        assert preferred.removeprefix("queue: ") in queues  # exactly the SFT answers' form
        assert dispreferred != preferred
    sft_tickets = {t.lower() for name in ("train", "validation", "eval") for t, _ in tickets(
        f"{name}.jsonl")}  # fmt: skip
    seen = {t.lower() for t, _, _ in train + validation}
    assert not any(t.lower() in seen | sft_tickets for t, _, _ in evaluation)
    for name in ("train", "validation", "eval"):
        report = validate_files(str(EXAMPLES / "data" / f"preference_{name}.jsonl"))
        assert report.valid and report.method == "preference"


def test_moving_toward_the_preferred_answers_wins_and_the_swapped_set_loses():
    """What a simulated preference-tuned model does (answer like the closest example it
    knows): the SFT examples plus the preferred answers beat the SFT examples alone on the
    held-out preference prompts; plus the dispreferred ones (a swapped file), they lose."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    sft = tickets("train.jsonl")
    train, evaluation = (
        preference_rows("preference_train.jsonl"),
        preference_rows("preference_eval.jsonl"),
    )

    def accuracy(known: list[tuple[str, str]]) -> float:
        vectorizer = TfidfVectorizer().fit([t for t, _ in known])
        similarity = cosine_similarity(
            vectorizer.transform([t for t, _, _ in evaluation]),
            vectorizer.transform([t for t, _ in known]),
        )
        nearest = similarity.argmax(axis=1)
        hits = [known[i][1] == e[1] for i, e in zip(nearest, evaluation, strict=True)]
        return sum(hits) / len(hits)

    preferred = accuracy(sft + [(t, good) for t, good, _ in train])
    swapped = accuracy(sft + [(t, bad) for t, _, bad in train])
    assert preferred > accuracy(sft) > swapped
