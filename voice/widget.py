"""Where the caller widget's script is served from, for embed snippets and pages."""

from django.http import HttpRequest
from django.templatetags.static import static


def widget_src(request: HttpRequest) -> str:
    """The absolute URL of widget.js on the request's host."""
    return request.build_absolute_uri(static("nexus/widget.js"))
