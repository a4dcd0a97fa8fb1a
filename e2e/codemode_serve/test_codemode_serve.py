"""@cloudflare/codemode's DynamicWorkerExecutor on `isola serve`, against
isola's own Rust Code Mode executor.

The published npm package is bundled, unchanged, into a parent worker
(parent.js) with esbuild; `isola serve` runs it and gives it `env.LOADER`.
Each program below is POSTed to the parent, which answers
`executor.execute(code, [{ name: "codemode", fns }])` as JSON. The same
program goes to `isola mcp`'s `execute` tool (the Rust executor), whose
upstream (upstream.py) serves the same tools under the same namespace.

Where the two are meant to agree, the answers must be equal. Where they
differ by design, each difference is asserted as such (see the
`Differences` class), so a change on either side shows up here.

Needs: ISOLA_BIN (an `isola` binary), `npm install` in this directory, and
the MCP Python SDK; `bash e2e/run.sh -k codemode_serve` provides all three.
"""

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

HERE = Path(__file__).resolve().parent

# The Rust executor's limits ([limits] of the isola mcp config). The wall
# limit doubles as DynamicWorkerExecutor's timeout for the timeout case.
CPU_MS = 1000
WALL_MS = 2000
TOOL_CALLS = 20

BLOCKED = (
    "This worker is not permitted to access the internet via global functions"
    " like fetch(). It must use capabilities (such as bindings in 'env') to"
    " talk to the outside world."
)

# Programs both executors answer identically: name -> (code, result, logs).
# Plain JavaScript only: codemode tells models not to write TypeScript.
AGREE = {
    "plain": ("async () => 1 + 1", 2, []),
    "tool_call": (
        "async () => { const s = await codemode.add({ a: 2, b: 3 }); return s * 10 }",
        50,
        [],
    ),
    "promise_all": (
        """async () => {
  const [sum, echoed, user] = await Promise.all([
    codemode.add({ a: 1, b: 2 }),
    codemode.echo({ s: "héllo ✓", n: 1.5, list: [null, true, "x"] }),
    codemode.profile({ id: 7 }),
  ]);
  return { sum, echoed, city: user.address.city, user };
}""",
        {
            "sum": 3,
            "echoed": {"s": "héllo ✓", "n": 1.5, "list": [None, True, "x"]},
            "city": "London",
            "user": {
                "id": 7,
                "name": "Ada",
                "tags": ["admin", "ops"],
                "address": {"city": "London", "zip": None},
                "active": True,
            },
        },
        [],
    ),
    # Five 300 ms tool calls overlap: the tools run concurrently.
    "parallel_tools": (
        """async () => {
  const started = Date.now();
  const values = await Promise.all([0, 1, 2, 3, 4].map((i) => codemode.wait({ ms: 300, value: i })));
  return { values, overlapped: Date.now() - started < 1200 };
}""",
        {"values": [0, 1, 2, 3, 4], "overlapped": True},
        [],
    ),
    "sequential_tools": (
        """async () => {
  let total = 0;
  for (let i = 0; i < 10; i++) total += await codemode.add({ a: i, b: 1 });
  return total;
}""",
        55,
        [],
    ),
    "logs": (
        """async () => {
  console.log("a", 1, true, null, undefined);
  console.warn("careful");
  console.error("bad", 2);
  console.log(`sum=${await codemode.add({ a: 1, b: 1 })}`);
  return "done";
}""",
        "done",
        ["a 1 true null undefined", "[warn] careful", "[error] bad 2", "sum=2"],
    ),
    "tool_error_caught": (
        """async () => {
  try { await codemode.fail({}); return "no error"; }
  catch (e) { return { isError: e instanceof Error, name: e.name, message: e.message }; }
}""",
        {"isError": True, "name": "Error", "message": "tool exploded"},
        [],
    ),
    "bytes_round_trip": (
        """async () => {
  const r = await codemode.echo({ data: new Uint8Array([1, 2, 3]) });
  return { isBytes: r.data instanceof Uint8Array, sum: r.data.reduce((a, b) => a + b, 0) };
}""",
        {"isBytes": True, "sum": 6},
        [],
    ),
    # A call the program does not await: the run ends without waiting
    # for the 3 s tool (elapsed times are checked in test_agree).
    "unawaited_tool_call": (
        'async () => { codemode.wait({ ms: 3000, value: 1 }); return "early" }',
        "early",
        [],
    ),
    # Shapes both normalizers accept besides an async arrow function.
    "bare_expression": ("codemode.add({ a: 20, b: 22 })", 42, []),
    "markdown_fence": ("```js\nasync () => 5\n```", 5, []),
    "function_declaration": ("async function main() { return 7 }", 7, []),
    "export_default": ("export default async () => 8", 8, []),
    "statements": ("const x = 3;\nreturn x * 2;", 6, []),
}

