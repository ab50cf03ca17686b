"""A tenant's own admin: personas with their knowledge and tools, widget keys, and calls."""

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin, messages
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.html import format_html

from tenants_app.db import current_schema
from tenants_app.models import Tenant
from tenants_app.opening_hours import opening_hours_knowledge
from tools_registry.admin import ToolEnablementInline
from voice.forms import WidgetKeyForm
from voice.models import Call, KnowledgeItem, Persona, WidgetKey
from voice.prompt import persona_prompt_build
from voice.review import call_review_build, clock_text, plain_text
from voice.selectors import call_outcomes, call_search, persona_knowledge
from voice.services import widget_key_create, widget_key_delete, widget_key_revoke
from voice.sidecar.protocol import TEXT_PROMPT_MAX_CHARS
from voice.widget import widget_src

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _EntryCount(TypedDict):
        entry_count: int

    CallWithEntryCount = WithAnnotations[Call, _EntryCount]  # as CallAdmin's queryset has it


class KnowledgeInline(admin.StackedInline):
    model = KnowledgeItem
    extra = 0
    fields = ["title", "content", "position"]


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "voice_provider", "voice_id", "language", "is_active"]
    list_filter = ["is_active", "voice_provider"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [KnowledgeInline, ToolEnablementInline]
    readonly_fields = ["voice_prompt"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "is_active"]}),
        ("Conversation", {"fields": ["system_prompt", "greeting", "language"]}),
        ("Voice", {"fields": ["voice_provider", "voice_id", "voice_prompt"]}),
    ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The change form shows the embed snippets and a "Test call" button (widget_src).
        # Keys are shown to those who may read them (admins; not the support role).
        keys = WidgetKey.objects.filter(persona_id=object_id, is_active=True)
        may_read_keys = request.user.has_perm("voice.view_widgetkey")
        extra = {
            "widget_src": widget_src(request),
            "widget_keys": keys if may_read_keys else None,
        }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    @admin.display(description="Prompt sent to the voice model")
    def voice_prompt(self, obj: Persona) -> str:
        if obj.pk is None:
            return "Shown once the persona is saved."
        hours = Tenant.objects.get(schema_name=current_schema()).opening_hours
        build = persona_prompt_build(
            system_prompt=obj.system_prompt,
            greeting=obj.greeting,
            knowledge=opening_hours_knowledge(hours) + persona_knowledge(persona_id=obj.pk),
        )
        if not build.knowledge_cut:
            return build.text
        return format_html(
            "<strong>Knowledge was cut: {} of {} items fit in the voice model's {}-character "
            "prompt; the agent's text answers still use all of it.</strong><br>{}",
            build.knowledge_included,
            build.knowledge_total,
            TEXT_PROMPT_MAX_CHARS,
            build.text,
        )


