"""A scripted SMTP server on 127.0.0.1 that misbehaves on purpose.

It speaks just enough SMTP for smtplib (EHLO, MAIL, RCPT, DATA, QUIT) and fails in
one chosen way:

- ``trickle``: the greeting arrives one byte at a time, ``interval`` seconds apart,
  so every read gets data in time and only an overall deadline can end the send;
- ``hang-after-data``: the message is read, then no answer ever comes;
- ``drop-before-reply``: the message is read, then the connection is closed unanswered;
- ``drop-after-accept``: the message is accepted (250), then QUIT gets no answer: the
  connection is closed;
- ``good``: a well-behaved server.

Every message read is kept in ``messages`` (bytes), whatever happens next, and
``received`` is set when one has been read.
"""

from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes
from email.message import Message
from email.policy import default


class ScriptedSMTP:
    def __init__(self, mode: str, interval: float = 0.5) -> None:
        self.mode, self.interval = mode, interval
        self.messages: list[bytes] = []
        self.received = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> ScriptedSMTP:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._listener.close()

    def parsed(self, index: int = -1) -> Message:
        return message_from_bytes(self.messages[index], policy=default)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as lines:
            try:
                self._greet(conn)
                self._converse(conn, lines)
            except OSError:
                pass

    def _greet(self, conn: socket.socket) -> None:
        greeting = b"220 scripted.example ESMTP\r\n"
        if self.mode != "trickle":
            conn.sendall(greeting)
            return
        for byte in greeting:
            if self._stop.is_set():
                return
            conn.sendall(bytes([byte]))
            time.sleep(self.interval)

    def _converse(self, conn: socket.socket, lines) -> None:
        while line := lines.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                conn.sendall(b"250 scripted.example\r\n")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                conn.sendall(b"250 OK\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                self._read_message(lines)
                if not self._after_data(conn):
                    return
            elif verb == b"QUIT":
                if self.mode != "drop-after-accept":
                    conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"502 not implemented\r\n")

    def _read_message(self, lines) -> None:
        data = b""
        while (line := lines.readline()) not in (b".\r\n", b""):
            data += line[1:] if line.startswith(b"..") else line
        self.messages.append(data)
        self.received.set()

    def _after_data(self, conn: socket.socket) -> bool:
        """Answer the end of the message; False to end the conversation."""
        if self.mode == "hang-after-data":
            self._stop.wait()
            return False
        if self.mode == "drop-before-reply":
            return False
        conn.sendall(b"250 accepted\r\n")
        return True
