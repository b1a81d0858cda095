"""Organisers approve or reject booth applications and number them, unique per fair."""
import pytest
from sqlalchemy.exc import IntegrityError

from fairsite.booths.manage import normalise_number
from fairsite.booths.models import Booth
from fairsite.extensions import db


def test_manage_index_shows_pending_applications_first(client, login_as, make_booth, make_fair):
    fair = make_fair()
    make_booth(fair=fair, status="applied", employer=None)
    make_booth(fair=fair, number="A-01")
    login_as("organiser")
    page = client.get(f"/manage/fairs/{fair.id}/booths").get_data(as_text=True)
    assert "待审核" in page and "通过" in page
    assert "A-01" not in page  # the default view is what needs deciding


def test_manage_approve_numbers_automatically_in_zone(client, hx, login_as, make_fair, make_booth):
    fair = make_fair()
    make_booth(fair=fair, number="B-01")
    a = make_booth(fair=fair, status="applied")
    b = make_booth(fair=fair, status="applied")
    login_as("organiser")
    response = hx.post(f"/manage/booths/{a.id}/approve", data={"zone": "B"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and f'id="manage-booth-{a.id}"' in body and "B-02" in body
    hx.post(f"/manage/booths/{b.id}/approve", data={"zone": "B"})
    db.session.refresh(a)
    db.session.refresh(b)
    assert (a.status, a.number, b.number) == ("approved", "B-02", "B-03")
    assert a.decided_at is not None


def test_manage_approve_typed_number_is_normalised(client, login_as, make_booth):
    booth = make_booth(status="applied")
    login_as("organiser")
    response = client.post(f"/manage/booths/{booth.id}/approve", data={"number": "ｃ１２"})
    assert response.status_code == 303
    db.session.refresh(booth)
    assert booth.number == "C-12"


@pytest.mark.parametrize("raw,expected", [("a-1", "A-01"), ("A12", "A-12"), ("Ａ－０７", "A-07"),
                                          ("AB-101", "AB-101"), ("12", None), ("A-0", None), ("展位", None)])
def test_normalise_number(raw, expected):
    assert normalise_number(raw) == expected


def test_manage_approve_duplicate_number_has_clear_chinese_error(client, hx, login_as, make_fair, make_booth, make_employer):
    fair = make_fair()
    holder = make_employer(name="瑞丰电子科技有限公司")
    make_booth(fair=fair, employer=holder, number="A-05")
    booth = make_booth(fair=fair, status="applied")
    login_as("organiser")
    response = hx.post(f"/manage/booths/{booth.id}/approve", data={"number": "A-05"})
    body = response.get_data(as_text=True)
    assert "展位号 A-05 已分配给“瑞丰电子科技有限公司”" in body
    db.session.refresh(booth)
    assert booth.status == "applied" and booth.number is None
    # Without htmx: the list page with the error, status 422.
    response = client.post(f"/manage/booths/{booth.id}/approve", data={"number": "a5"})
    assert response.status_code == 422 and "已分配给" in response.get_data(as_text=True)


def test_manage_approve_bad_number_format(client, hx, login_as, make_booth):
    booth = make_booth(status="applied")
    login_as("organiser")
    body = hx.post(f"/manage/booths/{booth.id}/approve", data={"number": "东门"}).get_data(as_text=True)
    assert "展位号格式应为" in body


def test_booth_number_unique_per_fair_in_database(app, make_fair, make_booth):
    fair = make_fair()
    make_booth(fair=fair, number="A-01")
    other = make_booth(fair=fair, status="applied")
    other.status, other.number = "approved", "A-01"
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # The same number at another fair is fine.
    make_booth(number="A-01")


def test_manage_approve_renumbers_an_approved_booth(client, login_as, make_booth):
    booth = make_booth(number="A-01")
    login_as("organiser")
    client.post(f"/manage/booths/{booth.id}/approve", data={"number": "D-3"})
    db.session.refresh(booth)
    assert booth.number == "D-03"


def test_manage_reject_needs_a_reason_and_frees_the_number(client, hx, login_as, make_fair, make_booth):
    fair = make_fair()
    booth = make_booth(fair=fair, number="A-01")
    login_as("organiser")
    body = hx.post(f"/manage/booths/{booth.id}/reject", data={"reason": ""}).get_data(as_text=True)
    assert "请填写不通过的原因" in body
    body = hx.post(f"/manage/booths/{booth.id}/reject", data={"reason": "岗位信息不完整"}).get_data(as_text=True)
    assert "未通过" in body and "岗位信息不完整" in body
    db.session.refresh(booth)
    assert booth.status == "rejected" and booth.number is None and booth.reject_reason == "岗位信息不完整"
    # A-01 is free again for the next one.
    nxt = make_booth(fair=fair, status="applied")
    hx.post(f"/manage/booths/{nxt.id}/approve", data={"zone": "A"})
    db.session.refresh(nxt)
    assert nxt.number == "A-01"


def test_manage_approve_changes_booth_version_and_fair_headline(client, login_as, make_fair, make_booth):
    fair = make_fair()
    booth = make_booth(fair=fair, status="applied")
    version = booth.version
    login_as("organiser")
    assert "0 家企业" in client.get(f"/fairs/{fair.id}").get_data(as_text=True)
    client.post(f"/manage/booths/{booth.id}/approve", data={"zone": "A"})
    db.session.refresh(booth)
    assert booth.version > version
    assert "1 家企业" in client.get(f"/fairs/{fair.id}").get_data(as_text=True)


def test_manage_approve_all_numbers_in_order_of_application(client, login_as, make_fair, make_booth):
    fair = make_fair()
    booths = [make_booth(fair=fair, status="applied") for _ in range(3)]
    login_as("organiser")
    response = client.post(f"/manage/fairs/{fair.id}/booths/approve-all", data={"zone": "C"})
    assert response.status_code == 303
    numbers = [db.session.get(Booth, b.id).number for b in booths]
    assert numbers == ["C-01", "C-02", "C-03"]


def test_manage_posters_has_one_sheet_per_approved_booth_and_the_entrance(client, login_as, make_fair, make_booth):
    fair = make_fair()
    approved = [make_booth(fair=fair) for _ in range(3)]
    make_booth(fair=fair, status="applied")
    login_as("organiser")
    page = client.get(f"/manage/fairs/{fair.id}/posters").get_data(as_text=True)
    assert page.count('class="poster-sheet') == 4
    for booth in approved:
        assert f'id="poster-{booth.id}"' in page and booth.number in page
    assert f'id="poster-fair-{fair.id}"' in page and "<svg" in page
