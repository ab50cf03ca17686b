"""The built-in generic tools, configured per tenant rather than coded per business."""

from tools_registry.builtin import calendar, http_request  # noqa: F401
