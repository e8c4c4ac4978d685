"""Rendering pages: one Jinja2 environment (autoescaped), the security headers
every page carries, and ``render`` for the web handlers.

Every page is served with a strict Content-Security-Policy: scripts and styles
only from this server's /static (no inline script or style attribute, no
eval), images and media from this server (``data:`` for the QR code), forms
posting only here, and no framing. ``page`` (templates outside roost/web/pages,
such as the OAuth authorize page) and ``render`` share it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

if TYPE_CHECKING:
    from fastapi import Request

    from roost.web.viewer import WebViewer

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "xml"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def csp(*, frame_ancestors: str = "'none'", form_action: str | None = "'self'") -> str:
    """The Content-Security-Policy. ``form_action`` None leaves forms free to
    be redirected anywhere (the OAuth authorize form ends at the app)."""
    parts = [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        f"frame-ancestors {frame_ancestors}",
        "base-uri 'none'",
    ]
    if form_action is not None:
        parts.append(f"form-action {form_action}")
    return "; ".join(parts)


SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": csp(),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cache-Control": "no-store",
}


@cache
def _fingerprint(name: str) -> str:
    data = (STATIC / name).read_bytes()
    return hashlib.sha256(data).hexdigest()[:12]


def static_url(name: str) -> str:
    """``/static/NAME?v=<hash of its content>``: cached for a year by browsers,
    and a new version is a new URL."""
    return f"/static/{name}?v={_fingerprint(name)}"


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


def _date(moment: datetime | None) -> str:
    return moment.strftime("%-d %b %Y, %H:%M UTC") if moment is not None else ""


_env.globals["static"] = static_url
_env.filters["iso"] = _iso
_env.filters["date"] = _date


def render_text(template: str, **context: Any) -> str:
    return _env.get_template(template).render(**context)


def page(
    template: str,
    status: int = 200,
    *,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page outside the web layer's handlers (the OAuth pages): rendered
    with the security headers, never cached."""
    context.setdefault("viewer", None)
    context.setdefault("csrf_token", "")
    context.setdefault("site_title", context.get("instance", "Roost"))
    context.setdefault("meta", {"robots": "noindex"})
    context.setdefault("title", "")
    context.setdefault("site_description", "")
    context.setdefault("registrations", "closed")
    html = render_text(template, **context)
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


class LazyCsrfToken:
    """The page's CSRF token, made (and its cookie set) only if the page shows
    a form: a page without one can be cached for everyone."""

    def __init__(self, request: Request, viewer: WebViewer | None) -> None:
        self._request = request
        self._viewer = viewer
        self.value: str | None = None

    def __str__(self) -> str:
        if self.value is None:
            from roost.web.csrf import token_for_request

            self.value = token_for_request(self._request, self._viewer)
        return self.value

    def __html__(self) -> str:
        return str(self)


def render(
    request: Request,
    template: str,
    *,
    viewer: WebViewer | None,
    status: int = 200,
    title: str = "",
    meta: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A web page: the layout's context (site, viewer, CSRF token) plus
    ``context``. ``meta`` fills the head (description, robots, OpenGraph,
    alternate links). Not cacheable; roost/web/cache.py decides otherwise."""
    from roost.web.csrf import set_nonce_cookie

    svc = request.app.state.services
    settings = svc.settings
    token = LazyCsrfToken(request, viewer)
    html = render_text(
        template,
        request=request,
        viewer=viewer,
        csrf_token=token,
        site_title=settings.instance_title,
        site_description=settings.instance_description,
        base_url=settings.base_url,
        registrations=str(settings.registrations),
        title=title,
        meta=dict(meta or {}),
        **context,
    )
    private = {"Cache-Control": "private, no-store", "Vary": "Cookie"}
    response = HTMLResponse(
        html,
        status_code=status,
        headers={
            **SECURITY_HEADERS,
            **(private if viewer is not None and viewer.signed_in else {}),
            **(headers or {}),
        },
    )
    if token.value is not None:
        set_nonce_cookie(request, response)
    return response


def markup(html: str) -> Markup:
    """HTML Roost itself made safe (sanitised post content, profile notes)."""
    return Markup(html)
