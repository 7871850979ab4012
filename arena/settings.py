"""Settings come from environment variables, with defaults that run on a fresh machine.

ARENA_DATABASE_URL  database URL (dj-database-url); default SQLite in ARENA_DATA_DIR
ARENA_REDIS_URL     Redis for the channel layer and the Celery broker; default the
                    embedded redis-server on a unix socket in ARENA_DATA_DIR
ARENA_DATA_DIR      local state (SQLite file, embedded Redis socket, secret key); default ./var
ARENA_SECRET_KEY    default: generated once and kept in ARENA_DATA_DIR/secret_key
ARENA_DEBUG         "1"/"true" to enable Django's debug mode (off by default)
ARENA_ALLOWED_HOSTS comma-separated; default localhost,127.0.0.1,[::1]
ARENA_SERVE_STATIC  serve /static/ from the ASGI app (default on; turn off behind a proxy
                    that serves STATIC_ROOT)
ARENA_CSRF_TRUSTED_ORIGINS  comma-separated origins, e.g. https://arena.example.org
ARENA_BEHIND_TLS_PROXY      "1" when a proxy terminates TLS and sets X-Forwarded-Proto: https
                            redirect, HSTS (ARENA_HSTS_SECONDS, default a year), secure cookies
ARENA_LOGIN_FAILURE_LIMIT   failed log-ins per account or address before a lockout (default 5)
ARENA_LOGIN_COOLOFF_MIN     minutes a lockout lasts (default 15)
ARENA_API_RATE_PER_MIN      agent API requests a minute per token (default 600; 0 = no limit)
ARENA_MAX_RUNNING_MATCHES_PER_PLAYER / _PER_ADDRESS, ARENA_MAX_MATCHES_PER_HOUR_PER_PLAYER /
_PER_ADDRESS                fair-play caps on match creation (README, Configuration)
ARENA_TRUSTED_PROXIES       proxies whose X-Forwarded-For names the client address
ARENA_TOURNAMENT_MAX_ROUNDS rounds one tournament may have (default 2000)
ARENA_RATINGS_*             the ratings task: debounce, schedule, bootstrap rounds, minimum matches
                            before a player is ranked (below, and README, Ratings)
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from arena.embedded import socket_path_for

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("ARENA_DATA_DIR") or BASE_DIR / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    if os.environ.get("ARENA_SECRET_KEY"):
        return os.environ["ARENA_SECRET_KEY"]
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key = secrets.token_urlsafe(50)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("ARENA_DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ARENA_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("ARENA_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]
SERVE_STATIC = _env_bool("ARENA_SERVE_STATIC", True)
BEHIND_TLS_PROXY = _env_bool("ARENA_BEHIND_TLS_PROXY")
if BEHIND_TLS_PROXY:
    # The proxy terminates TLS and says so in X-Forwarded-Proto; anything that reaches us as
    # plain http through it is sent to https, and browsers are told to stay on https.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Load balancers and orchestrators probe the app directly over http: answer them, do not
    # redirect them to an https port nothing listens on. (SECURE_REDIRECT_EXEMPT is matched
    # against the path without its leading slash.)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("ARENA_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("ARENA_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _env_bool("ARENA_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "csp",
    "axes",
    "games",
    "arena",
    "workers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out log-in into the lockout response.
    "axes.middleware.AxesMiddleware",
]

# -- content security policy (django-csp) ---------------------------------------------------------
# No inline script, no inline style, nothing from other origins: every script and stylesheet is a
# file under /static/ (data for scripts comes in data-* attributes or json_script blocks, which a
# browser never executes). 'self' also covers same-origin ws:/wss: for the match WebSocket.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# -- failed log-ins (django-axes) ---------------------------------------------------------------
# Failures are counted per account and, separately, per client address; either reaching the
# limit refuses further log-ins (even with the right password) until the cool-off has passed.
# The address is REMOTE_ADDR: behind a proxy run uvicorn/daphne with --proxy-headers so it is
# the client's, not the proxy's.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("ARENA_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("ARENA_LOGIN_COOLOFF_MIN", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A success does not wipe the count: it would clear the address's failures too, so a guesser
# could log in to an account of their own between guesses and never reach the limit.
AXES_RESET_ON_SUCCESS = False
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "arena.lockout.lockout_response"
AXES_VERBOSE = False

ROOT_URLCONF = "arena.urls"
ASGI_APPLICATION = "arena.asgi.application"

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
                "games.research.navigation.role_links",
            ],
        },
    },
]

# -- database ------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("ARENA_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'arena.sqlite3'}"
# Persistent connections: consumers run ORM work through database_sync_to_async, which
# would otherwise open a new connection for every move. No health check by default: Django
# runs it at the first query after every close_old_connections(), which database_sync_to_async
# calls for every socket message, so on PostgreSQL each move paid a `SELECT 1` round trip. A
# connection that breaks is still closed after the error it causes (errors_occurred) and the
# next message gets a fresh one; ARENA_DB_HEALTH_CHECKS=1 turns the check back on.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=int(os.environ.get("ARENA_DB_CONN_MAX_AGE", "600")),
        conn_health_checks=_env_bool("ARENA_DB_HEALTH_CHECKS"),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take the lock up front so two concurrent moves queue instead of failing
    # with "database is locked" half-way through a transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not Django's in-memory default, so the ASGI server threads in the browser tests
    # share the test database through ordinary connections.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# -- redis: channel layer and celery broker ---------------------------------------------------
REDIS_URL = os.environ.get("ARENA_REDIS_URL", "")
EMBEDDED_REDIS_SOCKET = socket_path_for(DATA_DIR)
if REDIS_URL:
    CHANNEL_REDIS_HOST = REDIS_URL
    CELERY_BROKER_URL = REDIS_URL
else:
    # channels-redis wants unix://, Celery (kombu) wants redis+socket:// for the same socket.
    CHANNEL_REDIS_HOST = f"unix://{EMBEDDED_REDIS_SOCKET}"
    CELERY_BROKER_URL = f"redis+socket://{EMBEDDED_REDIS_SOCKET}"

CHANNEL_REDIS_HOST = os.environ.get("ARENA_CHANNEL_REDIS_URL") or CHANNEL_REDIS_HOST

CHANNEL_LAYERS = {
    "default": {
        # The core RedisChannelLayer fails group_add at ~200 simultaneous connections
        # (redis-py's 100-connection asyncio pool); the pub/sub layer holds 500+. Ours hands a
        # process's own messages over in memory and batches its publishes (games.play.channel_layer).
        "BACKEND": (
            "games.play.channel_layer.LocalFirstChannelLayer"
            if os.environ.get("ARENA_WS_LOCAL_FANOUT", "1") != "0"
            else "channels_redis.pubsub.RedisPubSubChannelLayer"
        ),
        "CONFIG": {"hosts": [CHANNEL_REDIS_HOST], "prefix": os.environ.get("ARENA_CHANNEL_PREFIX", "arena")},
    }
}

# The cache holds the agent API's per-token rate-limit counters. With ARENA_REDIS_URL (a
# deployment, possibly several ASGI processes) they live in that Redis so every process counts
# against one budget; `manage.py up` points its web processes at the embedded Redis
# (ARENA_CACHE_URL); a lone process without either keeps them in its own memory.
CACHE_URL = os.environ.get("ARENA_CACHE_URL") or REDIS_URL
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "arena",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
ARENA_API_RATE_PER_MIN = int(os.environ.get("ARENA_API_RATE_PER_MIN", "600"))
# When one web process is full (games/play/metrics.py): past this many open match sockets, or
# this many socket moves waiting for a database thread, a new socket is told to come back in a
# minute instead of slowing everyone down.
ARENA_WS_MAX_SOCKETS = int(os.environ.get("ARENA_WS_MAX_SOCKETS", "4000"))
ARENA_WS_MAX_QUEUED_MOVES = int(os.environ.get("ARENA_WS_MAX_QUEUED_MOVES", "400"))
# Rounds (variants x seeds) one tournament may have; creating more is refused with a message.
ARENA_TOURNAMENT_MAX_ROUNDS = int(os.environ.get("ARENA_TOURNAMENT_MAX_ROUNDS", "2000"))
# Studies keep participants' panel IDs only as HMAC-SHA256 under this key (default: derived from
# SECRET_KEY). Whoever holds it can find a given ID's rows (a withdrawal); keep it as the secret key.
ARENA_STUDY_ID_KEY = os.environ.get("ARENA_STUDY_ID_KEY", "")

# Fair play (games/play/limits.py): matches a player (a guest's session, an account, an agent token)
# and a client address may have in play at once, and may start an hour. 0 = no cap. An address
# gets more room than a player: a classroom or an office shares one.
ARENA_MAX_RUNNING_MATCHES_PER_PLAYER = int(os.environ.get("ARENA_MAX_RUNNING_MATCHES_PER_PLAYER", "5"))
ARENA_MAX_MATCHES_PER_HOUR_PER_PLAYER = int(os.environ.get("ARENA_MAX_MATCHES_PER_HOUR_PER_PLAYER", "60"))
ARENA_MAX_RUNNING_MATCHES_PER_ADDRESS = int(os.environ.get("ARENA_MAX_RUNNING_MATCHES_PER_ADDRESS", "20"))
ARENA_MAX_MATCHES_PER_HOUR_PER_ADDRESS = int(os.environ.get("ARENA_MAX_MATCHES_PER_HOUR_PER_ADDRESS", "300"))
# Proxies whose X-Forwarded-For is believed when they are the peer (addresses or networks,
# comma-separated). Behind the TLS proxy the default is the proxy on this machine; otherwise
# none, and the client address is the connection's own: anybody can send the header.
ARENA_TRUSTED_PROXIES = [
    p.strip()
    for p in os.environ.get(
        "ARENA_TRUSTED_PROXIES", "127.0.0.1,::1" if _env_bool("ARENA_BEHIND_TLS_PROXY") else ""
    ).split(",")
    if p.strip()
]

# Tests (and odd deployments) can point Celery elsewhere than the channel layer.
CELERY_BROKER_URL = os.environ.get("ARENA_CELERY_BROKER_URL") or CELERY_BROKER_URL
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
CELERY_TASK_IGNORE_RESULT = True  # tasks write to the database; nobody waits on results
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("ARENA_CELERY_QUEUE", "arena")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Keep a worker's database connection across tasks (see arena/celery.py); Django's CONN_MAX_AGE
# and health checks decide when it is replaced.
CELERY_DB_REUSE_MAX = int(os.environ.get("ARENA_CELERY_DB_REUSE_MAX", "1000"))
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 150
# Model turns: HTTP timeout (per contestant, default 60 s) < soft < hard < visibility timeout.
ARENA_MODEL_TURN_SOFT_LIMIT_S = int(os.environ.get("ARENA_MODEL_TURN_SOFT_LIMIT_S", "150"))
ARENA_MODEL_TURN_HARD_LIMIT_S = int(os.environ.get("ARENA_MODEL_TURN_HARD_LIMIT_S", "180"))
ARENA_MODEL_RETRY_BASE_S = float(os.environ.get("ARENA_MODEL_RETRY_BASE_S", "2"))
ARENA_MODEL_RETRY_CAP_S = float(os.environ.get("ARENA_MODEL_RETRY_CAP_S", "30"))
# A failing turn is retried until it has failed this long (an outage, a local server restarting)
# or for this many attempts, whichever comes first; then the seat ends with the last error.
# A worker builds every family's reference spaces when it starts (workers/warmup.py), so the
# first turn of the first race is as fast as the rest; 0 skips it (test workers start faster).
ARENA_WORKER_WARMUP = os.environ.get("ARENA_WORKER_WARMUP", "1") != "0"
ARENA_MODEL_OUTAGE_S = float(os.environ.get("ARENA_MODEL_OUTAGE_S", "300"))
ARENA_MODEL_MAX_RETRIES = int(os.environ.get("ARENA_MODEL_MAX_RETRIES", "100"))
# A model-turn task plays on into the seat's next turns for this long before queueing the next
# one (fast models skip a broker round trip per turn; 0 = one turn per task).
ARENA_MODEL_TURN_SLICE_S = float(os.environ.get("ARENA_MODEL_TURN_SLICE_S", "0.5"))
# A model seat with no step and no call for this long is given its next turn again by the sweep,
# whoever owns it (more than the hard time limit plus the longest retry backoff). A seat whose
# owning worker died is given it at the next sweep instead.
# The admin's "Test connection" for a model contestant: the project wires the workers' client into
# the admin (games never imports workers).
ARENA_CONTESTANT_PROBE = "workers.probe.contestant_probe"
ARENA_MODEL_STALL_S = float(os.environ.get("ARENA_MODEL_STALL_S", "300"))
# The periodic sweep (a self-rescheduling task; no beat process): lost model turns, in-flight
# calls of dead workers, abandoned matches.
ARENA_SWEEP_S = float(os.environ.get("ARENA_SWEEP_S", "10"))
# Each worker's heartbeat; a worker silent for three of them (or whose process is gone, on the
# same host) is dead.
ARENA_WORKER_HEARTBEAT_S = float(os.environ.get("ARENA_WORKER_HEARTBEAT_S", "5"))
# A person's or agent's seat with no move for this long is timed out, and a match nobody started
# for this long is aborted, so the models in it are freed (0 = never).
ARENA_SEAT_IDLE_TIMEOUT_S = float(os.environ.get("ARENA_SEAT_IDLE_TIMEOUT_S", "900"))
# How step_submit writes a move: "sql", the hand-built statements of games/play/fastpath.py (about
# half the server CPU per move), or "orm", the same through the ORM (the reference they are
# tested and benchmarked against: tests/bench/bench_ws_moves.py --paths sql,orm).
ARENA_MOVE_PATH = os.environ.get("ARENA_MOVE_PATH", "sql")
if ARENA_MOVE_PATH not in ("sql", "orm"):
    raise ImproperlyConfigured(f"ARENA_MOVE_PATH must be sql or orm, not {ARENA_MOVE_PATH!r}")
# Ratings (games/competition/rating_snapshots.py), fitted by the workers.ratings_refresh task that
# the sweep queues: once a ranked match has ended and none has ended for DEBOUNCE_S (or the last fit
# is MAX_WAIT_S old while matches keep ending), and every EVERY_S (the 30- and 7-day windows move).
ARENA_RATINGS_DEBOUNCE_S = float(os.environ.get("ARENA_RATINGS_DEBOUNCE_S", "30"))
ARENA_RATINGS_MAX_WAIT_S = float(os.environ.get("ARENA_RATINGS_MAX_WAIT_S", "600"))
ARENA_RATINGS_EVERY_S = float(os.environ.get("ARENA_RATINGS_EVERY_S", "3600"))
ARENA_RATINGS_ROUNDS = int(os.environ.get("ARENA_RATINGS_ROUNDS", "100"))  # bootstrap rounds
ARENA_RATINGS_MIN_MATCHES = int(os.environ.get("ARENA_RATINGS_MIN_MATCHES", "5"))  # below: provisional
# A run starts no new fit after this long (inside the task's soft limit); the next run goes on.
ARENA_RATINGS_BUDGET_S = float(os.environ.get("ARENA_RATINGS_BUDGET_S", "300"))
# How often a running tournament checks its rounds and starts new ones.
ARENA_TOURNAMENT_TICK_S = float(os.environ.get("ARENA_TOURNAMENT_TICK_S", "2"))
# Broker visibility must exceed the hard time limit, or a long task is delivered twice; it is
# also how long a task held by a worker that died (kill -9) waits before it is delivered again.
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
    "visibility_timeout": int(os.environ.get("ARENA_CELERY_VISIBILITY_TIMEOUT", "600"))
}
# How often a worker sweeps for such tasks (kombu's default: about every 100 s).
if os.environ.get("ARENA_CELERY_RESTORE_SWEEP_S"):
    CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_interval"] = int(
        os.environ["ARENA_CELERY_RESTORE_SWEEP_S"]
    )
    CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_throttle"] = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# -- auth, i18n, static -------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 90

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "games": {"handlers": ["console"], "level": os.environ.get("ARENA_LOG_LEVEL", "INFO")},
        "arena": {"handlers": ["console"], "level": os.environ.get("ARENA_LOG_LEVEL", "INFO")},
    },
}
