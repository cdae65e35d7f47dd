"""The README's Errors block is what the tool prints now: each ``$ truecost ...`` line, run, ends
with exactly the ``error:`` line under it on stderr (one line, no traceback) and a non-zero exit
(1 for a user error, 2 for a command line typer cannot parse)."""

from __future__ import annotations

import re
import shlex

import pytest

from .conftest import REPO

README = (REPO / "README.md").read_text()
_BLOCK = re.search(r"<!-- errors:begin -->\n```text\n(.*?)\n```\n<!-- errors:end -->", README, re.S)
_LINES = _BLOCK.group(1).splitlines() if _BLOCK else []
CASES = [(cmd[2:], err) for cmd, err in zip(_LINES[::2], _LINES[1::2], strict=False)]


def test_block_is_pairs_of_command_and_error() -> None:
    assert _BLOCK, "README lost its errors block"
    assert len(_LINES) % 2 == 0 and len(CASES) >= 8
    for cmd, err in CASES:
        assert cmd.startswith("truecost "), cmd
        assert err.startswith("error: "), err


@pytest.mark.parametrize(("command", "expected"), CASES, ids=[c.split()[1] + str(i) for i, (c, _) in enumerate(CASES)])
def test_readme_error_line_is_current(cli, monkeypatch, command, expected) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one line, whatever the terminal
    r = cli(*shlex.split(command)[1:])
    assert r.code in (1, 2), (r.code, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines == [expected], r.stderr
