"""What a provider failure means and what to fix: which failures are worth another try, how long
to wait, and a one-line message that names the URL, setting or model at fault.

Errors are recognised by duck typing (``status_code``, class names up the MRO, the ``__cause__``
chain) rather than by importing the openai client: LangChain wraps its errors in subclasses, and
client versions move. A failure nothing explains (an answer that is not a chat completion at all)
is diagnosed by one small request of our own to the server (``probe_server``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

OPENAI_URL = "https://api.openai.com/v1"
"""Where the openai provider sends requests when BRIEFING_OPENAI_BASE_URL is unset."""
PROBE_TIMEOUT_S = 5.0
"""Longest wait for the diagnostic request made after an unexplained failure."""
MAX_RETRY_AFTER_S = 30.0
"""Longest wait a server's Retry-After header can ask for between tries."""

_TRANSIENT_NAMES = {"APIConnectionError", "RateLimitError", "InternalServerError", "ConnectError", "RemoteProtocolError"}
_TIMEOUT_NAMES = {"APITimeoutError", "TimeoutException", "ReadTimeout", "ConnectTimeout", "WriteTimeout", "PoolTimeout"}
_REFUSED_NAMES = {"ConnectError", "ConnectionRefusedError", "ConnectionError"}


@dataclass(frozen=True)
class Endpoint:
    """Where a provider's requests go, for messages and the diagnostic probe: ``url`` is the base
    URL (``.../v1``), ``custom`` whether the user set it (BRIEFING_OPENAI_BASE_URL)."""

    url: str
    model: str
    timeout_s: float
    custom: bool
    key: str | None = None
    keyless: bool = False
    """No key was set: a placeholder is sent (a local server needs none)."""

    def __repr__(self) -> str:  # the key never reaches a log line or traceback
        return f"Endpoint(url={self.url!r}, model={self.model!r})"


def is_transient(exc: BaseException) -> bool:
    """Dropped or refused connections, 429 and 5xx are worth another try; the rest are not. A
    timeout is not: a model too slow for BRIEFING_LLM_TIMEOUT is as slow the next time, and sending
    again only doubles a busy local server's work."""
    status = status_of(exc)
    if status is not None:
        return status == 429 or status >= 500
    if _named(exc, _TIMEOUT_NAMES, chain=True) or isinstance(exc, TimeoutError):
        return False
    # Match on class names up the MRO: LangChain wraps the openai client's errors in subclasses.
    return _named(exc, _TRANSIENT_NAMES) or isinstance(exc, ConnectionError)


def retry_delay(exc: BaseException, attempt: int, backoff: float) -> float:
    """Retry-After when the server sent one (capped at ``MAX_RETRY_AFTER_S``), else exponential backoff."""
    response = getattr(exc, "response", None)
    header = getattr(response, "headers", {}).get("retry-after") if response is not None else None
    try:
        return min(float(header), MAX_RETRY_AFTER_S) if header else backoff * (2**attempt)
    except ValueError:
        return backoff * (2**attempt)


def status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def describe(exc: BaseException) -> str:
    """The error as ``Type (HTTP status): first line``, for failures of a provider without an endpoint."""
    status = status_of(exc)
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    prefix = f"{type(exc).__name__}" + (f" (HTTP {status})" if status else "")
    return f"{prefix}: {first}" if first else prefix


def explain(exc: BaseException, endpoint: Endpoint | None, tries: int = 1) -> str:
    """One line saying what failed and what to fix. ``tries`` counts the attempts made. The API
    key is masked wherever a server echoed it."""
    if endpoint is None:
        return describe(exc)
    message = _explain(exc, endpoint, tries)
    return message.replace(endpoint.key, "***") if endpoint.key else message


def _explain(exc: BaseException, endpoint: Endpoint, tries: int) -> str:
    after = f" after {tries} tries" if tries > 1 else ""
    status = status_of(exc)
    if status is not None:
        return _explain_status(status, _server_message(exc), endpoint) + after
    if _named(exc, _TIMEOUT_NAMES, chain=True) or isinstance(exc, TimeoutError):
        return (f"no answer from {endpoint.url} within {endpoint.timeout_s:g} s{after} "
                "(a slow server or model: raise BRIEFING_LLM_TIMEOUT)")
    if _named(exc, _REFUSED_NAMES, chain=True) or _named(exc, {"APIConnectionError"}):
        return (f"cannot connect to {endpoint.url} ({_root_cause(exc)}){after}: is the server running there? "
                f"{_where_to_fix(endpoint)}")
    problem = probe_server(endpoint)
    return problem or f"{describe(exc)} (from {endpoint.url})"


