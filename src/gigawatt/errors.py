"""Exceptions raised by gigawatt.

Every problem with user input is reported as a :class:`ScenarioError` that lists *all* problems found,
each as ``path: message`` (for example ``sites[0].halls[1].racks[0].count: must be > 0 (got 0)``).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["GigawattWarning", "ScenarioError"]


class ScenarioError(ValueError):
    """Invalid scenario input: carries every problem found, each with its path.

    Parameters
    ----------
    problems
        ``(path, message)`` pairs. ``path`` is a dotted/indexed location in the scenario
        (``sites[0].halls[1].cooling.technology``), optionally prefixed with ``file:line`` context.
    source
        Where the scenario came from (file name or ``"<dict>"``), used in the message header.
    """

    def __init__(self, problems: Iterable[tuple[str, str]], source: str | None = None) -> None:
        self.problems: list[tuple[str, str]] = list(problems)
        self.source = source
        super().__init__(self._format())

    def _format(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in scenario" + (f" {self.source}" if self.source else "")
        return head + ":\n" + "\n".join(self.lines())

    def lines(self) -> list[str]:
        """One ``path: message`` line per problem (what ``gigawatt check`` prints)."""
        return [f"{path}: {msg}" if path else msg for path, msg in self.problems]


class GigawattWarning(UserWarning):
    """Something in a run a planner should know about (an infeasible target, a capped autoscaler...)."""
