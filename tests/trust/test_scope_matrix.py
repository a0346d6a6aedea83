"""Who sees what, exhaustively (issue 8.2): every operation of the API, tried by every kind of
caller on records owned by Zhang (a rep of Wang's team in Wuhan).

Expected answers: 404 outside the caller's scope (exactly like a missing record), 401 without a
valid credential (no token, a revoked one, or an API key where only the app is served), 403 for a
role that may not act. Besides the status, every answer to a caller outside the scope is searched
for the ids and names of records they may not see, and a refused write must change nothing.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pytest

from backend.core.models import FieldReport
from backend.crm.models import Activity, Contact, Customer, DuplicateConflict, Opportunity, Stage
from backend.crm.services import activity_check_in, conflict_open
from backend.notifications.models import Notification
from backend.notifications.services import notify
from backend.org.models import Role
from backend.org.scoping import scope
from backend.org.services import device_token_issue
from backend.sales.models import Order, Sale, Shipment
from backend.sales.services import sale_report
from mobile_api.api import api
from tests.factories import (
    BranchFactory,
    CustomerFactory,
    OpportunityFactory,
    OrderFactory,
    RepFactory,
    ShipmentFactory,
    TipFactory,
)
from tests.trust.conftest import PERSONAS, fingerprint, make_persona

pytestmark = pytest.mark.django_db

OUTSIDERS = ("peer", "stranger", "other_manager")
UNAUTHENTICATED = {"logistics": 401, "revoked": 401, "anonymous": 401}
# The kinds of record whose ids must never reach a caller who may not see them.
SCOPED_MODELS = (Customer, Contact, Opportunity, Activity, Order, Shipment, Sale, Notification, DuplicateConflict)


class World:
    """Zhang's records, made fresh for each case that changes them."""

    def __init__(self, people: dict) -> None:
        self.people = people
        self.zhang = people["zhang"]
        self.customer = Customer.objects.get(name="Wuhan Motors Ltd")
        self.contact = self.customer.contacts.first()
        self.stages = list(Stage.objects.filter(division__code="AUTO").order_by("order"))
        self.activity = activity_check_in(rep=self.zhang, customer=self.customer, channel="app", fix=None, note="x")
        self.order = Order.objects.get(number="PO-1001")
        self.tip = TipFactory(author=RepFactory(branch=BranchFactory()))
        self.conflict = conflict_open(existing=self.customer, reported_by=people["li"], source="app",
                                      matched_on="phone", proposed={"phone": self.customer.phone})

    def deal(self) -> Opportunity:
        return OpportunityFactory(customer=self.customer, owner=self.zhang, stage=self.stages[0])

    def visit(self) -> Activity:
        return activity_check_in(rep=self.zhang, customer=self.customer, channel="app", fix=None, note="")

    def shipped_order(self) -> Order:
        order = OrderFactory(customer=self.customer, rep=self.zhang)
        ShipmentFactory(order=order)
        return order

    def report(self) -> str:
        return sale_report(rep=self.zhang, product_code="BCD470", channel="app").reference

    def notice(self) -> Notification:
        return notify(recipient=self.zhang, kind="test", text="For Zhang only", sms=False)

    def device_id(self) -> int:
        return device_token_issue(user=self.zhang, name="spare")[0].pk

    def new_customer(self) -> Customer:
        return CustomerFactory(owner=self.zhang)


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # as in the OpenAPI schema, without /api/v1
    request: Callable[[World], tuple[str, dict | None]]  # -> (concrete path, body or query)
    expect: dict[str, int]
    note: str = ""
    extra: dict = field(default_factory=dict)


def own(ok: int = 200, **overrides: int) -> dict[str, int]:
    """A record of Zhang's: Zhang, his manager and the executive see it; nobody else."""
    base = {"owner": ok, "peer": 404, "stranger": 404, "manager": ok, "other_manager": 404, "executive": ok}
    return {**base, **UNAUTHENTICATED, **overrides}


def everyone(ok: int = 200, **overrides: int) -> dict[str, int]:
    """The caller's own view (lists, tallies, tips): every signed-in person."""
    return {**dict.fromkeys(USERS, ok), **UNAUTHENTICATED, **overrides}


def managers(ok: int = 200, other_manager: int | None = None, **overrides: int) -> dict[str, int]:
    """Managers' and executives' operations: reps get 403."""
    base = {"owner": 403, "peer": 403, "stranger": 403, "manager": ok, "executive": ok,
            "other_manager": ok if other_manager is None else other_manager}
    return {**base, **UNAUTHENTICATED, **overrides}


USERS = ("owner", "peer", "stranger", "manager", "other_manager", "executive")
TODAY = date.today().isoformat()


def _path(template: str, **ids: object) -> str:
    return template.format(**{k: str(v) for k, v in ids.items()})


