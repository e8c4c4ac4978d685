"""Every router the server answers with, in the order requests are matched.

    /livez  /readyz  /metrics                             api/health.py
    /avatars/...  /headers/...  /instance/icons/...       api/images.py
    /oauth/token, revoke; /.well-known/oauth-authorization-server
                                                          api/mastodon/oauth.py
    /api/v1/apps...                                       api/mastodon/apps.py
    /api/v1/directory  /api/v1/suggestions  /api/v1/featured_tags  /api/v1/domain_blocks
    /api/v1/accounts/familiar_followers ...              api/mastodon/discovery.py
    /api/v1/accounts...  (profile, lookup, search, credentials)
                                                          api/mastodon/accounts.py
    /api/v1/statuses...  /api/v1/favourites  /api/v1/bookmarks
                                                          api/mastodon/statuses.py
    /api/v1/statuses/ID/translate                         api/mastodon/translations.py
    /api/v1/timelines/home, public, tag                   api/mastodon/timelines.py
    /api/v2/notifications...  /api/v1/notifications/requests...
                                                          api/mastodon/notifications_v2.py
    /api/v1/notifications...  /api/v1/follow_requests...  api/mastodon/notifications.py
    /api/v1/accounts/ID/(un)follow, block, mute, pin...; /api/v1/blocks,
    /api/v1/mutes, /api/v1/endorsements                   api/mastodon/graph.py
    /api/v1/conversations...  /api/v1/timelines/direct    api/mastodon/conversations.py
    /api/v2/search                                        api/mastodon/search.py
    /api/v1/tags/NAME...  /api/v1/followed_tags           api/mastodon/tags.py
    /api/v1/lists...  /api/v1/timelines/list/ID  /api/v1/accounts/ID/lists
                                                          api/mastodon/lists.py
    /api/v1/filters...  /api/v2/filters...                api/mastodon/filters.py
    /api/v1/markers                                       api/mastodon/markers.py
    /api/v1/announcements...  /api/v1/custom_emojis  /emoji/FILE
                                                          api/mastodon/announcements.py
    /api/v1/instance...  /api/v2/instance  /api/v1/preferences
                                                          api/mastodon/instance.py
    /api/v1/instance/rules, activity, peers, texts ...    api/mastodon/instance_more.py
    /api/v1/streaming...                                  api/mastodon/streaming.py
    /api/v1/media...  /api/v2/media  /api/v1/profile/avatar, header
                                                          api/mastodon/media.py
    /api/v1/profile                                       api/mastodon/profile.py
    /api/v1/collections...  /api/v1/accounts/ID/collections, in_collections
                                                          api/mastodon/collections.py
    /media/ID/VARIANT  /media/profile/ID  /media/cards/ID  api/media_files.py
    /api/v1/roost/export...                               api/exports.py
    /api/v1/roost/account (erasure)                       api/erasure.py
    /api/v1/admin/accounts...                             api/mastodon/admin.py
    /api/v1/admin/domain_blocks, domain_allows            api/mastodon/admin_federation.py
    /api/v1/admin/email_domain_blocks, ip_blocks, canonical_email_blocks
                                                          api/mastodon/admin_blocks.py
    /api/v1/admin/measures, dimensions, retention         api/mastodon/admin_dashboard.py
    /api/v1/reports  /api/v1/admin/reports...             api/mastodon/reports.py
    /api/v1/emails/confirmations                          api/mastodon/emails.py
    /api/oembed                                           api/mastodon/oembed.py
    /api/v1/push/subscription                             api/mastodon/push.py
    /api/v1/statuses/ID/card                              api/mastodon/cards.py
    /api/v1/trends...  /api/v1/admin/trends...            api/mastodon/trends.py
    /oauth/userinfo                                       api/mastodon/userinfo.py
    /.well-known/nodeinfo  /nodeinfo/2.0, 2.1             api/mastodon/nodeinfo.py
    /api/v1/polls...                                      api/mastodon/polls.py
    /api/v1/statuses/ID/quotes...  interaction_policy     api/mastodon/quotes.py
    /api/v1/scheduled_statuses...                         api/mastodon/scheduled.py
    /api/v1/annual_reports...                             api/mastodon/annual_reports.py
    /api/v1_alpha/async_refreshes/ID                      api/mastodon/async_refreshes.py
    /api/v1/roost/imports...                              api/roost/imports.py
    /api/v1/roost/aliases...  /api/v1/roost/account/move  api/roost/moves.py
    /api/v1/admin/roost/quarantine...                     api/roost/quarantine.py
    /.well-known/webfinger, host-meta, /actor, /users/NAME..., /inbox
    (ActivityPub; the /users/ addresses redirect browsers to the pages)
                                                          federation/*.py

The web pages come after the API (which they never shadow), the feeds before
the pages, so ``/@name.rss`` is a feed and not the profile of someone called
"name.rss" (docs/web.md says how to add a page):

    /static/NAME                                          web/static_files.py
    /oauth/authorize (sign-in and consent)                web/pages/authorize.py
    /@name.rss  /tags/name.rss                            web/pages/feeds.py
    /  /about  /privacy-policy  /terms                    web/pages/public.py
    /@name  /@name/with_replies  /@name/media
    /@name/ID  /@name/ID/embed  /tags/name
    /auth/sign_up  /invite/CODE  /auth/confirmation       web/pages/sign_up.py
    /auth/sign_in  /auth/sign_in/code  /auth/sign_out     web/pages/sign_in.py
    /auth/password  /auth/password/edit                   web/pages/password.py
    /settings/security (two-factor, sessions, apps)       web/pages/security.py
    /home  /web/timelines/local  /web/statuses...
    /web/accounts/ID/...                                  web/pages/app.py
    /web/stream/NAME                                      web/pages/live.py
    /web/polls/ID/votes                                   web/pages/polls.py
    /settings/data  /settings/import[/ID[/progress]]
    /settings/export[/ID[/FILE]]  /settings/delete        web/pages/your_data.py
    /web/notifications  /web/search  /web/lists[/ID...]
    /web/follow_requests  /web/blocks  /web/mutes         web/pages/people.py
    /settings/profile  /settings/preferences              web/pages/profile_settings.py
    /settings/strikes[/ID[/appeal]]                       web/pages/strikes.py
    /admin  /admin/settings  /admin/rules[/ID...]
    /admin/announcements[/ID...]                          web/pages/staff.py
    /admin/emoji[/NAME]                                   web/pages/staff_emoji.py
    /admin/warning-presets[/ID/delete]                    web/pages/staff_presets.py
    /admin/jobs[/queue|/ID...]  /admin/doctor             web/pages/staff_ops.py
    /admin/lawful[/ID[/approve|/refuse|/package]]         web/pages/staff_lawful.py
    /admin/appeals[/ID/accept|/ID/reject]                 web/pages/staff_appeals.py
    /admin/queue[/exposure|/next|/ID[/...]]               web/pages/staff_queue.py
    /admin/spam[/ID]                                      web/pages/staff_spam.py

Each module declares its routes with literal paths (``@router.get("/api/...")``,
or a helper called with the literal path), so searching for a path finds its
handler. A new router is added here, and nowhere else.
"""

