import os
import socket
import time
import uuid

import pytest

from conftest import FIXTURES
from diffbench.sandbox.oneshot import network_isolation_available, run_module

CHILDREN = {"PYTHONPATH": str(FIXTURES / "children")}


def processes_with(token: str) -> list[int]:
    """Host pids whose command line carries `token` (pids recorded inside a PID namespace mean nothing here)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if token.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


def test_timeout_kills_the_whole_process_tree_even_a_grandchild_in_its_own_session(tmp_path):
    token = f"diffbench-sleeper-{uuid.uuid4().hex}"
    outcome = run_module("sleeper", [token], tmp_path, CHILDREN, timeout_s=3)
    assert outcome.timed_out and outcome.result is None
    assert (tmp_path / "grandchild.started").read_text() == token
    deadline = time.time() + 5
    while processes_with(token) and time.time() < deadline:
        time.sleep(0.1)
    assert processes_with(token) == []


def test_secrets_do_not_reach_the_child(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    outcome = run_module("env_reader", [], tmp_path, CHILDREN, timeout_s=30)
    assert outcome.result == {}


@pytest.mark.skipif(not network_isolation_available(), reason="unshare --net not permitted on this machine")
def test_child_has_no_network(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        outcome = run_module("net_probe", [str(port)], tmp_path, CHILDREN, timeout_s=30)
        assert outcome.network_isolated
        assert outcome.result == {"connected": False}
        # The same probe without isolation does connect: the test can fail.
        open_outcome = run_module("net_probe", [str(port)], tmp_path / "open", CHILDREN, 30, isolate_network=False)
        assert open_outcome.result == {"connected": True}


def test_a_crash_is_reported_not_raised(tmp_path):
    outcome = run_module("crasher", [], tmp_path, CHILDREN, timeout_s=30)
    assert outcome.result is None and outcome.returncode != 0 and not outcome.timed_out
    assert outcome.last_error_line == "RuntimeError: candidate exploded"
