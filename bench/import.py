"""The spreadsheet import at the reference fair's size and at ten times it.

Builds the demo fair (fairsite/demo.py: 120 employers, 319 vacancies) in a scratch SQLite
database, writes them into the import template's layout (the 10x file: each employer ten times
over, with its own credit code and phone), then imports each file into a fresh database holding
only an organiser and a fair, through the organiser's pages as a browser would: upload, the
preview with the fair chosen, confirm (employers, vacancies, logins, booths and placements, one
transaction). Prints the time of each step and the peak memory the import allocated (Python's
tracemalloc, over upload + preview + confirm, in a run of its own after the timed ones), then
checks: the 1x import within 10 s; memory flat (the 10x peak within 2x of the 1x peak); what
was imported adds up (employers, vacancies, posts), and importing the same file again changes
nothing.

    .venv/bin/python bench/import.py [--factor 10]

No server, nginx or wrk: the import is one request's work, measured in-process.
Exit status: 0 targets met, 3 a target missed, 1 a check failed."""
from __future__ import annotations

import argparse
import io
import re
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Targets, wait_for_idle  # noqa: E402

TIME_TARGET = 10.0
FLAT = 2.0


def _app(path: Path):
    from fairsite.app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "DATABASE_URL": f"sqlite:///{path}", "RATELIMIT_ENABLED": False})
    app.instance_path = str(path.parent / "instance")  # uploads wait in the scratch folder
    return app


def _migrated(path: Path):
    from flask_migrate import upgrade

    app = _app(path)
    with app.app_context():
        upgrade(revision="heads")
    return app


def reference_rows(tmp: Path) -> tuple[list[list], list[list]]:
    """The demo fair's employers and vacancies, as rows of the template's two sheets."""
    from fairsite.demo import build_demo
    from fairsite.employers.models import Employer
    from fairsite.extensions import db
    from fairsite.vacancies.models import CATEGORIES, EDUCATION, Vacancy

    app = _migrated(tmp / "source.sqlite")
    with app.app_context():
        build_demo()
        employers = db.session.query(Employer).order_by(Employer.id).all()
        codes = {e.id: e.credit_code for e in employers}
        e_rows = [[e.name, e.credit_code, e.industry, e.contact_name, e.contact_phone] for e in employers]
        v_rows = []
        for v in db.session.query(Vacancy).order_by(Vacancy.id):
            benefits = "、".join(w for w, on in (("包吃住", v.meals_lodging), ("五险一金", v.social_insurance)) if on)
            v_rows.append([codes[v.employer_id], v.title, str(CATEGORIES[v.category]), v.headcount, v.pay_min,
                           v.pay_max, benefits, v.age_min, v.age_max, str(EDUCATION[v.education]), v.location,
                           v.shifts])
        db.engine.dispose()
    return e_rows, v_rows


