#!/usr/bin/env python3
"""Generate a realistic, body-heavy corpus of Amazon Bedrock model-invocation logs.

    python3 benches/gen_corpus.py --out DIR [--objects N] [--seed S] [--target-mb M] [--jobs J]

Writes DIR/ (the corpus), DIR.profiles.csv (application-inference-profile ARN -> model id) and
DIR.stats.json (byte counts per delivery shape, plus ground-truth totals per month).

What is in the corpus (README.md, "What it reads", describes the shapes):
  bedrock-logs/AWSLogs/<acct>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/<ts>Z_<hex>.json.gz
        native S3 delivery, gzip JSON lines (accounts 1, 2 and a GovCloud account 5)
  .../HH/data/<requestId>_input.json.gz        offloaded bodies (not records)
  .../amazon-bedrock-logs-permission-check     zero-byte markers
  exportedlogs/<taskId>/aws/bedrock/modelinvocations/000000.gz   CloudWatch export tasks for
        account 2, which also delivers to S3: every exported request is a duplicate
  exportedlogs/aws-logs-write-test             noise
  firehose/bedrock-invocations/YYYY/MM/DD/HH/<stream>-1-<date>-<uuid>   account 3 via a
        subscription filter: several gzip members back to back, no extension
  cli/<acct>/*.json                            `aws logs filter-log-events` / `get-log-events`
        pages (account 4, plus one day of account 2: more duplicates)

Every request is generated from (seed, request index) alone, so a request delivered twice is
byte-identical in both places and the output does not depend on --jobs. Python stdlib only.
"""

import argparse
import bisect
import gzip
import json
import math
import multiprocessing as mp
import os
import random
import sys
import time
import uuid
from datetime import datetime, timezone

UTC = timezone.utc
T0 = int(datetime(2026, 8, 1, tzinfo=UTC).timestamp())
T1 = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
MONTH_ENDS = [int(datetime(2026, m, 1, tzinfo=UTC).timestamp()) for m in (9, 10, 11)]
PERMISSIONS_MSG = "Permissions are correctly set for Amazon Bedrock logs."
LOG_GROUP = "/aws/bedrock/modelinvocations"
LOG_STREAM = "aws/bedrock/modelinvocations"
OFFLOAD_LIMIT = 100 * 1024

# --------------------------------------------------------------------------------------------
# Accounts, identities, models

ACCOUNTS = [
    # share of sessions, delivery, regions (weight), hour profile, key order, ASCII escaping
    dict(id="111122223333", part="aws", share=0.52, delivery="s3", prefix="bedrock-logs",
         regions=[("us-east-1", 6), ("us-west-2", 2), ("ap-northeast-1", 1), ("ap-southeast-2", 1),
                  ("ca-central-1", 1)], hours="us", schema_first=True, ascii=False,
         products=[("agent-cli", 10), ("ide-agent", 4), ("review-bot", 2), ("chat-gateway", 3),
                   ("embedder", 2), ("notebook", 1)]),
    dict(id="444455556666", part="aws", share=0.22, delivery="s3+cw", prefix="org-logs/bedrock",
         regions=[("eu-central-1", 3), ("eu-west-1", 2), ("us-east-1", 1)], hours="eu",
         schema_first=False, ascii=False,
         products=[("agent-cli", 4), ("ide-agent", 3), ("chat-gateway", 3), ("notebook", 1)]),
    dict(id="777788889999", part="aws", share=0.17, delivery="firehose", prefix="bedrock-large",
         regions=[("us-west-2", 1)], hours="flat", schema_first=True, ascii=True,
         products=[("review-bot", 3), ("chat-gateway", 4), ("embedder", 3), ("agent-cli", 2)]),
    dict(id="123456789012", part="aws", share=0.05, delivery="cli", prefix="bedrock-large",
         regions=[("us-east-1", 1)], hours="us", schema_first=False, ascii=False,
         products=[("agent-cli", 2), ("notebook", 1)]),
    dict(id="210987654321", part="aws-us-gov", share=0.04, delivery="s3", prefix="bedrock-logs",
         regions=[("us-gov-west-1", 1)], hours="us", schema_first=True, ascii=False,
         products=[("agent-cli", 2), ("notebook", 1)]),
]

GEO = {"us-east-1": "us", "us-west-2": "us", "eu-central-1": "eu", "eu-west-1": "eu",
       "ap-northeast-1": "jp", "ap-southeast-2": "au", "ca-central-1": "ca", "us-gov-west-1": "us-gov"}
GEO_REGIONS = {
    "us": ["us-east-1", "us-east-2", "us-west-2"], "eu": ["eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1"],
    "apac": ["ap-northeast-1", "ap-southeast-1", "ap-southeast-2", "ap-south-1"],
    "jp": ["ap-northeast-1", "ap-northeast-3"], "au": ["ap-southeast-2", "ap-southeast-4"],
    "ca": ["ca-central-1", "ca-west-1"], "us-gov": ["us-gov-west-1", "us-gov-east-1"],
    "global": ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1",
               "ap-southeast-2", "sa-east-1"],
}

MODELS = {
    "sonnet45": "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "opus45": "anthropic.claude-opus-4-5-20251101-v1:0",
    "opus46": "anthropic.claude-opus-4-6-v1",
    "haiku45": "anthropic.claude-haiku-4-5-20251001-v1:0",
    "opus41": "anthropic.claude-opus-4-1-20250805-v1:0",
    "sonnet4": "anthropic.claude-sonnet-4-20250514-v1:0",
    "sonnet37": "anthropic.claude-3-7-sonnet-20250219-v1:0",
    "haiku35": "anthropic.claude-3-5-haiku-20241022-v1:0",
    "novapro": "amazon.nova-pro-v1:0",
    "novalite": "amazon.nova-lite-v1:0",
    "novamicro": "amazon.nova-micro-v1:0",
    "llama33": "meta.llama3-3-70b-instruct-v1:0",
    "mistral": "mistral.mistral-large-2407-v1:0",
    "titanemb": "amazon.titan-embed-text-v2:0",
}