CASES = [
    Case("POST", "/auth/otp", lambda w: ("/auth/otp", {"phone": "+8613899999999"}),
         {p: 202 for p in PERSONAS}, "public: the same answer for everyone"),
    Case("POST", "/auth/token", lambda w: ("/auth/token", {"phone": "+8613899999999", "code": "000000",
                                                            "device_name": "x"}),
         {p: 400 for p in PERSONAS}, "public: a wrong code is wrong for everyone"),
    Case("GET", "/auth/devices", lambda w: ("/auth/devices", {"user_id": w.zhang.pk}), own()),
    Case("POST", "/auth/devices/{device_id}/revoke",
         lambda w: (_path("/auth/devices/{d}/revoke", d=w.device_id()), {}), own()),
    Case("GET", "/me", lambda w: ("/me", None), everyone()),
    Case("GET", "/customers", lambda w: ("/customers", None), everyone()),
    Case("POST", "/customers", lambda w: ("/customers", {"name": f"Trust {uuid.uuid4().hex[:8]}",
                                                         "owner_id": w.zhang.pk}),
         own(201, peer=403, stranger=403), "a rep creates customers only for themselves"),
    Case("GET", "/customers/lookup", lambda w: ("/customers/lookup", {"phone": w.customer.phone}), own()),
    Case("GET", "/customers/{customer_id}", lambda w: (_path("/customers/{c}", c=w.customer.pk), None), own()),
    Case("PATCH", "/customers/{customer_id}",
         lambda w: (_path("/customers/{c}", c=w.customer.pk), {"notes": "changed"}), own()),
    Case("GET", "/customers/{customer_id}/overview",
         lambda w: (_path("/customers/{c}/overview", c=w.customer.pk), None), own()),
    Case("GET", "/contacts", lambda w: ("/contacts", None), everyone()),
    Case("POST", "/contacts", lambda w: ("/contacts", {"customer_id": str(w.customer.pk), "name": "New contact"}),
         own(201)),
    Case("GET", "/contacts/{contact_id}", lambda w: (_path("/contacts/{k}", k=w.contact.pk), None), own()),
    Case("PATCH", "/contacts/{contact_id}",
         lambda w: (_path("/contacts/{k}", k=w.contact.pk), {"title": "Boss"}), own()),
    Case("GET", "/opportunities/stages", lambda w: ("/opportunities/stages", None), everyone()),
    Case("GET", "/opportunities", lambda w: ("/opportunities", None), everyone()),
    Case("POST", "/opportunities",
         lambda w: ("/opportunities", {"customer_id": str(w.customer.pk), "name": "Fleet", "stage_id": w.stages[0].pk,
                                       "amount": "1000.00"}), own(201)),
    Case("GET", "/opportunities/{opportunity_id}",
         lambda w: (_path("/opportunities/{o}", o=w.deal().pk), None), own()),
    Case("PATCH", "/opportunities/{opportunity_id}",
         lambda w: (_path("/opportunities/{o}", o=w.deal().pk), {"next_step": "Call"}), own()),
    Case("POST", "/opportunities/{opportunity_id}/stage",
         lambda w: (_path("/opportunities/{o}/stage", o=w.deal().pk), {"stage_id": w.stages[1].pk}), own()),
    Case("POST", "/opportunities/{opportunity_id}/close",
         lambda w: (_path("/opportunities/{o}/close", o=w.deal().pk), {"outcome": "won"}), own()),
    Case("GET", "/activities", lambda w: ("/activities", None), everyone()),
    Case("POST", "/activities", lambda w: ("/activities", {"customer_id": str(w.customer.pk), "kind": "call"}),
         own(201, manager=403, executive=403), "only the customer's rep logs activities on it"),
    Case("POST", "/activities/check-in", lambda w: ("/activities/check-in", {"customer_id": str(w.customer.pk)}),
         own(201, manager=403, executive=403), "only the customer's rep visits it"),
    Case("POST", "/activities/{activity_id}/check-out",
         lambda w: (_path("/activities/{a}/check-out", a=w.visit().pk), {}),
         own(manager=403, executive=403), "only the rep who checked in checks out"),
    Case("GET", "/activities/{activity_id}", lambda w: (_path("/activities/{a}", a=w.activity.pk), None), own()),
    Case("GET", "/orders", lambda w: ("/orders", None), everyone()),
    Case("GET", "/orders/{order_id}", lambda w: (_path("/orders/{o}", o=w.order.pk), None), own()),
    Case("POST", "/orders/{order_id}/acknowledge",
         lambda w: (_path("/orders/{o}/acknowledge", o=w.shipped_order().pk), {}),
         own(manager=403, executive=403), "only the order's rep tells the customer"),
    Case("POST", "/orders/{order_id}/receive",
         lambda w: (_path("/orders/{o}/receive", o=w.shipped_order().pk), {}), own()),
    Case("POST", "/shipments", lambda w: ("/shipments", {"order_number": w.order.number, "carrier": "SF"}),
         own(201, owner=403, peer=403, stranger=403, logistics=201), "logistics and managers ship; reps may not"),
    Case("GET", "/sales", lambda w: ("/sales", None), everyone()),
    Case("POST", "/sales", lambda w: ("/sales", {"product": "BCD470", "customer_id": str(w.customer.pk)}),
         own(201, manager=403, executive=403), "only reps report sales, on customers they see"),
    Case("POST", "/sales/undo", lambda w: ("/sales/undo", {"reference": w.report()}),
         own(manager=404, executive=404), "only the reporter undoes a report"),
    Case("GET", "/sales/tally", lambda w: ("/sales/tally", None), everyone()),
    Case("GET", "/notifications", lambda w: ("/notifications", {"user_id": w.zhang.pk}), own()),
    Case("POST", "/notifications/read", lambda w: ("/notifications/read", {"ids": [str(w.notice().pk)]}),
         everyone(), "marks only the caller's own: checked below"),
    Case("GET", "/notifications/{notification_id}",
         lambda w: (_path("/notifications/{n}", n=w.notice().pk), None), own()),
    Case("POST", "/notifications/{notification_id}/read",
         lambda w: (_path("/notifications/{n}/read", n=w.notice().pk), {}),
         own(manager=403, executive=403), "only the recipient marks a notice read"),
    Case("GET", "/tips", lambda w: ("/tips", None), everyone()),
    Case("POST", "/tips", lambda w: ("/tips", {"title": "Trust", "body": "Tip"}), everyone(201, executive=403),
         "reps and managers share tips"),
    Case("GET", "/tips/{tip_id}", lambda w: (_path("/tips/{t}", t=w.tip.pk), None), everyone()),
    Case("POST", "/tips/{tip_id}/tags", lambda w: (_path("/tips/{t}/tags", t=w.tip.pk), {"tags": ["fleet"]}),
         everyone()),
    Case("POST", "/tips/{tip_id}/rating", lambda w: (_path("/tips/{t}/rating", t=w.tip.pk), {"stars": 4}),
         everyone()),
    Case("POST", "/tips/{tip_id}/comments", lambda w: (_path("/tips/{t}/comments", t=w.tip.pk), {"body": "Yes"}),
         everyone(201)),
    Case("POST", "/tips/{tip_id}/uses",
         lambda w: (_path("/tips/{t}/uses", t=w.tip.pk), {"opportunity_id": str(w.deal().pk)}), own(),
         "a tip is company-wide, the deal it is used on is not"),
    Case("GET", "/sync", lambda w: ("/sync", None), everyone()),
    *[
        Case("GET", f"/reports/{name}", lambda w, name=name: (f"/reports/{name}", None), managers())
        for name in (
            "rep-day", "sales", "growth", "hot-products", "fulfilment", "pipeline/forecast", "pipeline/funnel",
            "pipeline/accuracy", "pipeline/conversion", "pipeline/time-in-stage", "pipeline/win-rates",
            "stalled-deals", "stakeholder-gaps", "customers", "falling-accounts", "alerts", "conflicts",
        )
    ],
    Case("POST", "/ownership/handovers",
         lambda w: ("/ownership/handovers", {"reason": "Trust", "customer_ids": [str(w.new_customer().pk)],
                                             "to_user_ids": [w.people["li"].pk]}),
         managers(201, other_manager=404)),
    Case("GET", "/ownership/reps/{user_id}", lambda w: (_path("/ownership/reps/{u}", u=w.zhang.pk), None), own()),
    Case("GET", "/ownership/customers/{customer_id}/owners",
         lambda w: (_path("/ownership/customers/{c}/owners", c=w.customer.pk), None), own()),
    Case("GET", "/ownership/customers/{customer_id}/owner-on",
         lambda w: (_path("/ownership/customers/{c}/owner-on", c=w.customer.pk), {"on": TODAY}), own()),
    Case("GET", "/ownership/customers/{customer_id}/owners.csv",
         lambda w: (_path("/ownership/customers/{c}/owners.csv", c=w.customer.pk), None), own()),
    Case("GET", "/ownership/owners.csv", lambda w: ("/ownership/owners.csv", {"rep_id": w.zhang.pk}), own()),
    Case("GET", "/ownership/customers/{customer_id}/briefing",
         lambda w: (_path("/ownership/customers/{c}/briefing", c=w.customer.pk), None), own()),
    Case("GET", "/ownership/changes/{kind}/{record_id}",
         lambda w: (_path("/ownership/changes/customer/{c}", c=w.customer.pk), None), own()),
    Case("GET", "/ownership/conflicts", lambda w: ("/ownership/conflicts", None), managers()),
    Case("GET", "/ownership/conflicts/{conflict_id}",
         lambda w: (_path("/ownership/conflicts/{x}", x=w.conflict.pk), None), managers(other_manager=404)),
    Case("POST", "/ownership/conflicts/{conflict_id}/resolve",
         lambda w: (_path("/ownership/conflicts/{x}/resolve", x=conflict_open(
             existing=w.customer, reported_by=w.people["li"], source="app", matched_on="phone").pk),
             {"action": "dismiss"}),
         managers(other_manager=404)),
]


