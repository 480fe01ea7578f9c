"""Ask an OpenAI-compatible chat-completions server for a ScenePlan, allowing one repair round.

Plain httpx rather than a vendor SDK: the planner needs one endpoint, and the same few lines then
work against OpenAI, vLLM, llama.cpp or Ollama. Every way this can go wrong (no server configured,
HTTP error, timeout, a reply that is still invalid after the repair) surfaces as ``LLMPlanError``
with a short reason, so the planner can fall back to the rules and say why in the manifest.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any, NamedTuple

import httpx
from pydantic import ValidationError

from shared.config import Settings
from shared.errors import validation_detail
from shared.schemas.scene_plan import MAX_LIGHTS, MAX_OBJECTS_TOTAL, ScenePlan, json_schema

MAX_ERRORS_SHOWN = 20
# The invalid reply is echoed back in the repair request; a runaway reply must not double the bill.
MAX_ECHOED_REPLY_CHARS = 16_000

SYSTEM_PROMPT = f"""You plan 3D environments. Answer with exactly one JSON object that matches the ScenePlan \
JSON schema you are given, and nothing else.
Rules the schema cannot express:
- metres, glTF axes: +Y is up, the ground is centred on the origin in the XZ plane;
- every object-group region and the water region lie inside the ground \
(|x| <= ground.width / 2, |z| <= ground.depth / 2), with x_min < x_max and z_min < z_max;
- at most {MAX_OBJECTS_TOTAL} objects over all groups, at most {MAX_LIGHTS} lights;
- point and spot lights need a position; directional and spot lights need a non-zero direction;
- object scale is [min, max] with min <= max; the camera position differs from its target;
- colours are "#rrggbb"; "setting" is a short snake_case word for the kind of place.
Copy the prompt and seed you are given into "prompt" and "seed"."""

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S)


class LLMPlanError(Exception):
    """No valid plan came back; the message is the reason, fit for a provenance note."""


class PlanRejected(Exception):
    """A reply that is not a valid ScenePlan; the message lists what is wrong, for the repair request."""


class LLMPlan(NamedTuple):
    plan: ScenePlan
    repaired: bool


@cache
def _response_format() -> dict[str, Any]:
    # strict=False: OpenAI's strict mode refuses schemas with optional fields and defaults, which ScenePlan has.
    return {"type": "json_schema", "json_schema": {"name": "scene_plan", "schema": json_schema(), "strict": False}}


def _error_text(error: ValidationError) -> str:
    details = validation_detail(error)
    lines = [f"{'.'.join(map(str, d['loc'])) or '<root>'}: {d['msg']}" for d in details[:MAX_ERRORS_SHOWN]]
    if len(details) > MAX_ERRORS_SHOWN:
        lines.append(f"... and {len(details) - MAX_ERRORS_SHOWN} more errors")
    return "\n".join(lines)


def parse_plan(content: str, prompt: str, seed: int) -> ScenePlan:
    """Validate a reply as a ScenePlan carrying the caller's prompt and seed, whatever the model wrote there.

    The seed is forced rather than trusted so a job's plan is reproducible from its request.
    """
    fenced = _FENCE.match(content)
    text = fenced.group(1) if fenced else content
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanRejected(f"the reply is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PlanRejected(f"the reply is a JSON {type(data).__name__}, not an object")
    data.update(prompt=prompt, seed=seed)
    try:
        return ScenePlan.model_validate(data)
    except ValidationError as exc:
        raise PlanRejected(_error_text(exc)) from None


def _complete(http: httpx.Client, url: str, model: str, messages: list[dict[str, str]], seed: int) -> str:
    body = {"model": model, "messages": messages, "response_format": _response_format(),
            "temperature": 0, "seed": seed}
    try:
        response = http.post(url, json=body)
    except httpx.TimeoutException:
        raise LLMPlanError(f"no reply from {url} within {http.timeout.read}s") from None
    except httpx.HTTPError as exc:
        raise LLMPlanError(f"request to {url} failed: {exc.__class__.__name__}: {exc}") from None
    if response.is_error:
        raise LLMPlanError(f"{url} answered HTTP {response.status_code}: {response.text[:200]}")
    try:
        message = response.json()["choices"][0]["message"]
    except (ValueError, LookupError, TypeError):
        message = None
    if not isinstance(message, dict):
        raise LLMPlanError(f"{url} did not answer in the chat-completions format: {response.text[:200]}")
    if message.get("refusal"):
        raise LLMPlanError(f"the model refused: {str(message['refusal'])[:200]}")
    content = message.get("content")
    if not isinstance(content, str) or not content.strip():
        raise LLMPlanError("the model sent an empty reply")
    return content


def request_plan(settings: Settings, prompt: str, seed: int) -> LLMPlan:
    """A validated plan for ``prompt``: one request, and one repair request quoting the errors if needed."""
    if not settings.llm.base_url:
        raise LLMPlanError("no LLM__BASE_URL configured")
    url = settings.llm.base_url.rstrip("/") + "/chat/completions"
    headers = {}
    if settings.llm.api_key is not None and settings.llm.api_key.get_secret_value():
        headers["Authorization"] = f"Bearer {settings.llm.api_key.get_secret_value()}"
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": json.dumps({"prompt": prompt, "seed": seed})},
    ]
    with httpx.Client(timeout=settings.llm.timeout_s, headers=headers) as http:
        reply = _complete(http, url, settings.llm.model, messages, seed)
        try:
            return LLMPlan(parse_plan(reply, prompt, seed), repaired=False)
        except PlanRejected as rejected:
            messages += [
                {"role": "assistant", "content": reply[:MAX_ECHOED_REPLY_CHARS]},
                {"role": "user", "content": "That is not a valid ScenePlan:\n"
                                            f"{rejected}\nReply with the corrected ScenePlan JSON object only."},
            ]
        reply = _complete(http, url, settings.llm.model, messages, seed)
        try:
            return LLMPlan(parse_plan(reply, prompt, seed), repaired=True)
        except PlanRejected as rejected:
            first_line = str(rejected).splitlines()[0]
            raise LLMPlanError(f"reply still invalid after one repair ({first_line})") from None
