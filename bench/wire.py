"""Light on the wire: what a phone on a congested park network downloads, and when it sees the
first "我有意向" button, with the site served as `make run` serves it (gunicorn + gevent, the demo
fair), and the same page bytes served by nginx in the same run for comparison.

Debian's Chromium (Playwright, /usr/bin/chromium) runs with CDP network emulation of
400 kbit/s down and up and 400 ms latency, each first load from a cold cache (a new browser
context). For each page it prints the bytes transferred (the sum of every response's
encodedDataLength: headers and body as they came over the wire; what the site's service
worker fetches is counted too, as "(worker)", and a page request the worker answered is not
counted twice) and when the element a person waits for was painted (Element Timing: the
render time of its text, from navigation start). The emulation does not slow the worker's own
requests (it applies to the page), so they count in bytes, not in time:

1. the booth page /q/<token>, first load: bytes (target <= 30 KB) and the first "我有意向"
   button painted (target <= 1.2 s);
2. the same page visited again in the same browser: bytes (target <= 6 KB);
3. the live viewer page /live/1 (the demo session started, one vacancy presented), first
   load: the "now presenting" card painted (target <= 1.5 s).

nginx serves copies of the very bytes the site sent (each page and every file it loaded),
with gzip on and a year's cache on /static/, as a reverse proxy in front would.

    .venv/bin/python bench/wire.py [--runs 3] [--port P] [--nginx-port P]

Each figure is the median of --runs runs. Exit status: 0 targets met, 3 a target missed, 1 a
crash or a page that never showed what is measured.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (  # noqa: E402
    NGINX,
    Targets,
    _require,
    _stop,
    _wait_http,
    choose_port,
    port_options,
    site,
    wait_for_idle,
)
from bench.live_viewers import SESSION_ID, Host  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"width": 390, "height": 844}
# 400 kbit/s each way, 400 ms added to every request: a congested park network.
NETWORK = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8,
           "uploadThroughput": 400_000 / 8, "connectionType": "cellular3g"}
# Element Timing needs an `elementtiming` attribute on the element: the page is not changed for
# the benchmark, the attribute is added as each element is parsed, before it is painted.
MARK_ELEMENTS = """
(() => {
  const marks = {};
  window.__wireMarks = marks;
  const want = [["intent", ".intent-btn"], ["card", ".live-card h2, .live-card .live-state"]];
  const tag = () => {
    for (const [name, selector] of want) {
      const el = document.querySelector(selector);
      if (el && !el.hasAttribute("elementtiming")) el.setAttribute("elementtiming", name);
    }
  };
  new MutationObserver(tag).observe(document, {childList: true, subtree: true});
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (!(e.identifier in marks)) marks[e.identifier] = e.renderTime || e.loadTime;
    }
  }).observe({type: "element", buffered: true});
})();
"""


@dataclass
class Load:
    """One page load: bytes per URL (encodedDataLength) and the paint time of the element."""
    bytes_by_url: dict[str, int] = field(default_factory=dict)
    paint_ms: float | None = None

    @property
    def total(self) -> int:
        return sum(self.bytes_by_url.values())


class Phone:
    """A fresh browser context (cold cache) on the emulated network, one tab."""

    def __init__(self, browser) -> None:
        self.context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True,
                                           has_touch=True)
        self.context.add_init_script(MARK_ELEMENTS)
        self.page = self.context.new_page()
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("Network.enable")
        self.cdp.send("Network.emulateNetworkConditions", NETWORK)
        self.urls: dict[str, str] = {}
        self.finished: dict[str, int] = {}
        self.received: dict[str, int] = {}
        self.via_worker: set[str] = set()
        self.worker_requests: list = []
        self.cdp.on("Network.requestWillBeSent",
                    lambda e: self.urls.setdefault(e["requestId"], e["request"]["url"]))
        # A page request the service worker answered moved no bytes itself: what the worker
        # fetched for it (or for its own cache) is counted from the worker's requests below.
        self.cdp.on("Network.responseReceived", lambda e: self.via_worker.add(e["requestId"])
                    if e["response"].get("fromServiceWorker") else None)
        self.context.on("requestfinished", self._worker_request)
        self.cdp.on("Network.dataReceived", lambda e: self.received.__setitem__(
            e["requestId"], self.received.get(e["requestId"], 0) + e["encodedDataLength"]))
        self.cdp.on("Network.loadingFinished", lambda e: self.finished.__setitem__(
            e["requestId"], int(e["encodedDataLength"])))

    def _worker_request(self, request) -> None:
        # Only noted here: asking the browser about it inside the event handler may race the
        # context's closing.
        if getattr(request, "service_worker", None) is not None:
            self.worker_requests.append(request)

    def _worker_bytes(self) -> dict[str, int]:
        """Bytes of the service worker's own requests, as Playwright reports them from the
        browser (headers + encoded body; an answer from the HTTP cache sums to 0). The worker's
        requests are not slowed by the emulation: this counts their bytes, not their time."""
        seen: dict[str, int] = {}
        for request in self.worker_requests:
            try:
                sizes = request.sizes()
                n = max(0, sizes["responseHeadersSize"] + sizes["responseBodySize"])
            except Exception:
                continue
            seen[request.url] = seen.get(request.url, 0) + n
        return seen

    def visit(self, url: str, mark: str, settle: float = 1.5) -> Load:
        self.page.goto("about:blank")
        for seen in (self.urls, self.finished, self.received):
            seen.clear()
        self.via_worker.clear()
        self.worker_requests.clear()
        self.page.goto(url, wait_until="load", timeout=60_000)
        load = Load()
        try:
            self.page.wait_for_function(f"() => window.__wireMarks && '{mark}' in window.__wireMarks",
                                        timeout=10_000)
            load.paint_ms = self.page.evaluate(f"window.__wireMarks['{mark}']")
        except Exception:
            load.paint_ms = None
        time.sleep(settle)  # deferred scripts and anything they fetch
        for rid, u in self.urls.items():
            if u.startswith("http") and rid not in self.via_worker:
                # A stream never finishes: count what came of it so far.
                n = self.finished.get(rid, self.received.get(rid, 0))
                load.bytes_by_url[u] = load.bytes_by_url.get(u, 0) + n
        for u, n in self._worker_bytes().items():
            load.bytes_by_url[u + " (worker)"] = n
        return load

    def close(self) -> None:
        self.context.close()


@dataclass
class Figures:
    booth_first: list[Load] = field(default_factory=list)
    booth_again: list[Load] = field(default_factory=list)
    live_first: list[Load] = field(default_factory=list)


def measure(browser, base: str, booth_path: str, live_path: str, runs: int, label: str) -> Figures:
    fig = Figures()
    for run in range(runs):
        wait_for_idle(f"{label} run {run + 1}")
        phone = Phone(browser)
        try:
            fig.booth_first.append(phone.visit(base + booth_path, "intent"))
            fig.booth_again.append(phone.visit(base + booth_path, "intent"))
        finally:
            phone.close()
        phone = Phone(browser)
        try:
            fig.live_first.append(phone.visit(base + live_path, "card"))
        finally:
            phone.close()
    return fig


def median(values: list[float | None]) -> float | None:
    seen = [v for v in values if v is not None]
    return statistics.median(seen) if len(seen) == len(values) and seen else None


def kb(n: float) -> str:
    return f"{n / 1024:.1f} KB"


def ms(v: float | None) -> str:
    return "not painted" if v is None else f"{v / 1000:.2f} s"


def breakdown(load: Load, base: str) -> str:
    parts = sorted(load.bytes_by_url.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{urllib.parse.urlsplit(u).path.rsplit('/', 1)[-1] or '/'} {n / 1024:.1f}"
                     for u, n in parts if n)


# --- nginx serving the same bytes ---------------------------------------------------------------

_NGINX_CONF = """
daemon off;
master_process on;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type text/html;
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    gzip on;
    gzip_comp_level 6;
    gzip_min_length 512;
    gzip_vary on;
    gzip_types text/css application/javascript text/javascript image/svg+xml;
    server {{
        listen 127.0.0.1:{port};
        root {tmp}/www;
        location / {{
            add_header Cache-Control "private, no-cache";
            try_files $uri $uri/index.html =404;
        }}
        location /static/ {{
            add_header Cache-Control "public, max-age=31536000, immutable";
        }}
    }}
}}
"""


def mirror(base: str, loads: list[Load], into: Path) -> None:
    """Write every URL the site's pages loaded (their uncompressed bytes, as the site sends them)
    under `into`, at the URL's path; a path that is also a folder keeps its page in index.html."""
    urls = {u for load in loads for u in load.bytes_by_url if u.startswith(base) and " " not in u}
    for url in sorted(urls):
        path = urllib.parse.urlsplit(url).path
        if path.endswith("/events"):
            continue  # a live stream: nothing nginx could serve
        req = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            body = resp.read()
        target = into / path.lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        # A page at /live/1 and a file at /live/1/qr.png: the page moves into the folder.
        for parent in reversed(target.relative_to(into).parents):
            folder = into / parent
            if folder.is_file():
                page = folder.read_bytes()
                folder.unlink()
                folder.mkdir()
                (folder / "index.html").write_bytes(page)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)


