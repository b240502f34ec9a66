"""The **hand-written** tools of the fidelity corpus, of the kind real agents declare (`REALISTIC`), the decoy every
request carries beside the tool asked for (`DECOY`), and `tool`, the function-tool declaration every schema of the
corpus, hand-written or generated, is sent in."""

from __future__ import annotations

from typing import Any


def tool(name: str, parameters: dict[str, Any], description: str) -> dict[str, Any]:
    """A function tool (strict by default, facts §3.6)."""
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


def _place(properties: dict[str, Any], required: list[str], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, **extra}


_TEXT: dict[str, Any] = {"type": "string"}
REALISTIC: tuple[dict[str, Any], ...] = (
    tool(
        "search_flights",
        _place(
            {
                "origin": {"type": "string", "minLength": 3, "maxLength": 3, "description": "IATA airport code"},
                "destination": {"type": "string", "minLength": 3, "maxLength": 3, "description": "IATA airport code"},
                "depart_on": {"type": "string", "description": "Date, YYYY-MM-DD"},
                "passengers": {"type": "integer", "minimum": 1, "maximum": 9, "default": 1},
                "cabin": {"type": "string", "enum": ["economy", "premium", "business", "first"]},
                "flexible_dates": {"type": "boolean"},
            },
            ["origin", "destination", "depart_on"],
            additionalProperties=False,
        ),
        "Find scheduled flights between two airports on a day.",
    ),
    tool(
        "create_calendar_event",
        _place(
            {
                "title": {"type": "string", "minLength": 1, "maxLength": 80},
                "start": {"type": "string", "description": "ISO 8601 date and time"},
                "duration_minutes": {"type": "integer", "minimum": 5, "maximum": 480},
                "attendees": {
                    "type": "array",
                    "maxItems": 4,
                    "items": _place({"email": _TEXT, "optional": {"type": "boolean", "default": False}}, ["email"]),
                },
                "reminder": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 1440}, {"type": "null"}]},
            },
            ["title", "start", "duration_minutes"],
        ),
        "Put an event in the user's calendar.",
    ),
    tool(
        "convert_currency",
        _place(
            {
                "amount": {"type": "number", "minimum": 0, "maximum": 1000000},
                "from_currency": {"type": "string", "enum": ["EUR", "USD", "JPY", "CNY", "GBP"]},
                "to_currency": {"type": "string", "enum": ["EUR", "USD", "JPY", "CNY", "GBP"]},
                "decimals": {"type": "integer", "minimum": 0, "maximum": 4},
            },
            ["amount", "from_currency", "to_currency"],
            additionalProperties=False,
        ),
        "Convert an amount of money at today's rate.",
    ),
    tool(
        "file_bug_report",
        {
            "type": "object",
            "$defs": {
                "environment": _place(
                    {"os": {"type": "string", "enum": ["linux", "macos", "windows"]}, "version": _TEXT}, ["os"]
                ),
            },
            "properties": {
                "summary": {"type": "string", "minLength": 5, "maxLength": 120},
                "severity": {"type": "string", "enum": ["minor", "major", "critical"]},
                "steps": {"type": "array", "minItems": 1, "maxItems": 5, "items": {"type": "string", "maxLength": 80}},
                "environment": {"$ref": "#/$defs/environment", "description": "Where it happened"},
            },
            "required": ["summary", "severity", "steps"],
        },
        "Open a bug in the tracker.",
    ),
    tool(
        "set_thermostat",
        _place(
            {
                "zone": {"type": "string", "enum": ["living_room", "bedroom", "office"]},
                "target_celsius": {"type": "number", "minimum": 10, "maximum": 30},
                "mode": {"type": "string", "enum": ["heat", "cool", "auto", "off"], "default": "auto"},
                "schedule": {
                    "anyOf": [
                        _place(
                            {
                                "days": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": 7,
                                    "items": {
                                        "type": "string",
                                        "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                    },
                                },
                                "from_hour": {"type": "integer", "minimum": 0, "maximum": 23},
                            },
                            ["days", "from_hour"],
                        ),
                        {"type": "null"},
                    ]
                },
            },
            ["zone", "target_celsius"],
        ),
        "Change a heating zone's target temperature.",
    ),
    tool(
        "query_orders",
        {
            "type": "object",
            "$defs": {
                "condition": {
                    "anyOf": [
                        _place(
                            {
                                "field": {"type": "string", "enum": ["status", "total", "country"]},
                                "equals": {"anyOf": [{"type": "string"}, {"type": "number"}]},
                            },
                            ["field", "equals"],
                            additionalProperties=False,
                        ),
                        _place(
                            {"all_of": {"type": "array", "maxItems": 3, "items": {"$ref": "#/$defs/condition"}}},
                            ["all_of"],
                            additionalProperties=False,
                        ),
                    ]
                }
            },
            "properties": {
                "where": {"$ref": "#/$defs/condition"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                "order": {"type": "string", "enum": ["newest", "oldest"]},
            },
            "required": ["where"],
        },
        "Search the shop's orders with nested conditions.",
    ),
    tool(
        "send_notification",
        _place(
            {
                "channel": {"type": "string", "enum": ["email", "sms", "push"]},
                "recipients": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"type": "string"}},
                "message": {"type": "string", "minLength": 1, "maxLength": 280},
                "urgent": {"type": "boolean"},
                "metadata": {"type": "object", "additionalProperties": True},
            },
            ["channel", "recipients", "message"],
        ),
        "Send a short message to people.",
    ),
    tool(
        "org_chart_lookup",
        _place(
            {
                "employee_id": {"type": "string", "minLength": 4, "maxLength": 12},
                "include": {"type": "array", "items": {"type": "string", "enum": ["manager", "reports", "peers"]}},
                "depth": {"type": "integer", "minimum": 0, "maximum": 3},
                "then": {"$ref": "#", "description": "A follow-up lookup, run after this one"},
            },
            ["employee_id"],
        ),
        "Look someone up in the organisation chart.",
    ),
)
"""Hand-written tools of the kind agents declare (written for this suite): flat, nested, enums, anyOf, $defs, a
recursive $defs entry and a reference to the root."""

DECOY: dict[str, Any] = tool(
    "unused_helper",
    _place({"note": _TEXT}, []),
    "Not needed for this request.",
)
"""A second tool in every request, never the one asked for: calling it is a `wrong_tool` answer."""
