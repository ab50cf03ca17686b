"""A tenant's `config.yaml`: its schema, parsing with errors that name the field, and export.

The shape extends the original `config.yaml` (`tenant_id`, `voice_settings`, `system_prompt`,
`enabled_tools`) with what a real tenant needs; see `examples/tenants/*/config.yaml`.
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from django.core.exceptions import ValidationError

from nexus_project.errors import ApplicationError
from tenants_app.domains import BadDomain, domain_normalize
from tenants_app.models import timezone_validate
from tenants_app.opening_hours import OPENING_HOURS_SCHEMA, opening_hours_validate
from tools_registry.registry import tool_get, tool_names
from voice.engines.names import EngineName
from voice.engines.voices import ALL_VOICE_IDS, voice_error
from voice.origins import origin_normalize

SLUG = r"^[a-z][a-z0-9_]{1,40}$"
RESERVED_SCHEMAS = frozenset({"public", "information_schema"})  # and every "pg_..." name
MAX_FILE_BYTES = 256 * 1024
MAX_VALUES = 20_000  # values in a config, aliases expanded: thousands of knowledge items

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["tenant_id", "voice_settings", "system_prompt"],
    "properties": {
        "tenant_id": {"type": "string", "pattern": SLUG},
        "display_name": {"type": "string", "minLength": 1, "maxLength": 200},
        "timezone": {"type": "string", "minLength": 1, "maxLength": 64},
        "opening_hours": OPENING_HOURS_SCHEMA,
        "domains": {"type": "array", "items": {"type": "string", "minLength": 3}},
        "concurrent_call_limit": {"type": "integer", "minimum": 1},
        "call_limits": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "per_client": {"type": "integer", "minimum": 1},
                "idle_timeout_seconds": {"type": "integer", "minimum": 1},
                "max_duration_seconds": {"type": "integer", "minimum": 1},
            },
        },
        "agent": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "slug": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]{0,62}$"},
                "name": {"type": "string", "minLength": 1, "maxLength": 100},
                "language": {"type": "string", "minLength": 2, "maxLength": 16},
            },
        },
        "voice_settings": {
            "type": "object",
            "additionalProperties": False,
            "required": ["provider", "voice_id"],
            "properties": {
                "provider": {"enum": list(EngineName.values)},
                "voice_id": {"enum": list(ALL_VOICE_IDS)},
            },
        },
        "system_prompt": {"type": "string", "minLength": 1},
        "greeting": {"type": "string", "maxLength": 300},
        "knowledge": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["title", "content"],
                "properties": {
                    "title": {"type": "string", "minLength": 1, "maxLength": 200},
                    "content": {"type": "string", "minLength": 1},
                },
            },
        },
        "enabled_tools": {
            "type": "array",
            "items": {
                "oneOf": [
                    {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
                            "settings": {"type": "object"},
                        },
                    },
                ]
            },
        },
        "widget": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"allowed_origins": {"type": "array", "items": {"type": "string"}}},
        },
        "admins": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["username"],
                "properties": {
                    "username": {"type": "string", "minLength": 1, "maxLength": 150},
                    "email": {"type": "string"},
                },
            },
        },
    },
}


class ConfigError(ApplicationError):
    """A config file that cannot be onboarded; the message names the file and the field."""

    default_code = "bad_config"


@dataclass(frozen=True)
class Knowledge:
    title: str
    content: str


@dataclass(frozen=True)
class ToolSetting:
    name: str
    settings: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Admin:
    username: str
    email: str = ""


@dataclass(frozen=True)
class CallLimits:
    """How long a call may be idle or last, and how many calls one client may hold."""

    per_client: int = 3
    idle_timeout_seconds: int = 180
    max_duration_seconds: int = 3600


@dataclass(frozen=True)
class TenantConfig:
    """A validated tenant configuration, with every default filled in."""

    tenant_id: str
    display_name: str
    timezone: str
    domains: list[str]
    concurrent_call_limit: int
    call_limits: CallLimits
    agent_slug: str
    agent_name: str
    language: str
    voice_provider: str
    voice_id: str
    system_prompt: str
    greeting: str
    knowledge: list[Knowledge]
    enabled_tools: list[ToolSetting]
    allowed_origins: list[str]
    admins: list[Admin]
    opening_hours: dict[str, list[list[str]]] = field(default_factory=dict)


def _field_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "(top level)"


def config_parse(data: Any, *, source: str = "config") -> TenantConfig:
    """Validate a loaded config mapping and fill in the defaults."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of settings, got {type(data).__name__}")
    if not _within(data, MAX_VALUES):
        raise ConfigError(
            f"{source}: more than {MAX_VALUES} values (YAML aliases repeating themselves?)"
        )
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data), key=str)
    if errors:
        details = "; ".join(f"{_field_path(e)}: {e.message}" for e in errors)
        raise ConfigError(f"{source}: {details}")
    tenant_id = data["tenant_id"]
    if tenant_id in RESERVED_SCHEMAS or tenant_id.startswith("pg_"):
        raise ConfigError(f"{source}: tenant_id: {tenant_id!r} is reserved by PostgreSQL or Nexus")
    voice = data["voice_settings"]
    if wrong_voice := voice_error(voice["provider"], voice["voice_id"]):
        raise ConfigError(f"{source}: voice_settings.voice_id: {wrong_voice}")
    widget = data.get("widget", {})
    try:
        origins = [origin_normalize(origin) for origin in widget.get("allowed_origins", [])]
    except ValidationError as error:
        raise ConfigError(f"{source}: widget.allowed_origins: {error.messages[0]}") from error
    tools = [
        ToolSetting(tool) if isinstance(tool, str) else ToolSetting(**tool)
        for tool in data.get("enabled_tools", [])
    ]
    _check_tools(tools, source)
    agent = data.get("agent", {})
    display_name: str = data.get("display_name") or tenant_id
    return TenantConfig(
        tenant_id=tenant_id,
        display_name=display_name,
        timezone=_timezone(data.get("timezone", "UTC"), source),
        domains=_domains(data.get("domains", [f"{tenant_id.replace('_', '-')}.localhost"]), source),
        concurrent_call_limit=data.get("concurrent_call_limit", 10),
        call_limits=CallLimits(**data.get("call_limits", {})),
        agent_slug=agent.get("slug", "assistant"),
        agent_name=agent.get("name", f"{display_name} assistant"),
        language=agent.get("language", "en"),
        voice_provider=data["voice_settings"]["provider"],
        voice_id=data["voice_settings"]["voice_id"],
        system_prompt=data["system_prompt"].strip(),
        greeting=data.get("greeting", "").strip(),
        knowledge=[Knowledge(k["title"], k["content"].strip()) for k in data.get("knowledge", [])],
        enabled_tools=tools,
        allowed_origins=origins,
        admins=[Admin(**admin) for admin in data.get("admins", [])],
        opening_hours=_opening_hours(data.get("opening_hours", {}), source),
    )