@contextmanager
def nginx_mirror(root: Path, port: int | None, probe: str) -> Iterator[str]:
    _require(NGINX, "nginx")
    port = choose_port(port, "FAIRSITE_BENCH_NGINX_PORT", "--nginx-port")
    tmp = Path(tempfile.mkdtemp(prefix="fairsite-wire-"))
    tmp.chmod(0o755)
    shutil.copytree(root, tmp / "www")
    for p in [tmp / "www", *(tmp / "www").rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    conf = tmp / "nginx.conf"
    conf.write_text(_NGINX_CONF.format(tmp=tmp, port=port))
    log_path = tmp / "stderr.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp), "-e", str(tmp / "error.log")],
                                stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(base + probe, proc, 10, log_path)
        yield base
    finally:
        _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def report(label: str, fig: Figures, base: str) -> dict[str, float | None]:
    first = median([load.total for load in fig.booth_first])
    again = median([load.total for load in fig.booth_again])
    paint = median([load.paint_ms for load in fig.booth_first])
    live_bytes = median([load.total for load in fig.live_first])
    live_paint = median([load.paint_ms for load in fig.live_first])
    print(f"{label}")
    print(f"  booth page, first load       {kb(first):>10}   first 我有意向 painted {ms(paint)}")
    print(f"    ({breakdown(fig.booth_first[0], base)} KB)")
    print(f"  booth page, second visit     {kb(again):>10}")
    print(f"    ({breakdown(fig.booth_again[0], base) or 'nothing'} KB)")
    print(f"  live viewer page, first load {kb(live_bytes):>10}   first card painted {ms(live_paint)}")
    print(f"    ({breakdown(fig.live_first[0], base)} KB)")
    return {"first": first, "again": again, "paint": paint, "live": live_paint}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="loads of each page; medians (3)")
    parser.add_argument("--seconds", type=float, default=None, help="(accepted, unused: bench/run passes it)")
    port_options(parser)
    args = parser.parse_args()
    targets = Targets()
    if not Path(CHROMIUM).exists():
        raise SystemExit("bench: Chromium is not installed: apt-get install -y chromium fonts-noto-cjk")
    # Service workers' requests reported to the context (the second visit's page comes through
    # the site's worker).
    os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        mirror_root = Path(tempfile.mkdtemp(prefix="fairsite-wire-mirror-"))
        try:
            with site(port=args.port) as s:
                booths = s.query(
                    "SELECT b.token, COUNT(bv.vacancy_id) AS n FROM booths b "
                    "JOIN booth_vacancies bv ON bv.booth_id = b.id WHERE b.status = 'approved' "
                    "GROUP BY b.id ORDER BY n, b.id")
                token = booths[len(booths) // 2][0]
                booth_path, live_path = f"/q/{token}", f"/live/{SESSION_ID}"
                host = Host(s.base)
                host.post(f"/live/{SESSION_ID}/start")
                host.post(f"/live/{SESSION_ID}/present", step="next")
                print(f"network: 400 kbit/s down and up, 400 ms latency; cold cache; "
                      f"median of {args.runs} runs; booth {booth_path}")
                app = measure(browser, s.base, booth_path, live_path, args.runs, "site")
                mirror(s.base, app.booth_first + app.live_first, mirror_root)
                site_figs = report("the site (gunicorn, as make run serves it)", app, s.base)
            with nginx_mirror(mirror_root, args.nginx_port, booth_path) as nbase:
                ref = measure(browser, nbase, booth_path, live_path, args.runs, "nginx")
                report("nginx, the same bytes (gzip, static cached a year)", ref, nbase)
        finally:
            shutil.rmtree(mirror_root, ignore_errors=True)
            browser.close()

    for what, value in site_figs.items():
        targets.require(f"{what} measured", value is not None, "painted" if value is not None else "never")
    if None in site_figs.values():
        return targets.finish()
    targets.check("booth page first load <= 30 KB", site_figs["first"] <= 30 * 1024, kb(site_figs["first"]))
    targets.check("first 我有意向 painted <= 1.2 s", site_figs["paint"] <= 1200, ms(site_figs["paint"]))
    targets.check("booth page second visit <= 6 KB", site_figs["again"] <= 6 * 1024, kb(site_figs["again"]))
    targets.check("live viewer first card <= 1.5 s", site_figs["live"] <= 1500, ms(site_figs["live"]))
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
