"""Our contract files (contract/), loaded offline, and how they are published.

The WSDL and XSDs in contract/ are this service's own, equivalent to the official
PresenceRegistration v1.11 files (proved by tests/soap_gateway/test_contract.py). Every
request Body is validated against `protocol_schema()` before Spyne sees it.
"""

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

CONTRACT_DIR = Path(__file__).resolve().parent / "contract"
WSDL = CONTRACT_DIR / "presence-registration-v1.wsdl"
PROTOCOL_XSD = CONTRACT_DIR / "protocol-v1.xsd"
TYPES_XSD = CONTRACT_DIR / "types-v1.xsd"
ERRORS_XSD = CONTRACT_DIR / "errors-v1.xsd"
LOCAL_XML_XSD = CONTRACT_DIR / "xml.xsd"
XML_XSD_URL = "http://www.w3.org/2001/xml.xsd"

# ?xsd=<key> -> file, and the schemaLocation each file uses for it.
DOCUMENTS = {"protocol": PROTOCOL_XSD, "types": TYPES_XSD, "errors": ERRORS_XSD, "xml": LOCAL_XML_XSD}
_LOCATIONS = {
    "protocol-v1.xsd": "protocol",
    "types-v1.xsd": "types",
    "errors-v1.xsd": "errors",
    XML_XSD_URL: "xml",
}
_XSD = "{http://www.w3.org/2001/XMLSchema}"
_SOAP_ADDRESS = "{http://schemas.xmlsoap.org/wsdl/soap/}address"


class _LocalXmlXsd(etree.Resolver):  # type: ignore[misc]  # lxml has no type information
    """Maps the W3C xml.xsd to our stand-in: schemas never touch the network."""

    def resolve(self, system_url: str, public_id: str | None, context: Any) -> Any:
        if system_url == XML_XSD_URL:
            return self.resolve_filename(str(LOCAL_XML_XSD), context)
        return None


def offline_parser() -> etree.XMLParser:
    """A parser for schema files: no network, no entities, xml.xsd resolved locally."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_LocalXmlXsd())
    return parser


def load_schema(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path), offline_parser()))


_local = threading.local()


def protocol_schema() -> etree.XMLSchema:
    """The compiled messages schema, one per thread (its error_log is per object)."""
    schema = getattr(_local, "protocol", None)
    if schema is None:
        schema = _local.protocol = load_schema(PROTOCOL_XSD)
    return schema


@lru_cache(maxsize=32)
def render(path: Path, base_url: str) -> bytes:
    """A contract file as served at `base_url`: imports point at `?xsd=<key>`, the WSDL's
    soap:address at `base_url`."""
    tree = etree.parse(str(path), offline_parser())
    for node in tree.iter(f"{_XSD}import", f"{_XSD}include"):
        key = _LOCATIONS.get(node.get("schemaLocation", ""))
        if key is not None:
            node.set("schemaLocation", f"{base_url}?xsd={key}")
    for address in tree.iter(_SOAP_ADDRESS):
        address.set("location", base_url)
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
