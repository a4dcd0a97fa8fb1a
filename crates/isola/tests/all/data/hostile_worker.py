# A worker process whose engine is owned: it speaks isola's worker protocol
# (postcard frames on fd 3) well enough to be started, then answers
# activations the way the mode below says. The supervisor must end the
# call with a typed outcome and never crash, hang or grow without bound.
# The test writes MODE on the first line of a copy of this file.
import os
import socket
import struct
import sys
import time

sock = socket.socket(fileno=3)


def send(payload):
    sock.sendall(struct.pack("<I", len(payload)) + payload)


def recv():
    head = b""
    while len(head) < 4:
        more = sock.recv(4 - len(head))
        if not more:
            sys.exit(0)
        head += more
    (length,) = struct.unpack("<I", head)
    body = b""
    while len(body) < length:
        more = sock.recv(length - len(body))
        if not more:
            sys.exit(0)
        body += more
    return body


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def read_varint(data, at):
    n, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        n |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return n, at


def string(s):
    b = s.encode()
    return varint(len(b)) + b


def activated(effects):
    # Reply::Activated(Activation { result: Ok(0s), effects, cpu_total: 0s,
    # memory_used, peak_memory, budget_full: false })
    return (
        varint(1) + varint(0) + varint(0) + varint(0)
        + varint(len(effects)) + b"".join(effects)
        + varint(0) + varint(0) + varint(1 << 20) + varint(1 << 20) + b"\x00"
    )


def settled(call, value):
    # Effect::CallSettled { call, result: CallResult::Value(value) }
    return varint(4) + varint(call) + varint(0) + value


def finished(call):
    return varint(5) + varint(call)


def call_id(request):
    # Request::Activate { id, memory_limit, reset_log_budget, cpu, wall,
    # entry: Entry::Call(CallSpec { id, .. }) }
    tag, at = read_varint(request, 0)
    assert tag == 2
    _, at = read_varint(request, at)  # isolate
    _, at = read_varint(request, at)  # memory limit
    at += 1  # reset_log_budget
    for _ in range(4):  # cpu and wall durations: secs, nanos
        _, at = read_varint(request, at)
    entry, at = read_varint(request, at)
    call, at = read_varint(request, at)
    return call if entry == 0 else None


send(b"ok\nlandlock=none (a test stand-in)\nseccomp=0")
while True:
    request = recv()
    tag = request[0]
    if tag == 0:  # Hello
        send(varint(0) + varint(1))
        if MODE == "deaf":
            # Never reads again: the supervisor's writes fill the socket.
            while True:
                time.sleep(60)
        continue
    if tag == 1:  # Create (not answered)
        continue
    if tag == 3:  # Free
        continue
    call = call_id(request)
    if MODE == "garbage":
        send(os.urandom(64))
    elif MODE == "huge":
        sock.sendall(struct.pack("<I", 0xFFFFFFF0))
        recv()
    elif MODE == "wrong-kind":
        send(varint(0) + varint(1))
    elif MODE == "silent":
        recv()
    elif MODE == "deep":
        # Value::Array([Value::Array([... 100,000 deep
        value = (varint(6) + varint(1)) * 100_000 + varint(0)
        send(activated([settled(call, value), finished(call)]))
    elif MODE == "timers":
        timers = [varint(1) + varint(i) + varint(60_000) for i in range(1, 10_002)]
        send(activated(timers))
    elif MODE == "log-flood":
        # Effect::Log { entry: LogEntry { level, timestamp_ms, message }, call: Some(call) }
        line = varint(3) + varint(2) + varint(0) + string("x" * 1024) + b"\x01" + varint(call)
        result = varint(5) + string("done")  # Value::String
        send(activated([line] * 10_000 + [settled(call, result), finished(call)]))
    elif MODE == "forged-ids":
        # Results for calls that do not exist, then the real one.
        forged = varint(5) + string("forged")
        real = varint(5) + string("fine")
        send(activated([settled(424242, forged), finished(424242), settled(call, real), finished(call)]))
