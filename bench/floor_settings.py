"""The production settings with bench/floor_urls.py as URLconf: the REST load floor's server."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
