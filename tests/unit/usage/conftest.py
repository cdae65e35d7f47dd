"""Small usage logs written by the tests, and an offers file with round prices."""

from __future__ import annotations

from pathlib import Path

import pytest

from truecost.usage import import_usage

# test/flat: $2 input, $0.5 cached input, $8 output per million tokens; test/other: $1 and $4,
# no cached price (cached input is billed as input)
OFFERS = """
["test/flat"]
usd_per_mtok_input = 2.0
usd_per_mtok_cached_input = 0.5
usd_per_mtok_output = 8.0
source = "test"
as_of = 2025-01-01

["test/other"]
usd_per_mtok_input = 1.0
usd_per_mtok_output = 4.0
source = "test"
as_of = 2025-01-01
"""
HEADER = "timestamp,model,input_tokens,output_tokens,cached_tokens,reasoning_tokens,user,tag\n"


@pytest.fixture
def offers(tmp_path: Path) -> Path:
    path = tmp_path / "offers.toml"
    path.write_text(OFFERS)
    return path


def import_rows(path: Path, rows: list[str]) -> None:
    """Write a generic CSV log of ``rows`` (after the header) and import it."""
    path.write_text(HEADER + "\n".join(rows) + "\n")
    import_usage(path)
