"""Settings, read from environment variables with safe defaults.

Embedded tier (no variables set): SQLite in WAL mode, local files, in-process cache, debug off.
Production: FOODRISK_DATABASE_URL=postgres://…, FOODRISK_CACHE_URL=redis://…, FOODRISK_STORAGE=s3.
"""

import json
import os
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = Path(os.environ.get("FOODRISK_HOME", PACKAGE_DIR.parent.parent)).resolve()
VAR_DIR = Path(os.environ.get("FOODRISK_VAR_DIR", BASE_DIR / "var"))


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("FOODRISK_DEBUG")
TESTING = env_bool("FOODRISK_TESTING") or "PYTEST_VERSION" in os.environ


def installation_key(variable, file_name):
    """The key in the environment variable, else a per-installation key kept in a file under var/ (made on
    first use), so sessions and the audit chain survive restarts without a variable."""
    value = os.environ.get(variable)
    if value:
        return value
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / file_name
    try:  # O_EXCL: of two processes starting at once (test workers), one writes the key, both read it
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        from django.utils.crypto import get_random_string

        with os.fdopen(fd, "w") as f:
            f.write(get_random_string(64))
    return key_file.read_text().strip()


SECRET_KEY = installation_key("FOODRISK_SECRET_KEY", "secret_key")

ALLOWED_HOSTS = env_list("FOODRISK_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]") + (["testserver"] if TESTING else [])
CSRF_TRUSTED_ORIGINS = env_list("FOODRISK_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "django_tables2",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "captcha",
    "foodrisk.core",
    "foodrisk.enterprises",
    "foodrisk.records",
    "foodrisk.ingest",
    "foodrisk.indicators",
    "foodrisk.scoring",
    "foodrisk.alerts",
    "foodrisk.supervision",
    "foodrisk.sharing",
    "foodrisk.analytics",
    "foodrisk.demo",
    # after foodrisk.core: core's `db_worker` (heartbeat, recovery, reconnection) takes precedence over the stock one
    "django_tasks_db",
]

MIDDLEWARE = [
    "foodrisk.core.middleware.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "foodrisk.core.middleware.DefaultLanguageMiddleware",
    "foodrisk.core.middleware.RejectNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "foodrisk.core.middleware.RequestContextMiddleware",
    "foodrisk.core.security.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "foodrisk.urls"
WSGI_APPLICATION = "foodrisk.wsgi.application"
ASGI_APPLICATION = "foodrisk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "foodrisk.core.navigation.navigation",
            ],
            "builtins": ["django.templatetags.i18n"],
        },
    }
]

# --- database -------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("FOODRISK_DATABASE_URL", f"sqlite:///{VAR_DIR / 'foodrisk.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
# A connection kept across requests, or handed out by the pool (Django then passes psycopg_pool's
# check_connection as the pool's `check`), is checked before use: one the server dropped (restart, failover,
# pg_terminate_backend) is replaced instead of failing the request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if not DATABASE_URL.startswith("sqlite://:memory:"):
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE: a writer takes the lock at BEGIN, so the audit chain head is read under it.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "FOODRISK_DB_POOL", default=not TESTING
):
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": int(os.environ.get("FOODRISK_DB_POOL_MIN", 2)),
            "max_size": int(os.environ.get("FOODRISK_DB_POOL_MAX", 10)),
            "timeout": 10,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ----------------------------------------------------------------------------------------
