"""The field app in the hands of its users (the field-app usability issue): the list keeps its
place, a mis-tapped safety check can be undone (and a note added) while it is still on the
device, large text leaves the screen usable, the shelter report claims nothing the user did not
say, the status words are true, and one palette (with shapes) for the statuses.

Each test runs on a landscape 10-inch tablet (1280×800), a portrait one (800×1280) and a phone
(390×844); "200 % text" is the browser's text size setting (the default font size, 32 px instead
of 16, set through the DevTools protocol as the browser's settings would), so rem sizes and em
media queries follow it, as they do for a user. axe-core runs on every screen; screenshots go to
test-artifacts/field-usability/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.models import DwatDeployment, DwatMember, SafetyCheck, Shelter, ShelterReport

from .pwa_helpers import AXE, PHONE, TABLET, count_rows, new_device, run_axe, sign_in, wait_controlled, wait_rows

ROOT = Path(__file__).resolve().parents[2]
SIZES = {"tablet": TABLET, "portrait": {"width": 800, "height": 1280}, "phone": PHONE}
UNDO_MS = 10_000  # pwa/js/safety.js


def artifacts():
    folder = ROOT / "test-artifacts" / "field-usability"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shot(page, name, size):
    page.screenshot(path=str(artifacts() / f"{name}-{size}.png"))


def no_axe(page, screen, paused=False):
    violations = axe_on_paused_clock(page) if paused else run_axe(page)
    assert not violations, f"{screen}: {violations}"


def axe_on_paused_clock(page):
    """axe-core waits on timers; with the page's clock stopped, move it on in small steps until
    axe is done (a few hundred milliseconds of page time, far inside the undo window)."""
    if not page.evaluate("() => !!window.axe"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    page.evaluate("""() => { window.__axe = null; axe.run(document, { resultTypes: ['violations'] })
      .then(r => { window.__axe = r.violations.map(v => ({ id: v.id, help: v.help, nodes: v.nodes.map(n => n.target).slice(0, 5) })); }); }""")
    for _ in range(400):
        done = page.evaluate("() => window.__axe")
        if done is not None:
            return done
        page.clock.run_for(5)
    raise AssertionError("axe did not finish within 2 s of page time")


def text_size(page, percent: int) -> None:
    """The browser's text size (Chrome: Settings → Appearance → Font size), as a percentage of 16 px."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": round(16 * percent / 100), "fixed": round(13 * percent / 100)}})
    page.reload()
    page.wait_for_selector("html[data-ready=true]")


def in_viewport(page, selector) -> bool:
    return page.eval_on_selector(selector, """el => { const r = el.getBoundingClientRect();
      return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth; }""")


def row_ids(page, at_least=1):
    """The people list's rows, once it is drawn and placed."""
    page.wait_for_function("(n) => document.querySelector('.people-list[data-placed]') && document.querySelectorAll('li.person').length >= n",
                           arg=at_least)
    return page.eval_on_selector_all("li.person", "rows => rows.map(r => r.dataset.id)")


def settles_at(page, person_id, top, timeout=10000) -> bool:
    """Whether the row comes to rest at `top` (±2 px, header excluded as in row_top): a background
    sync finishing just then redraws the list once more, and the test waits for that redraw to
    place the row again rather than reading the screen in the middle of it."""
    try:
        page.wait_for_function("""([id, top]) => { const row = document.querySelector(`li.person[data-id='${id}']`);
            const list = document.querySelector('.people-list[data-placed]');
            if (!row || !list) return false;
            const at = row.getBoundingClientRect().top - document.querySelector('header.top').offsetHeight;
            return Math.abs(at - top) <= 2; }""", arg=[person_id, top], timeout=timeout)
        return True
    except Exception:
        return False


