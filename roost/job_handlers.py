"""Every job kind's handler, registered by importing the modules that define them.

Job kinds and their handlers belong to the areas that own them (the domain's
``<area>/jobs.py`` and ``<area>/handlers.py``, the importers'); the job
mechanism in roost/jobs/ knows none of them. Whatever runs jobs (the server,
``roost worker``) builds its ``Services`` (roost/services.py), which imports
this module: so every handler is registered before a job is claimed.
tests/jobs/test_registry.py checks that each job class has exactly one handler.
"""

from __future__ import annotations

from roost.domain.accounts import link_mail as _mail
from roost.domain.accounts import verification as _profile_links
from roost.domain.annual_reports import handlers as _annual_reports
from roost.domain.cards import handlers as _cards
from roost.domain.federation import attached as _federation_attached
from roost.domain.federation import blocks as _federation_blocks
from roost.domain.federation import delivery as _federation_delivery
from roost.domain.federation import departed as _federation_departed
from roost.domain.federation import farewell as _federation_farewell
from roost.domain.federation import flags as _federation_flags
from roost.domain.federation import follows as _federation_follows
from roost.domain.federation import inbox as _federation_inbox
from roost.domain.federation import interactions as _federation_interactions
from roost.domain.federation import mention_lookup as _federation_mention_lookup
from roost.domain.federation import quote_requests as _federation_quote_requests
from roost.domain.federation import replies as _federation_replies
from roost.domain.federation import threads as _federation_threads
from roost.domain.federation import upkeep as _federation_upkeep
from roost.domain.lists import handlers as _lists
from roost.domain.media import handlers as _media
from roost.domain.notifications import handlers as _notifications
from roost.domain.polls import handlers as _polls
from roost.domain.push import handlers as _push
from roost.domain.quotes import handlers as _quotes
from roost.domain.reports import handlers as _reports
from roost.domain.scheduled import handlers as _scheduled
from roost.domain.search import handlers as _search
from roost.domain.spam import handlers as _spam
from roost.domain.statuses import handlers as _statuses
from roost.domain.strikes import handlers as _strikes
from roost.importers.twitter import job as _imports

REGISTERED = (
    _profile_links,
    _annual_reports,
    _cards,
    _federation_blocks,
    _federation_attached,
    _federation_delivery,
    _federation_departed,
    _federation_farewell,
    _federation_flags,
    _federation_follows,
    _federation_inbox,
    _federation_interactions,
    _federation_mention_lookup,
    _federation_quote_requests,
    _federation_upkeep,
    _federation_threads,
    _federation_replies,
    _lists,
    _media,
    _notifications,
    _push,
    _polls,
    _quotes,
    _scheduled,
    _reports,
    _search,
    _spam,
    _statuses,
    _strikes,
    _imports,
    _mail,
)
