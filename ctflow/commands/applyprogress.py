"""``apply``'s progress against the plan's cost: ``apply: 12/403 calls, ~2 min 10 s left`` on a
:class:`~ctflow.commands.statusline.StatusLine`, and the applier's own lines printed above it."""

from __future__ import annotations

from ctflow.commands.statusline import StatusLine
from ctflow.plan.cost import UNDER_A_SECOND, Cost, duration


class ApplyProgress:
    """Counts the calls made (the applier's ``made``) and shows how many are left, and how
    long they take at the plan's pace; ``say`` prints a line without breaking the status."""

    def __init__(self, cost: Cost, status: StatusLine) -> None:
        self.cost = cost
        self.status = status
        self.done: dict[str, int] = {}

    def made(self, kind: str, n: int) -> None:
        self.done[kind] = self.done.get(kind, 0) + n
        self.status.show(self.line())

    def say(self, line: str) -> None:
        self.status.print(line)

    def line(self) -> str:
        total = self.cost.total
        made = min(total, sum(self.done.values()))
        left = duration(self.cost.left(self.done).seconds)
        left = "under a second left" if left == UNDER_A_SECOND else f"~{left} left"
        return f"apply: {made:,}/{total:,} calls, {left}"

    def finish(self) -> None:
        self.status.done()
