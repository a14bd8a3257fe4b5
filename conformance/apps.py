from django.apps import AppConfig


class ConformanceConfig(AppConfig):
    """The conformance kit (`manage.py conformance`): a client of the two public contracts.

    It imports nothing of the service's own code, so it runs against any server that
    implements them, this one or the administration's simulation environment.
    """

    name = "conformance"
    verbose_name = "Conformance kit"
