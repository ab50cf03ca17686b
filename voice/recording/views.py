"""A call's recording, for the tenant's own staff: streamed from storage, seekable.

Only an active staff user of the host's tenant who may view calls (`voice.view_call`) gets it;
anyone else is refused (403), and a call of another tenant, or one with no recording, is not
found (404). Byte ranges are answered (206), as a browser's `<audio>` asks when it seeks; one
range per request, which is all a browser asks of audio.
"""

import asyncio
import re
from collections.abc import AsyncIterator

from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe

from tenants_app.http import TenantRequest
from voice.models import Call
from voice.recording.storage import recording_storage
from voice.recording.writer import CONTENT_TYPE

CHUNK_BYTES = 64 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiable(Exception):
    """The byte range asked for starts beyond the file's end."""


@require_safe
def call_recording(request: TenantRequest, call_id: str) -> HttpResponseBase:
    user = request.user
    if not (user.is_active and user.is_staff and user.has_perm("voice.view_call")):
        raise PermissionDenied
    call = Call.objects.filter(pk=call_id).exclude(recording="").first()
    if call is None:
        raise Http404("No recording of this call.")
    try:
        file = recording_storage().open(call.recording.name, "rb")
    except FileNotFoundError:
        raise Http404("No recording of this call.") from None
    size = file.size
    response: HttpResponseBase
    try:
        wanted = _byte_range(request.headers.get("Range", ""), size)
    except RangeNotSatisfiable:
        file.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = wanted or (0, size - 1)
        response = StreamingHttpResponse(
            _chunks(file, start, end - start + 1),
            status=200 if wanted is None else 206,
            content_type=CONTENT_TYPE,
        )
        response["Content-Length"] = str(end - start + 1)
        if wanted is not None:
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, no-store"
    return response


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The first and last byte asked for, or None for the whole file (no Range, or one this view
    does not answer: several ranges, another unit, an invalid one such as `bytes=9-1`)."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if not first:  # the last `last` bytes
        start, end = max(size - int(last), 0), size - 1
    elif last and int(last) < int(first):
        return None
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size:
        raise RangeNotSatisfiable
    return start, end


async def _chunks(file: File, start: int, length: int) -> AsyncIterator[bytes]:
    """`length` bytes of `file` from `start`, read off the event loop; the file is closed."""
    try:
        await asyncio.to_thread(file.seek, start)
        while length > 0:
            chunk = await asyncio.to_thread(file.read, min(CHUNK_BYTES, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
    finally:
        file.close()
