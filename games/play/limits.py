"""Fair play: who created a match, how many matches a creator may have, and which matches
really hold a model contestant.

A creator is a guest's browser session, a signed-in account, or an agent token, always together
with the client address it came from (a guest who drops the session cookie is still one address).
The caps are counted from ``Match``'s creator fields, so a model-only race a visitor starts to
watch counts too. Matches made by the arena itself (tournaments, the bench command) have no
creator and no caps.

"Really played" is defined once, in ``live_match_q``: a waiting or running match that a person
or agent is still playing (a playing seat that moved, joined or started within
ARENA_SEAT_IDLE_TIMEOUT_S), or a model-only match with a model still playing. Both the
creator's running cap and a contestant's ``max_concurrent_matches`` count only those, so a guest
who opens races and walks away holds nothing once they go idle.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from games.models import Match, Seat, Step

DEFAULT_SEAT_IDLE_TIMEOUT_S = 900.0
HOUR = dt.timedelta(hours=1)
OPEN_STATUSES = (Match.Status.WAITING, Match.Status.RUNNING)


# -- who is asking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Creator:
    """Whoever asks for a new match. One of ``user_id`` / ``session_key`` / ``token_id`` names the
    player (an account covers all its sessions); ``address`` is the keyed hash of the client
    address (``address_key``), never the address itself."""

    user_id: int | None = None
    session_key: str = ""
    token_id: int | None = None
    address: str = ""

    def player(self) -> tuple[str, Q, str] | None:
        """(what to call the player in a message, the filter for their matches, a lock key)."""
        if self.token_id is not None:
            return "this API token", Q(creator_token_id=self.token_id), f"token:{self.token_id}"
        if self.user_id is not None:
            return "your account", Q(creator_user_id=self.user_id), f"user:{self.user_id}"
        if self.session_key:
            return (
                "this browser session",
                Q(creator_session_key=self.session_key),
                f"session:{self.session_key}",
            )
        return None


def address_key(address: str) -> str:
    """A keyed hash of the client address, so the table holds no address. IPv6 clients are
    counted by their /64: one host usually holds a whole /64 and could otherwise hop addresses
    at will. An IPv4-mapped IPv6 address counts as its IPv4 address."""
    address = address.strip()
    if not address:
        return ""  # no peer address (a unix socket): no address to count by
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return _keyed(address)  # not an address, but the same text is the same client
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        else:
            return _keyed(str(ipaddress.IPv6Network((ip, 64), strict=False)))
    return _keyed(str(ip))


def _keyed(value: str) -> str:
    return salted_hmac("arena.creator-address", value, algorithm="sha256").hexdigest()[:32]


def _trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in getattr(settings, "ARENA_TRUSTED_PROXIES", [])]


def client_address(meta: dict[str, Any]) -> str:
    """The client's address from a request's META. REMOTE_ADDR, unless it is one of
    ARENA_TRUSTED_PROXIES: then X-Forwarded-For is read from the right (each proxy appends the
    address it saw), skipping trusted proxies, and the first address that is not one of ours is
    the client. Entries left of it were written by the client and are never believed."""
    remote = str(meta.get("REMOTE_ADDR") or "").strip()
    trusted = _trusted_proxies()
    if not trusted:
        return remote
    chain = [part.strip() for part in str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if part.strip()]
    chain.append(remote)
    for hop in reversed(chain):
        try:
            ip = ipaddress.ip_address(hop)
        except ValueError:
            return hop  # garbage in a header our proxy passed on: count it as one address
        if not any(ip in net for net in trusted):
            return hop
    return chain[0]


def creator_for_request(request: Any, *, session_key: str = "", token: Any = None) -> Creator:
    """The creator behind a browser request (its account, else its session) or an agent token."""
    address = address_key(client_address(request.META))
    if token is not None:
        return Creator(token_id=token.pk, address=address)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Creator(user_id=user.pk, address=address)
    return Creator(session_key=session_key, address=address)


# -- what is really being played ---------------------------------------------------------------------


def _idle_cutoff(now: dt.datetime) -> dt.datetime:
    # ARENA_SEAT_IDLE_TIMEOUT_S belongs to the idle-seat sweep; read here with the same default.
    idle = float(getattr(settings, "ARENA_SEAT_IDLE_TIMEOUT_S", DEFAULT_SEAT_IDLE_TIMEOUT_S))
    if idle <= 0:  # 0: seats never time out, so a seat still playing is never idle either
        return dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return now - dt.timedelta(seconds=idle)


def live_match_q(*, via: str = "", now: dt.datetime | None = None) -> Q:
    """A filter on matches (or, with ``via="match"``, on rows with a ``match`` foreign key) that
    holds for matches really being played: waiting or running, and either a person or agent seat still playing that
    moved, joined or started within the idle timeout, or no person or agent seat at all and a
    model seat still playing. A race whose people have all finished, forfeited or gone idle holds
    nobody, whatever its models are doing."""
    cutoff = _idle_cutoff(now or timezone.now())
    ref = OuterRef(f"{via}_id" if via else "pk")
    people = Seat.objects.filter(match_id=ref).exclude(kind=Seat.Kind.MODEL)
    active_people = people.filter(status=Seat.Status.PLAYING).filter(
        Q(joined__gte=cutoff)
        | Q(match__started__gte=cutoff)
        | Exists(Step.objects.filter(seat_id=OuterRef("pk"), created_at__gte=cutoff))
    )
    models_playing = Seat.objects.filter(match_id=ref, kind=Seat.Kind.MODEL, status=Seat.Status.PLAYING)
    prefix = f"{via}__" if via else ""
    return Q(**{f"{prefix}status__in": OPEN_STATUSES}) & (
        Exists(active_people) | (~Exists(people) & Exists(models_playing))
    )


def contestant_busy(*, slug: str, now: dt.datetime | None = None) -> int:
    """How many matches hold the contestant: its seat is still playing in a live match. The one
    count behind ``ModelContestant.max_concurrent_matches``."""
    return (
        Seat.objects.filter(contestant=slug, kind=Seat.Kind.MODEL, status=Seat.Status.PLAYING)
        .filter(live_match_q(via="match", now=now))
        .order_by()  # Seat's default ordering would put its id into the DISTINCT
        .values("match_id")
        .distinct()
        .count()
    )


# -- the caps --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapHit:
    message: str
    retry_after_s: int | None = None  # None: it frees when a match ends, not at a known time


def _cap(name: str) -> int:
    return int(getattr(settings, name, 0) or 0)


def creator_lock(creator: Creator) -> None:
    """Serialise match creation per creator until the transaction ends, so a burst of parallel
    requests cannot all pass the count. SQLite already serialises writers (BEGIN IMMEDIATE);
    PostgreSQL takes a transaction-level advisory lock per key (no table to lock for a session
    or an address)."""
    if connection.vendor != "postgresql":
        return
    keys = []
    player = creator.player()
    if player is not None:
        keys.append(player[2])
    if creator.address:
        keys.append(f"address:{creator.address}")
    with connection.cursor() as cursor:
        for key in sorted(keys):  # one order everywhere: no deadlock between two creators
            digest = salted_hmac("arena.creator-lock", key, algorithm="sha256").digest()
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)]
            )


def creator_cap_hit(*, creator: Creator, now: dt.datetime | None = None) -> CapHit | None:
    """The first cap this creator is at, or None if it may create one more match. Per player
    (session, account or token) and per address: matches running at once, and matches created in
    the last hour. Call inside the creating transaction after ``creator_lock``."""
    now = now or timezone.now()
    scopes: list[tuple[str, Q, str, str]] = []
    player = creator.player()
    if player is not None:
        scopes.append(
            (
                player[0],
                player[1],
                "ARENA_MAX_RUNNING_MATCHES_PER_PLAYER",
                "ARENA_MAX_MATCHES_PER_HOUR_PER_PLAYER",
            )
        )
    if creator.address:
        scopes.append(
            (
                "your network address",
                Q(creator_address=creator.address),
                "ARENA_MAX_RUNNING_MATCHES_PER_ADDRESS",
                "ARENA_MAX_MATCHES_PER_HOUR_PER_ADDRESS",
            )
        )
    for who, mine, running_setting, hourly_setting in scopes:
        running_cap = _cap(running_setting)
        if running_cap:
            running = Match.objects.filter(mine).filter(live_match_q(now=now)).count()
            if running >= running_cap:
                idle_min = max(1, round((now - _idle_cutoff(now)).total_seconds() / 60))
                return CapHit(
                    f"{who} already has {_count(running, 'match')} in play (at most {running_cap} at once, "
                    "so that the models stay free for everyone); finish or forfeit one first "
                    f"(a match with no move for {_count(idle_min, 'minute')} stops counting)"
                )
        hourly_cap = _cap(hourly_setting)
        if hourly_cap:
            recent = Match.objects.filter(mine, created__gt=now - HOUR)
            count = recent.count()
            if count >= hourly_cap:
                # A slot frees when enough of the window's oldest matches leave the window.
                freeing = recent.order_by("created").values_list("created", flat=True)[count - hourly_cap]
                wait = max(1, math.ceil((freeing + HOUR - now).total_seconds()))
                return CapHit(
                    f"{who} has started {_count(count, 'match')} in the last hour (at most {hourly_cap} an hour); "
                    f"try again in {_minutes(wait)}",
                    retry_after_s=wait,
                )
    return None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}es" if noun.endswith("ch") else f"{n} {noun}s"


def _minutes(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} s"
    return _count(math.ceil(seconds / 60), "minute")
