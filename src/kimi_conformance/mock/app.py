"""The mock's ASGI app: one route per operation of the contract (13 in all)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from kimi_conformance import contract
from kimi_conformance.mock import errors
from kimi_conformance.mock.chat import completion_body, plan_completion
from kimi_conformance.mock.chat_validation import parse_chat_request, validation_error
from kimi_conformance.mock.config import MockConfig
from kimi_conformance.mock.errors import ApiError, invalid_request
from kimi_conformance.mock.http import endpoint, gateway_not_found, read_json
from kimi_conformance.mock.ratelimit import DEFAULT_MAX_TOKENS
from kimi_conformance.mock.request import reasoning_kept
from kimi_conformance.mock.sse import sse_body
from kimi_conformance.mock.state import MockState
from kimi_conformance.mock.stream_spec import usage_headers
from kimi_conformance.mock.variations import reshape
from kimi_conformance.rules import load_rules
from kimi_conformance.tokenizer import count_prompt

MODEL_CREATED = 1_735_689_600
"""2025-01-01: the `created` time every listed model reports."""
_RENDER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
"""How Starlette's JSONResponse renders a body, built once for the chat answers instead of once per answer."""


def _check_body(body: Any, path: str) -> None:
    error = validation_error(contract.request_body_pointer(path, "post"), body)
    if error is not None:
        raise error


HANG_SECONDS = 600.0
"""How long the `hang-on-several-choices` fault keeps a request unanswered (the client gives up first)."""


def _faulty_chat(body: Any, config: MockConfig) -> None:
    """Faults that refuse a valid request before it is read (`partial-mode-rejected`)."""
    messages = body.get("messages") if isinstance(body, dict) else None
    last = messages[-1] if isinstance(messages, list) and messages else None
    if config.has_fault("partial-mode-rejected") and isinstance(last, dict) and last.get("partial") is True:
        raise invalid_request("Invalid request: partial mode is not supported")


async def chat_completions(request: Request, state: MockState) -> Response:
    body = await read_json(request)
    _faulty_chat(body, state.config)
    chat = parse_chat_request(body, state.config, state.files.purpose_of)
    if chat.n > 1 and state.config.has_fault("hang-on-several-choices"):
        await asyncio.sleep(HANG_SECONDS)
    # TPM / TPD admission: the prompt plus the output cap of every choice (facts §10)
    state.limiter.admit_tokens(
        request.state.api_key, chat.prompt_tokens + (chat.max_tokens or DEFAULT_MAX_TOKENS) * chat.n
    )
    partition = f"{request.state.api_key}\x00{body.get('prompt_cache_key') or ''}"
    cached = state.cache.lookup_and_store(
        partition, chat.model.id, chat.messages, chat.message_tokens, reasoning=chat.reasoning_kept
    )
    completion = plan_completion(chat, state.config, cached)
    if chat.stream:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        headers.update(usage_headers(completion.usage(), state.config))
        media_type = "application/json" if state.config.has_fault("stream-wrong-content-type") else "text/event-stream"
        return StreamingResponse(sse_body(completion, state.config), media_type=media_type, headers=headers)
    answer = completion_body(completion)
    if state.config.has_fault("finish-reason-stop-on-tool-calls"):
        for choice in answer["choices"]:
            choice["finish_reason"] = "stop" if choice["finish_reason"] == "tool_calls" else choice["finish_reason"]
    body = _RENDER.encode(reshape(answer, state.config)).encode()
    return Response(body, media_type="application/json", headers=usage_headers(answer["usage"], state.config))