def row_top(page, person_id) -> float:
    """The row's height on screen, less the sticky header's height: a background sync may change the
    status bar's words and so the header's height (which moves everything below it), and that is not
    the list losing its place."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")  # laid out
    return page.eval_on_selector(f"li.person[data-id='{person_id}']",
                                 "el => el.getBoundingClientRect().top - document.querySelector('header.top').offsetHeight")


# ------------------------------------------------------------------ 2. never lose your place

def test_a_tap_on_a_filter_survives_a_redraw_in_the_middle(live_server, browser):
    """The finger goes down on 未確認, the list redraws (a search's pause ends, a sync arrives),
    the finger comes up: the tap counts. (If the redraw swapped the button, the browser would send
    the click to the toolbar and the tap would be lost — seen under load in CI.)"""
    staff = live_server.add_user("welfare_staff", display_name="福祉 花子")
    context, page = new_device(browser, live_server, SIZES["tablet"])
    sign_in(page, staff.username)
    row_ids(page, 20)
    box = page.locator("button[data-filter=unchecked]").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    # a redraw while the finger is down: the search changes and its pause ends
    page.evaluate("""() => { const s = document.getElementById('people-search'); s.value = 'さ';
                            s.dispatchEvent(new Event('input', { bubbles: true })); }""")
    page.wait_for_function("() => document.querySelector('.people-list').dataset.query === 'さ'")
    page.mouse.up()
    assert page.get_attribute("button[data-filter=unchecked]", "aria-pressed") == "true"
    context.close()



@pytest.mark.parametrize("size", list(SIZES))
def test_list_keeps_its_place_and_a_person_opens_at_the_top(live_server, browser, size):
    staff = live_server.add_user("welfare_staff", display_name="福祉 花子")
    context, page = new_device(browser, live_server, SIZES[size])
    sign_in(page, staff.username)
    rows = row_ids(page, 200)
    far = rows[150]
    page.wait_for_selector("#sync-bar[data-state=idle]")
    page.eval_on_selector(f"li.person[data-id='{far}']", "el => el.scrollIntoView({ block: 'center' })")
    before = row_top(page, far)
    assert page.evaluate("() => window.scrollY") > 1000

    page.click(f"li.person[data-id='{far}'] a.who")
    page.wait_for_selector("#plan-h")
    assert page.evaluate("() => window.scrollY") == 0
    assert in_viewport(page, "h1") and in_viewport(page, "main button.primary.big")  # the name and 安否確認
    shot(page, "person-opened-from-far-down", size)
    no_axe(page, "person")

    page.go_back()
    page.wait_for_selector(".people-list[data-placed]")
    page.wait_for_function("(id) => document.activeElement && document.activeElement.closest(`li.person[data-id='${id}']`)", arg=far)
    assert settles_at(page, far, before), f"back returns to the same row at the same height ({row_top(page, far)} ≠ {before})"
    shot(page, "list-back-to-the-row", size)

    # A search and a filter survive opening a person (by the back link, not the browser's back)
    page.fill("#people-search", "さ")  # no pause: the search is kept at once, not after the redraw
    page.click("button[data-filter=unchecked]")
    page.wait_for_function("() => document.querySelector('.people-list').dataset.count !== undefined")
    shown = page.eval_on_selector_all("li.person", "rows => rows.map(r => r.dataset.id)")
    assert 1 < len(shown) < len(rows)
    target = shown[len(shown) // 2]
    # no sync in flight: one finishing now would redraw the list between the measure and the tap
    page.wait_for_selector(".people-list[data-placed]")
    page.wait_for_selector("#sync-bar[data-state=idle]")
    page.eval_on_selector(f"li.person[data-id='{target}']", "el => el.scrollIntoView({ block: 'center' })")
    before = row_top(page, target)
    page.click(f"li.person[data-id='{target}'] a.who")
    page.wait_for_selector("#plan-h")
    page.click("p.back a")
    page.wait_for_selector(".people-list[data-placed]")
    assert page.input_value("#people-search") == "さ"
    assert page.get_attribute("button[data-filter=unchecked]", "aria-pressed") == "true"
    assert page.eval_on_selector_all("li.person", "rows => rows.map(r => r.dataset.id)") == shown
    page.wait_for_function("(id) => document.activeElement && document.activeElement.closest(`li.person[data-id='${id}']`)", arg=target)
    assert settles_at(page, target, before), f"back to the filtered list's row at its height ({row_top(page, target)} ≠ {before})"
    synced = page.get_attribute("#sync-bar", "data-last-sync")
    page.reload()  # the app reloaded (an update, say): still the same search, filter and row
    page.wait_for_function("(before) => { const b = document.getElementById('sync-bar'); return b && b.dataset.state === 'idle' && b.dataset.lastSync !== before; }",
                           arg=synced)  # the sync on opening redraws the list …
    page.wait_for_selector(".people-list[data-placed]")  # … which stays where it was
    assert page.input_value("#people-search") == "さ"
    assert page.get_attribute("button[data-filter=unchecked]", "aria-pressed") == "true"
    assert in_viewport(page, f"li.person[data-id='{target}']")
    no_axe(page, "people, searched and filtered")
    assert not page.errors
    context.close()


# ------------------------------------------------------------------ 3. a mis-tap is undoable

def pause(page):
    """Stop the page's clock (a second from its now): nothing times out until the test says so."""
    now = dt.datetime.fromtimestamp(page.evaluate("() => Date.now()") / 1000, tz=dt.timezone.utc)
    page.clock.pause_at(now + dt.timedelta(seconds=1))


def tap_outcome(page, person_id, outcome):
    page.click(f"li.person[data-id='{person_id}'] button.check")
    page.click(f"#sheet button[data-outcome='{outcome}']")
    page.wait_for_selector("#sheet", state="hidden")
    page.wait_for_selector("#toast-undo")


@pytest.mark.parametrize("size", list(SIZES))
def test_safety_check_undo_within_the_window_and_not_after(live_server, browser, size):
    staff = live_server.add_user("welfare_staff")
    context, page = new_device(browser, live_server, SIZES[size])
    page.clock.install()  # the page's timers under the test's control: no waiting 10 s, no race with a slow machine
    sign_in(page, staff.username)
    first, second, third, fourth = row_ids(page, 4)[:4]

    # Undo within the window: the record never leaves the device
    pause(page)
    tap_outcome(page, first, "needs_help")
    assert "取り消す" in page.inner_text("#toast") and "メモを追加" in page.inner_text("#toast")
    page.wait_for_selector("#sync-bar[data-pending='1']")
    shot(page, "undo-offered", size)
    no_axe(page, "confirmation with undo", paused=True)
    page.clock.run_for(UNDO_MS - 3000)  # 7 s (axe took at most 2) later: still undoable, still not sent
    assert count_rows(live_server, SafetyCheck) == 0
    page.click("#toast-undo")
    page.wait_for_selector("#sync-bar[data-pending='0']")
    assert "取り消しました" in page.inner_text("#toast")
    page.clock.resume()
    page.clock.fast_forward(UNDO_MS * 2)
    page.wait_for_selector(f"li.person[data-id='{first}'] .chip.s-none")
    page.goto("/app/#/sync")
    page.click("#sync-now")
    page.wait_for_selector("#sync-bar[data-state=idle]")
    assert count_rows(live_server, SafetyCheck) == 0

    # Not after: once the window has passed the record is sent and the undo is gone
    page.goto("/app/#/people")
    page.wait_for_selector(f"li.person[data-id='{second}'] button.check")
    pause(page)
    tap_outcome(page, second, "injured")
    assert count_rows(live_server, SafetyCheck) == 0  # held for the window
    page.clock.resume()
    page.clock.fast_forward(UNDO_MS + 1000)
    wait_rows(live_server, SafetyCheck, 1, person_id=uuid.UUID(second), outcome="injured")
    assert page.query_selector("#toast-undo") is None
    page.wait_for_selector("#sync-bar[data-pending='0']")

    # A note added to the record just made: the same record, one row on the server
    pause(page)
    tap_outcome(page, third, "safe_home")
    page.click("#toast-note")
    page.wait_for_selector("#safety-add-note")
    shot(page, "note-after", size)
    no_axe(page, "note after the record", paused=True)
    page.clock.run_for(UNDO_MS * 3)  # typing slowly: the record waits while the note is written
    assert count_rows(live_server, SafetyCheck, person_id=uuid.UUID(third)) == 0
    page.fill("#safety-add-note", "玄関先で会話。持病の薬あり")
    page.click("#safety-note-save")
    page.clock.resume()
    wait_rows(live_server, SafetyCheck, 1, person_id=uuid.UUID(third))
    with live_server.session() as session:
        check = session.exec(sa.select(SafetyCheck).where(SafetyCheck.person_id == uuid.UUID(third))).scalar_one()
    assert (check.outcome, check.note) == ("safe_home", "玄関先で会話。持病の薬あり")

    # 避難済 then where: the undo is offered after the where step, and undoes the whole record
    pause(page)
    page.click(f"li.person[data-id='{fourth}'] button.check")
    page.click("#sheet button[data-outcome='evacuated']")
    page.click("#sheet .actions button.secondary")  # where: unknown / later
    page.wait_for_selector("#toast-undo")
    page.click("#toast-undo")
    page.clock.resume()
    page.clock.fast_forward(UNDO_MS * 2)
    page.wait_for_selector("#sync-bar[data-pending='0']")
    assert count_rows(live_server, SafetyCheck, person_id=uuid.UUID(fourth)) == 0
    assert not page.errors
    context.close()


# ------------------------------------------------------------------ 4. large text

@pytest.mark.parametrize("size", list(SIZES))
def test_large_text_leaves_the_screen_usable(live_server, browser, size):
    staff = live_server.add_user("welfare_staff")
    context, page = new_device(browser, live_server, SIZES[size])
    sign_in(page, staff.username)
    viewport = SIZES[size]
    for percent in (150, 200):
        text_size(page, percent)
        page.wait_for_selector("li.person")
        assert page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)") == 16 * percent / 100
        page.mouse.move(viewport["width"] / 2, viewport["height"] / 2)
        page.mouse.wheel(0, 1200)  # reading down the list
        # What stays on screen while the list scrolls: the header and the menu, if they are fixed
        covered = """() => ['.top', '.nav'].map(s => document.querySelector(s).getBoundingClientRect())
          .map(r => Math.max(0, Math.min(r.bottom, innerHeight) - Math.max(r.top, 0))).reduce((a, b) => a + b, 0)"""
        try:
            page.wait_for_function(f"() => window.scrollY > 600 && ({covered})() <= innerHeight * 0.2", timeout=5000)
        except Exception:
            raise AssertionError(f"{percent}%: header and menu cover {page.evaluate(covered)}px of {viewport['height']}") from None
        if percent == 150:  # the phone: a 207 px header at 150 % (at 200 % it scrolls away, above)
            header = page.eval_on_selector(".top", "el => el.getBoundingClientRect().height")
            assert header <= max(0.2 * viewport["height"], 130), f"{percent}%: the header is {header}px tall"
        shot(page, f"list-scrolled-text-{percent}", size)
        no_axe(page, f"people at {percent}% text")

        # The safety sheet: its キャンセル always on screen, the note box reachable
        page.evaluate("() => window.scrollTo(0, 0)")
        page.click("li.person button.check")
        page.wait_for_selector("#sheet[open]")
        assert in_viewport(page, "#sheet .actions button.secondary"), f"{percent}%: キャンセル is off screen"
        assert in_viewport(page, "#sheet h2")
        page.fill("#safety-note", "メモ")
        assert in_viewport(page, "#safety-note")
        assert in_viewport(page, "#sheet .actions button.secondary")
        shot(page, f"sheet-text-{percent}", size)
        no_axe(page, f"safety sheet at {percent}% text")
        page.click("#sheet .actions button.secondary")
        page.wait_for_selector("#sheet", state="hidden")
    assert not page.errors
    context.close()


