"""Run options are declared once (`Settings`, read as `settings.run_options()`): `kimi-conformance run`, the pytest
plugin and the config file accept the same set, and a value given to the command line arrives in the run's
settings unchanged."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import click
import pytest

from kimi_conformance import pytest_plugin
from kimi_conformance.cli.run import forwarded, run
from kimi_conformance.errors import ConfigError
from kimi_conformance.settings import Settings, read_config_file, run_options

CLI_ONLY = {"workers", "pytest_args"}
"""`-n` is pytest-xdist's own option, forwarded as is; the rest are pytest's."""

EXAMPLES: dict[type, Any] = {str: "x", int: 7, float: 2.5, bool: True}
SPECIAL = {
    "target": "https://gateway.example/v1",
    "profile": "quick",
    "mock_lineup": "all",
    "model_family": ("acme/K2=kimi-k2.6",),
    "models": ("kimi-k2.6", "acme/K2"),
    "mock_faults": (),  # only with `--target mock`: checked below on its own
    "operations": ("chat-only", "files,balance"),
    "thinking_style": "chat-template-kwargs",
    "extra_body": '{"top_k": 5}',
}


def plugin_namespace(args: list[str]) -> Any:
    """`args` parsed by a pytest parser that knows only the plugin's options."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the parser class is pytest's own (private), fine for a test
        from _pytest.config.argparsing import Parser

        parser = Parser()
    pytest_plugin.pytest_addoption(parser)
    return parser.parse(args)


def example_values() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for option in run_options():
        example = EXAMPLES[option.kind]
        values[option.name] = SPECIAL.get(option.name, (example, example) if option.repeatable else example)
    return values


def test_settings_cli_and_plugin_declare_the_same_options() -> None:
    table = run_options()
    cli = {param.name: param for param in run.params if param.name not in CLI_ONLY}
    assert list(cli) == [o.name for o in table]
    for option in table:
        param = cli[option.name]
        assert isinstance(param, click.Option) and param.opts == [option.flag]
        assert param.multiple is option.repeatable and param.is_flag is (option.kind is bool)
    group = next(g for g in _groups() if g.name == "kimi-conformance")
    assert [o.names() for o in group.options] == [[o.pytest_flag] for o in table]


def _groups() -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from _pytest.config.argparsing import Parser

        parser = Parser()
    pytest_plugin.pytest_addoption(parser)
    return list(parser._groups)


def test_every_value_given_to_run_reaches_the_settings_unchanged() -> None:
    values = example_values()
    namespace = plugin_namespace(forwarded(values))
    parsed = {o.name: getattr(namespace, o.dest) for o in run_options()}
    assert Settings().merged(parsed) == Settings().merged(values)
    faults = plugin_namespace(forwarded({"mock_faults": ("auth-ignored", "n-ignored")}))
    assert Settings().merged({"mock_faults": faults.kimi_mock_faults}).mock_faults == ("auth-ignored", "n-ignored")


def test_the_config_file_takes_every_option_by_its_name(tmp_path: Path) -> None:
    lines = []
    for name, value in example_values().items():
        text = json.dumps(list(value) if isinstance(value, tuple) else value)  # these values are TOML too
        lines.append(f"{name.replace('_', '-')} = {text}")
    (tmp_path / "kimi-conformance.toml").write_text("\n".join(lines) + "\n")
    assert Settings().merged(read_config_file(tmp_path)) == Settings().merged(example_values())


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("request_timeout", "soon", "request-timeout must be a number, not 'soon'"),
        ("max_requests", 2.5, "max-requests must be an integer"),
        ("strict", "yes", "strict must be true or false"),
        ("models", [1, 2], "models takes strings"),
        ("target", True, "target must be a string"),
    ],
)
def test_a_value_of_the_wrong_type_is_one_line(key: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings().merged({key: value})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('request-timeout = "soon"', "request-timeout must be a number, not 'soon'"),
        ("request-timeot = 5", "unknown setting\\(s\\): request-timeot"),
        ('profile = "extreme"', "profile must be one of"),
    ],
)
def test_a_bad_config_file_is_one_line_naming_the_file(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "kimi-conformance.toml").write_text(line + "\n")
    with pytest.raises(ConfigError, match=message) as raised:
        read_config_file(tmp_path)
    assert str(raised.value).startswith(str(tmp_path / "kimi-conformance.toml") + ": ")
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"request_timeout": float("nan")}, "request-timeout must be a finite number"),
        ({"rpm": float("inf")}, "rpm must be a finite number"),
        ({"models": ["no-such-model"]}, "--model no-such-model is no model the contract knows"),
        ({"model_family": ["acme=unknown-model"]}, "unknown-model is no model the contract knows"),
        ({"models": "kimi-k2.6"}, None),  # a TOML string, not iterated per character
    ],
)
def test_values_that_cannot_run_are_refused_at_once(overrides: dict[str, Any], message: str | None) -> None:
    if message is None:
        assert Settings().merged(overrides).models == ("kimi-k2.6",)
        return
    with pytest.raises(ConfigError, match=message):
        Settings().merged(overrides)