CACHE_URL = os.environ.get("FOODRISK_CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
    # Sessions in Redis: SESSION_SAVE_EVERY_REQUEST (the idle timeout) rewrites the session on every page view,
    # which in the database was an UPDATE and a commit per request (issue #12). A Redis restart without
    # persistence logs everyone out; run Redis with appendonly if that matters.
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- files ----------------------------------------------------------------------------------------
MEDIA_ROOT = Path(os.environ.get("FOODRISK_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGE_KIND = os.environ.get("FOODRISK_STORAGE", "local")
if STORAGE_KIND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("FOODRISK_S3_BUCKET", "foodrisk"),
            "endpoint_url": os.environ.get("FOODRISK_S3_ENDPOINT_URL") or None,
            "access_key": os.environ.get("FOODRISK_S3_ACCESS_KEY"),
            "secret_key": os.environ.get("FOODRISK_S3_SECRET_KEY"),
            "region_name": os.environ.get("FOODRISK_S3_REGION") or None,
            "default_acl": "private",
            "querystring_auth": True,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

# --- auth and security ----------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "foodrisk.core.hashers.Argon2idHasher",  # OWASP parameters; verifies and upgrades Django-default argon2 hashes
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "foodrisk.core.validators.CharacterClassValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"

AXES_FAILURE_LIMIT = int(os.environ.get("FOODRISK_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = float(os.environ.get("FOODRISK_LOGIN_COOLOFF_HOURS", 0.5))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_VERBOSE = False
# After this many failed logins (from one address or for one username, as axes counts them) the login
# page asks for a captcha drawn locally (django-simple-captcha; no outside service).
LOGIN_CAPTCHA_AFTER = int(os.environ.get("FOODRISK_LOGIN_CAPTCHA_AFTER", 2))
CAPTCHA_LENGTH = 4
CAPTCHA_TIMEOUT = 5  # minutes
CAPTCHA_CHALLENGE_FUNCT = "captcha.helpers.random_char_challenge"

SESSION_COOKIE_AGE = int(os.environ.get("FOODRISK_SESSION_SECONDS", 30 * 60))
SESSION_SAVE_EVERY_REQUEST = True  # idle timeout, not absolute
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "foodrisk.core.views.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
}
if env_bool("FOODRISK_HTTPS"):
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Optional unified identity authentication (统一身份认证) over OpenID Connect.
OIDC_ENABLED = bool(os.environ.get("FOODRISK_OIDC_CLIENT_ID"))
if OIDC_ENABLED:
    INSTALLED_APPS.append("mozilla_django_oidc")
    AUTHENTICATION_BACKENDS.append("foodrisk.core.oidc.ScopedOIDCBackend")
    OIDC_RP_CLIENT_ID = os.environ["FOODRISK_OIDC_CLIENT_ID"]
    OIDC_RP_CLIENT_SECRET = os.environ.get("FOODRISK_OIDC_CLIENT_SECRET", "")
    OIDC_RP_SIGN_ALGO = os.environ.get("FOODRISK_OIDC_SIGN_ALGO", "RS256")
    OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("FOODRISK_OIDC_AUTHORIZATION_ENDPOINT", "")
    OIDC_OP_TOKEN_ENDPOINT = os.environ.get("FOODRISK_OIDC_TOKEN_ENDPOINT", "")
    OIDC_OP_USER_ENDPOINT = os.environ.get("FOODRISK_OIDC_USER_ENDPOINT", "")
    OIDC_OP_JWKS_ENDPOINT = os.environ.get("FOODRISK_OIDC_JWKS_ENDPOINT", "")
    OIDC_CREATE_USER = env_bool("FOODRISK_OIDC_CREATE_USER")

# Field encryption key (AES-256-GCM); derived from SECRET_KEY when not given, set it in production.
FIELD_ENCRYPTION_KEY = os.environ.get("FOODRISK_FIELD_KEY", "")
AUDIT_HASH_ALGORITHM = os.environ.get("FOODRISK_AUDIT_HASH", "sha256")  # or "sm3"
# The audit chain's HMAC key, never stored in the database (a database writer must not be able to recompute
# the chain). Keep it, with the checkpoint log, off the database host and with the backups' key material.
AUDIT_KEY = installation_key("FOODRISK_AUDIT_KEY", "audit_key")
# Signed checkpoints of the chain (count + head), appended outside the database.
AUDIT_CHECKPOINT_DIR = Path(os.environ.get("FOODRISK_AUDIT_CHECKPOINT_DIR", VAR_DIR / "audit-checkpoints"))

# --- REST API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Personal API tokens (Bearer) first: DRF answers a failed authentication with the first class's
    # WWW-Authenticate, so an expired or revoked token is a 401, not a 403. DRF's "Token" stays for the
    # service-account tokens made with `drf_create_token` (scripts/api-fuzz.sh, docs/deployment.md).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "foodrisk.core.api.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": ["foodrisk.core.api.parsers.JSONParserWithoutNul",
                               "foodrisk.core.api.parsers.FormParserWithoutNul",
                               "foodrisk.core.api.parsers.MultiPartParserWithoutNul"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "foodrisk.core.api.schema.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"user": "6000/hour", "anon": "60/hour"},
}
if "rest_framework.authtoken" not in INSTALLED_APPS:
    INSTALLED_APPS.append("rest_framework.authtoken")
# The OpenAPI schema and docs need a login unless opened on purpose (e.g. a partner's integration portal).
API_DOCS_PUBLIC = os.environ.get("FOODRISK_API_DOCS_PUBLIC", "") in ("1", "true", "yes")

SPECTACULAR_SETTINGS = {
    "TITLE": "foodrisk API",
    "DESCRIPTION": "食品企业信用风险分类管理系统 REST API",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "REDOC_DIST": "SIDECAR",  # served from our static files, no CDN
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # one name for a choice set several fields use (a push's event type(s), a delivery's status)
    "ENUM_NAME_OVERRIDES": {"WebhookEventTypeEnum": "foodrisk.sharing.models.EventType",
                            "WebhookDeliveryStatusEnum": "foodrisk.sharing.models.DeliveryStatus"},
}

# --- background work ------------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("FOODRISK_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "scoring", "ingest"],
    }
}

# The worker's heartbeat (seconds), and how long a worker or a job may stay silent before its work counts as
# abandoned (marked failed, or queued again when that is safe).
WORKER_HEARTBEAT_SECONDS = float(os.environ.get("FOODRISK_WORKER_HEARTBEAT", 10))
WORKER_DEAD_AFTER_SECONDS = float(os.environ.get("FOODRISK_WORKER_DEAD_AFTER", 90))
# Tests run the reactions of a committed write right after the commit, in-process, through the same task rows
# and runner the worker uses (deterministic, no worker process needed). Production leaves them to the worker.
REACTIONS_ON_COMMIT = env_bool("FOODRISK_REACTIONS_ON_COMMIT", default=TESTING)

# Push subscriptions (sharing webhooks): endpoints are https on public addresses. These open http to any host and
# internal/loopback addresses (a receiver inside the government network, tests) — an SSRF door, off by default.
SHARING_WEBHOOK_ALLOW_HTTP = env_bool("FOODRISK_WEBHOOK_ALLOW_HTTP", default=False)
SHARING_WEBHOOK_ALLOW_PRIVATE = env_bool("FOODRISK_WEBHOOK_ALLOW_PRIVATE", default=False)

# A delivery's files (foodrisk import --manifest) imported by this many processes at once once its
# enterprises are in (PostgreSQL only: SQLite has one writer). Default: one per core, at most 4.
INGEST_WORKERS = int(os.environ.get("FOODRISK_INGEST_WORKERS", 0)) or min(4, os.cpu_count() or 1)

# --- i18n -----------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

DJANGO_TABLES2_TEMPLATE = "django_tables2/table.html"

# Django 6.1 mailer configuration (replaces EMAIL_BACKEND); console by default, SMTP when a host is set.
if os.environ.get("FOODRISK_SMTP_HOST"):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {
        "host": os.environ["FOODRISK_SMTP_HOST"], "port": int(os.environ.get("FOODRISK_SMTP_PORT", 465)),
        "username": os.environ.get("FOODRISK_SMTP_USER", ""), "password": os.environ.get("FOODRISK_SMTP_PASSWORD", ""),
        "use_ssl": env_bool("FOODRISK_SMTP_SSL", True)}}}
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("FOODRISK_FROM_EMAIL", "foodrisk@localhost")
SMS_BACKEND = os.environ.get("FOODRISK_SMS_BACKEND", "foodrisk.core.sms.LoggingSMSBackend")

