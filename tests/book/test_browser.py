"""The built book as readers meet it: every page of ``_build/html`` opened in headless Chromium.

Needs a built book (``scripts/build_book.py``) and Debian's ``chromium`` package, driven by
Playwright; no browser is ever downloaded. Without Chromium the tests are skipped, unless
``SPHEREFACE_REQUIRE_BROWSER=1`` (CI), where that is a failure. A full-page screenshot of every
page is written to ``screenshots/`` (git-ignored) for a human to look at.

Each page is opened once; the checks read what that visit recorded:

- no console error and no failed request to the local server;
- no request leaves the machine (anything not to localhost is aborted and listed);
- math is typeset by MathJax, and no raw TeX delimiter is left in the visible text;
- every image loads, every GIF is animated and small enough to open quickly;
- results tables (tables in cell outputs) have numbers in them, no empty row and no NaN, and
  the MNIST accuracy chapter has its tables; no Markdown table is left as plain text;
- every internal link points at a built file, and at an id that exists in it;
- at 1280 px no table or figure is wider than its column outside a full-width area, and no
  figure is shrunk so far that its text drops below 9 px; at 390 px a table wider than the
  screen carries a visible cue and no inline formula is cut off;
- no progress bar, empty output box or papermill injected-parameters cell reaches a page;
- every content image has descriptive alt text and sits in a numbered, captioned figure;
- chapter 3 shows the three 2-D animations side by side, each at least 300 px wide;
- a local build shows no repository button, and the book's GIFs stay under 20 MB in all.
"""

from __future__ import annotations

import functools
import http.server
import io
import os
import re
import shutil
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from PIL import Image

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "screenshots"
REQUIRE_ENV = "SPHEREFACE_REQUIRE_BROWSER"
CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright's own download is never used
CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root in a container
    "--disable-gpu",
    # No traffic of the browser's own: the request check below is about the book.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Pages outside the table of contents that every page links to (index.html redirects).
