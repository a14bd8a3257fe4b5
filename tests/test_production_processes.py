"""The bench and chaos stacks run the production settings (not the test settings): they set
every key production requires, and serve plain HTTP on loopback."""

import json
import subprocess
import sys

from bench import stack

SHOW = (
    "import django, json; django.setup(); from django.conf import settings;"
    "counters = settings.CACHES[settings.REST_THROTTLE_CACHE];"
    "print(json.dumps([settings.SECURE_SSL_REDIRECT, settings.NISS_HASH_KEY != settings.SECRET_KEY,"
    " counters['BACKEND'], counters.get('LOCATION'), settings.ALLOWED_HOSTS]))"
)


def test_the_bench_and_chaos_stacks_start_on_the_production_settings(monkeypatch):
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)  # the test pass's short key
    monkeypatch.delenv("NISS_HASH_KEY", raising=False)
    environment = stack.app_environment(
        "postgres://postgres@127.0.0.1:5432/presence_prod_bench", "redis://127.0.0.1:1/8"
    )
    completed = subprocess.run(
        [sys.executable, "-c", SHOW], env=environment, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    redirect, own_niss_key, counters_backend, counters_url, hosts = json.loads(completed.stdout.splitlines()[-1])
    assert redirect is False
    assert own_niss_key is True
    # The rate limits hold across the stack's web workers: counters in Redis, apart from the tasks.
    assert counters_backend == "django.core.cache.backends.redis.RedisCache"
    assert counters_url == "redis://127.0.0.1:1/11"
    assert hosts == ["127.0.0.1"]
