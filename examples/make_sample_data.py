"""Generate the SYNTHETIC sample dataset: route customer-support tickets to a queue.

Every ticket here is made up by this script from templates, product names, phrasings
and noise (greetings, signatures, typos, a second topic mentioned in passing). No real
customer wrote any of it. The task is chosen so a tuned model visibly beats a base
model: the answer format is fixed (exactly ``queue: <id>``) and the queue ids are
arbitrary house names a base model cannot guess from the ticket alone.

The output is deterministic (seeded) and committed under ``examples/data/``:

- ``train.jsonl`` (240 examples), ``validation.jsonl`` (60), ``eval.jsonl`` (120).
- ``eval.jsonl`` is held out: no ticket text appears in train or validation.
- Preference data (Vertex's preference-tuning format: the ticket as ``contents`` ending on
  the user turn, two ``completions`` scored 1 and 0): ``preference_train.jsonl`` (80),
  ``preference_validation.jsonl`` (20) and ``preference_eval.jsonl`` (40, held out). The
  story is how teams collect such data: the SFT model is in service, and an agent
  re-routes the tickets it got wrong (the agent's queue preferred, the model's kind of
  answer dispreferred). Since launch, repairs under warranty have their own queue,
  ``warranty``, which the SFT data predates: half the preference tickets are warranty
  claims the SFT model sends to ``tech_support``, the rest route to the queue the ticket
  is most easily confused with, half of them chatty instead of the fixed format. A model
  that learns the preferences beats the SFT model on ``preference_eval.jsonl``; one
  tuned on the file with the scores swapped loses to it. No preference ticket appears in
  any other file.

Run ``python examples/make_sample_data.py [--out DIR] [--seed N]``.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import orjson

SEED = 20240607
TRAIN_SIZE, VALIDATION_SIZE, EVAL_SIZE = 240, 60, 120
PREFERENCE_SIZES = {"preference_train": 80, "preference_validation": 20, "preference_eval": 40}

QUEUES: dict[str, str] = {
    "billing": "charges, invoices, payment methods, VAT and pricing questions",
    "refunds": "money back for an order or subscription that was already paid",
    "shipping": "where a parcel is, delivery dates, couriers, lost or late packages",
    "returns": "sending an item back, return labels, exchanges for another size/colour",
    "account_access": "login problems, passwords, two-factor codes, locked accounts",
    "tech_support": "the product or app malfunctioning, errors, crashes, setup help",
    "cancellations": "ending a subscription or plan, stopping renewals",
    "security": "fraud, unrecognised activity, phishing, compromised accounts",
    "product_info": "questions before buying: features, compatibility, stock, sizes",
    "feedback": "compliments, complaints about service, suggestions, reviews",
}

PRODUCTS = [
    "Aurora X2 headphones",
    "Nimbus smart thermostat",
    "Pulse fitness band",
    "Lumen desk lamp",
    "Vector 14 laptop",
    "Cascade coffee machine",
    "Orbit robot vacuum",
    "Quill e-reader",
    "Harbor backpack",
    "Summit trail shoes",
    "StreamBox Plus subscription",
    "CloudSafe backup plan",
]

# Each queue: several ways customers describe the same need ({p} = product, {n} = number).
TEMPLATES: dict[str, list[str]] = {
    "billing": [
        "I was charged twice for my {p} this month, can you check my invoice?",
        "My card statement shows {n} dollars from you but my plan should be cheaper.",
        "How do I update the credit card on file for the {p}?",
        "I need a VAT invoice with my company name for the {p} purchase.",
        "Why did the price of my {p} go up on the last bill?",
        "The payment for my {p} keeps getting declined even though the card works elsewhere.",
        "Can I pay for the {p} by bank transfer instead of card?",
        "there is an extra fee of {n} on my invoice that nobody explained",
    ],
    "refunds": [
        "I returned the {p} two weeks ago and still have not got my money back.",
        "Please refund my order for the {p}, it was cancelled before shipping.",
        "When will the refund of {n} dollars for the {p} reach my account?",
        "I was promised a refund for the broken {p} but nothing arrived yet.",
        "Can I get my money back for the {p}? I bought it by mistake.",
        "The refund you sent for the {p} is {n} dollars short.",
        "I want a refund for the unused months of my {p}.",
    ],
    "shipping": [
        "My {p} was supposed to arrive on Monday and the tracking has not moved.",
        "Where is my parcel? Order {n} with the {p} says in transit for a week.",
        "The courier marked my {p} as delivered but there is nothing at my door.",
        "Can you ship the {p} to a different address? I moved last week.",
        "How long does delivery of the {p} take to Canada?",
        "the tracking number for the {p} doesnt work on the courier website",
        "My {p} package arrived crushed and half open.",
    ],
    "returns": [
        "How do I send back the {p}? It does not fit.",
        "I need a return label for the {p} I bought last week.",
        "Can I exchange the {p} for a different colour?",
        "The {p} is not what I expected, I would like to return it.",
        "Is the {p} still within the 30 day return window? Order {n}.",
        "I want to swap my {p} for the bigger size, how does the exchange work?",
        "where do i drop off the return for the {p}",
    ],
    "account_access": [
        "I cannot log in to my account, it says the password is wrong.",
        "The password reset email never arrives, I need to manage my {p}.",
        "My account got locked after too many attempts.",
        "I changed phones and now I do not get the two-factor code.",
        "How do I change the email address I use to sign in?",
        "The app keeps logging me out and asking for my password again.",
        "I forgot which email I used to register the {p}.",
    ],
    "tech_support": [
        "My {p} will not turn on after the last update.",
        "The {p} keeps disconnecting from wifi every few minutes.",
        "The app crashes every time I try to pair the {p}.",
        "I get error code E{n} on the {p}, what does it mean?",
        "How do I reset the {p} to factory settings?",
        "The battery on my {p} drains in a couple of hours.",
        "the {p} makes a loud clicking noise when it starts",
        "Firmware update for the {p} fails at 80 percent.",
    ],
    "cancellations": [
        "Please cancel my {p}, I do not want it to renew.",
        "How do I stop the automatic renewal of my {p}?",
        "I want to end my {p} at the end of this month.",
        "Cancel my membership please, I no longer use the {p}.",
        "I tried to cancel the {p} in the app but the button does nothing.",
        "Close my plan, I am moving abroad and will not need the {p}.",
    ],
    "security": [
        "I got an email asking for my password that looks like it came from you, is it real?",
        "There is an order for a {p} on my account that I did not place.",
        "Someone changed my shipping address without my permission.",
        "I see logins from another country on my account.",
        "My card was used to buy {n} dollars of {p} items I never ordered.",
        "I think my account was hacked, the email was changed.",
        "received a text message with a link saying my {p} order is on hold, is this a scam",
    ],
    "product_info": [
        "Does the {p} work with Android phones?",
        "Is the {p} back in stock soon?",
        "What is the difference between the {p} and the older model?",
        "Does the {p} come with a warranty and for how long?",
        "Which size of the {p} should I pick if I am usually a medium?",
        "Can the {p} be used outdoors in the rain?",
        "how many hours does the {p} battery last on a full charge",
        "Is there a student discount on the {p}?",
    ],
    "feedback": [
        "Just wanted to say the {p} is fantastic, thank you!",
        "Your agent on the phone was very rude to me yesterday.",
        "Suggestion: add a dark mode to the app for the {p}.",
        "I have been a customer for years and the service has really gone downhill.",
        "Great experience with the {p}, delivery was quick and packaging was nice.",
        "The new design of the {p} box is wasteful, please use less plastic.",
        "Your chat support solved my issue in minutes, well done.",
    ],
}

GREETINGS = ["", "", "Hi,", "Hello team,", "Good morning.", "Hey there!", "Dear support,", "hi"]
SIGNATURES = [
    "",
    "",
    "",
    "Thanks",
    "Regards, Sam",
    "Best, J. Ortiz",
    "Sent from my phone",
    "cheers",
]
FILLERS = [
    "",
    "",
    "",
    "This is urgent.",
    "I have been waiting for days.",
    "Please help.",
    "Thank you in advance.",
    "I already tried calling.",
]
# A second topic mentioned in passing: the first issue decides the queue.
ASIDES: dict[str, list[str]] = {
    "billing": ["Also my last invoice looked odd.", "By the way, I may change my card."],
    "shipping": ["The delivery was late too.", "Also the parcel took ages to come."],
    "product_info": ["Also, do you sell spare parts?", "Is there a newer model coming?"],
    "feedback": ["Otherwise I love your shop.", "Your website is hard to use."],
    "account_access": ["I also had trouble logging in.", "And the password reset was slow."],
    "tech_support": ["The app is also a bit slow.", "It also showed an error once."],
}

SYSTEM_INSTRUCTION = (
    "You route customer-support tickets to exactly one queue. Queues:\n"
    + "\n".join(f"- {qid}: {desc}" for qid, desc in QUEUES.items())
    + "\nAnswer with exactly one line: `queue: <id>` and nothing else."
)


# The queue a hurried agent confuses each queue with: the dispreferred answer's queue.
CONFUSED_WITH: dict[str, str] = {
    "billing": "refunds",
    "refunds": "billing",
    "shipping": "returns",
    "returns": "shipping",
    "account_access": "security",
    "security": "account_access",
    "tech_support": "product_info",
    "product_info": "tech_support",
    "cancellations": "billing",
    "feedback": "tech_support",
}
# The queue created after the SFT data was collected: only the preference data knows it.
NEW_QUEUE = "warranty"
NEW_QUEUE_ROUTED_TO = "tech_support"  # where the SFT model sends these tickets
NEW_QUEUE_TEMPLATES = [
    "My {p} broke after {n} days and it is still under warranty, can you repair it?",
    "The {p} stopped charging within the warranty period, I want a free replacement.",
    "Warranty claim: the hinge of my {p} cracked on its own, what do I send you?",
    "the {p} has a manufacturing defect, is a repair under warranty possible?",
    "My {p} is {n} months old and the screen died, does the two-year warranty cover it?",
    "Please replace my faulty {p}, the warranty card says defects are covered.",
    "The seam of my {p} came apart after normal use, is that a warranty repair?",
    "how do i start a warranty repair for my {p}, it has a defect since week one",
]
PREFERENCE_SYSTEM_INSTRUCTION = SYSTEM_INSTRUCTION.replace(
    "\nAnswer with",
    f"\n- {NEW_QUEUE}: repairs or replacements of a faulty item under warranty\nAnswer with",
)
# Half the preference tickets are warranty claims, the rest cover every older queue.
PREFERENCE_QUEUES = [q for queue in QUEUES for q in (NEW_QUEUE, queue)]

CHATTY_ANSWERS = [
    "Sounds like a {queue} issue to me! I would pass it to the {queue} team.",
    "This one is probably for {queue}. Hope that helps!",
    "Let me think... I'd say {queue}, but the customer could also be asking about something else.",
]


def add_typos(text: str, rng: random.Random, rate: float) -> str:
    """Swap or drop letters in a few words, like a hurried customer."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 3 and rng.random() < rate:
            j = rng.randrange(len(word) - 1)
            if rng.random() < 0.5:
                word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
            else:
                word = word[:j] + word[j + 1 :]
            words[i] = word
    return " ".join(words)


