"""The admin: variants (forms built from each family's params schema, preview, playtest,
publish/retire), model contestants (validated, "Test connection"), agent tokens, tournaments;
results (matches, seats, steps, model calls) are read-only and changed only by actions that call
the play services. Every change is kept in Django's own history (LogEntry)."""

from __future__ import annotations

import os
import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_POST

from games import model_options
from games.api import auth as tokens
from games.competition import tournaments
from games.engine.core import EngineError, all_families, get_family
from games.models import (
    AgentToken,
    HypothesisFormat,
    HypothesisMode,
    Match,
    ModelCall,
    ModelCallReparse,
    ModelContestant,
    PuzzleInstance,
    PuzzleVariant,
    RuleChallenge,
    Seat,
    Step,
    Study,
    StudyPuzzle,
    Tournament,
)
from games.play import services, variants
from games.research import studies

# -- read-only results ----------------------------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """Results are written by the play services alone (events, the leaderboard and the exports
    follow the log); the admin shows them and acts on them only through services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _run(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset, action, done: str) -> None:
    """Apply a service to each selected object; a refusal is shown, a success is kept in the
    object's history (who and when) like any admin change."""
    count = 0
    for obj in queryset:
        try:
            action(obj)
        except services.ActionError as exc:
            messages.error(request, f"{obj}: {exc.message}")
        else:
            modeladmin.log_change(request, obj, done)
            count += 1
    if count:
        messages.success(request, f"{done}: {count}")


def _set(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset, done: str, **fields: Any) -> None:
    """A flag set on the selected rows, each change kept in the row's history."""
    objs = list(queryset)
    queryset.update(**fields)
    for obj in objs:
        modeladmin.log_change(request, obj, done)
    messages.success(request, f"{done}: {len(objs)}")


class SeatInline(admin.TabularInline):
    model = Seat
    extra = 0
    fields = ["handle", "kind", "contestant", "status", "tests_used", "score"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Match)
class MatchAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "instance",
        "mode",
        "status",
        "ranked",
        "playtest",
        "max_tests",
        "created",
        "finished",
    ]
    list_filter = ["mode", "status", "ranked", "playtest"]
    inlines = [SeatInline]
    actions = ["abort"]

    @admin.action(
        description="Abort (seats still playing forfeit; off the leaderboard)", permissions=["abort"]
    )
    def abort(self, request, queryset):
        who = request.user.get_username()
        _run(self, request, queryset, lambda m: services.match_abort(match=m, reason=f"by {who}"), "Aborted")

    def has_abort_permission(self, request):
        return request.user.has_perm("games.change_match")


@admin.register(Seat)
class SeatAdmin(ReadOnlyAdmin):
    list_display = ["id", "match", "handle", "kind", "contestant", "status", "tests_used"]
    list_filter = ["kind", "status"]
    search_fields = ["handle", "contestant"]
    actions = ["end_seat", "requeue_turn"]

    @admin.action(description="End the seat (a forfeit step with the reason)", permissions=["act"])
    def end_seat(self, request, queryset):
        who = request.user.get_username()
        _run(
            self,
            request,
            queryset,
            lambda s: services.seat_end_stalled(seat=s, reason=f"stalled; by {who}"),
            "Ended",
        )

    @admin.action(description="Queue the model's next turn again", permissions=["act"])
    def requeue_turn(self, request, queryset):
        _run(self, request, queryset, lambda s: services.model_turn_requeue(seat=s), "Turns queued")

    def has_act_permission(self, request):
        return request.user.has_perm("games.change_seat")


@admin.register(Step)
class StepAdmin(ReadOnlyAdmin):
    """The step log is append-only and written by games.play.services alone."""

    list_display = ["id", "seat", "seq", "kind", "created_at"]
    list_filter = ["kind"]


@admin.register(ModelCall)
class ModelCallAdmin(ReadOnlyAdmin):
    list_display = [
        "id", "seat", "contestant", "turn", "attempt", "error_class", "parser_version", "latency_ms", "created_at",
    ]  # fmt: skip
    list_filter = ["error_class", "contestant", "parser_version"]


