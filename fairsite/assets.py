"""Static files light on the wire, served by the application server itself (no proxy needed on
the embedded tier): content-hashed names with a year's immutable cache, precompressed brotli
and gzip copies, served by WhiteNoise before Flask sees the request.

- The build (`python -m fairsite.assets`, also `flask assets`; `make run`, `make test` and
  `make bench` run it) writes, for each file under static/, a copy named by its content
  (css/site.css -> css/site.<hash>.css) and that copy's .br and .gz beside it, into
  build/static/ (not in git). A copy is never rewritten, and another version's copies stay a
  week, so a server started before a change keeps serving the files its pages name.
- At start-up, init_app() hashes static/ once: url_for('static', filename='css/site.css')
  yields the hashed name, which WhiteNoise serves with `public, max-age=31536000, immutable`;
  the plain name keeps working with a short cache. A file the build has not made yet is served
  from static/ as it is (right, only not compressed), and the log says to run the build.
- What is served is packed for the wire: the site's own CSS and JS without comments and spaces
  (rcssmin, rjsmin; vendored .min files as they are), and the scripts every page runs as one
  file (BUNDLES: htmx, fairsite.js, failsafe.js as js/site.js), so that a phone on a congested
  network pays one round trip and one set of headers for them. A bundle has no file in static/:
  its hashed copy is written into build/static/ at start-up when the build has not made it.
- Responses from here skip Flask, so they carry the site's fixed security headers
  (fairsite/headers.py) themselves. A Range request, or a method other than GET and HEAD,
  goes on to Flask's own static view, which answers it with the site's Chinese error pages.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import rcssmin
import rjsmin
from flask import Flask, send_file
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

log = logging.getLogger(__name__)

IMMUTABLE = "public, max-age=31536000, immutable"
HASH_LENGTH = 12
# Copies of another version are removed by the build once they are this old.
KEEP_OLD_SECONDS = 7 * 24 * 3600
ROOT = Path(__file__).resolve().parents[1]
# Served as one file, in this order (the order the pages ran them in as three deferred files).
BUNDLES = {"js/site.js": ("js/htmx-2.0.11.min.js", "js/fairsite.js", "js/failsafe.js")}


def source_folder(app: Flask | None = None) -> Path:
    return Path(app.static_folder) if app is not None else ROOT / "static"


def build_folder(app: Flask | None = None) -> Path:
    configured = app.config.get("STATIC_BUILD_FOLDER") if app is not None else ""
    return Path(configured) if configured else ROOT / "build" / "static"


def hashed_name(relative: str, content: bytes) -> str:
    """css/site.css -> css/site.0123456789ab.css (the name of its content)."""
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    folder, _, name = relative.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    hashed = f"{stem}.{digest}.{ext}" if dot and stem else f"{name}.{digest}"
    return f"{folder}/{hashed}" if folder else hashed


def _sources(static: Path) -> Iterator[tuple[str, Path]]:
    """(relative name, path) of every file under static/, hidden files and compressed
    variants left out."""
    for path in sorted(static.rglob("*")):
        relative = path.relative_to(static).as_posix()
        if not path.is_file() or any(part.startswith(".") for part in relative.split("/")):
            continue
        if path.suffix in (".gz", ".br"):
            continue
        yield relative, path


def packed(relative: str, content: bytes) -> bytes:
    """The bytes served for a static file: the site's own CSS and JS minified, anything else
    (vendored .min files included) as it is."""
    if relative.endswith((".min.js", ".min.css")):
        return content
    if relative.endswith(".css"):
        return rcssmin.cssmin(content)
    if relative.endswith(".js"):
        return rjsmin.jsmin(content)
    return content


def _contents(static: Path) -> Iterator[tuple[str, bytes]]:
    """(relative name, bytes served) of every static file, then of every bundle whose parts
    are all there."""
    for relative, path in _sources(static):
        yield relative, packed(relative, path.read_bytes())
    for name, parts in BUNDLES.items():
        if all((static / part).is_file() for part in parts):
            # ";" between parts: a part ending in an expression must not call the next one.
            yield name, b";\n".join(packed(part, (static / part).read_bytes()) for part in parts)


def manifest(static: Path) -> dict[str, str]:
    """Each static file's relative name -> its hashed name (the name of the bytes served),
    read once at start-up."""
    return {relative: hashed_name(relative, content) for relative, content in _contents(static)}


def _write_atomically(target: Path, data: bytes) -> None:
    """Several servers and test runs share the tree: a reader sees a whole file or none."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build(static: Path | None = None, out: Path | None = None, *, say=print) -> list[Path]:
    """Write the hashed copies and their .br/.gz into `out`; returns the files written (none
    when everything was up to date). Copies of other versions older than a week are removed."""
    static = static or source_folder()
    out = out or build_folder()
    compressor = Compressor(quiet=True)
    written: list[Path] = []
    current: set[Path] = set()
    for relative, content in _contents(static):
        target = out / hashed_name(relative, content)
        current.update((target, Path(f"{target}.br"), Path(f"{target}.gz")))
        # A bundle's copy may have been written by a server's start-up, uncompressed.
        if target.exists() and (relative not in BUNDLES or Path(f"{target}.br").exists()):
            continue
        if compressor.should_compress(target.name):
            # Brotli at its best quality and gzip at 9, done once here rather than per request.
            for suffix, packed in ((".br", compressor.compress_brotli(content)),
                                   (".gz", compressor.compress_gzip(content))):
                if len(packed) <= 0.95 * len(content):
                    _write_atomically(Path(f"{target}{suffix}"), packed)
                    written.append(Path(f"{target}{suffix}"))
        # The copy last: its presence says its compressed variants are done.
        _write_atomically(target, content)
        written.append(target)
        say(f"static: {relative} -> {target.relative_to(out).as_posix()} "
            f"({len(content):,} bytes"
            + "".join(f", {s[1:]} {Path(f'{target}{s}').stat().st_size:,}"
                      for s in (".br", ".gz") if Path(f"{target}{s}").exists()) + ")")
    if out.is_dir():
        cutoff = time.time() - KEEP_OLD_SECONDS
        for old in out.rglob("*"):
            if old.is_file() and old not in current and old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
    return written