# Application inference profiles: (account, region, opaque id) -> model id written to profiles.csv.
# The last one is deliberately missing from profiles.csv (a deleted profile): it stays unresolved.
APP_PROFILES = {
    "sonnet45": [("111122223333", "us-east-1", "9x2k4hq7c1vb", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
                 ("444455556666", "eu-central-1", "p4j7s2n9e6qa", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0")],
    "haiku45": [("111122223333", "us-east-1", "3m8p0z5tlw2d", "anthropic.claude-haiku-4-5-20251001-v1:0")],
    "sonnet37": [("777788889999", "us-west-2", "h1c5r8u3y0fk", "anthropic.claude-3-7-sonnet-20250219-v1:0")],
    "sonnet4": [("111122223333", "us-east-1", "zq0deleted99", None)],
}

# op, body style, caching, system size (chars), tools, mean turns, history budget (KB) before the
# agent compacts its context, models
PRODUCTS = {
    "agent-cli": dict(op=[("InvokeModelWithResponseStream", 1)], style="anthropic", cache="1h-sys",
                      sys=13000, tools=16, turns=30, budget=(15, 55), side=0.18,
                      models=[("sonnet45", "geo", 6), ("sonnet45", "global", 3), ("opus45", "global", 2),
                              ("opus46", "global", 1), ("sonnet45", "aip", 1), ("sonnet45", "ip_arn", 1)]),
    "ide-agent": dict(op=[("ConverseStream", 9), ("Converse", 1)], style="converse", cache="5m",
                      sys=8000, tools=11, turns=18, budget=(15, 50), side=0.0,
                      models=[("sonnet4", "ip_arn", 3), ("sonnet37", "geo", 2), ("sonnet45", "aip", 2),
                              ("haiku45", "geo", 1), ("sonnet4", "aip", 0.15), ("sonnet37", "aip", 0.5)]),
    "review-bot": dict(op=[("InvokeModel", 1)], style="anthropic", cache="1h-all",
                       sys=3500, tools=0, turns=2, budget=(20, 90), side=0.0,
                       models=[("opus41", "fm_arn", 2), ("sonnet45", "ip_arn", 3), ("sonnet45", "global", 2),
                               ("sonnet37", "aip", 1)]),
    "chat-gateway": dict(op=[("Converse", 3), ("ConverseStream", 1)], style="converse", cache=None,
                         sys=1500, tools=0, turns=4, budget=(6, 20), side=0.0,
                         models=[("novapro", "base", 3), ("novalite", "geo", 2), ("novamicro", "base", 1),
                                 ("llama33", "geo", 1), ("mistral", "base", 1), ("haiku35", "fm_arn", 1),
                                 ("haiku45", "base", 1)]),
    "embedder": dict(op=[("InvokeModel", 1)], style="titan", cache=None, sys=0, tools=0, turns=1,
                     budget=(8, 8), side=0.0, models=[("titanemb", "base", 1)]),
    "notebook": dict(op=[("InvokeModel", 3), ("Converse", 1)], style="anthropic", cache="5m",
                     sys=2000, tools=0, turns=5, budget=(10, 50), side=0.0,
                     models=[("sonnet45", "geo", 2), ("sonnet37", "fm_arn", 1), ("opus41", "base", 1),
                             ("haiku45", "base", 1)]),
}

FIRST = ("jane john maria wei aisha carlos yuki olga pierre fatima liam sofia noah mia lucas emma "
         "mateo chloe arjun priya kenji hana omar lea jonas ines tomas nora ravi sara").split()
LAST = ("doe smith garcia chen khan silva tanaka ivanova dubois haddad murphy rossi berg meyer "
        "novak kowalski nakamura sato okafor jensen lopez moreau patel kim").split()


def uid_hex(rng, n):
    return "%0*x" % (n, rng.getrandbits(4 * n))


def alnum(rng, n, chars="abcdefghijklmnopqrstuvwxyz0123456789"):
    return "".join(rng.choice(chars) for _ in range(n))


def build_identities(acct, rng):
    """Identity generators per kind. Each is a function(rng) -> (arn, requestMetadata or None)."""
    a, p = acct["id"], acct["part"]
    n = max(3, int(acct["share"] * 70))
    people = [(rng.choice(FIRST), rng.choice(LAST)) for _ in range(n)]
    sets = {s: uid_hex(rng, 16) for s in ("Developer", "DataScience", "AdministratorAccess")}

    def fixed(arn):
        return lambda r: (arn, None)

    humans = []
    for i, (f, l) in enumerate(people):
        email = f"{f}.{l}{i if i >= len(FIRST) else ''}@example.com"
        kind = i % 7
        if kind in (0, 1, 2, 3):
            s = "Developer" if kind != 3 else rng.choice(["DataScience", "AdministratorAccess"])
            humans.append(fixed(f"arn:{p}:sts::{a}:assumed-role/AWSReservedSSO_{s}_{sets[s]}/{email}"))
        elif kind == 4:
            humans.append(fixed(f"arn:{p}:iam::{a}:user/BedrockAPIKey-{alnum(rng, 4)}"))
        elif kind == 5:
            path = rng.choice(["", "engineering/", "contractors/eu/"])
            humans.append(fixed(f"arn:{p}:iam::{a}:user/{path}{f}.{l}"))
        else:
            humans.append(fixed(f"arn:{p}:sts::{a}:federated-user/{f}-{l}"))
    analysts = humans[::3] + [fixed(f"arn:{p}:sts::{a}:federated-user/analyst-{alnum(rng, 5)}"),
                              fixed(f"arn:{p}:iam::{a}:root")]

    def botocore(r):
        return (f"arn:{p}:sts::{a}:assumed-role/ci-code-review/botocore-session-{r.randrange(1690000000, 1790000000)}", None)

    def gha(r):
        return (f"arn:{p}:sts::{a}:assumed-role/GitHubActions-bedrock-review/GitHubActions", None)

    def gateway(r):
        f, l = r.choice(people)
        meta = {"user_id": f"{f}.{l}@example.com", "team": r.choice(["payments", "search", "support", "platform"]),
                "app": "chat-portal"}
        return (f"arn:{p}:sts::{a}:assumed-role/llm-gateway-task-role/{uid_hex(r, 32)}", meta)

    def lam(r):
        return (f"arn:{p}:sts::{a}:assumed-role/doc-indexer-lambda-role/doc-indexer-{r.choice(['prod', 'staging'])}", None)

    return {"agent-cli": humans, "ide-agent": humans, "review-bot": [botocore, botocore, gha],
            "chat-gateway": [gateway], "embedder": [lam], "notebook": analysts}


def model_id(rng, key, form, acct, region):
    """Return (modelId as the caller passed it, inferenceRegion or None)."""
    base, p, a = MODELS[key], acct["part"], acct["id"]
    geo = GEO[region]
    if form == "global" and p != "aws":
        form = "geo"
    if form == "aip":
        cands = [x for x in APP_PROFILES.get(key, []) if x[0] == a]
        if cands:
            _, reg, pid, _ = rng.choice(cands)
            return f"arn:{p}:bedrock:{reg}:{a}:application-inference-profile/{pid}", rng.choice(GEO_REGIONS[GEO[reg]])
        form = "geo"
    if form == "base" or (form == "geo" and key in ("mistral", "titanemb", "novamicro")):
        return base, None
    if form == "fm_arn":
        return f"arn:{p}:bedrock:{region}::foundation-model/{base}", None
    if form == "geo" and geo in ("jp", "au") and rng.random() < 0.4:
        geo = "apac"
    if form == "global":
        geo = "global"
    prof = f"{geo}.{base}"
    inf = rng.choice(GEO_REGIONS[geo])
    if form == "ip_arn":
        return f"arn:{p}:bedrock:{region}:{a}:inference-profile/{prof}", inf
    return prof, inf


# --------------------------------------------------------------------------------------------
# Text pools: big strings of generated prose and code, sliced at line boundaries. Slicing keeps
# per-record cost low while no two records carry the same text.

WORDS = ("the a of to and in is for that with on as this be it by are from or at an not file "
         "function test error value return config build request response token cache model user "
         "data table query parser decoder stream buffer record field schema type string number "
         "array object map list index key path module crate package import export class struct enum "
         "trait impl async await future result option panic unwrap iterator vector slice byte "
         "line column offset length size limit timeout retry backoff region account identity role "
         "session profile invocation latency throughput parquet arrow batch partition month cost "
         "price input output write read open close commit branch merge rebase diff patch review "
         "should must could would will can may need want make use add remove update fix change "
         "check run call pass fail handle parse decode encode compress skip keep move copy sort "
         "first last next previous new old small large fast slow simple complex correct wrong "
         "because when if then else while after before since until unless however therefore also "
         "only just still already again always never often sometimes usually here there where which "
         "case example issue problem approach solution step plan reason detail note warning").split()
UNICODE_WORDS = ["naïve", "café", "über", "→", "—", "déjà vu", "日本語", "テスト", "données", "✓", "🙂",
                 "straße", "Ω", "résumé", "✅", "⚠️", "中文", "переменная", "…", "“quoted”"]
IDENT = ("user account token cache batch record stream parser reader writer client config state index "
         "entry item node span frame chunk page event metric price model region month cost total").split()
TYPES = ("Record Invocation Decoder Parser Config Error Stream Batch Writer Reader Schema Client "
         "Identity Profile PriceBook Sink Source Frame Chunk").split()
COMMENTS = ["TODO: handle the empty case", "keep the order stable", "see issue #412",
            "this is O(n) but n is small", "the API returns \"null\" here, not an empty list",
            "FIXME: don't unwrap", "matches the AWS docs → §3.2", "escape backslashes: C:\\temp\\x",
            "naïve implementation, revisit", "retry with exponential backoff", "tab\tseparated",
            "bytes, not chars", "cache hit ratio ~ 97%"]


def _ident(r):
    return "_".join(r.choice(IDENT) for _ in range(r.randint(1, 3)))


def _camel(r):
    return "".join(r.choice(TYPES) for _ in range(r.randint(1, 2)))


# Zipf-like word frequencies, as in real English: common words repeat, which gzip exploits.
WORD_CUM = []
for _k in range(len(WORDS)):
    WORD_CUM.append((WORD_CUM[-1] if WORD_CUM else 0) + 1 / (_k + 8))


def _sentence(r):
    n = r.randint(5, 22)
    ws = r.choices(WORDS, cum_weights=WORD_CUM, k=n)
    if r.random() < 0.18:
        ws[r.randrange(n)] = f"`{_ident(r)}()`"
    if r.random() < 0.08:
        ws[r.randrange(n)] = r.choice(UNICODE_WORDS)
    if r.random() < 0.05:
        ws[r.randrange(n)] = f'"{r.choice(WORDS)} {r.choice(WORDS)}"'
    s = " ".join(ws)
    return s[0].upper() + s[1:] + r.choice([".", ".", ".", "?", ":", "!"])


def _prose_line(r):
    k = r.random()
    if k < 0.2:
        return "- " + _sentence(r)
    if k < 0.25:
        return "## " + _sentence(r)[:40]
    return " ".join(_sentence(r) for _ in range(r.randint(1, 5)))


RUST = [
    lambda r: f"use std::{r.choice(['io', 'fs', 'sync', 'collections'])}::{{{_camel(r)}, {_camel(r)}}};",
    lambda r: f"pub fn {_ident(r)}(&self, {_ident(r)}: &{_camel(r)}) -> Result<{_camel(r)}, {_camel(r)}Error> {{",
    lambda r: f"    let {_ident(r)} = {_ident(r)}.{_ident(r)}()?;",
    lambda r: f"    if {_ident(r)}.is_empty() {{ return Err(Error::Empty(\"{r.choice(WORDS)} {r.choice(WORDS)}\".into())); }}",
    lambda r: f"    for (i, {_ident(r)}) in {_ident(r)}s.iter().enumerate() {{",
    lambda r: f"        println!(\"{{}}: {{:?}}\\n\", i, {_ident(r)});",
    lambda r: "    }",
    lambda r: "}",
    lambda r: f"    // {r.choice(COMMENTS)}",
    lambda r: f"    let re = Regex::new(r\"^(\\d{{4}})-(\\d{{2}})-{r.choice(WORDS)}$\")?;",
    lambda r: "#[derive(Debug, Clone, PartialEq, Eq)]",
    lambda r: f"struct {_camel(r)} {{ {_ident(r)}: u64, {_ident(r)}: String, {_ident(r)}: Option<i64> }}",
    lambda r: f"    assert_eq!({_ident(r)}, \"{r.choice(WORDS)}\\t{r.randint(0, 9999)}\");",
    lambda r: f"        .map(|x| x.{_ident(r)} * {r.randint(2, 1000)})",
    lambda r: "",
]
PYTHON = [
    lambda r: f"def {_ident(r)}({_ident(r)}, {_ident(r)}=None):",
    lambda r: f"    \"\"\"{_sentence(r)}\"\"\"",
    lambda r: f"    with open(f\"{{base}}/{r.choice(WORDS)}.json\", \"r\", encoding=\"utf-8\") as fh:",
    lambda r: "        data = json.load(fh)",
    lambda r: f"    return [x for x in {_ident(r)} if x.get('{r.choice(IDENT)}') != \"{r.choice(WORDS)}\"]",
    lambda r: f"    print(f'{{{_ident(r)}!r}} → {{{_ident(r)}}}')",
    lambda r: f"class {_camel(r)}({_camel(r)}):",
    lambda r: f"    path = r\"C:\\Users\\{r.choice(FIRST)}\\{r.choice(WORDS)}\"",
    lambda r: f"    # {r.choice(COMMENTS)}",
    lambda r: f"    {_ident(r)} = {{'{r.choice(IDENT)}': {r.randint(0, 10**6)}, \"{r.choice(IDENT)}\": [1, 2, 3]}}",
    lambda r: "",
]
TS = [
    lambda r: f"export async function {_ident(r)}({_ident(r)}: {_camel(r)}): Promise<{_camel(r)}> {{",
    lambda r: f"  const {_ident(r)} = await fetch(`${{base}}/{r.choice(WORDS)}?q=${{encodeURIComponent(q)}}`);",
    lambda r: f"  if (!res.ok) throw new Error(`{r.choice(COMMENTS)}: ${{res.status}}`);",
    lambda r: f"import {{ {_camel(r)}, {_camel(r)} }} from \"./{_ident(r)}\";",
    lambda r: "}",
    lambda r: f"  // {r.choice(COMMENTS)}",
    lambda r: f"  return {{ ...{_ident(r)}, {_ident(r)}: '{r.choice(WORDS)}' }};",
]
SHELL = [
    lambda r: f"   Compiling {_ident(r)} v0.{r.randint(0, 40)}.{r.randint(0, 9)} (/home/dev/work/{r.choice(IDENT)})",
    lambda r: f"error[E0{r.randint(200, 799)}]: mismatched types",
    lambda r: f"  --> src/{_ident(r)}.rs:{r.randint(1, 900)}:{r.randint(1, 80)}",
    lambda r: f"test {_ident(r)}::{_ident(r)} ... {r.choice(['ok', 'ok', 'ok', 'FAILED', 'ignored'])}",
    lambda r: f"test result: ok. {r.randint(1, 300)} passed; 0 failed; 0 ignored; finished in {r.random():.2f}s",
    lambda r: f"npm WARN deprecated {_ident(r)}@{r.randint(1, 9)}.{r.randint(0, 20)}.0: {r.choice(COMMENTS)}",
    lambda r: f" M src/{_ident(r)}.rs",
    lambda r: f"{r.randint(0, 9)}{uid_hex(r, 6)} {_sentence(r)[:60]}",
    lambda r: f"  File \"/usr/lib/python3.11/{r.choice(WORDS)}.py\", line {r.randint(1, 999)}, in {_ident(r)}",
    lambda r: f"{r.choice(['WARNING', 'INFO', 'ERROR'])} {r.choice(WORDS)}: \"{_sentence(r)[:50]}\"",
]


class Pool:
    """A long text made of generated lines; `take` returns a slice of about n characters."""

    def __init__(self, rng, gen, chars):
        lines, total = [], 0
        while total < chars:
            ln = gen(rng)
            lines.append(ln)
            total += len(ln) + 1
        self.text = "\n".join(lines)
        self.starts = [0]
        for ln in lines[:-1]:
            self.starts.append(self.starts[-1] + len(ln) + 1)

    def take(self, rng, n):
        n = max(1, int(n))
        if n >= len(self.text) - 1:
            return self.text
        i = rng.randrange(len(self.starts))
        a = self.starts[i]
        if a + n > len(self.text):
            a = self.starts[bisect.bisect_left(self.starts, len(self.text) - n) - 1]
        j = bisect.bisect_left(self.starts, a + n)
        b = self.starts[j] - 1 if j < len(self.starts) else len(self.text)
        return self.text[a:max(b, a + 1)]


POOLS = {}
SYSTEMS = {}
TOOLS = {}
SEED = 0


def build_pools(seed, scale):
    global SEED
    SEED = seed
    r = random.Random(seed * 7919 + 1)
    POOLS["prose"] = Pool(r, _prose_line, 1_500_000 * scale)
    for name, tmpl in (("rust", RUST), ("python", PYTHON), ("ts", TS), ("shell", SHELL)):
        POOLS[name] = Pool(r, lambda rr, t=tmpl: rr.choice(t)(rr), 900_000 * scale)
    tool_names = {
        "agent-cli": ["Read", "Bash", "Edit", "Write", "Grep", "Glob", "TodoWrite", "WebFetch", "Task",
                      "MultiEdit", "NotebookEdit", "LS", "WebSearch", "ExitPlanMode", "BashOutput", "KillShell"],
        "ide-agent": ["read_file", "execute_command", "replace_in_file", "write_to_file", "search_files",
                      "list_files", "list_code_definition_names", "browser_action", "ask_followup_question",
                      "attempt_completion", "use_mcp_tool"],
    }
    for prod, spec in PRODUCTS.items():
        if spec["sys"]:
            head = {"agent-cli": "You are an interactive CLI tool that helps users with software engineering tasks.",
                    "ide-agent": "You are a highly skilled software engineer with extensive knowledge in many languages.",
                    "review-bot": "You review pull requests. Be concise; flag bugs, not style.",
                    "chat-gateway": "You are a helpful assistant for ACME employees. Answer in the user's language.",
                    "notebook": "You are a data analysis assistant working in a Jupyter notebook."}[prod]
            SYSTEMS[prod] = head + "\n\n" + POOLS["prose"].take(r, spec["sys"]) + \
                "\n<env>\nWorking directory: /home/dev/work/app\nPlatform: linux\nToday's date: 2026-08-01\n</env>"
        tools = []
        for name in tool_names.get(prod, [])[:spec["tools"]]:
            props = {_ident(r): {"type": r.choice(["string", "integer", "boolean", "array"]),
                                 "description": POOLS["prose"].take(r, r.randint(40, 300))}
                     for _ in range(r.randint(2, 7))}
            schema = {"type": "object", "properties": props, "required": list(props)[:2],
                      "additionalProperties": False, "$schema": "http://json-schema.org/draft-07/schema#"}
            tools.append((name, POOLS["prose"].take(r, r.randint(300, 2200)), schema))
        TOOLS[prod] = tools


# --------------------------------------------------------------------------------------------
# Conversations. Message j of a session is a pure function of (seed, session, j), so successive
# requests of one session share their history, as real agent traffic does.

def lognorm(r, median, sigma, lo, hi):
    return int(min(hi, max(lo, median * math.exp(r.gauss(0, sigma)))))


def msg_rng(sess, j):
    return random.Random((SEED << 52) ^ (sess << 14) ^ j)


def msg_plan(sess, j, product):
    """(kind, size in chars, rng for the content) of message j (even: user, odd: assistant)."""
    r = msg_rng(sess, j)
    if product in ("agent-cli", "ide-agent"):
        if j == 0:
            if r.random() < 0.12:
                return "task_ctx", lognorm(r, 7000, 0.8, 1000, 30000), r
            return "task", lognorm(r, 500, 0.9, 40, 6000), r
        if j % 2:
            return "assist_tool", lognorm(r, 1400, 1.0, 60, 12000), r
        if r.random() < 0.85:
            return "tool_result", lognorm(r, 1800, 1.1, 40, 30000), r
        return "user", lognorm(r, 150, 1.0, 10, 2000), r
    if product == "review-bot":
        if j == 0:
            return "diff", lognorm(r, 16000, 0.7, 1500, 70000), r
        return ("assist", lognorm(r, 1800, 0.6, 200, 6000), r) if j % 2 else ("user", lognorm(r, 200, 0.8, 20, 2000), r)
    if product == "notebook":
        if j == 0:
            return "task_ctx", lognorm(r, 3000, 0.8, 300, 20000), r
        return ("assist_code", lognorm(r, 1500, 0.8, 100, 8000), r) if j % 2 else ("user", lognorm(r, 250, 1.0, 10, 3000), r)
    if product == "embedder":
        return "chunk", lognorm(r, 1200, 0.6, 100, 8000), r
    # chat-gateway
    if j == 0:
        return "task", lognorm(r, 400, 1.0, 20, 4000), r
    return ("assist", lognorm(r, 900, 0.8, 40, 5000), r) if j % 2 else ("user", lognorm(r, 200, 1.0, 5, 3000), r)


def code(r, n):
    return POOLS[r.choice(["rust", "rust", "python", "ts"])].take(r, n)


def cat_n(r, n):
    first = r.randint(1, 400)
    return "\n".join(f"{i:>6}→{ln}" for i, ln in enumerate(code(r, n * 0.88).split("\n"), first))


def a_path(r):
    return f"/home/dev/work/{r.choice(['app', 'ledger', 'billing-svc'])}/src/{_ident(r)}/{_ident(r)}." + \
        r.choice(["rs", "py", "ts"])


def tool_id(r, converse):
    return ("tooluse_" if converse else "toolu_bdrk_01") + alnum(r, 22, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def pair_tool(sess, j_assist, product):
    names = [t[0] for t in TOOLS[product]] or ["Bash"]
    r = random.Random((SEED << 40) ^ (sess << 12) ^ j_assist ^ 0x5A5A)
    return r.choice(names[:8]), tool_id(r, product != "agent-cli")


_MSG_CACHE = {}


def message(sess, j, product):
    """Neutral form: (role, [("text", s) | ("tool_use", id, name, input) | ("tool_result", id, s)])."""
    key = (sess, j)
    m = _MSG_CACHE.get(key)
    if m is not None:
        return m
    if len(_MSG_CACHE) > 4000:
        _MSG_CACHE.clear()
    kind, size, r = msg_plan(sess, j, product)
    prose = POOLS["prose"]
    if kind == "task":
        blocks = [("text", prose.take(r, size))]
    elif kind == "task_ctx":
        blocks = [("text", prose.take(r, 300) + "\n\n```\n" + code(r, size) + "\n```\n" + prose.take(r, 120))]
    elif kind == "user":
        blocks = [("text", prose.take(r, size))]
    elif kind == "chunk":
        blocks = [("text", prose.take(r, size))]
    elif kind == "diff":
        lines = code(r, size).split("\n")
        body = "\n".join(r.choice(" +-") + ln for ln in lines)
        blocks = [("text", f"Review this diff:\n\ndiff --git a/{a_path(r)} b/x\n@@ -1,{len(lines)} +1,{len(lines)} @@\n" + body)]
    elif kind == "assist":
        blocks = [("text", prose.take(r, size))]
    elif kind == "assist_code":
        t = prose.take(r, size * 0.3)
        blocks = [("text", t + "\n\n```python\n" + POOLS["python"].take(r, size * 0.7) + "\n```")]
    elif kind == "assist_tool":
        name, tid = pair_tool(sess, j, product)
        low = name.lower()
        text = prose.take(r, min(size, lognorm(r, 250, 0.9, 20, 2500)))
        rest = max(30, size - len(text))
        if "edit" in low or "replace" in low:
            inp = {"file_path": a_path(r), "old_string": code(r, rest / 2), "new_string": code(r, rest / 2)}
        elif "write" in low:
            inp = {"file_path": a_path(r), "content": code(r, rest)}
        elif "bash" in low or "command" in low:
            inp = {"command": f"cd /home/dev/work/app && cargo test -p {_ident(r)} -- --nocapture 2>&1 | tail -n {r.randint(20, 200)}",
                   "description": prose.take(r, 60)}
        elif "todo" in low:
            inp = {"todos": [{"content": prose.take(r, 80), "status": r.choice(["pending", "in_progress", "completed"]),
                              "activeForm": prose.take(r, 40)} for _ in range(max(1, rest // 200))]}
        else:
            inp = {"file_path": a_path(r), "pattern": r"fn\s+" + _ident(r) + r"\(.*\)\s*->", "limit": r.randint(50, 2000)}
        blocks = [("text", text), ("tool_use", tid, name, inp)]
    else:  # tool_result
        name, tid = pair_tool(sess, j - 1, product)
        low = name.lower()
        if "bash" in low or "command" in low:
            s = POOLS["shell"].take(r, size)
        elif "grep" in low or "search" in low or "glob" in low or "ls" == low or "list" in low:
            s = "\n".join(f"{a_path(r)}:{r.randint(1, 999)}:{ln}" for ln in code(r, size * 0.6).split("\n"))
        elif "edit" in low or "write" in low or "replace" in low:
            s = f"The file {a_path(r)} has been updated. Here's the result of running `cat -n` on a snippet:\n" + cat_n(r, size)
        else:
            s = cat_n(r, size)
        blocks = [("tool_result", tid, s)]
    m = ("assistant" if j % 2 else "user", blocks)
    _MSG_CACHE[key] = m
    return m


def anthropic_msg(role, blocks, cache_mark=False):
    out = []
    for b in blocks:
        if b[0] == "text":
            out.append({"type": "text", "text": b[1]})
        elif b[0] == "tool_use":
            out.append({"type": "tool_use", "id": b[1], "name": b[2], "input": b[3]})
        else:
            out.append({"type": "tool_result", "tool_use_id": b[1], "content": b[2]})
    if cache_mark:
        out[-1] = dict(out[-1], cache_control={"type": "ephemeral"})
    return {"role": role, "content": out}


def converse_msg(role, blocks, cache_mark=False):
    out = []
    for b in blocks:
        if b[0] == "text":
            out.append({"text": b[1]})
        elif b[0] == "tool_use":
            out.append({"toolUse": {"toolUseId": b[1], "name": b[2], "input": b[3]}})
        else:
            out.append({"toolResult": {"toolUseId": b[1], "content": [{"text": b[2]}], "status": "success"}})
    if cache_mark:
        out.append({"cachePoint": {"type": "default"}})
    return {"role": role, "content": out}


# --------------------------------------------------------------------------------------------
# Requests

class Req:
    __slots__ = ("idx", "ts", "acct", "region", "sess", "product", "arn", "meta", "model", "inf", "op",
                 "turn", "win", "cache", "error", "guard", "offload", "side", "malformed", "perf")


def dumps(obj, ascii_):
    return json.dumps(obj, ensure_ascii=ascii_, separators=(",", ":"))


def iso(ts):
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def req_rng(q):
    return random.Random((SEED << 32) | q.idx)


def request_id(q):
    return str(uuid.UUID(int=req_rng(q).getrandbits(128), version=4))


def data_key(q, suffix="input"):
    acct = ACCOUNTS[q.acct]
    t = datetime.fromtimestamp(q.ts, UTC)
    return (f"{acct['prefix']}/AWSLogs/{acct['id']}/BedrockModelInvocationLogs/{q.region}/"
            f"{t:%Y/%m/%d/%H}/data/{request_id(q)}_{suffix}.json.gz")


def render_body(q, r):
    """Input body JSON text, plus (system+tools chars, chars of the newest user+assistant pair)."""
    prod = PRODUCTS[q.product]
    acct = ACCOUNTS[q.acct]
    style = prod["style"] if q.op.startswith("Invoke") else "converse"
    if prod["style"] == "titan":
        body = {"inputText": message(q.sess, 0, q.product)[1][0][1], "dimensions": 1024 if q.sess % 3 else 512,
                "normalize": True}
        return dumps(body, acct["ascii"]), 0, 0
    if q.side:
        sys_text = "Summarize this coding conversation in a short title (max 8 words). Reply with the title only."
        msgs = [("user", [("text", message(q.sess, 0, q.product)[1][0][1][:3000])])]
        tools = []
    else:
        sys_text = SYSTEMS.get(q.product, "")
        msgs = [message(q.sess, j, q.product) for j in range(q.win, 2 * q.turn + 1)]
        tools = TOOLS.get(q.product, [])
        if q.offload:
            big = cat_n(r, r.randint(110_000, 260_000))
            msgs = msgs[:-1] + [("user", [("tool_result", "toolu_bdrk_01big", big)])]
    caching = bool(prod["cache"]) and not q.side and ("anthropic" in q.model or "application-inference-profile" in q.model)
    fixed = len(sys_text) + sum(len(t[1]) + 300 for t in tools)
    last2 = sum(sum(len(b[-1]) if isinstance(b[-1], str) else 200 for b in m[1]) for m in msgs[-2:])
    if style == "anthropic":
        sysblk = {"type": "text", "text": sys_text}
        if caching:
            sysblk["cache_control"] = {"type": "ephemeral", "ttl": "1h"} if prod["cache"].startswith("1h") else {"type": "ephemeral"}
        body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 32000 if q.product == "agent-cli" else 8192,
                "system": [sysblk],
                "messages": [anthropic_msg(role, bl, caching and i == len(msgs) - 1) for i, (role, bl) in enumerate(msgs)]}
        if tools:
            body["tools"] = [{"name": n, "description": d, "input_schema": s} for n, d, s in tools]
        body["temperature"] = 1
        if q.product == "agent-cli":
            body["metadata"] = {"user_id": f"user_{uid_hex(random.Random(q.sess), 64)}_account__session_{uuid.UUID(int=q.sess << 64 | 7)}"}
    else:
        body = {"messages": [converse_msg(role, bl, caching and i == len(msgs) - 1) for i, (role, bl) in enumerate(msgs)]}
        if sys_text:
            body["system"] = [{"text": sys_text}] + ([{"cachePoint": {"type": "default"}}] if caching else [])
        if tools:
            body["toolConfig"] = {"tools": [{"toolSpec": {"name": n, "description": d, "inputSchema": {"json": s}}}
                                            for n, d, s in tools]}
        body["inferenceConfig"] = {"maxTokens": 8192, "temperature": 0.2}
    return dumps(body, acct["ascii"]), fixed, last2


def token_counts(q, r, body_len, fixed, last2):
    """(input, cache_read, cache_write, write_5m, write_1h): input excludes cached tokens."""
    total = max(3, body_len // 4)
    prod = PRODUCTS[q.product]
    if not prod["cache"] or q.side or q.cache == "none":
        return total, 0, 0, 0, 0
    uncached = min(total, r.randint(1, 40))
    sys_t, last_t = min(total, fixed // 4), min(total, last2 // 4)
    if q.cache == "warm":
        read = max(0, total - last_t - uncached)
    elif q.cache == "sys_warm":
        read = sys_t
    else:
        read = 0
    write = max(0, total - read - uncached)
    if prod["cache"] == "1h-all":
        return uncached, read, write, 0, write
    if prod["cache"] == "1h-sys" and q.cache == "cold":
        w1h = min(write, sys_t)
        return uncached, read, write, write - w1h, w1h
    return uncached, read, write, write, 0


def stream_chunks(r, text, tool):
    """Split assistant output like the Anthropic streaming API does."""
    out, i = [], 0
    if text:
        out.append({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
        while i < len(text):
            n = r.randint(4, 60)
            out.append({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text[i:i + n]}})
            i += n
        out.append({"type": "content_block_stop", "index": 0})
    if tool:
        idx = len(out) and 1
        out.append({"type": "content_block_start", "index": idx,
                    "content_block": {"type": "tool_use", "id": tool[1], "name": tool[2], "input": {}}})
        s, i = json.dumps(tool[3], ensure_ascii=False), 0
        while i < len(s):
            n = r.randint(8, 90)
            out.append({"type": "content_block_delta", "index": idx, "delta": {"type": "input_json_delta", "partial_json": s[i:i + n]}})
            i += n
        out.append({"type": "content_block_stop", "index": idx})
    return out


def short_model(mid):
    return mid.split(".", 1)[-1].rsplit("-v", 1)[0] if "anthropic" in mid else mid


def render_output(q, r, counts):
    """(outputBodyJson text, output tokens, latency fields) for a successful request."""
    acct = ACCOUNTS[q.acct]
    inp, read, write, w5, w1 = counts
    prod = PRODUCTS[q.product]
    if prod["style"] == "titan":
        dims = 1024 if q.sess % 3 else 512
        emb = [round(r.gauss(0, 0.05), 9) for _ in range(dims)]
        return dumps({"embedding": emb, "embeddingsByType": {"float": emb}, "inputTextTokenCount": inp}, acct["ascii"]), 0
    if q.side:
        blocks = [("text", POOLS["prose"].take(r, r.randint(20, 80))[:80])]
    elif q.guard:
        blocks = [("text", "Sorry, the model cannot answer this question. Your request was blocked by a guardrail.")]
    else:
        blocks = message(q.sess, 2 * q.turn + 1, q.product)[1]
    text = "".join(b[1] for b in blocks if b[0] == "text")
    tool = next((b for b in blocks if b[0] == "tool_use"), None)
    out_tokens = max(1, (len(text) + (len(json.dumps(tool[3])) if tool else 0)) // 4)
    stop = "tool_use" if tool else "end_turn"
    latency = int(300 + out_tokens * r.uniform(8, 30) + (inp + read + write) / 1000 * r.uniform(3, 20))
    mid = short_model(q.model)
    style = prod["style"] if q.op.startswith("Invoke") else "converse"
    if style == "converse":
        usage = {"inputTokens": inp, "outputTokens": out_tokens, "totalTokens": inp + read + write + out_tokens}
        if prod["cache"]:
            usage["cacheReadInputTokens"] = read
            usage["cacheWriteInputTokens"] = write
        body = {"output": {"message": converse_msg("assistant", blocks)},
                "stopReason": "guardrail_intervened" if q.guard else stop, "metrics": {"latencyMs": latency},
                "usage": usage}
        return dumps(body, acct["ascii"]), out_tokens
    usage = {"input_tokens": inp, "cache_creation_input_tokens": write, "cache_read_input_tokens": read,
             "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1}}
    msg_id = "msg_bdrk_01" + alnum(r, 22, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    if q.op == "InvokeModel":
        body = dict(anthropic_msg("assistant", blocks), id=msg_id, type="message", model=mid,
                    stop_reason=stop, stop_sequence=None, usage=dict(usage, output_tokens=out_tokens))
        if q.guard:
            body["amazon-bedrock-guardrailAction"] = "INTERVENED"
        return dumps(body, acct["ascii"]), out_tokens
    first_byte = int(latency * r.uniform(0.05, 0.4))
    chunks = [{"type": "message_start", "message": {"id": msg_id, "type": "message", "role": "assistant", "model": mid,
                                                    "content": [], "stop_reason": None, "stop_sequence": None,
                                                    "usage": dict(usage, output_tokens=1)}}]
    chunks += stream_chunks(r, text, tool)
    chunks.append({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                   "usage": {"output_tokens": out_tokens}})
    chunks.append({"type": "message_stop", "amazon-bedrock-invocationMetrics": {
        "inputTokenCount": inp, "outputTokenCount": out_tokens, "invocationLatency": latency,
        "firstByteLatency": first_byte, "cacheReadInputTokenCount": read, "cacheWriteInputTokenCount": write}})
    return dumps(chunks, acct["ascii"]), out_tokens


def render_record(q):
    """One compact record line (str) and its truth tuple (failed, in, out, read, write, write_1h)."""
    r = req_rng(q)
    rid = str(uuid.UUID(int=r.getrandbits(128), version=4))
    acct = ACCOUNTS[q.acct]
    a = acct["ascii"]
    body, fixed, last2 = render_body(q, r)
    counts = token_counts(q, r, len(body), fixed, last2)
    inp, read, write, w5, w1 = counts
    ctype = '"inputContentType":"application/json"'
    if q.offload:
        input_ = "{" + ctype + f',"inputBodyS3Path":"s3://acme-bedrock-{acct["id"]}/{data_key(q)}"'
    else:
        input_ = "{" + ctype + ',"inputBodyJson":' + body
    if q.error:
        input_ += "}"
        output = None
        truth = (1, 0, 0, 0, 0, 0)
    else:
        input_ += f',"inputTokenCount":{inp}'
        if PRODUCTS[q.product]["cache"] or "anthropic" in q.model:
            input_ += f',"cacheReadInputTokenCount":{read},"cacheWriteInputTokenCount":{write}'
        input_ += "}"
        out_body, out_tokens = render_output(q, r, counts)
        output = '{"outputContentType":"application/json","outputBodyJson":' + out_body
        if q.guard and q.sess % 2:
            output += "}"  # guardrail interventions sometimes carry no output counter
            out_tokens = 0
        else:
            output += f',"outputTokenCount":{out_tokens}}}'
        truth = (0, inp, out_tokens, read, write, w1 if PRODUCTS[q.product]["style"] == "anthropic" and q.op.startswith("Invoke") else 0)
    f = [("timestamp", '"' + iso(q.ts) + '"'), ("accountId", '"' + acct["id"] + '"'),
         ("identity", dumps({"arn": q.arn}, a)), ("region", '"' + q.region + '"'),
         ("requestId", '"' + rid + '"'), ("operation", '"' + q.op + '"'), ("modelId", '"' + q.model + '"')]
    if q.inf:
        f.append(("inferenceRegion", '"' + q.inf + '"'))
    if q.meta:
        f.append(("requestMetadata", dumps(q.meta, a)))
    if q.perf:
        f.append(("performanceConfig", '{"latency":"%s"}' % q.perf))
    if q.error:
        f.append(("errorCode", '"' + q.error + '"'))
    f.append(("input", input_))
    if output:
        f.append(("output", output))
    schema = [("schemaType", '"ModelInvocationLog"'), ("schemaVersion", '"1.0"')]
    f = schema + f if acct["schema_first"] else f + schema
    line = "{" + ",".join(f'"{k}":{v}' for k, v in f) + "}"
    return line, truth, body


# --------------------------------------------------------------------------------------------
# Planning: sessions -> requests -> deliveries -> objects. Runs in the parent; workers get tasks.

HOURS = {"us": [1 if 13 <= h or h < 1 else 0.15 for h in range(24)],
         "eu": [1 if 7 <= h < 18 else 0.12 for h in range(24)], "flat": [1] * 24}
EXPORT_WINDOWS = [("2026-08-10", "2026-08-24"), ("2026-09-25", "2026-10-05"), ("2026-10-20", "2026-11-01")]
CLI_DAY = ("2026-09-03", "2026-09-04")


def day_ts(s):
    return int(datetime.strptime(s, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())


def wchoice(r, items):
    return r.choices([x[0] for x in items], [x[1] for x in items])[0]


def pick_start(r, acct):
    days = (T1 - T0) // 86400
    while True:
        d = r.randrange(days)
        wd = datetime.fromtimestamp(T0 + d * 86400, UTC).weekday()
        if wd < 5 or r.random() < 0.25:
            break
    h = r.choices(range(24), HOURS[acct["hours"]])[0]
    return T0 + d * 86400 + h * 3600 + r.randrange(3600)


class Planner:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.idents = [build_identities(a, random.Random(seed * 31 + i)) for i, a in enumerate(ACCOUNTS)]
        self.reqs = []
        self.sess = 0
        self.est_bytes = 0.0

    def new_req(self, **kw):
        q = Req()
        for k in Req.__slots__:
            setattr(q, k, kw.get(k))
        q.idx = len(self.reqs)
        self.reqs.append(q)
        return q

    def est(self, q, sizes):
        """Rough serialized size of a record line; calibrated later against real renders."""
        p = PRODUCTS[q.product]
        if p["style"] == "titan":
            return 900 + sizes[0] + 26 * (1024 if q.sess % 3 else 512)
        if q.side:
            return 1500 + min(3000, sizes[0])
        fixed = p["sys"] + sum(len(t[1]) + 900 for t in TOOLS[q.product])
        hist = sum(sizes[q.win:2 * q.turn + 1]) + 90 * (2 * q.turn + 1 - q.win)
        out = sizes[2 * q.turn + 1] if len(sizes) > 2 * q.turn + 1 else 500
        out *= 3.2 if q.op == "InvokeModelWithResponseStream" else 1.1
        return 1200 + fixed + hist * 1.07 + out + (0 if not q.offload else -hist)

    def session(self, at=None, acct_i=None, product=None, turns=None):
        r = self.r
        if acct_i is None:
            acct_i = r.choices(range(len(ACCOUNTS)), [a["share"] for a in ACCOUNTS])[0]
        acct = ACCOUNTS[acct_i]
        product = product or wchoice(r, acct["products"])
        p = PRODUCTS[product]
        self.sess += 1
        sess = self.sess
        region = wchoice(r, acct["regions"])
        key, form = wchoice(r, [((m, f), w) for m, f, w in p["models"]])
        if acct["part"] != "aws" and key not in ("sonnet45", "sonnet37", "haiku45"):
            key = "sonnet45"
        ident = r.choice(self.idents[acct_i][product])
        arn, meta = ident(r)
        op = wchoice(r, p["op"])
        if op == "Converse" and product == "notebook":
            key, form = "sonnet45", "geo"
        n_turns = turns or max(1, min(60, int(r.expovariate(1 / p["turns"])) + 1))
        budget = r.randint(*p["budget"]) * 1024
        t = at if at is not None else pick_start(r, acct)
        sizes, win, prev_t, prev_win = [], 0, None, -1
        perf = "standard" if acct_i == 1 and r.random() < 0.5 else None
        for turn in range(n_turns):
            while len(sizes) < 2 * turn + 2:
                sizes.append(msg_plan(sess, len(sizes), product)[1])
            if sum(sizes[win:2 * turn + 1]) > budget:  # compaction: drop to half the budget at once
                while win < 2 * turn and sum(sizes[win:2 * turn + 1]) > budget // 2:
                    win += 2
            if p["cache"] is None:
                cache = "none"
            elif prev_t is None or win != prev_win or t - prev_t > 3600:
                cache = "cold"
            elif t - prev_t > 300:
                cache = "sys_warm" if p["cache"] == "1h-sys" else "cold"
            else:
                cache = "warm"
            mid, inf = model_id(r, key, form, acct, region)
            base = dict(ts=t, acct=acct_i, region=region, sess=sess, product=product, arn=arn, meta=meta,
                        model=mid, inf=inf, op=op, turn=turn, win=win, cache=cache, perf=perf)
            while r.random() < 0.03:  # throttled first, retried with the same body
                err = r.choices(["ThrottlingException", "ValidationException", "ModelTimeoutException",
                                 "ServiceUnavailableException", "AccessDeniedException"], [12, 3, 2, 2, 1])[0]
                q = self.new_req(**dict(base, error=err))
                self.est_bytes += self.est(q, sizes) * 0.6
                base["ts"] = t = t + r.randint(1, 4)
            q = self.new_req(**base, guard=product == "chat-gateway" and r.random() < 0.015,
                             offload=product in ("agent-cli", "ide-agent", "review-bot") and r.random() < 0.01)
            self.est_bytes += self.est(q, sizes)
            prev_t, prev_win = t, win
            if p["side"] and r.random() < p["side"]:
                mid2, inf2 = model_id(r, "haiku45", "geo", acct, region)
                q = self.new_req(**dict(base, ts=t + r.randint(0, 2), model=mid2, inf=inf2, side=True, cache="none"))
                self.est_bytes += self.est(q, sizes)
            gap = lognorm(r, 12, 0.9, 2, 400) if r.random() < 0.9 else r.randint(300, 2400)
            t += gap

    def month_edges(self):
        """Sessions that straddle each month end, and single requests exactly at 23:59:59Z."""
        for edge in MONTH_ENDS:
            for ai in range(len(ACCOUNTS)):
                self.session(at=edge - 1, acct_i=ai, turns=3)
            self.session(at=edge - 1, acct_i=0, product="embedder")
            self.session(at=edge - 1, acct_i=2, product="embedder")
            self.session(at=edge - 30, acct_i=1, turns=6)
            self.session(at=edge, acct_i=0, product="embedder")


def calibrate(planner, n=120):
    """Ratio of real rendered bytes to the planner's estimate, on a sample of requests."""
    r = random.Random(1)
    sample = r.sample(planner.reqs, min(n, len(planner.reqs)))
    real = est = 0
    for q in sample:
        if q.error:
            continue
        sizes = [msg_plan(q.sess, j, q.product)[1] for j in range(2 * q.turn + 2)]
        real += len(render_record(q)[0].encode())
        est += planner.est(q, sizes)
    return real / max(1, est)


# --------------------------------------------------------------------------------------------
# Objects

def fmt_key_ts(ts_ms):
    t = datetime.fromtimestamp(ts_ms / 1000, UTC)
    return t, f"{t:%Y%m%dT%H%M%S}{ts_ms % 1000:03d}Z"


def split_counts(total, parts, r):
    """Split `total` items into `parts` chunks of varying size (each >= 1)."""
    parts = max(1, min(parts, total))
    w = [r.uniform(0.4, 1.6) for _ in range(parts)]
    s = sum(w)
    sizes = [max(1, int(total * x / s)) for x in w]
    sizes[-1] += total - sum(sizes)
    while sizes[-1] < 1:
        i = max(range(parts), key=lambda k: sizes[k])
        sizes[i] -= 1
        sizes[-1] += 1
    return sizes


def plan_objects(planner, n_objects, seed):
    r = random.Random(seed * 13 + 5)
    reqs = sorted(planner.reqs, key=lambda q: (q.ts, q.idx))
    native, export, firehose, cli_a4, cli_a2 = {}, [[] for _ in EXPORT_WINDOWS], [], [], []
    win_ts = [(day_ts(a), day_ts(b)) for a, b in EXPORT_WINDOWS]
    cli_ts = (day_ts(CLI_DAY[0]), day_ts(CLI_DAY[1]))
    primary = {}
    for q in reqs:
        d = ACCOUNTS[q.acct]["delivery"]
        if d in ("s3", "s3+cw"):
            native.setdefault((q.acct, q.region), []).append(q)
        if d == "s3+cw":
            for i, (a, b) in enumerate(win_ts):
                if a <= q.ts < b:
                    export[i].append(q)
            if cli_ts[0] <= q.ts < cli_ts[1]:
                cli_a2.append(q)
        if d == "firehose":
            firehose.append(q)
        if d == "cli":
            cli_a4.append(q)

    # malformed lines: extra requests that exist only as one broken line
    def add_malformed(stream, count):
        for _ in range(count):
            src = r.choice(stream)
            q = planner.new_req(**{k: getattr(src, k) for k in Req.__slots__ if k != "idx"})
            q.malformed, q.offload = True, False
            stream.insert(stream.index(src) + 1, q)
    for stream in list(native.values())[:4] + [e for e in export if e] + [firehose]:
        if stream:
            add_malformed(stream, max(1, int(len(stream) * 0.0015)))

    tasks = []
    noise = []
    for a in ACCOUNTS:
        if a["delivery"] in ("s3", "s3+cw"):
            noise.append((a["prefix"] + "/amazon-bedrock-logs-permission-check", b""))
            noise.append((f"{a['prefix']}/AWSLogs/{a['id']}/BedrockModelInvocationLogs/amazon-bedrock-logs-permission-check", b""))
    noise.append(("exportedlogs/aws-logs-write-test", b"Permission Check Successful"))
    for path, data in dict(noise).items():  # accounts may share a prefix
        tasks.append(("noise", path, data))
    for q in reqs:
        if q.offload:
            tasks.append(("data", data_key(q), q.idx))

    # CLI pages: at most ~1 MB or 10,000 events each, like the real API
    for acct_i, stream, kind in ((3, cli_a4, "filter"), (1, cli_a2, "get")):
        page, size, pages = [], 0, []
        for q in stream:
            page.append(q.idx)
            size += 40_000
            if size > 1_000_000 or len(page) >= 10_000:
                pages.append(page)
                page, size = [], 0
        if page:
            pages.append(page)
        for i, pg in enumerate(pages):
            tasks.append(("cli", f"cli/{ACCOUNTS[acct_i]['id']}/{kind}-log-events-page-{i + 1:04d}.json",
                          (kind, pg, i == len(pages) - 1, i == 0 and acct_i == 3, acct_i)))

    left = max(3, n_objects - len(tasks))
    n_native = sum(len(s) for s in native.values())
    n_export = sum(len(e) for e in export)
    weights = {"native": n_native, "export": n_export / 3, "firehose": len(firehose) / 3}
    wsum = sum(weights.values()) or 1
    alloc = {k: max(1, round(left * v / wsum)) for k, v in weights.items()}

    # native: per (account, region) stream, time-ordered batches; key time = last record + delay
    for (ai, region), stream in sorted(native.items()):
        acct = ACCOUNTS[ai]
        k = max(1, round(alloc["native"] * len(stream) / max(1, n_native)))
        pos = 0
        for size in split_counts(len(stream), k, r):
            batch = stream[pos:pos + size]
            pos += size
            key_ms = batch[-1].ts * 1000 + r.randint(5_000, 150_000)
            t, stamp = fmt_key_ts(key_ms)
            path = (f"{acct['prefix']}/AWSLogs/{acct['id']}/BedrockModelInvocationLogs/{region}/"
                    f"{t:%Y/%m/%d/%H}/{stamp}_{uid_hex(r, 16)}.json.gz")
            tasks.append(("native", path, ([q.idx for q in batch], r.random() < 0.5)))

    # export tasks: lines not in time order (shuffled blocks), split into 000000.gz, 000001.gz ...
    for wi, stream in enumerate(export):
        if not stream:
            continue
        task_id = str(uuid.UUID(int=r.getrandbits(128), version=4))
        blocks = [stream[i:i + 37] for i in range(0, len(stream), 37)]
        r.shuffle(blocks)
        lines = [q for b in blocks for q in b]
        k = max(1, round(alloc["export"] * len(stream) / max(1, n_export)))
        pos = 0
        for fi, size in enumerate(split_counts(len(lines), k, r)):
            part = [(q.idx, q.ts * 1000 + r.randint(0, 1999)) for q in lines[pos:pos + size]]
            pos += size
            perm = wi == 0 and fi == 0
            tasks.append(("export", f"exportedlogs/{task_id}/{LOG_STREAM}/{fi:06d}.gz", (part, perm)))

    # firehose: time-ordered objects, each several gzip members of 1-12 log events (mostly 1-3)
    pos = 0
    for oi, size in enumerate(split_counts(len(firehose), alloc["firehose"], r) if firehose else []):
        batch = firehose[pos:pos + size]
        pos += size
        members, i = [], 0
        if oi == 0 or r.random() < 0.04:
            members.append(("control", batch[0].ts * 1000))
        while i < len(batch):
            n = min(r.randint(1, 4), r.randint(1, 12))  # subscription batches are mostly small
            evs = [(q.idx, q.ts * 1000 + r.randint(0, 999), "".join(r.choice("0123456789") for _ in range(56)))
                   for q in batch[i:i + n]]
            members.append(("data", evs, oi == 0 and i == 0))
            i += n
        t, _ = fmt_key_ts(batch[0].ts * 1000 + r.randint(60_000, 300_000))
        path = (f"firehose/bedrock-invocations/{t:%Y/%m/%d/%H}/bedrock-logs-stream-1-{t:%Y-%m-%d-%H-%M-%S}-"
                f"{uuid.UUID(int=r.getrandbits(128), version=4)}")
        tasks.append(("firehose", path, members))

    # the first delivery of each request carries its truth (the others are duplicates)
    seen = set()
    for t in tasks:
        ids = []
        if t[0] == "native":
            ids = t[2][0]
        elif t[0] == "export":
            ids = [x[0] for x in t[2][0]]
        elif t[0] == "firehose":
            ids = [e[0] for m in t[2] if m[0] == "data" for e in m[1]]
        elif t[0] == "cli":
            ids = t[2][1]
        for i in ids:
            if i not in seen and not planner.reqs[i].malformed:
                seen.add(i)
                primary[i] = t[1]
    return tasks, primary


# --------------------------------------------------------------------------------------------
# Workers

REQS = []
PRIMARY = {}
OUT = ""


def gz(data):
    return gzip.compress(data, compresslevel=6, mtime=0)


def _line(i, stats):
    q = REQS[i]
    line, truth, _ = render_record(q)
    if q.malformed:
        stats["malformed"] += 1
        b = line.encode()
        return b[:req_rng(q).randint(len(b) // 4, len(b) - 10)].decode("utf-8", "surrogateescape"), True
    stats["records"] += 1
    if PRIMARY.get(i) == stats["path"]:
        month = iso(q.ts)[:7]
        m = stats["truth"].setdefault(month, [0] * 7)
        m[0] += 1
        for k, v in enumerate(truth):
            m[k + 1] += v
    return line, False


def run_task(task):
    shape, path, arg = task
    st = {"shape": shape, "path": path, "records": 0, "malformed": 0, "lines": 0, "truth": {}}
    ascii_ = False
    if shape == "noise":
        raw, data = arg, arg
    elif shape == "data":
        q = REQS[arg]
        raw = render_body(q, req_rng(q))[0].encode()
        data = gz(raw)
    elif shape == "native":
        idxs, trailing = arg
        lines = []
        for i in idxs:
            ln, bad = _line(i, st)
            lines.append(ln.encode("utf-8", "surrogateescape"))
        raw = b"\n".join(lines) + (b"\n" if trailing else b"")
        data = gz(raw)
        st["lines"] = len(lines)
    elif shape == "export":
        part, perm = arg
        lines = []
        if perm:
            lines.append((f"{iso(REQS[part[0][0]].ts - 86400)[:-1]}.000Z {PERMISSIONS_MSG}").encode())
        for i, ts_ms in part:
            ln, bad = _line(i, st)
            stamp = datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ts_ms % 1000:03d}Z"
            lines.append((stamp + " " + ln).encode("utf-8", "surrogateescape"))
        raw = b"\n".join(lines) + b"\n"
        data = gz(raw)
        st["lines"] = len(lines)
    elif shape == "firehose":
        raws, parts = [], []
        for m in arg:
            if m[0] == "control":
                env = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
                       "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": m[1],
                                                                 "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}
            else:
                evs = []
                if m[2]:
                    evs.append({"id": "3" * 56, "timestamp": m[1][0][1] - 60_000, "message": PERMISSIONS_MSG})
                for i, ts_ms, eid in m[1]:
                    ln, bad = _line(i, st)
                    if bad:
                        ln = ln.encode("utf-8", "surrogateescape").decode("utf-8", "ignore")
                    evs.append({"id": eid, "timestamp": ts_ms, "message": ln})
                ascii_ = ACCOUNTS[REQS[m[1][0][0]].acct]["ascii"]
                env = {"messageType": "DATA_MESSAGE", "owner": ACCOUNTS[REQS[m[1][0][0]].acct]["id"],
                       "logGroup": LOG_GROUP, "logStream": LOG_STREAM, "subscriptionFilters": ["bedrock-to-firehose"],
                       "logEvents": evs}
                st["lines"] += len(evs)
            b = dumps(env, ascii_).encode()
            raws.append(b)
            parts.append(gz(b))
        raw, data = b"".join(raws), b"".join(parts)
    elif shape == "cli":
        kind, idxs, last, perm, acct_i = arg
        evs = []
        if perm:
            t0 = REQS[idxs[0]].ts * 1000 - 3_600_000
            evs.append({"logStreamName": LOG_STREAM, "timestamp": t0, "message": PERMISSIONS_MSG,
                        "ingestionTime": t0 + 12, "eventId": "3" * 56})
        for i in idxs:
            ln, _ = _line(i, st)
            ts = REQS[i].ts * 1000 + i % 1000
            if kind == "filter":
                evs.append({"logStreamName": LOG_STREAM, "timestamp": ts, "message": ln, "ingestionTime": ts + 180 + i % 97,
                            "eventId": str(37000000000000000000000000000000000000000000000000000000 + i * 7919)})
            else:
                evs.append({"timestamp": ts, "message": ln, "ingestionTime": ts + 180 + i % 97})
        page = {"events": evs}
        tok = f"{REQS[idxs[-1]].idx:056d}"
        if kind == "filter":
            if not last:
                page["nextToken"] = "Bxkq6kVGFtq2y_Moigeqscgt" + tok[-20:]
        else:
            page["nextForwardToken"] = "f/" + tok
            page["nextBackwardToken"] = "b/" + f"{REQS[idxs[0]].idx:056d}"
        raw = (json.dumps(page, indent=4, ensure_ascii=False) + "\n").encode()
        data = raw
        st["lines"] = len(evs)
    full = os.path.join(OUT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(data)
    st["raw"], st["stored"] = len(raw), len(data)
    del st["path"]
    return st


# --------------------------------------------------------------------------------------------

def main():
    global REQS, PRIMARY, OUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="corpus directory (must not exist or be empty)")
    ap.add_argument("--objects", type=int, default=3000, help="about how many objects to write (default 3000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target-mb", type=float, help="uncompressed size to aim for (default: 0.3 MB per object)")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    t_start = time.time()
    out = os.path.abspath(args.out.rstrip("/"))
    if os.path.exists(out) and os.listdir(out):
        sys.exit(f"gen_corpus: {out} exists and is not empty")
    target = (args.target_mb if args.target_mb else args.objects * 0.3) * 1e6

    build_pools(args.seed, 1 if target < 3e9 else 2)
    planner = Planner(args.seed)
    planner.month_edges()
    factor = 1.0
    # share of lines that are delivered twice or more, plus envelope overhead (Firehose escaping)
    overhead = 1.0 + 0.22 * 0.40 + 0.17 * 0.12 + 0.05 * 0.15
    calibrated = False
    while planner.est_bytes * factor * overhead < target:
        planner.session()
        if not calibrated and len(planner.reqs) >= 400:
            factor, calibrated = calibrate(planner), True
    if not calibrated:
        factor = calibrate(planner)
    tasks, primary = plan_objects(planner, args.objects, args.seed)
    REQS, PRIMARY, OUT = planner.reqs, primary, out
    print(f"gen_corpus: planned {len(planner.reqs)} requests in {len(tasks)} objects "
          f"(estimate {planner.est_bytes * factor * overhead / 1e6:.0f} MB) in {time.time() - t_start:.1f}s",
          file=sys.stderr)

    order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i][2][0]) if tasks[i][0] in ("native", "export") else 0)
    todo = [tasks[i] for i in order]
    totals = {}
    truth = {}
    done = raw_total = 0
    last_print = time.time()
    ctx = mp.get_context("fork")
    with ctx.Pool(args.jobs) as pool:
        for st in pool.imap_unordered(run_task, todo, chunksize=4):
            s = totals.setdefault(st["shape"], {"objects": 0, "lines": 0, "records": 0, "malformed": 0,
                                                 "uncompressed_bytes": 0, "stored_bytes": 0})
            s["objects"] += 1
            s["lines"] += st["lines"]
            s["records"] += st["records"]
            s["malformed"] += st["malformed"]
            s["uncompressed_bytes"] += st["raw"]
            s["stored_bytes"] += st["stored"]
            for month, v in st["truth"].items():
                m = truth.setdefault(month, [0] * 7)
                for k in range(7):
                    m[k] += v[k]
            done += 1
            raw_total += st["raw"]
            if time.time() - last_print > 5:
                last_print = time.time()
                print(f"gen_corpus: {done}/{len(todo)} objects, {raw_total / 1e6:.0f} MB", file=sys.stderr)

    elapsed = time.time() - t_start
    unique = sum(1 for q in planner.reqs if not q.malformed)
    record_lines = sum(s["records"] for s in totals.values())
    stats = {
        "generator": "benches/gen_corpus.py", "seed": args.seed, "objects_requested": args.objects,
        "target_mb": target / 1e6,
        "objects": sum(s["objects"] for s in totals.values()),
        "total_uncompressed_bytes": sum(s["uncompressed_bytes"] for s in totals.values()),
        "total_stored_bytes": sum(s["stored_bytes"] for s in totals.values()),
        "requests_unique": unique,
        "record_lines": record_lines,
        "duplicate_record_lines": record_lines - unique,
        "malformed_lines": sum(s["malformed"] for s in totals.values()),
        "failed_requests": sum(1 for q in planner.reqs if q.error and not q.malformed),
        "offloaded_requests": sum(1 for q in planner.reqs if q.offload and not q.malformed),
        "by_shape": dict(sorted(totals.items())),
        "truth_by_month": {m: dict(zip(["requests", "failed_requests", "input_tokens", "output_tokens",
                                        "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens"], v))
                           for m, v in sorted(truth.items())},
        "notes": ["total_uncompressed_bytes counts every object's decompressed bytes (plain files as is)",
                  "truth_by_month counts each requestId once; malformed lines are not requests",
                  "application-inference-profile/zq0deleted99 is deliberately absent from profiles.csv"],
        "seconds": round(elapsed, 1),
    }
    with open(out + ".stats.json", "w") as f:
        json.dump(stats, f, indent=2)
    with open(out + ".profiles.csv", "w") as f:
        f.write("arn,model_id\n")
        for key, profs in APP_PROFILES.items():
            for acct_id, reg, pid, mid in profs:
                if mid:
                    part = next(a["part"] for a in ACCOUNTS if a["id"] == acct_id)
                    f.write(f"arn:{part}:bedrock:{reg}:{acct_id}:application-inference-profile/{pid},{mid}\n")
    mb, smb = stats["total_uncompressed_bytes"] / 1e6, stats["total_stored_bytes"] / 1e6
    print(f"gen_corpus: wrote {stats['objects']} objects, {stats['record_lines']} record lines "
          f"({unique} unique requests), {mb:.1f} MB uncompressed, {smb:.1f} MB on disk, "
          f"in {elapsed:.1f}s ({mb / elapsed:.1f} MB/s)", file=sys.stderr)
    print(f"gen_corpus: stats in {out}.stats.json, profiles in {out}.profiles.csv", file=sys.stderr)
    print(f"{mb:.1f} MB")


if __name__ == "__main__":
    main()