EXTRA_PAGES = ["index.html", "search.html"]
WIDE, PHONE = 1280, 390
# Pages whose results tables must be there, with how many there are at least.
RESULTS_TABLES = {"book/_executed/02_mnist_accuracy.html": 2}
# Pages that must show animations.
ANIMATION_PAGES = ["book/_executed/03_embeddings.html", "book/_executed/00_intro.html"]
# A GIF larger than this makes its chapter slow to open; all of them together, the book.
MAX_GIF_BYTES = 3 * 1024 * 1024
MAX_ALL_GIF_BYTES = 20 * 1024 * 1024
# Figures are drawn with fonts of at least 9 pt at 100 dpi (12.5 px, sphereface_lib.book.pages);
# shown at less than this fraction of their size, their text would drop below 9 px.
MIN_FIGURE_SCALE = 0.72
MIN_ANIMATION_WIDTH = 300
# Text of a progress bar (tqdm) that leaked into a page.
PROGRESS_TEXT = re.compile(r"\d+%\|[█▉▊▋▌▍▎▏ ]*\||\d+it/s\]|\[\d\d:\d\d<")
# Raw TeX left in visible text: \( \) \[ \] $$ \begin{, or $...$ around a TeX command.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\$[^$\n]*\\[A-Za-z]+[^$\n]*\$")
# Direct HTTP from the tests to the local server, whatever proxy the environment names.
LOCAL_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def toc_pages() -> list[str]:
    """The HTML pages of every file in ``_toc.yml`` (root first, in reading order)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key, []))

    walk([toc])
    return [re.sub(r"\.(md|ipynb|rst)$", "", name) + ".html" for name in files]


PAGES = toc_pages() + EXTRA_PAGES


def require_or_skip(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (base signature)
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The base URL of ``_build/html`` served on localhost."""
    if not (HTML / "index.html").exists():
        require_or_skip(f"{HTML} does not exist: run scripts/build_book.py first")
    handler = functools.partial(QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's package) under Playwright."""
    executable = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if executable is None:
        require_or_skip(
            "Chromium is not installed: `apt-get install chromium` (Debian's package; "
            "the test never downloads a browser)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_or_skip("Playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class PageReport:
    """What one visit of a page recorded."""

    path: str
    url: str = ""
    requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    math: dict[str, Any] = field(default_factory=dict)
    raw_tex: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)
    pipe_paragraphs: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    layout: dict[str, Any] = field(default_factory=dict)
    phone: dict[str, Any] = field(default_factory=dict)


def is_local(url: str, base: str) -> bool:
    return url.startswith(base) or url.split(":", 1)[0] in ("data", "blob", "about")


def is_favicon(url: str) -> bool:
    # Chromium asks the server root for /favicon.ico on its own; that file is not the book's.
    return urlsplit(url).path == "/favicon.ico"


WAIT_FOR_MATHJAX = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
}"""

LOAD_IMAGES = """async () => {
  const images = [...document.images];
  images.forEach((image) => { image.loading = "eager"; });
  const loaded = images.map((image) => image.complete ? null : new Promise((done) => {
    image.addEventListener("load", done);
    image.addEventListener("error", done);
  }));
  const timeout = new Promise((done) => setTimeout(done, 20000));
  await Promise.race([Promise.all(loaded), timeout]);
  return images.map((image) => ({
    src: image.currentSrc || image.src,
    attribute: image.getAttribute("src"),
    alt: image.alt,
    width: image.naturalWidth,
  }));
}"""

MATH = """() => {
  const math = [...document.querySelectorAll(".math")];
  return {
    elements: math.length,
    typeset: math.filter((element) => element.querySelector("mjx-container")).length,
    errors: [...document.querySelectorAll("mjx-merror")].map(
      (element) => element.getAttribute("data-mjx-error") || element.textContent),
  };
}"""

# Visible text outside code, scripts and typeset math, one string per text node.
VISIBLE_TEXT = """() => {
  const skip = "pre, code, script, style, textarea, noscript, mjx-container, .highlight";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip) || parent.getClientRects().length === 0) continue;
    if (node.textContent.trim()) texts.push(node.textContent);
  }
  return texts;
}"""

TABLES = """() => [...document.querySelectorAll("table")].map((table) => ({
  in_output: !!table.closest(".cell_output, .output"),
  header: [...table.querySelectorAll("thead th")].map((cell) => cell.innerText.trim()),
  rows: [...table.querySelectorAll("tbody tr")].map(
    (row) => [...row.querySelectorAll("td, th")].map((cell) => cell.innerText.trim())),
}))"""

# Paragraphs that look like a Markdown pipe table that was not rendered as one.
PIPE_PARAGRAPHS = """() => [...document.querySelectorAll("p")]
  .map((paragraph) => paragraph.innerText.trim())
  .filter((text) => text.startsWith("|") && text.split("|").length > 3)"""

LINKS = """() => [...document.querySelectorAll("a[href]")].map((link) => link.href)"""

# What the reader sees of results: sizes of tables and figures against their column, output
# boxes, figures and their captions, animation rows, repository buttons.
LAYOUT = r"""() => {
  const article = document.querySelector(".bd-article");
  if (!article) return null;
  const column = article.querySelector("section") || article;
  const columnBox = column.getBoundingClientRect();
  const wide = (element) => !!element.closest(".full-width, .tag_full-width");
  const name = (element) => (element.innerText || element.getAttribute("src") || "")
    .trim().slice(0, 60).replace(/\s+/g, " ");
  const tables = [...article.querySelectorAll("table")].map((table) => {
    const box = table.getBoundingClientRect();
    return {
      name: name(table), full_width: wide(table),
      scrolls: table.scrollWidth > table.clientWidth + 1,
      right: box.right, column_right: columnBox.right, viewport: window.innerWidth,
    };
  });
  const images = [...article.querySelectorAll("img")].map((image) => {
    const box = image.getBoundingClientRect();
    const figure = image.closest("figure");
    const number = figure && figure.querySelector("figcaption .caption-number");
    return {
      src: image.getAttribute("src"), alt: image.alt || "",
      width: box.width, natural: image.naturalWidth, top: Math.round(box.top),
      right: box.right, column_right: columnBox.right, full_width: wide(image),
      viewport: window.innerWidth, number: number ? number.innerText.trim() : "",
      caption: figure && figure.querySelector("figcaption")
        ? figure.querySelector("figcaption").innerText.trim() : "",
      linked: !!image.closest("a.image-full-size, a.reference.external, a.reference.internal"),
      in_row: !!image.closest(".animation-row"),
    };
  });
  const outputs = [...article.querySelectorAll(".cell_output")].map((output) => ({
    text: output.innerText.trim().slice(0, 80),
    empty: output.innerText.trim() === ""
      && !output.querySelector("img, table, svg, mjx-container, iframe, video"),
  }));
  return {
    tables, images, outputs,
    injected: article.querySelectorAll(".tag_injected-parameters").length,
    repository_buttons: [...document.querySelectorAll(
      ".btn-source-repository-button, .article-header-buttons .fa-github")].length,
  };
}"""

# At phone width: tables wider than the screen and their cues, inline math cut off.
PHONE_LAYOUT = r"""() => {
  const article = document.querySelector(".bd-article");
  if (!article) return null;
  const right = article.getBoundingClientRect().right;
  const tables = [...article.querySelectorAll("table")]
    .filter((table) => table.scrollWidth > table.clientWidth + 1)
    .map((table) => {
      const cue = table.previousElementSibling;
      return {
        name: (table.innerText || "").trim().slice(0, 60).replace(/\s+/g, " "),
        cue: !!cue && cue.classList.contains("table-scroll-cue")
          && cue.getBoundingClientRect().height > 0,
      };
    });
  const clipped = [...article.querySelectorAll("mjx-container:not([display='true'])")]
    .filter((math) => !math.closest("table, .table-scrolls, mjx-container[display='true']"))
    .filter((math) => math.getBoundingClientRect().right > right + 1)
    .map((math) => (math.getAttribute("aria-label") || math.textContent).slice(0, 60));
  return {tables, clipped};
}"""


def visit_page(browser: Any, base: str, path: str) -> PageReport:
    """Open one page, record everything the checks need and take its screenshot."""
    if not (HTML / path).exists():
        pytest.fail(f"{path} is in the book's pages but was not built into {HTML}", pytrace=False)
    report = PageReport(path)
    context = browser.new_context(viewport={"width": WIDE, "height": 900})

    def route(route: Any) -> None:
        if is_local(route.request.url, base):
            route.continue_()
        else:
            report.external_requests.append(route.request.url)
            route.abort()

    def on_console(message: Any) -> None:
        where = message.location.get("url", "") if message.location else ""
        if message.type == "error" and not is_favicon(where):
            report.console_errors.append(f"{message.text} (at {where or 'the page'})")

    def on_response(response: Any) -> None:
        if response.status >= 400 and not is_favicon(response.url):
            report.failed_requests.append(f"{response.url}: HTTP {response.status}")

    def on_request_failed(request: Any) -> None:
        if is_local(request.url, base):
            report.failed_requests.append(f"{request.url}: {request.failure}")

    context.route("**/*", route)
    page = context.new_page()
    page.on("request", lambda request: report.requests.append(request.url))
    page.on("console", on_console)
    page.on("pageerror", lambda error: report.console_errors.append(f"uncaught: {error}"))
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
    try:
        page.goto(base + path, wait_until="load")
        if 'http-equiv="Refresh"' in (HTML / path).read_text(encoding="utf-8"):
            # index.html forwards to the first page: check where a reader lands.
            page.wait_for_url(lambda url: url != base + path)
            page.wait_for_load_state("load")
        page.evaluate(WAIT_FOR_MATHJAX)
        report.images = page.evaluate(LOAD_IMAGES)
        page.wait_for_load_state("networkidle")
        report.url = page.url
        report.math = page.evaluate(MATH)
        report.raw_tex = [
            text.strip()[:120] for text in page.evaluate(VISIBLE_TEXT) if RAW_TEX.search(text)
        ]
        report.tables = page.evaluate(TABLES)
        report.pipe_paragraphs = [text[:120] for text in page.evaluate(PIPE_PARAGRAPHS)]
        report.links = sorted(set(page.evaluate(LINKS)))
        page.wait_for_timeout(600)  # book.js marks wide tables once MathJax has typeset
        report.layout = page.evaluate(LAYOUT) or {}
        SCREENSHOTS.mkdir(exist_ok=True)
        name = path.removesuffix(".html").replace("/", "__") + ".png"
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
        page.set_viewport_size({"width": PHONE, "height": 844})
        page.wait_for_timeout(600)
        report.phone = page.evaluate(PHONE_LAYOUT) or {}
        page.screenshot(path=str(SCREENSHOTS / name.replace(".png", "_phone.png")), full_page=True)
    finally:
        context.close()
    return report


@pytest.fixture(scope="module")
def visit(site: str, browser: Any) -> Callable[[str], PageReport]:
    """``visit(path)``: the report of that page, opened once per test module."""
    reports: dict[str, PageReport] = {}

    def get(path: str) -> PageReport:
        if path not in reports:
            reports[path] = visit_page(browser, site, path)
        return reports[path]

    return get


def listing(items: list[str]) -> str:
    return "\n  " + "\n  ".join(items)


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_without_errors(visit: Callable[[str], PageReport], path: str) -> None:
    report = visit(path)
    problems = report.console_errors + report.failed_requests
    assert not problems, f"{path}: console errors or failed requests:{listing(problems)}"


@pytest.mark.parametrize("path", PAGES)
def test_no_request_leaves_the_machine(visit: Callable[[str], PageReport], path: str) -> None:
    report = visit(path)
    external = report.external_requests
    assert report.requests, f"{path}: no request recorded at all (is the recorder working?)"
    assert not external, (
        f"{path} tried to reach other machines (aborted):{listing(external)}\n"
        "Turn off the feature that loads them in _config.yml."
    )


@pytest.mark.parametrize("path", PAGES)
def test_math_is_typeset(visit: Callable[[str], PageReport], path: str) -> None:
    math = visit(path).math
    raw = visit(path).raw_tex
    assert math["typeset"] == math["elements"], (
        f"{path}: MathJax typeset {math['typeset']} of {math['elements']} math elements"
    )
    assert not math["errors"], f"{path}: MathJax errors:{listing(math['errors'])}"
    assert not raw, f"{path}: raw TeX in the visible text (math not recognised):{listing(raw)}"


def test_math_pages_have_math(visit: Callable[[str], PageReport]) -> None:
    """The chapters that are about formulas show typeset math (the check above is not vacuous)."""
    math = visit("book/_executed/01_softmax_formulations.html").math
    assert math["elements"] > 0 and math["typeset"] == math["elements"], math


@pytest.mark.parametrize("path", PAGES)
def test_images_load(visit: Callable[[str], PageReport], path: str) -> None:
    broken = [
        f"{image['attribute']} (alt: {image['alt']!r})"
        for image in visit(path).images
        if image["width"] == 0
    ]
    assert not broken, f"{path}: images that did not load:{listing(broken)}"


@pytest.mark.parametrize("path", PAGES)
def test_gifs_are_animated(visit: Callable[[str], PageReport], path: str) -> None:
    gifs = sorted({image["src"] for image in visit(path).images if image["src"].endswith(".gif")})
    if path in ANIMATION_PAGES:
        assert gifs, f"{path} shows no GIF animation"
    problems = []
    for url in gifs:
        data = LOCAL_OPENER.open(url, timeout=30).read()
        frames = Image.open(io.BytesIO(data)).n_frames
        if frames < 2:
            problems.append(f"{url}: {frames} frame, not an animation")
        if len(data) > MAX_GIF_BYTES:
            problems.append(f"{url}: {len(data) / 2**20:.1f} MiB, more than the 3 MiB allowed")
    assert not problems, f"{path}:{listing(problems)}"


@pytest.mark.parametrize("path", PAGES)
def test_results_tables_have_numbers(visit: Callable[[str], PageReport], path: str) -> None:
    report = visit(path)
    unrendered = report.pipe_paragraphs
    assert not unrendered, (
        f"{path}: Markdown tables shown as text, not rendered:{listing(unrendered)}"
    )
    results = [table for table in report.tables if table["in_output"]]
    expected = RESULTS_TABLES.get(path, 0)
    assert len(results) >= expected, (
        f"{path}: {len(results)} results tables in the cell outputs, expected at least {expected}"
    )
    problems = []
    for index, table in enumerate(results):
        title = f"table {index + 1} ({', '.join(table['header'][:3])} ...)"
        cells = [cell for row in table["rows"] for cell in row]
        if not any(re.search(r"\d", cell) for cell in cells):
            problems.append(f"{title}: no number in its {len(table['rows'])} rows")
        for row in table["rows"]:
            if not any(row):
                problems.append(f"{title}: an empty row")
            if any(re.search(r"\bnan\b", cell, re.IGNORECASE) for cell in row):
                problems.append(f"{title}: NaN in a row: {row}")
    assert not problems, f"{path}:{listing(problems)}"


class IdCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)


@functools.cache
def ids_in(file: Path) -> frozenset[str]:
    collector = IdCollector()
    collector.feed(file.read_text(encoding="utf-8", errors="replace"))
    return frozenset(collector.ids)


@pytest.mark.parametrize("path", PAGES)
def test_internal_links_resolve(visit: Callable[[str], PageReport], site: str, path: str) -> None:
    report = visit(path)
    origin = urlsplit(site).netloc
    broken = []
    for link in report.links:
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or parts.netloc != origin:
            continue  # external sites, mailto:, javascript:
        target = HTML / unquote(parts.path.lstrip("/"))
        if parts.path.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            broken.append(f"{link}: no file {target.relative_to(HTML)}")
        elif (
            parts.fragment
            and target.suffix == ".html"
            and unquote(parts.fragment) not in ids_in(target)
        ):
            broken.append(f"{link}: no id {parts.fragment!r} in {target.relative_to(HTML)}")
    assert not broken, f"{path}: links that do not resolve:{listing(broken)}"


CONTENT_PAGES = [page for page in PAGES if page not in EXTRA_PAGES]


@pytest.mark.parametrize("path", CONTENT_PAGES)
def test_tables_and_figures_fit_at_1280(visit: Callable[[str], PageReport], path: str) -> None:
    """Nothing is cut at 1280 px: wide results go into a full-width area, which fits the screen."""
    layout = visit(path).layout
    problems = []
    for table in layout["tables"]:
        if table["scrolls"]:
            problems.append(f"table '{table['name']}' is cut (scrolls) at {WIDE} px")
        limit = table["viewport"] if table["full_width"] else table["column_right"]
        if table["right"] > limit + 1:
            problems.append(f"table '{table['name']}' runs past its column")
    for image in layout["images"]:
        limit = image["viewport"] if image["full_width"] else image["column_right"]
        if image["right"] > limit + 1:
            problems.append(f"figure {image['src']} runs past its column")
        if image["natural"] and image["width"] < MIN_FIGURE_SCALE * image["natural"] - 1:
            problems.append(
                f"figure {image['src']} shown at {image['width']:.0f} of {image['natural']} px: "
                f"its text would be under 9 px (size it for the column, or make it full width)"
            )
    assert not problems, f"{path}:{listing(problems)}"


@pytest.mark.parametrize("path", CONTENT_PAGES)
def test_only_results_on_the_page(visit: Callable[[str], PageReport], path: str) -> None:
    layout = visit(path).layout
    problems = [f"empty output box after '{o['text']}'" for o in layout["outputs"] if o["empty"]]
    problems += [
        f"progress bar text: '{o['text']}'"
        for o in layout["outputs"]
        if PROGRESS_TEXT.search(o["text"])
    ]
    if layout["injected"]:
        problems.append(f"{layout['injected']} papermill injected-parameters cell(s) shown")
    assert not problems, f"{path}:{listing(problems)}"


@pytest.mark.parametrize("path", CONTENT_PAGES)
def test_figures_are_numbered_captioned_and_described(
    visit: Callable[[str], PageReport], path: str
) -> None:
    problems = []
    for image in visit(path).layout["images"]:
        alt = image["alt"]
        if len(alt) < 30 or re.search(r"\.(png|gif|jpe?g|svg)\b|_images/", alt):
            problems.append(f"{image['src']}: alt text is not a description: {alt!r}")
        if not re.match(r"Figure \d+(\.\d+)*", image["number"]):
            problems.append(
                f"{image['src']}: not in a numbered figure (caption: {image['caption'][:60]!r})"
            )
        if not image["linked"]:
            problems.append(f"{image['src']}: a click does not open the full-size image")
    assert not problems, f"{path}:{listing(problems)}"


def test_chapter_3_shows_the_2d_animations_side_by_side(
    visit: Callable[[str], PageReport],
) -> None:
    images = visit("book/_executed/03_embeddings.html").layout["images"]
    gifs = [image for image in images if image["in_row"] and image["src"].endswith(".gif")]
    assert len(gifs) >= 6, f"chapter 3: {len(gifs)} animations in rows, expected 2 rows of 3"
    first_row = [image for image in gifs if image["top"] == gifs[0]["top"]]
    assert len(first_row) == 3, f"chapter 3: the first row holds {len(first_row)} animations"
    narrow = [f"{image['src']}: {image['width']:.0f} px" for image in first_row]
    assert all(image["width"] >= MIN_ANIMATION_WIDTH for image in first_row), narrow


@pytest.mark.parametrize("path", CONTENT_PAGES)
def test_phone_width_shows_every_number(visit: Callable[[str], PageReport], path: str) -> None:
    phone = visit(path).phone
    problems = [
        f"table '{t['name']}' scrolls without a cue" for t in phone["tables"] if not t["cue"]
    ]
    problems += [f"inline math cut off at {PHONE} px: {text}" for text in phone["clipped"]]
    assert not problems, f"{path}:{listing(problems)}"


@pytest.mark.parametrize("path", CONTENT_PAGES)
def test_a_local_build_has_no_repository_button(
    visit: Callable[[str], PageReport], path: str
) -> None:
    """The repository button links only where the build was told the real repository."""
    if os.environ.get("SPHEREFACE_REPOSITORY_URL"):
        pytest.skip("this build was given a repository (SPHEREFACE_REPOSITORY_URL)")
    assert visit(path).layout["repository_buttons"] == 0, f"{path} shows a repository button"


def test_all_gifs_of_the_book_are_small_enough() -> None:
    gifs = sorted((HTML / "_images").glob("*.gif"))
    total = sum(gif.stat().st_size for gif in gifs)
    assert total <= MAX_ALL_GIF_BYTES, (
        f"the book's {len(gifs)} GIFs take {total / 2**20:.1f} MiB, more than 20 MiB"
    )
