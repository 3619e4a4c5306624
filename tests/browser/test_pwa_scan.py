"""QRコードで開く (#/scan): the QR code printed on a paper evacuation plan opens the person's page.

The code holds only an id (server/printing/qr.py); the field app looks it up in its own IndexedDB
and never asks the server, so a plan outside the user's scope is "not on this device". Typed
codes (the fallback), and real camera frames: a Chromium of its own whose fake camera plays a
YUV4MPEG2 file of the printed code, rendered by segno as the printouts render it.
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

import segno
import sqlalchemy as sa
from PIL import Image

from server.models import District, EvacuationPlan, Person
from server.printing.qr import payload

from .conftest import CHROMIUM, LAUNCH_ARGS
from .pwa_helpers import new_device, run_axe, sign_in
from .test_pwa_server_killed import supporter_for_one_area

NOT_HERE = "この端末にはこの計画がありません（担当外か、まだ同期されていません）"
NOT_OURS = "つなぐのQRコードではありません"
CAMERA_MESSAGES = ("カメラの使用が許可されていません", "この端末ではカメラを使えません", "カメラを起動できませんでした")

# Every MediaStream the page gets, so a test can see that the camera was let go (the page's own
# code is untouched; this only keeps a reference).
KEEP_STREAMS = """(() => {
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  window.__streams = [];
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await original(constraints);
    window.__streams.push(stream);
    return stream;
  };
})()"""
LIVE_TRACKS = "() => window.__streams.flatMap(s => s.getTracks()).filter(t => t.readyState === 'live').length"


def plans_here(page) -> dict[str, str]:
    """plan id → person id, for the plans this device holds."""
    return page.evaluate("""async () => {
      const { db } = await import('/app/js/sync.js');
      return Object.fromEntries((await db.all('plans')).map(p => [p.id, p.person_id]));
    }""")


def plan_elsewhere(server, here: dict[str, str]) -> uuid.UUID:
    """A plan that exists on the server but is not this device's (another district)."""
    with server.session() as session:
        ids = session.exec(sa.select(EvacuationPlan.id).order_by(EvacuationPlan.id)).scalars().all()
    return next(i for i in ids if str(i) not in here)


def plan_in_scope(server, user) -> tuple[str, str]:
    """(plan id, person id) of a plan in the user's districts (so it is synced to their device)."""
    with server.session() as session:
        row = session.exec(sa.select(EvacuationPlan.id, EvacuationPlan.person_id)
                           .join(Person, Person.id == EvacuationPlan.person_id)
                           .join(District, District.id == Person.district_id)
                           .where(District.parent_id.in_([uuid.UUID(str(d)) for d in user.district_ids]))
                           .order_by(EvacuationPlan.id).limit(1)).one()
    return str(row[0]), str(row[1])


def open_scan(page):
    page.goto("/app/#/people")
    page.click("#open-scan")  # the big button at the top of the list
    page.wait_for_selector("#scan-code")


def type_code(page, text):
    page.fill("#scan-code", text)
    page.click("#scan-open")


def expect_person(page, person_id, timeout=15000):
    page.wait_for_function("(id) => location.hash === `#/person/${id}`", arg=person_id, timeout=timeout)
    page.wait_for_selector("#plan-h")  # the person's page is drawn, with the plan section


def expect_message(page, text):
    page.wait_for_selector(f"#scan-result:has-text('{text}')")
    assert page.evaluate("() => location.hash") == "#/scan"


def test_typed_code_opens_the_person_and_says_what_is_missing(live_server, browser):
    user = supporter_for_one_area(live_server)
    context, page = new_device(browser, live_server)
    sign_in(page, user.username)
    plans = plans_here(page)
    assert len(plans) >= 2
    (plan_id, person_id), (other_plan, other_person) = sorted(plans.items())[:2]
    with live_server.session() as session:
        register_no = session.get(Person, uuid.UUID(other_person)).register_no

    open_scan(page)
    assert page.get_attribute("#scan-result", "aria-live") == "polite"
    # No camera in this browser: said plainly, and typing is right there.
    page.wait_for_selector("#scan-camera-state[data-state=failed]")
    assert any(m in page.inner_text("#scan-camera-state") for m in CAMERA_MESSAGES)
    assert page.is_visible("#scan-retry")

    printed = payload("plan", plan_id)
    assert printed == f"TSUNAGU:PLAN:{plan_id.upper()}"
    type_code(page, printed)
    expect_person(page, person_id)

    for text, expected in ((printed.lower(), person_id),               # read in any case
                           (f"  {printed}\n", person_id),              # pasted with blanks
                           (payload("person", other_person), other_person),
                           (other_plan, other_person),                 # the plan's ID printed at its foot
                           (register_no, other_person)):               # the 登録者番号
        open_scan(page)
        type_code(page, text)
        expect_person(page, expected)

    open_scan(page)
    type_code(page, payload("plan", plan_elsewhere(live_server, plans)))  # a real plan, another district
    expect_message(page, NOT_HERE)
    assert page.get_attribute("#scan-code", "aria-invalid") == "true"
    type_code(page, "こんにちは 12345")
    expect_message(page, NOT_OURS)
    type_code(page, "TSUNAGU:PLAN:not-a-uuid")
    expect_message(page, NOT_OURS)
    type_code(page, payload("person", uuid.uuid4()))
    expect_message(page, "この端末にはこの方の情報がありません")

    page.click("#lang")  # English too
    page.wait_for_selector("html[lang=en]")
    page.wait_for_selector("#scan-code")
    type_code(page, "hello")
    expect_message(page, "This is not a Tsunagu QR code")
    assert not page.errors
    context.close()