# Programs that fail in both, with the same message save for the class
# name: codemode answers `err.message`; isola's executor `Class: message`.
# name -> (code, class, message, logs).
FAIL = {
    "throw_error": (
        'async () => { console.log("before"); throw new Error("boom") }',
        "Error",
        "boom",
        ["before"],
    ),
    "throw_type_error": (
        'async () => { throw new TypeError("bad type") }',
        "TypeError",
        "bad type",
        [],
    ),
    "tool_throws": ("async () => codemode.fail({})", "Error", "tool exploded", []),
    "unknown_tool": (
        "async () => codemode.nope({})",
        "Error",
        'Tool "nope" not found',
        [],
    ),
    "reference_error": (
        "async () => { undefinedThing.x }",
        "ReferenceError",
        "undefinedThing is not defined",
        [],
    ),
    # DynamicWorkerExecutor loads with globalOutbound: null; the Rust
    # executor blocks fetch too. Same text as workerd's.
    "fetch_blocked": (
        'async () => (await fetch("http://example.com/")).status',
        "Error",
        BLOCKED,
        [],
    ),
}

# Programs whose answers differ by design (asserted in `Differences`).
DIFFER = {
    "undefined_result": "async () => { await codemode.add({ a: 1, b: 1 }) }",
    "console_info": 'async () => { console.info("info line"); console.log("log line"); return 1 }',
    "object_logs": "async () => { console.log({ a: 1 }, [1, 2]); return 1 }",
    "throw_string": 'async () => { throw "just a string" }',
    "bytes_result": "async () => new Uint8Array([1, 2, 3])",
    "typescript": "async () => { const x: number = 41; return x + 1 }",
    "syntax_error": "async () => { return 1 +",
    "timeout": (
        'async () => { console.log("waiting"); await new Promise((r) => setTimeout(r, 10000)); return "late" }'
    ),
    "tool_call_limit": f"""async () => {{
  let total = 0;
  for (let i = 0; i < {TOOL_CALLS + 5}; i++) total += await codemode.add({{ a: i, b: 0 }});
  return total;
}}""",
    "cpu_loop": 'async () => { console.log("spinning"); while (true) {} }',
}

