"""The WS-Security profile the gateway accepts (docs/adr/0012): what mainstream stacks emit by
default passes, anything that can select or rewrite signed content does not, and a message
is remembered by what was signed, not by how its base64 is spelled."""

import base64
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest
import xmlsec
from lxml import etree

from registrations.models import Registration
from tests.factories import make_niss, make_workplace_id
from tests.soap_gateway.conftest import (
    SOAP_ENV,
    Credentials,
    TimestampedSignature,
    envelope,
    fault_of,
    register_item,
    register_request,
    sign,
)

pytestmark = pytest.mark.django_db

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"
XPATH_FILTER2 = "http://www.w3.org/2002/06/xmldsig-filter2"
XSLT = "http://www.w3.org/TR/1999/REC-xslt-19991116"
PLAIN_ID = "Id"
WSU_ID = f"{{{WSU}}}Id"


def request_for(client, niss: str | None = None) -> bytes:
    item = register_item(niss=niss or make_niss(), company=client.enterprise_number, workplace=make_workplace_id())
    return envelope(register_request([item]))


def _security_header(root: etree._Element, credentials: Credentials, id_attribute: str) -> etree._Element:
    """wsse:Security with the certificate and a Timestamp marked by `id_attribute`."""
    header = root.find(f"{{{SOAP_ENV}}}Header")
    security = etree.SubElement(header, f"{{{WSSE}}}Security", nsmap={"wsse": WSSE, "wsu": WSU})
    token = etree.SubElement(security, f"{{{WSSE}}}BinarySecurityToken", EncodingType=BASE64, ValueType=X509V3)
    token.set(WSU_ID, "x509-token")
    token.text = "".join(credentials.cert_pem.strip().splitlines()[1:-1])
    timestamp = etree.SubElement(security, f"{{{WSU}}}Timestamp", nsmap={None: WSU})
    timestamp.set(id_attribute, "ts")
    now = datetime.now(UTC).replace(microsecond=0)
    etree.SubElement(timestamp, f"{{{WSU}}}Created").text = now.isoformat().replace("+00:00", "Z")
    etree.SubElement(timestamp, f"{{{WSU}}}Expires").text = (now + timedelta(minutes=10)).isoformat()
    return security


def _signature_template(security: etree._Element, uris: Iterable[str], transforms: Iterable[str]) -> etree._Element:
    signature = xmlsec.template.create(
        security, xmlsec.constants.TransformExclC14N, xmlsec.constants.TransformRsaSha256, ns="ds"
    )
    security.append(signature)
    for uri in uris:
        reference = xmlsec.template.add_reference(signature, xmlsec.constants.TransformSha256, uri=f"#{uri}")
        reference_transforms = etree.SubElement(reference, f"{{{DS}}}Transforms")
        reference.insert(0, reference_transforms)
        for algorithm in transforms:
            etree.SubElement(reference_transforms, f"{{{DS}}}Transform", Algorithm=algorithm)
    key_info = xmlsec.template.ensure_key_info(signature)
    token_reference = etree.SubElement(key_info, f"{{{WSSE}}}SecurityTokenReference")
    etree.SubElement(token_reference, f"{{{WSSE}}}Reference", URI="#x509-token", ValueType=X509V3)
    return signature


def sign_like_xml_crypto(
    data: bytes,
    credentials: Credentials,
    *,
    transforms: Iterable[str] = (ENVELOPED, EXC_C14N),
    id_attribute: str = PLAIN_ID,
    signed: Iterable[str] = ("body", "ts"),
    tamper=None,
) -> bytes:
    """Sign Body and Timestamp as xml-crypto (node-soap's WSSecurityCert) does by default:
    an unqualified `Id` on each, enveloped-signature then exc-c14n on each reference.
    `tamper(root)` runs on the template before signing: the signature is valid over it."""
    root = etree.fromstring(data)
    root.find(f"{{{SOAP_ENV}}}Body").set(id_attribute, "body")
    security = _security_header(root, credentials, id_attribute)
    signature = _signature_template(security, signed, transforms)
    if tamper is not None:
        tamper(root)
    context = xmlsec.SignatureContext()
    registered: set[str] = set()  # a decoy reusing an id comes after the element it imitates
    for node in root.xpath("//*[@Id or @wsu:Id]", namespaces={"wsu": WSU}):
        for attribute, name, namespace in ((PLAIN_ID, PLAIN_ID, None), (WSU_ID, "Id", WSU)):
            value = node.get(attribute)
            if value is not None and value not in registered:
                context.register_id(node, name, namespace)
                registered.add(value)
    context.key = xmlsec.Key.from_file(str(credentials.key_path), xmlsec.constants.KeyDataFormatPem)
    context.sign(signature)
    return bytes(etree.tostring(root))