@admin.register(RuleChallenge)
class RuleChallengeAdmin(ReadOnlyAdmin):
    """Rules players wrote for others to find (games/competition/challenges.py); staff remove them."""

    list_display = ["id", "title", "base", "author", "status", "created"]
    list_filter = ["status", "base"]
    actions = ["remove"]

    @admin.action(description="Remove the selected challenges")
    def remove(self, request: HttpRequest, queryset) -> None:
        from games.competition import challenges

        for challenge in queryset:
            challenges.challenge_remove(challenge=challenge, by=request.user, reason="removed from the admin")
        self.message_user(request, f"Removed {queryset.count()} challenge(s).")


@admin.register(ModelCallReparse)
class ModelCallReparseAdmin(ReadOnlyAdmin):
    """Stored replies read again by a newer parser (manage.py rescore --write): both readings."""

    list_display = ["id", "call", "old_parser_version", "new_parser_version", "change", "in_finished_match"]
    list_filter = ["change", "new_parser_version", "in_finished_match"]


@admin.register(PuzzleInstance)
class PuzzleInstanceAdmin(ReadOnlyAdmin):
    list_display = ["id", "variant", "family", "generator_version", "seed", "created"]
    list_filter = ["family"]


# -- variants -------------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class UploadField(forms.FileField):
    """Files for a param a family reads from an upload (``"x-upload"`` in its params schema):
    several at once; the family turns them into the param's value (``Family.read_upload``)."""

    def __init__(self, *args: Any, accept: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": accept} if accept else {}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


def _param_field(name: str, spec: dict[str, Any]) -> forms.Field:
    kind = spec.get("type", "number")
    common: dict[str, Any] = {
        "required": False,
        "label": name.replace("_", " "),
        "help_text": f"{spec.get('description', '')} (default: {spec.get('default')!r})".strip(),
    }
    upload = spec.get("x-upload")
    if isinstance(upload, dict):  # files, read by the family (saved value kept when none is chosen)
        common["help_text"] = f"{spec.get('description', '')}; {upload.get('help', '')}".strip("; ")
        return UploadField(accept=str(upload.get("accept", "")), **common)
    if "enum" in spec:
        return forms.TypedChoiceField(
            choices=[("", "default")] + [(v, v) for v in spec["enum"]], coerce=type(spec["enum"][0]), **common
        )
    if kind == "integer":
        return forms.IntegerField(min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common)
    if kind == "number":
        return forms.FloatField(min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common)
    if kind == "boolean":
        return forms.NullBooleanField(**common)
    widget = forms.Textarea(attrs={"rows": 2}) if name == variants.RULE_PARAM else forms.TextInput
    return forms.CharField(widget=widget, strip=True, **common)


def param_field_name(family_id: str, param: str) -> str:
    return f"param__{family_id}__{param}"


class PuzzleVariantForm(forms.ModelForm):
    """One field per parameter of each registered family's params schema (types, ranges,
    defaults and descriptions from the schema); only the chosen family's fields are read (a
    static script shows just those). Saved params are validated by the engine, a puzzle is
    generated for a few seeds, and each refusal is shown next to its field."""

    family = forms.ChoiceField(choices=())
    rule_set = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="hand-written hidden rules, one per line: each match draws one by its seed "
        "(leave the single rule parameter empty)",
    )
    extra_params = forms.JSONField(
        required=False,
        initial=dict,
        label="Other params (JSON)",
        help_text="parameters not in the fields above, as a JSON object; normally {}",
    )

    class Meta:
        model = PuzzleVariant
        fields = [
            "slug",
            "family",
            "title",
            "description",
            "spectator_delay_s",
            "hypothesis_mode",
            "hypothesis_format",
        ]

    class Media:
        js = ["arena/admin_variant.js"]

    def clean_hypothesis_mode(self) -> str:
        return self.cleaned_data.get("hypothesis_mode") or HypothesisMode.OFF

    def clean_hypothesis_format(self) -> str:
        return self.cleaned_data.get("hypothesis_format") or HypothesisFormat.RULE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left out of a submitted form (scripts, older forms): the defaults, not asking.
        for name in ("hypothesis_mode", "hypothesis_format"):
            if name in self.fields:
                self.fields[name].required = False
        self.fields["family"].choices = [(f.id, f"{f.title} ({f.id})") for f in all_families()]
        self.param_fields: dict[str, dict[str, str]] = {}
        saved = self.instance.params if self.instance.pk else {}
        for family in all_families():
            names: dict[str, str] = {}
            for name, spec in family.params_schema.get("properties", {}).items():
                field_name = param_field_name(family.id, name)
                field = _param_field(name, spec)
                field.widget.attrs["data-family"] = family.id
                if self.instance.pk and self.instance.family == family.id and name in saved:
                    field.initial = saved[name]
                self.fields[field_name] = field
                names[name] = field_name
            self.param_fields[family.id] = names
        if self.instance.pk:
            known = self.param_fields.get(self.instance.family, {})
            self.fields["extra_params"].initial = {k: v for k, v in saved.items() if k not in known}
            self.fields["rule_set"].initial = "\n".join(self.instance.rules or [])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        family_id = data.get("family")
        if not family_id:
            return data
        fields = self.param_fields.get(family_id, {})
        extra = data.get("extra_params") or {}
        if not isinstance(extra, dict):
            self.add_error("extra_params", "must be a JSON object, e.g. {}")
            return data
        params = dict(extra)
        family = get_family(family_id)
        saved = self.instance.params if self.instance.pk and self.instance.family == family_id else {}
        for name, field_name in fields.items():
            value = data.get(field_name)
            if isinstance(self.fields[field_name], UploadField):
                if value:
                    try:
                        assert family.read_upload is not None, f"{family_id} declares an upload but no reader"
                        params[name] = family.read_upload(name, [(f.name, f.read()) for f in value])
                    except EngineError as exc:  # names the file and the fault
                        self.add_error(field_name, exc.message)
                        return data
                elif name in saved:
                    params[name] = saved[name]
            elif value is not None and value != "":
                params[name] = value
        rules = [line for line in (data.get("rule_set") or "").splitlines() if line.strip()]
        try:
            check = variants.variant_check(family_id=family_id, params=params, rules=rules)
        except variants.VariantInvalid as exc:
            for key, problems in exc.errors.items():
                target = {"family": "family", "rules": "rule_set", "params": "extra_params"}.get(
                    key, fields.get(key, "extra_params")
                )
                for problem in problems:
                    self.add_error(target, problem)
            return data
        self.checked = check
        return data

    def save(self, commit: bool = True) -> PuzzleVariant:
        variant = super().save(commit=False)
        variant.params = self.checked.params
        variant.rules = self.checked.rules
        variant.problem = ""  # it generates puzzles again
        if commit:
            variant.save()
        return variant


