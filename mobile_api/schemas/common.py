"""Pieces every schema uses: references to people, examples, pages."""

from typing import Any

from ninja import Schema
from pydantic import ConfigDict


def example(**data: Any) -> ConfigDict:
    """A schema's example, shown in the OpenAPI document."""
    return ConfigDict(json_schema_extra={"examples": [data]})


def example_of(schema: type[Schema]) -> dict:
    return schema.model_config["json_schema_extra"]["examples"][0]


USER_EXAMPLE = {"id": 4, "name": "Wei Zhang"}


class UserRef(Schema):
    id: int
    name: str

    model_config = example(**USER_EXAMPLE)

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj)


class ErrorOut(Schema):
    detail: str
    code: str

    model_config = example(detail="Customer not found.", code="not_found")


class ValidationErrorOut(Schema):
    detail: str
    code: str
    errors: list[dict]

    model_config = example(
        detail="Some fields are not valid.", code="invalid",
        errors=[{"loc": ["body", "payload", "name"], "msg": "Field required", "type": "missing"}],
    )


def page_of(item: type[Schema]) -> type[Schema]:
    """`{"items": [...], "next_cursor": "..."}`: pass `next_cursor` back as `cursor` for the next
    page; null means this was the last."""
    name = item.__name__.removesuffix("Out") + "Page"
    return type(name, (Schema,), {
        "__annotations__": {"items": list[item], "next_cursor": str | None},
        "__doc__": page_of.__doc__,
        "next_cursor": None,
        "model_config": example(items=[example_of(item)], next_cursor="WyIyMDI2LTExLTIzVDEwOjAwOjAwIiwiNGQ1In0"),
    })


# The error answers every authenticated operation may give, for the OpenAPI document. 409: the
# API-wide answer to a database conflict (a client-made id already used, a race the database settled).
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ValidationErrorOut}