def assert_refused(response, caplog, reason: str) -> None:
    fault = fault_of(response.content)
    assert (response.status_code, fault.code) == (500, "SOA-01001")
    assert reason in caplog.text
    assert not Registration.objects.exists()


# --- what mainstream stacks send by default is accepted ---------------------------------------


def test_an_xml_crypto_style_signature_is_accepted(post_soap, client_a, credentials_a):
    response = post_soap(sign_like_xml_crypto(request_for(client_a), credentials_a))
    assert response.status_code == 200
    assert Registration.objects.get().sender_id == client_a.id


def test_wsu_id_with_enveloped_signature_is_accepted(post_soap, client_a, credentials_a):
    signed = sign_like_xml_crypto(request_for(client_a), credentials_a, id_attribute=WSU_ID)
    assert post_soap(signed).status_code == 200


def test_inclusive_namespaces_on_exc_c14n_are_accepted(post_soap, client_a, credentials_a):
    """Apache WSS4J/CXF name the prefixes to keep with an InclusiveNamespaces PrefixList."""

    def with_prefix_list(root: etree._Element) -> None:
        for signature in root.iter(f"{{{DS}}}Signature"):
            for transform in signature.iter(f"{{{DS}}}Transform"):
                xmlsec.template.transform_add_c14n_inclusive_namespaces(transform, ["soapenv"])

    data = sign_like_xml_crypto(request_for(client_a), credentials_a, transforms=(EXC_C14N,))
    root = etree.fromstring(data)
    with_prefix_list(root)  # changes the digested SignedInfo: sign again with the list in place
    assert root.find(f".//{{{EXC_C14N}}}InclusiveNamespaces") is not None
    signature = root.find(f".//{{{DS}}}Signature")
    context = xmlsec.SignatureContext()
    for node in root.xpath("//*[@Id]"):
        context.register_id(node, PLAIN_ID)
    context.key = xmlsec.Key.from_file(str(credentials_a.key_path), xmlsec.constants.KeyDataFormatPem)
    context.sign(signature)
    assert post_soap(etree.tostring(root)).status_code == 200


# --- transforms that select or rewrite content are refused ------------------------------------


@pytest.mark.parametrize(
    ("transforms", "parameter"),
    [
        ((XPATH, EXC_C14N), f'<ds:XPath xmlns:ds="{DS}">not(ancestor-or-self::*[@Id="x"])</ds:XPath>'),
        (
            (XPATH_FILTER2, EXC_C14N),
            f'<dsig-xpath:XPath xmlns:dsig-xpath="{XPATH_FILTER2}" Filter="subtract">//*[@x]</dsig-xpath:XPath>',
        ),
        ((XSLT, EXC_C14N), '<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"/>'),
        ((EXC_C14N, ENVELOPED), None),  # the accepted steps, in another order
        ((ENVELOPED,), None),
        ((), None),
    ],
    ids=["xpath", "xpath-filter-2", "xslt", "reordered", "enveloped-only", "none"],
)
def test_a_transform_chain_outside_the_profile_is_refused(
    post_soap, client_a, credentials_a, caplog, transforms, parameter
):
    root = etree.fromstring(
        sign_like_xml_crypto(request_for(client_a), credentials_a, transforms=(ENVELOPED, EXC_C14N))
    )
    for reference in root.iter(f"{{{DS}}}Reference"):  # rewritten after signing: the check comes first
        chain = reference.find(f"{{{DS}}}Transforms")
        chain.clear()
        for algorithm in transforms:
            transform = etree.SubElement(chain, f"{{{DS}}}Transform", Algorithm=algorithm)
            if parameter and algorithm != EXC_C14N:
                transform.append(etree.fromstring(parameter))
    assert_refused(post_soap(etree.tostring(root)), caplog, "not an accepted chain")


