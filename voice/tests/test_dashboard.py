"""The calls dashboard on a tenant's admin index: its figures match the tenant's own rows, in
the tenant's days, and only users who may view calls see it.

Each test starts from no call in either tenant (deleted inside the test's transaction: call
tests elsewhere commit theirs), then makes the rows it counts.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from tenants_app.tests.factories import PASSWORD, user_create
from tools_registry.models import InvocationStatus, ToolInvocation
from voice.dashboard import BARS_HEIGHT, DAYS, NOT_ANALYZED_COLOUR, dashboard_build
from voice.models import Call, CallStatus, Persona

JOES, PIZZA = "joes.localhost", "pizza.localhost"


def login(client, host: str, username: str) -> None:
    client.post("/admin/login/", {"username": username, "password": PASSWORD}, HTTP_HOST=host)


def local_midnight(zone: ZoneInfo, days_ago: int = 0) -> dt.datetime:
    today = timezone.localtime(timezone.now(), zone).date()
    return dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time.min, zone)


def today_at(zone: ZoneInfo, fraction: float) -> dt.datetime:
    """A moment of the tenant's today that has passed: `fraction` of the way from midnight."""
    midnight = local_midnight(zone)
    return midnight + (timezone.now() - midnight) * fraction


def noon(zone: ZoneInfo, days_ago: int) -> dt.datetime:
    return local_midnight(zone, days_ago) + dt.timedelta(hours=12)


def call_make(
    started: dt.datetime,
    *,
    seconds: int | None = None,
    outcome: str | None = None,
    needs_human: bool = False,
    uplink_p50: float | None = None,
    downlink_p50: float | None = None,
    tools: tuple[str, ...] = (),
) -> Call:
    """A call in the current schema: ended after `seconds` (None: still going on), with the
    outcome, hand-over, p50 bridge latencies and tool invocations (by status) given."""
    call = Call.objects.create(persona=Persona.objects.get())
    metrics = {}
    if uplink_p50 is not None:
        metrics["uplink_latency"] = {"count": 100, "p50_ms": uplink_p50, "p99_ms": 50.0}
    if downlink_p50 is not None:
        metrics["downlink_latency"] = {"count": 100, "p50_ms": downlink_p50, "p99_ms": 50.0}
    ended = {}
    if seconds is not None:
        ended = {"status": CallStatus.ENDED, "ended_at": started + dt.timedelta(seconds=seconds)}
    Call.objects.filter(pk=call.pk).update(
        started_at=started,
        needs_human=needs_human,
        analysis={"outcome": outcome} if outcome else None,
        metrics=metrics,
        **ended,
    )
    for status in tools:
        running = status == InvocationStatus.RUNNING
        invocation = ToolInvocation.objects.create(
            call=call,
            tool_name="book_appointment",
            status=status,
            finished_at=None if running else started,
            duration_ms=None if running else 120,
        )
        ToolInvocation.objects.filter(pk=invocation.pk).update(started_at=started)
    call.refresh_from_db()
    return call


@pytest.fixture
def rows(joes, pizza, in_schema) -> dict[str, list[Call]]:
    """Joe's calls: 3 today (one still going on), 2 more this week, 1 twenty days ago, and one
    forty days ago that no figure may count; Pizza's: 4 today, all handed over, whose tools fail."""
    new_york, london = ZoneInfo(joes.timezone), ZoneInfo(pizza.timezone)
    S, F, R = InvocationStatus.SUCCEEDED, InvocationStatus.FAILED, InvocationStatus.REJECTED
    with in_schema(joes):
        Call.objects.all().delete()
        joes_calls = [
            call_make(today_at(new_york, 0.2), seconds=60, outcome="Booking made",
                      uplink_p50=2.0, downlink_p50=1.0, tools=(S, S, F)),
            call_make(today_at(new_york, 0.5), seconds=120, outcome="answered", needs_human=True,
                      uplink_p50=4.0, downlink_p50=3.0, tools=(S, R, InvocationStatus.RUNNING)),
            call_make(today_at(new_york, 0.8)),  # going on: no outcome, no length yet
            call_make(noon(new_york, 2), seconds=180, outcome="Booking made", uplink_p50=9.0),
            call_make(noon(new_york, 5), seconds=240, outcome="answered"),
            call_make(noon(new_york, 20), seconds=300, needs_human=True),
            call_make(noon(new_york, 40), seconds=3600, outcome="unanswered", needs_human=True,
                      uplink_p50=500.0, tools=(F, F, F)),
        ]  # fmt: skip
    with in_schema(pizza):
        Call.objects.all().delete()
        pizza_calls = [
            call_make(today_at(london, 0.5), seconds=30, outcome="Pizza ordered", needs_human=True,
                      uplink_p50=80.0, tools=(F, F))
            for _ in range(4)
        ]  # fmt: skip
    return {"joes": joes_calls, "pizza": pizza_calls}