def make_ticket(queue: str, rng: random.Random) -> str:
    """One synthetic ticket whose main issue belongs to ``queue``."""
    templates = NEW_QUEUE_TEMPLATES if queue == NEW_QUEUE else TEMPLATES[queue]
    body = rng.choice(templates).format(p=rng.choice(PRODUCTS), n=rng.randint(10, 9999))
    roll = rng.random()
    if roll < 0.3:  # multi-topic: an aside from another queue
        other = rng.choice([q for q in ASIDES if q != queue])
        body = f"{body} {rng.choice(ASIDES[other])}"
    elif roll < 0.4:  # two full issues: the first one is the main one and decides the queue
        other = rng.choice([q for q in TEMPLATES if q != queue])
        second = rng.choice(TEMPLATES[other]).format(p=rng.choice(PRODUCTS), n=rng.randint(10, 99))
        body = f"{body} Less important: {second[0].lower()}{second[1:]}"
    body = add_typos(body, rng, rate=0.12)
    if rng.random() < 0.5:
        body = body.lower()
    parts = [rng.choice(GREETINGS), body, rng.choice(FILLERS), rng.choice(SIGNATURES)]
    return " ".join(p for p in parts if p)


def make_example(queue: str, ticket: str) -> dict:
    return {
        "systemInstruction": {"parts": [{"text": SYSTEM_INSTRUCTION}]},
        "contents": [
            {"role": "user", "parts": [{"text": ticket}]},
            {"role": "model", "parts": [{"text": f"queue: {queue}"}]},
        ],
    }