def _within(data: Any, limit: int) -> bool:
    """Whether `data` holds at most `limit` values, counted as if every alias were expanded
    (a "billion laughs" file stops the count early instead of filling the memory)."""
    stack, count = [data], 0
    while stack:
        value = stack.pop()
        count += 1
        if count > limit:
            return False
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return True


def _timezone(name: str, source: str) -> str:
    try:
        timezone_validate(name)
    except ValidationError as error:
        raise ConfigError(f"{source}: timezone: {error.messages[0]}") from None
    return name


def _opening_hours(hours: dict, source: str) -> dict:
    try:
        opening_hours_validate(hours)
    except ValidationError as error:
        raise ConfigError(f"{source}: opening_hours: {'; '.join(error.messages)}") from None
    return hours


def _domains(values: list[str], source: str) -> list[str]:
    """The domains normalized (lowercase, no trailing dot, IDNA), each once, in order."""
    domains = []
    for index, value in enumerate(values):
        try:
            domains.append(domain_normalize(value))
        except BadDomain as error:
            raise ConfigError(f"{source}: domains.{index}: {error}") from None
    return list(dict.fromkeys(domains))


def _check_tools(tools: list[ToolSetting], source: str) -> None:
    """Every tool must be registered, and its settings valid for it."""
    for index, setting in enumerate(tools):
        tool = tool_get(setting.name)
        if tool is None:
            known = ", ".join(tool_names())
            raise ConfigError(
                f"{source}: enabled_tools.{index}: unknown tool {setting.name!r} (known: {known})"
            )
        problems = tool.settings_errors(setting.settings)
        if problems:
            raise ConfigError(f"{source}: enabled_tools.{index}.settings: {'; '.join(problems)}")


def config_load(path: Path) -> TenantConfig:
    """Read and validate a `config.yaml` file (of at most `MAX_FILE_BYTES`)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_FILE_BYTES // 1024} KiB")
        text = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror})") from error
    return config_from_yaml(text, source=str(path))


def config_from_yaml(text: bytes, *, source: str) -> TenantConfig:
    """Validate the YAML text of a `config.yaml` (of at most `MAX_FILE_BYTES`), e.g. an upload."""
    if len(text) > MAX_FILE_BYTES:
        raise ConfigError(f"{source}: larger than {MAX_FILE_BYTES // 1024} KiB")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML: {error}") from error
    return config_parse(data, source=source)


def config_dump(config: TenantConfig) -> str:
    """The YAML text of a configuration, in the same shape `config_load` reads."""
    data = {
        "tenant_id": config.tenant_id,
        "display_name": config.display_name,
        "timezone": config.timezone,
        "opening_hours": config.opening_hours,
        "domains": config.domains,
        "concurrent_call_limit": config.concurrent_call_limit,
        "call_limits": asdict(config.call_limits),
        "agent": {
            "slug": config.agent_slug,
            "name": config.agent_name,
            "language": config.language,
        },
        "voice_settings": {"provider": config.voice_provider, "voice_id": config.voice_id},
        "system_prompt": config.system_prompt,
        "greeting": config.greeting,
        "knowledge": [{"title": k.title, "content": k.content} for k in config.knowledge],
        "enabled_tools": [
            {"name": t.name, "settings": t.settings} if t.settings else t.name
            for t in config.enabled_tools
        ],
        "widget": {"allowed_origins": config.allowed_origins},
        "admins": [{"username": a.username, "email": a.email} for a in config.admins],
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
