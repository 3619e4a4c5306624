"""The coverage page, its lists and CSV, the review list and the HQ coverage figures keep to the
caller's municipality when one installation holds several (docs/access.md "Municipalities"):
city B's office never counts, lists or exports city A's people — also not through a figure
cached for city A."""

from __future__ import annotations

import re

from tests.test_municipalities import A, B, cities  # noqa: F401  (fixture)


def _registered(page: str) -> int:
    row = re.search(r'<tr class="wb-total" data-key="city">(.*?)</tr>', page, re.S).group(1)
    return int(re.sub(r"<[^>]+>", "", re.findall(r'<td class="wb-num">(.*?)</td>', row, re.S)[0]))


def test_each_office_counts_lists_and_exports_its_own_people(cities, client_for):  # noqa: F811
    office_a = client_for("welfare_staff", municipality_codes=[A])
    office_b = client_for("welfare_staff", municipality_codes=[B])
    # city A first, so a figure cached for it would be served to city B if the cache mixed them
    for office, code in ((office_a, A), (office_b, B)):
        page = office.get("/workbench/coverage?level=chome")
        assert page.status_code == 200, page.text
        assert _registered(page.text) == 2
        listed = office.get("/workbench/coverage/list", params={"level": "city", "key": "city", "figure": "registered"})
        assert listed.status_code == 200
        assert set(re.findall(r"\b(\d{6}-(?:yes|no))\b", listed.text)) == {f"{code}-yes", f"{code}-no"}
        exported = office.get("/workbench/coverage.csv?level=chome").content.decode("utf-8-sig")
        other = B if code == A else A
        assert f"市{'A' if other == A else 'B'}一丁目" not in exported
        hq = office.get("/api/hq/coverage")
        assert hq.status_code == 200 and hq.json()["figures"]["registered"] == 2, hq.text


def test_the_review_list_keeps_to_the_municipality(cities, client_for):  # noqa: F811
    office_b = client_for("welfare_staff", municipality_codes=[B])
    page = office_b.get("/workbench/reviews")
    assert page.status_code == 200
    assert f"{A}-yes" not in page.text and f"{A}-no" not in page.text
