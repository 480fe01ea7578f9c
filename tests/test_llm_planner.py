"""The LLM planner against a real chat-completions server on loopback (stdlib http.server, scripted replies)."""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from infra.local.stack import free_port
from shared.config import Settings
from shared.envgen.rules import plan_from_prompt
from shared.pipeline.context import StageContext
from shared.pipeline.env import PLAN_PROGRESS
from shared.providers.plan_llm import LLMPlanner
from shared.providers.registry import provider_class
from shared.schemas.scene_plan import ScenePlan
from tests.stage_jobs import StageJob

MODEL = "planner-test-model"
PROMPT = "a misty pine forest at dawn"
SEED = 7
HANG = object()


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class ScriptedLLM:
    """Answers each POST with the next scripted reply and records what it was sent."""

    base_url: str
    replies: list[Any] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


def _handler(llm: ScriptedLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            llm.requests.append(Recorded(self.path, dict(self.headers), body))
            reply = llm.replies.pop(0) if llm.replies else (500, {"error": "no reply scripted"})
            if reply is HANG:
                llm.release.wait(10)
                return
            status, payload = reply
            data = json.dumps(payload).encode()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

    return Handler


@pytest.fixture
def llm_server():
    llm = ScriptedLLM(base_url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(llm))
    llm.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield llm
    llm.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def planning_context(root: Path, settings: Settings) -> StageContext:
    """A real planning-stage context of an env job, in stores under ``root``."""
    job = StageJob(root, "env", {"prompt": PROMPT}, settings, {"plan": "llm", "env": "stub"})
    return job.context("planning", PLAN_PROGRESS)


def notes_of(ctx: StageContext) -> list[str]:
    return ctx.jobs.get(ctx.job_id)["notes"]


def settings_for(base_url: str, **overrides: Any) -> Settings:
    return Settings(llm_base_url=base_url, llm_model=MODEL, llm_timeout_s=5, **overrides)


def chat(content: str) -> tuple[int, dict[str, Any]]:
    return 200, {"id": "chatcmpl-1", "object": "chat.completion", "model": MODEL,
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": content}}]}


def model_plan(**changes: Any) -> dict[str, Any]:
    """A valid plan that no rules run for PROMPT would produce (its setting is unique)."""
    plan = plan_from_prompt("a sunny desert canyon with cacti", 123).model_dump(mode="json")
    return {**plan, "setting": "llm_made", "seed": 999, "prompt": "what the model wrote", **changes}


def rules_plan(root: Path) -> dict[str, Any]:
    return provider_class("plan", "rules")().plan(planning_context(root, Settings()), PROMPT, SEED)


def test_valid_reply_is_used_with_the_callers_seed(llm_server, tmp_path):
    served = model_plan()
    llm_server.replies = [chat(json.dumps(served))]
    ctx = planning_context(tmp_path, settings_for(llm_server.base_url, llm_api_key="sk-test-key"))

    plan = LLMPlanner().plan(ctx, PROMPT, SEED)

    assert plan == {**served, "seed": SEED, "prompt": PROMPT}
    assert ScenePlan.model_validate(plan).setting == "llm_made"
    assert notes_of(ctx) == [f"llm planner: plan by model {MODEL}"]
    [request] = llm_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer sk-test-key"
    assert request.body["model"] == MODEL
    assert request.body["response_format"]["type"] == "json_schema"
    sent_schema = request.body["response_format"]["json_schema"]["schema"]
    model_schema = ScenePlan.model_json_schema()
    for part in ("properties", "required", "$defs", "additionalProperties"):
        assert sent_schema[part] == model_schema[part]
    assert request.body["seed"] == SEED
    assert json.loads(request.body["messages"][-1]["content"]) == {"prompt": PROMPT, "seed": SEED}


def test_invalid_reply_is_repaired_once_quoting_the_errors(llm_server, tmp_path):
    invalid = json.dumps(model_plan(time_of_day="noon"))
    repaired = model_plan(weather="rainy")
    llm_server.replies = [chat(invalid), chat(f"```json\n{json.dumps(repaired)}\n```")]
    ctx = planning_context(tmp_path, settings_for(llm_server.base_url))

    plan = LLMPlanner().plan(ctx, PROMPT, SEED)

    assert plan == {**repaired, "seed": SEED, "prompt": PROMPT}
    assert notes_of(ctx) == [f"llm planner: plan by model {MODEL} after one repair"]
    first, repair = llm_server.requests
    assert "Authorization" not in first.headers
    assert repair.body["messages"][:2] == first.body["messages"]
    assert repair.body["messages"][2] == {"role": "assistant", "content": invalid}
    feedback = repair.body["messages"][3]["content"]
    assert "time_of_day: Input should be 'dawn', 'day', 'dusk' or 'night'" in feedback


def test_garbage_twice_falls_back_to_rules(llm_server, tmp_path):
    llm_server.replies = [chat("Sure! Here is a lovely forest."), chat(json.dumps({"setting": "forest"}))]
    ctx = planning_context(tmp_path, settings_for(llm_server.base_url))

    plan = LLMPlanner().plan(ctx, PROMPT, SEED)

    assert plan == rules_plan(tmp_path / "rules")
    assert len(llm_server.requests) == 2
    [note] = notes_of(ctx)
    assert note.startswith("llm planner: reply still invalid after one repair (")
    assert note.endswith("; fell back to rules")


@pytest.mark.parametrize("failure, reason", [
    ("down", "request to http://127.0.0.1:"),
    ("timeout", "no reply from"),
    ("http_500", "answered HTTP 500"),
    ("unconfigured", "no LLM__BASE_URL configured"),
])
def test_unreachable_llm_falls_back_to_rules(llm_server, tmp_path, failure, reason):
    base_url = llm_server.base_url
    timeout = 5.0
    if failure == "down":
        base_url = f"http://127.0.0.1:{free_port()}/v1"
    elif failure == "timeout":
        llm_server.replies = [HANG]
        timeout = 0.3
    elif failure == "http_500":
        llm_server.replies = [(500, {"error": {"message": "model overloaded"}})]
    elif failure == "unconfigured":
        base_url = ""
    ctx = planning_context(tmp_path, Settings(llm_base_url=base_url, llm_model=MODEL, llm_timeout_s=timeout))

    plan = LLMPlanner().plan(ctx, PROMPT, SEED)

    assert plan == rules_plan(tmp_path / "rules")
    [note] = notes_of(ctx)
    assert note.startswith("llm planner: ") and reason in note, note
    assert note.endswith("; fell back to rules")
    assert len(llm_server.requests) == (1 if failure in ("timeout", "http_500") else 0)