from __future__ import annotations

from fastapi import APIRouter

from roost.api import erasure, exports, health, images, media_files
from roost.api.mastodon import (
    accounts,
    admin,
    admin_blocks,
    admin_dashboard,
    admin_federation,
    announcements,
    annual_reports,
    apps,
    async_refreshes,
    cards,
    collections,
    conversations,
    discovery,
    emails,
    filters,
    graph,
    instance,
    instance_more,
    lists,
    markers,
    media,
    nodeinfo,
    notifications,
    notifications_v2,
    oauth,
    oembed,
    polls,
    profile,
    push,
    quotes,
    reports,
    scheduled,
    search,
    statuses,
    streaming,
    tags,
    timelines,
    translations,
    trends,
    userinfo,
)
from roost.api.roost import imports as roost_imports
from roost.api.roost import moves as roost_moves
from roost.api.roost import quarantine as roost_quarantine
from roost.federation import actor_collections, inbox
from roost.federation import routes as federation
from roost.web import static_files
from roost.web.pages import (
    app,
    authorize,
    feeds,
    live,
    password,
    people,
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
from roost.web.pages import (
    polls as web_polls,
)

API_ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    images.router,
    oauth.router,
    apps.router,
    # Before accounts: /api/v1/accounts/familiar_followers is no account id.
    discovery.router,
    accounts.router,
    statuses.router,
    translations.router,
    timelines.router,
    # Before notifications: its /{id} would take /requests and /policy.
    notifications_v2.router,
    notifications.router,
    graph.router,
    conversations.router,
    search.router,
    tags.router,
    lists.router,
    filters.router,
    markers.router,
    announcements.router,
    instance.router,
    instance_more.router,
    streaming.router,
    media.router,
    profile.router,
    media_files.router,
    exports.router,
    erasure.router,
    admin.router,
    admin_federation.router,
    admin_blocks.router,
    admin_dashboard.router,
    reports.router,
    emails.router,
    oembed.router,
    push.router,
    cards.router,
    trends.router,
    userinfo.router,
    nodeinfo.router,
    polls.router,
    quotes.router,
    scheduled.router,
    annual_reports.router,
    async_refreshes.router,
    roost_imports.router,
    roost_moves.router,
    roost_quarantine.router,
    # Last: /api/v1/ID/collections, as documented, takes any first segment.
    collections.router,
)

# ActivityPub, before the web pages: /users/... is theirs for JSON-LD.
FEDERATION_ROUTERS: tuple[APIRouter, ...] = (
    federation.router,
    actor_collections.router,
    inbox.router,
)

# The web pages, after the API and ActivityPub.
WEB_ROUTERS: tuple[APIRouter, ...] = (
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
    web_polls.router,
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

ROUTERS: tuple[APIRouter, ...] = API_ROUTERS + FEDERATION_ROUTERS + WEB_ROUTERS
