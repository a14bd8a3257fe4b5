"""The architecture holds: the import contracts of pyproject.toml (docs/architecture.md) are
kept and can fail, no module imports another inside a function, and no modules import each
other in a loop."""

import ast
from pathlib import Path

import grimp
import pytest
from importlinter.api import read_configuration
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.independence import IndependenceContract
from importlinter.contracts.layers import LayersContract

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION = read_configuration(str(ROOT / "pyproject.toml"))
CONTRACT_TYPES: dict[str, type[ForbiddenContract | IndependenceContract | LayersContract]] = {
    "forbidden": ForbiddenContract,
    "independence": IndependenceContract,
    "layers": LayersContract,
}
CORE_AND_GATEWAYS = ("registrations", "history", "requestlog", "sandbox", "feed", "soap_gateway", "rest_gateway")

# The only imports inside a function, and why each is not about a cycle of ours.
FUNCTION_LEVEL_IMPORTS_ALLOWED = {
    # AppConfig.ready: the admin site and its registered models exist only once apps are ready.
    ("registrations/apps.py", "ready", "django.contrib"),
    ("registrations/apps.py", "ready", "registrations.admin.guards"),
    # AppConfig.ready: drf-spectacular extensions register themselves when imported.
    ("rest_gateway/apps.py", "ready", "rest_gateway"),
    # AppConfig.ready: the feed connects its publication hand-off to history's outbox signal
    # once both apps are loaded (history never imports the feed).
    ("feed/apps.py", "ready", "history.services"),
    ("feed/apps.py", "ready", "feed.tasks"),
    # AppConfig.ready: the token cache's and the clients' stamp's signal receivers connect to
    # the client models once they are loaded (docs/adr/0018).
    ("registrations/apps.py", "ready", "registrations.services.client_stamp"),
    ("rest_gateway/apps.py", "ready", "rest_gateway.token_cache"),
}

# One import per contract that the contract must refuse: proof that it is in force.
FORBIDDEN_EXAMPLES = {
    "core-knows-no-gateway": ("registrations.services.presences", "soap_gateway.faults"),
    "gateways-independent": ("soap_gateway.services", "rest_gateway.presenters"),
    "gateways-use-the-core-api": ("rest_gateway.apis", "registrations.models.registration"),
    "history-below-registrations": ("history.services", "registrations.domain.vocabulary"),
    "requestlog-below-the-gateways": ("requestlog.services", "rest_gateway.errors"),
    "sandbox-is-an-adapter": ("sandbox.views", "registrations.models.registration"),
    "nothing-imports-the-sandbox": ("registrations.services.sandbox", "sandbox.forms"),
    "core-layers": ("registrations.selectors.registrations", "registrations.services.presences"),
    "core-knows-no-feed": ("registrations.services.presences", "feed.services.publishing"),
    "feed-uses-the-core-api": ("feed.services.publishing", "registrations.models.registration"),
    "gateways-use-the-feed-api": ("rest_gateway.feed_apis", "feed.models"),
    "feed-layers": ("feed.selectors", "feed.services.deliveries"),
}


def import_graph() -> grimp.ImportGraph:
    options = CONFIGURATION["session_options"]
    return grimp.build_graph(
        *options["root_packages"],
        exclude_type_checking_imports=options.get("exclude_type_checking_imports", "false") in (True, "True", "true"),
        cache_dir=None,
    )


def contract(contract_id: str):
    [options] = [options for options in CONFIGURATION["contracts_options"] if options["id"] == contract_id]
    return CONTRACT_TYPES[options["type"]](
        name=options["name"], session_options=CONFIGURATION["session_options"], contract_options=options
    )


def test_every_architecture_contract_is_configured():
    assert {options["id"] for options in CONFIGURATION["contracts_options"]} == set(FORBIDDEN_EXAMPLES)


@pytest.mark.parametrize("contract_id", sorted(FORBIDDEN_EXAMPLES))
def test_the_code_keeps_the_contract(contract_id):
    check = contract(contract_id).check(import_graph(), verbose=False)
    assert check.kept, f"`lint-imports --contract {contract_id}` shows the imports that break it"


@pytest.mark.parametrize("contract_id", sorted(FORBIDDEN_EXAMPLES))
def test_the_contract_refuses_an_import_it_forbids(contract_id):
    graph = import_graph()
    importer, imported = FORBIDDEN_EXAMPLES[contract_id]
    graph.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
    assert not contract(contract_id).check(graph, verbose=False).kept


def test_no_modules_import_each_other_in_a_loop():
    graph = import_graph()
    loops = [
        [importer, *chain]
        for importer in sorted(graph.modules)
        for imported in sorted(graph.find_modules_directly_imported_by(importer))
        if (chain := graph.find_shortest_chain(importer=imported, imported=importer))
    ]
    assert loops == []


def function_level_imports() -> set[tuple[str, str, str]]:
    found = set()
    for package in CORE_AND_GATEWAYS:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(function):
                    if isinstance(node, ast.ImportFrom):
                        found.add((path.relative_to(ROOT).as_posix(), function.name, node.module or "."))
                    elif isinstance(node, ast.Import):
                        found |= {(path.relative_to(ROOT).as_posix(), function.name, a.name) for a in node.names}
    return found


def test_no_import_inside_a_function_but_the_allowed_ones():
    assert function_level_imports() == FUNCTION_LEVEL_IMPORTS_ALLOWED