def test_a_parameter_hidden_in_an_accepted_transform_is_refused(post_soap, client_a, credentials_a, caplog):
    root = etree.fromstring(sign_like_xml_crypto(request_for(client_a), credentials_a))
    for transform in root.iter(f"{{{DS}}}Transform"):  # added after signing: the check comes first
        if transform.get("Algorithm") == EXC_C14N:
            transform.append(etree.fromstring(f'<ds:XPath xmlns:ds="{DS}">//*</ds:XPath>'))
    assert_refused(post_soap(etree.tostring(root)), caplog, "unexpected XPath")


# --- ids: wsu:Id and Id are one space, and the signed elements are the Body and Timestamp -------


@pytest.mark.parametrize(
    ("body_attribute", "decoy_attribute"),
    [(PLAIN_ID, WSU_ID), (WSU_ID, PLAIN_ID), (PLAIN_ID, PLAIN_ID)],
    ids=["Id-then-wsu:Id", "wsu:Id-then-Id", "Id-twice"],
)
def test_an_id_used_twice_across_wsu_id_and_id_is_refused(
    post_soap, client_a, credentials_a, caplog, body_attribute, decoy_attribute
):
    def decoy(root: etree._Element) -> None:
        etree.SubElement(root.find(f"{{{SOAP_ENV}}}Header"), "Decoy").set(decoy_attribute, "body")

    signed = sign_like_xml_crypto(request_for(client_a), credentials_a, id_attribute=body_attribute, tamper=decoy)
    assert_refused(post_soap(signed), caplog, "an id is used by two elements")


def test_a_zeep_body_id_reused_as_a_plain_id_is_refused(post_soap, client_a, credentials_a, caplog):
    root = etree.fromstring(sign(request_for(client_a), TimestampedSignature(credentials_a)))
    body_id = root.find(f"{{{SOAP_ENV}}}Body").get(WSU_ID)
    etree.SubElement(root.find(f"{{{SOAP_ENV}}}Header"), "Decoy").set(PLAIN_ID, body_id)
    assert_refused(post_soap(etree.tostring(root)), caplog, "an id is used by two elements")


def test_a_signature_over_a_copy_of_the_body_is_refused(post_soap, client_a, credentials_a, caplog):
    """Signature wrapping: the signed element is a look-alike in the header, the Body that
    would be processed is another one, unsigned."""
    original = request_for(client_a)

    def wrap(root: etree._Element) -> None:
        body = root.find(f"{{{SOAP_ENV}}}Body")
        del body.attrib[PLAIN_ID]
        look_alike = etree.SubElement(root.find(f"{{{SOAP_ENV}}}Header"), "Wrapper", Id="body")
        look_alike.extend(etree.fromstring(original).find(f"{{{SOAP_ENV}}}Body"))

    signed = sign_like_xml_crypto(original, credentials_a, tamper=wrap)
    assert_refused(post_soap(signed), caplog, "does not cover both the Body and the Timestamp")


def test_a_signature_leaving_out_the_timestamp_is_refused(post_soap, client_a, credentials_a, caplog):
    signed = sign_like_xml_crypto(request_for(client_a), credentials_a, signed=("body",))
    assert_refused(post_soap(signed), caplog, "does not cover both the Body and the Timestamp")


# --- replay: the same signature in another base64 spelling is the same message -----------------


_SIGNATURE_VALUE = re.compile(rb"(<(?:\w+:)?SignatureValue>)([^<]*)(</(?:\w+:)?SignatureValue>)")


def _signature_value(data: bytes) -> str:
    """The SignatureValue without the line breaks xmlsec writes into it."""
    match = _SIGNATURE_VALUE.search(data)
    assert match is not None
    return "".join(match.group(2).decode().split())


def _respell(data: bytes, spelling: str) -> bytes:
    respelled = _SIGNATURE_VALUE.sub(rb"\g<1>" + spelling.encode() + rb"\g<3>", data)
    assert respelled != data
    return respelled


