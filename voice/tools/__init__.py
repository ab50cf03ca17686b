"""The tools that act on a call or its persona; they register like any business's tools."""

from voice.tools import calls, knowledge  # noqa: F401
