"""Settings for community: one environment-driven file (see README, "Configuration")."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

from community.database import DatabaseConfigError, database_from_url, embedded_database_url, fail

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        fail(f"{name} must be a whole number, not {value!r}")
        raise


# Production unless development is asked for (`DEBUG=true`, which `make run` and `make test` set): a
# deployment that forgets a setting fails closed.
DEBUG = env_bool("DEBUG", False)
DEVELOPMENT_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105 - public: refused in production
SECRET_KEY = env_str("SECRET_KEY") or (DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    fail("SECRET_KEY must be set: this is production unless DEBUG=true (see README, Configuration)")
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    fail("SECRET_KEY is the public development key: set a secret one for production")

# Leaders live at <slug>.<PLATFORM_DOMAIN>; the platform itself (staff admin, webhooks) at PLATFORM_DOMAIN.
PLATFORM_DOMAIN = env_str("PLATFORM_DOMAIN", "localhost").lower()
# The absolute base URL Twilio calls. Signatures are checked against it, never against the Host header,
# because behind a proxy Django's idea of the URL is not the one Twilio signed.
# In development it follows PORT (the port `make run` serves on) unless set, so signup links, invitation
# mails and create_leader's output work on whatever port the platform runs.
PUBLIC_BASE_URL = env_str(
    "PUBLIC_BASE_URL", f"http://localhost:{env_int('PORT', 8000)}" if DEBUG else "http://localhost:8000"
).rstrip("/")
if urlsplit(PUBLIC_BASE_URL).scheme not in ("http", "https"):
    fail(f"PUBLIC_BASE_URL must be an absolute http(s) URL, not {PUBLIC_BASE_URL!r}")

# Tenant routing already refuses unknown hosts for leader pages, and links are built from known domains,
# so any Host may reach the public webhooks unless the operator narrows it.
ALLOWED_HOSTS = [h.strip() for h in env_str("ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    origin.strip() for origin in env_str("CSRF_TRUSTED_ORIGINS").split(",") if origin.strip()
]

TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL", "https://api.twilio.com").rstrip("/")

REDIS_URL = env_str("REDIS_URL")

# The consent ledger's own key for its keyed phone hashes (members.consent.phone_hash): a STOP from a phone
# that is no member is recorded by that hash alone, so changing this key forgets every such opt-out. It is
# not SECRET_KEY, which may be rotated; it never changes. Required when DEBUG is off; a deployment that ran
# before it existed sets it to the SECRET_KEY it had (docs/architecture.md, "The consent ledger's key").
# The development default is the development SECRET_KEY's, so a development database keeps its ledger.
CONSENT_HASH_KEY = env_str("CONSENT_HASH_KEY") or (DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not CONSENT_HASH_KEY:
    fail("CONSENT_HASH_KEY must be set when DEBUG is off (upgrading: set it to your current SECRET_KEY)")
if not DEBUG and CONSENT_HASH_KEY == DEVELOPMENT_SECRET_KEY:
    fail("CONSENT_HASH_KEY is the public development key: set a secret one for production")

# --- database -------------------------------------------------------------------------------------------
EMBEDDED_DATABASE_DIR = Path(env_str("EMBEDDED_DATABASE_DIR") or BASE_DIR / ".data" / "postgres")
try:
    _database_url = env_str("DATABASE_URL") or embedded_database_url(EMBEDDED_DATABASE_DIR)
    DATABASES = {"default": database_from_url(_database_url)}
except DatabaseConfigError as exc:
    fail(str(exc))
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- tenancy (docs/architecture.md, "Schemas") ------------------------------------------------------------
SHARED_APPS = [
    "django_tenants",
    "leaders",
    "accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # opclass indexes (signup_member search), ArrayField lookups
    "django_q",
    "phonenumber_field",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Twilio's webhooks and the phone simulator, on the platform's host. No models: it works in the leaders'
    # schemas through the apps below, and has no tables of its own in any schema.
    "inbound",
]
TENANT_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "accounts",
    "topics",
    "members",
    "signup",
    "messaging",
    "districts",
    "triage",
    "surveys",
    "events",
    "console",
    "api",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "leaders.Leader"
TENANT_DOMAIN_MODEL = "leaders.Domain"
# New leaders are cloned from a migrated template schema, so creating the 1,000th leader costs what the
# first did however many migrations the tenant apps accumulate.
TENANT_BASE_SCHEMA = "leader_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Hosts that are no leader's domain (localhost, the webhook host) get the platform's own pages.
SHOW_PUBLIC_IF_NO_TENANT_FOUND = True
# django-tenants issues `SET search_path` before every query unless told otherwise: a round trip per query.
# With this, once after each change of schema (set_tenant, schema_context), new connection and rollback,
# which is when PostgreSQL's setting can differ from the one wanted.
TENANT_LIMIT_SET_CALLS = True
ROOT_URLCONF = "community.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "community.urls_public"
AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    "django_tenants.middleware.main.TenantMainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the tenant's: the leader's time zone for every page on their host (not the API).
    "console.middleware.LeaderTimeZoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "console.context_processors.console",
            ],
        },
    }
]

WSGI_APPLICATION = "community.wsgi.application"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- languages ------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("es", "Español"),
    ("de", "Deutsch"),
    ("ar", "العربية"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / ".data" / "media"
MEDIA_URL = "/media/"

# --- the leaders' console (team logins) ---------------------------------------------------------------
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # a reset link works for a day
# Mail (password resets, invitations): printed to the terminal in development; in production through SMTP
# configured by the environment, and never to standard output, where reset links would land in logs.
_CONSOLE_MAIL = "django.core.mail.backends.console.EmailBackend"
_SMTP_MAIL = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_BACKEND = env_str("EMAIL_BACKEND", _CONSOLE_MAIL if DEBUG else _SMTP_MAIL)
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"community@{PLATFORM_DOMAIN}")
if not DEBUG:
    if EMAIL_BACKEND in (_CONSOLE_MAIL, "django.core.mail.backends.filebased.EmailBackend"):
        fail("EMAIL_BACKEND prints or files mail, reset links included: use SMTP in production")
    if EMAIL_BACKEND == _SMTP_MAIL and not EMAIL_HOST:
        fail("EMAIL_HOST must be set in production (password resets and invitations are mailed)")
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        fail("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive: choose one")

PHONENUMBER_DEFAULT_REGION = None
PHONENUMBER_DB_FORMAT = "E164"

# --- cache: rate limits, API throttling and the dashboard's short-lived aggregates, shared by every web
# process (never the per-process default). Keys carry the schema name where they are per leader.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # A table in the public schema, created by `platform_migrate` (createcachetable).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "community_cache",
            # Rate-limit counters live here: the default 300 entries would cull them under a crowd.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# --- queue (django-q2, public schema only: tasks take the schema name) ----------------------------------
Q_CLUSTER = {
    "name": "community",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": 300,
    "retry": 360,
    "max_attempts": 3,
    "queue_limit": 100,
    "bulk": 10,
    "catch_up": False,
    "label": "Queue",
    # Broadcasts run in their own cluster and queue (Q_CLUSTER_NAME=broadcasts manage.py qcluster), so
    # a paced million-member send never delays one-to-one replies (messaging/broadcasts/tasks.py).
    "ALT_CLUSTERS": {
        "broadcasts": {"workers": env_int("Q_BROADCAST_WORKERS", 2), "timeout": 600, "retry": 720},
        # Outbound webhooks too (Q_CLUSTER_NAME=webhooks manage.py qcluster): a leader's slow receiver holds
        # only these workers, never the ones that send replies and confirmations (api/tasks.py). More
        # workers than WEBHOOK_LEADER_CONCURRENCY, so one leader's receivers never hold them all. An attempt
        # ends by its own deadline; the timeout only catches a worker stuck elsewhere (the sweep retries it).
        "webhooks": {"workers": env_int("Q_WEBHOOK_WORKERS", 4), "timeout": 60, "retry": 120},
        # Triage too (Q_CLUSTER_NAME=triage manage.py qcluster): sorting a burst of texts is CPU work that must
        # never delay replies or broadcasts (triage/tasks.py). A run gives its worker back after 20 s.
        "triage": {"workers": env_int("Q_TRIAGE_WORKERS", 2), "timeout": 120, "retry": 180},
    },
}
BROADCAST_CLUSTER = env_str("BROADCAST_CLUSTER", "broadcasts")
BROADCAST_DISPATCHERS = env_int("BROADCAST_DISPATCHERS", 2)  # dispatch tasks started per broadcast
WEBHOOK_CLUSTER = env_str("WEBHOOK_CLUSTER", "webhooks")
TRIAGE_CLUSTER = env_str("TRIAGE_CLUSTER", "triage")
# How much lower the triage workers' CPU priority is (os.nice): the webhook and the replies go first.
TRIAGE_NICE = env_int("TRIAGE_NICE", 19)
# Where the members' yes and no texts after an event's alert are read (events.tasks.answers_read): off the
# webhook's path, at the triage cluster's lower priority, so a burst of answers never slows the webhook.
ANSWERS_CLUSTER = env_str("ANSWERS_CLUSTER", TRIAGE_CLUSTER)
# One attempt at a webhook delivery, from resolving the host to the answer's last byte read, in seconds:
# a receiver that trickles its answer is cut there, and the attempt recorded as a timeout.
WEBHOOK_ATTEMPT_SECONDS = env_int("WEBHOOK_ATTEMPT_SECONDS", 10)
# Attempts of one leader's deliveries in flight at once; the others wait their turn.
WEBHOOK_LEADER_CONCURRENCY = env_int("WEBHOOK_LEADER_CONCURRENCY", 2)
if not 1 <= WEBHOOK_ATTEMPT_SECONDS <= 40:  # the webhooks cluster's timeout (60 s) must stay above it
    fail(f"WEBHOOK_ATTEMPT_SECONDS must be from 1 to 40, not {WEBHOOK_ATTEMPT_SECONDS}")
if WEBHOOK_LEADER_CONCURRENCY < 1:
    fail(f"WEBHOOK_LEADER_CONCURRENCY must be at least 1, not {WEBHOOK_LEADER_CONCURRENCY}")
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.2

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    # The API app (api/) sets its own authentication, permissions and throttles on its views; these apply
    # to every DRF view so that errors and the schema look the same everywhere.
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JsonParser"],
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
}
# Requests per API token, counted across every web process (the cache below is shared).
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "1200/minute")
# Outbound webhooks may target private, loopback and link-local addresses only when this is on (development
# and tests): in production a leader's owner could otherwise make our servers call internal services (SSRF).
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", DEBUG)

SPECTACULAR_SETTINGS = {
    "TITLE": "community API",
    "DESCRIPTION": "The REST API of one leader, on the leader's own host. See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "MemberStatusEnum": "members.models.Member.Status",
        "MemberGenderEnum": "members.models.Member.Gender",
        "ConversationStatusEnum": "messaging.models.Conversation.Status",
        "MessageStatusEnum": "messaging.models.SmsStatus",
        "WebhookDeliveryStatusEnum": "api.models.WebhookDelivery.Status",
        "QuestionKindEnum": "surveys.models.Question.Kind",
        "RunStateEnum": "surveys.models.Run.State",
        "SurveyTriggerEnum": "surveys.models.Survey.Trigger",
        "EventSourceEnum": "events.models.Source",
        # The platform's languages, named once whichever serializer lists them.
        "LanguageEnum": [code for code, _name in LANGUAGES],
    },
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

# Every handler masks phone numbers and emails (common/logs.py), query strings of request lines included:
# `runserver`'s access log is the django.server logger, and Django's own loggers are sent to these handlers
# rather than to the unmasked ones of its default configuration. Gunicorn's access log: gunicorn.conf.py.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "personal_data": {"()": "common.logs.PersonalDataFilter"},
        "forbidden": {"()": "common.logs.ForbiddenLogFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["personal_data"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["personal_data"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.request": {"filters": ["forbidden"]},
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
if not DEBUG:
    # HTTPS only, as `manage.py check --deploy` asks. Leaders live on subdomains of PLATFORM_DOMAIN, all
    # served by this platform over HTTPS (a wildcard certificate), so HSTS covers them too.
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Behind a reverse proxy that ends TLS, Django sees plain HTTP: name the header the proxy sets, and only
# when the proxy always sets it (overwriting what a client sent), e.g. "X-Forwarded-Proto: https".
_proxy_ssl_header = env_str("SECURE_PROXY_SSL_HEADER")
if _proxy_ssl_header:
    _header, _, _value = _proxy_ssl_header.partition(":")
    if not _header.strip() or not _value.strip():
        fail(f"SECURE_PROXY_SSL_HEADER must look like 'X-Forwarded-Proto: https', not {_proxy_ssl_header!r}")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _header.strip().upper().replace("-", "_"), _value.strip())
# The reverse proxies in front of the web processes, as addresses or networks (comma-separated; "unix" for a
# proxy that reaches gunicorn over a Unix socket, where there is no address). Only a request coming from one
# of them has its client read from X-Forwarded-For (common.clientip); otherwise that header is whatever the
# client wrote. Empty: the client is REMOTE_ADDR, and X-Forwarded-For is ignored.
TRUSTED_PROXIES = [entry.strip() for entry in env_str("TRUSTED_PROXIES").split(",") if entry.strip()]
for _proxy in TRUSTED_PROXIES:
    try:
        if _proxy != "unix":
            ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        fail(f"TRUSTED_PROXIES must list addresses or networks (10.0.0.0/8, 192.0.2.7, unix), not {_proxy!r}")
