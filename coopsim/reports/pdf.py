"""The after-action report as a PDF, printed from its HTML by WeasyPrint.

WeasyPrint lays out the same self-contained HTML a browser shows, with the
report's print stylesheet: A4 pages, a page per section, the handling banner
at the head and foot of every page, and page numbers. It needs the ``pdf``
extra (``pip install 'coopsim[pdf]'``) and the Pango text library, which
Debian and Ubuntu install with ``apt-get install libpango-1.0-0 libpangoft2-1.0-0``
(most desktops have it already). WeasyPrint fetches nothing: the report has no
external resources, and the URL fetcher refuses any that a scenario's text
might name.
"""

from __future__ import annotations

from pathlib import Path

INSTALL = (
    "PDF needs the pdf extra: pip install 'coopsim[pdf]' (WeasyPrint), and the Pango library"
    " (Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0)"
)


class PdfUnavailable(Exception):
    """WeasyPrint or the system library it needs is not installed; the message says how to install it."""


def _fetcher(weasyprint):
    """A URL fetcher that reads the report's embedded ``data:`` images and fetches nothing else."""
    if hasattr(weasyprint, "URLFetcher"):  # WeasyPrint 67 and later
        return weasyprint.URLFetcher(allowed_protocols=("data",))

    def data_only(url: str, *args, **kwargs):
        if not url.startswith("data:"):
            raise ValueError(f"the report does not fetch {url[:60]!r}: it is self-contained")
        return weasyprint.default_url_fetcher(url, *args, **kwargs)

    return data_only


def require():
    """The weasyprint module.

    Raises:
        PdfUnavailable: WeasyPrint or Pango is missing.
    """
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint is there but Pango is not
        first = (str(exc).splitlines() or [""])[0][:120]
        raise PdfUnavailable(f"{INSTALL} ({type(exc).__name__}: {first})") from None
    return weasyprint


def write_pdf(html: str, path: str | Path) -> int:
    """Print ``html`` to ``path`` as PDF; returns the number of pages.

    Raises:
        PdfUnavailable: WeasyPrint or Pango is missing.
    """
    weasyprint = require()
    document = weasyprint.HTML(string=html, url_fetcher=_fetcher(weasyprint)).render()
    document.write_pdf(str(path))
    return len(document.pages)