class StaticFiles(WhiteNoise):
    """WhiteNoise with the site's headers on every answer, hashed names mapped to their files,
    and what it does not answer well (Range, other methods) left to Flask."""

    def __init__(self, application, *, fixed_headers: dict[str, str], hsts: str,
                 plain_names: dict[str, str], max_age: int) -> None:
        super().__init__(application, max_age=max_age, allow_all_origins=False,
                         add_headers_function=self._cache_control)
        self.fixed_headers = fixed_headers
        self.hsts = hsts
        self.plain_names = plain_names  # hashed URL -> plain URL, for the hand-over to Flask
        self.hashed_urls: set[str] = set(plain_names)

    def _cache_control(self, headers, path: str, url: str) -> None:
        if url in self.hashed_urls:
            headers["Cache-Control"] = IMMUTABLE

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        static_file = self.files.get(path)
        if static_file is None:
            return self.application(environ, start_response)
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or "HTTP_RANGE" in environ:
            environ = {**environ, "PATH_INFO": self.plain_names.get(path, path)}
            return self.application(environ, start_response)
        return self.serve(static_file, environ, start_response)

    def serve(self, static_file, environ, start_response):
        def start(status, headers, exc_info=None):
            names = {name.lower() for name, _ in headers}
            extra = [(k, v) for k, v in self.fixed_headers.items() if k.lower() not in names]
            if self.hsts and environ.get("wsgi.url_scheme") == "https":
                extra.append(("Strict-Transport-Security", self.hsts))
            return start_response(status, list(headers) + extra, exc_info)

        return super().serve(static_file, environ, start)


def init_app(app: Flask, *, fixed_headers: dict[str, str], hsts: str = "") -> None:
    """Hash static/ once, make url_for('static') name the hashed file, and put WhiteNoise in
    front of the app. `fixed_headers`: the headers every response carries; `hsts`: the value of
    Strict-Transport-Security, sent over HTTPS only."""
    static = source_folder(app)
    built = build_folder(app)
    contents = dict(_contents(static)) if static.is_dir() else {}
    names = {relative: hashed_name(relative, content) for relative, content in contents.items()}
    prefix = (app.static_url_path or "/static").rstrip("/") + "/"
    files = StaticFiles(
        app.wsgi_app, fixed_headers=fixed_headers, hsts=hsts, max_age=int(app.config["STATIC_MAX_AGE"]),
        plain_names={prefix + hashed: prefix + plain for plain, hashed in names.items()})
    missing = []
    copies: dict[str, Path] = {}
    for plain, hashed in names.items():
        copy = built / hashed
        if not copy.is_file() and plain in BUNDLES:
            _write_atomically(copy, contents[plain])  # nothing in static/ to serve it from
            missing.append(plain)
        elif not copy.is_file():
            missing.append(plain)
            copy = static / plain
        # Both names are served from the hashed copy (its .br and .gz sit beside it).
        copies[plain] = copy
        files.add_file_to_dictionary(prefix + hashed, str(copy))
        files.add_file_to_dictionary(prefix + plain, str(copy))
    if missing and not app.testing:
        log.warning("static files not precompressed (%s): run `python -m fairsite.assets`",
                    ", ".join(missing))
    app.extensions["fairsite.static_names"] = names
    app.wsgi_app = files

    def static_file(filename: str):
        """Flask's static view, for what StaticFiles hands over (a Range request): the very
        bytes WhiteNoise serves under that name (minified, or a bundle), not static/'s."""
        copy = copies.get(filename)
        if copy is None:
            return app.send_static_file(filename)
        return send_file(copy, conditional=True, max_age=app.get_send_file_max_age(filename))

    app.view_functions["static"] = static_file

    @app.url_defaults
    def hashed_static_name(endpoint: str, values: dict) -> None:
        if endpoint == "static" and values.get("filename") in names:
            values["filename"] = names[values["filename"]]

    @app.cli.command("assets")
    def assets_command() -> None:
        """Write the hashed, precompressed copies of static/ into build/static/."""
        written = build(static, built)
        print(f"static: {len(written)} file(s) written into {built}" if written
              else f"static: {built} is up to date")


if __name__ == "__main__":
    done = build()
    print(f"static: {len(done)} file(s) written into {build_folder()}" if done
          else f"static: {build_folder()} is up to date")
    sys.exit(0)
