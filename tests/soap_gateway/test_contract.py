"""Our WSDL and XSDs are equivalent to the official v1.11 files: same verdict on a corpus of
valid and invalid instance documents, same operations, SOAPActions and messages; and the
published WSDL drives a zeep client unchanged."""

import pytest
import zeep
from lxml import etree

from soap_gateway.schemas import ERRORS_XSD, PROTOCOL_XSD, WSDL, load_schema
from tests.soap_gateway.conftest import ENDPOINT, ERR, PR, T, fault_of, official_file, official_schema

NS = f'xmlns:pr="{PR}" xmlns:t="{T}"'
ITEM = "<t:INSS>85073003328</t:INSS><t:CompanyID>448181966</t:CompanyID><t:WorkPlaceId>1Y1000NF9KCQZ</t:WorkPlaceId>"
PERIOD = (
    "<t:RegistrationPeriod><t:RegistrationPeriodStartDate>2026-11-01</t:RegistrationPeriodStartDate>"
    "<t:RegistrationPeriodEndDate>2026-11-30</t:RegistrationPeriodEndDate></t:RegistrationPeriod>"
)


def register(*items: str) -> str:
    inner = "".join(f"<pr:PresenceRegistrationRequest>{item}</pr:PresenceRegistrationRequest>" for item in items)
    return f"<pr:RegisterPresencesRequest {NS}>{inner}</pr:RegisterPresencesRequest>"


def cancel(identifier: str = "123", reason: str = "HOLIDAY") -> str:
    return (
        f"<pr:CancelPresencesRequest {NS}><pr:CancelPresenceRequest><t:PresenceRegistrationId>{identifier}"
        f"</t:PresenceRegistrationId><t:CancellationReason>{reason}</t:CancellationReason>"
        "</pr:CancelPresenceRequest></pr:CancelPresencesRequest>"
    )


def search(criteria: str = "", periods: str | None = PERIOD, tail: str = "") -> str:
    period_list = f"<t:RegistrationPeriodList>{periods}</t:RegistrationPeriodList>" if periods is not None else ""
    return (
        f"<pr:SearchPresencesRequest {NS}><pr:SearchPresenceRequest><t:SearchPresenceRegistrationCriteria>"
        f"{criteria}{period_list}</t:SearchPresenceRegistrationCriteria>{tail}</pr:SearchPresenceRequest>"
        "</pr:SearchPresencesRequest>"
    )


def get(identifier: str = "123") -> str:
    return (
        f"<pr:GetPresenceRegistrationRequest {NS}><pr:GetPresenceRegistrationRequest><t:PresenceRegistrationId>"
        f"{identifier}</t:PresenceRegistrationId></pr:GetPresenceRegistrationRequest></pr:GetPresenceRegistrationRequest>"
    )


def validation(status: str = "FAILED", remarks: int = 1) -> str:
    remark = "<t:Remark>DUC IS NOT EXISTING</t:Remark>" * remarks
    return (
        f"<t:Status>{status}</t:Status><t:RemarkList>{remark}</t:RemarkList>"
        if remarks
        else f"<t:Status>{status}</t:Status>"
    )


def registration(
    validation_xml: str | None = None,
    submitted: str = f"<t:PresenceRegistrationSubmitted>{ITEM}</t:PresenceRegistrationSubmitted>",
) -> str:
    return (
        f"{submitted}<t:Sector>1</t:Sector><t:PresenceRegistrationId>1</t:PresenceRegistrationId>"
        "<t:CreationDate>2026-11-26T10:00:00+00:00</t:CreationDate><t:Channel>WS</t:Channel>"
        f"<t:LastValidation>{validation_xml or validation()}</t:LastValidation>"
    )


def register_response(choice: str) -> str:
    return (
        f"<pr:RegisterPresencesResponse {NS}><pr:PresenceRegistrationResponse>{choice}"
        "</pr:PresenceRegistrationResponse></pr:RegisterPresencesResponse>"
    )


