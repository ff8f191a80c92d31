"""`loyaldsl run`: the table, JSON Lines, --as-of, bad events files and --rejects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from loyaldsl.cli import main

PROGRAM = """\
program "Corner cafe"
  currency RUB
  timezone "Europe/Moscow"
  categories coffee, cakes

points bonus
  worth 1 RUB
  earn 1 per 10 RUB of order.paid
  available immediately
  expire 1 month after earned
  redeem up to 50% of order.total

rule cake_day
  when order.day = friday
  discount 10% on items in category [cakes]
"""

EVENTS = [
    {"id": "p1", "customer": "anna", "time": "2026-03-05T10:00:00+03:00", "lines": [{"product": "latte", "category": "coffee", "quantity": 2, "unit_price": "250"}]},
    {"id": "p2", "customer": "anna", "time": "2026-03-06T10:00:00+03:00", "lines": [{"product": "napoleon", "category": "cakes", "quantity": 1, "unit_price": "400"}], "redeem": "max"},
    {"id": "p3", "customer": "boris", "time": "2026-03-20T10:00:00+03:00", "lines": [{"product": "latte", "category": "coffee", "quantity": 1, "unit_price": "250"}]},
]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    program = tmp_path / "cafe.loyal"
    program.write_text(PROGRAM, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    return program, events


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_run_prints_a_row_per_event_and_balances(files):
    program, events = files
    result = invoke("run", str(program), str(events))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:6] == ["time", "event", "customer", "subtotal", "discount", "paid"]
    row = next(line for line in lines if " p2 " in line)
    # Friday: 10% off the cake (40), then 50 bonus from p1 redeemed (cap 50% of 360).
    assert "cake_day -40.00 RUB" in row
    assert "redeemed 50 bonus (-50.00 RUB)" in row
    assert "310.00 RUB" in row  # paid
    assert "+31 bonus" in row  # 1 per 10 RUB of 310 paid
    assert "balances as of 2026-03-20 10:00 MSK" in result.output
    assert "anna: 2 orders, spent 860.00 RUB" in result.output
    assert "  bonus: 31 available, 31 expire 2026-04-06 10:00" in result.output


def test_run_json_lines(files):
    program, events = files
    result = invoke("run", str(program), str(events), "--json")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["event"] for r in records[:3]] == ["p1", "p2", "p3"]
    assert records[1]["discounts"] == [{"by": "cake_day", "amount": "40.00"}]
    assert records[1]["paid"] == "310.00"
    balances = {r["balance"]["customer"]: r["balance"] for r in records[3:]}
    assert balances["anna"]["points"]["bonus"]["available"] == "31"


def test_run_as_of_stops_before_the_date_and_applies_expiry(files):
    program, events = files
    result = invoke("run", str(program), str(events), "--as-of", "2026-04-06T10:00")
    assert result.exit_code == 0, result.output
    # anna's 31 bonus (earned 6 March 10:00) expire at exactly that instant
    assert "  bonus: 0 available" in result.output
    early = invoke("run", str(program), str(events), "--as-of", "2026-03-10", "--json")
    customers = [json.loads(line) for line in early.output.splitlines() if "balance" in line]
    assert [c["balance"]["customer"] for c in customers] == ["anna"]  # boris comes on the 20th


def test_bad_rows_stop_the_run_with_row_column_and_reason(files, tmp_path):
    program, events = files
    bad = dict(EVENTS[2], id="p4", lines=[{"product": "latte", "category": "coffee", "quantity": 0, "unit_price": "12,50"}])
    events.write_text(events.read_text() + json.dumps(bad) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(program), str(events)])
    assert result.exit_code == 1
    assert "events.jsonl:4:" in result.output
    assert "quantity" in result.output and "unit_price" in result.output
    assert "nothing was processed" in result.output
    assert "p1" not in result.output.split("nothing was processed")[0].split("events.jsonl:4")[0]


def test_rejects_file_takes_bad_rows_and_the_rest_runs(files, tmp_path):
    program, events = files
    bad = dict(EVENTS[2], id="p4", time="2026-03-21T10:00:00+03:00", customer="")
    events.write_text(events.read_text() + json.dumps(bad) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(main, ["run", str(program), str(events), "--rejects", str(rejects), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(rejects.read_text().strip())["id"] == "p4"
    processed = [json.loads(line)["event"] for line in result.stdout.splitlines() if '"event"' in line]
    assert processed == ["p1", "p2", "p3"]


def test_a_program_with_errors_runs_nothing(files):
    program, events = files
    program.write_text(PROGRAM.replace("earn 1 per 10 RUB", "earn 1 per 10 USD"), encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(program), str(events)])
    assert result.exit_code == 1
    assert "error[T002]" in result.output
    assert "nothing was run" in result.output
    assert "Traceback" not in result.output


def test_missing_files_are_usage_errors(files, tmp_path):
    program, events = files
    for args in (["run", str(tmp_path / "nope.loyal"), str(events)], ["run", str(program), str(tmp_path / "nope.jsonl")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2
        assert "nope" in result.output
        assert "Traceback" not in result.output


def test_csv_events_work_too(files, tmp_path):
    program, _ = files
    events = tmp_path / "events.csv"
    events.write_text(
        "id,customer,time,product,category,quantity,unit_price,redeem\n"
        "p1,anna,2026-03-05T10:00,latte,coffee,2,250,\n"
        "p2,anna,2026-03-06T10:00,napoleon,cakes,1,400,max\n"
        "p2,anna,2026-03-06T10:00,latte,coffee,1,250,max\n",
        encoding="utf-8",
    )
    result = invoke("run", str(program), str(events), "--json")
    assert result.exit_code == 0, result.output
    p2 = json.loads(result.output.splitlines()[1])
    assert p2["subtotal"] == "650.00" and p2["discounts"][0]["amount"] == "40.00"


def test_internal_errors_are_reported_without_a_traceback(files, monkeypatch):
    program, events = files
    import loyaldsl.runtime.engine as engine

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine.Engine, "process", broken)
    result = CliRunner().invoke(main, ["run", str(program), str(events)])
    assert result.exit_code == 3
    assert "internal error: RuntimeError: boom" in result.output
    assert "Traceback" not in result.output
