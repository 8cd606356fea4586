from __future__ import annotations

import json

from conftest import make_row

from rs_formats import DatasetWriter
from rs_formats.cli import main


def test_verify_reports_ok_and_errors_in_one_line(tmp_path, capsys):
    with DatasetWriter(tmp_path / "ds", name="t") as w:
        w.write(make_row(0))
    assert main(["verify", str(tmp_path / "ds")]) == 0
    assert "ok:" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    manifest["format_version"] = 3
    (tmp_path / "ds" / "manifest.json").write_text(json.dumps(manifest))
    assert main(["info", str(tmp_path / "ds")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rs-formats: error: ") and "format_version 3" in err and "Traceback" not in err
