"""``zsim twister`` flags for CI at scale: shards, reruns, dry runs, quarantine, flaky
suites, platform_key / depends_on / fixture and the RAM footprint, on small suite trees."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from twister_adapter.discovery import TwisterConfigError
from twister_adapter.shards import parse_subset, shard_bounds
from zsim.cli import main as zsim_main

HELLO = '''
def main(k):
    @k.thread(name="t", priority=5)
    def t():
        k.printk("{text}\\n")
'''
FLAKY = '''
from pathlib import Path

def main(k):
    mark = Path(__file__).parent / "attempted"
    first = not mark.exists()
    mark.write_text("x")

    @k.thread(name="t", priority=5)
    def t():
        k.printk("no luck\\n" if first else "ok\\n")
'''


def twister(*argv: str) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = zsim_main(["twister", *argv])
    return rc, buf.getvalue()


def suite(root: Path, name: str, text: str = "ok", extra: str = "", model: str = HELLO,
          regex: str = "^ok$") -> None:
    d = root / name
    d.mkdir(parents=True)
    (d / "model.py").write_text(model.replace("{text}", text))
    (d / "testcase.yaml").write_text(
        f"tests:\n  t.{name}:\n    harness: console\n    harness_config:\n"
        f"      type: one_line\n      regex: ['{regex}']\n{extra}")


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def planned(outdir: Path) -> dict[str, str | None]:
    """instance name -> status, from testplan.json."""
    return {f"{s['platform']}/{s['name']}": s["status"]
            for s in load(outdir / "testplan.json")["testsuites"]}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "suites"
    for i in range(5):
        suite(root, f"s{i}")
    suite(root, "skipme", extra="    skip: true\n")
    return root


def test_subset_values_and_bounds():
    assert parse_subset("2/4") == (2, 4)
    for bad in ("0/3", "4/3", "x", "1/0"):
        with pytest.raises(TwisterConfigError, match="subset"):
            parse_subset(bad)
    # 10 over 4 shards: 3, 3, 2, 2 consecutive
    assert [shard_bounds(10, k, 4) for k in (1, 2, 3, 4)] == [(0, 3), (3, 6), (6, 8), (8, 10)]


@pytest.mark.parametrize("shuffle", [[], ["--shuffle-tests", "--shuffle-tests-seed", "7"]])
def test_shards_cover_every_instance_exactly_once(tree, tmp_path, shuffle):
    full = tmp_path / "full"
    assert twister("-T", str(tree), "-p", "native_sim", "-p", "qemu_x86", "-O", str(full),
                   "--dry-run")[0] == 0
    everything = planned(full)
    to_run = {n for n, st in everything.items() if st is None}
    assert len(to_run) == 10 and len(everything) == 12
    seen: list[str] = []
    for k in (1, 2, 3):
        out = tmp_path / f"shard{k}"
        rc, _ = twister("-T", str(tree), "-p", "native_sim", "-p", "qemu_x86", "-O", str(out),
                        "--dry-run", "-B", f"{k}/3", *shuffle)
        assert rc == 0
        plan = planned(out)
        seen += [n for n, st in plan.items() if st is None]
        # the filtered ones are listed once, in shard 1
        assert (len(plan) - len([st for st in plan.values() if st is None]) == 2) == (k == 1)
        assert (out / "twister_shuffle_tests_seed.txt").exists() == bool(shuffle)
    assert sorted(seen) == sorted(to_run)
    assert sorted(len(planned(tmp_path / f"shard{k}")) for k in (2, 3)) == [3, 3]


def test_shuffle_seed_changes_the_split_but_is_stable(tree, tmp_path):
    def shard1(seed: str, tag: str) -> set[str]:
        out = tmp_path / tag
        twister("-T", str(tree), "-p", "native_sim", "-p", "qemu_x86", "-O", str(out),
                "--dry-run", "-B", "1/2", "--shuffle-tests", "--shuffle-tests-seed", seed)
        return {n for n, st in planned(out).items() if st is None}
    a, b = shard1("1", "a"), shard1("1", "b")
    assert a == b
    assert any(shard1(str(s), f"s{s}") != a for s in range(2, 6))


def test_a_shard_runs_only_its_suites(tree, tmp_path):
    rc, _ = twister("-T", str(tree), "-p", "native_sim", "-O", str(tmp_path / "o"),
                    "-B", "2/2", "-j", "2")
    assert rc == 0
    names = sorted(s["name"] for s in load(tmp_path / "o" / "twister.json")["testsuites"])
    assert names == ["s3/t.s3", "s4/t.s4"]


def test_bad_flag_combinations_are_refused(tree, tmp_path, capsys):
    for argv, msg in ((["-B", "3/2"], "expected 1 <= k <= N"),
                      (["--shuffle-tests"], "--shuffle-tests needs --subset"),
                      (["--quarantine-verify"], "needs --quarantine-list"),
                      (["-f", "--load-tests", "x.json"], "cannot be used together"),
                      (["--footprint-report", "ROM"], "zsim models RAM only")):
        rc, _ = twister("-T", str(tree), "-p", "native_sim", "-O", str(tmp_path / "o"), *argv)
        assert rc == 2 and msg in capsys.readouterr().err
    with pytest.raises(SystemExit):
        twister("-T", str(tree), "-p", "native_sim", "--retry-interval", "-1")
    assert not (tmp_path / "o").exists()


def test_list_tests_and_dry_run(tree, tmp_path):
    rc, text = twister("-T", str(tree), "--list-tests")
    assert rc == 0
    assert text.splitlines() == [f" - t.s{i}" for i in range(5)] + [" - t.skipme",
                                                                    "6 total."]
    out = tmp_path / "o"
    rc, text = twister("-T", str(tree), "-p", "native_sim", "-O", str(out), "--dry-run")
    assert rc == 0 and "s0/t.s0" in text
    assert (out / "testplan.json").exists() and not (out / "twister.json").exists()
    assert not (out / "native_sim").exists()          # nothing ran


def test_only_failed_reruns_failures_and_keeps_passes(tmp_path):
    root = tmp_path / "suites"
    suite(root, "good")
    suite(root, "bad", text="nope")
    out = tmp_path / "o"
    assert twister("-T", str(root), "-p", "native_sim", "-O", str(out))[0] == 1
    rc, text = twister("-T", str(root), "-O", str(out), "-f", "-v")
    assert rc == 1
    suites = {s["name"]: s for s in load(out / "twister.json")["testsuites"]}
    assert suites["bad/t.bad"]["status"] == "failed" and suites["bad/t.bad"]["retries"] == 1
    assert suites["good/t.good"]["status"] == "passed"
    assert "t.bad" in text and "good/t.good" not in text.split("Adding tasks")[1]
    assert not (tmp_path / "o.1").exists()            # -f keeps the output directory


def test_only_failed_without_a_previous_run_is_bad_input(tmp_path, capsys):
    root = tmp_path / "suites"
    suite(root, "good")
    assert zsim_main(["twister", "-T", str(root), "-O", str(tmp_path / "o"), "-f"]) == 2
    assert "twister.json not found" in capsys.readouterr().err


def test_load_tests_runs_a_saved_plan(tree, tmp_path):
    plan = tmp_path / "plan"
    twister("-T", str(tree), "-p", "native_sim", "-O", str(plan), "--dry-run", "-B", "1/5")
    rc, _ = twister("-T", str(tree), "-O", str(tmp_path / "o"), "--load-tests",
                    str(plan / "testplan.json"), "--retry-interval", "0.01")
    assert rc == 0
    ran = load(tmp_path / "o" / "twister.json")["testsuites"]
    assert [(s["name"], s["status"]) for s in ran] == [("s0/t.s0", "passed")]


QUARANTINE = """\
- scenarios:
    - t\\.s[01]
  platforms:
    - all
  comment: "flaky on CI, issue 12"
