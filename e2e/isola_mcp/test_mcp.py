"""End-to-end tests of `isola mcp` with real clients and servers.

The client is the official MCP Python SDK, over stdio and over streamable
HTTP. Upstreams are the reference server
`@modelcontextprotocol/server-everything` (stdio and streamable HTTP), a
raw JSON-RPC stdio server that misbehaves on purpose (`fake_upstream.py`)
and a raw HTTP server that echoes its request headers
(`echo_http_upstream.py`).

Run with `bash e2e/run.sh -k <pattern>`; `ISOLA_BIN` names the binary.
"""

import asyncio
import contextlib
import http.client
import json
import logging
import os
import re
import secrets
import shutil
import socket
import sys
import tempfile
import time
import unittest
import urllib.parse
from pathlib import Path

from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

HERE = Path(__file__).resolve().parent
ISOLA = os.environ.get("ISOLA_BIN") or str(HERE.parent.parent / "target" / "debug" / "isola")
NODE = shutil.which("node") or "node"
EVERYTHING_JS = HERE / "node_modules" / "@modelcontextprotocol" / "server-everything" / "dist" / "index.js"
EVERYTHING = [NODE, str(EVERYTHING_JS), "stdio"]
FAKE = [sys.executable, str(HERE / "fake_upstream.py")]
ECHO_HTTP = [sys.executable, str(HERE / "echo_http_upstream.py")]

REDACTED = "[redacted by isola]"
NO_ELICITATION = "fake.delete_item needs approval, and this client cannot be asked: it does not support MCP elicitation."


class _SessionTermination(logging.Filter):
    """rmcp answers a session's DELETE with 202 Accepted (the spec names no
    status), and the SDK warns unless it gets 200 or 204. The session is
    closed all the same."""

    def filter(self, record):
        return not record.getMessage().startswith("Session termination failed: 202")


logging.getLogger("mcp.client.streamable_http").addFilter(_SessionTermination())


def toml(value):
    """A TOML value: JSON strings and arrays of strings are valid TOML."""
    return json.dumps(value)


def inline(table):
    """A TOML inline table of strings."""
    return "{ " + ", ".join(f"{toml(k)} = {toml(v)}" for k, v in table.items()) + " }"


def upstream(name, *, command=None, url=None, **keys):
    """One `[[upstream]]` table; `keys` values are raw TOML."""
    lines = ["[[upstream]]", f"name = {toml(name)}"]
    if command is not None:
        lines.append(f"command = {toml(command)}")
    if url is not None:
        lines.append(f"url = {toml(url)}")
    lines += [f"{key} = {value}" for key, value in keys.items()]
    return "\n".join(lines) + "\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def namespace_tools(tools, namespace):
    """The tools `execute`'s description lists under `namespace`."""
    description = next(t.description for t in tools if t.name == "execute")
    found = re.search(rf"^- {namespace}: (.*)$", description, re.M)
    assert found, description
    return found.group(1).split(", ")


def answer(result):
    """The JSON body of an `execute` answer."""
    assert len(result.content) == 1, result
    return json.loads(result.content[0].text)


