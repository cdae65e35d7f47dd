"""README claims are commands: the compare table in the README is what the tool prints now."""

import re

import pytest

from .conftest import REPO


@pytest.mark.snapshot
def test_readme_compare_table_is_current(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "150")
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- compare-chat:begin -->\n```text\n(.*?)\n```\n<!-- compare-chat:end -->", readme, re.S)
    assert block, "README lost its compare block"
    r = cli("compare", str(REPO / "examples" / "chat-assistant.toml"))
    assert r.code == 0
    assert r.stdout.rstrip("\n") == block.group(1)
