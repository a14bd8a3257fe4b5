from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

_NOT_YET = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<soapenv:Fault><faultcode>soapenv:Server</faultcode>
<faultstring>The SOAP gateway is not available yet</faultstring></soapenv:Fault>
</soapenv:Body></soapenv:Envelope>"""


@csrf_exempt
def soap_endpoint(request: HttpRequest) -> HttpResponse:
    """Placeholder: the mount is reserved and answers SOAP-shaped, never an HTML page."""
    return HttpResponse(_NOT_YET, status=503, content_type="text/xml; charset=utf-8")
