"""Normal and disaster mode (災害対策基本法 Art. 49-11). Switched deliberately, recorded, reversible."""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from ..models.auth import Mode, ModeSwitch


def current_mode(session: Session) -> Mode:
    latest = session.exec(select(ModeSwitch.mode).order_by(ModeSwitch.at.desc(), ModeSwitch.id.desc()).limit(1)).first()
    return Mode(latest) if latest else Mode.normal


def current_switch(session: Session) -> ModeSwitch | None:
    return session.exec(select(ModeSwitch).order_by(ModeSwitch.at.desc(), ModeSwitch.id.desc()).limit(1)).first()


def switch_mode(session: Session, mode: Mode, reason: str, user_id: uuid.UUID | None) -> ModeSwitch:
    """Record a switch. A reason is required: it is what later readers of the audit need."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("a reason is required (e.g. the name of the earthquake)")
    row = ModeSwitch(mode=mode, reason=reason, user_id=user_id)
    session.add(row)
    session.flush()
    return row
