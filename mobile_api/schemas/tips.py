from datetime import datetime
from typing import Any
from uuid import UUID

from ninja import Field, Schema

from mobile_api.schemas.common import USER_EXAMPLE, UserRef, example, example_of
from mobile_api.schemas.crm import DEAL_ID, STAMPS

TIP_ID = "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"


class TipIn(Schema):
    id: UUID | None = None
    title: str = Field(..., min_length=1, max_length=200)
    body: str = Field(..., min_length=1)
    competitor: str = Field("", max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=20)

    model_config = example(
        id=TIP_ID, title="Beat the Geely quote with total cost of ownership",
        body="Show the 5-year running costs side by side; fleet buyers sign on running costs, not price.",
        competitor="Geely", tags=["fleet", "pricing"],
    )


class TipOut(Schema):
    id: UUID
    author: UserRef
    title: str
    body: str
    competitor: str
    tags: list[str]
    stars: float = Field(..., description="Average rating, pulled towards 3 while there are few")
    ratings: int
    won: int = Field(..., description="Deals that used the tip and were won")
    lost: int = Field(..., description="Deals that used the tip and were lost or abandoned")
    rank: float
    created_at: datetime
    updated_at: datetime

    model_config = example(
        id=TIP_ID, author=USER_EXAMPLE, title="Beat the Geely quote with total cost of ownership",
        body="Show the 5-year running costs side by side.", competitor="Geely", tags=["fleet", "pricing"],
        stars=4.2, ratings=7, won=3, lost=1, rank=0.79, **STAMPS,
    )

    @staticmethod
    def resolve_tags(obj: Any) -> list[str]:
        return sorted(tag.name for tag in obj.tags.all())

    @staticmethod
    def resolve_ratings(obj: Any) -> int:
        return int(obj.ratings_count)


class CommentIn(Schema):
    id: UUID | None = None
    body: str = Field(..., min_length=1)

    model_config = example(body="Worked with the Hankou taxi company too.")


class CommentOut(Schema):
    id: UUID
    author: UserRef
    body: str
    created_at: datetime

    model_config = example(id="0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", author=USER_EXAMPLE,
                           body="Worked with the Hankou taxi company too.", created_at="2026-11-23T12:00:00+08:00")


class TipDetailOut(TipOut):
    comments: list[CommentOut]

    model_config = example(**example_of(TipOut), comments=[example_of(CommentOut)])

    @staticmethod
    def resolve_comments(obj: Any) -> list:
        return list(obj.comments.select_related("author").order_by("created_at"))


class RatingIn(Schema):
    stars: int = Field(..., ge=1, le=5)

    model_config = example(stars=5)


class TagIn(Schema):
    tags: list[str] = Field(..., min_length=1, max_length=20)

    model_config = example(tags=["service"])


class UseIn(Schema):
    opportunity_id: UUID

    model_config = example(opportunity_id=DEAL_ID)
