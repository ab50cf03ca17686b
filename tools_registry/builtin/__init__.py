"""The built-in generic tools, configured per tenant rather than coded per business."""

from tools_registry.builtin import calendar, calls, http_request, knowledge  # noqa: F401
