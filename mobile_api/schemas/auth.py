from datetime import datetime
from typing import Any

from ninja import Field, Schema

from mobile_api.schemas.common import USER_EXAMPLE, UserRef, example


class OtpIn(Schema):
    phone: str = Field(..., max_length=32)

    model_config = example(phone="+8613800000001")


class AcceptedOut(Schema):
    detail: str

    model_config = example(detail="If this phone is registered, a code is on its way.")


class TokenIn(Schema):
    phone: str = Field(..., max_length=32)
    code: str = Field(..., min_length=1, max_length=12)
    device_name: str = Field("phone", max_length=100)

    model_config = example(phone="+8613800000001", code="042137", device_name="Zhang's Redmi Note 13")


class TokenOut(Schema):
    token: str
    device_id: int

    model_config = example(token="fld_Jd0m3Q8p2Kx7vL5nR9tY1wZ4bC6eF8gH0iJ2kL4mN6o", device_id=12)


class DeviceOut(Schema):
    id: int
    name: str
    user: UserRef
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
    revoked_by: UserRef | None

    model_config = example(
        id=12, name="Zhang's Redmi Note 13", user=USER_EXAMPLE, created_at="2026-11-20T08:00:00+08:00",
        last_seen_at="2026-11-23T09:12:00+08:00", revoked_at=None, revoked_by=None,
    )


class MeOut(Schema):
    id: int
    username: str
    name: str
    role: str
    phone: str | None
    branch: str | None
    manager: UserRef | None
    preferred_language: str

    model_config = example(
        id=4, username="zhang", name="Wei Zhang", role="rep", phone="+8613800000001", branch="WUH",
        manager={"id": 2, "name": "Fang Wang"}, preferred_language="zh-hans",
    )

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj)

    @staticmethod
    def resolve_branch(obj: Any) -> str | None:
        return obj.branch.code if obj.branch_id else None
