"""A real SMTP server for collabd's tests: aiosmtpd (Debian's
python3-aiosmtpd) on a loopback port, STARTTLS required, AUTH PLAIN/LOGIN
required for one user, every accepted message appended to a spool file.

usage: smtp_server.py CERT KEY USER PASSWORD SPOOL
Binds a port the kernel chooses (so no other test's server can hold it) and
prints "ready PORT" once it accepts connections; runs until killed.
"""

import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

cert, key, user, password, spool = sys.argv[1:6]


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


class OwnPort(Controller):
    """A Controller on a port of the kernel's choosing: the port is read off
    the bound socket before the Controller connects to itself to check."""

    def _create_server(self):
        async def create():
            server = await self.loop.create_server(
                self._factory_invoker, host=self.hostname, port=0, ssl=self.ssl_context
            )
            self.port = server.sockets[0].getsockname()[1]
            return server

        return create()


tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(cert, key)
controller = OwnPort(
    Spool(),
    hostname="127.0.0.1",
    tls_context=tls,
    require_starttls=True,
    authenticator=authenticate,
    auth_required=True,
)
controller.start()
print("ready", controller.port, flush=True)
signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), sys.exit(0)))
signal.pause()
