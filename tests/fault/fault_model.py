"""What the fault suite expects, kept apart from the load that produces it so that the checks
themselves are tested (test_checks.py): the crash model (acknowledged rows and values, in-flight
operations that may or may not have landed, all or nothing) and a live subscriber's replica (the
rows it holds, its resume position, and every protocol promise its messages must keep)."""


def check_crash_state(acked, pending_ops, observed):
    """Compares one table scope after a restart with what the clients know.

    acked:       {pk: value} for every row whose last acknowledged operation left it present.
    pending_ops: operations whose request got no answer (the kill came first), each
                 {pk: value or None (deleted)}; their keys are disjoint from each other's.
    observed:    {pk: value} read back from the server.
    Returns (violations, resolved, applied, not_applied): violations are strings naming the
    broken promise; `resolved` is the model with each pending operation settled as observed.
    """
    violations = []
    uncertain = set()
    for op in pending_ops:
        uncertain |= op.keys()
    for pk in (acked.keys() | observed.keys()) - uncertain:
        want, got = acked.get(pk), observed.get(pk)
        if want == got:
            continue
        if got is None:
            violations.append(f"lost: acknowledged row {pk}={want!r} is missing")
        elif want is None:
            violations.append(f"phantom: row {pk}={got!r} was never acknowledged or in flight")
        else:
            violations.append(f"wrong value: row {pk} is {got!r}, last acknowledged {want!r}")
    resolved = {pk: v for pk, v in acked.items() if pk not in uncertain}
    applied = not_applied = 0
    for op in pending_ops:
        before = {pk: acked.get(pk) for pk in op}
        got = {pk: observed.get(pk) for pk in op}
        if got == op:
            applied += 1
        elif got == before:
            not_applied += 1
        else:
            violations.append(f"half-applied: in-flight operation {op!r} left {got!r} "
                              f"(before it: {before!r})")
        resolved.update({pk: v for pk, v in got.items() if v is not None})
    return violations, resolved, applied, not_applied


class Replica:
    """A live subscriber's copy of its query's rows, fed messages as a client receives them,
    keeping the one position the protocol says a client needs: the largest `_seq` received.
    Every broken promise is appended to `violations` (the copy goes on as a client would)."""

    def __init__(self, pk="id"):
        self.pk = pk
        self.rows = {}          # pk -> row dict as delivered (with _seq)
        self.position = None    # largest _seq received (rows, events, last_seq_id)
        self.read_point = None  # changes-only: the ack's last_seq_id of the first subscription
        self.seen = set()       # (pk, _seq) of every row or event delivered
        self.violations = []
        self.events = 0
        self.snapshot_rows = 0
        self._sub_max = None    # largest _seq delivered on the current subscription

    def new_subscription(self):
        self._sub_max = None

    def note(self, kind, detail):
        """Records a broken promise: its kind (counted in reports) and a description."""
        if len(self.violations) < 10000:
            self.violations.append((kind, detail))

    def _delivered(self, pk, seq, what):
        if (pk, seq) in self.seen:
            self.note("duplicate", f"{what} of row {pk} at _seq {seq} delivered twice")
        self.seen.add((pk, seq))
        if self._sub_max is not None and seq <= self._sub_max:
            self.note("out_of_order", f"{what} of row {pk} at _seq {seq} after _seq {self._sub_max}")
        self._sub_max = seq if self._sub_max is None else max(self._sub_max, seq)
        self._advance(seq)

    def _advance(self, seq):
        self.position = seq if self.position is None else max(self.position, seq)

    def _last_seq_id(self, control, what):
        last = control.get("last_seq_id")
        if last is None:
            return
        if not isinstance(last, int):
            self.note("bad_last_seq_id", f"{what} last_seq_id {last!r} is not a JSON number")
            return
        if self._sub_max is None or last > self._sub_max:
            self.note("last_seq_id_ahead",
                       f"{what} last_seq_id {last} names a _seq not yet sent (sent up to "
                       f"{self._sub_max})")
        self._advance(last)

    def on_changes_only_ack(self, ack):
        """The ack of a subscription without options: its last_seq_id is the read point."""
        last = ack.get("batch_control", {}).get("last_seq_id")
        if not isinstance(last, int):
            self.note("ack_without_read_point",
                       f"changes-only subscription_ack has last_seq_id {last!r}")
            return False
        if self.read_point is None:
            self.read_point = last
        self._advance(last)
        return True

    def on_batch(self, batch):
        for row in batch["rows"]:
            pk, seq = row[self.pk], int(row["_seq"])
            self._delivered(pk, seq, "snapshot row")
            self.rows[pk] = row
            self.snapshot_rows += 1
        self._last_seq_id(batch["batch_control"], "initial_data_batch")

    def on_change(self, msg):
        kind = msg["change_type"]
        self.events += 1
        if kind == "delete":
            old = msg["old_values"][0]
            pk = old[self.pk]
            self._delivered(pk, int(old["_seq"]), "delete")
            self.rows.pop(pk, None)
            return
        new = msg["rows"][0]
        pk = new[self.pk]
        self._delivered(pk, int(new["_seq"]), kind)
        if kind == "insert":
            self.rows[pk] = dict(new)
        elif kind == "update":
            # rows = PK + _seq + every non-null projected column; a column that became null is
            # only named in old_values.
            row = dict(self.rows.get(pk, {}))
            for col in msg.get("old_values", [{}])[0]:
                if col not in new:
                    row[col] = None
            row.update(new)
            self.rows[pk] = row
        else:
            self.note("bad_change_type", f"change_type {kind!r}")

    def diff(self, expected):
        """Differences between the copy and `expected` ({pk: row dict}), at most 10, as text."""
        out = []
        for pk in sorted(self.rows.keys() | expected.keys(), key=str):
            a, b = self.rows.get(pk), expected.get(pk)
            if a != b:
                out.append(f"row {pk}: subscriber has {a}, table has {b}")
                if len(out) == 10:
                    break
        return out
