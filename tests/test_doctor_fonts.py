"""doctor names the official faces present and what stands in for the missing ones (issue 16)."""
import json

from models import diagnostics as dx
from models.documents import FONT_PRESETS
from tests.conftest import run_cli


def test_windows_font_folder_is_read_when_there_is_no_fontconfig(tmp_path, monkeypatch):
    real_which = dx.shutil.which
    monkeypatch.setattr(dx.shutil, "which", lambda name: None if name.startswith("fc-") else real_which(name))
    (tmp_path / "simfang.ttf").write_bytes(b"")
    (tmp_path / "SIMHEI.TTF").write_bytes(b"")
    assert dx.font_present("仿宋", tmp_path) is True
    assert dx.font_present("黑体", tmp_path) is True
    assert dx.font_present("方正小标宋简体", tmp_path) is False
    assert dx.font_present("仿宋", tmp_path / "nowhere") is None     # nothing to tell from


def test_every_face_of_the_preset_is_reported_with_its_substitute(monkeypatch):
    findings = dx.font_findings("official")
    texts = [f.what for f in findings if f.area == "fonts"]
    if any("fc-match" in x for x in texts):          # no fontconfig on this machine
        return
    for face in set(FONT_PRESETS["official"].values()):
        line = next(x for x in texts if face in x)
        assert "已安装" in line or "代替" in line, line
    assert any("LibreOffice" in x for x in texts)


def test_doctor_json_has_a_fonts_area(tmp_path):
    r = run_cli("doctor", "--json", env={"XUEJI_DUTY_DB": str(tmp_path / "none.db")})
    data = json.loads(r.stdout)
    assert any(f["area"] == "fonts" for f in data)
