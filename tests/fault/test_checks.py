"""The fault suite's checks can fail: each broken promise, fed to the checker, is reported.
(No server needed; these run in a second.)"""
from fault_model import Replica, check_crash_state


def test_crash_check_accepts_the_acknowledged_state_and_settles_in_flight_operations():
    acked = {1: "a", 2: "b"}
    pending = [{3: "c", 4: "d"}, {2: None}]
    v, resolved, applied, not_applied = check_crash_state(acked, pending, {1: "a", 3: "c", 4: "d",
                                                                          2: "b"})
    assert v == [] and (applied, not_applied) == (1, 1)
    assert resolved == {1: "a", 2: "b", 3: "c", 4: "d"}


def test_crash_check_reports_a_lost_row_a_phantom_a_stale_value_and_a_half_batch():
    acked = {1: "a", 2: "b", 5: "e"}
    pending = [{3: "c", 4: "d"}]
    observed = {2: "old", 3: "c", 5: "e", 9: "never"}
    v, _, _, _ = check_crash_state(acked, pending, observed)
    assert sorted(x.split(":")[0] for x in v) == ["half-applied", "lost", "phantom", "wrong value"]


def test_crash_check_reports_an_in_flight_update_that_landed_with_a_value_never_sent():
    v, _, _, _ = check_crash_state({1: "a"}, [{1: "b"}], {1: "z"})
    assert len(v) == 1 and v[0].startswith("half-applied")


def _change(kind, row, old=None):
    m = {"type": "change", "subscription_id": "s", "change_type": kind}
    if kind == "delete":
        m["old_values"] = [dict(row, _deleted=True)]
    else:
        m["rows"] = [row]
        if old is not None:
            m["old_values"] = [old]
    return m


def _batch(rows, last):
    return {"type": "initial_data_batch", "rows": rows,
            "batch_control": {"has_more": False, "last_seq_id": last}}


def test_replica_follows_snapshot_and_changes_and_keeps_the_largest_seq():
    r = Replica()
    r.new_subscription()
    r.on_batch(_batch([{"id": 1, "v": "a", "_seq": "10"}], 10))
    r.on_change(_change("insert", {"id": 2, "v": "b", "_seq": "11"}))
    r.on_change(_change("update", {"id": 1, "v": "c", "_seq": "12"}, {"id": 1, "v": "a", "_seq": "10"}))
    r.on_change(_change("delete", {"id": 2, "v": "b", "_seq": "13"}))
    assert r.violations == [] and r.position == 13
    assert r.rows == {1: {"id": 1, "v": "c", "_seq": "12"}}
    assert r.diff({1: {"id": 1, "v": "c", "_seq": "12"}}) == []
    assert r.diff({1: {"id": 1, "v": "d", "_seq": "12"}}) != []


def test_replica_reports_an_event_delivered_twice_across_a_resume():
    r = Replica()
    r.new_subscription()
    r.on_change(_change("insert", {"id": 2, "v": "b", "_seq": "11"}))
    r.new_subscription()  # resumed from 11, yet the server sends it again
    r.on_change(_change("insert", {"id": 2, "v": "b", "_seq": "11"}))
    assert [k for k, _ in r.violations] == ["duplicate"]


def test_replica_reports_a_delete_replayed_after_the_resume_batch():
    # The resume-ordering defect: a delete during the gap (_seq 15) sent after the batch (_seq 20).
    r = Replica()
    r.new_subscription()
    r.on_batch(_batch([{"id": 3, "v": "x", "_seq": "20"}], 20))
    r.on_change(_change("delete", {"id": 1, "v": "a", "_seq": "15"}))
    assert [k for k, _ in r.violations] == ["out_of_order"]


def test_replica_reports_a_last_seq_id_ahead_of_the_rows_and_a_changes_only_ack_without_one():
    r = Replica()
    r.new_subscription()
    r.on_batch(_batch([{"id": 3, "v": "x", "_seq": "20"}], 25))
    assert [k for k, _ in r.violations] == ["last_seq_id_ahead"]
    r2 = Replica()
    assert r2.on_changes_only_ack({"batch_control": {"last_seq_id": None}}) is False
    assert [k for k, _ in r2.violations] == ["ack_without_read_point"]
    r3 = Replica()
    assert r3.on_changes_only_ack({"batch_control": {"last_seq_id": 7}}) is True
    assert (r3.read_point, r3.position, r3.violations) == (7, 7, [])


def test_replica_update_to_null_clears_the_column():
    r = Replica()
    r.new_subscription()
    r.on_change(_change("insert", {"id": 1, "v": "a", "w": 1, "_seq": "1"}))
    r.on_change(_change("update", {"id": 1, "w": 2, "_seq": "2"}, {"id": 1, "v": "a", "w": 1, "_seq": "1"}))
    assert r.rows[1] == {"id": 1, "v": None, "w": 2, "_seq": "2"}
