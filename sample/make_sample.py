#!/usr/bin/env python3
"""Generate the bundled sample: one month (October 2026) of Amazon Bedrock invocation logs of a
fictional 26-person company, in the native S3 delivery layout.

    python3 sample/make_sample.py      # rewrites sample/logs/ and sample/profiles.csv

Deterministic: one fixed seed drives every id, time and token count, no wall clock is read, and
gzip members are written with mtime=0, so two runs give byte-identical files (with the same
Python and zlib). Python 3 standard library only. sample/README.md describes the company.

Every object is `AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/
<YYYYMMDD>T<HHMMSSmmm>Z_<16 hex>.json.gz`: gzip of JSON lines, one ModelInvocationLog record per
line, one object per account, region and hour that has traffic. Records are written the way
fixtures/make_fixtures.py writes the native shape. The fixtures in fixtures/ are the edge cases
the tests rely on; this sample is the ordinary month a reader tries the tool on.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import shutil
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

SEED = 20261031
rng = random.Random(SEED)

HERE = Path(__file__).resolve().parent
LOGS = HERE / "logs"

# --------------------------------------------------------------------------- the company

ENG = "111122223333"  # engineering account: people (IAM Identity Center), CI, data jobs
SHARED = "444455556666"  # shared-services account: the LLM gateway and the docs assistant app

MONTH_START = date(2026, 10, 1)
DAYS = [MONTH_START + timedelta(days=i) for i in range(31)]
UTC = timezone.utc

# IAM Identity Center permission sets: one role per permission set and account, named
# AWSReservedSSO_<PermissionSet>_<16 hex>, the session name is the person's user name.
SSO_ROLE = {
    "Developer": "AWSReservedSSO_Developer_7c1e4b9a20f35d68",
    "AdministratorAccess": "AWSReservedSSO_AdministratorAccess_3f9a0d2c6e18b457",
    "DataScientist": "AWSReservedSSO_DataScientist_b24d81f07a6c39e5",
    "FinanceAnalyst": "AWSReservedSSO_FinanceAnalyst_e05b7c3912d4a8f6",
}


def sso(person: str, permission_set: str = "Developer") -> str:
    return f"arn:aws:sts::{ENG}:assumed-role/{SSO_ROLE[permission_set]}/{person}@example.com"


CI_ROLE = f"arn:aws:sts::{ENG}:assumed-role/ci-deploy"
GATEWAY_ROLE = f"arn:aws:sts::{SHARED}:assumed-role/llm-gateway"
DOCS_ROLE = f"arn:aws:sts::{SHARED}:assumed-role/docs-assistant-task"
ETL_USER = f"arn:aws:iam::{ENG}:user/data/etl-nightly"
API_KEY_USER = f"arn:aws:iam::{ENG}:user/BedrockAPIKey-7kq2"  # nobody claims it: UNALLOCATED
SAGEMAKER = f"arn:aws:sts::{ENG}:assumed-role/AmazonSageMaker-ExecutionRole-20260914T101500/SageMaker"


# UTC offset of office hours: US East (EDT all October), US West (PDT), Europe (CEST until the
# clocks go back on 2026-10-25, then CET).
def utc_offset(zone: str, day: date) -> int:
    if zone == "us-east":
        return -4
    if zone == "us-west":
        return -7
    return 2 if day < date(2026, 10, 25) else 1


# --------------------------------------------------------------------------- models

SONNET45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
SONNET46 = "anthropic.claude-sonnet-4-6"
SONNET5 = "anthropic.claude-sonnet-5"
HAIKU45 = "anthropic.claude-haiku-4-5-20251001-v1:0"
OPUS46 = "anthropic.claude-opus-4-6-v1"
OPUS47 = "anthropic.claude-opus-4-7"
NOVA2LITE = "amazon.nova-2-lite-v1:0"
NOVAPRO = "amazon.nova-pro-v1:0"

# The docs assistant calls Haiku 4.5 through an application inference profile (copied from the
# us. system profile) that carries cost-allocation tags; sample/profiles.csv maps it.
DOCS_PROFILE = f"arn:aws:bedrock:us-east-1:{SHARED}:application-inference-profile/d7q2m8x4k1vz"
DOCS_PROFILE_TARGET = f"us.{HAIKU45}"
# One request to a custom model deployment: no per-token price exists, so it stays unpriced.
CUSTOM_MODEL = f"arn:aws:bedrock:us-west-2:{ENG}:custom-model-deployment/p4x8n2v6c0qa"

# Regions that serve a cross-region request, by profile prefix and source region.
SERVING = {
    ("us", "us-east-1"): ["us-east-1", "us-east-2", "us-west-2"],
    ("us", "us-west-2"): ["us-west-2", "us-east-1", "us-east-2"],
    ("eu", "eu-west-1"): ["eu-west-1", "eu-central-1", "eu-west-3", "eu-north-1"],
    ("global", "us-east-1"): ["us-east-1", "us-east-2", "us-west-2", "ca-central-1"],
    ("global", "us-west-2"): ["us-west-2", "us-east-1", "us-east-2"],
    ("global", "eu-west-1"): ["eu-west-1", "eu-central-1", "eu-north-1", "us-east-1"],
}


def serving_region(model_id: str, region: str) -> str | None:
    prefix = model_id.split(".", 1)[0]
    if model_id.startswith("arn:") or (prefix, region) not in SERVING:
        return None
    return rng.choice(SERVING[(prefix, region)])


# --------------------------------------------------------------------------- helpers


def new_uuid() -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def hex_n(n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def lognormal(median: float, sigma: float, lo: float, hi: float) -> int:
    return int(min(hi, max(lo, median * math.exp(rng.gauss(0.0, sigma)))))


def iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def office_time(day: date, zone: str, start: float = 9.0, end: float = 18.0) -> datetime:
    """A moment of the working day, local hours [start, end) in UTC, quieter over lunch."""
    while True:
        h = rng.uniform(start, end)
        weight = 0.55 if 12.0 <= h < 13.0 else 1.0  # lunch
        if rng.random() < weight:
            break
    local = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=h)
    return (local - timedelta(hours=utc_offset(zone, day))).replace(microsecond=0)


def weekend(day: date) -> bool:
    return day.weekday() >= 5


# --------------------------------------------------------------------------- bodies

SCHEMA = {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0"}

CLAUDE_CODE_SYSTEM = "You are Claude Code, Anthropic's official CLI for Claude. [system prompt and CLAUDE.md elided]"
CLAUDE_CODE_TOOLS = ["Bash", "Read", "Edit", "Write", "Grep", "Glob", "TodoWrite", "WebFetch"]


def claude_code_in(prompt: str, ttl_1h: bool) -> dict:
    cache = {"type": "ephemeral", "ttl": "1h"} if ttl_1h else {"type": "ephemeral"}
    return {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 32000,
        "system": [{"type": "text", "text": CLAUDE_CODE_SYSTEM, "cache_control": cache}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": prompt, "cache_control": cache}]}],
        "tools": [{"name": t, "input_schema": {"type": "object"}} for t in CLAUDE_CODE_TOOLS],
    }


def stream_out(model: str, text: str, stop: str, inp, out, cr, c5, c1, latency, first_byte) -> list:
    usage = {"input_tokens": inp, "cache_read_input_tokens": cr, "cache_creation_input_tokens": c5 + c1,
             "cache_creation": {"ephemeral_5m_input_tokens": c5, "ephemeral_1h_input_tokens": c1},
             "output_tokens": 1}
    if stop == "tool_use":
        block = {"type": "tool_use", "id": "toolu_bdrk_01" + hex_n(16).upper(), "name": rng.choice(CLAUDE_CODE_TOOLS[:5]), "input": {}}
        delta = {"type": "input_json_delta", "partial_json": text}
    else:
        block = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": text}
    return [
        {"type": "message_start", "message": {"id": "msg_bdrk_01" + hex_n(16).upper(), "type": "message", "role": "assistant",
                                              "model": model, "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage}},
        {"type": "content_block_start", "index": 0, "content_block": block},
        {"type": "content_block_delta", "index": 0, "delta": delta},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": out}},
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": inp, "outputTokenCount": out, "invocationLatency": latency, "firstByteLatency": first_byte}},
    ]


def response_model(model_id: str) -> str:
    """The model name an Anthropic response body carries: claude-sonnet-4-5-20250929."""
    name = model_id.removeprefix("anthropic.")
    for suffix in ("-v1:0", "-v1"):
        name = name.removesuffix(suffix)
    return name


def anthropic_in(text: str, system: str) -> dict:
    return {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 4096, "system": system,
            "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]}


def anthropic_out(model: str, text: str, inp: int, out: int) -> dict:
    return {"id": "msg_bdrk_01" + hex_n(16).upper(), "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": inp, "output_tokens": out}}


def converse_in(text: str, system: str | None = None, cache_point: bool = False, max_tokens: int = 2048) -> dict:
    body: dict = {"messages": [{"role": "user", "content": [{"text": text}]}]}
    if system:
        body["system"] = [{"text": system}] + ([{"cachePoint": {"type": "default"}}] if cache_point else [])
    body["inferenceConfig"] = {"maxTokens": max_tokens, "temperature": 0.3}
    return body


def converse_out(text: str, stop: str, latency: int, inp: int, out: int, cr: int = 0, cw: int = 0) -> dict:
    usage = {"inputTokens": inp, "outputTokens": out}
    if cr or cw:
        usage["cacheReadInputTokens"] = cr
        usage["cacheWriteInputTokens"] = cw
    usage["totalTokens"] = inp + out + cr + cw
    return {"output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": stop, "usage": usage, "metrics": {"latencyMs": latency}}


def nova_in(text: str, system: str) -> dict:
    return {"schemaVersion": "messages-v1", "system": [{"text": system}],
            "messages": [{"role": "user", "content": [{"text": text}]}],
            "inferenceConfig": {"maxTokens": 2000, "temperature": 0.1}}


def nova_out(text: str, inp: int, out: int) -> dict:
    return {"output": {"message": {"role": "assistant", "content": [{"text": text}]}}, "stopReason": "end_turn",
            "usage": {"inputTokens": inp, "outputTokens": out, "totalTokens": inp + out}}


# --------------------------------------------------------------------------- records

RECORDS: list[tuple[str, str, datetime, str]] = []  # (account, region, timestamp, json line)


def emit(ts: datetime, arn: str, model: str, op: str, in_body: dict, *, out_body=None, inp=None, out=None,
         cr=None, cw=None, error=None, account=ENG, region="us-east-1", metadata=None) -> None:
    top: dict = {"timestamp": iso(ts), "accountId": account, "identity": {"arn": arn}, "region": region,
                 "requestId": new_uuid(), "operation": op, "modelId": model}
    if error:
        top["errorCode"] = error
    i: dict = {"inputContentType": "application/json", "inputBodyJson": in_body}
    if not error:
        i["inputTokenCount"] = inp
        if cr is not None:
            i["cacheReadInputTokenCount"] = cr
        if cw is not None:
            i["cacheWriteInputTokenCount"] = cw
    top["input"] = i
    if not error:  # failed calls carry no output and no counters
        top["output"] = {"outputContentType": "application/json", "outputBodyJson": out_body, "outputTokenCount": out}
    serving = serving_region(model, region)
    if serving:
        top["inferenceRegion"] = serving
    if metadata:
        top["requestMetadata"] = metadata
    RECORDS.append((account, region, ts, json.dumps({**SCHEMA, **top}, separators=(",", ":"), ensure_ascii=False)))


# --------------------------------------------------------------------------- traffic

CODING_TASKS = [
    "Fix the flaky test in tests/ingest_test.rs", "Add pagination to the /search endpoint",
    "Why does the build fail on arm64?", "Refactor the ranking module into smaller functions",
    "Write a migration for the orders table", "Upgrade the Terraform AWS provider to v6",
    "Explain this stack trace and propose a fix", "Add retries with backoff to the S3 client",
    "Review my diff before I open the PR", "Port the cron job to EventBridge Scheduler",
    "Add a dark-mode toggle to the settings page", "Speed up the query planner benchmark",
    "Write unit tests for the tokenizer", "Find where we leak file descriptors",
]
REPLIES = ["Done: the change is in place and the tests pass.", "I'll read the file first.",
           "Running the test suite now.", "Here is the plan: 1) reproduce, 2) fix, 3) add a test.",
           "The failure comes from a race between the two writers; I added a lock."]


class Coder:
    """A Claude Code user: on a share `p_day` of the weekdays (and now and then on a weekend) a
    session, one task, of streamed requests, one per agent turn. Each turn sends the whole
    conversation again: the prefix the previous turn cached is read from the cache and only what
    the turn added (the last reply and the tool results, most of them while exploring the code
    at the start) is written, so cache reads grow with the conversation and dwarf the writes,
    while the uncached input is a few tokens after the last cache breakpoint. A break longer
    than the cache TTL (5 minutes, or 1 hour for `ttl_1h`) lets the cache expire: the next turn
    writes the whole conversation again. Near the window (Sonnet 4.5's 200K) Claude Code
    compacts: one turn summarises the conversation, the next starts again from the system
    prompt (still cached) and the summary."""

    def __init__(self, arn, zone, model, *, p_day, open_median, grow_median, turns=(24, 34), region="us-east-1",
                 ttl_1h=False, switch=None, start_day=1):
        self.arn, self.zone, self.model, self.region = arn, zone, model, region
        self.p_day, self.open_median, self.grow_median, self.turns = p_day, open_median, grow_median, turns
        self.ttl = timedelta(hours=1) if ttl_1h else timedelta(minutes=5)
        self.ttl_1h = ttl_1h
        self.switch = switch  # (day, new model id): changes model from that day
        self.start_day = start_day
        self.plan: dict[int, set[date]] = {}  # ISO week -> the days of Claude Code in it
        self.system = lognormal(17_500, 0.08, 14_000, 22_000)  # system prompt, tools, CLAUDE.md

    def day(self, day: date) -> None:
        if day.day < self.start_day:
            return
        model = self.model
        if self.switch and day >= self.switch[0]:
            model = self.switch[1]
        if weekend(day):
            if rng.random() < self.p_day * 0.15:  # a short look at something on the weekend
                self.session(office_time(day, self.zone, 10.0, 17.0), model, rng.randint(4, 8))
        elif day in self.planned(day):
            self.session(office_time(day, self.zone, 9.0, 16.0), model, rng.randint(*self.turns))

    def planned(self, day: date) -> set[date]:
        """The weekdays of day's week on which this person works with Claude Code: a share p_day
        of them, drawn once a week, so that everyone's month has about the intended number."""
        week = day.isocalendar()[1]
        if week not in self.plan:
            weekdays = [d for d in DAYS if d.isocalendar()[1] == week and not weekend(d) and d.day >= self.start_day]
            share = self.p_day * len(weekdays)
            k = int(share) + (rng.random() < share - int(share))
            self.plan[week] = set(rng.sample(weekdays, k))
        return self.plan[week]

    def session(self, t: datetime, model: str, n: int) -> None:
        base = model.split(".", 1)[1]
        task = rng.choice(CODING_TASKS)
        window = 1_000_000 if base in (SONNET46, SONNET5, OPUS46, OPUS47) else 200_000
        # The first turn: system prompt and tools, the task, the files read up front.
        ctx = self.system + lognormal(self.open_median, 0.4, 2_000, 120_000)
        cached = 0
        compacting = False
        # Claude Code's small, fast model titles the session.
        if rng.random() < 0.4:
            haiku = f"{model.split('.', 1)[0]}.{HAIKU45}"
            hi, ho = rng.randint(150, 900), rng.randint(8, 60)
            emit(t + timedelta(seconds=rng.randint(1, 4)), self.arn, haiku, "InvokeModelWithResponseStream",
                 claude_code_in(task, False),
                 out_body=stream_out(response_model(HAIKU45), "Fix flaky ingest test", "end_turn", hi, ho, 0, 0, 0,
                                     rng.randint(300, 900), rng.randint(200, 500)),
                 inp=hi, out=ho, cr=0, cw=0, region=self.region)
        for k in range(n):
            inp = lognormal(45, 1.3, 1, 4_000)  # the part after the last cache breakpoint
            inp = min(inp, ctx - cached)
            cr, cw = cached, ctx - cached - inp
            if compacting:  # the conversation is summarised into a fresh one
                out = lognormal(5_000, 0.25, 2_500, 9_000)
            else:
                out = lognormal(900, 0.8, 60, 8_000)
            c1 = cw if self.ttl_1h else 0
            latency = int(900 + out * rng.uniform(12, 22) + (cr + cw) / 400)
            last = k == n - 1
            emit(t, self.arn, model, "InvokeModelWithResponseStream",
                 claude_code_in(task if k == 0 else "[tool result]", self.ttl_1h),
                 out_body=stream_out(response_model(base), rng.choice(REPLIES), "end_turn" if last else "tool_use",
                                     inp, out, cr, cw - c1, c1, latency, rng.randint(700, 2400)),
                 inp=inp, out=out, cr=cr, cw=cw, region=self.region)
            sent = t
            # The next turn: the model's reply and the tool results join the conversation.
            gap = timedelta(seconds=latency // 1000 + rng.randint(3, 60))
            if not last and rng.random() < 0.015:  # a break: a meeting, a review, a colleague
                gap += timedelta(minutes=rng.randint(2, 40))
            t += gap
            cached = ctx if t - sent < self.ttl else 0
            if compacting:
                ctx, compacting = self.system + out + lognormal(3_000, 0.5, 500, 15_000), False
                cached = min(cached, self.system)
            else:
                # Exploring (reading files, searching) adds more than the edits and test runs after it.
                grow = self.grow_median * (2 if k < n // 3 else 0.6)
                ctx += out + lognormal(grow, 0.9, 100, 50_000)
                compacting = ctx > window * 8 // 10  # Claude Code compacts the conversation near the window
                if compacting:
                    ctx = min(ctx, window * 9 // 10)


THROTTLED_RUNS = {(27, 1), (27, 3), (27, 4), (28, 0), (28, 2), (28, 5)}


def ci(day: date) -> None:
    """ci-deploy (GitHub Actions, OIDC): Sonnet 4.5 reviews every pull request; a nightly job
    summarises dependency updates. From Tuesday 2026-10-27 a change made the review step use Opus
    4.6 with the whole repository as context, and a retry loop re-ran it on every push, until the
    fix on Thursday 2026-10-29 at 15:00 UTC."""
    model = f"us.{SONNET45}"
    reviews = rng.randint(0, 1) if weekend(day) else rng.randint(2, 3)
    for _ in range(reviews):
        t = office_time(day, "us-east", 9.0, 19.0)
        inp, out = lognormal(48_000, 0.3, 15_000, 110_000), lognormal(1_500, 0.4, 300, 4_000)
        emit(t, f"{CI_ROLE}/gha-{rng.randint(11_400_000_000, 11_499_999_999)}", model, "InvokeModel",
             anthropic_in("Review this pull request diff for bugs and risky changes.", "You are a strict code reviewer."),
             out_body=anthropic_out(response_model(SONNET45), "2 findings: an unchecked unwrap and a missing test.", inp, out),
             inp=inp, out=out)
    # the nightly job, on weekdays
    if weekend(day):
        return
    t = datetime(day.year, day.month, day.day, 6, rng.randint(0, 20), rng.randint(0, 59), tzinfo=UTC)
    inp, out = lognormal(9_000, 0.3, 3_000, 20_000), lognormal(600, 0.3, 200, 1_500)
    emit(t, f"{CI_ROLE}/gha-{rng.randint(11_400_000_000, 11_499_999_999)}", model, "InvokeModel",
         anthropic_in("Summarise these dependency updates and flag breaking changes.", "You are a release engineer."),
         out_body=anthropic_out(response_model(SONNET45), "3 updates, none breaking.", inp, out), inp=inp, out=out)
    # the spike
    if day in (date(2026, 10, 27), date(2026, 10, 28), date(2026, 10, 29)):
        runs = {27: 6, 28: 6, 29: 4}[day.day]
        for run in range(runs):
            t = office_time(day, "us-east", 9.0, 11.0 if day.day == 29 else 19.0)
            session = f"{CI_ROLE}/gha-{rng.randint(11_400_000_000, 11_499_999_999)}"
            body = anthropic_in("Review this pull request against the whole repository.", "You are a strict code reviewer.")
            if (day.day, run) in THROTTLED_RUNS:  # over the account's Opus quota: retried
                emit(t, session, f"us.{OPUS46}", "InvokeModel", body, error="ThrottlingException")
                t += timedelta(seconds=rng.randint(2, 30))
            inp, out = lognormal(95_000, 0.25, 60_000, 160_000), lognormal(2_600, 0.3, 900, 6_000)
            emit(t, session, f"us.{OPUS46}", "InvokeModel", body,
                 out_body=anthropic_out(response_model(OPUS46), "Findings across 41 files: see inline comments.", inp, out), inp=inp, out=out)


SUPPORT_PROMPTS = ["Summarise this ticket thread and suggest a reply.", "Draft a polite refund answer.",
                   "Classify the customer's issue and its urgency.", "Translate the reply to German.",
                   "Which help-center article answers this question?"]
HELPDESK_SYSTEM = "You are Acme's support assistant. Knowledge base: [help-center articles elided]"


def gateway_request(t: datetime, user: str, team: str, app: str, model: str, region: str, stream: bool,
                    inp: int, out: int, cr: int = 0, cw: int = 0, error: str | None = None) -> None:
    session = f"{GATEWAY_ROLE}/litellm-{t.strftime('%m%d')}-{'a' if region == 'us-east-1' else 'e'}"
    system = HELPDESK_SYSTEM if app == "helpdesk" else "You are a helpful assistant."
    emit(t, session, model, "ConverseStream" if stream else "Converse",
         converse_in(rng.choice(SUPPORT_PROMPTS) if app == "helpdesk" else "Help me word this release note.",
                     system, cache_point=bool(cr or cw)),
         out_body=None if error else converse_out("Suggested reply: ...", "end_turn", int(600 + out * rng.uniform(6, 12)),
                                                  inp, out, cr, cw),
         inp=inp, out=out, cr=cr, cw=cw, error=error, account=SHARED, region=region,
         metadata={"user_id": f"{user}@example.com", "team": team, "app": app})


def support_agent(user: str, zone: str, region: str, geo: str, start_day: int = 1):
    def day(d: date) -> None:
        if d.day < start_day or weekend(d) or rng.random() > 0.6:
            return
        for _ in range(1 if rng.random() < 0.8 else 2):
            t = office_time(d, zone)
            if rng.random() < 0.1:  # escalations go to Sonnet
                model = f"global.{SONNET46}"
            else:
                model = f"{geo}.{HAIKU45}"
            cr = lognormal(8_000, 0.3, 3_000, 15_000)
            cw = 0 if rng.random() < 0.85 else rng.randint(2_000, 6_000)
            gateway_request(t, user, "support", "helpdesk", model, region, False,
                            lognormal(1_400, 0.35, 200, 6_000), lognormal(380, 0.35, 60, 1_500), cr, cw)
    return day


def sofia(d: date) -> None:
    """web team; uses the gateway's chat app for release notes and copy."""
    if weekend(d) or rng.random() > 0.35:
        return
    for _ in range(1):
        gateway_request(office_time(d, "us-east"), "sofia", "web", "chat", f"global.{SONNET46}", "us-east-1", True,
                        lognormal(2_000, 0.4, 300, 12_000), lognormal(500, 0.4, 100, 3_000))


def docs_assistant(d: date) -> None:
    """The public docs assistant (production, ECS task role) through its tagged application profile."""
    n = rng.randint(0, 1) if weekend(d) else rng.randint(1, 2)
    task = f"{DOCS_ROLE}/{hex_n(32)}"
    for _ in range(n):
        t = office_time(d, "us-east", 7.0, 21.0)
        inp, out = lognormal(2_600, 0.4, 800, 8_000), lognormal(280, 0.5, 40, 1_200)
        cr = lognormal(5_500, 0.1, 4_000, 7_000)
        emit(t, task, DOCS_PROFILE, "Converse",
             converse_in("How do I rotate an API key?", "Answer from the product documentation. [docs elided]", cache_point=True),
             out_body=converse_out("Open Settings > API keys, then ...", "end_turn", rng.randint(900, 3_500), inp, out, cr, 0),
             inp=inp, out=out, cr=cr, cw=0, account=SHARED)


CHEN_REJECTED: list[date] = []  # the day chen's too-long contract was refused, once


def chen(d: date) -> None:
    """data: extracts fields from long contracts in a notebook, us. Sonnet 4.5 from us-west-2."""
    if d == date(2026, 10, 14):  # tries the team's fine-tuned model once
        t = office_time(d, "us-west")
        emit(t, sso("chen", "DataScientist"), CUSTOM_MODEL, "InvokeModel",
             anthropic_in("Extract the renewal date.", "You extract contract fields."),
             out_body=anthropic_out("custom", "2027-03-31", 4_200, 40), inp=4_200, out=40, region="us-west-2")
    if weekend(d) or rng.random() > 0.4:
        return
    t = office_time(d, "us-west", 10.0, 16.0)
    for k in range(rng.randint(2, 4)):
        inp, out = lognormal(90_000, 0.4, 25_000, 185_000), lognormal(3_500, 0.4, 800, 8_000)
        body = converse_in("Extract parties, term, renewal and liability cap as JSON.\n[contract text elided]",
                           "You extract contract fields as JSON.", max_tokens=8192)
        if not CHEN_REJECTED and k == 0 and d >= date(2026, 10, 7):  # a contract over the context window
            CHEN_REJECTED.append(d)
            emit(t, sso("chen", "DataScientist"), f"us.{SONNET45}", "Converse", body, error="ValidationException",
                 region="us-west-2")
            t += timedelta(seconds=40)
        emit(t, sso("chen", "DataScientist"), f"us.{SONNET45}", "Converse", body,
             out_body=converse_out('{"parties": ["Acme", "Initech"], "term": "24 months"}', "end_turn",
                                   int(2_000 + out * 14 + inp / 60), inp, out),
             inp=inp, out=out, region="us-west-2")
        t += timedelta(seconds=rng.randint(60, 400))


def nova_classifier(arn: str, model: str, region: str, zone: str, p_day: float, batch: tuple[int, int]):
    def day(d: date) -> None:
        if weekend(d) or rng.random() > p_day:
            return
        t = office_time(d, zone)
        for _ in range(rng.randint(*batch)):
            inp, out = lognormal(4_000, 0.4, 800, 12_000), lognormal(120, 0.5, 10, 600)
            emit(t, arn, model, "Converse",
                 converse_in("Label each of these 40 search queries with an intent.", "You label search queries."),
                 out_body=converse_out('{"labels": ["navigational", "transactional"]}', "end_turn", rng.randint(400, 1_600), inp, out),
                 inp=inp, out=out, region=region)
            t += timedelta(seconds=rng.randint(2, 20))
    return day


def chatter(arn: str, model: str, zone: str, p_day: float, region: str = "us-east-1", median_in: int = 3_000):
    """Someone using the Bedrock console playground or a script now and then (ConverseStream)."""
    def day(d: date) -> None:
        if weekend(d) or rng.random() > p_day:
            return
        for _ in range(rng.randint(1, 2)):
            t = office_time(d, zone)
            inp, out = lognormal(median_in, 0.4, 200, 40_000), lognormal(600, 0.4, 50, 4_000)
            emit(t, arn, model, "ConverseStream", converse_in("Write a SQL query for weekly active users by plan."),
                 out_body=converse_out("SELECT date_trunc('week', ...) ...", "end_turn", int(500 + out * 10), inp, out),
                 inp=inp, out=out, region=region)
    return day


def oliver(d: date) -> None:
    """finance: summarises spreadsheets with Nova Pro; once tries Opus, which his role may not use."""
    if weekend(d) or d.weekday() not in (0, 2, 3) or rng.random() > 0.8:
        return
    arn = sso("oliver", "FinanceAnalyst")
    for _ in range(rng.randint(1, 2)):
        inp, out = lognormal(9_000, 0.4, 1_500, 30_000), lognormal(700, 0.4, 100, 2_500)
        emit(office_time(d, "us-east"), arn, NOVAPRO, "Converse",
             converse_in("Summarise the variance by cost center in this CSV:\n[csv elided]"),
             out_body=converse_out("Cloud spend is 8% over plan, driven by ...", "end_turn", rng.randint(1_500, 6_000), inp, out),
             inp=inp, out=out)


def etl_nightly(d: date) -> None:
    """data: an IAM user with access keys, a nightly job at 02:10 UTC enriching product records."""
    t = datetime(d.year, d.month, d.day, 2, 10, rng.randint(0, 59), tzinfo=UTC)
    for _ in range(1 if rng.random() < 0.8 else 2):
        inp, out = lognormal(14_000, 0.3, 5_000, 30_000), lognormal(1_200, 0.3, 400, 3_000)
        emit(t, ETL_USER, NOVAPRO, "InvokeModel",
             nova_in("Normalise these 200 product records.\n[records elided]", "You clean product catalog data."),
             out_body=nova_out('[{"sku": "A-100", "category": "Outdoor"}]', inp, out), inp=inp, out=out, region="us-west-2")
        t += timedelta(seconds=rng.randint(20, 90))


def api_key_script(d: date) -> None:
    """Someone's long-term Bedrock API key in a script; nobody has claimed it."""
    if d.weekday() not in (1, 3) or rng.random() > 0.6:
        return
    for _ in range(1):
        inp, out = lognormal(1_500, 0.5, 200, 6_000), lognormal(250, 0.5, 30, 1_000)
        emit(office_time(d, "us-east"), API_KEY_USER, HAIKU45, "Converse", converse_in("Tag this changelog entry."),
             out_body=converse_out("feature", "end_turn", rng.randint(300, 1_200), inp, out), inp=inp, out=out)


def sagemaker_notebook(d: date) -> None:
    """A SageMaker notebook's execution role; no rule in teams.csv names it."""
    if weekend(d) or d.day < 12 or rng.random() > 0.4:
        return
    t = office_time(d, "us-west")
    for _ in range(rng.randint(2, 4)):
        inp, out = lognormal(2_500, 0.4, 500, 8_000), lognormal(200, 0.4, 20, 800)
        emit(t, SAGEMAKER, f"global.{NOVA2LITE}", "Converse", converse_in("Summarise this customer review in one line."),
             out_body=converse_out("Loves the product, shipping was slow.", "end_turn", rng.randint(300, 900), inp, out),
             inp=inp, out=out, region="us-west-2")
        t += timedelta(seconds=rng.randint(1, 8))


def incidental_errors() -> None:
    """A throttled stream, a gateway 503, a request with an invalid parameter and one for a model
    the finance role may not use."""
    emit(datetime(2026, 10, 21, 14, 12, 5, tzinfo=UTC), sso("oliver", "FinanceAnalyst"), f"global.{OPUS46}", "Converse",
         converse_in("Reconcile these two invoices."), error="AccessDeniedException")
    emit(datetime(2026, 10, 9, 19, 27, 50, tzinfo=UTC), sso("sam"), f"global.{SONNET46}", "InvokeModelWithResponseStream",
         claude_code_in("Upgrade the Terraform AWS provider to v6", False), error="ThrottlingException")
    emit(datetime(2026, 10, 13, 18, 2, 41, tzinfo=UTC), sso("alex"), f"global.{SONNET46}", "InvokeModelWithResponseStream",
         claude_code_in("Add a dark-mode toggle to the settings page", False), error="ThrottlingException")
    gateway_request(datetime(2026, 10, 20, 15, 31, 7, tzinfo=UTC), "kwame", "support", "helpdesk", f"us.{HAIKU45}",
                    "us-east-1", False, 0, 0, error="ServiceUnavailableException")
    emit(datetime(2026, 10, 6, 20, 44, 12, tzinfo=UTC), sso("diego"), f"us.{NOVAPRO}", "ConverseStream",
         converse_in("Describe this screenshot.", max_tokens=20_000), error="ValidationException")


# p_day: the share of weekdays with a session; open_median: the first turn's tokens beyond the
# system prompt (the task, CLAUDE.md, the files read up front); grow_median: the median tokens
# a turn's tool results add (twice that in the first third of a session, 0.6 of it later).
CODERS = [
    # search
    Coder(sso("priya"), "us-east", f"global.{OPUS46}", p_day=0.55, open_median=55_000, grow_median=4_500),
    Coder(sso("tom"), "us-east", f"us.{OPUS47}", p_day=0.3, open_median=40_000, grow_median=3_500),
    Coder(sso("lena"), "us-east", f"global.{SONNET46}", p_day=0.3, open_median=40_000, grow_median=4_000,
          switch=(date(2026, 10, 15), f"global.{SONNET5}")),
    Coder(sso("omar"), "us-east", f"us.{SONNET45}", p_day=0.25, open_median=20_000, grow_median=2_500, ttl_1h=True),
    # platform
    Coder(sso("sam"), "us-east", f"global.{SONNET46}", p_day=0.35, open_median=40_000, grow_median=4_000),
    Coder(sso("ines", "AdministratorAccess"), "us-east", f"global.{OPUS46}", p_day=0.2, open_median=35_000, grow_median=3_500),
    Coder(sso("mateo"), "us-east", f"global.{OPUS46}", p_day=0.5, open_median=55_000, grow_median=4_500),
    Coder(sso("arjun"), "us-east", f"us.{SONNET45}", p_day=0.2, open_median=18_000, grow_median=2_500),
    # data
    Coder(sso("raj", "DataScientist"), "us-west", f"us.{SONNET45}", p_day=0.25, open_median=20_000, grow_median=2_500, region="us-west-2"),
    # web
    Coder(sso("alex"), "us-east", f"global.{SONNET46}", p_day=0.45, open_median=45_000, grow_median=4_500, ttl_1h=True),
    Coder(sso("ben"), "us-east", f"global.{SONNET46}", p_day=0.25, open_median=35_000, grow_median=3_500),
    Coder(sso("hana"), "us-east", f"us.{SONNET45}", p_day=0.25, open_median=16_000, grow_median=2_500, start_day=8),
]

DAILY = [c.day for c in CODERS] + [
    ci,
    support_agent("maria", "us-east", "us-east-1", "us"),
    support_agent("kwame", "us-east", "us-east-1", "us"),
    support_agent("aisha", "us-east", "us-east-1", "us"),
    support_agent("elena", "europe", "eu-west-1", "eu"),
    support_agent("jonas", "europe", "eu-west-1", "eu"),
    support_agent("noah", "us-east", "us-east-1", "us", start_day=19),  # new hire, not in teams.csv yet
    sofia,
    docs_assistant,
    chen,
    nova_classifier(sso("nina", "DataScientist"), f"global.{NOVA2LITE}", "us-west-2", "us-west", 0.3, (2, 4)),
    nova_classifier(sso("yuki"), f"us.{NOVA2LITE}", "us-east-1", "us-east", 0.2, (2, 3)),
    chatter(sso("fatima", "DataScientist"), f"global.{SONNET46}", "us-west", 0.35, region="us-west-2"),
    chatter(sso("grace"), f"global.{SONNET46}", "us-east", 0.22),
    chatter(sso("diego"), f"us.{NOVAPRO}", "us-east", 0.2, median_in=1_500),
    oliver,
    etl_nightly,
    api_key_script,
    sagemaker_notebook,
]


# --------------------------------------------------------------------------- writing


def main() -> None:
    for d in DAYS:
        for actor in DAILY:
            actor(d)
    incidental_errors()

    # Late-afternoon Pacific time on the 31st is already November in UTC: that belongs to
    # November's logs, not to this month's.
    end = datetime(2026, 11, 1, tzinfo=UTC)
    RECORDS[:] = [r for r in RECORDS if r[2] < end]

    if LOGS.exists():
        shutil.rmtree(LOGS)
    objects: dict[tuple[str, str, str], list[tuple[datetime, str]]] = defaultdict(list)
    for account, region, ts, line in RECORDS:
        objects[(account, region, ts.strftime("%Y/%m/%d/%H"))].append((ts, line))
    total = 0
    for (account, region, hour), recs in sorted(objects.items()):
        recs.sort(key=lambda r: r[0])
        last = recs[-1][0]
        hour_end = last.replace(minute=59, second=59)
        stamp = min(last + timedelta(seconds=rng.randint(30, 300)), hour_end)
        name = f"{stamp.strftime('%Y%m%dT%H%M%S')}{rng.randint(0, 999):03d}Z_{hex_n(16)}.json.gz"
        path = LOGS / "AWSLogs" / account / "BedrockModelInvocationLogs" / region / hour / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = gzip.compress(("\n".join(line for _, line in recs) + "\n").encode("utf-8"), compresslevel=9, mtime=0)
        path.write_bytes(data)
        total += len(data)
    for account in (ENG, SHARED):  # Bedrock writes this marker when logging is set up
        (LOGS / "AWSLogs" / account / "BedrockModelInvocationLogs" / "amazon-bedrock-logs-permission-check").write_bytes(b"")

    with open(HERE / "profiles.csv", "w", encoding="utf-8", newline="") as f:
        f.write("arn,model_id,team,cost_center\n")
        f.write(f"{DOCS_PROFILE},{DOCS_PROFILE_TARGET},web,CC-400\n")

    print(f"wrote {len(RECORDS)} records in {len(objects)} objects, {total} bytes, under {LOGS}")


if __name__ == "__main__":
    main()