def make_preference_example(queue: str, ticket: str, rng: random.Random) -> dict:
    """The ticket as the prompt; the right queue preferred (1), a confusable one not (0)."""
    wrong = CONFUSED_WITH.get(queue) or NEW_QUEUE_ROUTED_TO
    if rng.random() < 0.5:
        dispreferred = f"queue: {wrong}"
    else:
        dispreferred = rng.choice(CHATTY_ANSWERS).format(queue=wrong)
    completions = [
        {"score": 1, "completion": {"role": "model", "parts": [{"text": f"queue: {queue}"}]}},
        {"score": 0, "completion": {"role": "model", "parts": [{"text": dispreferred}]}},
    ]
    rng.shuffle(completions)  # the score, not the position, marks the preferred one
    return {
        "systemInstruction": {"parts": [{"text": PREFERENCE_SYSTEM_INSTRUCTION}]},
        "contents": [{"role": "user", "parts": [{"text": ticket}]}],
        "completions": completions,
    }


def _fresh_tickets(
    size: int, rng: random.Random, seen: set[str], queues: list[str] | None = None
) -> list[tuple[str, str]]:
    """``size`` (queue, ticket) pairs balanced over ``queues``, none already in ``seen``."""
    queues = queues or list(QUEUES)
    pairs: list[tuple[str, str]] = []
    while len(pairs) < size:
        queue = queues[len(pairs) % len(queues)]
        ticket = make_ticket(queue, rng)
        if ticket.lower() in seen:
            continue
        seen.add(ticket.lower())
        pairs.append((queue, ticket))
    return pairs