class BrokenFilter(admin.SimpleListFilter):
    title = "can generate puzzles"
    parameter_name = "broken"

    def lookups(self, request, model_admin):
        return [("yes", "broken"), ("no", "working")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(problem="")
        if self.value() == "no":
            return queryset.filter(problem="")
        return queryset


@admin.register(PuzzleVariant)
class PuzzleVariantAdmin(admin.ModelAdmin):
    form = PuzzleVariantForm
    list_display = ["slug", "family", "title", "published", "retired", "rule_count", "flag", "created"]
    list_filter = ["family", "published", "retired", BrokenFilter]
    search_fields = ["slug", "title"]
    actions = ["publish", "retire"]
    change_form_template = "admin/games/puzzlevariant/change_form.html"

    read_only_fields = [
        "slug",
        "family",
        "title",
        "description",
        "spectator_delay_s",
        "hypothesis_mode",
        "hypothesis_format",
        "params",
        "rules",
        "published",
        "retired",
        "problem",
    ]

    def _editing(self, request, obj) -> bool:
        return (
            self.has_change_permission(request, obj) if obj is not None else self.has_add_permission(request)
        )

    def get_fieldsets(self, request, obj=None):
        if not self._editing(request, obj):  # view only: the stored fields as they are
            return [(None, {"fields": self.read_only_fields})]
        form = self.get_form(request, obj)(instance=obj)
        base = ["slug", "family", "title", "description", "spectator_delay_s"]
        sets: list[tuple[str | None, dict[str, Any]]] = [(None, {"fields": base})]
        for family_id, names in form.param_fields.items():
            title = f"Parameters: {get_family(family_id).title} ({family_id})"
            sets.append(
                (title, {"fields": list(names.values()), "classes": ["family-params", f"family-{family_id}"]})
            )
        sets.append(("Rules and other parameters", {"fields": ["rule_set", "extra_params"]}))
        sets.append(
            (
                "Stated hypotheses (research)",
                {
                    "fields": ["hypothesis_mode", "hypothesis_format"],
                    "description": "Ask every player, people, models and agents alike, for their current "
                    "hypothesis before each test. A new setting applies to matches made from now on.",
                },
            )
        )
        return sets

    def get_form(self, request, obj=None, change=False, **kwargs):
        if self._editing(request, obj):
            kwargs["fields"] = None  # the form declares its own (the schema's fields are made per family)
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.display(description="rules")
    def rule_count(self, obj: PuzzleVariant) -> int:
        return len(obj.rules or [])

    @admin.display(description="problem")
    def flag(self, obj: PuzzleVariant) -> str:
        return f"BROKEN: {obj.problem}" if obj.problem else ""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        for warning in getattr(form, "checked", variants.VariantCheck({}, [])).warnings:
            messages.warning(request, warning)

    def has_delete_permission(self, request, obj=None):
        # A variant that matches refer to is kept (replays, exports): retire it instead.
        if obj is not None and Match.objects.filter(instance__variant=obj).exists():
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        # Unplayed generated instances go with their variant (they are a cache, not results);
        # played ones are protected by their matches.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(PuzzleInstance._meta.verbose_name)
        return deleted, counts, perms_needed, protected

    @admin.action(description="Publish (offer to players)", permissions=["change"])
    def publish(self, request, queryset):
        _run(self, request, queryset, lambda v: services.variant_publish(variant=v), "Published")

    @admin.action(description="Retire (no longer offered; matches keep it)", permissions=["change"])
    def retire(self, request, queryset):
        _run(self, request, queryset, lambda v: services.variant_retire(variant=v), "Retired")

    def get_urls(self):
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="games_puzzlevariant_preview",
            ),
            path(
                "<int:pk>/playtest/",
                self.admin_site.admin_view(require_POST(self.playtest_view)),
                name="games_puzzlevariant_playtest",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        variant = get_object_or_404(PuzzleVariant, pk=pk)
        if not self.has_view_permission(request, variant):
            raise PermissionDenied
        try:
            seeds = variants.variant_preview(
                family_id=variant.family, params=variant.params, rules=variant.rules
            )
            error = ""
        except Exception as exc:  # a broken variant: show why, as the admin list flags it
            seeds, error = [], str(getattr(exc, "message", exc))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview: {variant.title}",
            "opts": self.model._meta,
            "original": variant,
            "seeds": seeds,
            "error": error,
            "can_playtest": request.user.is_staff,
        }
        return TemplateResponse(request, "admin/games/puzzlevariant/preview.html", context)

    def playtest_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        variant = get_object_or_404(PuzzleVariant, pk=pk)
        try:
            match, _ = services.playtest_create(variant=variant, user=request.user)
        except services.ActionError as exc:
            messages.error(request, exc.message)
            return redirect("admin:games_puzzlevariant_change", variant.pk)
        return redirect("match", match_id=match.pk)


