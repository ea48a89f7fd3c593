"""Preloaded into the az CLI processes that talk to the local Azure (PYTHONPATH=this folder: Python imports
sitecustomize at start; Debian's /usr/bin/az is not run in isolated mode, so PYTHONPATH applies). For those processes
only, it does what loopback-names.cjs and egress-guard.cjs do for Node (docs/local-azure.md#the-az-cli):

- localhost and *.localhost resolve to 127.0.0.1 (RFC 6761); this machine's resolver does not answer for them;
- every other name or address that is not loopback is refused, on stderr and, when EGRESS_GUARD_LOG is set, in that
  file, so that a test run fails on it;
- with AZURE_CORE_INSTANCE_DISCOVERY=false, MSAL skips instance discovery, which would ask login.microsoftonline.com
  about the local authority: the az CLI's own setting since azure-cli 2.54 (Azure/azure-cli#27494), which Debian's
  2.45 lacks, so it is backported here as that change does it (`instance_discovery=False` for MSAL's applications).
"""
import ipaddress
import os
import socket
import sys

_getaddrinfo = socket.getaddrinfo


def _is_local_name(host):
    h = host.lower().rstrip(".")
    return h == "localhost" or h.endswith(".localhost")


def _is_loopback(host):
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _refuse(host):
    command = " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:3]) if sys.argv else "python"
    line = "egress-guard: blocked DNS lookup of %s (pid %d: %s)" % (host, os.getpid(), command)
    sys.stderr.write(line + "\n")
    log = os.environ.get("EGRESS_GUARD_LOG")
    if log:
        try:
            with open(log, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        except OSError:
            pass  # best effort: stderr has it
    raise socket.gaierror(socket.EAI_NONAME, "egress-guard: %s is not loopback; tests may reach 127.0.0.1 only" % host)


def _guarded_getaddrinfo(host, *args, **kwargs):
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else host
    if name is None or _is_loopback(name):
        return _getaddrinfo(host, *args, **kwargs)
    if _is_local_name(name):
        return _getaddrinfo("127.0.0.1", *args, **kwargs)
    _refuse(name)


socket.getaddrinfo = _guarded_getaddrinfo


def _backport_instance_discovery_setting():
    if os.environ.get("AZURE_CORE_INSTANCE_DISCOVERY", "").lower() not in ("false", "0", "no", "off"):
        return
    try:
        import msal.application
    except ImportError:
        return
    original = msal.application.ClientApplication.__init__

    def init(self, *args, **kwargs):
        kwargs.setdefault("instance_discovery", False)
        original(self, *args, **kwargs)

    msal.application.ClientApplication.__init__ = init


_backport_instance_discovery_setting()
