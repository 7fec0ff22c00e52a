"""A real OpenLDAP server for tests: Debian's `slapd` on a loopback port, generated config.

`slapd_server` is a session fixture: a temp dir with slapd.conf (mdb), a base dc=dockyard,dc=test
with ou=people and ou=groups, plain LDAP and LDAPS (a generated CA + server certificate) ports.
Import it into a conftest.py:

    from tests.ldap_server import slapd_server  # noqa: F401
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.e2e.server import free_port
from tests.processes import terminate

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
BASE = "dc=dockyard,dc=test"
ADMIN_DN = f"cn=admin,{BASE}"
ADMIN_PASSWORD = "admin-secret"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"

needs_slapd = pytest.mark.skipif(
    not Path(SLAPD).exists() or shutil.which("ldapadd") is None,
    reason="slapd/ldap-utils not installed (scripts/install-test-deps.sh installs them)",
)

CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {root}/slapd.pid
TLSCACertificateFile {root}/ca.pem
TLSCertificateFile {root}/server.pem
TLSCertificateKeyFile {root}/server.key
database mdb
maxsize 10485760
suffix "{base}"
rootdn "{admin}"
rootpw {password}
directory {root}/db
access to attrs=userPassword by self read by anonymous auth by * none
access to * by * read
"""


def _run(*args, stdin: str | None = None) -> None:
    subprocess.run(args, input=stdin, text=True, check=True, capture_output=True)


def _certificates(root: Path) -> None:
    """A CA and a server certificate for 127.0.0.1/localhost, made with the openssl CLI."""
    ssl = ["openssl"]
    _run(*ssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=Dockyard test CA", "-keyout", str(root / "ca.key"),
         "-out", str(root / "ca.pem"))  # fmt: skip
    _run(*ssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
         "-keyout", str(root / "server.key"), "-out", str(root / "server.csr"))  # fmt: skip
    (root / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _run(*ssl, "x509", "-req", "-in", str(root / "server.csr"), "-CA", str(root / "ca.pem"),
         "-CAkey", str(root / "ca.key"), "-CAcreateserial", "-days", "2",
         "-extfile", str(root / "ext.cnf"), "-out", str(root / "server.pem"))  # fmt: skip


class Slapd:
    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.tls_port = free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.ldaps_uri = f"ldaps://127.0.0.1:{self.tls_port}"
        self.ca_file = str(root / "ca.pem")
        self.process: subprocess.Popen | None = None

    def start(self) -> Slapd:
        (self.root / "db").mkdir()
        _certificates(self.root)
        conf = self.root / "slapd.conf"
        conf.write_text(
            CONFIG.format(root=self.root, base=BASE, admin=ADMIN_DN, password=ADMIN_PASSWORD)
        )
        urls = f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.tls_port}/"
        self.process = subprocess.Popen(
            [SLAPD, "-f", str(conf), "-h", urls, "-d", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                self.ldif(f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\n"
                          "o: Dockyard\ndc: dockyard\n")  # fmt: skip
                break
            except subprocess.CalledProcessError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("slapd did not start") from None
                time.sleep(0.2)
        for ou in ("people", "groups"):
            self.ldif(f"dn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}\n")
        return self

    def ldif(self, text: str, *, modify: bool = False) -> None:
        tool = "ldapmodify" if modify else "ldapadd"
        _run(tool, "-x", "-H", self.uri, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD, stdin=text)

    def delete(self, dn: str) -> None:
        _run("ldapdelete", "-x", "-H", self.uri, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD, dn)

    def user_add(self, uid: str, password: str, *, mail: str = "", cn: str = "") -> str:
        dn = f"uid={uid},{PEOPLE}"
        self.ldif(
            f"dn: {dn}\nobjectClass: inetOrgPerson\nuid: {uid}\nsn: {uid}\n"
            f"cn: {cn or uid.title()}\nmail: {mail or uid + '@example.test'}\n"
            f"userPassword: {password}\n"
        )
        return dn

    def group_add(self, cn: str, members: list[str]) -> str:
        dn = f"cn={cn},{GROUPS}"
        # groupOfNames needs a member: the admin DN stays, so the last person can be removed.
        lines = "".join(f"member: {m}\n" for m in [ADMIN_DN, *members])
        self.ldif(f"dn: {dn}\nobjectClass: groupOfNames\ncn: {cn}\n{lines}")
        return dn

    def group_remove_member(self, group_dn: str, member_dn: str) -> None:
        self.ldif(f"dn: {group_dn}\nchangetype: modify\ndelete: member\nmember: {member_dn}\n",
                  modify=True)  # fmt: skip

    def settings_env(self) -> dict[str, str]:
        """Environment variables naming this server, for a server process or override."""
        return {
            "LDAP_SERVER_URI": self.uri,
            "LDAP_BIND_DN": ADMIN_DN,
            "LDAP_BIND_PASSWORD": ADMIN_PASSWORD,
            "LDAP_USER_SEARCH_BASE": PEOPLE,
            "LDAP_GROUP_SEARCH_BASE": GROUPS,
        }

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process)


@pytest.fixture(scope="session")
def slapd_server():
    if not Path(SLAPD).exists() or shutil.which("ldapadd") is None:
        pytest.skip("slapd/ldap-utils not installed (scripts/install-test-deps.sh installs them)")
    root = Path(tempfile.mkdtemp(prefix="dockyard-slapd-"))
    server = Slapd(root).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
