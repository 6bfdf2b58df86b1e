"""The report model to JSON and back.

:func:`to_json` writes any model value as JSON (compliance.json, and the payloads xdist
carries to the controller); :func:`from_json` rebuilds the typed value from it, reading
the dataclasses' own type hints, so the model is declared once.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, Field, fields, is_dataclass
from typing import TypeVar, Union

from .model import JSON


def to_json(value: object) -> JSON:
    """The JSON form of a model value: dataclasses as objects in field order, enums as
    their values, tuples as lists."""
    kind = type(value)
    if kind in _PLAIN or value is None:  # most values: checked first, by exact type
        return value  # type: ignore[return-value]
    names = _field_names(kind)
    if names is not None:
        return {name: to_json(getattr(value, name)) for name in names}
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if isinstance(value, (tuple, list)):
        return [to_json(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"{kind.__name__} is not part of the report model")


#: The types written as they are.
_PLAIN = frozenset({str, int, float, bool})


def _field_names(kind: type) -> tuple[str, ...] | None:
    """A dataclass's field names, in order (None: not a dataclass): asking
    :func:`dataclasses.fields` for each of a run's million values cost seconds."""
    if kind not in _FIELD_NAMES:
        _FIELD_NAMES[kind] = tuple(f.name for f in fields(kind)) if is_dataclass(kind) else None
    return _FIELD_NAMES[kind]


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


Model = TypeVar("Model")
#: Rebuilds the value of one type from JSON; the second argument names where it is.
_Decoder = Callable[[object, str], object]


def from_json(cls: type[Model], data: object) -> Model:
    """Rebuild a model value of type ``cls`` from :func:`to_json`'s output.

    Raises ValueError, naming the field, for data of the wrong shape.
    """
    return typing.cast(Model, _decoder(cls)(data, cls.__name__))


def _decoder(kind: object) -> _Decoder:
    """How to rebuild a value of ``kind``, worked out once per type: reading the type
    hints at every value cost most of the decoding of a thousand targets' rows."""
    found = _DECODERS.get(kind)
    if found is None:
        found = _DECODERS[kind] = _decoder_of(kind)
    return found


def _decoder_of(kind: object) -> _Decoder:
    if _is_json(kind):
        return _json_object if typing.get_origin(kind) is dict else _as_is
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (Union, types.UnionType):
        return _optional(kind, args)
    if origin is tuple:
        return _sequence(args[0])
    if origin in (Mapping, dict):
        return _mapping(args[0], args[1])
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return _member(kind)
    if isinstance(kind, type) and is_dataclass(kind):
        return _dataclass(kind)
    if isinstance(kind, type) and kind in (str, int, bool, float):
        return _scalar(kind)
    return _unknown(kind)


_DECODERS: dict[object, _Decoder] = {}


def _as_is(data: object, where: str) -> object:
    return data


def _json_object(data: object, where: str) -> object:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
    return data


def _optional(kind: object, args: tuple[object, ...]) -> _Decoder:
    [inner] = [arg for arg in args if arg is not type(None)]
    optional = type(None) in args

    def decode(data: object, where: str) -> object:
        if data is None and optional:
            return None
        return _decoder(inner)(data, where)

    return decode


def _sequence(item: object) -> _Decoder:
    def decode(data: object, where: str) -> object:
        each = _decoder(item)
        inner = f"{where}[]"
        return tuple(each(value, inner) for value in _list(data, where))

    return decode


def _mapping(key: object, value: object) -> _Decoder:
    def decode(data: object, where: str) -> object:
        keys, values = _decoder(key), _decoder(value)
        return {
            keys(name, where): values(item, f"{where}.{name}")
            for name, item in _object(data, where).items()
        }

    return decode


def _member(kind: type[enum.Enum]) -> _Decoder:
    def decode(data: object, where: str) -> object:
        try:
            return kind(data)
        except ValueError:
            known = ", ".join(repr(member.value) for member in kind)
            raise ValueError(f"{where}: expected one of {known}, got {data!r}") from None

    return decode


def _dataclass(kind: type) -> _Decoder:
    plan: list[tuple[str, _Decoder, bool]] = []

    def decode(data: object, where: str) -> object:
        if not plan:  # worked out at the first value: a field may be of this very type
            hints = typing.get_type_hints(kind)
            plan.extend(
                (f.name, _decoder(hints[f.name]), _has_default(f)) for f in fields(kind) if f.init
            )
        found = _object(data, where)
        return kind(
            **{
                name: each(found.get(name), f"{where}.{name}")
                for name, each, optional in plan
                # A field added within the schema has a default: a document written before
                # it was added (a shard of an older run, say) leaves it out.
                if name in found or not optional
            }
        )

    return decode


def _scalar(kind: type) -> _Decoder:
    def decode(data: object, where: str) -> object:
        # A bool is an int to isinstance.
        if isinstance(data, kind) and (kind is bool or not isinstance(data, bool)):
            return data
        if isinstance(data, kind):
            raise ValueError(f"{where}: expected {kind}, got bool")
        raise ValueError(f"{where}: expected {kind}, got {type(data).__name__}")

    return decode


def _unknown(kind: object) -> _Decoder:
    def decode(data: object, where: str) -> object:
        raise ValueError(f"{where}: expected {kind}, got {type(data).__name__}")

    return decode


def _has_default(field: Field[object]) -> bool:
    return field.default is not MISSING or field.default_factory is not MISSING


def _is_json(kind: object) -> bool:
    """Whether ``kind`` is :data:`JSON` or :data:`JSONObject`, kept as they are.

    The model's only unions of several types are JSON's own.
    """
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (Union, types.UnionType):
        return len([arg for arg in args if arg is not type(None)]) > 1
    return origin is dict and _is_json(args[1])


def _list(data: object, where: str) -> list[object]:
    if not isinstance(data, list):
        raise ValueError(f"{where}: expected a list, got {type(data).__name__}")
    return data


def _object(data: object, where: str) -> dict[str, object]:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
    return data