VALID = {
    "register INSS + CompanyID": register(ITEM),
    "register LimosaId, date and reference": register(
        "<t:RegistrationDate>2026-11-26</t:RegistrationDate><t:LimosaId>123</t:LimosaId>"
        "<t:WorkPlaceId>1Y1000NF9KCQZ</t:WorkPlaceId>"
        "<t:ClientPresenceRegistrationReference>ref</t:ClientPresenceRegistrationReference>"
    ),
    "register 200 items": register(*[ITEM] * 200),
    "register Arabic-Indic INSS digits (the contract's \\d)": register(ITEM.replace("85073003328", "١" * 11)),
    "cancel": cancel(),
    "search minimal": search(),
    "search full": search(
        "<t:INSS>85073003328</t:INSS><t:CompanyID>448181966</t:CompanyID><t:WorkPlaceId>X</t:WorkPlaceId>"
        "<t:StatusList><t:Status>FAILED</t:Status><t:Status>SUCCESSFULLY REGISTERED</t:Status></t:StatusList>"
        "<t:RemarkList><t:Remark>COMPANY IS NOT KNOWN  AS BUILDER OR  SUBCONTRACTOR IN THIS DUC</t:Remark>"
        "</t:RemarkList>",
        PERIOD * 31,
        "<t:PaginationProperties><t:FirstRow>0</t:FirstRow><t:FetchSize>500</t:FetchSize></t:PaginationProperties>"
        "<t:SortingProperties><t:SortDirection>DESCENDING</t:SortDirection><t:SortCriteria>PLACE OF WORK"
        "</t:SortCriteria></t:SortingProperties>",
    ),
    "get": get(),
    "register response, registration": register_response(
        f"<t:PresenceRegistration>{registration()}</t:PresenceRegistration>"
    ),
    "register response, error": register_response(
        f"<t:PresenceRegistrationError><t:PresenceRegistrationSubmitted>{ITEM}</t:PresenceRegistrationSubmitted>"
        "<t:ErrorList><t:Error><t:ErrorCode>5</t:ErrorCode><t:ErrorDescription>x</t:ErrorDescription></t:Error>"
        "</t:ErrorList></t:PresenceRegistrationError>"
    ),
    "register response, consult form": register_response(
        "<t:PresenceRegistration>"
        + registration(
            submitted="<t:PresenceRegistrationConsultSubmitted><t:VatNumber>FR1</t:VatNumber>"
            "<t:WorkPlaceId>1Y1000NF9KCQZ</t:WorkPlaceId></t:PresenceRegistrationConsultSubmitted>"
        )
        + "</t:PresenceRegistration>"
    ),
    "get response, not found": f"<pr:GetPresenceRegistrationResponse {NS}><pr:GetPresenceRegistrationResponseType>"
    "<t:GetPresenceRegistrationRequest><t:PresenceRegistrationId>1</t:PresenceRegistrationId>"
    "</t:GetPresenceRegistrationRequest><t:GetPresenceRegistrationType/></pr:GetPresenceRegistrationResponseType>"
    "</pr:GetPresenceRegistrationResponse>",
}

