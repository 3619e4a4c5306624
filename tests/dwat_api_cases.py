"""Small DWAT set-ups through the API, for the dispatch tests (teams of given professions at
given places, sites, requests)."""

from __future__ import annotations

from itertools import count

from tests.factories import create, shelter

_n = count(1)


def make_team(client, professions: list[str], *, lon: float = 139.45, lat: float = 35.70, women: bool = True,
              status: str = "standby", name: str = "", availability=None) -> dict:
    """A team of len(professions) members: the first the leader, the second the sub-leader; the
    first member a woman unless `women` is False."""
    n = next(_n)
    team = create(client, "dwat-teams", dict(name=name or f"テスト班{n}", organisation="テストDWAT", status=status,
                                             home_lon=lon, home_lat=lat))
    for i, prof in enumerate(professions):
        role = ("leader", "sub_leader")[i] if i < 2 else "member"
        create(client, "dwat-members", dict(team_id=team["id"], name=f"隊員{n}-{i}", role=role, professions=[prof],
                                            registration_no=f"T{n:03d}-{i}", sex="female" if women and i == 0 else "male",
                                            availability=availability or []))
    return team


def make_site(client, **over) -> dict:
    return create(client, "shelters", shelter(name=over.pop("name", f"テスト避難所{next(_n)}"), **over))


def make_request(client, site: dict, counts: dict, *, wanted_from: str | None = None, urgency: str = "high") -> dict:
    payload = dict(shelter_id=site["id"], need_counts=counts, priority=urgency)
    if wanted_from:
        payload["wanted_from"] = wanted_from
    return create(client, "dwat-requests", payload)


def accept(client, request: dict) -> dict:
    r = client.post(f"/api/dwat/requests/{request['id']}/advance", json={"to": "accepted", "version": request["version"]})
    assert r.status_code == 200, r.text
    return r.json()


CARE = ["care_worker", "care_worker", "care_manager", "social_worker"]
CHILD = ["childcare_worker", "childcare_worker", "social_worker", "nurse"]
MENTAL = ["psychiatric_social_worker", "psychiatric_social_worker", "nurse", "social_worker"]