class IsolaMcpTest(unittest.IsolatedAsyncioTestCase):
    """Starts `isola mcp` with a config, connects the SDK client to it."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="isola-e2e-mcp-")
        self.tmp = Path(self._tmp.name)
        self.addCleanup(self._tmp.cleanup)
        self.stderr_path = self.tmp / "isola.stderr"
        self.call_log = self.tmp / "calls.log"
        # isola's log goes to a file, shown when a test fails.
        self.addCleanup(self._show_log_on_failure)

    def _show_log_on_failure(self):
        result = getattr(getattr(self, "_outcome", None), "result", None)
        failed = result is not None and any(test is self for test, _ in result.errors + result.failures)
        if failed and self.stderr_path.exists():
            sys.stderr.write(f"\n--- isola stderr ({self.id()}) ---\n{self.stderr_path.read_text()}\n")

    def config(self, text):
        path = self.tmp / "codemode.toml"
        path.write_text(text)
        return path

    def fake(self, name="fake", env=None, **keys):
        """The misbehaving stdio upstream, logging its calls."""
        env = {"FAKE_CALL_LOG": str(self.call_log), **(env or {})}
        return upstream(name, command=FAKE, env=inline(env), **keys)

    def calls(self):
        return self.call_log.read_text().split() if self.call_log.exists() else []

    def isola_env(self, extra=None):
        env = {"ISOLA_LOG": "info,rmcp=warn"}
        env.update(extra or {})
        return env

    @contextlib.asynccontextmanager
    async def stdio(self, config_text, *, env=None, **session_args):
        """A client session with `isola mcp` over stdio."""
        path = self.config(config_text)
        params = StdioServerParameters(command=ISOLA, args=["mcp", "-c", str(path)], env=self.isola_env(env))
        with open(self.stderr_path, "a") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write, **session_args) as session:
                    await session.initialize()
                    yield session

    @contextlib.asynccontextmanager
    async def http_server(self, config_text, *, env=None):
        """`isola mcp --http 127.0.0.1:0`; yields its /mcp URL."""
        path = self.config(config_text)
        full_env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
        full_env.update(self.isola_env(env))
        full_env["NO_COLOR"] = "1"
        process = await asyncio.create_subprocess_exec(
            ISOLA, "mcp", "-c", str(path), "--http", "127.0.0.1:0",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, env=full_env,
        )
        log = open(self.stderr_path, "a")
        drainer = None
        try:
            url = None
            deadline = time.monotonic() + 30
            while url is None:
                line = await asyncio.wait_for(process.stderr.readline(), max(0.1, deadline - time.monotonic()))
                if not line:
                    raise AssertionError(f"isola mcp --http exited ({await process.wait()}) before listening")
                text = line.decode(errors="replace")
                log.write(text)
                found = re.search(r"isola mcp listening on (http://\S+/mcp)", text)
                if found:
                    url = found.group(1)

            async def drain():
                while line := await process.stderr.readline():
                    log.write(line.decode(errors="replace"))
                    log.flush()

            drainer = asyncio.ensure_future(drain())
            yield url
            # SIGTERM is a graceful stop: exit code 0, promptly.
            process.terminate()
            self.assertEqual(await asyncio.wait_for(process.wait(), 5), 0)
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 5)
                except asyncio.TimeoutError:
                    process.kill()
                    await process.wait()
            if drainer is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(drainer, 2)
            log.close()

    @contextlib.asynccontextmanager
    async def http_session(self, url, **session_args):
        async with streamable_http_client(url) as (read, write):
            async with ClientSession(read, write, **session_args) as session:
                await session.initialize()
                yield session

    @contextlib.asynccontextmanager
    async def process(self, argv, ready_pattern, *, env=None, stream="stdout"):
        """A helper server process; yields the match of `ready_pattern` in its output."""
        full_env = dict(os.environ)
        full_env.update(env or {})
        pipe = asyncio.subprocess.PIPE
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL,
            stdout=pipe if stream == "stdout" else asyncio.subprocess.DEVNULL,
            stderr=pipe if stream == "stderr" else asyncio.subprocess.DEVNULL,
            env=full_env,
        )
        reader = process.stdout if stream == "stdout" else process.stderr
        try:
            while True:
                line = await asyncio.wait_for(reader.readline(), 30)
                if not line:
                    raise AssertionError(f"{argv} exited before it was ready")
                found = re.search(ready_pattern, line.decode(errors="replace"))
                if found:
                    break
            yield found, process
        finally:
            if process.returncode is None:
                process.terminate()
                await process.wait()

    async def execute(self, session, code, **kwargs):
        """Runs `code`; answers (is_error, body)."""
        result = await session.call_tool("execute", {"code": code}, **kwargs)
        return bool(result.is_error), answer(result)

    async def ok(self, session, code, **kwargs):
        """Runs `code`, which must succeed; answers its result."""
        is_error, body = await self.execute(session, code, **kwargs)
        self.assertFalse(is_error, body)
        return body["result"]


class Everything(IsolaMcpTest):
    """The reference server as an upstream, the SDK as the client."""

    async def test_stdio_search_and_execute(self):
        async with self.stdio(upstream("everything", command=EVERYTHING)) as session:
            listed = await session.list_tools()
            self.assertEqual([t.name for t in listed.tools], ["search", "execute"])
            execute_tool = listed.tools[1]
            self.assertRegex(execute_tool.description, r"\n- everything: [a-z_, ]*\bget_sum\b")
            self.assertIn("echo", execute_tool.description)

            found = await session.call_tool("search", {"query": "sum of two numbers", "limit": 1})
            self.assertFalse(found.is_error)
            text = found.content[0].text
            self.assertIn("// everything.get_sum", text)
            self.assertIn("a: number", text)
            self.assertIn("Returns the sum of two numbers", text)
            self.assertNotIn("everything.echo", text)  # limit 1

            overview = await session.call_tool("search", {"query": ""})
            self.assertIn("// everything: ", overview.content[0].text)
            self.assertIn("//   everything.get_env", overview.content[0].text)

            is_error, body = await self.execute(
                session,
                """async () => {
                    const [sum, echo] = await Promise.all([
                        everything.get_sum({ a: 1, b: 2 }),
                        everything.echo({ message: "hi" }),
                    ]);
                    console.log("sum is", sum);
                    console.warn("careful");
                    let missing;
                    try { await everything.no_such_tool({}); } catch (e) { missing = e.message; }
                    return { sum, echo, missing };
                }""",
            )
            self.assertFalse(is_error, body)
            self.assertEqual(
                body["result"],
                {"sum": "The sum of 1 and 2 is 3.", "echo": "Echo: hi", "missing": 'Tool "no_such_tool" not found'},
            )
            self.assertEqual(body["logs"], ["sum is The sum of 1 and 2 is 3.", "[warn] careful"])
            # TypeScript is accepted as well.
            typed = """async (): Promise<string> => {
                interface Sum { a: number; b: number }
                const input: Sum = { a: 2, b: 3 };
                return (await everything.get_sum(input)) as string;
            }"""
            self.assertEqual(await self.ok(session, typed), "The sum of 2 and 3 is 5.")
            raw = await session.call_tool("execute", {"code": "async () => { console.log('a', 1); return 1 }"})
            self.assertEqual(raw.content[0].text, '{\n  "result": 1,\n  "logs": [\n    "a 1"\n  ]\n}')

            # A program that throws, or does not parse: an error answer, and
            # the server goes on.
            is_error, body = await self.execute(
                session, "async () => { console.log('before'); throw new Error('boom') }"
            )
            self.assertTrue(is_error)
            self.assertEqual(body, {"error": "Error: boom", "logs": ["before"]})
            is_error, body = await self.execute(session, "async () => { return 1 +* }")
            self.assertTrue(is_error)
            self.assertEqual(body, {"error": "SyntaxError: Unexpected token (line 1, column 25)", "logs": []})
            self.assertEqual(await self.ok(session, "async () => 41 + 1"), 42)

            # A tool isola does not have is a protocol error, with the
            # names of the ones it has.
            with self.assertRaises(MCPError) as raised:
                await session.call_tool("get_sum", {"a": 1, "b": 2})
            self.assertEqual(
                raised.exception.error.message, 'unknown tool "get_sum"; this server has `search` and `execute`'
            )

    async def test_stdio_upstreams_get_a_clean_environment(self):
        """isola's own variables do not reach a stdio upstream (everything's
        `get-env` answers its whole environment); its `env` table does."""
        config = upstream("everything", command=EVERYTHING, env=inline({"GIVEN": "to-everything"}))
        env = {"E2E_HOST_ONLY": "host-only-value", "AWS_SECRET_ACCESS_KEY": "not-for-upstreams"}
        async with self.stdio(config, env=env) as session:
            seen = await self.ok(session, "async () => await everything.get_env({})")
        self.assertIsInstance(seen, dict)
        self.assertEqual(seen.get("GIVEN"), "to-everything")
        self.assertIn("PATH", seen)
        self.assertNotIn("E2E_HOST_ONLY", seen)
        self.assertNotIn("AWS_SECRET_ACCESS_KEY", seen)
        self.assertNotIn("ISOLA_LOG", seen)

    async def test_http_client_and_http_upstream(self):
        """isola over streamable HTTP, with everything over streamable HTTP
        as its upstream: search, execute, progress and an approval."""
        port = free_port()
        everything_http = [NODE, str(EVERYTHING_JS), "streamableHttp"]
        async with self.process(everything_http, r"listening on port", env={"PORT": str(port)}, stream="stderr"):
            config = upstream("everything", url=f"http://127.0.0.1:{port}/mcp")
            config += "[upstream.tools.get-sum]\napproval = \"required\"\n"
            async with self.http_server(config) as url:
                asked = []

                async def elicit(context, params):
                    asked.append(params.message)
                    return types.ElicitResult(action="accept", content={})

                progress = []

                async def on_progress(value, total, message):
                    progress.append((value, message))

                async with self.http_session(url, elicitation_callback=elicit) as session:
                    listed = await session.list_tools()
                    self.assertIn("get_sum", listed.tools[1].description)
                    found = await session.call_tool("search", {"query": "echo"})
                    self.assertIn("// everything.echo", found.content[0].text)
                    result = await self.ok(
                        session,
                        """async () => {
                            const echo = await everything.echo({ message: "over http" });
                            const sum = await everything.get_sum({ a: 20, b: 22 });
                            const slow = await everything.trigger_long_running_operation({ duration: 1.5, steps: 1 });
                            return { echo, sum, slow };
                        }""",
                        progress_callback=on_progress,
                    )
                    self.assertEqual(result["echo"], "Echo: over http")
                    self.assertEqual(result["sum"], "The sum of 20 and 22 is 42.")
                    self.assertIn("Long running operation completed", result["slow"])
                    self.assertEqual(len(asked), 1)
                    self.assertTrue(asked[0].startswith("Allow the program to call everything.get_sum"), asked)
                    messages = [m for _, m in progress]
                    self.assertIn("everything.echo answered", messages)
                    self.assertIn("everything.get_sum answered", messages)
                    self.assertIn("running for 1 s", messages)
                    values = [v for v, _ in progress]
                    self.assertEqual(values, sorted(set(values)), progress)

                # A second client without elicitation, same server: refused.
                async with self.http_session(url) as session:
                    is_error, body = await self.execute(session, "async () => everything.get_sum({ a: 1, b: 1 })")
                    self.assertTrue(is_error)
                    self.assertEqual(
                        body["error"],
                        "Error: everything.get_sum needs approval, and this client cannot be asked: "
                        "it does not support MCP elicitation.",
                    )


    async def test_http_sessions_each_hear_of_tool_list_changes(self):
        """Two clients of one `isola mcp --http`: a change one of them
        causes upstream reaches both, on their standalone SSE streams."""
        events = [asyncio.Event(), asyncio.Event()]

        def handler(event):
            async def on_message(message):
                if isinstance(message, types.ToolListChangedNotification):
                    event.set()
            return on_message

        async with self.http_server(self.fake()) as url:
            async with self.http_session(url, message_handler=handler(events[0])) as one, \
                    self.http_session(url, message_handler=handler(events[1])) as two:
                self.assertNotIn("fresh", namespace_tools((await two.list_tools()).tools, "fake"))
                self.assertEqual(await self.ok(one, "async () => fake.add_tool({})"), {"added": "fresh"})
                await asyncio.wait_for(asyncio.gather(events[0].wait(), events[1].wait()), 10)
                self.assertIn("fresh", namespace_tools((await two.list_tools()).tools, "fake"))
                self.assertEqual(await self.ok(two, "async () => fake.fresh({ n: 2 })"), {"fresh": 2})

class Cli(IsolaMcpTest):
    async def test_http_refuses_foreign_host_headers(self):
        """rmcp's guard against DNS rebinding: a page on another origin
        cannot drive a local `isola mcp --http`."""
        initialize = json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
        })

        def post(url, host):
            parsed = urllib.parse.urlsplit(url)
            connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
            headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
            if host:
                headers["Host"] = host
            connection.request("POST", parsed.path, initialize, headers)
            response = connection.getresponse()
            status, body = response.status, response.read().decode()
            connection.close()
            return status, body

        async with self.http_server(self.fake()) as url:
            status, body = await asyncio.to_thread(post, url, "evil.example")
            self.assertEqual((status, body), (403, "Forbidden: Host header is not allowed"))
            status, body = await asyncio.to_thread(post, url, "localhost:8788")
            self.assertEqual(status, 200)
            self.assertIn('"serverInfo":{"name":"isola-mcp"', body)
            status, body = await asyncio.to_thread(post, url.replace("/mcp", "/elsewhere"), None)
            self.assertEqual((status, body), (404, "Not found: the MCP endpoint is /mcp\n"))

    async def test_stdio_server_exits_with_its_client_and_takes_upstreams_along(self):
        """When the client closes stdin, `isola mcp` exits 0 and its stdio
        upstreams do not outlive it (even one that ignores the end of its
        stdin)."""
        process = await asyncio.create_subprocess_exec(
            ISOLA, "mcp", "-c", str(self.config(self.fake(env={"FAKE_LINGER": "1"}))),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )

        async def send(message):
            process.stdin.write((json.dumps({"jsonrpc": "2.0", **message}) + "\n").encode())
            await process.stdin.drain()

        async def receive(request_id):
            while True:
                line = await asyncio.wait_for(process.stdout.readline(), 30)
                self.assertTrue(line, "isola closed stdout")
                message = json.loads(line)
                if message.get("id") == request_id:
                    return message

        await send({"id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})
        self.assertEqual((await receive(1))["result"]["serverInfo"]["name"], "isola-mcp")
        await send({"method": "notifications/initialized"})
        await send({"id": 2, "method": "tools/call",
                    "params": {"name": "execute", "arguments": {"code": "async () => fake.pid({})"}}})
        upstream_pid = json.loads((await receive(2))["result"]["content"][0]["text"])["result"]["pid"]

        process.stdin.close()
        self.assertEqual(await asyncio.wait_for(process.wait(), 5), 0)

        def gone(pid):
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:
                return True
            return state in ("Z", "X")  # a zombie waiting for a reaper is gone too

        deadline = time.monotonic() + 5
        while not gone(upstream_pid) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self.assertTrue(gone(upstream_pid), f"upstream {upstream_pid} outlived isola")

    async def test_bad_configs_exit_2_with_the_reason(self):
        cases = [
            ('[[upstream]]\nname = "a"\ncomand = ["x"]\n', "unknown field `comand`"),
            ('[[upstream]]\nname = "a"\nurl = "http://h/"\nheaders = { Authorization = "${E2E_UNSET_VAR}" }\n',
             'upstream "a": header "Authorization" uses ${E2E_UNSET_VAR}, which is not set in the environment'),
        ]
        for text, reason in cases:
            path = self.config(text)
            process = await asyncio.create_subprocess_exec(
                ISOLA, "mcp", "-c", str(path), stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
            self.assertEqual(process.returncode, 2, stderr)
            self.assertEqual(stdout, b"")
            self.assertTrue(stderr.decode().startswith(f"isola: error: {path}"), stderr)
            self.assertIn(reason, stderr.decode())

    async def test_http_refuses_to_listen_beyond_loopback(self):
        path = self.config(self.fake())
        process = await asyncio.create_subprocess_exec(
            ISOLA, "mcp", "-c", str(path), "--http", "0.0.0.0:0", stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
        self.assertEqual(process.returncode, 2, stderr)
        self.assertIn("isola mcp serves HTTP on loopback addresses only (0.0.0.0:0 is not)", stderr.decode())


class Approvals(IsolaMcpTest):
    """`approval = "required"` is put to the person through elicitation."""

    def approval_config(self):
        # Keyed by the upstream's own tool name; the program calls it as
        # `fake.delete_item`.
        return self.fake() + '[upstream.tools.delete-item]\napproval = "required"\n'

    async def test_accepted_call_runs(self):
        asked = []

        async def elicit(context, params):
            asked.append(params)
            return types.ElicitResult(action="accept", content={})

        async with self.stdio(self.approval_config(), elicitation_callback=elicit) as session:
            result = await self.ok(session, "async () => fake.delete_item({ id: 7 })")
        self.assertEqual(result, {"deleted": 7})
        self.assertEqual(len(asked), 1)
        self.assertEqual(asked[0].mode, "form")
        self.assertEqual(asked[0].message, 'Allow the program to call fake.delete_item with this input?\n{\n  "id": 7\n}')
        self.assertEqual(self.calls(), ["delete-item"])

    async def test_declined_and_cancelled_calls_throw_in_the_program(self):
        answers = ["decline", "cancel", "error"]

        async def elicit(context, params):
            action = answers.pop(0)
            if action == "error":
                return types.ErrorData(code=types.INVALID_REQUEST, message="nobody is at the keyboard")
            return types.ElicitResult(action=action)

        async with self.stdio(self.approval_config(), elicitation_callback=elicit) as session:
            result = await self.ok(
                session,
                """async () => {
                    const errors = [];
                    for (const id of [1, 2, 3]) {
                        try { await fake.delete_item({ id }); } catch (e) { errors.push(e.message); }
                    }
                    // Tools without an approval rule run as usual.
                    return { errors, echo: await fake.echo({ message: "still here" }) };
                }""",
            )
        self.assertEqual(
            result["errors"],
            [
                "The call to fake.delete_item was declined by the user.",
                "The call to fake.delete_item was cancelled by the user.",
                "Approval for fake.delete_item could not be obtained: Mcp error: -32600: nobody is at the keyboard",
            ],
        )
        self.assertEqual(result["echo"], {"message": "still here"})
        self.assertEqual(self.calls(), ["echo"])  # delete-item never reached the upstream

    async def test_client_without_elicitation_is_refused(self):
        async with self.stdio(self.approval_config()) as session:
            result = await self.ok(
                session,
                """async () => {
                    try { await fake.delete_item({ id: 3 }); return "called"; }
                    catch (e) { return { name: e.name, message: e.message }; }
                }""",
            )
            self.assertEqual(result, {"name": "Error", "message": NO_ELICITATION})
            # Uncaught, it fails the run with the same message.
            is_error, body = await self.execute(session, "async () => fake.delete_item({ id: 4 })")
            self.assertTrue(is_error)
            self.assertEqual(body["error"], "Error: " + NO_ELICITATION)
        self.assertEqual(self.calls(), [])


class FirstRun(IsolaMcpTest):
    """What a first user of `isola mcp` meets before any program runs."""

    async def run_isola(self, config_text, *args, stdin=None):
        path = self.config(config_text)
        process = await asyncio.create_subprocess_exec(
            ISOLA, "mcp", "-c", str(path), *args,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **self.isola_env(), "NO_COLOR": "1"},
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(stdin), 30)
        return process.returncode, stdout, stderr.decode()

    async def test_tool_settings_may_name_the_tool_as_programs_see_it(self):
        # `delete_item` is the identifier; the upstream calls it `delete-item`.
        config = self.fake() + '[upstream.tools.delete_item]\napproval = "required"\n'
        async with self.stdio(config) as session:
            is_error, body = await self.execute(session, "async () => fake.delete_item({ id: 4 })")
        self.assertTrue(is_error)
        self.assertEqual(body["error"], "Error: " + NO_ELICITATION)
        self.assertEqual(self.calls(), [])

    async def test_a_setting_that_names_no_tool_stops_startup(self):
        config = self.fake() + '[upstream.tools.delete_itme]\napproval = "required"\n'
        code, stdout, stderr = await self.run_isola(config)
        self.assertEqual(code, 2, stderr)
        self.assertEqual(stdout, b"")
        self.assertIn('upstream "fake": no tool is named delete_itme; its tools are: ', stderr)
        self.assertIn("delete-item, delete_item", stderr)

    async def test_ready_line_and_clean_exit_when_stdin_closes_first(self):
        code, stdout, stderr = await self.run_isola(self.fake())
        self.assertEqual(code, 0, stderr)
        self.assertEqual(stdout, b"")
        self.assertRegex(stderr, r"isola mcp ready on stdio; upstreams: fake \(\d+ tools\)")

    async def test_an_upstreams_stderr_carries_its_name(self):
        talker = [sys.executable, "-c", "import runpy, sys; print('warming up', file=sys.stderr, flush=True); "
                  f"sys.argv = [{str(HERE / 'fake_upstream.py')!r}]; runpy.run_path(sys.argv[0], run_name='__main__')"]
        config = upstream("talker", command=talker, env=inline({"FAKE_CALL_LOG": str(self.call_log)}))
        code, _, stderr = await self.run_isola(config)
        self.assertEqual(code, 0, stderr)
        self.assertIn("[talker] warming up", stderr)

    async def test_the_example_config_starts(self):
        # examples/codemode/codemode.toml as the README shows it, with the
        # reference server from node_modules instead of `npx -y`.
        example = (HERE.parent.parent / "examples" / "codemode" / "codemode.toml").read_text()
        command = re.search(r"^command = .*$", example, re.M)
        self.assertIsNotNone(command, example)
        config = example.replace(command.group(0), f"command = {toml(EVERYTHING)}")
        code, stdout, stderr = await self.run_isola(config)
        self.assertEqual(code, 0, stderr)
        self.assertEqual(stdout, b"")
        self.assertRegex(stderr, r"isola mcp ready on stdio; upstreams: everything \(\d+ tools\)")

    async def test_a_port_in_use_fails_at_once_naming_the_address(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            started = time.monotonic()
            code, _, stderr = await self.run_isola(self.fake(), "--http", f"127.0.0.1:{port}")
        self.assertEqual(code, 1, stderr)
        self.assertIn(f"cannot listen on 127.0.0.1:{port}: the address is already in use", stderr)
        self.assertLess(time.monotonic() - started, 10)
        # Before any upstream was started.
        self.assertNotIn("isola mcp ready", stderr)


class Progress(IsolaMcpTest):
    async def test_progress_notifications_when_asked(self):
        notifications = []

        async def on_message(message):
            notifications.append(message)

        progress = []

        async def on_progress(value, total, message):
            progress.append((value, total, message))

        async with self.stdio(self.fake(), message_handler=on_message) as session:
            started = time.monotonic()
            result = await self.ok(
                session,
                """async () => {
                    await fake.echo({ message: "first" });
                    return await fake.sleep({ ms: 2300 });
                }""",
                progress_callback=on_progress,
            )
            elapsed = time.monotonic() - started
            self.assertEqual(result, {"slept": 2300})
            messages = [m for _, _, m in progress]
            # One per answered tool call, in order, and a heartbeat each second.
            self.assertEqual(
                [m for m in messages if m.endswith("answered")], ["fake.echo answered", "fake.sleep answered"]
            )
            self.assertIn("running for 1 s", messages)
            self.assertIn("running for 2 s", messages)
            self.assertLess(messages.index("running for 1 s"), messages.index("running for 2 s"))
            self.assertLessEqual(len(messages), 2 + int(elapsed) + 1)
            values = [v for v, _, _ in progress]
            self.assertEqual(values, list(range(1, len(values) + 1)), progress)

            # Two runs at once: each request's progress goes to its own token.
            first, second = [], []

            async def to(into):
                async def on(value, total, message):
                    into.append(message)
                return on

            await asyncio.gather(
                self.ok(session, "async () => fake.sleep({ ms: 1100 })", progress_callback=await to(first)),
                self.ok(session, "async () => fake.pid({})", progress_callback=await to(second)),
            )
            self.assertIn("fake.sleep answered", first)
            self.assertNotIn("fake.pid answered", first)
            self.assertEqual(second, ["fake.pid answered"])

            # Without a progress token: no progress notifications at all.
            def progress_notifications():
                return [n for n in notifications if isinstance(n, types.ProgressNotification)]

            # (The SDK shows the message handler every notification.)
            self.assertEqual(len(progress_notifications()), len(progress) + len(first) + len(second))
            before = len(progress_notifications())
            await self.ok(session, "async () => fake.sleep({ ms: 1200 })")
            self.assertEqual(len(progress_notifications()), before)


class UpstreamFailures(IsolaMcpTest):
    """A crash, a timeout or a malformed result is an error in the run,
    never a dead server."""

    async def test_timeout_malformed_and_error_results(self):
        config = self.fake(timeout_ms="800")
        async with self.stdio(config) as session:
            started = time.monotonic()
            result = await self.ok(
                session,
                """async () => {
                    const out = {};
                    const calls = [["sleep", { ms: 5000 }], ["malformed", {}], ["garbage", {}], ["fail", {}]];
                    for (const [name, input] of calls) {
                        try { out[name] = await fake[name](input); } catch (e) { out[name] = e.message; }
                    }
                    out.after = await fake.echo({ message: "alive" });
                    return out;
                }""",
            )
            elapsed = time.monotonic() - started
            self.assertEqual(result["sleep"], 'upstream "fake" did not answer fake.sleep within 800 ms')
            self.assertLess(elapsed, 4, "the timeout did not cut the call short")
            # rmcp's words for a result that is not a CallToolResult.
            self.assertEqual(result["malformed"], 'upstream "fake" failed on fake.malformed: Unexpected response type')
            # A stray line that is not JSON-RPC is skipped; the answer after it counts.
            self.assertEqual(result["garbage"], {"after": "garbage"})
            self.assertEqual(result["fail"], "the fake upstream refuses")
            self.assertEqual(result["after"], {"message": "alive"})

            # Uncaught, the upstream's error fails the run with its message.
            is_error, body = await self.execute(session, "async () => { console.log('x'); await fake.fail({}) }")
            self.assertTrue(is_error)
            self.assertEqual(body, {"error": "Error: the fake upstream refuses", "logs": ["x"]})

            # A tool that is not a tool of the upstream.
            is_error, body = await self.execute(session, "async () => fake.nope({})")
            self.assertEqual(body["error"], 'Error: Tool "nope" not found')

            # An argument that is not an object never reaches the upstream.
            result = await self.ok(
                session, "async () => { try { await fake.echo('text') } catch (e) { return e.message } }"
            )
            self.assertEqual(result, "fake.echo takes one object argument, not a string")
        self.assertEqual(self.calls(), ["sleep", "malformed", "garbage", "fail", "echo", "fail"])

    async def test_crash_mid_call_then_reconnect(self):
        async with self.stdio(self.fake()) as session:
            first = (await self.ok(session, "async () => fake.pid({})"))["pid"]
            result = await self.ok(
                session,
                """async () => {
                    const out = {};
                    try { await fake.crash({}); } catch (e) { out.crash = e.message; }
                    try { await fake.pid({}); } catch (e) { out.right_after = e.message; }
                    return out;
                }""",
            )
            self.assertEqual(result["crash"], 'upstream "fake" closed the connection during fake.crash')
            self.assertEqual(result["right_after"], 'upstream "fake" closed the connection')
            # The tools stay listed while it is down.
            listed = await session.list_tools()
            self.assertIn("- fake: echo, sleep", listed.tools[1].description)
            # After the retry delay (2 s), the next run reconnects: a new process.
            await asyncio.sleep(2.2)
            second = (await self.ok(session, "async () => fake.pid({})"))["pid"]
            self.assertNotEqual(first, second)

    async def test_upstream_that_cannot_start(self):
        config = upstream("broken", command=["/nonexistent/upstream-server"]) + self.fake()
        async with self.stdio(config) as session:
            listed = await session.list_tools()
            description = listed.tools[1].description
            self.assertIn('\n- broken (unavailable: upstream "broken" is unavailable: cannot start', description)
            self.assertIn("\n- fake: echo", description)
            overview = (await session.call_tool("search", {"query": ""})).content[0].text
            self.assertIn("// broken: unavailable (", overview)
            result = await self.ok(
                session,
                """async () => {
                    let message;
                    try { await broken.anything({}); } catch (e) { message = e.message; }
                    return { broken: message, fake: await fake.echo({ message: "fine" }) };
                }""",
            )
            self.assertTrue(
                result["broken"].startswith('upstream "broken" is unavailable: cannot start "/nonexistent/upstream-server"'),
                result["broken"],
            )
            self.assertEqual(result["fake"], {"message": "fine"})


    async def test_upstream_that_never_answers_does_not_hold_up_the_server(self):
        # A process that starts but never answers `initialize`.
        hang = [sys.executable, "-c", "import time; time.sleep(120)"]
        config = upstream("hang", command=hang, connect_timeout_ms="700") + self.fake()
        started = time.monotonic()
        async with self.stdio(config) as session:
            listed = await session.list_tools()
            self.assertLess(time.monotonic() - started, 10)
            description = listed.tools[1].description
            self.assertIn('\n- hang (unavailable: upstream "hang" did not finish connecting within 700 ms)', description)
            result = await self.ok(
                session,
                """async () => {
                    let message;
                    try { await hang.anything({}); } catch (e) { message = e.message; }
                    return { hang: message, fake: await fake.echo({ message: "fine" }) };
                }""",
            )
            self.assertEqual(result["hang"], 'upstream "hang" did not finish connecting within 700 ms')
            self.assertEqual(result["fake"], {"message": "fine"})

    async def test_http_upstream_down_and_back(self):
        port = free_port()
        config = upstream("remote", url=f"http://127.0.0.1:{port}/mcp", timeout_ms="2000")
        whoami = "async () => { try { return (await remote.whoami({})).headers.host } catch (e) { return e.message } }"
        async with self.process(ECHO_HTTP + [str(port)], r"port (\d+)") as (_, server):
            async with self.stdio(config) as session:
                self.assertEqual(await self.ok(session, whoami), f"127.0.0.1:{port}")
                server.terminate()
                await server.wait()
                message = await self.ok(session, whoami)
                self.assertTrue(message.startswith('upstream "remote" failed on remote.whoami: '), message)
                self.assertIn(f"error sending request for url (http://127.0.0.1:{port}/mcp)", message)
                async with self.process(ECHO_HTTP + [str(port)], r"port (\d+)"):
                    self.assertEqual(await self.ok(session, whoami), f"127.0.0.1:{port}")


class RunLimits(IsolaMcpTest):
    async def test_limits_from_the_config_end_runs_not_the_server(self):
        config = self.fake() + "[limits]\ncpu_ms = 300\nwall_ms = 1500\ntool_calls = 2\n"
        async with self.stdio(config) as session:
            execute = next(t for t in (await session.list_tools()).tools if t.name == "execute")
            self.assertIn("limits: 300 ms CPU, 1500 ms wall time, 2 tool calls per run.", execute.description)
            cases = [
                ("async () => { while (true) {} }", "Worker exceeded CPU time limit."),
                ("async () => { console.log('waiting'); await fake.sleep({ ms: 5000 }) }",
                 "Worker exceeded wall-clock time limit."),
                # Caught or not, the third call fails the run.
                ("async () => { for (let i = 0; i < 3; i++) try { await fake.echo({}) } catch {} return 'done' }",
                 "Too many tool calls: at most 2 per run."),
            ]
            for code, message in cases:
                started = time.monotonic()
                is_error, body = await self.execute(session, code)
                self.assertTrue(is_error, body)
                self.assertEqual(body["error"], message)
                self.assertLess(time.monotonic() - started, 4)
            self.assertEqual(await self.ok(session, "async () => fake.echo({ after: 'limits' })"), {"after": "limits"})


class ToolListChanges(IsolaMcpTest):
    async def test_list_changed_is_reread_and_forwarded(self):
        changed = asyncio.Event()

        async def on_message(message):
            if isinstance(message, types.ToolListChangedNotification):
                changed.set()

        async with self.stdio(self.fake(), message_handler=on_message) as session:
            before = await session.list_tools()
            self.assertEqual(
                namespace_tools(before.tools, "fake"),
                ["echo", "sleep", "crash", "malformed", "garbage", "fail", "pid", "environment", "delete_item",
                 "add_tool"],
            )
            text = (await session.call_tool("search", {"query": "fresh"})).content[0].text
            self.assertIn('No tool matches "fresh"', text)
            result = await self.ok(
                session, "async () => { try { await fake.fresh({}) } catch (e) { return e.message } }"
            )
            self.assertEqual(result, 'Tool "fresh" not found')
            changed.clear()

            # The upstream adds a tool and sends notifications/tools/list_changed.
            self.assertEqual(await self.ok(session, "async () => fake.add_tool({})"), {"added": "fresh"})
            await asyncio.wait_for(changed.wait(), 10)

            after = await session.list_tools()
            self.assertEqual(namespace_tools(after.tools, "fake")[-1], "fresh")
            text = (await session.call_tool("search", {"query": "fresh"})).content[0].text
            self.assertIn("// fake.fresh", text)
            self.assertIn("Appeared after tools/list_changed.", text)
            self.assertEqual(await self.ok(session, "async () => fake.fresh({ n: 5 })"), {"fresh": 5})


class Credentials(IsolaMcpTest):
    """Upstream credentials stay in the host: what an upstream echoes back
    is redacted, and the program has no other way to them."""

    async def test_guest_code_cannot_read_upstream_credentials(self):
        token = "e2e-" + secrets.token_hex(16)
        async with self.process(ECHO_HTTP, r"port (\d+)") as (ready, _):
            remote_url = f"http://127.0.0.1:{ready.group(1)}/mcp"
            config = upstream(
                "remote", url=remote_url,
                headers=inline({"Authorization": "Bearer ${E2E_TOKEN}", "X-Trace": "plain-header"}),
            )
            config += self.fake(env={"SECRET_FOR_FAKE": "${E2E_TOKEN}"})
            async with self.stdio(config, env={"E2E_TOKEN": token}) as session:
                raw = await session.call_tool(
                    "execute",
                    {
                        "code": f"""async () => {{
                            const who = await remote.whoami({{}});
                            console.log(JSON.stringify(who.headers));
                            let denied, rpc;
                            try {{ await remote.whoami_error({{}}); }} catch (e) {{ denied = e.message; }}
                            try {{ await remote.whoami_rpc_error({{}}); }} catch (e) {{ rpc = e.message; }}
                            const env = await fake.environment({{}});
                            let fetched;
                            try {{ fetched = await (await fetch({toml(remote_url)})).text(); }}
                            catch (e) {{ fetched = "blocked: " + e.message; }}
                            const reachable = {{
                                process: typeof process, Deno: typeof Deno, require: typeof require,
                                remote: Object.getOwnPropertyNames(remote),
                            }};
                            return {{ headers: who.headers, denied, rpc, env, fetched, reachable,
                                     globals: Object.getOwnPropertyNames(globalThis) }};
                        }}"""
                    },
                )
                text = raw.content[0].text
                self.assertFalse(raw.is_error, text)
                body = json.loads(text)
                listed = await session.list_tools()
                overview = (await session.call_tool("search", {"query": ""})).content[0].text
                found = (await session.call_tool("search", {"query": "whoami headers"})).content[0].text

        # Nowhere: not in the result, the logs, tool descriptions or search.
        for where, what in [("execute", text), ("tools/list", listed.model_dump_json()),
                            ("search", overview + found)]:
            self.assertNotIn(token, what, where)
        result = body["result"]
        headers = result["headers"]
        # The upstream did get the credential (the value it echoed is
        # exactly the configured secret, hence redacted whole) and the
        # plain header.
        self.assertEqual(headers["authorization"], REDACTED)
        self.assertEqual(headers["x-trace"], "plain-header")
        self.assertEqual(json.loads(body["logs"][0])["authorization"], REDACTED)
        self.assertEqual(result["denied"], f"access denied for {REDACTED}")
        self.assertEqual(result["rpc"], f'upstream "remote" failed on remote.whoami_rpc_error: Mcp error: -32001: no entry for {REDACTED}')
        # The tool list is something the upstream answers too.
        self.assertIn(f"Listed for {REDACTED}.", found)
        # A stdio upstream's `env` values expanded from ${VAR} are secrets too.
        self.assertEqual(result["env"]["SECRET_FOR_FAKE"], REDACTED)
        self.assertNotIn("E2E_TOKEN", result["env"])
        # The program cannot go around isola.
        self.assertTrue(result["fetched"].startswith("blocked: "), result["fetched"])
        self.assertEqual(result["reachable"]["process"], "undefined")
        self.assertEqual(result["reachable"]["Deno"], "undefined")
        self.assertEqual(result["reachable"]["require"], "undefined")
        self.assertNotIn("E2E_TOKEN", json.dumps(result["globals"]))

    async def test_connection_errors_do_not_reveal_url_credentials(self):
        """An upstream that cannot be reached: the error names its URL,
        whose `${VAR}` part is redacted wherever the error shows."""
        token = "e2e-" + secrets.token_hex(16)
        port = free_port()  # nothing listens there
        config = upstream("remote", url=f"http://127.0.0.1:{port}/mcp?key=${{E2E_TOKEN}}")
        async with self.stdio(config, env={"E2E_TOKEN": token}) as session:
            listed = (await session.list_tools()).model_dump_json()
            overview = (await session.call_tool("search", {"query": ""})).content[0].text
            message = await self.ok(session, "async () => { try { await remote.whoami({}) } catch (e) { return e.message } }")
        self.assertTrue(message.startswith('upstream "remote" is unavailable: '), message)
        self.assertIn(f"http://127.0.0.1:{port}/mcp?key={REDACTED}", message)
        self.assertIn('remote (unavailable: upstream \\"remote\\" is unavailable', listed)
        self.assertIn("// remote: unavailable (", overview)
        for where, what in [("error", message), ("tools/list", listed), ("search", overview)]:
            self.assertNotIn(token, what, where)


if __name__ == "__main__":
    unittest.main()


class Sandbox(IsolaMcpTest):
    async def test_per_session_cordons_are_bounded_and_end_with_their_session(self):
        """`[sandbox] cordon = "per-session"` with room for one: while one
        client session holds its sandbox, another is told why it cannot run
        code; once the first closes (DELETE), its place is free."""
        config = self.fake() + '[sandbox]\ncordon = "per-session"\nmax_sessions = 1\n'
        async with self.http_server(config) as url:
            async with self.http_session(url) as waiting:
                async with self.http_session(url) as first:
                    self.assertEqual(await self.ok(first, "async () => fake.echo({ n: 1 })"), {"n": 1})
                    is_error, body = await self.execute(waiting, "async () => 2")
                    self.assertTrue(is_error, body)
                    self.assertIn("every sandbox `[sandbox] max_sessions` allows (1) belongs to another session", body["error"])
                    self.assertEqual(await self.ok(first, "async () => 3"), 3)
                deadline = time.monotonic() + 10
                while True:
                    is_error, body = await self.execute(waiting, "async () => 4")
                    if not is_error:
                        self.assertEqual(body["result"], 4)
                        break
                    self.assertLess(time.monotonic(), deadline, body)
                    await asyncio.sleep(0.1)
