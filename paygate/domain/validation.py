"""Turn pydantic validation errors into ``FieldError``s with RFC 6901 JSON pointers."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from paygate.errors import FieldError, ValidationFailed

M = TypeVar("M", bound=BaseModel)


def json_pointer(loc: tuple[int | str, ...]) -> str:
    parts = []
    for item in loc:
        text = str(item).replace("~", "~0").replace("/", "~1")
        parts.append(text)
    return "/" + "/".join(parts) if parts else ""


def _field_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    # pydantic appends validator/union tags (e.g. 'function-after[...]'); drop them.
    return tuple(
        p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function")))
    )


def field_errors(exc: ValidationError) -> list[FieldError]:
    errors = []
    for err in exc.errors(include_url=False):
        reason = str(err.get("msg", "invalid"))
        reason = reason.removeprefix("Value error, ")
        errors.append(FieldError(json_pointer(_field_loc(tuple(err["loc"]))), reason))
    return errors


def parse_model(model: type[M], data: bytes | str | dict[str, Any]) -> M:
    """Validate ``data`` as ``model``, raising ``ValidationFailed`` with field pointers."""
    try:
        if isinstance(data, dict):
            return model.model_validate(data)
        return model.model_validate_json(data)
    except ValidationError as exc:
        errors = field_errors(exc)
        raise ValidationFailed(f"{model.__name__} is not valid", errors) from None