INVALID = {
    "both choice branches": register(ITEM.replace("<t:WorkPlaceId>", "<t:LimosaId>1</t:LimosaId><t:WorkPlaceId>")),
    "INSS without CompanyID": register("<t:INSS>85073003328</t:INSS><t:WorkPlaceId>1Y1000NF9KCQZ</t:WorkPlaceId>"),
    "wrong element order": register(
        "<t:CompanyID>448181966</t:CompanyID><t:INSS>85073003328</t:INSS><t:WorkPlaceId>1Y1000NF9KCQZ</t:WorkPlaceId>"
    ),
    "unknown element": register(ITEM + "<t:Colour>red</t:Colour>"),
    "item children in the messages namespace": register(ITEM.replace("t:", "pr:")),
    "12-digit INSS": register(ITEM.replace("85073003328", "850730033281")),
    "11-digit CompanyID": register(ITEM.replace("448181966", "44818196612")),
    "Arabic-Indic CompanyID": register(ITEM.replace("448181966", "١١١١١")),
    "impossible date": register("<t:RegistrationDate>2025-02-29</t:RegistrationDate>" + ITEM),
    "14-character WorkPlaceId": register(ITEM.replace("1Y1000NF9KCQZ", "1Y1000NF9KCQZZ")),
    "25-character reference": register(
        ITEM + f"<t:ClientPresenceRegistrationReference>{'r' * 25}</t:ClientPresenceRegistrationReference>"
    ),
    "0 items": register(),
    "201 items": register(*[ITEM] * 201),
    "16-character cancellation reason": cancel(reason="H" * 16),
    "16-digit registration id": cancel(identifier="1" * 16),
    "search without period list": search(periods=None),
    "search with 32 periods": search(periods=PERIOD * 32),
    "search fetch size of 10 digits": search(
        tail="<t:PaginationProperties><t:FirstRow>0</t:FirstRow><t:FetchSize>1000000000</t:FetchSize>"
        "</t:PaginationProperties>"
    ),
    "search unknown status": search("<t:StatusList><t:Status>REGISTERED</t:Status></t:StatusList>"),
    "search remark with single spaces": search(
        "<t:RemarkList><t:Remark>COMPANY IS NOT KNOWN AS BUILDER OR SUBCONTRACTOR IN THIS DUC</t:Remark></t:RemarkList>"
    ),
    "search unknown sort criteria": search(
        tail="<t:SortingProperties><t:SortDirection>UP</t:SortDirection><t:SortCriteria>ID</t:SortCriteria>"
        "</t:SortingProperties>"
    ),
    "register response with both branches": register_response(
        f"<t:PresenceRegistration>{registration()}</t:PresenceRegistration>"
        f"<t:PresenceRegistrationError><t:PresenceRegistrationSubmitted>{ITEM}</t:PresenceRegistrationSubmitted>"
        "<t:ErrorList><t:Error><t:ErrorCode>5</t:ErrorCode><t:ErrorDescription>x</t:ErrorDescription></t:Error>"
        "</t:ErrorList></t:PresenceRegistrationError>"
    ),
    "response with 11 remarks": register_response(
        f"<t:PresenceRegistration>{registration(validation(remarks=11))}</t:PresenceRegistration>"
    ),
}

_ours: dict[str, etree.XMLSchema] = {}


def ours(which: str) -> etree.XMLSchema:
    if which not in _ours:
        _ours[which] = load_schema(PROTOCOL_XSD if which == "protocol" else ERRORS_XSD)
    return _ours[which]


# Each corpus runs against both schemas separately: ours is always tested, the official one
# where its files are present (skipped with the reason otherwise).
BOTH = {"official": official_schema, "ours": ours}
both_schemas = pytest.mark.parametrize("schema", BOTH.values(), ids=BOTH.keys())


@both_schemas
@pytest.mark.parametrize("document", VALID.values(), ids=VALID.keys())
def test_valid_documents_are_valid_under_both_schemas(document, schema):
    element = etree.fromstring(document)
    assert schema("protocol").validate(element), schema("protocol").error_log


@both_schemas
@pytest.mark.parametrize("document", INVALID.values(), ids=INVALID.keys())
def test_invalid_documents_are_invalid_under_both_schemas(document, schema):
    element = etree.fromstring(document)
    assert not schema("protocol").validate(element)


@pytest.mark.parametrize(
    ("detail", "valid"),
    [
        (
            f'<err:SystemError xmlns:err="{ERR}" Id="1"><err:Origin>Consumer</err:Origin><err:Code>SOA-03006</err:Code>'
            '<err:Message xml:lang="en">m</err:Message><err:Retry>false</err:Retry></err:SystemError>',
            True,
        ),
        (
            f'<err:BusinessError xmlns:err="{ERR}"><err:Origin>Provider</err:Origin><err:Code>c</err:Code>'
            "<err:Message>m</err:Message><err:Environment>Production</err:Environment></err:BusinessError>",
            True,
        ),
        (
            f'<err:SystemError xmlns:err="{ERR}"><err:Origin>Consumer</err:Origin><err:Message>m</err:Message>'
            "</err:SystemError>",
            False,
        ),
        (
            f'<err:SystemError xmlns:err="{ERR}"><err:Origin>C</err:Origin><err:Code>c</err:Code><err:Message>m'
            "</err:Message><err:Retry>maybe</err:Retry></err:SystemError>",
            False,
        ),
    ],
)
@both_schemas
def test_fault_details_get_the_same_verdict_from_both_error_schemas(detail, valid, schema):
    element = etree.fromstring(detail)
    assert schema("errors").validate(element) is valid


