"""Shared fixtures: a clean environment for every test, and a CLI runner that goes through
``truecost.cli.app.main`` (so error handling is exercised exactly as users see it)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer key or truecost setting leaks into a test; results go to a temp store."""
    for name in list(os.environ):
        if name.startswith("TRUECOST_") or name.endswith("_API_KEY"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRUECOST_HOME", str(tmp_path / "truecost-home"))
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """``cli("estimate", "--model", ...)`` runs the CLI in-process and returns code/stdout/stderr."""
    from truecost.cli.app import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every README check is a snapshot test (documentation: it detects change, not correctness),
    whether or not it carries the mark: a test of a ``test_readme*`` module or named
    ``test_readme*``. Mutation runs and planted bugs leave snapshot tests out."""
    for item in items:
        module = item.path.name if item.path else ""
        if module.startswith("test_readme") or item.name.startswith("test_readme"):
            item.add_marker(pytest.mark.snapshot)
