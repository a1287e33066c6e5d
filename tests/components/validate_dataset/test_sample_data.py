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
