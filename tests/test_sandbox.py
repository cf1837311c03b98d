import os
import socket
import time

import pytest

from conftest import FIXTURES
from diffbench.evaluation.sandbox import network_isolation_available, run_module

CHILDREN = {"PYTHONPATH": str(FIXTURES / "children")}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); read its state.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_timeout_kills_the_whole_process_group(tmp_path):
    outcome = run_module("sleeper", [], tmp_path, CHILDREN, timeout_s=3)
    assert outcome.timed_out and outcome.result is None
    grandchild = int((tmp_path / "grandchild.pid").read_text())
    deadline = time.time() + 5
    while alive(grandchild) and time.time() < deadline:
        time.sleep(0.1)
    assert not alive(grandchild)


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
