"""Errors the services raise. The API turns each into a JSON answer with a human message."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the body refuses the action in the current state (HTTP 409)."""

    status_code = 409
    default_code = "conflict"

    def __init__(self, message: str, *, code: str | None = None, **extra) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.extra = extra


class IllegalTransition(DomainError):
    """A status change that the lifecycle does not allow from the current status."""

    default_code = "illegal_transition"

    def __init__(self, kind: str, current: str, target: str, legal: list[str]) -> None:
        allowed = ", ".join(legal) if legal else "none"
        super().__init__(
            f"A {kind} cannot go from '{current}' to '{target}'. From '{current}' it can go to: {allowed}.",
            current=current,
            legal=legal,
        )
