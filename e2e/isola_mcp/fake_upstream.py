"""A misbehaving MCP upstream over stdio, in plain Python (no SDK), so the
tests control every byte: it answers malformed results, exits mid-call,
sleeps past timeouts, reports its environment and changes its tool list.

Each `tools/call` runs on its own thread, so a call that sleeps does not
hold up the next one. Every call is appended to the file named by
`FAKE_CALL_LOG` (if set), one tool name per line: the tests use it to prove
a refused call never reached the upstream. With `FAKE_LINGER` set, it
does not exit when its stdin closes (only a kill ends it).
"""

import json
import os
import sys
import threading
import time

_write_lock = threading.Lock()
_tools_lock = threading.Lock()


def _schema(properties=None):
    return {"type": "object", "properties": properties or {}}


TOOLS = [
    {
        "name": "echo",
        "description": "Answers its input as structured content.",
        "inputSchema": _schema({"message": {"type": "string"}}),
    },
    {
        "name": "sleep",
        "description": "Sleeps `ms` milliseconds, then answers.",
        "inputSchema": _schema({"ms": {"type": "number"}}),
    },
    {"name": "crash", "description": "Exits the process without answering.", "inputSchema": _schema()},
    {"name": "malformed", "description": "Answers a result that is not a CallToolResult.", "inputSchema": _schema()},
    {"name": "garbage", "description": "Writes a line that is not JSON-RPC, then answers.", "inputSchema": _schema()},
    {"name": "fail", "description": "Answers isError with a message.", "inputSchema": _schema()},
    {"name": "pid", "description": "Answers the process id.", "inputSchema": _schema()},
    {"name": "environment", "description": "Answers the process environment.", "inputSchema": _schema()},
    {"name": "delete-item", "description": "Deletes an item (needs approval in the tests).", "inputSchema": _schema({"id": {"type": "number"}})},
    {"name": "add_tool", "description": "Adds a tool and announces the change.", "inputSchema": _schema()},
]

FRESH = {
    "name": "fresh",
    "description": "Appeared after tools/list_changed.",
    "inputSchema": _schema({"n": {"type": "number"}}),
}


def send(message):
    line = json.dumps(message) + "\n"
    with _write_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def send_raw(text):
    with _write_lock:
        sys.stdout.write(text)
        sys.stdout.flush()


def reply(request_id, result):
    send({"jsonrpc": "2.0", "id": request_id, "result": result})


def text_result(value, is_error=False):
    text = value if isinstance(value, str) else json.dumps(value)
    result = {"content": [{"type": "text", "text": text}]}
    if is_error:
        result["isError"] = True
    return result


def log_call(name):
    path = os.environ.get("FAKE_CALL_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(name + "\n")


def call_tool(request_id, params):
    name = params.get("name")
    args = params.get("arguments") or {}
    log_call(name)
    if name == "echo":
        reply(request_id, {"content": [{"type": "text", "text": json.dumps(args)}], "structuredContent": args})
    elif name == "sleep":
        time.sleep(float(args.get("ms", 0)) / 1000)
        reply(request_id, text_result({"slept": args.get("ms", 0)}))
    elif name == "crash":
        sys.stdout.flush()
        os._exit(3)
    elif name == "malformed":
        # `content` must be an array of content blocks.
        reply(request_id, {"content": "this is not a list of content blocks", "isError": "maybe"})
    elif name == "garbage":
        send_raw("this line is not JSON\n")
        reply(request_id, text_result({"after": "garbage"}))
    elif name == "fail":
        reply(request_id, text_result("the fake upstream refuses", is_error=True))
    elif name == "pid":
        reply(request_id, text_result({"pid": os.getpid()}))
    elif name == "environment":
        reply(request_id, text_result(dict(os.environ)))
    elif name == "delete-item":
        reply(request_id, text_result({"deleted": args.get("id")}))
    elif name == "add_tool":
        with _tools_lock:
            if FRESH not in TOOLS:
                TOOLS.append(FRESH)
        send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
        reply(request_id, text_result({"added": "fresh"}))
    elif name == "fresh" and FRESH in TOOLS:
        reply(request_id, text_result({"fresh": args.get("n")}))
    else:
        send({"jsonrpc": "2.0", "id": request_id, "error": {"code": -32602, "message": f"Unknown tool: {name}"}})


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        message = json.loads(line)
        method = message.get("method")
        request_id = message.get("id")
        if request_id is None:
            continue  # notifications (initialized, cancelled) need no answer
        if method == "initialize":
            reply(
                request_id,
                {
                    "protocolVersion": message["params"].get("protocolVersion", "2025-06-18"),
                    "capabilities": {"tools": {"listChanged": True}},
                    "serverInfo": {"name": "fake-upstream", "version": "1.0.0"},
                },
            )
        elif method == "tools/list":
            with _tools_lock:
                reply(request_id, {"tools": list(TOOLS)})
        elif method == "tools/call":
            threading.Thread(target=call_tool, args=(request_id, message.get("params") or {}), daemon=True).start()
        elif method == "ping":
            reply(request_id, {})
        else:
            send({"jsonrpc": "2.0", "id": request_id, "error": {"code": -32601, "message": f"Method not found: {method}"}})
    if os.environ.get("FAKE_LINGER"):
        # Outlive stdin: only a kill ends it.
        time.sleep(3600)


if __name__ == "__main__":
    main()
