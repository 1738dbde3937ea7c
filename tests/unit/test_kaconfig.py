"""labs.kaconfig reads a config as keepalived 2.2.7 does: its preprocessor, its keyword
parser and its handlers' values and defaults (each case here is keepalived's behaviour,
read in lib/parser.c and the handlers, and checked against keepalived itself by
test_kaconfig_oracle.py and test_kaconfig_corpus.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from labs import kaconfig
from labs.common.errors import LabError
from labs.kaconfig.lines import decomment, expand_braces, words


def read(tmp_path: Path, text: str, config_id: str | None = None, name: str = "keepalived.conf") -> kaconfig.Config:
    path = tmp_path / name
    path.write_text(text)
    return kaconfig.read(path, config_id)


def messages(config: kaconfig.Config) -> list[str]:
    return [str(d) for d in config.diagnostics.items]


INSTANCE = "vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n{body}\n    virtual_ipaddress {{\n" \
           "        192.168.56.131/24\n    }}\n}}\n"


def test_words_and_comments_as_keepalived_splits_them():
    assert words('script "/bin/check # x ! y" arg') == ["script", "/bin/check # x ! y", "arg"]
    assert words('a"b c"d') == ["a", "b c", "d"]  # a quote starts a new word
    assert decomment('  priority 100 ! a comment') == ("priority 100", False)
    assert decomment('auth_pass a\\#b # comment') == ("auth_pass a#b", False)  # \# escapes the comment character
    assert decomment('script "unterminated') == ('script "unterminated', True)


def test_several_keywords_on_one_line_are_one_keyword_with_the_others_as_arguments(tmp_path):
    """keepalived cuts lines only at braces: the script line takes the rest as its
    arguments, so interval and weight keep their defaults (checked against keepalived's
    data dump: Interval 1 s, Weight 0, and the command without arguments)."""
    c = read(tmp_path, 'vrrp_script chk { script "/bin/true" interval 2 weight -30 }\n')
    s = c.scripts["chk"]
    assert (s.command, s.interval, s.weight) == (("/bin/true",), 1.0, 0)  # the script keyword keeps its 2nd word


def test_closing_braces_on_one_line_and_braces_on_their_own_lines(tmp_path):
    c = read(tmp_path, "virtual_server 10.0.0.1 80 { real_server 10.0.0.2 80 { TCP_CHECK { connect_timeout 2 } } }\n"
                       "global_defs\n{\n router_id a\n}\n")
    (vs,) = c.virtual_servers
    assert vs.real_servers[0].checkers[0].connect_timeout == 2.0 and c.global_defs.router_id == "a"
    assert not c.diagnostics.items


def test_defaults_are_keepalived_s(tmp_path):
    c = read(tmp_path, INSTANCE.format(body="") + "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n"
             "  TCP_CHECK {\n  }\n  HTTP_GET {\n  }\n  MISC_CHECK {\n   misc_path /bin/true\n  }\n }\n}\n")
    (i,) = c.instances
    assert (i.priority, i.advert_int, i.state, i.version, i.preempt_delay) == (100, 1.0, "BACKUP", 2, 0.0)
    (vs,) = c.virtual_servers
    tcp, http, misc = vs.real_servers[0].checkers
    assert (vs.lb_algo, vs.lb_kind, vs.delay_loop, vs.persistence_timeout) == ("wlc", "NAT", 60.0, 0)
    assert (tcp.connect_timeout, tcp.retry, tcp.delay_before_retry, tcp.delay_loop) == (5.0, 1, 1.0, 60.0)
    assert (http.retry, http.delay_before_retry, misc.retry) == (1, 3.0, 0)


def test_checker_timers_inherit_from_real_server_then_virtual_server(tmp_path):
    c = read(tmp_path, "virtual_server 10.0.0.1 80 {\n delay_loop 6\n connect_timeout 3\n retry 4\n"
             " real_server 10.0.0.2 80 {\n  delay_before_retry 2\n  TCP_CHECK {\n   retry 2\n  }\n }\n}\n")
    check = c.virtual_servers[0].real_servers[0].checkers[0]
    assert (check.delay_loop, check.connect_timeout, check.retry, check.delay_before_retry) == (6.0, 3.0, 2, 2.0)


def test_a_track_line_s_weight_overrides_the_script_s(tmp_path):
    c = read(tmp_path, "vrrp_script a {\n script /bin/true\n weight -10\n}\nvrrp_script b {\n script /bin/true\n"
             " weight 5 reverse\n}\n" + INSTANCE.format(body="    track_script {\n        a weight -40\n        b\n    }"))
    tracks = {t.name: (t.weight, t.reverse) for t in c.instances[0].track_scripts}
    assert tracks == {"a": (-40, False), "b": (5, True)}


def test_a_script_defined_after_its_instance_is_not_tracked(tmp_path):
    c = read(tmp_path, INSTANCE.format(body="    track_script {\n        late\n    }")
             + "vrrp_script late {\n script /bin/true\n}\n")
    assert c.instances[0].track_scripts == ()
    assert any("track script late not found" in m for m in messages(c))


def test_conditional_lines_follow_the_config_id(tmp_path):
    body = "@high priority 170\n@low priority 85\n@^high nopreempt"
    high, low, none = (read(tmp_path, INSTANCE.format(body=body), cid) for cid in ("high", "low", None))
    assert (high.instances[0].priority, high.instances[0].nopreempt) == (170, False)
    assert (low.instances[0].priority, low.instances[0].nopreempt) == (85, True)
    assert (none.instances[0].priority, none.instances[0].nopreempt) == (100, True)


def test_definitions_and_substitutions(tmp_path):
    text = ("$PRIO=150\n$VIP=10.0.0.9\n$BLOCK=virtual_ipaddress { \\\n  ${VIP}/24 \\\n}\n"
            "vrrp_instance V {\n interface eth0\n virtual_router_id 9\n priority $PRIO\n $BLOCK\n}\n")
    (i,) = read(tmp_path, text).instances
    assert (i.priority, i.vips) == (150, ("10.0.0.9",))


def test_a_self_referencing_definition_does_not_hang(tmp_path):
    c = read(tmp_path, "$X=$X\nglobal_defs {\n router_id $X\n}\n")
    assert any("refers to itself" in m for m in messages(c))


def test_includes_globs_braces_folders_and_relative_paths(tmp_path):
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "sub.conf").mkdir()  # a folder the glob matches: keepalived skips it
    (tmp_path / "conf.d" / "a.conf").write_text("vrrp_script a {\n script /bin/true\n}\n")
    (tmp_path / "conf.d" / "b.conf").write_text("include ../c.conf\n")  # relative to b.conf's folder
    (tmp_path / "c.conf").write_text("vrrp_script c {\n script /bin/true\n}\n")
    (tmp_path / "x.conf").write_text("vrrp_script x {\n script /bin/true\n}\n")
    (tmp_path / "y.conf").write_text("vrrp_script y {\n script /bin/true\n}\n")
    c = read(tmp_path, "include conf.d/*.conf\ninclude {y,x}.conf\n")
    assert list(c.scripts) == ["a", "c", "y", "x"]  # each brace alternative's matches in turn
    assert any("is a folder; keepalived skips it" in m for m in messages(c))


def test_a_ten_deep_include_chain_reads_and_a_loop_is_named(tmp_path):
    for n in range(10):
        (tmp_path / f"{n}.conf").write_text(f"include {n + 1}.conf\n")
    (tmp_path / "10.conf").write_text("global_defs {\n router_id deep\n}\n")
    assert kaconfig.read(tmp_path / "0.conf").global_defs.router_id == "deep"
    (tmp_path / "loop.conf").write_text("include loop.conf\n")
    with pytest.raises(LabError, match="include loop"):
        kaconfig.read_checked(tmp_path / "loop.conf")


def test_an_error_in_an_included_file_names_that_file_and_line(tmp_path):
    (tmp_path / "inc.conf").write_text("\n\nglobal_defs {\n  no_such_keyword 1\n}\n")
    c = read(tmp_path, "include inc.conf\n")
    assert messages(c) == [f"{tmp_path / 'inc.conf'}:4: unknown keyword 'no_such_keyword' in global_defs: "
                           "keepalived ignores the line"]


def test_an_unknown_block_closes_the_block_around_it(tmp_path):
    """keepalived ignores an unknown keyword's '{': its '}' then closes the instance, and
    what follows is read one level up."""
    c = read(tmp_path, "vrrp_instance VI {\n interface eth0\n virtual_router_id 5\n foo {\n  x\n }\n priority 150\n}\n")
    assert c.instances[0].priority == 100
    assert any("unknown keyword 'priority'" in m for m in messages(c))


def test_numbers_read_as_keepalived_runs_them(tmp_path):
    """priority tolerates no junk (its default then); a script's weight and rise take the
    digits before it; a timer appends its zeros first ("2x" is 2 microseconds, out of range)."""
    c = read(tmp_path, "vrrp_script s {\n script /bin/true\n weight -30x\n rise 2,\n}\n"
             + INSTANCE.format(body="    priority 150,comment\n    advert_int 2x"))
    (i,) = c.instances
    assert (i.priority, i.advert_int, c.scripts["s"].weight, c.scripts["s"].rise) == (100, 1.0, -30, 2)
    assert sum("invalid number" in m for m in messages(c)) == 4


def test_nul_bytes_long_lines_and_deep_nesting_never_raise(tmp_path):
    (tmp_path / "nul.conf").write_bytes(b"global_defs {\n router_id a\x00b\n}\n\x00\x00\n")
    assert kaconfig.read(tmp_path / "nul.conf").global_defs.router_id == "a"
    deep = "vrrp_instance V {\n" * 1000 + "}\n" * 1000
    assert read(tmp_path, deep).instances == []
    braces = read(tmp_path, "{" * 200_000 + "\n")
    assert any("unexpected '{'" in m for m in messages(braces)) and len(braces.diagnostics.items) < 50


def test_brace_expansion_as_glob_brace():
    assert expand_braces("a{b,c{d,e}}f") == ["abf", "acdf", "acef"]
    assert expand_braces("a\\{b,c}") == ["a\\{b,c}"]


def test_read_checked_names_file_and_line(tmp_path):
    (tmp_path / "k.conf").write_text("vrrp_instance V {\n interface eth0\n virtual_router_id 3\n priority\n}\n")
    with pytest.raises(LabError, match=r"k\.conf:4: 'priority' is missing a value"):
        kaconfig.read_checked(tmp_path / "k.conf")
    with pytest.raises(LabError, match="no such file"):
        kaconfig.read_checked(tmp_path / "none.conf")


def test_a_sync_group_member_takes_no_weighted_track(tmp_path):
    """keepalived drops a sync group member's weighted scripts (its data dump shows them
    gone) unless the group sets sync_group_tracking_weight."""
    scripts = "vrrp_script w {\n script /bin/true\n weight -20\n}\nvrrp_script z {\n script /bin/true\n}\n"
    body = "    track_script {\n        w\n        z\n    }"
    group = "vrrp_sync_group G {\n group {\n  VI_1\n }\n%s}\n"
    plain = read(tmp_path, scripts + INSTANCE.format(body=body) + group % "")
    kept = read(tmp_path, scripts + INSTANCE.format(body=body) + group % " sync_group_tracking_weight\n")
    assert [t.name for t in plain.instances[0].track_scripts] == ["z"]
    assert [t.name for t in kept.instances[0].track_scripts] == ["w", "z"]
