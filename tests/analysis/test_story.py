"""The story detector on synthetic metrics tables built to pass and to fail each
criterion, and `evosim story` on a real run."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from evosim.analysis.story import MEAN, SPEED_GAP, STAGES, WorldSeries, detect, in_order, story
from evosim.cli import main

ROBOTS = 50
FRUIT_FROM = 30_000
END = 300_000


def table(**changes) -> dict[str, np.ndarray]:
    """Per-row events (rows every 1,000 steps up to END) of a world that tells the story.

    Rates per robot per 1k are events / 50. Opening: mine deaths 1.0 until 10k, then
    0.2. Fruit from 30k: 1.0, then 4.0 from 40k. Speed gene 1.2, then 2.0 from 101k,
    when mine deaths rise to 0.5 until 120k and fall to 0.1 after.
    """
    step = np.arange(1000, END + 1, 1000)
    mine = np.where(step <= 10_000, 50.0, 10.0)
    mine = np.where((step > 100_000) & (step <= 120_000), 25.0, mine)
    mine = np.where(step > 120_000, 5.0, mine)
    fruit = np.where(step <= FRUIT_FROM, 0.0, np.where(step < 40_000, 50.0, 200.0))
    speed = np.where(step <= 100_000, 1.2, 2.0)
    data = {"step": step, "mine": mine, "fruit": fruit, "speed": speed}
    for key, fn in changes.items():
        data[key] = fn(step, data[key])
    return data


def series(data: dict[str, np.ndarray]) -> WorldSeries:
    rows = [{"step": int(s), "fruit_eaten": f, "mine_deaths": m, "mean_speed_gene": v}
            for s, f, m, v in zip(data["step"], data["fruit"], data["mine"], data["speed"],
                                  strict=True)]
    return WorldSeries.from_rows(rows, ROBOTS)


def test_a_world_that_tells_the_story_shows_four_stages_in_order():
    stages = detect(series(table()), FRUIT_FROM)
    # Worked out by hand from the rolling 5,000-step windows (see table()).
    assert stages == {"caution": 13_000, "fruit": 43_000, "speed": 101_000,
                      "balance": 123_000}
    assert in_order(stages)


def test_no_caution_when_mine_deaths_do_not_fall_on_day_one():
    flat = table(mine=lambda s, m: np.where(s <= FRUIT_FROM, 50.0, m))
    stages = detect(series(flat), FRUIT_FROM)
    assert stages["caution"] is None and stages["fruit"] == 43_000
    assert not in_order(stages)


def test_no_caution_without_a_fruitless_opening():
    assert detect(series(table()), 0)["caution"] is None
    assert detect(series(table()), None) == dict.fromkeys(STAGES)


def test_no_fruit_stage_when_the_fruit_rate_never_triples():
    dull = table(fruit=lambda s, f: np.where(s <= FRUIT_FROM, 0.0, 120.0))
    stages = detect(series(dull), FRUIT_FROM)
    assert stages["caution"] == 13_000
    assert stages["fruit"] is None and stages["speed"] is None and stages["balance"] is None


def test_no_speed_stage_without_faster_robots_or_without_its_mine_deaths():
    slow = detect(series(table(speed=lambda s, v: np.full(len(s), 1.2))), FRUIT_FROM)
    assert slow["fruit"] == 43_000 and slow["speed"] is None and slow["balance"] is None
    # Faster, but mine deaths never rise: speed did not cost anything.
    free = table(mine=lambda s, m: np.where(s > FRUIT_FROM, 10.0, m))
    assert detect(series(free), FRUIT_FROM)["speed"] is None
    # A rise that comes more than 30,000 steps after every fast row does not count.
    late = table(mine=lambda s, m: np.where(s > 100_000, np.where(
        (s > 160_000) & (s <= 180_000), 25.0, 10.0), m),
        speed=lambda s, v: np.where(s > 120_000, 1.2, v))
    assert detect(series(late), FRUIT_FROM)["speed"] is None
    assert detect(series(table(speed=lambda s, v: np.where(s > 120_000, 1.2, v))),
                  FRUIT_FROM)["speed"] == 101_000


def test_no_balance_when_mines_keep_killing_or_speed_is_given_up_or_no_plateau():
    killing = table(mine=lambda s, m: np.where(s > 120_000, 25.0, m))
    assert detect(series(killing), FRUIT_FROM)["balance"] is None
    # Mine deaths fall only because robots slowed down again.
    slowed = table(speed=lambda s, v: np.where(s > 120_000, 1.5, v))
    assert detect(series(slowed), FRUIT_FROM)["balance"] is None
    # The fruit rate still climbs over the last fifth of the run: no plateau.
    climbing = table(fruit=lambda s, f: np.where(s > 240_000, 260.0, f))
    stages = detect(series(climbing), FRUIT_FROM)
    assert stages["speed"] == 101_000 and stages["balance"] is None
    within = table(fruit=lambda s, f: np.where(s > 240_000, 220.0, f))  # +10%
    assert detect(series(within), FRUIT_FROM)["balance"] == 123_000


def _speed_from(start: int) -> dict[str, np.ndarray]:
    """table() with the speed gene rising after ``start`` and mine deaths rising with it
    for 20,000 steps, then falling."""
    def mine(s, m):
        m = np.where(s > FRUIT_FROM, 10.0, m)
        return np.where((s > start) & (s <= start + 20_000), 25.0,
                        np.where(s > start + 20_000, 5.0, m))
    return table(speed=lambda s, v: np.where(s > start, 2.0, 1.2), mine=mine)


def test_speed_must_start_at_least_10000_steps_after_fruit_seeking():
    soon = detect(series(_speed_from(44_000)), FRUIT_FROM)
    assert soon["fruit"] == 43_000 and soon["speed"] == 45_000
    assert soon["balance"] is not None and not in_order(soon)  # 2,000 steps apart
    later = detect(series(_speed_from(43_000 + SPEED_GAP)), FRUIT_FROM)
    assert later["speed"] - later["fruit"] == SPEED_GAP + 1000 and in_order(later)
    exact = dict(later, speed=later["fruit"] + SPEED_GAP)
    assert in_order(exact) and not in_order(dict(exact, speed=exact["speed"] - 1))


def test_balance_needs_the_speed_gene_at_an_interior_optimum():
    # The speed gene ends at 2.0: a balance only where that is <= 0.9 x the limit.
    assert detect(series(table()), FRUIT_FROM, speed_limit=2.5)["balance"] == 123_000
    assert detect(series(table()), FRUIT_FROM, speed_limit=2.0)["balance"] is None
    assert detect(series(table()), FRUIT_FROM, speed_limit=2.0 / 0.9)["balance"] == 123_000


def test_a_steady_balance_needs_the_speed_gene_to_stop_changing():
    # The last tenth (after 270k) 10% faster than the tenth before: still drifting.
    drifting = series(table(speed=lambda s, v: np.where(s > 270_000, 2.2, v)))
    assert detect(drifting, FRUIT_FROM, 4.5)["balance"] == 123_000
    assert detect(drifting, FRUIT_FROM, 4.5, steady=True)["balance"] is None
    within = series(table(speed=lambda s, v: np.where(s > 270_000, 2.08, v)))  # +4%
    assert detect(within, FRUIT_FROM, 4.5, steady=True)["balance"] == 123_000


def test_story_reports_every_world():
    rows = []
    for world, data in enumerate([table(), table(speed=lambda s, v: np.full(len(s), 1.2))]):
        rows += [{"world": world, "step": int(s), "fruit_eaten": f, "mine_deaths": m,
                  "mean_speed_gene": v}
                 for s, f, m, v in zip(data["step"], data["fruit"], data["mine"],
                                       data["speed"], strict=True)]
    told = story(rows, ROBOTS, FRUIT_FROM, speed_limit=4.5)
    assert [w["world"] for w in told["worlds"]] == [0, 1]
    assert [w["in_order"] for w in told["worlds"]] == [True, False]
    assert told["worlds"][1]["stages"]["speed"] is None
    # The across-world mean: the speed gene goes 1.2 -> 1.6 (x 1.33) while mine deaths
    # rise as in both worlds: the mean tells the whole story, as world 0 does.
    assert told["mean"] == {"world": MEAN, "stages": {"caution": 13_000, "fruit": 43_000,
                                                      "speed": 101_000, "balance": 123_000},
                            "in_order": True}
    # A limit the mean's speed is not clearly below: no balance for the mean either.
    capped = story(rows, ROBOTS, FRUIT_FROM, speed_limit=1.7)
    assert capped["mean"]["stages"]["balance"] is None and not capped["mean"]["in_order"]


def test_story_command_prints_the_documented_json(tmp_path, capsys):
    out = tmp_path / "g"
    assert main(["evolve", "genesis", "--steps", "2000", "--worlds", "2", "--workers", "1",
                 "--metrics-every", "500", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["story", str(out), "--json"]) == 0
    told = json.loads(capsys.readouterr().out)
    assert [w["world"] for w in told["worlds"]] == [0, 1]
    for entry in told["worlds"]:
        assert set(entry) == {"world", "stages", "in_order"}
        assert list(entry["stages"]) == list(STAGES)
        # 2,000 steps of day one: no fruit yet, so no stage can be told.
        assert entry["stages"] == dict.fromkeys(STAGES) and entry["in_order"] is False
    assert told["mean"] == {"world": MEAN, "stages": dict.fromkeys(STAGES), "in_order": False}
    assert main(["story", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "0 of 2 world(s) show all four stages in order" in printed
    assert "the across-world mean does not show them" in printed
    assert any(line.split()[:1] == [MEAN] for line in printed.splitlines())
    assert main(["story", str(tmp_path / "nowhere")]) == 2


@pytest.mark.slow
def test_genesis_shows_the_four_stages_in_order(tmp_path, capsys):
    """The genesis figure (`make story`, seed 0): at least 7 of 8 worlds tell the whole
    story in order (8 today), the across-world mean its first three stages (its balance
    is missing on this seed), and every world's speed gene settles below its cap.
    Seeds 1-7 gave 8, 7, 8, 7, 8, 7 and 6 worlds (docs, the story)."""
    out = tmp_path / "genesis"
    assert main(["evolve", "genesis", "--steps", "400000", "--worlds", "8", "--seed", "0",
                 "--metrics-every", "1000", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["story", str(out), "--json"]) == 0
    told = json.loads(capsys.readouterr().out)
    assert sum(w["in_order"] for w in told["worlds"]) >= 7, told
    mean = told["mean"]["stages"]
    assert mean["caution"] < mean["fruit"] < mean["speed"] - SPEED_GAP, told
    for metrics in sorted(out.glob("world-*/metrics.csv")):  # the price, not the cap (6.0)
        with metrics.open() as f:
            speed = [float(r["mean_speed_gene"]) for r in csv.DictReader(f)]
        assert np.mean(speed[-len(speed) // 5:]) <= 0.9 * 6.0, metrics


SHORT_DAYS = """name = "short-days"
[robots]
count = 20
ageing = false
speed_limit = 6.0
[mines]
count = 10
[fruit]
count = 0
[[phases]]
step = 1000
robots = { ageing = true }
fruit = { count = 20 }
[[phases]]
step = 3000
robots = { speed_limit = 4.0 }
"""


def test_story_at_a_step_tells_what_a_run_stopped_there_would(tmp_path, monkeypatch, capsys):
    """`--at 2500` of a 4,000-step run hands the detector exactly the metrics rows, fruit
    start and speed limit of the same run stopped at 2,500 (the limit in force there,
    6.0, not the 4.0 a later phase sets)."""
    import evosim.analysis.story as story_module

    scenario = tmp_path / "short.toml"
    scenario.write_text(SHORT_DAYS)
    runs = {}
    for steps in (2500, 4000):
        runs[steps] = tmp_path / f"r{steps}"
        assert main(["evolve", str(scenario), "--steps", str(steps), "--worlds", "2",
                     "--workers", "1", "--seed", "3", "--metrics-every", "250",
                     "--out", str(runs[steps]), "--quiet"]) == 0
    seen = []
    real = story_module.story
    monkeypatch.setattr(story_module, "story",
                        lambda *args: seen.append(args) or real(*args))
    capsys.readouterr()
    assert main(["story", str(runs[2500]), "--json"]) == 0
    stopped = json.loads(capsys.readouterr().out)
    assert main(["story", str(runs[4000]), "--at", "2500", "--json"]) == 0
    cut = json.loads(capsys.readouterr().out)
    assert main(["story", str(runs[4000]), "--json"]) == 0
    capsys.readouterr()
    (rows_a, robots_a, fruit_a, limit_a), (rows_b, *rest_b), (rows_c, *rest_c) = seen
    assert rows_b == rows_a and rest_b == [robots_a, fruit_a, limit_a] and cut == stopped
    assert (robots_a, fruit_a, limit_a) == (20, 1000, 6.0)
    assert max(int(r["step"]) for r in rows_a) == 2500 and len(rows_a) == 2 * 10
    assert len(rows_c) == 2 * 16 and rest_c == [20, 1000, 4.0]
    # The phase at 3,000 begins on tick 3,000: the first 3,000 steps never ran under it.
    # Before fruit, the detector still learns when it comes (for caution's opening).
    seen.clear()
    for at in ("3000", "750"):
        assert main(["story", str(runs[4000]), "--at", at, "--json"]) == 0
    assert [args[2:] for args in seen] == [(1000, 6.0), (1000, 6.0)]
    assert max(int(r["step"]) for r in seen[1][0]) == 750
    capsys.readouterr()
    for off_grid in ("2600", "100"):  # no row there: a run stopped at 2,600 has one
        assert main(["story", str(runs[4000]), "--at", off_grid]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and f"--at {int(off_grid):,}: expected a step with "\
            "a metrics row in every world" in err and "metrics.csv" in err, err


def test_story_at_past_the_end_of_the_metrics_is_a_one_line_error(tmp_path, capsys):
    out = tmp_path / "g"
    assert main(["evolve", "genesis", "--steps", "1000", "--worlds", "1", "--workers", "1",
                 "--metrics-every", "500", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["story", str(out), "--at", "1500"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "metrics.csv" in err and "1,000" in err and "--at 1,500" in err, err


def test_story_of_several_runs_counts_the_worlds_and_means_in_order(tmp_path, monkeypatch,
                                                                    capsys):
    """Two runs' stories from synthetic tables: run a has both worlds in order (so its
    mean), run b one of two (speed 2,000 steps after fruit-seeking in the other)."""
    import evosim.analysis.story as story_module

    good = table()
    soon = _speed_from(44_000)
    def rows_of(*worlds):
        return [{"world": w, "step": int(s), "fruit_eaten": f, "mine_deaths": m,
                 "mean_speed_gene": v}
                for w, d in enumerate(worlds)
                for s, f, m, v in zip(d["step"], d["fruit"], d["mine"], d["speed"],
                                      strict=True)]

    told = {"a": story(rows_of(good, good), ROBOTS, FRUIT_FROM, 4.5),
            "b": story(rows_of(good, soon), ROBOTS, FRUIT_FROM, 4.5)}
    assert [w["in_order"] for w in told["b"]["worlds"]] == [True, False]
    seen_at = []
    monkeypatch.setattr(story_module, "run_story",
                        lambda d, at=None: seen_at.append(at) or told[d.name])
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    assert main(["story", a, b, "--at", "300000"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"{a}: 2 of 2 world(s) in order; the mean in order"
    assert printed[1].startswith(f"{b}: 1 of 2 world(s) in order; the mean ")
    mean_b = told["b"]["mean"]["in_order"]
    assert printed[2] == (f"2 runs: 3 of 4 worlds (75%) show all four stages in order; the "
                          f"across-world mean does in {1 + mean_b} of 2")
    assert main(["story", a, b, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["run"] for r in out["runs"]] == [a, b]
    assert out["runs"][1]["worlds"] == told["b"]["worlds"]
    assert out["total"] == {"runs": 2, "worlds": 4, "worlds_in_order": 3,
                            "means_in_order": 1 + mean_b}
    assert seen_at == [300000, 300000, None, None]
