"""Django settings for vipcare, configured from the environment.

VIPCARE_DATA_DIR   folder for the embedded database and generated keys (default ./var)
DATABASE_URL       e.g. postgres://user:pw@127.0.0.1:5432/vipcare (default: SQLite in the data folder)
VIPCARE_SECRET_KEY Django's secret key (default: generated once into the data folder)
VIPCARE_DATA_KEY   Fernet key(s) for personal data at rest, comma-separated, newest first
                   (default: generated once into the data folder)
VIPCARE_INDEX_KEY  key of the blind index used for phone lookups (default: generated once)
VIPCARE_TIME_ZONE  default Asia/Shanghai;  VIPCARE_LANGUAGE  default zh-hans
VIPCARE_DEBUG      1 for development;  VIPCARE_ALLOWED_HOSTS  comma-separated
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("VIPCARE_DATA_DIR", Path.cwd() / "var")).resolve()


def _key_from_env_or_file(env_name: str, file_name: str, make) -> str:
    """A key from the environment, else one generated once and kept in the data folder."""
    value = os.environ.get(env_name)
    if value:
        return value
    path = DATA_DIR / file_name
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


SECRET_KEY = _key_from_env_or_file("VIPCARE_SECRET_KEY", "secret.key", lambda: secrets.token_urlsafe(50))
VIPCARE_DATA_KEYS = [
    k.strip() for k in _key_from_env_or_file("VIPCARE_DATA_KEY", "data.key", _fernet_key).split(",") if k.strip()
]
VIPCARE_INDEX_KEY = _key_from_env_or_file("VIPCARE_INDEX_KEY", "index.key", lambda: secrets.token_hex(32))

DEBUG = os.environ.get("VIPCARE_DEBUG", "") in ("1", "true", "yes")
ALLOWED_HOSTS = [h for h in os.environ.get("VIPCARE_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("VIPCARE_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "vipcare.core",
    "vipcare.org",
    "vipcare.members",
    "vipcare.sales",
    "vipcare.loyalty",
    "vipcare.wallet",
    "vipcare.analytics",
    "vipcare.offers",
    "vipcare.till",
    "vipcare.rewards",
    "vipcare.programme",
    "vipcare.care",
    "vipcare.demo",
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
]

ROOT_URLCONF = "vipcare.urls"
WSGI_APPLICATION = "vipcare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "vipcare.org.context_processors.staff",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'vipcare.sqlite3'}",
        conn_max_age=int(os.environ.get("VIPCARE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while one writer commits; IMMEDIATE transactions take the write
    # lock at BEGIN, so concurrent writers queue instead of failing half-way with "locked".
    DATABASES["default"]["ENGINE"] = "vipcare.core.sqlite3"  # Django's, with the process's writers queued
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0 if DATABASES["default"]["NAME"] == ":memory:" else 60

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = os.environ.get("VIPCARE_LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("VIPCARE_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Static files are served by WhiteNoise straight from the installed packages (no collectstatic);
# set VIPCARE_STATIC_ROOT only to collect them for a front web server.
STATIC_ROOT = os.environ.get("VIPCARE_STATIC_ROOT") or None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATICFILES_DIRS = [BASE_DIR / "static"]  # the project's own CSS (src/vipcare/static/vipcare/)
WHITENOISE_USE_FINDERS = True  # serve straight from the installed packages: no collectstatic step

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Currency shown on screens; amounts are kept as integer fen everywhere.
VIPCARE_CURRENCY = _("¥")
# How many rows an import writes per statement.
VIPCARE_IMPORT_CHUNK = int(os.environ.get("VIPCARE_IMPORT_CHUNK", "5000"))
