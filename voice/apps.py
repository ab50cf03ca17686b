from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "voice"
    verbose_name = "Voice agents"

    def ready(self) -> None:
        from voice import tools  # noqa: F401  (registers the tools that act on calls)
        from voice.call import access_cache  # noqa: F401  (drops cached agents on admin saves)
