"""Issue 10 part 1 (security probe F16): a learner is a random key, never the name they type.

The core (quiz.identity), the store (keys, only their hashes, labels, legacy records), the
migration of a database from before keys, and the operator's ``learners`` command.
"""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from class_support import BACKENDS, database_url
from quiz import cli, identity
from quiz import store as store_module
from quiz.store import Store


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    return database_url(request.param, tmp_path)


# --- the core ------------------------------------------------------------------------

def test_a_key_is_random_url_safe_and_stored_only_as_its_hash():
    keys = {identity.new_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert identity.is_browser_key(key) and len(key) == 43
        digest = identity.hash_key(key)
        assert re.fullmatch(r"[0-9a-f]{64}", digest) and key not in digest
    assert identity.hash_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize("look_alike", ["Alice", "alice", "ALICE", " Alice  ", "Alice\u200b", "\u200dAl\u200cice",
                                        "\u202eAlice", "Alice\u2066", "Ａｌｉｃｅ", "\ufeffAlice", "Ali\u00adce",
                                        "Alice\x00"])
def test_look_alike_names_are_one_label(look_alike):
    """F16: "alice", "Alice\\u200b" and an RLO name were separate learners. As labels they are one."""
    assert identity.normalise_name(look_alike) == "alice"
    assert identity.display_label(look_alike).casefold() == "alice"


def test_a_label_keeps_its_case_collapses_spaces_and_is_capped():
    assert identity.display_label("  Dr\tAna \n Silva ") == "Dr Ana Silva"
    assert identity.display_label("x" * 500) == "x" * identity.MAX_NAME
    assert identity.display_label("\u202e\u200b") == ""
    assert identity.normalise_name(None) == ""


def test_a_pasted_code_or_link_gives_the_key_and_anything_else_a_message():
    key = identity.new_key()
    assert identity.parse_key(key) == key
    assert identity.parse_key(f"  https://quiz.example.org/?resume={key}\n") == key
    assert identity.parse_key(f"/progress?x=1&resume={key}") == key
    for bad, says in [("", "Paste the code"), ("Alice", "not a resume code"), (key[:20], "not a resume code"),
                      ("https://quiz.example.org/?case=x", "no resume code"), (key + "<script>", "not a resume code")]:
        with pytest.raises(identity.IdentityError, match=says):
            identity.parse_key(bad)


# --- the store -------------------------------------------------------------------------

def counts(store: Store) -> tuple[int, int]:
    return store.run(lambda conn: (conn.execute(sa.select(sa.func.count()).select_from(store_module.learners)).scalar(),
                                   conn.execute(sa.select(sa.func.count()).select_from(store_module.learner_keys))
                                   .scalar()), write=False)


def test_a_key_finds_its_learner_only_and_looking_writes_nothing(url):
    store = Store(url)
    alice, bob = identity.new_key(), identity.new_key()
    assert store.learner_for_key(alice) is None and counts(store) == (0, 0)  # a page view leaves no trace
    first = store.learner_for_key(alice, create=True)
    assert store.learner_for_key(alice) == first == store.learner_for_key(alice, create=True)
    second = store.learner_for_key(bob, create=True)
    assert second != first and counts(store) == (2, 2)
    assert store.key_kind(alice) == "browser" and store.key_kind(identity.new_key()) is None


def test_the_database_holds_no_key_and_names_are_labels_only(url):
    store = Store(url)
    keys = [identity.new_key() for _ in range(3)]
    ids = [store.learner_for_key(k, create=True) for k in keys]
    for learner in ids:
        assert store.set_display_name(learner, "Alice\u200b ") == "Alice"
    assert [store.display_name(i) for i in ids] == ["Alice"] * 3  # three learners, one label: not unique
    dump = store.run(lambda conn: [str(tuple(row)) for table in (store_module.learners, store_module.learner_keys)
                                   for row in conn.execute(sa.select(table))], write=False)
    assert not [k for k in keys if any(k in row for row in dump)]
    assert {identity.hash_key(k) for k in keys} <= {h for row in dump for h in re.findall(r"[0-9a-f]{64}", row)}
    assert store.set_display_name(ids[0], "  ") is None and store.display_name(ids[0]) is None


def test_another_key_can_open_a_record_but_never_take_over_one(url):
    store = Store(url)
    mine, theirs, oidc = identity.new_key(), identity.new_key(), "oidc:https://idp.example|1234"
    me = store.learner_for_key(mine, create=True)
    other = store.learner_for_key(theirs, create=True)
    store.add_key(me, oidc, "oidc")
    store.add_key(me, oidc, "oidc")  # again: nothing changes
    assert store.learner_for_key(oidc) == me and store.key_kind(oidc) == "oidc"
    with pytest.raises(ValueError, match="already opens another learner"):
        store.add_key(other, mine)
    with pytest.raises(ValueError, match="no learner with id"):
        store.add_key(10_000, identity.new_key())
    assert store.learner_for_key(mine) == me


def test_a_reset_keeps_the_key_and_the_label(url, cases):
    store = Store(url)
    key = identity.new_key()
    learner = store.learner_for_key(key, create=True)
    store.set_display_name(learner, "Ana")
    case = cases[sorted(cases)[0]]
    store.current_attempt(learner, case.id)
    store.reset_learner(learner)
    assert store.attempts(learner) == [] and store.learner_for_key(key) == learner
    assert store.display_name(learner) == "Ana"


def test_a_first_attempt_keeps_the_order_the_visitor_was_shown(url, cases):
    store = Store(url)
    learner = store.learner_for_key(identity.new_key(), create=True)
    case = cases[sorted(cases)[0]]
    assert store.current_attempt(learner, case.id, seed="shown-before-the-record").seed == "shown-before-the-record"
    _id, record, choices = store.resume(learner, case.id)
    assert record.seed == "shown-before-the-record" and choices == []


# --- a database from before keys ---------------------------------------------------------

def old_database(path) -> str:
    """The schema as it shipped before learner keys: learners keyed by name, no label, no key table."""
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE learners (id INTEGER PRIMARY KEY, name VARCHAR(80) NOT NULL UNIQUE, "
                             "created_at DATETIME NOT NULL)")
        conn.exec_driver_sql("CREATE TABLE attempts (id INTEGER PRIMARY KEY, learner_id INTEGER NOT NULL "
                             "REFERENCES learners(id) ON DELETE CASCADE, case_id VARCHAR(80) NOT NULL, "
                             "started_at DATETIME NOT NULL, finished_at DATETIME, earned FLOAT, possible INTEGER, "
                             "seed VARCHAR(64), exam_id INTEGER)")
        conn.exec_driver_sql("CREATE TABLE answers (id INTEGER PRIMARY KEY, attempt_id INTEGER NOT NULL REFERENCES "
                             "attempts(id) ON DELETE CASCADE, stage_index INTEGER NOT NULL, stage_kind VARCHAR(40) "
                             "NOT NULL, question_id VARCHAR(80) NOT NULL, question_kind VARCHAR(40) NOT NULL, "
                             "option_id VARCHAR(80) NOT NULL, best_id VARCHAR(80) NOT NULL, credit FLOAT NOT NULL, "
                             "answered_at DATETIME NOT NULL, CONSTRAINT one_answer_per_question "
                             "UNIQUE (attempt_id, question_id))")
        conn.exec_driver_sql("INSERT INTO learners VALUES (1, 'Alice', '2025-01-01 08:00:00'), "
                             "(2, 'alice', '2025-01-02 08:00:00'), (3, 'Bo', '2025-01-03 08:00:00')")
        conn.exec_driver_sql("INSERT INTO attempts (id, learner_id, case_id, started_at, seed) "
                             "VALUES (1, 1, 'some-case', '2025-01-01 08:00:00', 'old-seed')")
        conn.exec_driver_sql("INSERT INTO answers (attempt_id, stage_index, stage_kind, question_id, question_kind, "
                             "option_id, best_id, credit, answered_at) VALUES "
                             "(1, 0, 'presentation', 'q1', 'diagnosis', 'a', 'a', 1.0, '2025-01-01 08:05:00')")
    engine.dispose()
    return url


def test_an_old_database_keeps_working_and_its_records_become_legacy_learners(tmp_path):
    url = old_database(tmp_path / "old.sqlite3")
    store_module.forget_stores()
    store = Store(url)
    Store(url)  # a second start (another process) changes nothing
    inspector = sa.inspect(store.engine)
    assert "display_name" in {c["name"] for c in inspector.get_columns("learners")}
    assert "learner_keys" in inspector.get_table_names()
    # No name opens a record any more, and the old records are all still there.
    assert store.learner_for_key("Alice") is None
    assert [(s.id, s.legacy_name, s.answers) for s in store.learner_summaries()] == [
        (1, "Alice", 1), (2, "alice", 0), (3, "Bo", 0)]
    assert store.legacy_learners("ALICE\u200b") == [1, 2]
    with pytest.raises(ValueError, match="choose one with --id"):
        store.legacy_learner("alice")
    assert store.legacy_learner("bo") == 3 and store.legacy_learner("nobody") is None
    # New learners live beside them, and a new learner typing "Alice" as a label reaches nothing old.
    new = store.learner_for_key(identity.new_key(), create=True)
    store.set_display_name(new, "Alice")
    assert new not in (1, 2, 3) and store.answer_history(new) == []
    assert store.legacy_learners("Alice") == [1, 2]


def test_the_operator_links_a_legacy_record_to_its_owner(tmp_path, capsys):
    url = old_database(tmp_path / "old.sqlite3")
    store_module.forget_stores()
    assert cli.main(["learners", "--database", url, "list"]) == 0
    listing = capsys.readouterr().out
    assert "LEGACY 'Alice'" in listing and "3 learners, 3 legacy" in listing

    assert cli.main(["learners", "--database", url, "link", "alice"]) == 2  # two old records match
    assert "choose one with --id" in capsys.readouterr().err
    assert cli.main(["learners", "--database", url, "link", "Alice", "--id", "3"]) == 2
    assert "not a legacy record named 'Alice'" in capsys.readouterr().err

    assert cli.main(["learners", "--database", url, "link", "Alice", "--id", "1",
                     "--url", "https://quiz.example.org/"]) == 0
    out = capsys.readouterr().out
    [link] = re.findall(r"https://quiz\.example\.org/\?resume=\S+", out)
    key = identity.parse_key(link)
    store = store_module.open_store(url)
    assert store.learner_for_key(key) == 1
    assert [r["question_id"] for r in store.answer_history(1)] == ["q1"]  # the old progress, whole
    assert store.resume(1, "some-case")[1].seed == "old-seed"
    assert store.display_name(1) == "Alice"  # the old name is kept as the label
    assert store.legacy_learners("Alice") == [2]  # linked: no longer legacy
    assert cli.main(["learners", "--database", url, "link", "Alice", "--id", "1"]) == 2  # not twice
    capsys.readouterr()
    assert cli.main(["learners", "--database", url, "list"]) == 0
    assert "2 legacy" in capsys.readouterr().out