@admin.register(WidgetKey)
class WidgetKeyAdmin(admin.ModelAdmin):
    form = WidgetKeyForm
    list_display = ["key", "label", "persona", "origins", "is_active", "created_at"]
    list_filter = ["is_active", "persona"]
    actions = ["revoke"]

    @admin.display(description="Allowed origins")
    def origins(self, obj: WidgetKey) -> str:
        return ", ".join(obj.allowed_origins)

    def get_readonly_fields(self, request, obj=None):
        return ["key", "is_active", "revoked_at"] if obj else []

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The change form shows the embed snippet with this key (widget_src).
        extra = {**(extra_context or {}), "widget_src": widget_src(request)}
        return super().change_view(request, object_id, form_url, extra)

    def get_fields(self, request, obj=None):
        fields = ["label", "persona", "allowed_origins"]
        return ["key", *fields, "is_active", "revoked_at"] if obj else fields

    def save_model(self, request, obj: WidgetKey, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = widget_key_create(
            tenant=request.tenant,
            persona=obj.persona,
            allowed_origins=obj.allowed_origins,
            label=obj.label,
        )
        obj.pk, obj.key = created.pk, created.key
        messages.info(request, f"Widget key created: {created.key}")

    def delete_model(self, request, obj: WidgetKey) -> None:
        widget_key_delete(widget_key=obj)

    def delete_queryset(self, request, queryset) -> None:
        for widget_key in queryset:
            widget_key_delete(widget_key=widget_key)

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke(self, request, queryset) -> None:
        for widget_key in queryset:
            widget_key_revoke(widget_key=widget_key)
        messages.info(request, f"{queryset.count()} key(s) revoked.")


class OutcomeFilter(admin.SimpleListFilter):
    """The post-call analysis's outcome, among those this tenant's calls have."""

    title = "outcome"
    parameter_name = "outcome"
    NOT_ANALYZED = "-"

    def lookups(self, request, model_admin):
        return [*((o, o) for o in call_outcomes()), (self.NOT_ANALYZED, "Not analyzed")]

    def queryset(self, request, queryset):
        if self.value() == self.NOT_ANALYZED:
            return queryset.filter(Q(analysis__isnull=True) | Q(analysis__outcome__isnull=True))
        if self.value():
            return queryset.filter(analysis__outcome=self.value())
        return queryset


class HandedOverFilter(admin.SimpleListFilter):
    title = "handed over to a person"
    parameter_name = "handed_over"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(needs_human=self.value() == "yes")
        return queryset


# Times are the tenant's: its admin runs in its time zone (`TenantTimezoneMiddleware`).
MINUTES, SECONDS = "%Y-%m-%d %H:%M %Z", "%Y-%m-%d %H:%M:%S %Z"


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    """Calls for support staff, read-only: found by the words said, reviewed as a timeline."""

    change_form_template = "admin/voice/call/change_form.html"
    list_display = [
        "start", "persona", "mode", "duration", "outcome", "handed_over_column", "entries"
    ]  # fmt: skip
    list_filter = [
        ("started_at", admin.DateFieldListFilter),
        "persona",
        OutcomeFilter,
        "end_reason",
        HandedOverFilter,
        "mode",
    ]
    search_fields = ["transcript__text"]  # shows the search box; the search is full-text
    search_help_text = (
        'Words said in the call: "booked" also finds "booking"; "a phrase", or, -without.'
    )
    fieldsets = [
        (None, {"fields": ["started", "ended", "duration", "persona", "widget_key", "mode"]}),
        ("How it ended", {"fields": ["status", "end_reason", "handed_over"]}),
    ]
    readonly_fields = [
        "started", "ended", "duration", "persona", "widget_key", "mode", "status", "end_reason",
        "handed_over",
    ]  # fmt: skip

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("persona")
            .annotate(entry_count=Count("transcript"), length=F("ended_at") - F("started_at"))
        )

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return call_search(calls=queryset, words=search_term), False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The call's page shows its timeline, analysis and metrics (`voice.review`).
        context["review"] = call_review_build(call=obj) if obj else None
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="Started", ordering="started_at")
    def start(self, obj: Call) -> str:
        return timezone.localtime(obj.started_at).strftime(MINUTES)

    @admin.display(description="Started")
    def started(self, obj: Call) -> str:
        return timezone.localtime(obj.started_at).strftime(SECONDS)

    @admin.display(description="Ended")
    def ended(self, obj: Call) -> str:
        return timezone.localtime(obj.ended_at).strftime(SECONDS) if obj.ended_at else "Not yet"

    @admin.display(description="Duration", ordering="length")
    def duration(self, obj: Call) -> str:
        return (
            clock_text(int((obj.ended_at - obj.started_at).total_seconds() * 1000))
            if obj.ended_at
            else "—"
        )

    @admin.display(description="Outcome", ordering="analysis__outcome")
    def outcome(self, obj: Call) -> str:
        return plain_text((obj.analysis or {}).get("outcome"))

    @admin.display(description="Handed over to a person", ordering="needs_human")
    def handed_over(self, obj: Call) -> str:
        return "Yes" if obj.needs_human else "No"

    @admin.display(description="Handed over", ordering="needs_human")
    def handed_over_column(self, obj: Call) -> str:
        return self.handed_over(obj)

    @admin.display(description="Entries", ordering="entry_count")
    def entries(self, obj: "CallWithEntryCount") -> int:
        return obj.entry_count

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# The tenant's admin index opens with its calls' dashboard (`voice.templatetags.call_dashboard`);
# the platform's admin, a site of its own, keeps Django's index.
admin.site.index_template = "admin/tenant_index.html"
