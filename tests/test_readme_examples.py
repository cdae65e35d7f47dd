"""README blocks of the estimate and custom-model sections are what the tool prints now: each
block's first line is the command (``$ COLUMNS=N truecost ...``), the rest its stdout at that width."""

from __future__ import annotations

import json
import re
import shlex
from datetime import date

from .conftest import REPO
from .unit.test_hub import REAL_CONFIGS

README = (REPO / "README.md").read_text()


def _block(name: str) -> tuple[str, list[str], str]:
    m = re.search(rf"<!-- {name}:begin -->\n```text\n\$ COLUMNS=(\d+) truecost ([^\n]*)\n(.*?)\n```\n"
                  rf"<!-- {name}:end -->", README, re.S)
    assert m, f"README lost its {name} block"
    return m.group(1), shlex.split(m.group(2)), m.group(3)


def test_moe_estimate_block_is_current(cli, monkeypatch) -> None:
    width, args, printed = _block("estimate-moe")
    monkeypatch.setenv("COLUMNS", width)
    r = cli(*args)
    assert r.code == 0, r.stderr
    assert r.stdout.rstrip("\n") == printed


def test_config_json_block_is_current(cli, monkeypatch, tmp_path) -> None:
    """The command reads ``Qwen3-32B/config.json`` (the published config of the tests' loopback
    Hub) relative to where it runs; its source line carries the day the file was read."""
    width, args, printed = _block("models-config")
    (tmp_path / "Qwen3-32B").mkdir()
    (tmp_path / "Qwen3-32B" / "config.json").write_text(json.dumps(REAL_CONFIGS["Qwen/Qwen3-32B"][1]))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", width)
    r = cli(*args)
    assert r.code == 0, r.stderr
    expected = re.sub(r"\(\d{4}-\d{2}-\d{2}\)$", f"({date.today().isoformat()})", printed)
    assert r.stdout.rstrip("\n") == expected
