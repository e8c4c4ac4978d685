"""The shapes of Mastodon's JSON answers, for the OpenAPI document only.

serializers.py and entities.py build the answers as plain dicts (fast, and
cached on the hot paths); these models describe what they build so that
``/openapi.json`` tells clients and the schemathesis test
(tests/api/test_schemathesis.py) what each route returns. They are never used
to validate or encode an answer at run time: routes name them in
``responses=`` (roost/api/openapi.py ``answers``), which documents without
validating. Every field is listed as the serializers always write it;
``| None`` marks the ones that can be null.

Above 500 lines: a catalogue of Mastodon's entities, one small model each,
read as one reference; splitting it would scatter the shapes that refer to
one another.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Entity(BaseModel):
    """Base of the documented shapes: more keys may appear than are listed."""

    model_config = ConfigDict(extra="allow")


IdText = str
Timestamp = str
"""An ISO 8601 time in UTC, to the millisecond (``2024-05-01T12:00:00.000Z``)."""


class Empty(Entity):
    """An empty object: the action was done."""


class ProfileField(Entity):
    name: str
    value: str
    verified_at: Timestamp | None


class Account(Entity):
    id: IdText
    username: str
    acct: str
    display_name: str
    locked: bool
    bot: bool
    discoverable: bool | None
    indexable: bool
    group: bool
    created_at: Timestamp
    note: str
    url: str
    uri: str
    avatar: str
    avatar_static: str
    header: str
    header_static: str
    followers_count: int
    following_count: int
    statuses_count: int
    last_status_at: str | None
    hide_collections: bool | None
    noindex: bool
    emojis: list[dict[str, Any]]
    roles: list[dict[str, Any]]
    fields: list[ProfileField]
    moved: dict[str, Any] | None = Field(
        default=None,
        description="The account it moved to (an Account), shown once it moved",
    )


class MutedAccount(Account):
    mute_expires_at: Timestamp | None


class Source(Entity):
    privacy: str
    sensitive: bool
    language: str | None
    quote_policy: str
    note: str
    fields: list[ProfileField]
    follow_requests_count: int
    hide_collections: bool | None
    discoverable: bool | None
    indexable: bool


class Role(Entity):
    id: str
    name: str
    permissions: str
    color: str
    highlighted: bool


class CredentialAccount(Account):
    source: Source
    role: Role


class MediaAttachment(Entity):
    id: IdText
    type: str = Field(description="image, gifv, video, audio or unknown")
    url: str | None = Field(description="Null while the file is being processed")
    preview_url: str | None
    remote_url: str | None
    preview_remote_url: str | None
    text_url: str | None
    meta: dict[str, Any]
    description: str | None
    blurhash: str | None


class Mention(Entity):
    id: IdText
    username: str
    acct: str
    url: str


class StatusTag(Entity):
    name: str
    url: str


class Application(Entity):
    name: str
    website: str | None


class FilterSummary(Entity):
    id: IdText
    title: str
    context: list[str]
    expires_at: Timestamp | None
    filter_action: str


class FilterResult(Entity):
    filter: FilterSummary
    keyword_matches: list[str] | None
    status_matches: list[IdText] | None


class CardAuthor(Entity):
    name: str
    url: str | None
    account: None


class PreviewCard(Entity):
    url: str
    title: str
    description: str
    language: str | None
    type: str = Field(description="link, photo, video or rich")
    author_name: str
    author_url: str
    provider_name: str
    provider_url: str
    html: str
    width: int
    height: int
    image: str | None = Field(description="Roost's copy of the linked page's image")
    image_description: str
    embed_url: str
    blurhash: str | None
    published_at: Timestamp | None
    authors: list[CardAuthor]


class PollOption(Entity):
    title: str
    votes_count: int | None


class Poll(Entity):
    id: IdText
    expires_at: Timestamp | None
    expired: bool
    multiple: bool
    votes_count: int
    voters_count: int | None
    options: list[PollOption]
    emojis: list[dict[str, Any]]
    voted: bool | None = Field(default=None, description="Only with a user's token")
    own_votes: list[int] | None = Field(default=None, description="Only with a user's token")


class ScheduledStatus(Entity):
    id: IdText
    scheduled_at: Timestamp
    params: dict[str, Any]
    media_attachments: list[MediaAttachment]


class Status(Entity):
    id: IdText
    uri: str
    url: str | None
    created_at: Timestamp
    edited_at: Timestamp | None
    content: str
    sensitive: bool
    spoiler_text: str
    media_attachments: list[MediaAttachment]
    tags: list[StatusTag]
    emojis: list[dict[str, Any]]
    poll: Poll | None
    quote: dict[str, Any] | None
    quotes_count: int | None = None
    quote_approval: dict[str, Any] | None = None
    card: PreviewCard | None
    language: str | None
    text: str | None = Field(description="The source text: only when a post is deleted")
    account: Account
    visibility: str
    application: Application | None
    mentions: list[Mention]
    reblogs_count: int
    favourites_count: int
    replies_count: int
    in_reply_to_id: IdText | None
    in_reply_to_account_id: IdText | None
    reblog: Status | None
    favourited: bool
    reblogged: bool
    muted: bool
    bookmarked: bool
    pinned: bool
    filtered: list[FilterResult]


class StatusEditPollOption(Entity):
    title: str


class StatusEditPoll(Entity):
    options: list[StatusEditPollOption]


class StatusEdit(Entity):
    content: str
    spoiler_text: str
    sensitive: bool
    created_at: Timestamp
    account: Account
    poll: StatusEditPoll | None
    media_attachments: list[MediaAttachment]
    emojis: list[dict[str, Any]]


class StatusSource(Entity):
    id: IdText
    text: str
    spoiler_text: str


class Context(Entity):
    ancestors: list[Status]
    descendants: list[Status]


class Relationship(Entity):
    id: IdText
    following: bool
    showing_reblogs: bool
    notifying: bool
    languages: list[str] | None
    followed_by: bool
    blocking: bool
    blocked_by: bool
    muting: bool
    muting_notifications: bool
    requested: bool
    requested_by: bool
    domain_blocking: bool
    endorsed: bool
    note: str


class Notification(Entity):
    id: IdText
    type: str
    created_at: Timestamp
    group_key: str
    account: Account
    status: Status | None


class UnreadCount(Entity):
    count: int


class Conversation(Entity):
    id: IdText
    unread: bool
    accounts: list[Account]
    last_status: Status


class TagHistory(Entity):
    day: str
    uses: str
    accounts: str


class TrendsLink(PreviewCard):
    history: list[TagHistory]


class Tag(Entity):
    id: str
    name: str
    url: str
    history: list[TagHistory]
    following: bool | None = Field(default=None, description="Only to a signed-in viewer")


class Search(Entity):
    accounts: list[Account]
    statuses: list[Status]
    hashtags: list[Tag]


class List(Entity):
    id: IdText
    title: str
    replies_policy: str
    exclusive: bool


class CollectionTag(Entity):
    name: str
    url: str


class CollectionItem(Entity):
    id: IdText
    account_id: IdText | None
    state: str = Field(description="pending, accepted, rejected or revoked")
    created_at: Timestamp


class Collection(Entity):
    id: IdText
    account_id: IdText
    uri: str
    url: str | None
    name: str
    description: str
    language: str | None
    local: bool
    sensitive: bool
    discoverable: bool
    tag: CollectionTag | None
    item_count: int
    items: list[CollectionItem]
    created_at: Timestamp
    updated_at: Timestamp


class WrappedCollection(Entity):
    collection: Collection


class CollectionWithAccounts(Entity):
    accounts: list[Account] = Field(description="The owner, then each featured account shown")
    collection: Collection


class Collections(Entity):
    collections: list[Collection]


class WrappedCollectionItem(Entity):
    collection_item: CollectionItem


class FilterKeyword(Entity):
    id: IdText
    keyword: str
    whole_word: bool


class FilterStatus(Entity):
    id: IdText
    status_id: IdText


class Filter(FilterSummary):
    keywords: list[FilterKeyword]
    statuses: list[FilterStatus]


class FilterV1(Entity):
    id: IdText
    phrase: str
    context: list[str]
    whole_word: bool
    expires_at: Timestamp | None
    irreversible: bool


class Marker(Entity):
    last_read_id: IdText
    version: int
    updated_at: Timestamp


class Markers(Entity):
    home: Marker | None = None
    notifications: Marker | None = None


class CustomEmoji(Entity):
    shortcode: str
    url: str
    static_url: str
    visible_in_picker: bool
    category: str | None


class Reaction(Entity):
    name: str
    count: int
    me: bool
    url: str | None = None
    static_url: str | None = None


class Announcement(Entity):
    id: IdText
    content: str
    starts_at: Timestamp | None
    ends_at: Timestamp | None
    all_day: bool
    published_at: Timestamp
    updated_at: Timestamp
    read: bool
    mentions: list[dict[str, Any]]
    statuses: list[dict[str, Any]]
    tags: list[dict[str, Any]]
    emojis: list[dict[str, Any]]
    reactions: list[Reaction]


class AdminAccount(Entity):
    id: IdText
    username: str
    domain: str | None
    created_at: Timestamp
    email: str
    ip: str | None
    ips: list[dict[str, Any]]
    role: Role
    confirmed: bool
    suspended: bool
    silenced: bool
    sensitized: bool
    disabled: bool
    approved: bool
    locale: str | None
    invite_request: str | None
    account: Account
    invited_by_account_id: IdText | None = None


class App(Entity):
    id: IdText
    name: str
    website: str | None
    scopes: list[str]
    redirect_uri: str
    redirect_uris: list[str]
    vapid_key: str


class RegisteredApp(App):
    client_id: str
    client_secret: str
    client_secret_expires_at: int


class Token(Entity):
    access_token: str
    token_type: str
    scope: str
    created_at: int


class Preferences(Entity):
    posting_default_visibility: str = Field(alias="posting:default:visibility")
    posting_default_sensitive: bool = Field(alias="posting:default:sensitive")
    posting_default_language: str | None = Field(alias="posting:default:language")
    posting_default_quote_policy: str = Field(alias="posting:default:quote_policy")
    reading_expand_media: str = Field(alias="reading:expand:media")
    reading_expand_spoilers: bool = Field(alias="reading:expand:spoilers")


class InstanceV1(Entity):
    uri: str
    title: str
    short_description: str
    description: str
    email: str
    version: str
    urls: dict[str, Any]
    stats: dict[str, int]
    thumbnail: str
    languages: list[str]
    registrations: bool
    approval_required: bool
    invites_enabled: bool
    configuration: dict[str, Any]
    contact_account: Account | None
    rules: list[dict[str, Any]]


class InstanceContact(Entity):
    email: str
    account: Account | None


class InstanceV2(Entity):
    domain: str
    title: str
    version: str
    source_url: str
    description: str
    usage: dict[str, Any]
    thumbnail: dict[str, Any]
    icon: list[dict[str, Any]]
    languages: list[str]
    configuration: dict[str, Any]
    registrations: dict[str, Any]
    api_versions: dict[str, int]
    contact: InstanceContact
    rules: list[dict[str, Any]]


class AuthorizationServer(Entity):
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str
    app_registration_endpoint: str
    scopes_supported: list[str]
    response_types_supported: list[str]
    grant_types_supported: list[str]
    code_challenge_methods_supported: list[str]


Status.model_rebuild()


class OEmbed(Entity):
    """oEmbed 1.0, type rich: an iframe of the post's embed page."""

    type: str
    version: str
    title: str
    author_name: str
    author_url: str
    provider_name: str
    provider_url: str
    cache_age: int
    html: str
    width: int | None
    height: int | None


class Rule(Entity):
    """One of the instance's rules (``GET /api/v1/instance/rules``)."""

    id: IdText
    text: str
    hint: str