PROGRAMS = {
    **{name: code for name, (code, *_rest) in AGREE.items()},
    **{name: code for name, (code, *_rest) in FAIL.items()},
    **DIFFER,
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_class(cls, message):
    """A codemode error message as isola's executor reports it."""
    return f"{cls}: {message}"


class Answer:
    """One executor's answer to one program."""

    def __init__(self, body, failed, seconds):
        self.body = body  # the JSON answer
        self.failed = failed  # HTTP 500 (serve) or isError (mcp)
        self.seconds = seconds

    def __repr__(self):
        return f"Answer({self.body!r}, failed={self.failed}, {self.seconds:.2f}s)"


class Suite(unittest.TestCase):
    """Bundles the parent, starts `isola serve` and `isola mcp`, runs every
    program through both once (for the whole module); the tests compare
    the answers."""

    serve = {}  # name -> Answer from codemode on isola serve
    rust = {}  # name -> Answer from isola's Rust executor

    @classmethod
    def start(cls):
        isola = os.environ.get("ISOLA_BIN")
        if not isola:
            raise unittest.SkipTest("ISOLA_BIN is not set (run e2e/run.sh)")
        esbuild = HERE / "node_modules" / ".bin" / "esbuild"
        if not esbuild.exists():
            raise unittest.SkipTest("no node_modules (npm install in e2e/codemode_serve)")
        cls.tmp = Path(tempfile.mkdtemp(prefix="isola-codemode-serve-"))
        unittest.addModuleCleanup(shutil.rmtree, cls.tmp, True)
        cls.bundle(esbuild)
        cls.start_serve(isola)
        cls.write_mcp_config()

        # Both executors run their whole table at once, side by side.
        with ThreadPoolExecutor(max_workers=1) as pool:
            serve_runs = pool.submit(cls.run_all_on_serve)
            cls.rust = asyncio.run(cls.run_all_on_mcp(isola))
            cls.serve = serve_runs.result()

    @classmethod
    def bundle(cls, esbuild):
        # The config as checked in, next to a bundle at its `main`.
        shutil.copy(HERE / "wrangler.toml", cls.tmp / "wrangler.toml")
        started = time.monotonic()
        subprocess.run(
            [
                str(esbuild),
                str(HERE / "parent.js"),
                "--bundle",
                "--format=esm",
                "--platform=neutral",
                "--external:cloudflare:workers",
                "--log-level=warning",
                f"--outfile={cls.tmp / 'dist' / 'parent.js'}",
            ],
            check=True,
            cwd=HERE,
        )
        cls.bundle_seconds = time.monotonic() - started
        cls.bundle_text = (cls.tmp / "dist" / "parent.js").read_text()

    @classmethod
    def start_serve(cls, isola):
        cls.port = free_port()
        cls.serve_log = open(cls.tmp / "serve.log", "w+")
        unittest.addModuleCleanup(cls.serve_log.close)
        cls.server = subprocess.Popen(
            [isola, "serve", "--config", str(cls.tmp / "wrangler.toml"), "--port", str(cls.port)],
            stdout=cls.serve_log,
            stderr=subprocess.STDOUT,
        )

        def stop():
            cls.server.terminate()
            try:
                cls.server.wait(10)
            except subprocess.TimeoutExpired:
                cls.server.kill()
                cls.server.wait()

        unittest.addModuleCleanup(stop)
        deadline = time.monotonic() + 30
        while True:
            if cls.server.poll() is not None:
                raise AssertionError(f"isola serve exited:\n{cls.logs()}")
            try:
                with urllib.request.urlopen(cls.url("/__isola/healthz"), timeout=2) as r:
                    if r.read() == b"ok":
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"isola serve not ready in 30 s:\n{cls.logs()}")
            time.sleep(0.05)

    @classmethod
    def write_mcp_config(cls):
        command = json.dumps([sys.executable, str(HERE / "upstream.py")])
        (cls.tmp / "codemode.toml").write_text(
            f"""[[upstream]]
name = "codemode"
command = {command}

[limits]
cpu_ms = {CPU_MS}
wall_ms = {WALL_MS}
tool_calls = {TOOL_CALLS}
"""
        )

    @classmethod
    def url(cls, path):
        return f"http://127.0.0.1:{cls.port}{path}"

    @classmethod
    def logs(cls):
        cls.serve_log.flush()
        cls.serve_log.seek(0)
        return cls.serve_log.read()[-4000:]

    @classmethod
    def post(cls, code, query=""):
        request = urllib.request.Request(
            cls.url("/run" + query), data=code.encode(), method="POST"
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        seconds = time.monotonic() - started
        try:
            body = json.loads(text)
        except ValueError:
            body = text
        return Answer(body, status != 200, seconds)

    @classmethod
    def run_all_on_serve(cls):
        answers = {}
        for name, code in PROGRAMS.items():
            query = f"?timeout={WALL_MS}" if name == "timeout" else ""
            answers[name] = cls.post(code, query)
        return answers

    @classmethod
    async def run_all_on_mcp(cls, isola):
        cls.mcp_log = open(cls.tmp / "mcp.log", "w+")
        unittest.addModuleCleanup(cls.mcp_log.close)
        params = StdioServerParameters(
            command=isola,
            args=["mcp", "--config", str(cls.tmp / "codemode.toml")],
            env={**os.environ, "ISOLA_LOG": "warn"},
        )
        answers = {}
        async with stdio_client(params, errlog=cls.mcp_log) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                for name, code in PROGRAMS.items():
                    started = time.monotonic()
                    result = await session.call_tool("execute", {"code": code})
                    seconds = time.monotonic() - started
                    text = "".join(c.text for c in result.content if c.type == "text")
                    answers[name] = Answer(json.loads(text), bool(result.is_error), seconds)
        return answers


def setUpModule():
    Suite.start()


class Agree(Suite):
    def test_bundle_is_the_main_entry_only(self):
        # The parent imports the package's main entry: none of the AI SDK,
        # zod or MCP SDK entry points are pulled in, only cloudflare:workers
        # stays external, and esbuild is quick about it.
        imports = {
            line.split(" from ")[-1].strip().strip(";")
            for line in self.bundle_text.splitlines()
            if line.startswith("import ")
        }
        self.assertEqual(imports, {'"cloudflare:workers"'})
        self.assertIn("var DynamicWorkerExecutor = class", self.bundle_text)
        self.assertLess(self.bundle_seconds, 30)

    def test_agree(self):
        for name, (_code, result, logs) in AGREE.items():
            with self.subTest(name):
                expected = {"result": result, "logs": logs}
                serve, rust = self.serve[name], self.rust[name]
                self.assertEqual((serve.failed, serve.body), (False, expected), "codemode on isola serve")
                self.assertEqual((rust.failed, rust.body), (False, expected), "isola's Rust executor")

    def test_unawaited_call_does_not_hold_the_run(self):
        # Neither executor waits for the 3 s tool the program did not await.
        self.assertLess(self.serve["unawaited_tool_call"].seconds, 2.5)
        self.assertLess(self.rust["unawaited_tool_call"].seconds, 2.5)

    def test_failures(self):
        for name, (_code, cls, message, logs) in FAIL.items():
            with self.subTest(name):
                serve, rust = self.serve[name], self.rust[name]
                # codemode: the error's message only (`err.message`).
                self.assertEqual((serve.failed, serve.body), (False, {"error": message, "logs": logs}))
                # isola: the class name too (by design), else the same.
                self.assertEqual(
                    (rust.failed, rust.body),
                    (True, {"error": with_class(cls, message), "logs": logs}),
                )

    def test_concurrent_requests_get_their_own_sandbox(self):
        codes = [
            f'async () => {{ globalThis.seen = (globalThis.seen ?? 0) + 1; console.log("run {i}"); '
            f"return {{ i: {i}, sum: await codemode.add({{ a: {i}, b: {i} }}), seen: globalThis.seen }} }}"
            for i in range(8)
        ]
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(self.post, codes))
        for i, answer in enumerate(answers):
            self.assertEqual(
                (answer.failed, answer.body),
                (False, {"result": {"i": i, "sum": 2 * i, "seen": 1}, "logs": [f"run {i}"]}),
            )


    def test_parent_console_output_reaches_the_serve_log(self):
        # The parent's own console.log (its Response has a content-length).
        log = self.logs()
        self.assertIn("POST /run: ok", log)
        self.assertIn("POST /run: error", log)


