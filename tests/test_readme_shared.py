"""README blocks of the shared-compute section (swarms, offloading, consortia) are what the tool
prints now: each block's first line is the command, run here at the width it names."""

from __future__ import annotations

import re
import shlex

import pytest

from .conftest import REPO

README = (REPO / "README.md").read_text()
BLOCKS = re.findall(r"<!-- (shared-[\w-]+):begin -->\n```text\n\$ COLUMNS=(\d+) truecost ([^\n]*)\n(.*?)\n```\n"
                    r"<!-- \1:end -->", README, re.S)


def test_the_section_has_its_blocks() -> None:
    assert {b[0] for b in BLOCKS} == {"shared-compare", "shared-swarm", "shared-offload", "shared-validate",
                                     "shared-consortium"}


@pytest.mark.parametrize(("name", "width", "command", "printed"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_block_is_current(cli, monkeypatch, name, width, command, printed) -> None:
    monkeypatch.setenv("COLUMNS", width)
    monkeypatch.chdir(REPO)  # the commands name examples/ relative to the checkout
    r = cli(*shlex.split(command))
    assert r.code == 0, r.stderr
    assert r.stdout.rstrip("\n") == printed
