"""The report in a real browser: the system's headless Chromium, driven by Playwright.

The page of ``examples/seed.ix`` is loaded from a file:// URL; every formula
(``<math>``) and every diagram (``<svg>``) must have a layout box of non-zero
size, MathML must be laid out as mathematics (a fraction's numerator above
its denominator), the console must show no error and the page must fetch
nothing but itself. A full-page screenshot is taken and inspected: the
expected size, not blank, the report's colours on it.

The browser is the system's (``chromium`` on PATH, as Debian's package
installs it); Playwright never downloads one here. Without it the tests
skip, unless ``INDEXNET_REQUIRE_BROWSER=1`` (set by ``.ci/run``, which
installs Chromium), where they fail instead.
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from indexnet.report import write_report

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.ix"))
WIDTH = 1200

#: Flags for a headless browser that must not reach the network on its own.
BROWSER_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _missing(reason: str) -> None:
    if os.environ.get("INDEXNET_REQUIRE_BROWSER") == "1":
        pytest.fail(f"INDEXNET_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if os.path.exists("/usr/bin/chromium"):
        return "/usr/bin/chromium"
    _missing("no chromium on PATH (Debian: apt-get install chromium)")
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    try:  # deferred: playwright is optional (the 'browser' extra)
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install 'indexnet[browser]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Visit:
    """One page loaded in the browser, with what it printed and fetched."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.url = path.resolve().as_uri()
        self.page = browser.new_page(viewport={"width": WIDTH, "height": 900},
                                     device_scale_factor=1)
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(self.url, wait_until="load")

    def boxes(self, selector: str) -> list[dict[str, float]]:
        return self.page.eval_on_selector_all(selector, """els => els.map(e => {
            const r = e.getBoundingClientRect();
            return {width: r.width, height: r.height};
        })""")

    def assert_clean(self) -> None:
        assert self.errors == []
        assert [m for m in self.console if m[0] in ("error", "warning")] == []
        assert self.requests == [self.url]  # it fetched itself and nothing else


def _page_of(example: Path, folder: Path) -> Path:
    out = folder / (example.stem + ".html")
    write_report(out, example)
    return out


def test_the_seed_report_lays_out_in_chromium(browser: Any, tmp_path: Path) -> None:
    visit = Visit(browser, _page_of(ROOT / "examples" / "seed.ix", tmp_path))
    visit.assert_clean()
    maths = visit.boxes("math")
    diagrams = visit.boxes("svg.indexnet-diagram")
    assert len(maths) > 60 and len(diagrams) == 13
    for box in maths + diagrams:
        assert box["width"] > 0 and box["height"] > 0, box
    # MathML is laid out as mathematics, not as a line of text: the numerator of a
    # fraction sits above its denominator
    stacked = visit.page.eval_on_selector_all("mfrac", """els => els.map(f => {
        const [top, bottom] = [f.children[0], f.children[1]].map(c => c.getBoundingClientRect());
        return top.bottom <= bottom.top + 1;
    })""")
    assert stacked and all(stacked)
    visit.page.close()


def test_the_screenshot_is_the_report(browser: Any, tmp_path: Path) -> None:
    visit = Visit(browser, _page_of(ROOT / "examples" / "seed.ix", tmp_path))
    height = visit.page.evaluate("document.documentElement.scrollHeight")
    shot = tmp_path / "seed.png"
    visit.page.screenshot(path=str(shot), full_page=True)
    visit.page.close()
    png = inspect_png(shot)
    assert (png.width, png.height) == (WIDTH, height)
    assert 3000 < png.height < 40000  # a long page, not an empty or a runaway one
    assert png.distinct > 50  # text, formulas and diagrams: far from one colour
    if png.colours is None:  # no Pillow: the size and the spread of values must do
        return
    # the page's own colours: the margin (#e9edf2), the white sheet, the section
    # rule's blue (#2b5797) and the green border of the claims that hold (#1e7d32)
    for colour in ((0xE9, 0xED, 0xF2), (0xFF, 0xFF, 0xFF), (0x2B, 0x57, 0x97),
                   (0x1E, 0x7D, 0x32)):
        assert colour in png.colours, colour
    assert png.dark is not None and 0.004 < png.dark < 0.3  # ink on a light page


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_lays_out(browser: Any, tmp_path: Path, example: Path) -> None:
    visit = Visit(browser, _page_of(example, tmp_path))
    visit.assert_clean()
    for box in visit.boxes("math") + visit.boxes("svg.indexnet-diagram"):
        assert box["width"] > 0 and box["height"] > 0, box
    visit.page.close()


# -- reading the screenshot -------------------------------------------------------------------


@dataclass
class Png:
    """What the test reads off a screenshot.

    ``distinct`` counts the different colours (with Pillow) or byte values
    (without); ``colours`` (every RGB colour) and ``dark`` (the share of
    pixels darker than mid-grey) need Pillow and are None without it.
    """

    width: int
    height: int
    distinct: int
    colours: set[tuple[int, int, int]] | None = None
    dark: float | None = None


def inspect_png(path: Path) -> Png:
    """Read a PNG screenshot: with Pillow when it is there, else its header and data by hand."""
    try:  # deferred: Pillow comes with matplotlib (the 'plot' extra), not always
        from PIL import Image
    except ImportError:
        return _inspect_raw(path.read_bytes())
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        counts = rgb.getcolors(maxcolors=1 << 24) or []
        dark = sum(n for n, c in counts if sum(c) < 384) / (rgb.width * rgb.height)
        return Png(rgb.width, rgb.height, len(counts), {c for _, c in counts}, dark)


def _inspect_raw(data: bytes) -> Png:
    """The size from the IHDR chunk and the spread of the inflated IDAT bytes, no Pillow."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat, header = 8, b"", b""
    while at + 8 <= len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height = struct.unpack(">II", header[:8])
    return Png(width, height, len(set(zlib.decompress(idat))))


def test_the_png_reader_without_pillow_reads_the_size(tmp_path: Path) -> None:
    pil = pytest.importorskip("PIL.Image")
    image = pil.new("RGB", (7, 5), (10, 20, 30))
    image.putpixel((3, 2), (200, 100, 0))
    path = tmp_path / "tiny.png"
    image.save(path)
    raw, full = _inspect_raw(path.read_bytes()), inspect_png(path)
    assert (raw.width, raw.height) == (full.width, full.height) == (7, 5)
    assert full.distinct == 2 and full.colours == {(10, 20, 30), (200, 100, 0)}
    assert raw.distinct > 2 and raw.colours is None
