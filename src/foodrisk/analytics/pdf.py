"""PDF from HTML with WeasyPrint and a CJK font installed on the machine (nothing fetched at run time).

WeasyPrint needs Pango (Debian: libpango-1.0-0, libpangoft2-1.0-0) and a font that covers Chinese, found
through fontconfig (Debian: fonts-wqy-microhei or fonts-noto-cjk). Either missing: engine_status() says why
in words, reports keep their XLSX, and the enterprise report answers 503. Resources: only data: URLs are
fetched (charts are inline SVG), so a template can never make the worker reach the network.
"""

import functools
import logging
import shutil
import subprocess
from pathlib import Path

from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

CJK_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
                "Noto Serif CJK SC", "WenQuanYi Zen Hei", "AR PL UMing CN")
FONT_FILES = {  # where Debian puts them, when fc-list itself is missing
    "WenQuanYi Micro Hei": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "Noto Sans CJK SC": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "WenQuanYi Zen Hei": "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
}


@functools.cache
def cjk_font():
    """The family name of an installed font covering Chinese, or ""."""
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=20,
                                 check=False).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        installed = {name.strip() for line in out.splitlines() for name in line.split(",")}
        for family in CJK_FAMILIES:
            if family in installed:
                return family
        if installed:
            return sorted(installed)[0]
    for family, path in FONT_FILES.items():
        if Path(path).exists():
            return family
    return ""


@functools.cache
def _engine():
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the Pango libraries are missing
        logger.warning("WeasyPrint unavailable: %s", exc)
        return None, str(exc)
    return weasyprint, ""


def engine_status():
    """(True, "") when a PDF can be made here; else (False, why, in Chinese)."""
    engine, error = _engine()
    if engine is None:
        return False, _("The PDF engine is not installed on the server (ask the administrator to install it as docs/deployment.md says).")
    if not cjk_font():
        return False, _("No Chinese font is installed on the server (e.g. the Debian package fonts-wqy-microhei).")
    return True, ""


class PDFUnavailable(Exception):
    """The PDF cannot be made on this server; the text says why (for the person)."""


def font_stack():
    """The CSS font-family value of every PDF: the installed CJK font first."""
    family = cjk_font()
    return f'"{family}", sans-serif' if family else "sans-serif"


def render_html(html):
    """The PDF bytes of an HTML document (fonts from fontconfig, only data: URLs resolved)."""
    ok, reason = engine_status()
    if not ok:
        raise PDFUnavailable(reason)
    weasyprint, _error = _engine()
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    return weasyprint.HTML(string=html, base_url="data:,", url_fetcher=fetcher).write_pdf()
