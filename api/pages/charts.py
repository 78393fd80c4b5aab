"""Charts as server-side SVG: the class-hour timeline. Readable without colour: every band has a
text label and its own fill pattern, and every mark a <title> for screen readers and hovering."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable
from xml.sax.saxutils import escape

# Each kind of event: fill colour and pattern (so that colour is not the only difference).
STYLES: dict[str, tuple[str, str]] = {
    "valid": ("#2e7d32", "solid"), "footage.gap": ("#9e9e9e", "dots"), "footage.freeze": ("#1565c0", "hatch"),
    "footage.black": ("#212121", "solid"), "footage.loop": ("#c62828", "cross"), "footage.splice": ("#ef6c00", "hatch2"),
    "footage.overlap": ("#6a1b9a", "dots"), "footage.clock_jump": ("#00838f", "hatch"),
    "footage.defocus": ("#5d4037", "dots"), "footage.camera_moved": ("#ad1457", "cross"),
}
_PATTERNS = """<defs>
<pattern id="p-dots" width="6" height="6" patternUnits="userSpaceOnUse"><circle cx="3" cy="3" r="1.3" fill="#fff"/></pattern>
<pattern id="p-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern>
<pattern id="p-hatch2" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern>
<pattern id="p-cross" width="8" height="8" patternUnits="userSpaceOnUse"><path d="M0 0L8 8M8 0L0 8" stroke="#fff" stroke-width="1.5"/></pattern>
</defs>"""


def _t(value: str) -> datetime:
    return datetime.fromisoformat(value)


def hour_timeline(hour: dict[str, Any], required_s: float | None, label: Callable[[str], str],
                  clock: Callable[[datetime], str], title: str) -> str:
    """The scheduled hour as an axis; a band of valid runs, one band per kind of finding; the
    longest run outlined, with the continuous length the policy asks for drawn beside it."""
    start, end = _t(hour["start"]), _t(hour["end"])
    span = max((end - start).total_seconds(), 1.0)
    left, width, band, gap = 215, 700, 22, 8
    kinds = ["valid"] + sorted({f["rule"] for f in hour["findings"] if f["rule"] in STYLES and f.get("start")})
    height = 40 + len(kinds) * (band + gap) + 40

    def x(instant: datetime) -> float:
        return left + width * min(max((instant - start).total_seconds() / span, 0.0), 1.0)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {left + width + 45} {height}" role="img" '
             f'aria-labelledby="tl-title" class="timeline"><title id="tl-title">{escape(title)}</title>', _PATTERNS]
    y = 30
    longest = max(hour["runs"], key=lambda r: r["duration_s"], default=None)
    for kind in kinds:
        colour, pattern = STYLES[kind]
        parts.append(f'<text x="{left - 8}" y="{y + band * 0.7}" text-anchor="end" class="band-label">{escape(label(kind))}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{width}" height="{band}" fill="#f5f5f5" stroke="#ccc"/>')
        spans = ([(r["start"], r["end"], r is longest) for r in hour["runs"]] if kind == "valid" else
                 [(f["start"], f["end"], False) for f in hour["findings"] if f["rule"] == kind and f.get("start")])
        for a, b, is_longest in spans:
            x0, x1 = x(_t(a)), x(_t(b or a))
            tip = f"{label(kind)}: {clock(_t(a))} – {clock(_t(b or a))}"
            outline = ' stroke="#000" stroke-width="2"' if is_longest else ""
            parts.append(f'<g data-kind="{kind}" data-start="{escape(a)}" data-end="{escape(b or a)}"><title>{escape(tip)}</title>'
                         f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 2):.1f}" height="{band}" fill="{colour}"'
                         f'{outline}/>'
                         + (f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 2):.1f}" height="{band}" fill="url(#p-{pattern})"/>'
                            if pattern != "solid" else "") + "</g>")
        y += band + gap
    if required_s and hour.get("kind") == "practical":
        x0 = left
        x1 = left + width * min(required_s / span, 1.0)
        parts.append(f'<g class="required"><title>{escape(label("required"))}</title>'
                     f'<line x1="{x0}" y1="{y + 4}" x2="{x1:.1f}" y2="{y + 4}" stroke="#000" stroke-width="2" stroke-dasharray="6 3"/>'
                     f'<text x="{x1 + 6:.1f}" y="{y + 8}" class="axis">{escape(label("required"))}</text></g>')
        y += 14
    ticks = 6
    for k in range(ticks + 1):
        instant = start + (end - start) * (k / ticks)
        tx = left + width * k / ticks
        parts.append(f'<line x1="{tx:.1f}" y1="{y}" x2="{tx:.1f}" y2="{y + 5}" stroke="#555"/>'
                     f'<text x="{tx:.1f}" y="{y + 18}" text-anchor="middle" class="axis">{escape(clock(instant))}</text>')
    parts.append(f'<text x="{left + width / 2}" y="{y + 34}" text-anchor="middle" class="axis-title">{escape(label("axis"))}</text>')
    parts.append("</svg>")
    return "".join(parts).replace(f'viewBox="0 0 {left + width + 45} {height}"', f'viewBox="0 0 {left + width + 45} {y + 44}"')


def _nice(span: float, steps: tuple[float, ...], most: int) -> float:
    """The smallest round step giving at most `most` intervals over `span`."""
    return next((step for step in steps if span / step <= most), steps[-1])


_TIME_STEPS = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800)
_MINUTE_STEPS = (0.5, 1, 2, 5, 10, 15, 30, 60, 120)


def session_plot(events: list[dict[str, Any]], label: Callable[[str], str], clock: Callable[[datetime], str],
                 title: str, findings: list[dict[str, Any]] | None = None) -> str:
    """Playback position against wall-clock time: a slope steeper than the dashed 1× guide is
    fast-forwarding, a vertical jump a seek. Pop-ups are marked above the plot (shown ▲,
    answered ●, timed out ✕), hidden-window spans shaded, each finding's interval drawn as a band
    under the plot (an instant as a tick); a 1× guide starts again with each unit (a unit's video
    starts at 0); ticks at round times and minutes; a legend says what each mark is."""
    events = sorted(events, key=lambda e: e["at"])
    if not events:
        return ""
    t0, t1 = _t(events[0]["at"]), _t(events[-1]["at"])
    span = max((t1 - t0).total_seconds(), 1.0)
    positions = [e.get("position_s") or e.get("to_s") or 0.0 for e in events if e.get("position_s") is not None or e.get("to_s") is not None]
    step_min = _nice(max(max(positions, default=60.0), 60.0) / 60, _MINUTE_STEPS, 6)
    top = step_min * 60 * -(-max(max(positions, default=60.0), 1.0) // (step_min * 60))
    findings = [f for f in (findings or []) if f.get("start")]
    left, width, plot_top, height = 70, 760, 40, 260
    band_top = plot_top + height + 44
    legend_top = band_top + 22 * len({f["rule"] for f in findings}) + 16

    def x(instant: datetime) -> float:
        return left + width * min(max((instant - t0).total_seconds() / span, 0.0), 1.0)

    def y(position: float) -> float:
        return plot_top + height - height * position / top

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {left + width + 60} {legend_top + 48}" '
             f'role="img" aria-labelledby="sp-title" class="timeline session-plot"><title id="sp-title">{escape(title)}</title>',
             _PATTERNS, f'<rect x="{left}" y="{plot_top}" width="{width}" height="{height}" fill="#fafafa" stroke="#ccc"/>']
    hidden_from: datetime | None = None
    for e in events:
        if e["type"] == "hidden":
            hidden_from = _t(e["at"])
        elif e["type"] == "visible" and hidden_from is not None:
            a, b = x(hidden_from), x(_t(e["at"]))
            parts.append(f'<g data-kind="hidden"><title>{escape(label("hidden"))}</title><rect x="{a:.1f}" y="{plot_top}" '
                         f'width="{max(b - a, 1):.1f}" height="{height}" fill="#bdbdbd" opacity=".5"/>'
                         f'<rect x="{a:.1f}" y="{plot_top}" width="{max(b - a, 1):.1f}" height="{height}" fill="url(#p-dots)"/></g>')
            hidden_from = None
    # The 1× guide, from the first position of each unit to the end of that unit's events.
    by_unit: dict[Any, list[dict[str, Any]]] = {}
    for e in events:
        if e.get("position_s") is not None:
            by_unit.setdefault(e.get("unit"), []).append(e)
    for n, unit_events in enumerate(by_unit.values()):
        first, last = unit_events[0], unit_events[-1]
        a, b = _t(first["at"]), _t(last["at"])
        run = min((b - a).total_seconds(), top - first["position_s"])
        if run <= 0:
            continue
        parts.append(f'<g data-kind="guide"><title>1×</title><line x1="{x(a):.1f}" y1="{y(first["position_s"]):.1f}" '
                     f'x2="{x(a + (b - a) * (run / max((b - a).total_seconds(), 1e-9))):.1f}" y2="{y(first["position_s"] + run):.1f}" '
                     f'stroke="#555" stroke-dasharray="6 4"/>'
                     + (f'<text x="{x(a) + 6:.1f}" y="{plot_top + 14}" class="axis">{escape(label("guide"))}</text>' if n == 0 else "")
                     + "</g>")
    points: list[str] = []
    unit = None
    for e in events:
        if e.get("unit") != unit and points:
            parts.append(f'<polyline data-kind="position" points="{" ".join(points)}" fill="none" stroke="#0d47a1" stroke-width="2"/>')
            points = []
        unit = e.get("unit")
        at = _t(e["at"])
        if e["type"] == "seek":
            points.append(f"{x(at):.1f},{y(e['from_s']):.1f}")
            points.append(f"{x(at):.1f},{y(e['to_s']):.1f}")
        elif e.get("position_s") is not None and e["type"] in ("play", "heartbeat", "pause", "unit_complete"):
            points.append(f"{x(at):.1f},{y(e['position_s']):.1f}")
    if points:
        parts.append(f'<polyline data-kind="position" points="{" ".join(points)}" fill="none" stroke="#0d47a1" stroke-width="2"/>')
    marks = {"popup_shown": "▲", "popup_answered": "●", "popup_timeout": "✕"}
    for e in events:
        if e["type"] in marks:
            at = _t(e["at"])
            parts.append(f'<text data-kind="{e["type"]}" x="{x(at):.1f}" y="{plot_top - 8 - (12 if e["type"] == "popup_answered" else 0)}" '
                         f'text-anchor="middle" class="mark"><title>{escape(label(e["type"]))}: {escape(clock(at))}</title>'
                         f'{marks[e["type"]]}</text>')
    # Round clock ticks (whole minutes or their multiples) and round minutes of the video.
    step_s = _nice(span, _TIME_STEPS, 7)
    tick = t0.timestamp() // step_s * step_s + (step_s if t0.timestamp() % step_s else 0)
    while tick <= t1.timestamp() + 1e-6:
        instant = datetime.fromtimestamp(tick, t0.tzinfo)
        parts.append(f'<text x="{x(instant):.1f}" y="{plot_top + height + 18}" text-anchor="middle" class="axis">{escape(clock(instant))}</text>'
                     f'<line x1="{x(instant):.1f}" y1="{plot_top + height}" x2="{x(instant):.1f}" y2="{plot_top + height + 5}" stroke="#555"/>')
        tick += step_s
    k = 0.0
    while k <= top / 60 + 1e-9:
        parts.append(f'<text x="{left - 6}" y="{y(k * 60) + 4:.1f}" text-anchor="end" class="axis">{k:g}</text>')
        k += step_min
    parts.append(f'<text x="{left + width / 2}" y="{plot_top + height + 36}" text-anchor="middle" class="axis-title">{escape(label("axis"))}</text>')
    parts.append(f'<text x="16" y="{plot_top + height / 2}" transform="rotate(-90 16 {plot_top + height / 2})" '
                 f'text-anchor="middle" class="axis-title">{escape(label("position"))}</text>')
    # Findings: one band per rule under the plot, each interval (or instant) marked where it was.
    rules = sorted({f["rule"] for f in findings})
    for n, rule in enumerate(rules):
        by = band_top + n * 22
        parts.append(f'<text x="{left - 6}" y="{by + 13}" text-anchor="end" class="band-label">{escape(label(rule))}</text>'
                     f'<rect x="{left}" y="{by}" width="{width}" height="16" fill="#f5f5f5" stroke="#ccc"/>')
        for f in findings:
            if f["rule"] != rule:
                continue
            a, b = _t(f["start"]), _t(f.get("end") or f["start"])
            x0, x1 = x(a), x(b)
            parts.append(f'<g data-kind="finding" data-rule="{escape(rule)}" data-start="{escape(f["start"])}">'
                         f'<title>{escape(label(rule))}: {escape(clock(a))} – {escape(clock(b))}</title>'
                         f'<rect x="{x0 - (1.5 if x1 - x0 < 3 else 0):.1f}" y="{by}" width="{max(x1 - x0, 3):.1f}" height="16" fill="#c62828"/>'
                         f'<rect x="{x0:.1f}" y="{plot_top}" width="{max(x1 - x0, 1.5):.1f}" height="{height}" fill="#c62828" opacity=".12"/></g>')
    # The legend, in words.
    items = [("position", '<line x1="0" y1="-4" x2="18" y2="-4" stroke="#0d47a1" stroke-width="2"/>'),
             ("guide", '<line x1="0" y1="-4" x2="18" y2="-4" stroke="#555" stroke-dasharray="6 4"/>'),
             ("popup_shown", '<text x="9" y="0" text-anchor="middle">▲</text>'),
             ("popup_answered", '<text x="9" y="0" text-anchor="middle">●</text>'),
             ("popup_timeout", '<text x="9" y="0" text-anchor="middle">✕</text>'),
             ("hidden", '<rect x="0" y="-11" width="18" height="12" fill="#bdbdbd"/>'),
             ("finding", '<rect x="0" y="-11" width="18" height="12" fill="#c62828"/>')]
    lx = left
    parts.append('<g class="legend">')
    for key, swatch in items:
        text = label("legend." + key) if key in ("position", "finding") else label(key)
        wide = 30 + 12 * len(text) * (1 if any(ord(c) > 0x2e80 for c in text) else 0.55)
        if lx + wide > left + width + 40 and lx > left:  # the next row
            lx, legend_top = left, legend_top + 20
        parts.append(f'<g transform="translate({lx:.0f},{legend_top})">{swatch}<text x="22" y="0" class="axis">{escape(text)}</text></g>')
        lx += wide
    parts.append("</g></svg>")
    return "".join(parts)


def headcount_chart(moments: list[dict[str, Any]], roster_size: int, mean: float | None, label: Callable[[str], str],
                    clock: Callable[[datetime], str], title: str) -> str:
    """Trainees identified at each check moment (bars), against the roster (solid line) and the
    mean (dashed line), each line labelled in words."""
    if not moments:
        return ""
    left, width, top, height = 60, 700, 20, 160
    most = max(roster_size, max(len(m["present"]) for m in moments), 1)
    step = width / len(moments)

    def y(count: float) -> float:
        return top + height - height * count / most

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {left + width + 140} {top + height + 50}" role="img" '
             f'aria-labelledby="hc-title" class="timeline headcount"><title id="hc-title">{escape(title)}</title>']
    for k, m in enumerate(moments):
        count = len(m["present"])
        x0 = left + k * step + step * 0.15
        parts.append(f'<g data-kind="moment"><title>{escape(clock(_t(m["at"])))}: {count}</title>'
                     f'<rect x="{x0:.1f}" y="{y(count):.1f}" width="{step * 0.7:.1f}" height="{top + height - y(count):.1f}" '
                     f'fill="#546e7a"/></g>')
    parts.append(f'<line x1="{left}" y1="{y(roster_size):.1f}" x2="{left + width}" y2="{y(roster_size):.1f}" stroke="#000"/>'
                 f'<text x="{left + width + 6}" y="{y(roster_size) + 4:.1f}" class="axis">{escape(label("roster"))} {roster_size}</text>')
    if mean is not None:
        parts.append(f'<line data-kind="mean" x1="{left}" y1="{y(mean):.1f}" x2="{left + width}" y2="{y(mean):.1f}" '
                     f'stroke="#b00020" stroke-dasharray="6 3" stroke-width="2"/><text x="{left + width + 6}" '
                     f'y="{y(mean) + 16:.1f}" class="axis">{escape(label("mean"))} {mean:.1f}</text>')
    for k in range(0, most + 1, max(1, most // 5)):
        parts.append(f'<text x="{left - 6}" y="{y(k) + 4:.1f}" text-anchor="end" class="axis">{k}</text>')
    for k in (0, len(moments) - 1):
        parts.append(f'<text x="{left + k * step + step / 2:.1f}" y="{top + height + 16}" text-anchor="middle" '
                     f'class="axis">{escape(clock(_t(moments[k]["at"])))}</text>')
    parts.append(f'<text x="{left + width / 2}" y="{top + height + 40}" text-anchor="middle" class="axis-title">'
                 f'{escape(label("axis"))}</text></svg>')
    return "".join(parts)