# ------------------------------------------------------------------ 5. the shelter report

def small_shelter(server, capacity=13):
    """A designated shelter with a known capacity, for shelter staff to report on."""
    with server.session() as session:
        shelter = session.exec(sa.select(Shelter).order_by(Shelter.name).limit(1)).scalar_one()
        shelter.capacity = capacity
        session.add(shelter)
        session.commit()
        return shelter.id


@pytest.mark.parametrize("size", list(SIZES))
def test_shelter_report_claims_nothing_unsaid_and_confirms_overflow(live_server, browser, size):
    shelter_id = small_shelter(live_server)
    user = live_server.add_user("shelter_staff", shelter_ids=[shelter_id])
    context, page = new_device(browser, live_server, SIZES[size])
    sign_in(page, user.username)
    page.goto("/app/#/shelter-report")
    page.wait_for_selector("#n-occupancy")
    assert page.eval_on_selector_all("input[type=radio]:checked", "els => els.length") == 0  # nothing preselected
    assert "13" in page.inner_text("#shelter-capacity")
    legends = page.eval_on_selector_all("form fieldset > legend", "els => els.map(e => e.textContent)")
    assert legends[0].startswith("建物の被害") and legends[1].startswith("開設状況")  # damage first
    assert page.input_value("#n-occupancy") == ""
    shot(page, "shelter-report-empty", size)
    no_axe(page, "shelter report")

    page.click("form button[type=submit]")
    page.wait_for_selector("#shelter-error:has-text('建物の被害')")
    no_axe(page, "shelter report: damage missing")
    page.click("label[for=damage-minor]")
    page.click("form button[type=submit]")
    page.wait_for_selector("#shelter-error:has-text('開設状況')")
    page.click("label[for=open_state-open]")
    page.click("form button[type=submit]")
    page.wait_for_selector("#shelter-error:has-text('避難者数')")

    page.fill("#n-occupancy", "23")
    page.click("form button[type=submit]")
    page.wait_for_selector("#confirm[open]")
    text = page.inner_text("#confirm")
    assert "23" in text and "13" in text
    shot(page, "shelter-report-over-capacity", size)
    no_axe(page, "over capacity")
    page.click("#confirm button[value=cancel]")  # 戻って直す: nothing is saved
    page.wait_for_selector("#confirm", state="hidden")
    assert page.get_attribute("#sync-bar", "data-pending") == "0"
    page.click("form button[type=submit]")
    page.click("#confirm button[value=ok]")  # 超過のまま送る: it happens, and HQ must know
    wait_rows(live_server, ShelterReport, 1, shelter_id=shelter_id)
    with live_server.session() as session:
        report = session.exec(sa.select(ShelterReport)).scalar_one()
    assert (report.occupancy, report.open_state, report.damage) == (23, "open", "minor")

    # The next report starts empty again, with the last one shown beside the questions
    page.wait_for_selector("#damage-previous")
    assert page.eval_on_selector_all("input[type=radio]:checked", "els => els.length") == 0
    assert "軽微" in page.inner_text("#damage-previous") and "開設" in page.inner_text("#open_state-previous")
    assert not page.errors
    context.close()


