"""The import's forms: the upload, and the confirm that carries what the preview showed."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField

from fairsite.forms import Form


class UploadForm(Form):
    file = FileField(_l("填写好的表格（.xlsx）"), validators=[FileRequired(_l("请选择要上传的 .xlsx 文件"))])


class ConfirmForm(Form):
    """Posted from the preview: the fair and zone it previewed, and its digest (the import
    writes only if its own walk comes to the same)."""

    fair_id = HiddenField()
    zone = HiddenField()
    digest = HiddenField()
