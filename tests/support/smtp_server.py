"""A real SMTP server for collabd's tests: aiosmtpd (Debian's
python3-aiosmtpd) on a loopback port, STARTTLS required, AUTH PLAIN/LOGIN
required for one user, every accepted message appended to a spool file.

usage: smtp_server.py PORT CERT KEY USER PASSWORD SPOOL
Prints "ready" once it accepts connections; runs until killed.
"""

import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, cert, key, user, password, spool = sys.argv[1:7]


class Spool:
    async def handle_DATA(self, server, session, envelope):
        with open(spool, "ab") as f:
            f.write(b"MAIL FROM " + envelope.mail_from.encode() + b"\r\n")
            for rcpt in envelope.rcpt_tos:
                f.write(b"RCPT TO " + rcpt.encode() + b"\r\n")
            f.write(envelope.original_content or envelope.content)
            f.write(b"\r\n.\r\n")
        return "250 OK queued"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == user.encode()
        and auth_data.password == password.encode()
    )
    return AuthResult(success=ok, handled=False)


tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(cert, key)
controller = Controller(
    Spool(),
    hostname="127.0.0.1",
    port=int(port),
    tls_context=tls,
    require_starttls=True,
    authenticator=authenticate,
    auth_required=True,
)
controller.start()
print("ready", flush=True)
signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), sys.exit(0)))
signal.pause()