# ------------------------------------------------------------------ 6. honest status words

@pytest.mark.parametrize("size", list(SIZES))
def test_status_words_say_what_is_true(live_server, browser, size):
    context, page = new_device(browser, live_server, SIZES[size])
    page.goto("/app/")
    page.wait_for_selector("#signin-username")
    bar = page.inner_text("#sync-bar")
    assert "サインインしていません" in bar and "同期済み" not in bar and "最終同期" not in bar
    no_axe(page, "sign-in")
    context.close()

    # A device whose sync fails: the service worker is there, the data is not — not "ready offline"
    staff = live_server.add_user("welfare_staff")
    context, page = new_device(browser, live_server, SIZES[size])
    page.route("**/api/sync/changes*", lambda route: route.fulfill(status=503, body="{}", content_type="application/json"))
    page.goto("/app/")
    page.fill("#signin-username", staff.username)
    page.fill("#signin-password", "correct horse battery staple")
    page.click("form button[type=submit]")
    page.wait_for_selector("#sync-bar[data-state=offline]")
    wait_controlled(page)
    page.wait_for_selector("#people-summary:has-text('まだ担当者の情報を受け取っていません')")
    assert page.get_attribute("html", "data-offline-ready") is None
    assert "オフラインで使う準備ができました" not in page.inner_text("body")
    assert "同期済み" not in page.inner_text("#sync-bar")
    page.unroute("**/api/sync/changes*")
    page.goto("/app/#/sync")
    page.click("#sync-now")
    page.wait_for_selector("html[data-offline-ready=true]")  # only once the data is stored
    page.wait_for_selector("#offline-ready:has-text('準備完了')")  # the sync screen says the same
    context.close()

    # A DWAT member whose team has no active deployment: said in words, with whom to ask
    with live_server.session() as session:
        # the demo city has teams on site: take a member of a team that has no deployment at all
        deployed = sa.select(DwatDeployment.team_id)
        member = session.exec(sa.select(DwatMember).where(DwatMember.team_id.not_in(deployed))
                              .order_by(DwatMember.name).limit(1)).scalar_one()
    dwat = live_server.add_user("dwat_member", dwat_member_id=member.id)
    context, page = new_device(browser, live_server, SIZES[size])
    page.goto("/app/")
    page.fill("#signin-username", dwat.username)
    page.fill("#signin-password", "correct horse battery staple")
    page.click("form button[type=submit]")
    page.wait_for_selector("#no-deployment")
    notice = page.inner_text("#no-deployment")
    assert "現在、派遣中の活動がありません" in notice and "調整担当" in notice
    assert "初めての同期中" not in page.inner_text("main")
    assert "派遣中の活動なし" in page.inner_text("#sync-bar")
    shot(page, "dwat-no-deployment", size)
    no_axe(page, "DWAT without deployment")
    page.goto("/app/#/sync")
    page.wait_for_selector("#no-deployment")
    assert "403" not in page.inner_text("main") and "no active deployment" not in page.inner_text("main")
    shot(page, "dwat-no-deployment-sync", size)
    no_axe(page, "sync screen, DWAT without deployment")
    assert not [e for e in page.errors if "403" not in e]
    context.close()


