"""Loaded at start-up by every Python process whose PYTHONPATH holds this folder (the
offline test puts it there): refuses and records any connection or name lookup that
leaves the machine, so a library that phones home fails the test instead of hiding it."""

import ipaddress
import os
import socket

_LOG = os.environ.get("COBBLER_OFFLINE_LOG", "")
_LOCAL_NAMES = {None, "", "localhost", "0.0.0.0", "::"}


def _is_local(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False  # a name that would need DNS
    return address.is_loopback or address.is_unspecified


def _refuse(what: str) -> None:
    if _LOG:
        with open(_LOG, "a") as log:
            log.write(f"{os.getpid()} {what}\n")
    raise OSError(101, f"offline test: outbound {what} refused")


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_sendto = socket.socket.sendto
_getaddrinfo = socket.getaddrinfo


def _target(sock: socket.socket, address) -> str | None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        return f"{address[0]}:{address[1]}"
    return None


def connect(self, address):
    if target := _target(self, address):
        _refuse(f"connect {target}")
    return _connect(self, address)


def connect_ex(self, address):
    if target := _target(self, address):
        _refuse(f"connect {target}")
    return _connect_ex(self, address)


def sendto(self, data, *args):
    if target := _target(self, args[-1]):
        _refuse(f"sendto {target}")
    return _sendto(self, data, *args)


def getaddrinfo(host, *args, **kwargs):
    if not _is_local(host):
        _refuse(f"lookup {host}")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.socket.sendto = sendto
socket.getaddrinfo = getaddrinfo
