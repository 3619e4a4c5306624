"""Normal and disaster mode (災害対策基本法 Art. 49-11). Switched deliberately, recorded, reversible.

The mode is per municipality: a quake declared in one city does not open another city's register.
A switch names its municipality; a switch with no municipality ("") is the installation's — what a
single-city installation records — and counts for every municipality."""

from __future__ import annotations

import uuid
from typing import Iterable, Optional

from sqlmodel import Session, select

from ..models.auth import Mode, ModeSwitch

INSTALLATION = ""  # the municipality_code of a switch that counts for every municipality


def _latest(code: Optional[str]):
    query = select(ModeSwitch)
    if code is not None:
        query = query.where(ModeSwitch.municipality_code.in_([code, INSTALLATION]))
    return query.order_by(ModeSwitch.at.desc(), ModeSwitch.id.desc()).limit(1)


def current_switch(session: Session, code: Optional[str] = None) -> ModeSwitch | None:
    """The switch in force for municipality `code`; None: the latest of all (one municipality)."""
    return session.exec(_latest(code)).first()


def current_mode(session: Session, code: Optional[str] = None) -> Mode:
    switch = current_switch(session, code)
    return Mode(switch.mode) if switch else Mode.normal


def current_modes(session: Session, codes: Iterable[str]) -> dict[str, Mode]:
    """code → mode in force, for each of `codes` (one query)."""
    codes = sorted(set(codes))
    if not codes:
        return {}
    rows = session.exec(select(ModeSwitch.municipality_code, ModeSwitch.mode)
                        .where(ModeSwitch.municipality_code.in_([*codes, INSTALLATION]))
                        .order_by(ModeSwitch.at, ModeSwitch.id)).all()
    modes = {code: Mode.normal for code in codes}
    for code, mode in rows:  # oldest first: the last switch that names a municipality wins
        for target in (codes if code == INSTALLATION else [code]):
            modes[target] = Mode(mode)
    return modes


def switch_mode(session: Session, mode: Mode, reason: str, user_id: uuid.UUID | None,
                municipality_code: str = INSTALLATION) -> ModeSwitch:
    """Record a switch. A reason is required: it is what later readers of the audit need."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("a reason is required (e.g. the name of the earthquake)")
    row = ModeSwitch(mode=mode, reason=reason, user_id=user_id, municipality_code=municipality_code)
    session.add(row)
    session.flush()
    return row
