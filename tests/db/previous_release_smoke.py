"""Run by tests/db/test_previous_release.py in a subprocess whose PYTHONPATH is
the previous release's tree: that release's own code, against a database this
release migrated. Prints one JSON line of what it saw.

Its servers were started before the upgrade (that is how a rolling upgrade
runs old code on the new schema), so its start-up migration check is passed
over: it would rightly refuse a schema it does not know.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def main(tree: str) -> None:
    import roost
    import roost.app

    assert roost.__file__ is not None and roost.__file__.startswith(tree), roost.__file__

    async def already_running(db: Any) -> None:
        return None

    roost.app.upgrade = already_running  # type: ignore[assignment]

    from fastapi.testclient import TestClient

    from roost.config import load_settings
    from roost.domain.accounts.actions import NewAccount, do_create_account
    from roost.domain.oauth.actions import do_issue_token
    from roost.domain.oauth.scopes import parse

    settings = load_settings().model_copy(update={"run_jobs_in_process": False})
    app = roost.app.create_app(settings)
    seen: dict[str, Any] = {}
    with TestClient(app) as client:
        services = app.state.services
        portal = client.portal
        assert portal is not None

        def signup(name: str) -> tuple[str, dict[str, str]]:
            async def make() -> tuple[int, str]:
                async with services.db.write() as tx:
                    account_id = await do_create_account(
                        tx,
                        NewAccount(
                            username=name,
                            email=f"{name}@example.org",
                            password="correct horse battery",
                        ),
                    )
                    issued = await do_issue_token(tx, account_id, None, parse("read write follow"))
                return account_id, issued.token

            account_id, token = portal.call(make)
            return str(account_id), {"Authorization": f"Bearer {token}"}

        def ok(response: Any) -> Any:
            assert response.status_code == 200, (response.request.url, response.text)
            return response.json()

        old_id, old = signup("olda")
        reader_id, reader = signup("oldb")
        ok(client.post(f"/api/v1/accounts/{old_id}/follow", headers=reader))
        public = ok(client.post("/api/v1/statuses", headers=old, json={"status": "Old code"}))
        private = ok(
            client.post(
                "/api/v1/statuses",
                headers=old,
                json={"status": "Followers of old code", "visibility": "private"},
            )
        )
        portal.call(app.state.job_runner.drain)
        home = ok(client.get("/api/v1/timelines/home", headers=reader))
        local = ok(client.get("/api/v1/timelines/public", params={"local": "true"}))
        seen["home"] = [s["content"] for s in home]
        seen["public"] = [s["content"] for s in local]
        seen["account"] = [
            s["content"]
            for s in ok(client.get(f"/api/v1/accounts/{old_id}/statuses", headers=reader))
        ]
        seen["status"] = ok(client.get(f"/api/v1/statuses/{public['id']}"))["content"]
        seen["private_hidden"] = client.get(f"/api/v1/statuses/{private['id']}").status_code
        seen["reader"] = ok(client.get("/api/v1/accounts/verify_credentials", headers=reader))[
            "following_count"
        ]
        seen["public_id"] = public["id"]
        seen["reader_id"] = reader_id
    print(json.dumps(seen))


if __name__ == "__main__":
    main(sys.argv[1])
