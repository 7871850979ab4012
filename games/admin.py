from django.contrib import admin

from games.models import Match, PuzzleInstance, PuzzleVariant, Seat, Step


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


@admin.register(Seat)
class SeatAdmin(admin.ModelAdmin):
    list_display = ["id", "match", "handle", "kind", "status", "tests_used"]
    list_filter = ["kind", "status"]


@admin.register(Step)
class StepAdmin(admin.ModelAdmin):
    """Read-only: the step log is append-only and written by games.services alone."""

    list_display = ["id", "seat", "seq", "kind", "created_at"]
    list_filter = ["kind"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
