"""Building an event's receipt from the stored tree and the newest cosigned checkpoint."""

from __future__ import annotations

from governance.exceptions import DomainError
from governance.models import AuditEvent
from governance.transparency import tree
from governance.transparency.integrate import verified_checkpoint
from governance.transparency.proof import Receipt, build_receipt


def receipt_for(event: AuditEvent) -> Receipt:
    """The event's tlog-proof@v1 under the newest checkpoint both sectors' witnesses cosigned.

    An event not yet integrated, or integrated after that checkpoint, has no receipt yet: a
    DomainError (409) that says so, since it will have one within seconds.
    """
    if event.leaf_index is None:
        raise DomainError("This event is not in the log yet; its receipt follows within seconds.")
    found = verified_checkpoint()
    if found is None or found[0].size <= event.leaf_index:
        raise DomainError("No checkpoint cosigned by both sectors' witnesses covers this event yet.")
    checkpoint, note = found
    proof = tree.inclusion_proof(event.leaf_index, checkpoint.size)
    return build_receipt(event.leaf_index, bytes(event.commitment), proof, note)