# --- operations -----------------------------------------------------------------------------------
# Logs: one JSON object per line on stderr (core.logs), with the request id; FOODRISK_LOG_FORMAT=plain for a
# human at a terminal.
LOG_FORMAT = os.environ.get("FOODRISK_LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
                   "json": {"()": "foodrisk.core.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain" if LOG_FORMAT == "plain" else "json"}},
    "root": {"handlers": ["console"], "level": os.environ.get("FOODRISK_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"},
                # one access line per request; FOODRISK_ACCESS_LOG=0 leaves it to the reverse proxy
                "foodrisk.access": {"level": "INFO" if env_bool("FOODRISK_ACCESS_LOG", True) else "WARNING"}},
}
# List pages keep their "N records" count this long (core.paginators); 0 counts on every view.
LIST_COUNT_CACHE_SECONDS = int(os.environ.get("FOODRISK_LIST_COUNT_CACHE_SECONDS", 0 if TESTING else 60))
# /metrics answers only with "Authorization: Bearer <this token>"; unset, the endpoint is off (404).
METRICS_TOKEN = os.environ.get("FOODRISK_METRICS_TOKEN", "")
# /readyz: the worker is stale when a task waited this long while no worker process beat (core.health.worker_heartbeat).
WORKER_STALE_SECONDS = int(os.environ.get("FOODRISK_WORKER_STALE_SECONDS", 300))
# /readyz reports the last published scoring run as stale past this age (not critical: grades stay valid).
SCORING_MAX_AGE_HOURS = float(os.environ.get("FOODRISK_SCORING_MAX_AGE_HOURS", 24 * 32))
# Scoring back end (docs/deployment.md, "National scale on Apache Spark"): a full run over more enterprises than
# FOODRISK_SPARK_THRESHOLD goes to Spark (0 = never by size; `foodrisk score --full --engine spark` forces it).
# The master: local[N] runs in the worker's process; any other (spark://…, yarn, k8s://…) is reached through
# spark-submit with the job directory FOODRISK_SPARK_WORK_DIR (a path or URI the cluster reads: shared
# storage, hdfs://…, s3://…). FOODRISK_SPARK_CONF: extra Spark settings as JSON ({"spark.executor.memory": "8g"}).
SPARK_THRESHOLD = int(os.environ.get("FOODRISK_SPARK_THRESHOLD", 0))
SPARK_MASTER = os.environ.get("FOODRISK_SPARK_MASTER", "local[*]")
SPARK_WORK_DIR = os.environ.get("FOODRISK_SPARK_WORK_DIR", str(VAR_DIR / "spark"))
SPARK_SUBMIT = os.environ.get("FOODRISK_SPARK_SUBMIT", "spark-submit")
SPARK_CONF = json.loads(os.environ.get("FOODRISK_SPARK_CONF", "{}"))