async def run_batch_line(state: MockState, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One batch line through the same validation and generation as a live request."""
    try:
        chat = parse_chat_request({**body, "stream": False}, state.config, state.files.purpose_of)
    except ApiError as error:
        return error.status, error.envelope()
    return 200, completion_body(plan_completion(chat, state.config, cached_tokens=0))


async def list_models(request: Request, state: MockState) -> Response:
    data = [
        {
            "id": model.id,
            "object": "model",
            "created": MODEL_CREATED,
            "owned_by": "moonshot",
            "context_length": model.context_length,
            "supports_image_in": model.image_in,
            "supports_video_in": model.video_in,
            "supports_reasoning": model.supports_reasoning,
        }
        for model in state.config.models()
    ]
    return _models_response(data, state.config)


def _models_response(data: list[dict[str, Any]], config: MockConfig) -> Response:
    """The models list, or one of its faulty variants."""
    if config.has_fault("models-duplicated"):
        data.append(dict(data[0]))
    if config.has_fault("models-unknown-id"):
        data.append({**data[-1], "id": "kimi-k2-instruct-0905"})
    if config.has_fault("models-context-length-string"):
        data[0]["context_length"] = str(data[0]["context_length"])
    if config.has_fault("models-nan-context"):
        data[-1]["context_length"] = float("nan")  # what a Python server's json.dumps writes as `NaN`
        return Response(json.dumps({"object": "list", "data": data}), media_type="application/json")
    return JSONResponse({"object": "list", "data": data})


async def upload_file(request: Request, state: MockState) -> Response:
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise invalid_request("Invalid request: upload files as multipart/form-data with `file` and `purpose`")
    try:
        form = await request.form(max_files=1, max_fields=16)
    except ApiError:  # the body's read timeout (408)
        raise
    except Exception as exc:  # python-multipart raises several unrelated types on malformed bodies
        raise invalid_request(f"Invalid request: malformed multipart body ({exc})") from None
    try:
        upload, purpose = form.get("file"), form.get("purpose")
        if not isinstance(upload, UploadFile):
            raise invalid_request("Invalid request: `file` is required and must be a file")
        if not isinstance(purpose, str):
            raise invalid_request("Invalid request: `purpose` is required")
        data = await upload.read()
        stored = state.files.add(upload.filename or "upload", purpose, data)
    finally:
        await form.close()
    return JSONResponse(stored.as_json())


async def list_files(request: Request, state: MockState) -> Response:
    # No pagination is documented for files; `has_more: false` lets SDK auto-pagination stop ([I]).
    return JSONResponse({"object": "list", "data": [f.as_json() for f in state.files.list()], "has_more": False})


async def retrieve_file(request: Request, state: MockState) -> Response:
    return JSONResponse(state.files.get(request.path_params["file_id"]).as_json())


async def delete_file(request: Request, state: MockState) -> Response:
    return JSONResponse(state.files.delete(request.path_params["file_id"]))


async def file_content(request: Request, state: MockState) -> Response:
    return PlainTextResponse(state.files.content(request.path_params["file_id"]))


async def estimate_tokens(request: Request, state: MockState) -> Response:
    body = await read_json(request)
    model = body.get("model") if isinstance(body, dict) else None
    if isinstance(model, str) and state.config.model(model) is None:
        raise errors.not_found(errors.MODEL_NOT_FOUND.format(model=model))
    if state.config.has_fault("estimate-accepts-empty") and isinstance(body, dict) and body.get("messages") == []:
        return JSONResponse({"data": {"total_tokens": 0}})
    _check_body(body, "/v1/tokenizers/estimate-token-count")
    served = state.config.model(body["model"])  # as chat usage counts it: the history's reasoning per `thinking.keep`
    total = count_prompt(body["messages"], body.get("tools"), reasoning=served is None or reasoning_kept(body, served))
    if state.config.has_fault("estimate-undercounts"):
        total = max(1, total - 5)
    return JSONResponse({"data": {"total_tokens": total}})


async def balance(request: Request, state: MockState) -> Response:
    voucher, cash = state.config.balance
    available = voucher + cash if cash >= 0 else voucher
    data = {"available_balance": round(available, 5), "voucher_balance": voucher, "cash_balance": cash}
    answer = {"code": 0, "data": data, "scode": "0x0", "status": True}
    if state.config.has_fault("content-type-malformed"):
        return Response(json.dumps(answer), media_type="json")
    return JSONResponse(answer)


async def create_batch(request: Request, state: MockState) -> Response:
    body = await read_json(request)
    _check_body(body, "/v1/batches")
    return JSONResponse(state.batches.create(body).as_json())


def _limit(raw: str | None) -> int:
    if raw is None:
        return 20
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise invalid_request("Invalid request: limit must be an integer between 1 and 100")
    return int(raw)


async def list_batches(request: Request, state: MockState) -> Response:
    page, has_more = state.batches.page(request.query_params.get("after"), _limit(request.query_params.get("limit")))
    return JSONResponse({"object": "list", "data": [b.as_json() for b in page], "has_more": has_more})


async def retrieve_batch(request: Request, state: MockState) -> Response:
    return JSONResponse(state.batches.get(request.path_params["batch_id"]).as_json())


async def cancel_batch(request: Request, state: MockState) -> Response:
    return JSONResponse(state.batches.cancel(request.path_params["batch_id"]).as_json())


def create_app(config: MockConfig | None = None) -> Starlette:
    """The reference mock as an ASGI app; serve it with uvicorn (see `server.py`)."""
    config = config or MockConfig()
    contract.load_contract()  # fail at start-up, not on the first request
    load_rules()

    routes = [
        Route("/v1/chat/completions", endpoint(chat_completions), methods=["POST"]),
        Route("/v1/models", endpoint(list_models), methods=["GET"]),
        Route("/v1/files", endpoint(upload_file), methods=["POST"]),
        Route("/v1/files", endpoint(list_files), methods=["GET"]),
        Route("/v1/files/{file_id}", endpoint(retrieve_file), methods=["GET"]),
        Route("/v1/files/{file_id}", endpoint(delete_file), methods=["DELETE"]),
        Route("/v1/files/{file_id}/content", endpoint(file_content), methods=["GET"]),
        Route("/v1/tokenizers/estimate-token-count", endpoint(estimate_tokens), methods=["POST"]),
        Route("/v1/users/me/balance", endpoint(balance), methods=["GET"]),
        Route("/v1/batches", endpoint(create_batch), methods=["POST"]),
        Route("/v1/batches", endpoint(list_batches), methods=["GET"]),
        Route("/v1/batches/{batch_id}", endpoint(retrieve_batch), methods=["GET"]),
        Route("/v1/batches/{batch_id}/cancel", endpoint(cancel_batch), methods=["POST"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await app.state.mock.close()

    middleware = [Middleware(GZipMiddleware, minimum_size=0)] if config.has_fault("benign-gzip") else []
    app = Starlette(
        middleware=middleware,
        routes=routes,
        exception_handlers={404: gateway_not_found, 405: gateway_not_found},
        lifespan=lifespan,
    )

    async def run_line(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return await run_batch_line(app.state.mock, body)

    app.state.mock = MockState(config, run_line)
    return app
