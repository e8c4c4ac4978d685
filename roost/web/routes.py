"""The web pages' routes, in the order they are matched.

    /static/NAME                         static_files.py
    /oauth/authorize (sign-in and consent)           pages/authorize.py
    /@name.rss  /tags/name.rss                       pages/feeds.py
    /  /about  /privacy-policy  /terms               pages/public.py
    /@name  /@name/with_replies  /@name/media
    /@name/ID  /@name/ID/embed  /tags/name
    /auth/sign_up  /invite/CODE  /auth/confirmation   pages/sign_up.py
    /auth/sign_in  /auth/sign_in/code  /auth/sign_out pages/sign_in.py
    /auth/password  /auth/password/edit              pages/password.py
    /settings/security (two-factor, sessions, apps)  pages/security.py
    /home  /web/timelines/local  /web/statuses...
    /web/accounts/ID/...                             pages/app.py
    /web/stream/NAME                                 pages/live.py
    /web/polls/ID/votes                              pages/polls.py
    /settings/data  /settings/import[/ID[/progress]]
    /settings/export[/ID[/FILE]]  /settings/delete   pages/your_data.py
    /web/notifications  /web/search  /web/lists[/ID...]
    /web/follow_requests  /web/blocks  /web/mutes        pages/people.py
    /settings/profile  /settings/preferences         pages/profile_settings.py
    /settings/strikes[/ID[/appeal]]                  pages/strikes.py
    /admin  /admin/settings  /admin/rules[/ID...]
    /admin/announcements[/ID...]                    pages/staff.py
    /admin/emoji[/NAME]                              pages/staff_emoji.py
    /admin/warning-presets[/ID/delete]               pages/staff_presets.py
    /admin/jobs[/queue|/ID...]  /admin/doctor          pages/staff_ops.py
    /admin/lawful[/ID[/approve|/refuse|/package]]     pages/staff_lawful.py
    /admin/appeals[/ID/accept|/ID/reject]            pages/staff_appeals.py
    /admin/queue[/exposure|/next|/ID[/...]]           pages/staff_queue.py
    /admin/spam[/ID]                                  pages/staff_spam.py

Feeds come before the pages, so ``/@name.rss`` is a feed and not the profile
of someone called "name.rss". docs/web.md says how to add a page.
"""

from __future__ import annotations

from fastapi import APIRouter

from roost.web import static_files
from roost.web.pages import (
    app,
    authorize,
    feeds,
    live,
    password,
    people,
    polls,
    profile_settings,
    public,
    security,
    sign_in,
    sign_up,
    staff,
    staff_appeals,
    staff_emoji,
    staff_lawful,
    staff_ops,
    staff_presets,
    staff_queue,
    staff_spam,
    strikes,
    your_data,
)

ROUTERS: tuple[APIRouter, ...] = (
    static_files.router,
    authorize.router,
    feeds.router,
    public.router,
    sign_up.router,
    sign_in.router,
    password.router,
    security.router,
    app.router,
    live.router,
    polls.router,
    your_data.router,
    people.router,
    profile_settings.router,
    strikes.router,
    staff.router,
    staff_emoji.router,
    staff_ops.router,
    staff_presets.router,
    staff_lawful.router,
    staff_appeals.router,
    staff_queue.router,
    staff_spam.router,
)
