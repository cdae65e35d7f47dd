"""README blocks of the catalog, discovery and validation sections are what the tool prints now
(COLUMNS=80), and the custom-model TOML example loads."""

from __future__ import annotations

import re
import tomllib

import pytest

from truecost import catalog

from .conftest import REPO

README = (REPO / "README.md").read_text()


def _block(name: str) -> str:
    m = re.search(rf"<!-- {name}:begin -->\n```text\n(.*?)\n```\n<!-- {name}:end -->", README, re.S)
    assert m, f"README lost its {name} block"
    return m.group(1)


@pytest.mark.parametrize(("name", "args"), [
    ("validate-serving", ["validate"]),
    ("validate-training", ["validate", "training"]),
    ("models", ["models"]),
    ("gpus", ["gpus"]),
    ("engines", ["engines"]),
    ("offers", ["offers", "--provider", "anthropic", "--search", "sonnet"]),
])
def test_readme_block_is_current(cli, monkeypatch, name, args) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    r = cli(*args)
    assert r.code == 0, r.stderr
    assert r.stdout.rstrip("\n") == _block(name)


def test_readme_custom_model_toml_loads(tmp_path) -> None:
    m = re.search(r"```toml\n# my-model\.toml\n(.*?)```", README, re.S)
    assert m, "README lost its custom model example"
    tomllib.loads(m.group(1))  # valid TOML as printed
    path = tmp_path / "my-model.toml"
    path.write_text(m.group(1))
    model = catalog.model(str(path))
    assert (model.key, model.hf_id) == ("my-model", None)
    # same shape as Llama-3.1-8B but a 32,768-token context: the same parameters
    assert model.params_total == catalog.model("llama-3.1-8b").params_total
