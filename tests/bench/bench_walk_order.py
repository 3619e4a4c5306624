"""Benchmark: the walking order (歩く順) of 2,000 people on the device.

Run: ``.venv/bin/python tests/bench/bench_walk_order.py [--people 2000] [--runs 15]``

Debian's headless Chromium runs pwa/js/walk-order.js (served to the page as the app serves it)
on 2,000 houses spread over one 町丁目-sized square — the worst case: the app orders each 町丁目
on its own, and a 福祉圏域 of 2,000 is several of them. Each run orders the houses from a fresh
start point (nearest neighbour, then the bounded 2-opt). Printed: the median and the slowest run
in milliseconds. Target: median ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS  # noqa: E402
from tests.walk_cases import scattered  # noqa: E402

TARGET_MS = 200.0
ORIGIN = "http://bench.invalid"

RUN = """async ({ houses, runs }) => {
  const m = await import('/js/walk-order.js');
  const points = houses.map(([key, lon, lat]) => ({ key, lon, lat }));
  const times = [];
  let walk = null;
  for (let r = 0; r < runs; r += 1) {
    const start = { lon: 135.0 + (r % 5) * 0.0012, lat: 35.0 + (r % 3) * 0.0017 };
    const t0 = performance.now();
    walk = m.walkOrder(points, start);
    times.push(performance.now() - t0);
  }
  return { times, n: walk.length };
}"""


def main() -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    houses = scattered(args.people, seed=5)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page()

        def serve(route):
            path = route.request.url[len(ORIGIN):]
            if path.startswith("/js/") and path.endswith(".js"):
                route.fulfill(path=str(ROOT / "pwa" / path.lstrip("/")), content_type="text/javascript")
            else:
                route.fulfill(body="<!doctype html><title>bench</title>", content_type="text/html")

        page.route(f"{ORIGIN}/**", serve)
        page.goto(f"{ORIGIN}/")
        result = page.evaluate(RUN, {"houses": houses, "runs": args.runs})
        browser.close()
    times = result["times"]
    median = statistics.median(times)
    assert result["n"] == args.people
    print(f"walking order of {args.people} people in headless Chromium, {args.runs} runs: "
          f"median {median:.1f} ms, slowest {max(times):.1f} ms (target ≤ {TARGET_MS:.0f} ms)")
    return 0 if median <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
