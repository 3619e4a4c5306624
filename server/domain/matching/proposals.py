"""Which matching proposal speaks for whom: proposals are per municipality
(`params.municipality_code`; None: a run for the whole installation, as with one city). Shared
by the store (superseding, diffs, places held across the border) and the DWAT referral list
(each person's stage from their municipality's proposals)."""

from __future__ import annotations

from typing import Optional

from sqlmodel import Session, select

from ...models import MatchProposal
from ...models.matching import ProposalState

# Proposals are per municipality (params.municipality_code; None: a run for the whole
# installation). They are few (one per run), so the newest are scanned rather than the JSON
# queried in SQL, which SQLite and PostgreSQL spell differently.
SCAN_PROPOSALS = 500


def municipality_of(proposal: MatchProposal) -> Optional[str]:
    return (proposal.params or {}).get("municipality_code")


def covers(proposal: MatchProposal, municipality_code: Optional[str]) -> bool:
    """Whether the proposal speaks for the municipality's people: its own run, or one for all."""
    return municipality_of(proposal) in (None, municipality_code)


def latest_confirmed(session: Session, municipality_code: Optional[str] = None) -> Optional[MatchProposal]:
    """The newest confirmed proposal; with a municipality, the newest covering its people."""
    query = (select(MatchProposal).where(MatchProposal.state == ProposalState.confirmed)
             .order_by(MatchProposal.confirmed_at.desc(), MatchProposal.id))
    if municipality_code is None:
        return session.exec(query.limit(1)).first()
    return next((p for p in session.exec(query.limit(SCAN_PROPOSALS)) if covers(p, municipality_code)), None)


def latest_proposed(session: Session, municipality_code: Optional[str] = None) -> Optional[MatchProposal]:
    """The newest proposal not yet confirmed (covering the municipality's people, if named)."""
    query = (select(MatchProposal).where(MatchProposal.state == ProposalState.proposed)
             .order_by(MatchProposal.created_at.desc(), MatchProposal.id))
    if municipality_code is None:
        return session.exec(query.limit(1)).first()
    return next((p for p in session.exec(query.limit(SCAN_PROPOSALS)) if covers(p, municipality_code)), None)


def newest_per_municipality(session: Session, state: Optional[ProposalState] = None) -> dict[str, MatchProposal]:
    """Municipality code → its own newest proposal (of `state`, if given); runs for the whole
    installation are left out. Scans ids and params only (a proposal's assignments can hold a
    city's every person) and loads the few it returns."""
    query = select(MatchProposal.id, MatchProposal.params).order_by(MatchProposal.created_at.desc(), MatchProposal.id)
    if state is not None:
        query = query.where(MatchProposal.state == state)
    newest: dict[str, MatchProposal] = {}
    for proposal_id, params in session.exec(query.limit(SCAN_PROPOSALS)):
        code = (params or {}).get("municipality_code")
        if code is not None and code not in newest:
            newest[code] = proposal_id
    return {code: session.get(MatchProposal, proposal_id) for code, proposal_id in newest.items()}
