"""The regression-test example of docs/regression-tests.md, as a user runs it after
`pip install`: the plugin (entry point pytest11) gives the `halab_lab` marker and `halab_run`."""
import pytest

pytestmark = pytest.mark.halab_lab  # skipped, with the reason, where the lab cannot run


def test_graceful_stop_moves_the_vip_within_a_second(halab_run):
    result = halab_run("stop_keepalived", target="lvs1")
    assert result.verdict == "pass", result.reason            # control plane and clients, against the model
    assert result.failover("192.168.56.131") < 1.0            # your own threshold, tighter than the model's
    clients = result.client_expectation("192.168.56.131")
    assert clients["failed"] < 60 and not clients["still_failing_at_end"]
