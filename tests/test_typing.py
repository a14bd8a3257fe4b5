"""The service's code is type-checked strictly, gateways and configuration as much as the core,
and every silenced error names its code and says why (STYLE §11)."""

import re
from pathlib import Path

import pytest
from mypy.main import process_options
from mypy.options import Options

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "registrations", "history", "soap_gateway", "rest_gateway")
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<after>.*)$")
REASON = re.compile(r"^\s+#\s*(?!noqa)\S")


def _options(*arguments: str) -> Options:
    _, options = process_options([*arguments, "-c", "pass"])
    return options


def _strict_flags() -> dict[str, bool]:
    """mypy's own `--strict`: every flag it sets, with the value it gives it."""
    plain, strict = _options("--config-file="), _options("--config-file=", "--strict")
    names = [name for name in dir(strict) if not name.startswith("_")]
    return {
        name: getattr(strict, name)
        for name in names
        if isinstance(getattr(strict, name), bool) and getattr(strict, name) != getattr(plain, name)
    }


def _modules() -> list[str]:
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def test_the_service_is_type_checked_as_strictly_as_mypy_strict():
    strict = _strict_flags()
    assert "disallow_untyped_defs" in strict  # sanity: the list is mypy's strict list
    project = _options("--config-file", str(ROOT / "pyproject.toml"))
    relaxed = {
        module: sorted(
            flag for flag, value in strict.items() if getattr(project.clone_for_module(module), flag) != value
        )
        for module in _modules()
    }
    assert {module: flags for module, flags in relaxed.items() if flags} == {}
    assert {"soap_gateway.services", "rest_gateway.apis", "config.settings"} <= relaxed.keys()


@pytest.mark.parametrize("package", PACKAGES)
def test_every_silenced_type_error_names_its_code_and_says_why(package):
    unexplained = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            found = IGNORE.search(line)
            if found and not (found["codes"] and REASON.match(found["after"])):
                unexplained.append(f"{path.relative_to(ROOT)}:{number}")
    assert unexplained == []