def _secrets(world: World, viewer) -> set[str]:
    """Ids and names of Zhang's records that `viewer` may not see, as they would appear in JSON."""
    if viewer is None:
        return set()
    hidden: set[str] = set()
    for model in SCOPED_MODELS:
        theirs = set(scope(model.objects.all(), world.zhang).values_list("pk", flat=True))
        visible = set(scope(model.objects.filter(pk__in=theirs), viewer).values_list("pk", flat=True))
        hidden |= {str(pk) for pk in theirs - visible}
        if model is Customer:
            hidden |= set(Customer.objects.filter(pk__in=theirs - visible).values_list("name", flat=True))
    return hidden


def _call(client, method: str, path: str, data: dict | None):
    if method == "GET":
        return client.get(path, data)
    if method == "PATCH":
        return client.patch(path, data or {})
    return client.post(path, data)


def test_every_operation_of_the_api_is_in_the_matrix():
    schema = api.get_openapi_schema()
    documented = {(m.upper(), p.removeprefix("/api/v1")) for p, ops in schema["paths"].items() for m in ops}
    assert documented == {(case.method, case.path) for case in CASES}


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_caller_gets_exactly_the_answer_their_scope_allows(persona, people):
    world = World(people)
    client = make_persona(persona, people)
    viewer = client.user if persona in OUTSIDERS else None
    assert viewer is None or world.customer.name in _secrets(world, viewer)  # the search below has teeth
    wrong = []
    for case in CASES:
        path, data = case.request(world)
        before = fingerprint() if case.method != "GET" else None
        response = _call(client, case.method, path, data)
        expected = case.expect[persona]
        if response.status_code != expected:
            wrong.append(f"{case.method} {case.path}: {response.status_code} (expected {expected}) "
                         f"{response.content[:160]!r}")
            continue
        if response.status_code >= 400:
            body = response.json()
            assert set(body) >= {"detail", "code"}, (case.path, body)
        if before is not None and response.status_code in (401, 403, 404):
            assert fingerprint() == before, f"{case.method} {path} was refused but wrote something"
        leaked = [s for s in _secrets(world, viewer) if s in response.content.decode()]
        if leaked:
            wrong.append(f"{case.method} {case.path}: shows {persona} what they may not see: {leaked[:3]}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("persona", ["peer", "manager", "executive"])
def test_marking_read_touches_only_the_callers_own_notices(persona, people):
    notice = notify(recipient=people["zhang"], kind="test", text="For Zhang only", sms=False)
    client = make_persona(persona, people)

    response = client.post("/notifications/read", {"ids": [str(notice.pk)]})

    assert response.status_code == 200 and response.json() == {"marked": 0}
    notice.refresh_from_db()
    assert notice.read_at is None


def test_a_record_handed_over_leaves_the_old_owners_sight_at_once(people):
    """Scope is live: after a handover the previous owner gets 404 on the very next request."""
    world = World(people)
    zhang, wang = make_persona("owner", people), make_persona("manager", people)
    customer = world.new_customer()
    assert zhang.get(f"/customers/{customer.pk}").status_code == 200

    handed = wang.post("/ownership/handovers", {"reason": "Trust", "customer_ids": [str(customer.pk)],
                                                "to_user_ids": [people["li"].pk]})

    assert handed.status_code == 201
    assert zhang.get(f"/customers/{customer.pk}").status_code == 404
    assert make_persona("peer", people).get(f"/customers/{customer.pk}").status_code == 200


def test_an_api_key_sees_orders_only_where_logistics_may(people):
    """Logistics may record shipments; the key is no way into the app's records."""
    key = make_persona("logistics", people)
    assert key.user.role == Role.LOGISTICS
    assert key.get("/customers").status_code == 401
    assert key.get("/me").status_code == 401
    before = Shipment.objects.count()
    assert key.post("/shipments", {"order_number": "PO-1002"}).status_code == 201
    assert Shipment.objects.count() == before + 1
    assert FieldReport.objects.filter(reporter=key.user, kind=FieldReport.Kind.SHIPMENT).count() == 1
