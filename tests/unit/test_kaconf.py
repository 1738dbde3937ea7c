"""keepalived's syntax as the reader sees it: quotes, comments, braces, includes."""
from __future__ import annotations

import pytest

from labs import kaconf


def test_quoted_strings_keep_comment_characters():
    root = kaconf.parse('vrrp_script chk {\n    script "/bin/check # x ! y"  # a comment\n    interval 2\n}\n')
    chk = root.one("vrrp_script")
    assert chk.args == ["chk"] and chk.one("script").args == ["/bin/check # x ! y"]
    assert chk.value("interval") == "2"


def test_closing_brace_on_the_same_line_and_nested_blocks():
    root = kaconf.parse("virtual_server 10.0.0.1 80 { real_server 10.0.0.2 80 { TCP_CHECK { connect_timeout 2 } } }\n"
                        "global_defs { router_id a }")
    rs = root.one("virtual_server").one("real_server")
    assert rs.args == ["10.0.0.2", "80"] and rs.one("TCP_CHECK").value("connect_timeout") == "2"
    assert root.one("global_defs").value("router_id") == "a"


def test_brace_on_its_own_line_and_comments():
    root = kaconf.parse("! header\nvrrp_instance VI_1\n{\n  state MASTER ! inline\n  # whole line\n}\n")
    assert root.one("vrrp_instance").value("state") == "MASTER"


def test_include_with_globs_relative_to_the_including_file(tmp_path):
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "a.conf").write_text("vrrp_instance A {\n priority 100\n}\n")
    (tmp_path / "conf.d" / "b.conf").write_text("vrrp_instance B {\n priority 90\n}\n")
    main = tmp_path / "keepalived.conf"
    main.write_text("global_defs {\n router_id x\n}\ninclude conf.d/*.conf\n")
    root = kaconf.read(main)
    assert [b.args[0] for b in root.all("vrrp_instance")] == ["A", "B"]
    assert root.one("global_defs").value("router_id") == "x"


@pytest.mark.parametrize("text, message", [("global_defs {\n router_id x\n", "unclosed block 'global_defs'"),
                                           ("}\n", "unbalanced"), ("{\n", "without a keyword")])
def test_broken_structure_is_one_clear_error(text, message):
    with pytest.raises(ValueError, match=message):
        kaconf.parse(text)
