"""QR codes: PNG downloads for a booth and a fair, absolute URLs, computed once per process."""
from __future__ import annotations

import pytest

from fairsite.qr import service
from fairsite.urls import normalise_site_address


def test_booth_png_is_a_png_of_the_booth_link(client, make_booth, monkeypatch):
    booth = make_booth()
    made = []
    real = service._make
    monkeypatch.setattr(service, "_make", lambda data, **kw: made.append(data) or real(data, **kw))
    service.qr_png.cache_clear()
    response = client.get(f"/qr/booth/{booth.token}.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG")
    assert made == [f"http://fair.test/q/{booth.token}"]
    # The same image is never computed twice for the same token.
    assert client.get(f"/qr/booth/{booth.token}.png").data == response.data
    assert len(made) == 1


def test_booth_png_uses_site_address_when_set(app, client, make_booth, monkeypatch):
    app.config["SITE_ADDRESS"] = normalise_site_address("jobs.example.gov.cn/")
    booth = make_booth()
    made = []
    real = service._make
    monkeypatch.setattr(service, "_make", lambda data, **kw: made.append(data) or real(data, **kw))
    service.qr_png.cache_clear()
    assert client.get(f"/qr/booth/{booth.token}.png").status_code == 200
    assert made == [f"https://jobs.example.gov.cn/q/{booth.token}"]


@pytest.mark.parametrize("status", ["applied", "rejected"])
def test_booth_png_of_unapproved_booth_is_404(client, make_booth, status):
    booth = make_booth(status=status)
    assert client.get(f"/qr/booth/{booth.token}.png").status_code == 404


def test_booth_png_unknown_token_and_database_id_are_404(client, make_booth):
    booth = make_booth()
    assert client.get("/qr/booth/nope.png").status_code == 404
    assert client.get(f"/qr/booth/{booth.id}.png").status_code == 404


def test_fair_png_is_the_entrance_check_in(client, make_fair, monkeypatch):
    fair = make_fair()
    made = []
    real = service._make
    monkeypatch.setattr(service, "_make", lambda data, **kw: made.append(data) or real(data, **kw))
    service.qr_png.cache_clear()
    response = client.get(f"/qr/fair/{fair.id}.png")
    assert response.status_code == 200 and response.data.startswith(b"\x89PNG")
    assert made == [f"http://fair.test/fairs/{fair.id}/checkin"]


def test_fair_png_of_draft_fair_is_404(client, make_fair):
    assert client.get(f"/qr/fair/{make_fair(status='draft').id}.png").status_code == 404


def test_qr_code_svg_helper_is_inline_svg(app):
    svg = service.qr_svg("http://fair.test/q/abc")
    assert svg.startswith("<svg") and 'aria-label="二维码"' in svg
