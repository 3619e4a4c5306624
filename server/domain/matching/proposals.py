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


def _newest(session: Session, state: ProposalState, newest_first, municipality_code: Optional[str]) -> Optional[MatchProposal]:
    """The newest proposal in `state` covering the municipality's people (any, if None). The scan
    reads ids and params only (a proposal's assignments can hold a city's every person) and loads
    the one it returns."""
    query = (select(MatchProposal.id, MatchProposal.params).where(MatchProposal.state == state)
             .order_by(newest_first, MatchProposal.id).limit(1 if municipality_code is None else SCAN_PROPOSALS))
    found = next((pid for pid, params in session.exec(query)  # its own run, or one for all
                  if municipality_code is None or (params or {}).get("municipality_code") in (None, municipality_code)), None)
    return None if found is None else session.get(MatchProposal, found)


def latest_confirmed(session: Session, municipality_code: Optional[str] = None) -> Optional[MatchProposal]:
    """The newest confirmed proposal; with a municipality, the newest covering its people."""
    return _newest(session, ProposalState.confirmed, MatchProposal.confirmed_at.desc(), municipality_code)


def latest_proposed(session: Session, municipality_code: Optional[str] = None) -> Optional[MatchProposal]:
    """The newest proposal not yet confirmed (covering the municipality's people, if named)."""
    return _newest(session, ProposalState.proposed, MatchProposal.created_at.desc(), municipality_code)


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