- platforms: [qemu_x86]
  architectures: [x8.]
"""


def test_quarantine_skips_matching_and_verify_runs_only_them(tree, tmp_path):
    q = tmp_path / "q.yaml"
    q.write_text(QUARANTINE)
    out = tmp_path / "o"
    rc, _ = twister("-T", str(tree), "-p", "native_sim", "-p", "qemu_x86", "-O", str(out),
                    "--quarantine-list", str(q), "--dry-run")
    assert rc == 0
    plan = {(s["platform"], s["name"]): s for s in load(out / "testplan.json")["testsuites"]}
    s0 = plan[("native_sim", "s0/t.s0")]
    assert (s0["status"], s0["reason"]) == ("skipped", "Quarantine: flaky on CI, issue 12")
    assert s0["testcases"][0]["status"] == "skipped"
    assert plan[("native_sim", "s2/t.s2")]["status"] is None
    assert plan[("qemu_x86", "s2/t.s2")]["reason"] == "Quarantine: NA"
    rc, _ = twister("-T", str(tree), "-p", "native_sim", "-O", str(tmp_path / "v"),
                    "--quarantine-list", str(q), "--quarantine-verify")
    assert rc == 0
    doc = load(tmp_path / "v" / "twister.json")["testsuites"]
    assert sorted(s["name"] for s in doc) == ["s0/t.s0", "s1/t.s1"]
    plan = {s["name"]: s for s in load(tmp_path / "v" / "testplan.json")["testsuites"]}
    assert plan["s2/t.s2"]["reason"] == "Not under quarantine"


@pytest.mark.parametrize("text,where", [
    ("- comment: nothing to match\n", ":1: quarantine entry 0: expected at least one of"),
    ("- platforms: [a]\n  boards: [b]\n", ":2: quarantine entry 0: unknown key 'boards'"),
    ("- scenarios: ['(']\n", ":1: quarantine entry 0.scenarios: bad regular expression"),
    ("- scenarios: x\n", ":1: quarantine entry 0.scenarios: 'x' is not of type 'array'"),
])
def test_bad_quarantine_files_name_file_and_line(tree, tmp_path, capsys, text, where):
    q = tmp_path / "q.yaml"
    q.write_text(text)
    rc = zsim_main(["twister", "-T", str(tree), "-p", "native_sim", "-O", str(tmp_path / "o"),
                    "--quarantine-list", str(q)])
    assert rc == 2
    assert f"{q}{where}" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_flaky_suite_passes_on_retry_and_is_marked(tmp_path):
    root = tmp_path / "suites"
    suite(root, "wobbly", model=FLAKY)
    suite(root, "steady")
    out = tmp_path / "o"
    rc, text = twister("-T", str(root), "-p", "native_sim", "-O", str(out),
                       "--retry-failed", "1")
    assert rc == 0
    suites = {s["name"]: s for s in load(out / "twister.json")["testsuites"]}
    assert suites["wobbly/t.wobbly"]["flaky"] is True
    assert suites["wobbly/t.wobbly"]["retries"] == 1
    assert "flaky" not in suites["steady/t.steady"]
    root_el = ET.parse(out / "twister.xml").getroot()
    props = {tc.get("name"): [p.get("name") for p in tc.iter("property")]
             for tc in root_el.iter("testcase")}
    assert props == {"wobbly/t.wobbly": ["flaky"], "steady/t.steady": []}
    assert "1 of the passed test configurations were flaky" in text


def test_platform_key_depends_on_and_fixture(tmp_path):
    root = tmp_path / "suites"
    suite(root, "keyed", extra="    platform_key: [arch]\n")
    suite(root, "needs", extra="    depends_on: gpio\n")
    suite(root, "fixed", extra="      fixture: loopback\n")
    out = tmp_path / "o"
    plats = ["-p", "qemu_cortex_m3", "-p", "nrf52840dk/nrf52840"]
    assert twister("-T", str(root), *plats, "-O", str(out), "--dry-run")[0] == 0
    plan = {(s["platform"], s["name"].split("/")[0]): s
            for s in load(out / "testplan.json")["testsuites"]}
    assert plan[("qemu_cortex_m3", "keyed")]["status"] is None
    assert plan[("nrf52840dk/nrf52840", "keyed")]["reason"] == (
        "Already covered for key arm by platform qemu_cortex_m3 having key {'arch': 'arm'}")
    assert plan[("qemu_cortex_m3", "needs")]["reason"] == "No hardware support"
    assert plan[("qemu_cortex_m3", "fixed")]["runnable"] is False
    twister("-T", str(root), *plats, "-O", str(tmp_path / "k"), "--dry-run",
            "--ignore-platform-key")
    assert planned(tmp_path / "k")["nrf52840dk/nrf52840/keyed/t.keyed"] is None
    rc, _ = twister("-T", str(root / "fixed"), "-p", "native_sim", "-O", str(tmp_path / "f"))
    s = load(tmp_path / "f" / "twister.json")["testsuites"][0]
    assert (rc, s["status"], s["reason"]) == (0, "not run", "Test was built only")
    rc, _ = twister("-T", str(root / "fixed"), "-p", "native_sim", "-O", str(tmp_path / "g"),
                    "-X", "loopback:/dev/null")
    assert (rc, load(tmp_path / "g" / "twister.json")["testsuites"][0]["status"]) == \
        (0, "passed")


def test_footprint_report_and_deltas(tmp_path):
    root = tmp_path / "suites"
    suite(root, "mem")
    out = tmp_path / "o"
    assert twister("-T", str(root), "-p", "qemu_cortex_m3", "-O", str(out),
                   "--footprint-report", "RAM")[0] == 0
    s = load(out / "twister.json")["testsuites"][0]
    tree = s["footprint"]["RAM"]
    assert s["used_ram"] == tree["total_size"] == tree["symbols"]["size"] > 0
    assert s["used_ram"] + s["available_ram"] == 64 * 1024      # qemu_cortex_m3: 64 KiB
    assert sum(c["size"] for c in tree["symbols"]["children"]) == s["used_ram"]
    thread = next(c for c in tree["symbols"]["children"] if c["name"] == "thread")
    assert {"main", "idle", "t"} <= {c["name"] for c in thread["children"]}
    assert load(out / "qemu_cortex_m3" / "mem" / "t.mem" / "ram.json") == tree
    baseline = tmp_path / "base.json"
    doc = load(out / "twister.json")
    doc["testsuites"][0]["used_ram"] = s["used_ram"] - 100
    baseline.write_text(json.dumps(doc))
    rc, text = twister("-T", str(root), "-p", "qemu_cortex_m3", "-O", str(tmp_path / "d"),
                       "--show-footprint", "--compare-report", str(baseline))
    assert rc == 0 and "footprint deltas" not in text      # under the 5 % threshold
    rc, text = twister("-T", str(root), "-p", "qemu_cortex_m3", "-O", str(tmp_path / "c"),
                       "--show-footprint", "--compare-report", str(baseline),
                       "--footprint-threshold", "0")
    assert rc == 0
    assert f"used_ram +100, is now {s['used_ram']:6}" in text
    assert f"Found 1 footprint deltas to {baseline} as a baseline." in text


def test_plain_run_has_no_new_keys(tmp_path):
    root = tmp_path / "suites"
    suite(root, "plain")
    twister("-T", str(root), "-p", "native_sim", "-O", str(tmp_path / "o"))
    s = load(tmp_path / "o" / "twister.json")["testsuites"][0]
    assert not {"flaky", "used_ram", "available_ram", "footprint"} & set(s)
    assert "subset" not in load(tmp_path / "o" / "twister.json")["environment"]["options"]


def test_depends_on_is_met_by_a_profiles_supported_features(tmp_path):
    boards = tmp_path / "boards"
    boards.mkdir()
    text = (Path(__file__).resolve().parents[1] / "board_profiles" / "native_sim.yaml"
            ).read_text()
    text = text.replace("identifier: native_sim\naliases:\n  - native_sim/native\n",
                        "identifier: feature_sim\naliases: []\n")
    (boards / "feature_sim.yaml").write_text(text + "supported:\n  - gpio\n")
    root = tmp_path / "suites"
    suite(root, "needs_gpio", extra="    depends_on: gpio\n")
    suite(root, "needs_ble", extra="    depends_on: ble\n")
    out = tmp_path / "o"
    assert twister("-T", str(root), "-p", "feature_sim", "--board-dir", str(boards),
                   "-O", str(out), "--dry-run")[0] == 0
    plan = {s["name"].split("/")[0]: s for s in load(out / "testplan.json")["testsuites"]}
    assert plan["needs_gpio"]["status"] is None
    assert plan["needs_ble"]["reason"] == "No hardware support"


def test_a_fixture_on_any_board_of_the_platform_makes_the_suite_runnable(tmp_path):
    """With a hardware map holding two boards of a platform, a suite needing a fixture that
    only the second board has is planned to run (on that board), not filtered out."""
    root = tmp_path / "suites"
    suite(root, "fixed", extra="      fixture: loopback\n")
    suite(root, "camera", extra="      fixture: camera\n")
    hw = tmp_path / "map.yaml"
    hw.write_text("- connected: true\n  id: HW1\n  platform: native_sim\n  serial: loop://\n"
                  "- connected: true\n  id: HW2\n  platform: native_sim\n  serial: loop://\n"
                  "  fixtures: [loopback]\n")
    out = tmp_path / "o"
    assert twister("-T", str(root), "-p", "native_sim", "--device-testing",
                   "--hardware-map", str(hw), "-O", str(out), "--dry-run")[0] == 0
    plan = {s["name"].split("/")[0]: s for s in load(out / "testplan.json")["testsuites"]}
    assert plan["fixed"]["status"] is None
    assert plan["camera"]["status"] == "filtered"
