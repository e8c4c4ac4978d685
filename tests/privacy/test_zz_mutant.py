from roost.domain import privacy
from tests.privacy.test_route_crawler import test_given_canaries_of_every_hidden_kind_then_no_route_shows_them_to_outsiders as crawl

async def everything(conn, viewer, ids):
    return set(ids)

def test_mutant(roost, monkeypatch):
    monkeypatch.setattr(privacy, "visible_status_ids", everything)
    crawl(roost)
