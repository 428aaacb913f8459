"""The after-action report as one self-contained HTML file.

Rendered through a Jinja2 template with autoescaping, so every piece of
scenario text is shown as text and nothing in it runs. Charts are embedded as
base64 PNGs and the styles are inline: the file opens offline in any browser
and can be handed to participants as it is.
"""

from __future__ import annotations

import base64
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .charts import Chart
from .markdown import SECTIONS
from .summary import calendar, hours_text


def render_template(name: str, *, charts: list[Chart], **context: Any) -> str:
    """Render one of the package's HTML templates, charts embedded as base64 PNGs."""
    env = Environment(
        loader=PackageLoader("coopsim.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
    )
    env.tests["web_link"] = web_link
    embedded = [{"name": c.name, "title": c.title, "caption": c.caption, "data": base64.b64encode(c.png).decode("ascii")} for c in charts]
    return env.get_template(name).render(charts=embedded, hours=hours_text, **context)


def web_link(url: Any) -> bool:
    """Whether ``url`` may become a live link: only ``http`` and ``https`` addresses ever do."""
    return isinstance(url, str) and url.strip().lower().startswith(("https://", "http://"))


def render_html(doc: dict[str, Any], charts: list[Chart]) -> str:
    """The after-action report as a single HTML document."""
    objective_names = {o["id"]: o["name"] for o in doc["objectives"]}
    when = calendar(doc["overview"]["start"], doc["overview"].get("timezone"))
    decision_names = {d["decision"]: d["name"] for d in doc["decisions"]}
    return render_template(
        "aar.html.j2", doc=doc, sections=SECTIONS, objective_names=objective_names, decision_names=decision_names, charts=charts, when=when
    )