def test_a_typed_number_held_in_two_cities_on_the_device_opens_neither(live_server, browser):
    """Each municipality numbers its own register: a device whose scope spans two cities may hold
    two people with one 登録者番号. Typing it opens neither (never the wrong one); the QR code or
    the plan's ID does. (City B's person is put on the device as a sync of two cities would.)"""
    user = supporter_for_one_area(live_server)
    context, page = new_device(browser, live_server)
    sign_in(page, user.username)
    plan_id, person_id = sorted(plans_here(page).items())[0]
    with live_server.session() as session:
        register_no = session.get(Person, uuid.UUID(person_id)).register_no
    twin = page.evaluate("""async (id) => {
      const { db } = await import('/app/js/sync.js');
      const person = await db.get('people', id);
      const twin = { ...person, id: crypto.randomUUID(), municipality_code: '132985', name: '双子' };
      await db.put('people', twin);
      return twin.id;
    }""", person_id)
    open_scan(page)
    page.wait_for_selector("#scan-camera-state[data-state=failed]")
    type_code(page, register_no)
    expect_message(page, "この登録者番号の方が複数の市区町村にいます")
    type_code(page, payload("plan", plan_id))  # the plan's QR code still opens its person
    expect_person(page, person_id)
    open_scan(page)
    type_code(page, payload("person", twin))
    expect_person(page, twin)
    assert not page.errors
    context.close()


# ---------------------------------------------------------------- the camera

def write_y4m(path: Path, text: str, frames: int = 5) -> Path:
    """A YUV4MPEG2 video of the QR code of `text` (as printed: error correction M, quiet zone of 4)
    in the middle of a white 640×480 frame — what Chromium's fake camera plays."""
    png = path.with_suffix(".png")
    segno.make(text, error="m").save(png, scale=8, border=4)
    code = Image.open(png).convert("L")
    frame = Image.new("L", (640, 480), 255)
    frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    grey = bytes([128]) * (320 * 240)  # U and V at quarter size: no colour
    with path.open("wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(frames):
            out.write(b"FRAME\n" + frame.tobytes() + grey + grey)
    return path


@contextlib.contextmanager
def camera_browser(playwright_driver, y4m: Path):
    """A Chromium of its own whose camera shows the file (fake device, no permission prompt)."""
    instance = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}"])
    try:
        yield instance
    finally:
        instance.close()


def camera_device(instance, server):
    context, page = new_device(instance, server)
    context.grant_permissions(["camera"], origin=server.url)
    context.add_init_script(KEEP_STREAMS)
    return context, page


def test_camera_reads_the_printed_code_offline(live_server, playwright_driver, tmp_path):
    user = supporter_for_one_area(live_server)
    plan_id, person_id = plan_in_scope(live_server, user)
    video = write_y4m(tmp_path / "plan.y4m", payload("plan", plan_id))
    with camera_browser(playwright_driver, video) as instance:
        context, page = camera_device(instance, live_server)
        sign_in(page, user.username)
        # Offline: the screen, the worker and the decoder come from the service worker's cache.
        context.set_offline(True)
        open_scan(page)
        expect_person(page, person_id, timeout=20000)
        assert plans_here(page).get(plan_id) == person_id
        assert page.evaluate("() => window.__streams.length") >= 1
        page.wait_for_function(f"{LIVE_TRACKS} === 0")  # the camera was let go
        assert not page.errors, page.errors
        context.close()


def test_camera_says_a_foreign_code_is_not_ours_and_stops_when_left(live_server, playwright_driver, tmp_path):
    user = supporter_for_one_area(live_server)
    video = write_y4m(tmp_path / "other.y4m", "https://example.jp/menu")
    with camera_browser(playwright_driver, video) as instance:
        context, page = camera_device(instance, live_server)
        sign_in(page, user.username)
        open_scan(page)
        page.wait_for_selector("#scan-camera-state[data-state=scanning]")
        expect_message(page, NOT_OURS)  # … and it keeps looking
        assert page.is_visible("#scan-video")
        assert not run_axe(page)  # the screen with the camera on (the rest: test_pwa_accessibility.py)
        assert page.evaluate(LIVE_TRACKS) >= 1
        page.click("nav a[href='#/people']")  # leaving the screen stops the camera
        page.wait_for_selector("li.person")
        page.wait_for_function(f"{LIVE_TRACKS} === 0")
        assert not page.errors, page.errors
        context.close()