# ------------------------------------------------------------------ 8. one palette

def test_one_palette_for_the_app_and_the_hq_map_with_shapes(live_server, browser):
    staff = live_server.add_user("welfare_staff")
    context, page = new_device(browser, live_server)
    sign_in(page, staff.username)
    palette = page.evaluate("() => import('/app/js/palette.js').then(m => m.STATUS_PALETTE)")
    hq = page.evaluate("() => import('/static/hq/symbols.js').then(m => m.STATUS_COLOURS)")
    assert {code: entry["colour"] for code, entry in palette.items()} == hq  # the HQ map's colours are the app's
    assert len({entry["glyph"] for entry in palette.values()}) == len(palette)  # a shape for each, not colour alone
    hq_shapes = page.evaluate("() => import('/static/hq/symbols.js').then(m => m.STATUS_SHAPES)")
    assert hq_shapes == {code: entry["shape"] for code, entry in palette.items()}  # the map draws the same shapes

    ids = row_ids(page, 2)[:2]
    for person_id, outcome in zip(ids, ("needs_help", "injured")):
        page.click(f"li.person[data-id='{person_id}'] button.check")
        button = page.eval_on_selector(f"#sheet button[data-outcome='{outcome}']",
                                       "el => [getComputedStyle(el).borderTopColor, el.querySelector('.glyph').textContent]")
        page.click(f"#sheet button[data-outcome='{outcome}']")
        chip = f"li.person[data-id='{person_id}'] .chip.s-{outcome}"
        expected = palette[outcome]["colour"]
        rgb = "rgb({}, {}, {})".format(*(int(expected[i:i + 2], 16) for i in (1, 3, 5)))
        # the list redraws as the record settles: read the chip once it is drawn and styled, in the
        # same turn of the page's event loop (a redraw between a check and a read swaps the chip)
        colour, glyph, text = page.wait_for_function(
            """([sel, rgb]) => { const el = document.querySelector(sel);
                 if (!el || !el.isConnected || getComputedStyle(el).borderTopColor !== rgb) return null;
                 return [getComputedStyle(el).borderTopColor, el.querySelector('.glyph').textContent, el.textContent]; }""",
            arg=[chip, rgb], timeout=10000).json_value()
        assert colour == rgb and button[0] == rgb
        assert glyph == button[1] == palette[outcome]["glyph"]
        assert text.strip().startswith(glyph)
    shot(page, "palette-chips", "tablet")
    no_axe(page, "people with statuses")
    assert not page.errors
    context.close()


