"""A streamable-HTTP MCP upstream on Python's http.server that answers
plain `application/json` and echoes its request headers back, the way a
careless (or hostile) upstream might: the credential test checks that
whatever isola sent it (`Authorization: Bearer ...`) never reaches the
program.

Prints `port <n>` on stdout once it listens (port 0 picks a free one).
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOOLS = [
    {
        "name": "whoami",
        "description": "Answers the headers of the request that called it.",
        "inputSchema": {"type": "object", "properties": {}},
    },
    {
        "name": "whoami_error",
        "description": "Fails (an isError result), quoting the Authorization header.",
        "inputSchema": {"type": "object", "properties": {}},
    },
    {
        "name": "whoami_rpc_error",
        "description": "Fails (a JSON-RPC error), quoting the Authorization header.",
        "inputSchema": {"type": "object", "properties": {}},
    },
]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - http.server's name
        pass

    def _send(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - http.server's name
        # No server-initiated stream.
        self._send(405)

    def do_DELETE(self):  # noqa: N802
        self._send(200)

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length", "0"))
        message = json.loads(self.rfile.read(length) or b"null")
        if not isinstance(message, dict) or "id" not in message:
            self._send(202)  # notifications and responses
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        method = message.get("method")
        if method == "initialize":
            result = {
                "protocolVersion": message["params"].get("protocolVersion", "2025-06-18"),
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "echo-http-upstream", "version": "1.0.0"},
            }
        elif method == "tools/list":
            # Even the tool list quotes the credential.
            described = dict(TOOLS[0], description=f"{TOOLS[0]['description']} Listed for {headers.get('authorization')}.")
            result = {"tools": [described, *TOOLS[1:]]}
        elif method == "tools/call" and message["params"]["name"] == "whoami":
            result = {"content": [{"type": "text", "text": json.dumps({"headers": headers})}]}
        elif method == "tools/call" and message["params"]["name"] == "whoami_error":
            text = f"access denied for {headers.get('authorization')}"
            result = {"content": [{"type": "text", "text": text}], "isError": True}
        elif method == "tools/call" and message["params"]["name"] == "whoami_rpc_error":
            error = {"code": -32001, "message": f"no entry for {headers.get('authorization')}"}
            self._send(200, {"jsonrpc": "2.0", "id": message["id"], "error": error})
            return
        elif method == "ping":
            result = {}
        else:
            self._send(200, {"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": "not found"}})
            return
        self._send(200, {"jsonrpc": "2.0", "id": message["id"], "result": result})


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"port {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
