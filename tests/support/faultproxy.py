#!/usr/bin/env python3
"""A fault-injecting HTTP forward proxy on loopback, for the Azure back end's tests.

Listens on 127.0.0.1 (port 0: any free one), prints "PORT <n>" on stdout, and
forwards each request (absolute-form URL, to 127.0.0.1 only) with one upstream
connection per request. Every request gets a number; by that number it either
passes, answers 503 (twice in a row), answers 500 with Retry-After: 1, drops the
connection before forwarding, or forwards and then drops the connection without
answering (for a GET with a body: after half the response). Faults are logged
on stderr as "fault <kind> <method> <path>". Standard library only.

  faultproxy.py [--auth USER:PASSWORD] [port]

With --auth it injects no faults but asks for proxy credentials: a request (or
a CONNECT) without "Proxy-Authorization: Basic" of USER:PASSWORD is answered
407, logged as "fault 407 <method> <target>".
"""
import base64
import socket
import sys
import threading

PATTERN = {3: "503", 4: "503", 7: "drop-before", 11: "drop-after", 14: "500-retry-after"}
CYCLE = 16
lock = threading.Lock()
counter = 0
auth = None   # the expected Proxy-Authorization value, with --auth


def log(*args):
    with lock:
        print(*args, file=sys.stderr, flush=True)


def recv_until(sock, buf, marker):
    while True:
        i = buf.find(marker)
        if i >= 0:
            return i + len(marker)
        chunk = sock.recv(1 << 16)
        if not chunk:
            return -1
        buf.extend(chunk)


def answer(client, status, extra=""):
    client.sendall(("HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n%s\r\n" % (status, extra)).encode())


def handle(client):
    global counter
    try:
        buf = bytearray()
        end = recv_until(client, buf, b"\r\n\r\n")
        if end < 0:
            return
        lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        length, kept, given = 0, [], None
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            lname = name.strip().lower()
            if lname == "content-length":
                length = int(value.strip())
            if lname == "proxy-authorization":
                given = value.strip()
            if lname in ("connection", "proxy-connection", "keep-alive", "proxy-authorization"):
                continue
            kept.append(line)
        while len(buf) - end < length:
            chunk = client.recv(1 << 20)
            if not chunk:
                return
            buf.extend(chunk)
        body = bytes(buf[end:end + length])
        if auth is not None and given != auth:
            log("fault", "407", method, target)
            answer(client, "407 Proxy Authentication Required", 'Proxy-Authenticate: Basic realm="obagent-test"\r\n')
            return
        if not target.startswith("http://"):
            answer(client, "400 Bad Request")
            return
        hostport, _, path = target[7:].partition("/")
        host, _, port = hostport.partition(":")
        if host not in ("127.0.0.1", "localhost"):
            answer(client, "403 Forbidden")
            return
        with lock:
            counter += 1
            fault = PATTERN.get(counter % CYCLE) if auth is None else None
        if fault:
            log("fault", fault, method, "/" + path)
        if fault == "503":
            answer(client, "503 Service Unavailable", "x-ms-error-code: ServerBusy\r\n")
            return
        if fault == "500-retry-after":
            answer(client, "500 Internal Server Error", "x-ms-error-code: InternalError\r\nRetry-After: 1\r\n")
            return
        if fault == "drop-before":
            return
        up = socket.create_connection((host, int(port or 80)))
        head = "%s /%s %s\r\n%s\r\nConnection: close\r\n\r\n" % (method, path, version, "\r\n".join(kept))
        try:
            up.sendall(head.encode("latin-1") + body)
        except OSError:
            pass  # the service answered early (an error) and closed: relay its answer
        resp = bytearray()
        try:
            while True:
                chunk = up.recv(1 << 20)
                if not chunk:
                    break
                resp.extend(chunk)
        except OSError:
            pass
        up.close()
        if fault == "drop-after":
            if method == "GET" and len(resp) > 4096:
                client.sendall(bytes(resp[:len(resp) // 2]))
            return
        client.sendall(bytes(resp))
    except OSError as e:
        log("error", e)
    finally:
        try:
            client.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        client.close()


def main():
    global auth
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "--auth":
        auth = "Basic " + base64.b64encode(args[1].encode()).decode()
        args = args[2:]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(args[0]) if args else 0))
    srv.listen(64)
    print("PORT %d" % srv.getsockname()[1], flush=True)
    while True:
        client, _ = srv.accept()
        threading.Thread(target=handle, args=(client,), daemon=True).start()


if __name__ == "__main__":
    main()