# -- model contestants and agent tokens ---------------------------------------------------------

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


class ModelContestantForm(forms.ModelForm):
    base_url = forms.URLField(
        required=False,
        max_length=300,
        assume_scheme="https",
        help_text="empty = the provider's default; OpenAI-compatible servers end in /v1",
    )
    reply_mode = forms.ChoiceField(
        choices=list(model_options.REPLY_MODES.items()),
        initial="text",
        required=False,
        help_text="structured modes ask the endpoint for a reply constrained to the family's action "
        "schema; free text stays for endpoints without them",
    )
    prompt_version = forms.TypedChoiceField(
        choices=list(model_options.PROMPT_VERSIONS.items()), coerce=int, initial=1
    )

    class Meta:
        model = ModelContestant
        fields = [
            "slug",
            "name",
            "enabled",
            "plays_daily",
            "backend",
            "base_url",
            "model",
            "api_key_env",
            "sampling",
            "reply_mode",
            "request_options",
            "prompt_version",
            "max_tokens_per_call",
            "http_timeout_s",
            "max_calls",
            "max_tokens",
            "max_cost_usd",
            "price_in_per_mtok",
            "price_out_per_mtok",
            "max_concurrent_matches",
        ]

    def clean_api_key_env(self) -> str:
        name = self.cleaned_data.get("api_key_env", "").strip()
        if name and not ENV_NAME.match(name):
            raise forms.ValidationError(
                "the NAME of an environment variable (letters, digits and _; not starting with a "
                "digit), e.g. OPENAI_API_KEY; never the key itself"
            )
        return name

    def clean_sampling(self) -> dict:
        sampling = self.cleaned_data.get("sampling")
        if sampling in (None, ""):
            return {}
        if not isinstance(sampling, dict):
            raise forms.ValidationError('sampling must be a JSON object, e.g. {"temperature": 0.2}')
        for key, value in sampling.items():
            if not isinstance(value, int | float | str | bool | list) or isinstance(value, dict):
                raise forms.ValidationError(f"sampling {key!r} must be a number, string, boolean or list")
        return sampling

    def clean_reply_mode(self) -> str:
        return self.cleaned_data.get("reply_mode") or "text"

    def clean_request_options(self) -> dict:
        options = self.cleaned_data.get("request_options")
        return {} if options in (None, "") else options

    def clean(self) -> dict:
        data = super().clean()
        backend, base_url, model = (
            data.get("backend"),
            (data.get("base_url") or "").rstrip("/"),
            data.get("model"),
        )
        if backend == ModelContestant.Backend.OPENAI and base_url and not base_url.endswith("/v1"):
            self.add_error(
                "base_url",
                "an OpenAI-compatible base URL ends in /v1 (the client adds /chat/completions), "
                "e.g. http://localhost:8000/v1",
            )
        if backend == ModelContestant.Backend.ANTHROPIC and base_url.endswith("/v1"):
            self.add_error(
                "base_url", "an Anthropic base URL is the host without /v1 (the client adds /v1/messages)"
            )
        if backend == ModelContestant.Backend.BUILTIN and model:
            known = sorted({name for family in all_families() for name in family.solvers})
            if model not in known:
                self.add_error("model", f"unknown built-in solver {model!r}; available: {', '.join(known)}")
        if base_url:
            data["base_url"] = base_url
        return data


