"""One check for every lifecycle: is this status change legal from where the row stands?"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from governance.exceptions import IllegalTransition


def check_transition(kind: str, current: str, target: str, legal: Mapping[str, Iterable[str]]) -> None:
    """Raise IllegalTransition (409, naming the legal targets) unless `legal[current]` admits
    `target`. `kind` names the thing in the message ("charter", "ballot", "credit request")."""
    allowed = list(legal.get(current, ()))
    if target not in allowed:
        raise IllegalTransition(kind, current, target, allowed)
