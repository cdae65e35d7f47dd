"""README claims are commands: the forecast and usage blocks are what the tool prints now
(COLUMNS=80, a fresh store, run from the repository root in the order the README shows them).

When a change moves these figures on purpose (a new sizing model, new prices), rewrite the
blocks with ``UPDATE_README=1 pytest tests/test_readme_usage.py`` and review the diff."""

import os
import re
import shlex

from .conftest import REPO

BLOCKS = ("usage-import", "usage-reprice", "usage-by-model", "usage-budget", "forecast-chat")


def test_readme_forecast_and_usage_blocks_are_current(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.chdir(REPO)
    update = os.environ.get("UPDATE_README") == "1"
    readme = (REPO / "README.md").read_text()
    for name in BLOCKS:
        block = re.search(rf"<!-- {name}:begin -->\n```text\n\$ (.*?)\n(.*?)\n```\n<!-- {name}:end -->",
                          readme, re.S)
        assert block, f"README lost its {name} block"
        args = shlex.split(block.group(1))
        assert args[0] == "truecost"
        r = cli(*args[1:], *(["--quiet"] if args[1:3] == ["usage", "import"] else []))
        assert r.code == 0, r.stderr
        if update:
            readme = readme[:block.start(2)] + r.stdout.rstrip("\n") + readme[block.end(2):]
        else:
            assert r.stdout.rstrip("\n") == block.group(2), name
    if update:
        (REPO / "README.md").write_text(readme)