def key_problem(contestant: ModelContestant) -> str:
    if contestant.backend == ModelContestant.Backend.BUILTIN or not contestant.api_key_env:
        return ""
    if not os.environ.get(contestant.api_key_env):
        return f"{contestant.api_key_env} is not set on this server"
    return ""


@admin.register(ModelContestant)
class ModelContestantAdmin(admin.ModelAdmin):
    form = ModelContestantForm
    list_display = ["slug", "name", "backend", "model", "base_url", "api_key_env", "key_status", "enabled"]
    list_filter = ["backend", "enabled"]
    search_fields = ["slug", "name", "model"]
    actions = ["enable", "disable", "test_connection"]
    change_form_template = "admin/games/modelcontestant/change_form.html"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "slug",
                    "name",
                    "enabled",
                    "plays_daily",
                    "backend",
                    "base_url",
                    "model",
                    "api_key_env",
                ]
            },
        ),
        (
            "Sampling and prompt",
            {
                "fields": [
                    "sampling",
                    "reply_mode",
                    "request_options",
                    "prompt_version",
                    "max_tokens_per_call",
                    "http_timeout_s",
                ]
            },
        ),
        (
            "Budgets and prices",
            {
                "fields": [
                    "max_calls",
                    "max_tokens",
                    "max_cost_usd",
                    "price_in_per_mtok",
                    "price_out_per_mtok",
                    "max_concurrent_matches",
                ]
            },
        ),
    ]

    @admin.display(description="key")
    def key_status(self, obj: ModelContestant) -> str:
        if obj.backend == ModelContestant.Backend.BUILTIN or not obj.api_key_env:
            return "-"
        return "NOT SET" if key_problem(obj) else "set"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        problem = key_problem(obj)
        if problem:
            messages.warning(request, f"{obj.slug}: {problem}; its calls will fail until it is set")

    @admin.action(description="Enable", permissions=["change"])
    def enable(self, request, queryset):
        _set(self, request, queryset, "Enabled", enabled=True)

    @admin.action(description="Disable (no new races; running ones play on)", permissions=["change"])
    def disable(self, request, queryset):
        _set(self, request, queryset, "Disabled", enabled=False)

    @admin.action(description="Test connection (one small real call)", permissions=["change"])
    def test_connection(self, request, queryset):
        for contestant in queryset[:5]:
            self._report_probe(request, contestant)

    def _report_probe(self, request: HttpRequest, contestant: ModelContestant) -> None:
        result = import_string(settings.ARENA_CONTESTANT_PROBE)(contestant)
        level = messages.SUCCESS if result.ok else messages.ERROR
        timing = f" ({result.latency_ms:.0f} ms)" if result.latency_ms else ""
        self.message_user(request, f"{contestant.slug}: {result.message}{timing}", level)

    def get_urls(self):
        return [
            path(
                "<int:pk>/test-connection/",
                self.admin_site.admin_view(require_POST(self.test_connection_view)),
                name="games_modelcontestant_test_connection",
            ),
            *super().get_urls(),
        ]

    def test_connection_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        contestant = get_object_or_404(ModelContestant, pk=pk)
        if not self.has_change_permission(request, contestant):
            raise PermissionDenied
        self._report_probe(request, contestant)
        return HttpResponseRedirect(reverse("admin:games_modelcontestant_change", args=[pk]))


