"""Test settings: the real PostgreSQL and Redis, with a few safe overrides."""

import os

os.environ.setdefault("READ_DOT_ENV", "0")  # a demo's .env in the checkout must not leak into the tests
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")  # the test client and live servers speak plain HTTP
# DEBUG=0 requires channel keys: a fixed test key (never used outside the tests)
os.environ.setdefault("CHANNEL_ENCRYPTION_KEYS", "test:dGVzdC1jaGFubmVsLWtleS0zMi1ieXRlcy1sb25nISE=")

from .settings import *  # noqa: E402,F403

# Several test runs may share this machine's PostgreSQL and Redis (one database each): everything a
# run keeps in Redis (cache, breakers, buckets, its Celery queue) is named after its database.
_RUN = DATABASES["default"]["NAME"]
CACHES["default"]["KEY_PREFIX"] = os.environ.get("CACHE_KEY_PREFIX", f"pms-test-{_RUN}")

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "1") == "1"
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", f"pms-test-{_RUN}")
SANDBOX_ENABLED = True
CHANNEL_REDIS_PREFIX = f"pms-test-{_RUN}:channels"
CHANNEL_RETRY_BASE_SECONDS = 0.2
CHANNEL_BREAKER_COOLDOWN_SECONDS = 2.0
CHANNEL_HTTP_TIMEOUT = 3.0
ALLOW_PRIVATE_HOSTS = True
VRBO_SIM_CRAWL_SECONDS = 1  # the Vrbo simulator crawls every second in tests (benchmark crawl lag)
WEBHOOK_RETRY_BASE_SECONDS = 0.2
WEBHOOK_RETRY_MAX_SECONDS = 2.0
WEBHOOK_TIMEOUT = 3.0
WEBHOOK_ALLOW_HTTP = True
