"""The one settings module. Everything that differs between machines comes from the
environment (or an `.env` file in the instance folder), never from a second settings file.

Environment:
  YICIBAN_INSTANCE_DIR  folder for the SQLite database, generated secrets, uploads (./instance)
  DATABASE_URL          sqlite:///… (default: the instance database) or postgres://…
  SECRET_KEY            default: generated once into the instance folder
  FIELD_ENCRYPTION_KEY  key for personal data at rest (default: generated into the instance)
  DEBUG                 off unless set
  ALLOWED_HOSTS         comma-separated (default: localhost names)
"""

import secrets
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent.parent

env = environ.Env()
INSTANCE_DIR = Path(env.str("YICIBAN_INSTANCE_DIR", default=str(REPO_DIR / "instance"))).resolve()
INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
if (INSTANCE_DIR / ".env").exists():
    environ.Env.read_env(INSTANCE_DIR / ".env")


def _instance_secret(name: str, nbytes: int = 48) -> str:
    """A secret generated once per instance and kept in its folder (mode 0600), so a demo
    install is safe without configuration and survives restarts."""
    path = INSTANCE_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or _instance_secret("secret_key")
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="") or _instance_secret(
    "field_encryption_key", 32
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    # layer 1
    "yiciban.core",
    # layer 2
    "yiciban.ledger",
    "yiciban.org",
    "yiciban.notifications",
    # layer 3
    "yiciban.accounts",
    "yiciban.catalog",
    "yiciban.sharing",
    # layer 4
    "yiciban.archive",
    "yiciban.licences",
    # layer 5
    "yiciban.cases",
    # layer 6 (practices)
    "yiciban.openness",
    "yiciban.hotline",
    "yiciban.housing",
    # layer 7 (faces)
    "yiciban.web",
    "yiciban.wiring.WiringConfig",  # registers layer-4 apps in the case engine's hooks
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "yiciban.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "yiciban.urls"
WSGI_APPLICATION = "yiciban.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yiciban.web.context_processors.site",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{INSTANCE_DIR / 'yiciban.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so
    # two writers queue (busy timeout) instead of failing with "database is locked" mid-way.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"

# --- language and time ----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"  # shown; stored UTC (USE_TZ)
USE_TZ = True

# --- static and uploads ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = INSTANCE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
MEDIA_ROOT = INSTANCE_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)

# --- background work ------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- security -------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env.bool("HTTPS", default=False):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

# --- platform -------------------------------------------------------------------------
YICIBAN = {
    # The deployment's name, shown in the header.
    "SITE_NAME": env.str("YICIBAN_SITE_NAME", default="一次办 · 湖南县域政务服务平台"),
    "DEMO": env.bool("YICIBAN_DEMO", default=False),
    # How often a process re-reads the catalogue revision (compiled bundles are cached).
    "CATALOG_RECHECK_SECONDS": env.float("YICIBAN_CATALOG_RECHECK_SECONDS", default=1.0),
    # The ledger's checkpoint origin line (C2SP tlog-checkpoint): ASCII, names this log.
    "LEDGER_ORIGIN": env.str("YICIBAN_LEDGER_ORIGIN", default="yiciban.example/ledger"),
    # Longest wait between an append and its integration into the signed tree.
    "LEDGER_INTEGRATION_DELAY_SECONDS": env.float("YICIBAN_LEDGER_INTEGRATION_DELAY", default=0.1),
    # How often a process re-checks whether an admin changed the working-day calendar.
    "CALENDAR_RECHECK_SECONDS": env.float("YICIBAN_CALENDAR_RECHECK_SECONDS", default=5),
}

# --- notifications: e-mail and SMS (development default: both write into <instance>/outbox/)
_email = env.email_url("EMAIL_URL", default=f"filemail:///{INSTANCE_DIR / 'outbox' / 'mail'}")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="一次办 <noreply@yiciban.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
YICIBAN_SMS_GATEWAY = env.str(
    "YICIBAN_SMS_GATEWAY", default="yiciban.notifications.gateways.FileSmsGateway"
)
YICIBAN_SMS_FILE = env.str("YICIBAN_SMS_FILE", default=str(INSTANCE_DIR / "outbox" / "sms.jsonl"))
YICIBAN_SMS_HTTP_URL = env.str("YICIBAN_SMS_HTTP_URL", default="")
YICIBAN_SMS_HTTP_KEY = env.str("YICIBAN_SMS_HTTP_KEY", default="")
YICIBAN_OUTBOX_MAX_ATTEMPTS = env.int("YICIBAN_OUTBOX_MAX_ATTEMPTS", default=6)
YICIBAN_OUTBOX_RETRY_BASE_SECONDS = env.int("YICIBAN_OUTBOX_RETRY_BASE_SECONDS", default=60)
# Absolute base for links in SMS and e-mail (e.g. https://zwfw.example.gov.cn)
YICIBAN_PUBLIC_URL = env.str("YICIBAN_PUBLIC_URL", default="")
# E-licence signature algorithm per issuing department: "<department USCC or *>=SM2,…"
YICIBAN_LICENCE_KEY_ALGORITHMS = env.dict("YICIBAN_LICENCE_KEY_ALGORITHMS", default={})
# Licence signatures found valid that a process remembers (0: verify every time)
YICIBAN_SIGNATURE_CACHE_SIZE = env.int("YICIBAN_SIGNATURE_CACHE_SIZE", default=4096)
