"""The portal's settings plus one URL for the vote benchmark's baseline (bench/urls.py)."""

from governance.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
