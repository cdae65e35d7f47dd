"""README claims are commands: the compare tables in the README are what the tool prints now."""

import re

import pytest

from .conftest import REPO


@pytest.mark.snapshot
def test_readme_compare_table_is_current(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- compare-chat:begin -->\n```text\n(.*?)\n```\n<!-- compare-chat:end -->", readme, re.S)
    assert block, "README lost its compare block"
    r = cli("compare", str(REPO / "examples" / "chat-assistant.toml"))
    assert r.code == 0
    assert r.stdout.rstrip("\n") == block.group(1)


def test_readme_pinned_deployment_block_is_current(cli, monkeypatch):
    """The pinned-deployment block: its first line is the command, the rest what it prints at 80."""
    monkeypatch.setenv("COLUMNS", "80")
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- compare-pinned:begin -->\n```text\n\$ truecost (.*?)\n(.*?)\n```", readme, re.S)
    assert block, "README lost its pinned-deployment block"
    r = cli(*block.group(1).split())
    assert r.code == 0, r.stderr
    assert r.stdout.rstrip("\n") == block.group(2)
