"""A tenant's own admin: personas with their knowledge and tools, widget keys, and calls."""

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin, messages
from django.db.models import Count
from django.utils.html import format_html, format_html_join

from tools_registry.admin import ToolEnablementInline, ToolInvocationInline
from voice.forms import WidgetKeyForm
from voice.models import Call, KnowledgeItem, Persona, TranscriptEntry, WidgetKey
from voice.prompt import persona_prompt_build
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
        build = persona_prompt_build(
            system_prompt=obj.system_prompt,
            greeting=obj.greeting,
            knowledge=[(k.title, k.content) for k in obj.knowledge.all()],
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


TRANSCRIPT_FIELDS = ("sequence", "start_ms", "role", "text", "interrupted")


class TranscriptInline(admin.TabularInline):
    model = TranscriptEntry
    extra = 0
    can_delete = False
    fields = TRANSCRIPT_FIELDS
    readonly_fields = TRANSCRIPT_FIELDS
    ordering = ["start_ms", "sequence"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


ANALYSIS_LABELS = {
    "summary": "Summary",
    "intent": "Caller intent",
    "sentiment": "Sentiment",
    "outcome": "Outcome",
    "follow_up_needed": "Follow-up needed",
    "analyzer": "Analyzed by",
}


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = [
        "started_at", "persona", "mode", "status", "end_reason", "needs_human", "entries"
    ]  # fmt: skip
    list_filter = [
        ("started_at", admin.DateFieldListFilter), "persona", "status", "mode", "needs_human"
    ]  # fmt: skip
    readonly_fields = ["post_call_analysis", *(f.name for f in Call._meta.fields)]
    inlines = [TranscriptInline, ToolInvocationInline]

    @admin.display(description="Post-call analysis")
    def post_call_analysis(self, obj: Call) -> str:
        if not obj.analysis:
            return "Not analyzed yet." if obj.ended_at else "The call is still going on."
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td></tr>",
            ((label, obj.analysis.get(key, "")) for key, label in ANALYSIS_LABELS.items()),
        )
        return format_html("<table>{}</table>", rows)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(entry_count=Count("transcript"))

    @admin.display(description="Transcript entries", ordering="entry_count")
    def entries(self, obj: "CallWithEntryCount") -> int:
        return obj.entry_count

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
