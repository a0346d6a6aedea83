from datetime import datetime
from uuid import UUID

from ninja import Schema

from mobile_api.schemas.common import example


class NotificationOut(Schema):
    id: UUID
    kind: str
    text: str
    data: dict
    read_at: datetime | None
    created_at: datetime
    updated_at: datetime

    model_config = example(
        id="8f7e6d5c-4b3a-4291-8f0e-d7c6b5a49382", kind="shipment",
        text="PO-1001 shipped SF SF1234567, ETA 11-25. Please tell Wuhan Motors Ltd to prepare receiving, "
             "then reply OK PO-1001",
        data={"order": "PO-1001", "shipment_id": "7e6d5c4b-3a29-4f18-8e07-d6c5b4a39281", "eta": "2026-11-25"},
        read_at=None, created_at="2026-11-23T08:40:00+08:00", updated_at="2026-11-23T08:40:00+08:00",
    )


class MarkReadIn(Schema):
    ids: list[UUID] | None = None

    model_config = example(ids=["8f7e6d5c-4b3a-4291-8f0e-d7c6b5a49382"])


class MarkReadOut(Schema):
    marked: int

    model_config = example(marked=1)
