"""The tool set of parent.js as a stdio MCP server, for `isola mcp`.

Raw JSON-RPC 2.0 over stdin/stdout (one message per line), no SDK: the
same five tools with the same behaviour, so the Rust executor sees under
the namespace `codemode` what @cloudflare/codemode's executor sees.
Calls are answered from threads, so `Promise.all` over `wait` overlaps
as it does in the parent worker.
"""

import json
import sys
import threading
import time

OBJECT = {"type": "object"}
TOOLS = [
    {
        "name": "add",
        "description": "Adds two numbers.",
        "inputSchema": {
            "type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
            "required": ["a", "b"],
        },
    },
    {"name": "echo", "description": "Answers its input.", "inputSchema": OBJECT},
    {"name": "fail", "description": "Always fails.", "inputSchema": OBJECT},
    {
        "name": "profile",
        "description": "A user's profile (nested data).",
        "inputSchema": {
            "type": "object",
            "properties": {"id": {"type": "number"}},
            "required": ["id"],
        },
    },
    {
        "name": "wait",
        "description": "Answers `value` after `ms` milliseconds.",
        "inputSchema": {
            "type": "object",
            "properties": {"ms": {"type": "number"}, "value": {}},
            "required": ["ms"],
        },
    },
]


class ToolError(Exception):
    pass


def run_tool(name, args):
    if name == "add":
        return args["a"] + args["b"]
    if name == "echo":
        return args
    if name == "fail":
        raise ToolError("tool exploded")
    if name == "profile":
        return {
            "id": args["id"],
            "name": "Ada",
            "tags": ["admin", "ops"],
            "address": {"city": "London", "zip": None},
            "active": True,
        }
    if name == "wait":
        time.sleep(args["ms"] / 1000)
        return args.get("value")
    raise ToolError(f"Unknown tool: {name}")


write_lock = threading.Lock()


def send(message):
    line = json.dumps(message, ensure_ascii=False)
    with write_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def answer_call(request_id, params):
    try:
        value = run_tool(params["name"], params.get("arguments") or {})
        # All-text content holding JSON: the client parses it back.
        result = {"content": [{"type": "text", "text": json.dumps(value)}]}
    except ToolError as e:
        result = {"content": [{"type": "text", "text": str(e)}], "isError": True}
    send({"jsonrpc": "2.0", "id": request_id, "result": result})


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        method = message.get("method")
        request_id = message.get("id")
        if request_id is None or method is None:
            continue  # a notification, or an answer to nothing we asked
        params = message.get("params") or {}
        if method == "initialize":
            result = {
                "protocolVersion": params.get("protocolVersion", "2025-06-18"),
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "codemode-e2e-upstream", "version": "1.0.0"},
            }
        elif method == "tools/list":
            result = {"tools": TOOLS}
        elif method == "tools/call":
            threading.Thread(
                target=answer_call, args=(request_id, params), daemon=True
            ).start()
            continue
        elif method == "ping":
            result = {}
        else:
            send(
                {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "error": {"code": -32601, "message": f"Method not found: {method}"},
                }
            )
            continue
        send({"jsonrpc": "2.0", "id": request_id, "result": result})


if __name__ == "__main__":
    main()
