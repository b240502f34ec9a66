"""Run settings: validation, precedence and environment interpolation."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimi_conformance.errors import ConfigError
from kimi_conformance.settings import Settings, read_config_file


def test_defaults_and_overrides() -> None:
    settings = Settings().merged({"profile": "quick", "models": ["kimi-k2.6"], "target": None})
    assert (settings.target, settings.profile, settings.models) == ("mock", "quick", ("kimi-k2.6",))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"profile": "extreme"}, "profile must be"),
        ({"target": "api.moonshot.ai"}, "target must be"),
        ({"model_family": ["no-equals"]}, "ALIAS=MODEL"),
        ({"mock_faults": ["auth-ignored"], "target": "https://example.invalid/v1"}, "only apply"),
        ({"request_timeout": 0}, "positive"),
        ({"colour": "red"}, "unknown setting"),
    ],
)
def test_invalid_settings(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings().merged(overrides)


def test_pyproject_section_and_interpolation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.kimi-conformance]\ntarget = "https://${KIMI_HOST}/v1"\nmodel-family = ["acme/K2=kimi-k2.6"]\n'
    )
    monkeypatch.setenv("KIMI_HOST", "gateway.example")
    values = read_config_file(tmp_path)
    settings = Settings().merged(values)
    assert settings.target == "https://gateway.example/v1" and settings.aliases() == {"acme/K2": "kimi-k2.6"}
    monkeypatch.delenv("KIMI_HOST")
    with pytest.raises(ConfigError, match="KIMI_HOST"):
        read_config_file(tmp_path)


def test_api_key_comes_from_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_KEY", "sk-acme")
    assert Settings(api_key_env="ACME_KEY").api_key() == "sk-acme"
    assert Settings(api_key_env="UNSET_KEY_FOR_TEST").api_key() is None
