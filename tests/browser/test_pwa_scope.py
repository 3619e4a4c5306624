"""Scope shrinks (a supporter loses a district): after the next sync the device holds only the
people of the district that remains — with their plans and safety checks — and nothing else.
Signing out wipes the device; with unsent records it warns first."""

from __future__ import annotations

import sqlalchemy as sa

from server.models import District, Person, SafetyCheck
from server.models.vocab import DistrictKind

from .pwa_helpers import expect_pending, new_device, record_safety, sign_in, sync_now, wait_rows

LOCAL_COUNTS = """async () => {
  const { db } = await import('/app/js/sync.js');
  const people = await db.all('people');
  const plans = await db.all('plans');
  const checks = await db.all('safety-checks');
  return { people: people.map(p => p.id), plans: plans.map(p => p.person_id), checks: checks.map(c => c.person_id) };
}"""


def people_of(server, area_id) -> set[str]:
    with server.session() as session:
        chome = sa.select(District.id).where(District.parent_id == area_id)
        return {str(i) for i in session.exec(sa.select(Person.id).where(Person.district_id.in_(chome))).scalars()}


def test_scope_shrink_drops_records_and_sign_out_wipes(live_server, browser):
    with live_server.session() as session:
        first, second = session.exec(sa.select(District).where(District.kind == DistrictKind.welfare_area)
                                     .order_by(District.code).limit(2)).scalars().all()
    keep, lose = people_of(live_server, first.id), people_of(live_server, second.id)
    supporter = live_server.add_user("district_supporter", district_ids=[first.id, second.id])
    admin = live_server.add_user("admin")
    context, page = new_device(browser, live_server)
    sign_in(page, supporter.username)
    local = page.evaluate(LOCAL_COUNTS)
    assert set(local["people"]) == keep | lose

    # a safety check for someone about to leave the scope, so there is a check to drop too
    gone = sorted(lose)[0]
    record_safety(page, gone, "unreachable")
    wait_rows(live_server, SafetyCheck, 1)
    page.wait_for_function("""async (gone) => {
      const { db } = await import('/app/js/sync.js');
      return (await db.all('safety-checks')).some(c => c.person_id === gone);
    }""", arg=gone)

    token = live_server.token(admin.username)
    status, user = live_server.request("GET", "/api/users", token)
    version = next(u["version"] for u in user["items"] if u["id"] == str(supporter.id))
    status, body = live_server.request("PATCH", f"/api/users/{supporter.id}", token,
                                       {"version": version, "district_ids": [str(first.id)]})
    assert status == 200, body

    sync_now(page)
    local = page.evaluate(LOCAL_COUNTS)
    assert set(local["people"]) == keep
    assert set(local["plans"]) <= keep and set(local["checks"]) <= keep
    page.goto("/app/#/people")
    page.wait_for_selector("li.person")
    assert page.eval_on_selector_all("li.person", "rows => rows.length") == len(keep)
    page.goto(f"/app/#/person/{gone}")
    page.wait_for_selector("text=この方の情報はこの端末にありません")

    # Sign out with an unsent record: a warning names the count; cancelling keeps everything.
    context.set_offline(True)
    page.goto("/app/#/people")
    record_safety(page, sorted(keep)[0], "safe_home")
    expect_pending(page, 1)
    page.goto("/app/#/sync")
    page.click("#sign-out")
    assert "未送信の記録が1件あります" in page.inner_text("#confirm")
    page.click("#confirm button[value=cancel]")
    assert page.evaluate("async () => (await indexedDB.databases()).some(d => d.name.startsWith('tsunagu-user-'))")
    page.click("#sign-out")
    page.click("#confirm button[value=ok]")
    page.wait_for_selector("#signin-username")
    names = page.evaluate("async () => (await indexedDB.databases()).map(d => d.name)")
    assert not [n for n in names if n.startswith("tsunagu-user-")], names
    session_left = page.evaluate("""async () => { const { loadSession } = await import('/app/js/auth.js'); return await loadSession(); }""")
    assert session_left is None
    assert not page.errors
    context.close()


REMOVE_ACTIONS = """() => new Promise((resolve, reject) => {
  const opened = indexedDB.open('tsunagu-device');
  opened.onerror = () => reject(opened.error);
  opened.onsuccess = () => {
    const db = opened.result;
    const tx = db.transaction('kv', 'readwrite');
    const store = tx.objectStore('kv');
    const read = store.get('session');
    read.onsuccess = () => { const s = read.result; s.me.actions = []; store.put(s, 'session'); };
    tx.oncomplete = () => { db.close(); resolve(true); };
    tx.onerror = () => reject(tx.error);
  };
})"""


def test_the_screens_follow_the_actions_of_api_me(live_server, browser):
    """The field app has no role matrix: what it offers is what GET /api/me's `actions` allow, as kept
    on the device. The same shelter staff, with the stored answer emptied (offline, so it is not
    refreshed), is offered neither a safety check nor a shelter report."""
    from .test_pwa_offline import busiest_shelter

    user = live_server.add_user("shelter_staff", shelter_ids=[busiest_shelter(live_server)])
    context, page = new_device(browser, live_server)
    sign_in(page, user.username)
    page.wait_for_selector("nav a[href='#/shelter-report']")
    page.wait_for_selector("li.person button.check")
    context.set_offline(True)
    page.evaluate(REMOVE_ACTIONS)
    page.reload()
    page.wait_for_selector("li.person")
    page.wait_for_selector("#sync-bar[data-state=offline]")
    assert page.locator("nav a[href='#/shelter-report']").count() == 0
    assert page.locator("li.person button.check").count() == 0
    assert page.locator("nav a[href='#/people']").count() == 1
    assert not page.errors
    context.close()