def _low_bits_set(value: str) -> str:
    """The same bytes with the unused low bits of the last digit before the padding set: a
    2048-bit RSA signature is 256 bytes, so its last digit carries 2 bits and 4 unused."""
    compact = "".join(value.split())
    assert compact.endswith("==")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet[alphabet.index(compact[-3]) | 0b1111]
    respelled = compact[:-3] + last + "=="
    assert respelled != compact
    assert base64.b64decode(respelled) == base64.b64decode(compact)
    return respelled


SPELLINGS = {
    "whitespace": lambda value: " ".join(value[i : i + 8] for i in range(0, len(value), 8)),
    "line-breaks": lambda value: "\n".join(value[i : i + 76] for i in range(0, len(value), 76)) + "\n",
    "unused-low-bits": _low_bits_set,
    "low-bits-and-line-breaks": lambda value: "\r\n".join(
        _low_bits_set(value)[i : i + 64] for i in range(0, len(value), 64)
    ),
}


@pytest.mark.parametrize("spelling", SPELLINGS, ids=list(SPELLINGS))
def test_a_respelled_signature_value_is_refused_as_a_replay(post_soap, client_a, credentials_a, caplog, spelling):
    signed = sign(request_for(client_a), TimestampedSignature(credentials_a))
    assert post_soap(signed).status_code == 200
    replay = _respell(signed, SPELLINGS[spelling](_signature_value(signed)))
    fault = fault_of(post_soap(replay).content)
    assert fault.code == "SOA-01001"
    assert "replayed" in caplog.text
    assert Registration.objects.count() == 1


def test_a_respelled_signature_is_still_a_valid_signature(post_soap, client_a, credentials_a):
    """The variants are accepted the first time (xmlsec reads them all): only the cache can
    stop their replay, so the original sent afterwards is the replay."""
    signed = sign(request_for(client_a), TimestampedSignature(credentials_a))
    respelled = _respell(signed, _low_bits_set(_signature_value(signed)))
    assert post_soap(respelled).status_code == 200
    assert fault_of(post_soap(signed).content).code == "SOA-01001"
    assert Registration.objects.count() == 1


# --- bad input 12: a processing instruction inside a signed value ------------------------------


def test_a_processing_instruction_inside_a_signed_value_passes_the_signature(post_soap, client_a, credentials_a):
    niss = make_niss()
    data = request_for(client_a, niss=f"{niss[:5]}<?pi x?>{niss[5:]}<!-- c -->")
    response = post_soap(sign(data, TimestampedSignature(credentials_a)))
    assert response.status_code == 200
    assert Registration.objects.get().niss == niss


def test_a_processing_instruction_in_an_xml_crypto_signed_body_passes(post_soap, client_a, credentials_a):
    niss = make_niss()
    data = request_for(client_a, niss=f"<?pi before?>{niss[:3]}<?pi x?>{niss[3:]}")
    assert post_soap(sign_like_xml_crypto(data, credentials_a)).status_code == 200
    assert Registration.objects.get().niss == niss


def test_a_processing_instruction_added_after_signing_is_refused(post_soap, client_a, credentials_a, caplog):
    niss = make_niss()
    signed = sign(request_for(client_a, niss=niss), TimestampedSignature(credentials_a))
    tampered = signed.replace(niss.encode(), f"{niss[:5]}<?pi x?>{niss[5:]}".encode())
    assert_refused(post_soap(tampered), caplog, "signature invalid")


def test_a_doctype_is_still_refused_before_the_signature(post_soap, client_a, credentials_a):
    signed = sign(request_for(client_a), TimestampedSignature(credentials_a))
    data = b'<!DOCTYPE x [<!ENTITY e "boom">]>' + signed
    fault = fault_of(post_soap(data).content)
    assert fault.code == "SOA-03001"
    assert not Registration.objects.exists()


def test_one_element_with_the_same_id_in_both_attributes_is_accepted(post_soap, client_a, credentials_a):
    """The same value as `wsu:Id` and `Id` on one element is one id, not a clash."""

    def both(root: etree._Element) -> None:
        for node in (root.find(f"{{{SOAP_ENV}}}Body"), root.find(f".//{{{WSU}}}Timestamp")):
            node.set(WSU_ID, node.get(PLAIN_ID))

    signed = sign_like_xml_crypto(request_for(client_a), credentials_a, tamper=both)
    assert post_soap(signed).status_code == 200