def generate(seed: int = SEED) -> dict[str, list[dict]]:
    """Every split, balanced over queues, with no ticket text shared between any two.

    The supervised splits come first from their own seeded generator, so adding the
    preference splits (a second generator, ``seed + 1``) changed none of their lines."""
    rng = random.Random(seed)
    seen: set[str] = set()
    splits: dict[str, list[dict]] = {}
    for name, size in (("train", TRAIN_SIZE), ("validation", VALIDATION_SIZE), ("eval", EVAL_SIZE)):
        examples = [make_example(q, t) for q, t in _fresh_tickets(size, rng, seen)]
        rng.shuffle(examples)
        splits[name] = examples
    preference_rng = random.Random(seed + 1)
    for name, size in PREFERENCE_SIZES.items():
        examples = [
            make_preference_example(q, t, preference_rng)
            for q, t in _fresh_tickets(size, preference_rng, seen, PREFERENCE_QUEUES)
        ]
        preference_rng.shuffle(examples)
        splits[name] = examples
    return splits


def write_jsonl(path: Path, examples: list[dict]) -> None:
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in examples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("data"))
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, examples in generate(args.seed).items():
        write_jsonl(args.out / f"{name}.jsonl", examples)
        print(f"wrote {len(examples)} synthetic examples to {args.out / f'{name}.jsonl'}")


if __name__ == "__main__":
    main()
