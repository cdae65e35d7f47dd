"""README claims are commands: the plan output in the README is what the tool prints now."""

import re

from .conftest import REPO


def test_readme_plan_block_is_current(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- plan-chat:begin -->\n```text\n(.*?)\n```\n<!-- plan-chat:end -->", readme, re.S)
    assert block, "README lost its plan block"
    r = cli("plan", str(REPO / "examples" / "chat-assistant.toml"), "--slo", "ttft_p95=2s,tpot_p99=80ms",
            "--gpus", "h100-sxm,h200,l40s", "--quiet")
    assert r.code == 0, r.stderr
    assert r.stdout.rstrip("\n") == block.group(1)
    assert max(len(line) for line in r.stdout.splitlines()) <= 80