def workbook(e_rows: list[list], v_rows: list[list], factor: int) -> bytes:
    """The template's layout holding `factor` copies of every employer and its vacancies."""
    from openpyxl import Workbook

    from fairsite.employers.credit_code import CHARSET, make_credit_code
    from fairsite.imports.sheets import EMPLOYER_COLUMNS, VACANCY_COLUMNS

    wb = Workbook(write_only=True)
    employers, vacancies = wb.create_sheet("企业"), wb.create_sheet("岗位")
    employers.append([c.header for c in EMPLOYER_COLUMNS])
    vacancies.append([c.header for c in VACANCY_COLUMNS])
    for copy in range(factor):
        new_code = {}
        for i, (name, code, industry, contact, _phone) in enumerate(e_rows):
            if copy:
                body = code[:8] + CHARSET[copy % len(CHARSET)] + CHARSET[i // len(CHARSET) % len(CHARSET)] \
                    + CHARSET[i % len(CHARSET)] + code[11:17]
                new_code[code] = make_credit_code(body)
                name = f"{name}（{copy}）"
            else:
                new_code[code] = code
            employers.append([name, new_code[code], industry, contact, f"139{copy:02d}{i:06d}"])
        for row in v_rows:
            vacancies.append([new_code[row[0]], *row[1:]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _digest(html: str) -> str:
    found = re.search(r'name="digest"[^>]*value="([0-9a-f]+)"', html)
    return found[1] if found else ""


def import_once(tmp: Path, name: str, body: bytes, measure_memory: bool) -> dict:
    """Import `body` into a fresh database through the organiser's pages; the figures."""
    from fairsite.accounts.models import ORGANISER, User
    from fairsite.booths.models import Booth
    from fairsite.employers.models import Employer
    from fairsite.extensions import db
    from fairsite.fairs.models import Fair
    from fairsite.vacancies.models import Vacancy

    app = _migrated(tmp / f"{name}.sqlite")
    with app.app_context():
        from datetime import date

        db.session.add(Fair(title="导入测试招聘会", kind="park", venue="人民公园", date=date(2026, 3, 3),
                            status="open", campaign="春风行动"))
        organiser = User(login="bench@organiser.cn", name="bench", role=ORGANISER)
        organiser.set_password("bench-password")
        db.session.add(organiser)
        db.session.commit()
        fair_id = db.session.query(Fair.id).scalar()
        client = app.test_client()
        assert client.post("/login", data={"login": "bench@organiser.cn",
                                           "password": "bench-password"}).status_code == 303
        wait_for_idle(f"import {name}")
        if measure_memory:
            tracemalloc.start()
        t0 = time.perf_counter()
        response = client.post("/manage/imports", data={"file": (io.BytesIO(body), f"{name}.xlsx")},
                               content_type="multipart/form-data")
        if response.status_code != 303:
            raise SystemExit(f"bench: the upload answered {response.status_code}: {response.get_data(as_text=True)[:2000]}")
        location = response.headers["Location"]
        t1 = time.perf_counter()
        page = client.get(f"{location}?fair={fair_id}")
        t2 = time.perf_counter()
        done = client.post(location + "/confirm", data={"fair_id": fair_id, "zone": "A",
                                                        "digest": _digest(page.get_data(as_text=True))})
        t3 = time.perf_counter()
        peak = tracemalloc.get_traced_memory()[1] if measure_memory else 0
        if measure_memory:
            tracemalloc.stop()
        again = client.post("/manage/imports", data={"file": (io.BytesIO(body), f"{name}.xlsx")},
                            content_type="multipart/form-data")
        second = client.get(f"{again.headers['Location']}?fair={fair_id}").get_data(as_text=True)
        client.post(again.headers["Location"] + "/cancel")  # the upload goes
        figures = {
            "upload": t1 - t0, "preview": t2 - t1, "confirm": t3 - t2, "peak": peak,
            "confirmed": done.status_code == 303,
            "employers": db.session.query(Employer).count(),
            "vacancies": db.session.query(Vacancy).count(),
            "posts": sum(b.posts for b in db.session.query(Booth)),
            "unchanged_again": "没有需要导入的" in second,
        }
        db.session.remove()
        db.engine.dispose()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=int, default=10, help="the larger file's multiple of the rows")
    parser.add_argument("--seconds", type=float, default=None, help="(ignored: taken by every bench script)")
    parser.add_argument("--port", type=int, default=None, help="(ignored)")
    parser.add_argument("--nginx-port", type=int, default=None, help="(ignored)")
    args = parser.parse_args()
    targets = Targets()
    with tempfile.TemporaryDirectory(prefix="fairsite-bench-import-") as name:
        tmp = Path(name)
        e_rows, v_rows = reference_rows(tmp)
        files = {1: workbook(e_rows, v_rows, 1), args.factor: workbook(e_rows, v_rows, args.factor)}
        posts = sum(row[3] for row in v_rows)
        timed, peaks = {}, {}
        for factor, body in files.items():
            f = import_once(tmp, f"time-{factor}x", body, measure_memory=False)
            timed[factor] = f
            rows = factor * (len(e_rows) + len(v_rows))
            print(f"import {factor:>2}x ({factor * len(e_rows):,} employers, {factor * len(v_rows):,} vacancies, "
                  f"{len(body) / 1024:,.0f} KB): upload {f['upload']:.2f} s, preview {f['preview']:.2f} s, "
                  f"confirm {f['confirm']:.2f} s; total {f['upload'] + f['preview'] + f['confirm']:.2f} s "
                  f"({rows / (f['preview'] + f['confirm']):,.0f} rows/s over preview + confirm)", flush=True)
            targets.require(f"{factor}x: the import was confirmed", f["confirmed"], str(f["confirmed"]))
            targets.require(f"{factor}x: employers, vacancies and posts add up",
                            (f["employers"], f["vacancies"], f["posts"]) ==
                            (factor * len(e_rows), factor * len(v_rows), factor * posts),
                            f"{f['employers']:,} / {f['vacancies']:,} / {f['posts']:,}")
            targets.require(f"{factor}x: the same file again changes nothing", f["unchanged_again"],
                            str(f["unchanged_again"]))
        for factor, body in files.items():
            peaks[factor] = import_once(tmp, f"memory-{factor}x", body, measure_memory=True)["peak"]
            print(f"import {factor:>2}x: peak memory allocated {peaks[factor] / 2**20:,.1f} MB "
                  "(upload + preview + confirm, tracemalloc)", flush=True)
    one = timed[1]
    total = one["upload"] + one["preview"] + one["confirm"]
    targets.check(f"reference fair imported (preview + confirm) <= {TIME_TARGET:g} s", total <= TIME_TARGET,
                  f"{total:.2f} s")
    ratio = peaks[args.factor] / peaks[1] if peaks[1] else float("inf")
    targets.check(f"memory flat: peak at {args.factor}x <= {FLAT:g}x the peak at 1x", ratio <= FLAT,
                  f"{peaks[1] / 2**20:.1f} MB -> {peaks[args.factor] / 2**20:.1f} MB ({ratio:.2f}x)")
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
