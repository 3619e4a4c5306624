"""The audit entry for an operation on records: reads of personal data and every write."""

from __future__ import annotations

from sqlmodel import Session

from ..auth.audit import record
from ..auth.policy import PERSONAL
from .access import Access
from .resource import Resource


def audit_operation(session: Session, access: Access, action: str, resource: Resource, ids: list,
                    status: int = 200, client: str = "") -> None:
    """One entry in the caller's transaction; lists and reads only for personal resources."""
    if action in ("list", "read") and resource.path not in PERSONAL:
        return
    record(session, action, principal=access.principal, resource=resource.path, record_ids=ids, status=status,
           client=client)