class AgentTokenForm(forms.ModelForm):
    class Meta:
        model = AgentToken
        fields = ["name", "user", "can_read_research", "active"]


@admin.register(AgentToken)
class AgentTokenAdmin(admin.ModelAdmin):
    """Create (the token is shown once, only a hash is kept), revoke, research flag, last used."""

    form = AgentTokenForm
    list_display = ["name", "prefix", "user", "can_read_research", "active", "created", "last_used"]
    list_filter = ["active", "can_read_research"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created", "last_used"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "user", "can_read_research"]
        return ["name", "prefix", "user", "can_read_research", "active", "created", "last_used"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            token, key = tokens.agent_token_create(
                name=obj.name, can_read_research=obj.can_read_research, user=obj.user
            )
        except (ValueError, tokens.TokenNameTaken) as exc:  # the form checked these; a race is left
            raise PermissionDenied(str(exc)) from None
        obj.pk, obj.key_hash, obj.prefix, obj.created = token.pk, token.key_hash, token.prefix, token.created
        obj._state.adding = False
        messages.warning(
            request,
            f"Token for {token.name}: {key}  (copy it now: it is shown only once; only its hash is kept)",
        )

    @admin.action(description="Revoke", permissions=["change"])
    def revoke(self, request, queryset):
        _set(self, request, queryset, "Revoked", active=False)


# -- tournaments ---------------------------------------------------------------------------------


class TournamentForm(forms.ModelForm):
    class Meta:
        model = Tournament
        fields = [
            "slug",
            "title",
            "description",
            "variants",
            "contestants",
            "seeds",
            "concurrency",
            "starts_at",
            "published",
        ]

    def clean_seeds(self) -> str:
        seeds = self.cleaned_data["seeds"]
        try:
            tournaments.parse_seeds(seeds)
        except services.ActionError as exc:
            raise forms.ValidationError(exc.message) from None
        return seeds

    def clean(self) -> dict:
        data = super().clean()
        seeds, variants_ = data.get("seeds"), data.get("variants")
        if seeds and variants_ is not None:
            try:
                tournaments.tournament_round_count(seeds=seeds, variant_count=len(variants_))
            except services.ActionError as exc:
                raise forms.ValidationError(exc.message) from None
        return data


@admin.register(Tournament)
class TournamentAdmin(admin.ModelAdmin):
    """Schedule a tournament: pick variants, contestants and seeds; it starts at ``starts_at``
    (or at once) and runs by itself. The schedule is fixed once saved."""

    form = TournamentForm
    list_display = ["slug", "title", "status", "starts_at", "started", "finished", "published"]
    list_filter = ["status", "published"]
    filter_horizontal = ["variants", "contestants"]
    readonly_fields = ["status", "started", "finished", "note", "rounds_summary"]
    actions = ["start_now", "cancel"]

    @admin.display(description="Rounds")
    def rounds_summary(self, obj):
        # Counts, not an inline of every round: a tournament may have thousands (its page and the
        # API list them a page at a time).
        if obj is None or obj.pk is None:
            return "-"
        p = tournaments.tournament_progress(tournament=obj)
        return f"{p.total:,} rounds: {p.done:,} done, {p.running:,} running, {p.pending:,} to come"

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "slug", "variants", "contestants", "seeds"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:  # the variants and contestants are saved now: make the rounds, queue the first tick
            for variant in form.instance.variants.all():
                rule = variants.fixed_rule(params=variant.params, rules=variant.rules)
                if rule is not None:
                    messages.warning(
                        request, f"{variant.slug} has one fixed rule ({rule}): every seed plays the same rule"
                    )
            rounds = tournaments.tournament_schedule(tournament=form.instance)
            messages.info(request, f"{rounds} rounds scheduled.")

    @admin.action(description="Start now")
    def start_now(self, request, queryset):
        self._each(request, queryset, tournaments.tournament_start_now)

    @admin.action(description="Cancel (running races play to their end)")
    def cancel(self, request, queryset):
        self._each(request, queryset, tournaments.tournament_cancel)

    @staticmethod
    def _each(request, queryset, service) -> None:
        """``service`` on every selected tournament; one it refuses is a message, not a stop."""
        for tournament in queryset:
            try:
                service(tournament=tournament)
            except services.ActionError as exc:
                messages.error(request, exc.message)


# -- studies ----------------------------------------------------------------------------------------


class StudyPuzzleInline(admin.TabularInline):
    model = StudyPuzzle
    fields = ["position", "variant"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Study)
class StudyAdmin(ReadOnlyAdmin):
    """Studies are created on the research pages (which check the design) and are fixed once made:
    participants' sequences were drawn from them. Here: the list, the design and closing."""

    list_display = ["slug", "title", "status", "order", "hypotheses", "progress", "created"]
    list_filter = ["status", "order", "hypotheses"]
    search_fields = ["slug", "title"]
    inlines = [StudyPuzzleInline]
    actions = ["close"]
    exclude = ["completion_code", "return_url"]

    @admin.display(description="Joined / completed / dropped")
    def progress(self, obj):
        p = studies.study_progress(study=obj)
        return f"{p['joined']} / {p['completed']} / {p['dropped']}"

    @admin.action(description="Close (no new participants)")
    def close(self, request, queryset):
        for study in queryset:
            studies.study_close(study=study)
            self.log_change(request, study, "Closed")
        messages.success(request, f"Closed: {queryset.count()}")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("games.change_study"):
            actions.pop("close", None)
        return actions
