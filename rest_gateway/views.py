from django.http import HttpRequest, JsonResponse


def not_yet(request: HttpRequest, rest: str) -> JsonResponse:
    """Placeholder: answers problem+json, never an HTML page."""
    problem = {
        "type": "urn:problem-type:belgif:serviceUnavailable",
        "title": "Service is unavailable",
        "status": 503,
        "detail": "The REST gateway is not available yet",
    }
    return JsonResponse(problem, status=503, content_type="application/problem+json")
