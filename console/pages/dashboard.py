"""看板: the last days at a glance for the office and its leaders: alerts per day and level (a chart drawn on
the server, its figures as a table), the busiest events, each unit's on-time claims this quarter (the
通报's figures), and the counties on a schematic tile map coloured by their alerts. The map is a grid of
tiles placed by territory.yaml's `tile` (no boundary data is needed, nor licensed)."""

# No `from __future__ import annotations`: FastAPI reads the routes' Depends() at definition.

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from alerts.accounts import Account, Role
from alerts.calendar import SHANGHAI
from classifiers.types import Level
from config.env import get_env
from console.pages.board import this_quarter
from console.web import Forbidden, Web
from pipeline.events import EventStore

READERS = (Role.DUTY, Role.ANALYST, Role.SUPERVISOR, Role.ADMIN)
SPANS = (7, 30)
LEVEL_COLOURS = {
    Level.GENERAL: "#9aa5b1",
    Level.HOT_TOPIC: "#d49a00",
    Level.SENSITIVE: "#d9480f",
    Level.MAJOR_EMERGENCY: "#b3261e",
}
CHART_W, CHART_H, PAD = 720, 220, 34
TILE = 96


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    height: float
    colour: str
    label: str


@dataclass(frozen=True, slots=True)
class Tile:
    name: str
    x: int
    y: int
    alerts: int
    fill: str

    @property
    def lines(self) -> list[str]:
        """The name in lines of at most six characters, to fit its tile."""
        return [self.name[i : i + 6] for i in range(0, len(self.name), 6)]


def _shade(count: int, top: int) -> str:
    """From white to the alert red, by the county's share of the busiest county's alerts."""
    if not count:
        return "#f4f5f7"
    strength = 0.25 + 0.75 * count / max(top, 1)
    red, green, blue = (int(255 - (255 - c) * strength) for c in (0xB3, 0x26, 0x1E))
    return f"#{red:02x}{green:02x}{blue:02x}"


def register(app: FastAPI, web: Web) -> None:
    counties = list(web.office.territory.counties) if web.office.territory else []

    @app.get("/dashboard", response_class=HTMLResponse)
    def dashboard(request: Request, account: Annotated[Account, Depends(web.signed_in)]) -> Response:
        if account.role not in READERS:
            raise Forbidden("看板仅供值班、分析、督办和管理员账号查看")
        asked = request.query_params.get("days", "")
        span = int(asked) if asked.isdigit() and int(asked) in SPANS else SPANS[0]
        now = web.now()
        today = now.astimezone(SHANGHAI).date()
        days = [today - timedelta(days=n) for n in range(span - 1, -1, -1)]
        since = now - timedelta(days=span)
        with web.opened() as workflow:
            alerts = [a for a in workflow.outbox.alerts(since=since) if a.about_event]
            quarter = this_quarter(workflow, now)
        per_day: dict[date, Counter[Level]] = {day: Counter() for day in days}
        for alert in alerts:
            day = alert.created_at.astimezone(SHANGHAI).date()
            if day in per_day:
                per_day[day][alert.level] += 1
        events = EventStore(get_env().events_path)
        try:
            busiest = events.busiest(since)
        finally:
            events.close()
        by_county = Counter(county for alert in alerts for county in alert.counties)
        return web.page(
            request,
            "dashboard.html",
            span=span,
            spans=SPANS,
            days=days,
            per_day=per_day,
            levels=list(Level),
            colours=LEVEL_COLOURS,
            bars=_bars(days, per_day),
            top=max((sum(c.values()) for c in per_day.values()), default=0),
            chart=(CHART_W, CHART_H, PAD),
            total=len(alerts),
            by_level=Counter(alert.level for alert in alerts),
            busiest=busiest,
            titles={a.event_id: a.title for a in sorted(alerts, key=lambda a: a.created_at, reverse=True)},
            quarter=quarter,
            tiles=_tiles(by_county),
            tile=TILE,
            map_size=_map_size(),
            unplaced=[c for c, n in by_county.items() if c not in {county.name for county in counties}],
            by_county=by_county,
        )

    def _tiles(by_county: Counter[str]) -> list[Tile]:
        top = max(by_county.values(), default=0)
        placed = []
        spare = 0
        for county in counties:
            if county.tile is not None:
                x, y = county.tile
            else:  # a county without a place is put in a row of its own below the map
                x, y = spare, 10
                spare += 1
            placed.append(
                Tile(
                    county.name,
                    x,
                    y,
                    by_county.get(county.name, 0),
                    _shade(by_county.get(county.name, 0), top),
                )
            )
        rows = sorted({tile.y for tile in placed})
        return [Tile(t.name, t.x, rows.index(t.y), t.alerts, t.fill) for t in placed]

    def _map_size() -> tuple[int, int]:
        tiles = _tiles(Counter())
        return (max((t.x for t in tiles), default=0) + 1) * TILE, (
            max((t.y for t in tiles), default=0) + 1
        ) * TILE


def _bars(days: list[date], per_day: dict[date, Counter[Level]]) -> list[Bar]:
    top = max((sum(c.values()) for c in per_day.values()), default=0) or 1
    width = (CHART_W - 2 * PAD) / len(days)
    bars = []
    for n, day in enumerate(days):
        base: float = CHART_H - PAD
        for level in Level:
            count = per_day[day][level]
            if not count:
                continue
            height = count / top * (CHART_H - 2 * PAD)
            base -= height
            label = f"{day:%m-%d} {level.value} {count} 条"
            bars.append(Bar(PAD + n * width + width * 0.15, base, height, LEVEL_COLOURS[level], label))
    return bars