def test_the_figures_are_the_tenants_own_in_its_days(joes, pizza, in_schema, rows):
    with in_schema(joes):
        joes_board = dashboard_build(timezone=joes.timezone)
    with in_schema(pizza):
        pizza_board = dashboard_build(timezone=pizza.timezone)

    assert (joes_board.today, joes_board.last_7_days, joes_board.last_30_days) == (3, 5, 6)
    assert joes_board.average_duration == "3:00"  # 60, 120, 180, 240 and 300 s; not 3600
    assert [(s.label, s.count, s.percent, s.colour) for s in joes_board.outcomes] == [
        ("Booking made", 2, 33, 0), ("answered", 2, 33, 1),
        ("Not analyzed yet", 2, 33, NOT_ANALYZED_COLOUR),
    ]  # fmt: skip
    assert (joes_board.tools_succeeded, joes_board.tools_finished) == (3, 5)
    assert joes_board.tool_success_percent == 60
    assert [call.pk for call in joes_board.queue] == [
        rows["joes"][1].pk, rows["joes"][5].pk, rows["joes"][6].pk
    ]  # fmt: skip
    assert joes_board.queue_total == 3
    assert (joes_board.uplink_p50_ms, joes_board.downlink_p50_ms) == (4.0, 2.0)
    assert (pizza_board.today, pizza_board.last_30_days, pizza_board.queue_total) == (4, 4, 4)
    assert pizza_board.tool_success_percent == 0


def test_the_days_chart_has_a_bar_per_day_ending_today(joes, in_schema, rows):
    with in_schema(joes):
        board = dashboard_build(timezone=joes.timezone)
    today = timezone.localtime(timezone.now(), ZoneInfo(joes.timezone)).date()

    assert len(board.days) == DAYS
    assert board.days[-1].day == today
    assert [bar.count for bar in board.days][-6:] == [1, 0, 0, 1, 0, 3]  # 5 days ago .. today
    assert board.days[-1].height == BARS_HEIGHT  # the busiest day fills the chart
    assert board.days[-3].height == pytest.approx(BARS_HEIGHT / 3, abs=0.01)
    assert board.days[-4].height == 0
    ticks = [bar.tick for bar in board.days if bar.tick]
    assert ticks[-1] == f"{today:%b} {today.day}" and len(ticks) == 5  # once a week
    assert sum(share.width for share in board.outcomes) == pytest.approx(560, abs=0.1)


def figure(page: str, element_id: str) -> str:
    words = re.search(rf'id="{element_id}">(.*?)</dd>', page, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", words).split())


def test_the_admin_index_shows_joes_dashboard_without_pizzas_rows(client, joes, in_schema, rows):
    with in_schema(joes):
        user_create("joes-helpdesk", support=True)
    login(client, JOES, "joes-helpdesk")

    page = client.get("/admin/", HTTP_HOST=JOES).content.decode()

    assert figure(page, "nexus-calls-today") == "3"
    assert figure(page, "nexus-calls-7-days") == "5"
    assert figure(page, "nexus-calls-30-days") == "6"
    assert figure(page, "nexus-average-duration") == "3:00 m:ss"
    assert figure(page, "nexus-tool-success") == "60% of 5 runs"
    assert figure(page, "nexus-bridge-latency") == "4.0 up 2.0 down"
    assert "Booking made: <strong>2</strong> (33%)" in page
    assert "Pizza ordered" not in page
    today = timezone.localtime(rows["joes"][0].started_at, ZoneInfo(joes.timezone))
    assert f"{today:%a} {today.day} {today:%b}: 3 calls</title>" in page
    queue = re.findall(r'href="/admin/voice/call/([0-9a-f-]+)/change/"', page)
    assert queue == [str(rows["joes"][n].pk) for n in (1, 5, 6)]  # newest first


def test_only_users_who_may_view_calls_see_the_dashboard(client, joes, in_schema, rows):
    with in_schema(joes):
        user_create("joes-clerk")  # staff, without any permission
    login(client, JOES, "joes-clerk")
    clerk_page = client.get("/admin/", HTTP_HOST=JOES)
    connection.set_schema_to_public()  # the request left it in Joe's; an operator of the platform:
    get_user_model().objects.create_superuser("review-operator", password=PASSWORD)
    login(client, "localhost", "review-operator")
    platform_page = client.get("/admin/", HTTP_HOST="localhost")

    assert clerk_page.status_code == 200 and "nexus-dashboard" not in clerk_page.content.decode()
    assert platform_page.status_code == 200
    assert "Tenants and operators" in platform_page.content.decode()
    assert "nexus-dashboard" not in platform_page.content.decode()