class Differences(Suite):
    """Where the two executors differ on purpose. Each assertion names both
    sides, so neither drifts unnoticed."""

    def test_undefined_result(self):
        # codemode passes `undefined` through, and Response.json drops the
        # key; isola's executor answers JSON, where it is null.
        self.assertEqual(self.serve["undefined_result"].body, {"logs": []})
        self.assertEqual(self.rust["undefined_result"].body, {"result": None, "logs": []})

    def test_console_info(self):
        # codemode overrides only console.log/warn/error; isola's executor
        # keeps every console method (info without a prefix).
        self.assertEqual(self.serve["console_info"].body, {"result": 1, "logs": ["log line"]})
        self.assertEqual(
            self.rust["console_info"].body, {"result": 1, "logs": ["info line", "log line"]}
        )

    def test_object_logs(self):
        # codemode logs `String(arg)`; isola's console formats objects.
        self.assertEqual(self.serve["object_logs"].body["logs"], ["[object Object] 1,2"])
        self.assertEqual(self.rust["object_logs"].body["logs"], ["{ a: 1 } [ 1, 2 ]"])

    def test_throwing_a_non_error(self):
        # codemode reports `err.message`, undefined for a string, which
        # then reads as success without a result; isola reports the throw.
        self.assertEqual(self.serve["throw_string"].body, {"logs": []})
        rust = self.rust["throw_string"]
        self.assertEqual((rust.failed, rust.body), (True, {"error": "Error: just a string", "logs": []}))

    def test_bytes_result(self):
        # A Uint8Array result reaches codemode's parent as bytes, which
        # Response.json writes as an index map; isola's executor answers
        # JSON with bytes as {"$bytes": base64}.
        self.assertEqual(self.serve["bytes_result"].body, {"result": {"0": 1, "1": 2, "2": 3}, "logs": []})
        self.assertEqual(self.rust["bytes_result"].body, {"result": {"$bytes": "AQID"}, "logs": []})

    def test_typescript(self):
        # codemode does not strip types (it tells models to write plain
        # JavaScript): the sandbox fails to start, as in workerd, and
        # execute() rejects. isola's executor strips them.
        serve = self.serve["typescript"]
        self.assertTrue(serve.failed)
        self.assertTrue(
            serve.body["thrown"]["message"].startswith("Failed to start Worker:\nUncaught SyntaxError: "),
            serve.body,
        )
        self.assertEqual(self.rust["typescript"].body, {"result": 42, "logs": []})

    def test_syntax_error(self):
        # Both refuse; codemode's execute() rejects with the loader's
        # startup error (workerd's format, module executor.js); isola's
        # executor answers an error naming the program's own line/column.
        serve, rust = self.serve["syntax_error"], self.rust["syntax_error"]
        self.assertTrue(serve.failed)
        message = serve.body["thrown"]["message"]
        self.assertTrue(message.startswith("Failed to start Worker:\nUncaught SyntaxError: "), message)
        self.assertIn("at executor.js:", message)
        self.assertTrue(rust.failed)
        self.assertEqual(rust.body["logs"], [])
        self.assertRegex(rust.body["error"], r"^SyntaxError: .*\(line 1, column \d+\)$")

    def test_timeout(self):
        # codemode's own Promise.race timer; isola's wall-clock limit. Both
        # keep the logs written before.
        serve, rust = self.serve["timeout"], self.rust["timeout"]
        self.assertEqual((serve.failed, serve.body), (False, {"error": "Execution timed out", "logs": ["waiting"]}))
        self.assertEqual(
            (rust.failed, rust.body),
            (True, {"error": "Worker exceeded wall-clock time limit.", "logs": ["waiting"]}),
        )
        for answer in (serve, rust):
            self.assertGreater(answer.seconds, WALL_MS / 1000 - 0.2)
            self.assertLess(answer.seconds, WALL_MS / 1000 + 3)

    def test_tool_call_limit(self):
        # codemode has no cap on tool calls; isola's executor does.
        n = TOOL_CALLS + 5
        self.assertEqual(self.serve["tool_call_limit"].body, {"result": n * (n - 1) // 2, "logs": []})
        rust = self.rust["tool_call_limit"]
        self.assertEqual(
            (rust.failed, rust.body),
            (True, {"error": f"Too many tool calls: at most {TOOL_CALLS} per run.", "logs": []}),
        )

    def test_cpu_loop(self):
        # workerd would spin until the request dies; isola enforces a CPU
        # limit on loaded workers too, so codemode's execute() rejects
        # (its sandbox logs go with it). isola's executor answers an error
        # and keeps the logs.
        serve, rust = self.serve["cpu_loop"], self.rust["cpu_loop"]
        self.assertEqual(
            (serve.failed, serve.body),
            (True, {"thrown": {"name": "Error", "message": "Worker exceeded CPU time limit."}}),
        )
        self.assertEqual(
            (rust.failed, rust.body),
            (True, {"error": "Worker exceeded CPU time limit.", "logs": ["spinning"]}),
        )

if __name__ == "__main__":
    unittest.main()
