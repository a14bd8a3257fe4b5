"""The answer written as markup and parsed once is the answer written element by element:
the same bytes on the wire, whatever the values carry."""

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from lxml import etree

from soap_gateway import types as t
from soap_gateway import xmlio
from soap_gateway.application import SOAP11_ENV, make_app
from soap_gateway.services import PresenceRegistrationService

_APP = make_app()


def _written(write, message: str, out_object: list[object]) -> bytes:
    envelope = etree.Element(f"{{{SOAP11_ENV}}}Envelope", nsmap=_APP.interface.nsmap)
    body = etree.SubElement(envelope, f"{{{SOAP11_ENV}}}Body")
    write(body, PresenceRegistrationService.public_methods[message].out_message, out_object)
    return etree.tostring(envelope)


def _item(reference: str | None) -> t.PresenceRegistrationSubmitType:
    return t.PresenceRegistrationSubmitType(
        RegistrationDate=date(2026, 11, 29),
        INSS="85073003328",
        CompanyID=448186322,
        WorkPlaceId="1AAAAAAAAAAN7",
        ClientPresenceRegistrationReference=reference,
    )


def _registered(number: int, reference: str | None) -> t.RegisterPresenceRegistrationResponse:
    return t.RegisterPresenceRegistrationResponse(
        PresenceRegistration=t.PresenceRegistrationType(
            PresenceRegistrationSubmitted=_item(reference),
            Sector=1,
            INSS="85073003328",
            PresenceRegistrationId=number,
            CreationDate=datetime(2026, 11, 29, 13, 5, 7, 123456, tzinfo=UTC),
            Channel="WS",
            LastValidation=t.ValidationType(
                Status="FAILED",
                ValidationDate=datetime(2026, 11, 29, 13, 6, tzinfo=UTC),
                RemarkList=t.RemarkListType(Remark=["one", "two"]),
            ),
            Sender=t.SenderType(SenderId=str(uuid4()), SenderCompanyId=448186322, SenderUserType="enterprise"),
        )
    )


def _refused(reference: str | None) -> t.RegisterPresenceRegistrationResponse:
    return t.RegisterPresenceRegistrationResponse(
        PresenceRegistrationError=t.RegisterPresenceRegistrationErrorType(
            PresenceRegistrationSubmitted=_item(reference),
            ErrorList=t.RequestErrorType(Error=[t.Error(ErrorCode="5", ErrorDescription="INSS <invalid> & more")]),
        )
    )


@pytest.mark.parametrize(
    "reference",
    [None, "plain", "a&b<c>d", "quote \" and ' apostrophe", "line\nbreak", "carriage\rreturn", "é ü 漢字", " "],
)
def test_a_register_answer_is_the_same_bytes_either_way(reference):
    answer = [[_registered(number, reference) for number in range(1, 200)] + [_refused(reference)]]

    assert _written(xmlio.write_message, "registerPresences", answer) == _written(
        xmlio.write_message_by_element, "registerPresences", answer
    )


def test_an_empty_text_is_written_as_the_element_writer_writes_it():
    answer = [[_registered(1, ""), _refused("")]]

    written = _written(xmlio.write_message, "registerPresences", answer)

    assert written == _written(xmlio.write_message_by_element, "registerPresences", answer)
    assert b"ClientPresenceRegistrationReference></" in written