# ------------------------------------------------------------------ 7. supporters edited in the field

def test_supporters_and_phones_edited_offline_with_the_version_check(live_server, browser):
    from server.models import EvacuationPlan
    from server.models.sync import SyncConflict

    with live_server.session() as session:
        plans = session.exec(sa.select(EvacuationPlan).order_by(EvacuationPlan.id).limit(50)).scalars().all()
        plan = next(p for p in plans if len(p.supporters or []) == 1)
    person_id, first = str(plan.person_id), plan.supporters[0]
    alice = live_server.add_user("welfare_staff")
    bob = live_server.add_user("welfare_staff")
    context_a, page_a = new_device(browser, live_server)
    context_b, page_b = new_device(browser, live_server, PHONE)
    sign_in(page_a, alice.username)
    sign_in(page_b, bob.username)

    context_a.set_offline(True)
    page_a.goto(f"/app/#/person/{person_id}/plan")
    assert page_a.input_value("#sup-0-name") == first["name"]
    page_a.fill("#sup-0-phone", "090-1111-2222")       # learnt on the visit: a new mobile number
    page_a.fill("#sup-1-name", "山田 花子")             # and a neighbour who will help
    page_a.fill("#sup-1-relation", "近隣住民")
    page_a.fill("#sup-1-phone", "042-555-0101")
    shot(page_a, "plan-supporters", "tablet")
    no_axe(page_a, "plan edit with supporters")
    page_a.click("form button[type=submit]")
    page_a.wait_for_selector("section[aria-labelledby=plan-h] >> text=山田 花子")
    assert "この端末での変更が未送信です" in page_a.inner_text("section[aria-labelledby=plan-h]")
    page_a.wait_for_selector("#sync-bar[data-pending='1']")

    context_b.set_offline(True)  # meanwhile another device changes the supporters too
    page_b.goto(f"/app/#/person/{person_id}/plan")
    page_b.fill("#sup-0-phone", "080-3333-4444")
    no_axe(page_b, "plan edit with supporters (phone)")
    page_b.click("form button[type=submit]")
    page_b.wait_for_selector("section[aria-labelledby=plan-h] >> text=080-3333-4444")

    context_a.set_offline(False)
    page_a.wait_for_selector("#sync-bar[data-state=idle][data-pending='0']", timeout=30000)
    with live_server.session() as session:
        stored = session.get(EvacuationPlan, plan.id)
        assert [(s["name"], s["phone"]) for s in stored.supporters] == [(first["name"], "090-1111-2222"), ("山田 花子", "042-555-0101")]
        assert stored.supporters[0].get("address", "") == first.get("address", "")  # what was not on the form is kept

    context_b.set_offline(False)  # same field changed on both sides: the server keeps the first, B's goes to a conflict
    page_b.wait_for_selector("#sync-bar[data-conflicts='1']", timeout=30000)
    with live_server.session() as session:
        conflicts = session.exec(sa.select(SyncConflict).where(SyncConflict.record_id == plan.id)).scalars().all()
        assert [c.field for c in conflicts] == ["supporters"]
        assert conflicts[0].client_value[0]["phone"] == "080-3333-4444"
        assert session.get(EvacuationPlan, plan.id).supporters[0]["phone"] == "090-1111-2222"
    assert not page_a.errors and not page_b.errors
    context_a.close()
    context_b.close()


