"""Plotly figures built on the server (plotly.graph_objects) and handed to the page as JSON;
static/js/charts.js draws them. Every figure has a table alternative in the template."""

import json

import plotly.graph_objects as go

from attendance.bands import Band

BLUE, BLACK = "#1d70b8", "#0b0c0c"
RED = "#d4351c"
BAND_COLOURS = ["#00703c", "#85994b", "#ffdd00", "#f47738", "#d4351c"]
FONT = {"family": "Arial, sans-serif", "size": 14, "color": BLACK}


def _layout(title: str, *, y_title: str) -> go.Layout:
    return go.Layout(
        # No plotly title: the page's <h2> above the chart names it (and the table's caption).
        template="none", font=FONT, height=340, meta={"title": title},
        margin={"l": 60, "r": 20, "t": 20, "b": 80}, yaxis={"title": {"text": y_title},
                                                           "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.25}, showlegend=True,
    )


def _json(figure: go.Figure) -> dict:
    return json.loads(figure.to_json())


def bands_figure(headline) -> dict:
    labels = [f"{b.value}. {b.label}" for b in Band]
    figure = go.Figure(
        go.Bar(x=labels, y=headline.bands, marker={"color": BAND_COLOURS}, name="Pupils"),
        layout=_layout("Pupils by absence band", y_title="Pupils"),
    )
    figure.update_layout(showlegend=False)
    return _json(figure)


def measure_figure(title: str, cells, *, measure: str, y_title: str = "%",
                   name: str = "City") -> dict:
    """Bars of the city's rate per group, with the national figure as a marker where published."""
    attribute = {"absence": "absence_rate", "pa": "pa_rate", "sa": "sa_rate"}[measure]
    x = [c.label for c in cells]
    city = [float(v) if (v := getattr(c, attribute)) is not None else None for c in cells]
    national = [float(v) if (v := c.benchmark(measure)) is not None else None for c in cells]
    figure = go.Figure(layout=_layout(title, y_title=y_title))
    figure.add_trace(go.Bar(x=x, y=city, name=name, marker={"color": BLUE}))
    if any(v is not None for v in national):
        figure.add_trace(go.Scatter(x=x, y=national, name="National", mode="markers",
                                    marker={"color": BLACK, "symbol": "diamond", "size": 12}))
    return _json(figure)


def _week_labels(weeks) -> list[str]:
    return [f"{w.week_start.day} {w.week_start:%b}" for w in weeks]


def _rates(weeks, attribute: str) -> list:
    return [float(r) if (r := getattr(w, attribute)) is not None else None for w in weeks]


def _weekly_axes(figure: go.Figure) -> None:
    figure.update_layout(yaxis={"rangemode": "normal"},
                         xaxis={"title": {"text": "Week beginning"}, "type": "category"})


def weekly_figure(weeks, *, name: str = "This school") -> dict:
    """Attendance per week: a line, each week labelled by its Monday (a week without possible
    sessions is a gap)."""
    figure = go.Figure(layout=_layout("Attendance week by week", y_title="Attendance %"))
    figure.add_trace(go.Scatter(x=_week_labels(weeks), y=_rates(weeks, "attendance_rate"),
                                name=name, mode="lines+markers", line={"color": BLUE}))
    _weekly_axes(figure)
    figure.update_layout(showlegend=False)
    return _json(figure)


def _weekly_lines(weeks, title: str, y_title: str, lines) -> dict:
    """One line per (Week attribute, name, colour, dash) over the weeks, from zero up."""
    figure = go.Figure(layout=_layout(title, y_title=y_title))
    x = _week_labels(weeks)
    for attribute, name, colour, dash in lines:
        figure.add_trace(go.Scatter(x=x, y=_rates(weeks, attribute), name=name,
                                    mode="lines+markers", line={"color": colour, "dash": dash}))
    _weekly_axes(figure)
    figure.update_layout(yaxis={"rangemode": "tozero"})
    return _json(figure)


def weekly_pa_figure(weeks) -> dict:
    """Persistent and severe absence (pupils' year to date) at the end of each week."""
    return _weekly_lines(weeks, "Persistent and severe absence week by week", "% of pupils", (
        ("pa_rate", "Persistent absence", BLACK, "solid"),
        ("sa_rate", "Severe absence", RED, "dot")))


def weekly_absence_figure(weeks) -> dict:
    """Overall, authorised and unauthorised absence per week: three lines."""
    return _weekly_lines(weeks, "Absence week by week", "% of possible sessions", (
        ("absence_rate", "Overall absence", BLACK, "solid"),
        ("authorised_rate", "Authorised", BLUE, "dash"),
        ("unauthorised_rate", "Unauthorised", RED, "dot")))
