"""Organisers' campaigns: the list and the form to add one (admins), each campaign's return
as a tablet-readable page and as an .xlsx laid out as a bureau's return (admins and viewers)."""
from __future__ import annotations

from flask import Blueprint, flash, send_file, url_for
from flask_babel import gettext as _

from fairsite.accounts.models import ADMIN, VIEWER
from fairsite.accounts.service import organiser_roles
from fairsite.audit import service as audit
from fairsite.campaigns import service
from fairsite.campaigns.forms import CampaignForm
from fairsite.campaigns.models import Campaign
from fairsite.extensions import db
from fairsite.sql import write_transaction
from fairsite.web import after_write, download_name, render

bp = Blueprint("manage_campaigns", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _index(form: CampaignForm, status: int = 200):
    return render("campaigns/index.html", None, status, campaigns=service.all_campaigns(), form=form)


@bp.get("/manage/campaigns")
@organiser_roles(ADMIN, VIEWER)
def index():
    return _index(CampaignForm(formdata=None))


@bp.post("/manage/campaigns")
@organiser_roles(ADMIN)
def create():
    form = CampaignForm()
    if not form.validate():
        return _index(form, 422)
    if service.name_taken(form.name.data):
        form.name.errors = [_("已经有同名的活动了，请换一个名称。")]
        return _index(form, 422)
    with write_transaction():
        campaign = Campaign(name=form.name.data, year=form.year.data, starts_on=form.starts_on.data,
                            ends_on=form.ends_on.data, description=form.description.data or "")
        db.session.add(campaign)
        db.session.flush()
        audit.record("campaign.create", "campaign", campaign.id, campaign.name[:60])
    flash(_("活动已添加。在招聘会和直播的编辑页选择它，它们就计入这个活动的统计。"), "ok")
    return after_write(url_for("manage_campaigns.report", campaign_id=campaign.id))


@bp.get("/manage/campaigns/<int:campaign_id>")
@organiser_roles(ADMIN, VIEWER)
def report(campaign_id: int):
    campaign = service.get_campaign(campaign_id)
    return render("campaigns/report.html", campaign=campaign, report=service.build(campaign),
                  columns=service.COLUMNS)


@bp.get("/manage/campaigns/<int:campaign_id>/report.xlsx")
@organiser_roles(ADMIN, VIEWER)
def report_xlsx(campaign_id: int):
    campaign = service.get_campaign(campaign_id)
    data = service.to_xlsx(service.build(campaign))
    return send_file(data, mimetype=XLSX, as_attachment=True, max_age=0,
                     download_name=download_name(f"{campaign.name}-活动统计表", "xlsx"))