def _explain_status(status: int, message: str, endpoint: Endpoint) -> str:
    said = f" ({message})" if message else ""
    if status in (401, 403) and endpoint.keyless:
        return (f"{endpoint.url} wants an API key (HTTP {status}{': ' + message if message else ''}): "
                "set OPENAI_API_KEY to the server's key")
    if status in (401, 403):
        return f"{endpoint.url} refused the API key (HTTP {status}{': ' + message if message else ''}): check OPENAI_API_KEY"
    if status == 404 and endpoint.custom and not _has_version_path(endpoint.url):
        return (f"{endpoint.url} answered HTTP 404{said} for /chat/completions: the base URL probably lacks /v1 "
                f"(try BRIEFING_OPENAI_BASE_URL={endpoint.url.rstrip('/')}/v1)")
    if status == 404:
        return (f"{endpoint.url} answered HTTP 404{said}: it may not serve the model '{endpoint.model}' "
                "(set BRIEFING_OPENAI_MODEL to one it serves) or the base URL may be wrong (BRIEFING_OPENAI_BASE_URL)")
    if status == 400:
        return f"{endpoint.url} rejected the request (HTTP 400{said})"
    if status == 429:
        return f"{endpoint.url} is rate limiting (HTTP 429{said}): wait, or raise BRIEFING_LLM_RETRIES"
    return f"{endpoint.url} answered HTTP {status}{said}"


def probe_server(endpoint: Endpoint) -> str | None:
    """Ask the server for a one-token chat completion and say what is wrong with its answer: no
    answer at all, not JSON (an HTML page, plain text), or JSON that is not a chat completion.
    None when its answer looks right (the failure lies elsewhere)."""
    import httpx

    headers = {"Authorization": f"Bearer {endpoint.key}"} if endpoint.key else {}
    body = {"model": endpoint.model, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}
    try:
        response = httpx.post(f"{endpoint.url.rstrip('/')}/chat/completions", json=body, headers=headers,
                              timeout=PROBE_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return f"cannot get an answer from {endpoint.url} ({type(exc).__name__}): {_where_to_fix(endpoint)}"
    return _answer_problem(response.status_code, response.headers.get("content-type", ""), response.text, endpoint)


def _answer_problem(status: int, content_type: str, text: str, endpoint: Endpoint) -> str | None:
    if status >= 400:
        return _explain_status(status, _message_in(text), endpoint)
    kind = content_type.split(";")[0].strip().lower()
    if "html" in kind or text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
        return (f"the server at {endpoint.url} did not answer with JSON (got an HTML page): "
                "BRIEFING_OPENAI_BASE_URL should name an OpenAI-compatible API, usually ending in /v1")
    try:
        data = json.loads(text)
    except ValueError:
        shown = " ".join(text.split())[:60]
        return (f"the server at {endpoint.url} did not answer with JSON (got {kind or 'no content type'}: "
                f"{shown!r}): {_where_to_fix(endpoint)}")
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        keys = ", ".join(sorted(data)[:5]) if isinstance(data, dict) else type(data).__name__
        return (f"the server at {endpoint.url} answered JSON that is not a chat completion (it has {keys or 'nothing'}, "
                f"no 'choices'): {_where_to_fix(endpoint)}")
    return None


def _where_to_fix(endpoint: Endpoint) -> str:
    return "check BRIEFING_OPENAI_BASE_URL" if endpoint.custom else "check your network (no BRIEFING_OPENAI_BASE_URL is set)"


def _has_version_path(url: str) -> bool:
    """Whether a base URL's path ends in a version segment (/v1, /v1beta, /api/v2...)."""
    last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1].lower()
    return len(last) > 1 and last[0] == "v" and last[1].isdigit()


def _named(exc: BaseException, names: set[str], chain: bool = False) -> bool:
    errors = _chain(exc) if chain else [exc]
    return any(cls.__name__ in names for error in errors for cls in type(error).__mro__)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _root_cause(exc: BaseException) -> str:
    root = _chain(exc)[-1]
    text = (str(root).strip().splitlines() or [""])[0][:120]
    return text or type(root).__name__


MESSAGE_CHARS = 160
"""Most characters of a server's own error message quoted in ours."""


def _server_message(exc: BaseException) -> str:
    """The server's own error message: the ``error.message`` of its JSON body, else its text."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and (message := _message_of(body)):
        return message
    response = getattr(exc, "response", None)
    return _message_in(getattr(response, "text", "") or "")


def _message_in(text: str) -> str:
    """The message of an error body as text: JSON's ``error.message``, or the text itself (not a web page)."""
    try:
        data = json.loads(text)
    except ValueError:
        return "" if "<" in text[:20] else " ".join(text.split())[:MESSAGE_CHARS]
    return _message_of(data) if isinstance(data, dict) else ""


def _message_of(body: dict) -> str:
    """``error.message`` (or ``detail``) of an OpenAI-style error body, on one line."""
    inner = body.get("error", body)
    message = inner.get("message") or inner.get("detail") if isinstance(inner, dict) else inner
    return " ".join(str(message or "").split())[:MESSAGE_CHARS]
