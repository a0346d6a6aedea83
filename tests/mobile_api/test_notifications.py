"""The inbox: everything pushed is here too; marking read."""

from backend.notifications.models import Notification
from backend.notifications.services import notify


def _notices(people):
    return [notify(recipient=people["zhang"], kind="alert", text=f"Alert {n}", sms=False) for n in range(3)]


def test_inbox_newest_first_unread_filter_and_mark_read(people, api_as):
    notices = _notices(people)
    zhang = api_as(people["zhang"])
    items = zhang.get("/notifications").json()["items"]
    assert [n["text"] for n in items] == ["Alert 2", "Alert 1", "Alert 0"]
    one = zhang.post(f"/notifications/{notices[0].pk}/read")
    assert one.status_code == 200 and one.json()["read_at"] is not None
    assert len(zhang.get("/notifications", {"unread": True}).json()["items"]) == 2
    assert zhang.post("/notifications/read", {}).json() == {"marked": 2}
    assert zhang.get("/notifications", {"unread": True}).json()["items"] == []


def test_scope_other_rep_404_manager_reads_the_teams_inbox(people, api_as):
    notices = _notices(people)
    li = api_as(people["li"])
    assert li.get(f"/notifications/{notices[0].pk}").status_code == 404
    assert li.post(f"/notifications/{notices[0].pk}/read").status_code == 404
    assert li.post("/notifications/read", {"ids": [str(notices[0].pk)]}).json() == {"marked": 0}
    assert li.get("/notifications", {"user_id": people["zhang"].pk}).status_code == 404
    wang = api_as(people["wang"])
    assert wang.get(f"/notifications/{notices[0].pk}").status_code == 200
    assert len(wang.get("/notifications", {"user_id": people["zhang"].pk}).json()["items"]) == 3
    # A manager reads a notice but does not mark someone else's as read.
    assert wang.post(f"/notifications/{notices[0].pk}/read").status_code == 403
    assert Notification.objects.filter(read_at__isnull=False).count() == 0
