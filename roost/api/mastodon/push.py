"""/api/v1/push/subscription: the Web Push subscription of the access token,
and Mastodon's WebPushSubscription entity."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import bearer_token, services, user
from roost.api.mastodon import schema
from roost.api.openapi import answers
from roost.api.params import Params, Text, body
from roost.api.responses import JSON
from roost.domain.push import subscriptions
from roost.domain.push.subscriptions import ALERT_TYPES, PushSubscription
from roost.domain.types import Viewer
from roost.errors import Invalid
from roost.keys import vapid

router = APIRouter()


class Alerts(schema.Entity):
    mention: bool
    quote: bool
    status: bool
    reblog: bool
    follow: bool
    follow_request: bool
    favourite: bool
    poll: bool
    update: bool
    quoted_update: bool


class WebPushSubscription(schema.Entity):
    id: schema.IdText
    endpoint: str
    standard: bool
    alerts: Alerts
    policy: str
    server_key: str


class Keys(Params):
    p256dh: Text = Field(description="The client's P-256 public key (base64)")
    auth: Text = Field(description="The client's 16-byte authentication secret (base64)")


class SubscriptionIn(Params):
    endpoint: Text = Field(description="Where the push service takes messages")
    keys: Keys
    standard: bool | None = Field(
        default=None, description="RFC 8291/8292 (aes128gcm, vapid) instead of the older draft"
    )


class Data(Params):
    alerts: dict[str, bool] = Field(default={}, description="Which types to push")
    policy: str | None = Field(default=None, description="all, followed, follower or none")


class SubscribeParams(Params):
    subscription: SubscriptionIn
    data: Data = Field(default_factory=Data)
    policy: str | None = Field(default=None, description="Also accepted outside data")
    standard: bool | None = Field(default=None, description="Also accepted outside subscription")


class ChangeParams(Params):
    data: Data = Field(default_factory=Data)
    policy: str | None = Field(default=None, description="Also accepted outside data")


def subscription_json(found: PushSubscription) -> dict[str, Any]:
    return {
        "id": str(found.id),
        "endpoint": found.endpoint,
        "standard": found.standard,
        "alerts": {name: name in found.alerts for name in ALERT_TYPES},
        "policy": found.policy,
        "server_key": vapid.public_key(),
    }


@router.post("/api/v1/push/subscription", responses=answers(WebPushSubscription))
async def subscribe(
    request: Request,
    viewer: Viewer = Depends(user("push")),
    params: SubscribeParams = Depends(body(SubscribeParams)),
) -> JSON:
    token = bearer_token(request)
    if token is None:  # a signed-in viewer came with one
        raise Invalid("This method requires an access token")
    standard = params.subscription.standard
    if standard is None:
        standard = params.standard
    async with services(request).db.write() as tx:
        found = await subscriptions.do_subscribe(
            tx,
            viewer,
            token=token,
            endpoint=params.subscription.endpoint,
            p256dh=params.subscription.keys.p256dh,
            auth=params.subscription.keys.auth,
            alerts=params.data.alerts,
            policy=params.data.policy or params.policy or "all",
            standard=bool(standard),
        )
    return JSON(subscription_json(found))


@router.get("/api/v1/push/subscription", responses=answers(WebPushSubscription, errors=(404,)))
async def get_subscription(request: Request, viewer: Viewer = Depends(user("push"))) -> JSON:
    async with services(request).db.read() as conn:
        found = await subscriptions.subscription_of(conn, viewer)
    return JSON(subscription_json(found))


@router.put("/api/v1/push/subscription", responses=answers(WebPushSubscription, errors=(404,)))
async def change(
    request: Request,
    viewer: Viewer = Depends(user("push")),
    params: ChangeParams = Depends(body(ChangeParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        found = await subscriptions.do_change(
            tx,
            viewer,
            alerts=params.data.alerts or None,
            policy=params.data.policy or params.policy,
        )
    return JSON(subscription_json(found))


@router.delete("/api/v1/push/subscription", responses=answers(schema.Empty))
async def unsubscribe(request: Request, viewer: Viewer = Depends(user("push"))) -> JSON:
    async with services(request).db.write() as tx:
        await subscriptions.do_unsubscribe(tx, viewer)
    return JSON({})
