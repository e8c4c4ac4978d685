"""The instance's longer texts, written by the operator as files in the data
directory (``$ROOST_DATA_DIR/instance/``):

    about.html     the extended description on /about
    terms.html     the terms of service on /terms
    privacy.html   the privacy policy on /privacy-policy (a default that says
                   what Roost itself keeps is shown while there is none)

Each is an HTML fragment, sanitised like posts (no script, no style, no
attributes beyond links'); a ``.txt`` file of the same name is taken as plain
text instead, its blank lines making paragraphs. A file is read again when it
changes (its modification time), so editing it needs no restart.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nh3

NAMES = ("about", "terms", "privacy")
_TAGS = {
    "p", "br", "a", "strong", "em", "b", "i", "u", "ul", "ol", "li", "h2", "h3", "h4",
    "blockquote", "code", "pre", "hr", "dl", "dt", "dd",
}  # fmt: skip
_cache: dict[Path, tuple[float, str]] = {}


@dataclass(frozen=True)
class InstanceText:
    html: str  # sanitised
    from_operator: bool
    updated_at: datetime | None = None  # the file's modification time


def _from_file(path: Path) -> tuple[str, float] | None:
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    cached = _cache.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1], mtime
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".txt":
        paragraphs = [p.strip() for p in raw.split("\n\n") if p.strip()]
        text = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    else:
        text = nh3.clean(
            raw, tags=_TAGS, attributes={"a": {"href", "title"}}, link_rel="nofollow noopener"
        )
    _cache[path] = (mtime, text)
    return text, mtime


def instance_text(data_dir: Path, name: str) -> InstanceText | None:
    if name not in NAMES:
        raise ValueError(name)
    for suffix in (".html", ".txt"):
        found = _from_file(data_dir / "instance" / f"{name}{suffix}")
        if found is not None:
            return InstanceText(found[0], True, datetime.fromtimestamp(found[1], UTC))
    return None


def default_privacy_html(site_title: str, contact_email: str) -> str:
    """The privacy policy shown while the operator has written none: what the
    Roost software itself keeps (on /privacy-policy and to apps)."""
    title = html.escape(site_title)
    parts = [
        f"<p>This is the privacy policy {title} runs with until its operator writes their"
        " own. It says what the Roost software keeps.</p>",
        "<h2>What is kept</h2><ul>",
        "<li>Your account: user name, display name, profile text and pictures, and your"
        " settings.</li>",
        "<li>Your e-mail address and a hash of your password, used to sign you in and to send"
        " you links you ask for. The address and everything you write are stored encrypted"
        " under a key of your account.</li>",
        "<li>What you post, and who you follow, block and mute. Followers-only and direct"
        " posts are shown only to the people they are meant for.</li>",
        "<li>For each signed-in browser: when it was last used, its address and browser name,"
        " so you can see and end your sessions.</li>",
        "</ul><h2>What is not done</h2><ul>",
        "<li>No advertising, no tracking, nothing loaded from other sites when you read a"
        " page.</li>",
        "<li>Your data is not sold or shared, except the public posts and profile you"
        " publish.</li>",
        "</ul><h2>Leaving</h2>",
        "<p>Deleting your account erases it: your posts, media and the key that encrypted them"
        " are destroyed, and a receipt lists what was removed.</p>",
    ]
    if contact_email:
        address = html.escape(contact_email)
        parts.append(f'<p>Questions: <a href="mailto:{address}">{address}</a>.</p>')
    return "".join(parts)
