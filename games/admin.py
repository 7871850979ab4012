from django import forms
from django.contrib import admin, messages

from games.competition import tournaments
from games.models import Match, PuzzleInstance, PuzzleVariant, Seat, Step, Tournament
from games.play import services


@admin.register(PuzzleVariant)
class PuzzleVariantAdmin(admin.ModelAdmin):
    list_display = ["slug", "family", "title", "published", "created"]
    list_filter = ["family", "published"]
    search_fields = ["slug", "title"]


@admin.register(PuzzleInstance)
class PuzzleInstanceAdmin(admin.ModelAdmin):
    list_display = ["id", "variant", "family", "generator_version", "seed", "created"]
    list_filter = ["family"]


class SeatInline(admin.TabularInline):
    model = Seat
    extra = 0
    fields = ["handle", "kind", "status", "tests_used", "score"]
    readonly_fields = fields


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    list_display = ["id", "instance", "mode", "status", "max_tests", "created", "finished"]
    list_filter = ["mode", "status"]
    inlines = [SeatInline]
    # Who asked for the match (the fair-play caps count these); a record, not a setting.
    readonly_fields = ["creator_user", "creator_session_key", "creator_token", "creator_address"]


@admin.register(Seat)
class SeatAdmin(admin.ModelAdmin):
    list_display = ["id", "match", "handle", "kind", "status", "tests_used"]
    list_filter = ["kind", "status"]


@admin.register(Step)
class StepAdmin(admin.ModelAdmin):
    """Read-only: the step log is append-only and written by games.play.services alone."""

    list_display = ["id", "seat", "seq", "kind", "created_at"]
    list_filter = ["kind"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
        seeds, variants = data.get("seeds"), data.get("variants")
        if seeds and variants is not None:
            try:
                tournaments.tournament_round_count(seeds=seeds, variant_count=len(variants))
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