WSDL_NS = {"w": "http://schemas.xmlsoap.org/wsdl/", "s": "http://schemas.xmlsoap.org/wsdl/soap/"}


def wsdl_facts(path) -> dict[str, object]:
    tree = etree.parse(str(path))
    facts: dict[str, object] = {"tns": tree.getroot().get("targetNamespace")}
    for message in tree.xpath("//w:message", namespaces=WSDL_NS):
        parts = [(p.get("name"), p.get("element").split(":")[1]) for p in message.xpath("w:part", namespaces=WSDL_NS)]
        facts[f"message {message.get('name')}"] = parts
    for operation in tree.xpath("//w:portType/w:operation", namespaces=WSDL_NS):
        facts[f"operation {operation.get('name')}"] = [
            (child.tag.split("}")[1], child.get("name"), child.get("message").split(":")[1])
            for child in operation
            if child.get("message")
        ]
    for operation in tree.xpath("//w:binding/w:operation", namespaces=WSDL_NS):
        facts[f"action {operation.get('name')}"] = operation.xpath("s:operation/@soapAction", namespaces=WSDL_NS)
        facts[f"bodies {operation.get('name')}"] = operation.xpath(
            ".//s:body/@use | .//s:fault/@name", namespaces=WSDL_NS
        )
    facts["binding"] = tree.xpath("//w:binding/@name | //w:binding/s:binding/@style", namespaces=WSDL_NS)
    facts["port"] = tree.xpath("//w:service/@name | //w:port/@name", namespaces=WSDL_NS)
    return facts


def test_our_wsdl_states_the_official_operations_messages_and_actions():
    assert wsdl_facts(WSDL) == wsdl_facts(official_file("wsdl"))


def test_the_published_wsdl_points_back_at_us_and_drives_zeep(client, client_a, credentials_a):
    wsdl = client.get(ENDPOINT + "?wsdl")
    assert wsdl["Content-Type"].startswith("text/xml")
    tree = etree.fromstring(wsdl.content)
    assert tree.xpath("//s:address/@location", namespaces=WSDL_NS) == [f"http://testserver{ENDPOINT}"]
    protocol = etree.fromstring(client.get(ENDPOINT + "?xsd=protocol").content)
    imports = protocol.xpath("//xs:import/@schemaLocation", namespaces={"xs": "http://www.w3.org/2001/XMLSchema"})
    assert imports == [f"http://testserver{ENDPOINT}?xsd=types"]

    class Served(zeep.Transport):
        def load(self, url):
            return client.get(url.replace("http://testserver", "")).content

    transport = Served()
    service = zeep.Client(
        f"http://testserver{ENDPOINT}?wsdl", transport=transport, settings=zeep.Settings(strict=False)
    )
    operations = service.wsdl.bindings[f"{{{PR}}}PresenceRegistrationSOAPBinding"]._operations
    assert {name: op.soapaction for name, op in operations.items()} == {
        op: f"{PR}/{op}"
        for op in ("registerPresences", "cancelPresences", "searchPresences", "getPresenceRegistration")
    }
    transport.session.close()


@pytest.mark.parametrize("query", ["", "?xsd=passwd", "?xsd=../../etc/passwd"])
def test_an_unknown_get_is_a_404_and_never_an_html_page(client, query):
    response = client.get(ENDPOINT + query)
    assert (response.status_code, response["Content-Type"]) == (404, "text/plain; charset=utf-8")


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_get_a_soap_fault(client, method):
    response = getattr(client, method)(ENDPOINT, data=b"<x/>", content_type="text/xml")
    assert response.status_code == 405
    assert fault_of(response.content).code == "SOA-03002"
