"""The JSON schema of ``topology.yaml`` (docs/scenario-format.md).

``x-message`` names a friendlier message (``loader.MESSAGES``) for errors raised by the
keywords of the schema object that carries it.
"""

from __future__ import annotations

from typing import Any

BEHAVIOURS = ("record", "cpu", "sleep", "forward", "drop")
SCRIPT_OPS = ("send", "process", "connect", "disconnect")
DURATION_RE = r"^\s*(forever|\d+(\.\d+)?\s*(ns|us|ms|s|m|ticks?)?)\s*$"
IDENT_RE = r"^[A-Za-z_][A-Za-z0-9_]*$"

IDENT: dict[str, Any] = {"type": "string", "pattern": IDENT_RE, "x-message": "ident"}
DURATION: dict[str, Any] = {"anyOf": [{"type": "number", "minimum": 0},
                                      {"type": "string", "pattern": DURATION_RE}],
                            "x-message": "duration"}
COUNT = {"type": "integer", "minimum": 0}


def _obj(required: list[str], props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props,
            "additionalProperties": False, **extra}


THREAD = _obj([], {"name": IDENT, "priority": {"type": "integer"},
                   "stack_size": {"type": "integer", "minimum": 1}})
PATTERN = {"anyOf": [{"enum": ["counter", "zeros", "random"]},
                     {"type": "string", "pattern": "^0[xX][0-9a-fA-F]{1,2}$"},
                     {"type": "integer", "minimum": 0, "maximum": 255}],
           "x-message": "pattern"}
SEND_PROPS: dict[str, Any] = {
    "source": IDENT, "pool": IDENT, "size": {"type": "integer", "minimum": 0, "maximum": 65535},
    "pattern": PATTERN, "timeout": DURATION, "consume": {"type": "boolean"}}
SEND = _obj(["source", "pool", "size"], SEND_PROPS)
PERIODIC = _obj(["source", "pool", "size", "every"], {
    **SEND_PROPS, "every": DURATION, "start": DURATION,
    "count": {"type": ["integer", "null"], "minimum": 0}, "thread": THREAD})
PAIR = _obj(["source", "sink"], {"source": IDENT, "sink": IDENT})
SCRIPT_STEP = _obj(["at"], {
    "at": DURATION, "send": SEND,
    "process": _obj(["queue"], {"queue": IDENT, "timeout": DURATION}),
    "connect": PAIR, "disconnect": PAIR}, minProperties=2, maxProperties=2)
SCRIPT_STEP["x-message"] = "script_step"
SCRIPT = _obj(["steps"], {"thread": THREAD,
                          "steps": {"type": "array", "items": SCRIPT_STEP}})
STIMULUS = _obj([], {"periodic": PERIODIC, "script": SCRIPT}, minProperties=1,
                maxProperties=1)
STIMULUS["x-message"] = "stimulus"

STEP_ARGS: dict[str, Any] = {
    "record": {"type": "null"},
    "drop": {"type": "null"},
    "cpu": _obj([], {"us": {"type": "number", "minimum": 0}, "cycles": COUNT},
                minProperties=1, maxProperties=1),
    "sleep": _obj([], {"ms": {"type": "number", "minimum": 0},
                       "us": {"type": "number", "minimum": 0}},
                  minProperties=1, maxProperties=1),
    "forward": _obj(["source", "pool"], {
        "source": IDENT, "pool": IDENT, "timeout": DURATION,
        "header": {"anyOf": [{"type": "array",
                              "items": {"type": "integer", "minimum": 0, "maximum": 255}},
                             _obj(["seq16"], {"seq16": {"const": True}})],
                   "x-message": "header"}}),
}
STEP = {"type": ["string", "object"],
        "if": {"type": "string"},
        "then": {"enum": ["record", "drop"], "x-message": "behaviour"},
        "else": {"minProperties": 1, "maxProperties": 1,
                 "propertyNames": {"enum": list(BEHAVIOURS), "x-message": "behaviour"},
                 "properties": STEP_ARGS, "x-message": "one_step"}}
CONNECTION = {"type": ["array", "object"],
              "if": {"type": "array"},
              "then": {"minItems": 2, "maxItems": 2, "items": IDENT, "x-message": "pair"},
              "else": _obj(["source", "sink"], {
                  "source": IDENT, "sink": IDENT, "runtime": {"type": "boolean"},
                  "add_at": DURATION, "remove_at": DURATION})}

TOPOLOGY: dict[str, Any] = _obj(["version"], {
    "version": {"const": 1, "x-message": "version"},
    "name": {"type": "string"},
    "config": {"type": ["object", "null"]},
    "duration": DURATION,
    "pools": {"type": "array", "items": _obj(["name", "count", "size"], {
        "name": IDENT, "count": {"type": "integer", "minimum": 1, "maximum": 65535},
        "size": {"type": "integer", "minimum": 1, "maximum": 65535},
        "user_data_size": {"type": "integer", "minimum": 0, "maximum": 255}})},
    "queues": {"type": "array", "items": _obj(["name"], {
        "name": IDENT, "size": {"type": "integer", "minimum": 1}, "thread": THREAD})},
    "sources": {"type": "array", "items": {
        "anyOf": [IDENT, _obj(["name"], {"name": IDENT})], "x-message": "source"}},
    "sinks": {"type": "array", "items": _obj(["name"], {
        "name": IDENT, "queue": {"anyOf": [IDENT, {"type": "null"}], "x-message": "ident"},
        "behaviour": {"type": "array", "items": STEP}})},
    "connections": {"type": "array", "items": CONNECTION},
    "stimuli": {"type": "array", "items": STIMULUS},
})
TOPOLOGY["$schema"] = "https://json-schema.org/draft/2020-12/schema"

__all__ = ["BEHAVIOURS", "SCRIPT_OPS", "TOPOLOGY"]