def test_a_minsei_corrects_supporters_offline_and_sees_only_them(live_server, browser):
    """Item 7 for 民生委員: the plan edit shows them the supporters only, works offline, and the
    correction reaches the server through the outbox with the version check."""
    from server.models import EvacuationPlan, Person

    with live_server.session() as session:
        rows = session.exec(sa.select(EvacuationPlan, Person).join(Person, Person.id == EvacuationPlan.person_id)
                            .where(Person.consent == "yes", Person.district_id.is_not(None))
                            .order_by(EvacuationPlan.id).limit(200)).all()
        plan, person = next((p, q) for p, q in rows if len(p.supporters or []) == 1)
    minsei = live_server.add_user("district_supporter", district_ids=[person.district_id])
    context, page = new_device(browser, live_server, PHONE)
    sign_in(page, minsei.username)
    context.set_offline(True)
    page.goto(f"/app/#/person/{person.id}/plan")
    page.wait_for_selector("#sup-0-phone")
    # nothing but the supporters on their form
    for other in ("select[name=status]", "select[name=destination_shelter_id]", "textarea[name=route_note]",
                  "textarea[name='care.how_to_help']"):
        assert page.query_selector(other) is None, other
    page.fill("#sup-0-phone", "090-7777-8888")
    no_axe(page, "plan edit for a 民生委員")
    shot(page, "plan-supporters-minsei", "phone")
    page.click("form button[type=submit]")
    page.wait_for_selector("#sync-bar[data-pending='1']")
    context.set_offline(False)
    page.wait_for_selector("#sync-bar[data-state=idle][data-pending='0']", timeout=30000)
    with live_server.session() as session:
        stored = session.get(EvacuationPlan, plan.id)
        assert stored.supporters[0]["phone"] == "090-7777-8888"
        assert stored.route_note == plan.route_note and stored.status == plan.status
    assert not page.errors
