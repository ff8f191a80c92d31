"""Tests of loyaldsl.events: CSV / JSON Lines purchase streams -> typed events."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import tracemalloc
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from loyaldsl.events import (
    EventsFileError,
    EventsSource,
    RowError,
    detect_format,
    format_row_error,
    read_events,
    write_rejects,
)
from loyaldsl.runtime.model import (
    CustomerEvent,
    Purchase,
    PurchaseLine,
    Refund,
    RefundLine,
)

MSK = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
DATA = Path(__file__).parent / "data" / "events"
HEADER = "type,id,customer,time,product,category,quantity,unit_price,codes,redeem,purchase,birth_date,tier,action"
T = "2026-03-01T10:00:00+03:00"


def msk(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MSK)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join((header,) + rows) + "\n"


def row(**cells: str) -> str:
    """A CSV row of the full HEADER with the given cells filled in."""
    return ",".join(cells.get(column, "") for column in HEADER.split(","))


def jsonl_text(*objects: dict[str, Any]) -> str:
    return "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects)


def read_csv(tmp_path: Path, *rows: str, tz: ZoneInfo = MSK, header: str = HEADER) -> list[Any]:
    return list(read_events(write(tmp_path, "events.csv", csv_text(*rows, header=header)), tz))


def read_jsonl(tmp_path: Path, *objects: dict[str, Any], tz: ZoneInfo = MSK) -> list[Any]:
    return list(read_events(write(tmp_path, "events.jsonl", jsonl_text(*objects)), tz))


def errors(items: list[Any]) -> list[tuple[int, str | None, str]]:
    return [(e.row, e.column, e.message) for e in items if isinstance(e, RowError)]


def only_error(items: list[Any]) -> tuple[int, str | None, str]:
    found = errors(items)
    assert len(found) == 1, found
    assert all(isinstance(item, RowError) for item in items), items
    return found[0]


def purchase_row(**cells: str) -> str:
    base = {"id": "p1", "customer": "anna", "time": T, "product": "espresso", "quantity": "1", "unit_price": "2.50"}
    base.update(cells)
    return row(**base)


def purchase_obj(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "purchase",
        "id": "p1",
        "customer": "anna",
        "time": T,
        "lines": [{"product": "espresso", "category": "drinks", "quantity": 1, "unit_price": "2.50"}],
    }
    base.update(fields)
    return base


def line_obj(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"product": "espresso", "quantity": 1, "unit_price": "2.50"}
    base.update(fields)
    return base


# ------------------------------------------------------------------- happy paths

SAMPLE_EVENTS = [
    CustomerEvent("s1", "anna", msk(2026, 3, 1, 9), "signup", birth_date=dt.date(1990, 5, 17)),
    Purchase(
        "p1",
        "anna",
        msk(2026, 3, 1, 10),
        (
            PurchaseLine("ethiopia-250g", "beans", 2, Decimal("1000")),
            PurchaseLine("قهوه-ترک", "قهوه", 1, Decimal("350.50")),
        ),
        codes=("SKIDKA30",),
        redeem=(("bonus", Decimal("450")),),
    ),
    Purchase(
        "p2",
        "રમેશ",
        msk(2026, 3, 1, 12, 30),
        (PurchaseLine("ચા-મસાલા", "ચા", 3, Decimal("120.25")),),
        codes=("A", "B"),
        redeem=(("", None),),
    ),
    Refund("r1", "anna", msk(2026, 3, 2, 12), "p1", (RefundLine("ethiopia-250g", 1),)),
    Refund("r2", "રમેશ", msk(2026, 3, 2, 13), "p2", ()),
    CustomerEvent("b1", "anna", msk(2026, 5, 17), "birthday"),
    CustomerEvent("t1", "anna", msk(2026, 5, 18, 10), "tier", tier="Gold"),
    CustomerEvent("a1", "anna", msk(2026, 5, 19, 10), "action", action="review"),
    Purchase(
        "p3",
        "boris",
        msk(2026, 5, 20, 10),
        (PurchaseLine("espresso", "drinks", 1, Decimal("2.5")),),
        redeem=(("bonus", Decimal("10")), ("miles", None)),
    ),
]


@pytest.mark.parametrize("name", ["sample.csv", "sample.jsonl"])
def test_sample_files_give_every_kind_of_event(name: str) -> None:
    events = list(read_events(DATA / name, MSK))
    assert events == SAMPLE_EVENTS
    for event in events:
        assert event.at.tzinfo is MSK


def test_csv_and_jsonl_samples_agree_exactly() -> None:
    as_csv = list(read_events(DATA / "sample.csv", MSK))
    as_jsonl = list(read_events(DATA / "sample.jsonl", MSK))
    assert [repr(e) for e in as_csv] == [repr(e) for e in as_jsonl]


def test_no_float_anywhere_json_numbers_are_decimal_from_their_text(tmp_path: Path) -> None:
    obj = purchase_obj(
        lines=[line_obj(unit_price=0.1), line_obj(product="b", unit_price=12.5), line_obj(product="c", unit_price=7)],
        redeem={"bonus": 0.3},
    )
    (event,) = read_jsonl(tmp_path, obj)
    prices = [line.unit_price for line in event.lines]
    assert prices == [Decimal("0.1"), Decimal("12.5"), Decimal("7")]
    assert all(type(p) is Decimal for p in prices)
    assert type(event.redeem[0][1]) is Decimal and event.redeem[0][1] == Decimal("0.3")
    assert all(type(line.quantity) is int for line in event.lines)
    for event in read_events(DATA / "sample.csv", MSK):
        if isinstance(event, Purchase):
            for line in event.lines:
                assert type(line.unit_price) is Decimal
            for _, amount in event.redeem:
                assert amount is None or type(amount) is Decimal


def test_naive_times_are_in_the_program_zone_and_offsets_are_converted(tmp_path: Path) -> None:
    times = ["2026-03-01T10:00:00", "2026-03-01T07:00:00Z", "2026-03-01T09:00:00+02:00", "2026-03-02"]
    objs = [{"type": "action", "id": f"a{i}", "customer": "anna", "time": t, "action": "visit"} for i, t in enumerate(times)]
    events = read_jsonl(tmp_path, *objs)
    assert [e.at for e in events] == [msk(2026, 3, 1, 10), msk(2026, 3, 1, 10), msk(2026, 3, 1, 10), msk(2026, 3, 2)]
    assert all(e.at.tzinfo is MSK for e in events)
    assert events[0].at.utcoffset() == dt.timedelta(hours=3)


def test_same_naive_time_means_different_instants_in_different_zones(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", csv_text(purchase_row(time="2026-03-01T10:00:00")))
    (in_moscow,) = read_events(path, MSK)
    (in_berlin,) = read_events(path, BERLIN)
    assert in_berlin.at - in_moscow.at == dt.timedelta(hours=2)


def test_csv_redeem_and_codes_forms(tmp_path: Path) -> None:
    events = read_csv(
        tmp_path,
        purchase_row(id="p1", redeem="450", codes=" SKIDKA30 ; ;WELCOME"),
        purchase_row(id="p2", redeem="MAX"),
        purchase_row(id="p3", redeem="miles=max; bonus=12.5"),
        purchase_row(id="p4"),
    )
    assert [e.redeem for e in events] == [
        (("", Decimal("450")),),
        (("", None),),
        (("bonus", Decimal("12.5")), ("miles", None)),
        (),
    ]
    assert events[0].codes == ("SKIDKA30", "WELCOME")
    assert events[3].codes == ()


def test_json_redeem_and_codes_forms(tmp_path: Path) -> None:
    events = read_jsonl(
        tmp_path,
        purchase_obj(id="p1", redeem=450, codes="SKIDKA30"),
        purchase_obj(id="p2", redeem="max"),
        purchase_obj(id="p3", redeem={"miles": "max", "bonus": "12.5"}),
        purchase_obj(id="p4", redeem="300", codes=["A", "B"]),
        purchase_obj(id="p5", redeem=None, codes=None),
    )
    assert [e.redeem for e in events] == [
        (("", Decimal("450")),),
        (("", None),),
        (("bonus", Decimal("12.5")), ("miles", None)),
        (("", Decimal("300")),),
        (),
    ]
    assert [e.codes for e in events] == [("SKIDKA30",), (), (), ("A", "B"), ()]


def test_refund_whole_and_partial_in_both_formats(tmp_path: Path) -> None:
    csv_events = read_csv(
        tmp_path,
        row(type="refund", id="r1", customer="anna", time=T, purchase="p1"),
        row(type="refund", id="r2", customer="anna", time=T, purchase="p1", product="a", quantity="1"),
        row(type="refund", id="r2", customer="anna", time=T, purchase="p1", product="b", quantity="2"),
    )
    assert csv_events == [
        Refund("r1", "anna", msk(2026, 3, 1, 10), "p1", ()),
        Refund("r2", "anna", msk(2026, 3, 1, 10), "p1", (RefundLine("a", 1), RefundLine("b", 2))),
    ]
    base = {"type": "refund", "customer": "anna", "time": T, "purchase": "p1"}
    json_events = read_jsonl(
        tmp_path,
        {**base, "id": "r1"},
        {**base, "id": "r2", "lines": [{"product": "a", "quantity": 1}, {"product": "b", "quantity": "2"}]},
        {**base, "id": "r3", "lines": []},
    )
    assert json_events[:2] == csv_events
    assert json_events[2].lines == ()


def test_multi_row_csv_purchase_is_one_event(tmp_path: Path) -> None:
    (event,) = read_csv(
        tmp_path,
        purchase_row(product="a", category="beans", quantity="2", unit_price="10"),
        purchase_row(product="b", quantity="1", unit_price="0.0001"),
        purchase_row(product="a", category="beans", quantity="3", unit_price="10.00"),
    )
    assert event.lines == (
        PurchaseLine("a", "beans", 2, Decimal("10")),
        PurchaseLine("b", "", 1, Decimal("0.0001")),
        PurchaseLine("a", "beans", 3, Decimal("10.00")),
    )


def test_csv_columns_in_any_order_missing_optional_columns_bom_and_blank_lines(tmp_path: Path) -> None:
    text = "\ufeffTime , customer,ID,unit_price,quantity,product\r\n\r\n" + f"{T},anna,p1,5,1,tea\r\n,,,,,\r\n"
    path = write(tmp_path, "e.csv", text)
    assert list(read_events(path, MSK)) == [
        Purchase("p1", "anna", msk(2026, 3, 1, 10), (PurchaseLine("tea", "", 1, Decimal("5")),))
    ]
    assert EventsSource.open(path, MSK).header == "Time , customer,ID,unit_price,quantity,product"


def test_unicode_is_normalised_to_nfc(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "Zoë café")
    (event,) = read_jsonl(tmp_path, purchase_obj(customer=decomposed, lines=[line_obj(product=decomposed)]))
    assert event.customer == "Zoë café" == unicodedata.normalize("NFC", decomposed)
    assert event.lines[0].product == "Zoë café"


def test_whole_json_numbers_are_accepted_as_ids(tmp_path: Path) -> None:
    (event,) = read_jsonl(tmp_path, purchase_obj(id=1001, customer=42, lines=[line_obj(product=4600000000001)]))
    assert (event.id, event.customer, event.lines[0].product) == ("1001", "42", "4600000000001")


def test_format_from_extension_or_explicit(tmp_path: Path) -> None:
    assert detect_format("a.CSV") == "csv"
    assert [detect_format(f"a.{ext}") for ext in ("jsonl", "ndjson", "json")] == ["jsonl"] * 3
    path = write(tmp_path, "events.txt", jsonl_text(purchase_obj()))
    assert len(list(read_events(path, MSK, fmt="jsonl"))) == 1
    assert len(list(read_events(path, MSK, fmt="ndjson"))) == 1
    path = write(tmp_path, "export.data", csv_text(purchase_row()))
    assert len(list(read_events(path, MSK, fmt="csv"))) == 1


def test_non_adjacent_repeated_id_passes_as_two_events(tmp_path: Path) -> None:
    events = read_csv(
        tmp_path,
        purchase_row(id="p1", product="a"),
        purchase_row(id="p2", product="b"),
        purchase_row(id="p1", product="c"),
    )
    assert [(e.id, e.lines[0].product) for e in events] == [("p1", "a"), ("p2", "b"), ("p1", "c")]
    events = read_jsonl(tmp_path, purchase_obj(), purchase_obj())
    assert [e.id for e in events] == ["p1", "p1"]


def test_source_can_be_read_twice(tmp_path: Path) -> None:
    source = EventsSource.open(DATA / "sample.csv", MSK)
    assert list(source) == list(source) == SAMPLE_EVENTS
    assert source.fmt == "csv"
    assert source.header == HEADER
    assert EventsSource.open(DATA / "sample.jsonl", MSK).header is None


def test_equal_times_are_in_order_and_order_is_compared_in_utc(tmp_path: Path) -> None:
    # 2026-10-25 in Berlin: 02:30 CEST (+02:00) comes before 02:10 CET (+01:00).
    objs = [
        {"type": "action", "id": "a1", "customer": "anna", "time": "2026-10-25T02:30:00+02:00", "action": "x"},
        {"type": "action", "id": "a2", "customer": "anna", "time": "2026-10-25T02:30:00+02:00", "action": "x"},
        {"type": "action", "id": "a3", "customer": "anna", "time": "2026-10-25T02:10:00+01:00", "action": "x"},
    ]
    events = read_jsonl(tmp_path, *objs, tz=BERLIN)
    assert [e.id for e in events] == ["a1", "a2", "a3"]
    assert events[2].at.fold == 1


# ------------------------------------------------------------- file-level errors


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EventsFileError, match=r'events file ".*nope\.csv" does not exist'):
        read_events(tmp_path / "nope.csv", MSK)


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "events.csv"
    folder.mkdir()
    with pytest.raises(EventsFileError, match=r'".*events\.csv" is a folder, not an events file'):
        read_events(folder, MSK)


def test_empty_files(tmp_path: Path) -> None:
    for name, text in [("e.csv", ""), ("e.jsonl", ""), ("f.jsonl", "\n  \n"), ("f.csv", "\n,,\n")]:
        with pytest.raises(EventsFileError, match=r'events file ".*" is empty'):
            read_events(write(tmp_path, name, text), MSK)


def test_not_utf8_in_header_is_raised_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", "type,id,customer,time,caf\xe9\n".encode("latin-1"))
    with pytest.raises(EventsFileError) as raised:
        read_events(path, MSK)
    assert raised.value.message == (
        f'events file "{path}" is not UTF-8 text (line 1 has the byte 0xe9); '
        'save it as UTF-8 (in a spreadsheet: "CSV UTF-8")'
    )


def test_not_utf8_further_in_is_raised_when_reached(tmp_path: Path) -> None:
    text = csv_text(purchase_row(id="p1"), purchase_row(id="p2", customer="Jos\xe9")).encode("latin-1")
    events = read_events(write(tmp_path, "e.csv", text), MSK)
    with pytest.raises(EventsFileError, match=r"is not UTF-8 text \(line 3 has the byte 0xe9\)"):
        list(events)


def test_csv_without_header(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", f"purchase,p1,anna,{T},tea,,1,5\n")
    with pytest.raises(EventsFileError) as raised:
        read_events(path, MSK)
    assert raised.value.message == (
        f'events file "{path}" has no header row: its first line must name the columns, such as '
        "type,id,customer,time,product,category,quantity,unit_price"
    )


def test_csv_unknown_column_with_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", "id,customer,time,product,quantity,unit price,colour\n")
    with pytest.raises(EventsFileError) as raised:
        read_events(path, MSK)
    message = raised.value.message
    assert message.startswith(
        f'events file "{path}": unknown column "unit price" (did you mean "unit_price"?); unknown column "colour"; '
        "the columns are type, id, customer, time, product,"
    )


def test_csv_missing_required_column(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", "id,time,product\n")
    with pytest.raises(EventsFileError) as raised:
        read_events(path, MSK)
    assert raised.value.message == (
        f'events file "{path}": missing column "customer" (every event needs id, customer and time)'
    )


def test_csv_duplicate_column(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", "id,customer,time,id\n")
    with pytest.raises(EventsFileError, match='column "id" appears twice in the header'):
        read_events(path, MSK)


def test_csv_separated_by_semicolons(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", "id;customer;time\np1;anna;2026-03-01\n")
    with pytest.raises(EventsFileError, match='separates its columns with ";"; save it as comma-separated CSV'):
        read_events(path, MSK)


def test_unknown_extension_and_unknown_format(tmp_path: Path) -> None:
    path = write(tmp_path, "events.txt", "x\n")
    with pytest.raises(EventsFileError, match=r'cannot tell the format of ".*events\.txt" from its name'):
        read_events(path, MSK)
    with pytest.raises(EventsFileError, match='unknown events format "xml": expected csv or jsonl'):
        read_events(path, MSK, fmt="xml")


def test_json_array_instead_of_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "e.json", json.dumps([purchase_obj()]))
    with pytest.raises(EventsFileError, match=r"holds a JSON array; write one event object per line"):
        read_events(path, MSK)


def test_unclosed_quote_swallowing_the_file(tmp_path: Path) -> None:
    rows = [purchase_row(id="p0", product='"tea')] + [purchase_row(id=f"p{i}") for i in range(1, 3000)]
    events = read_events(write(tmp_path, "e.csv", csv_text(*rows)), MSK)
    with pytest.raises(EventsFileError, match=r"cannot be read as CSV near line \d+ .*is a double quote left open\?"):
        list(events)


# -------------------------------------------------------------- row errors (CSV)


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"quantity": "0"}, "quantity", '"0" must be a whole number of at least 1'),
        ({"quantity": "2.5"}, "quantity", '"2.5" must be a whole number of at least 1'),
        ({"quantity": "two"}, "quantity", '"two" must be a whole number of at least 1'),
        ({"quantity": "2000000000"}, "quantity", '"2000000000" is too large for a quantity (at most 1,000,000,000)'),
        ({"unit_price": '"12,50"'}, "unit_price", '"12,50" is not a number (use a dot for decimals)'),
        ({"unit_price": '"1,250.50"'}, "unit_price",
         '"1,250.50" is not a number (write it without thousands separators, such as 1250.50)'),
        ({"unit_price": "$12.50"}, "unit_price",
         '"$12.50" is not a number (write only the amount, such as 12.50, without a currency sign)'),
        ({"unit_price": "12.50 руб"}, "unit_price",
         '"12.50 руб" is not a number (write only the amount, such as 12.50, without a currency sign)'),
        ({"unit_price": "free"}, "unit_price", '"free" is not a number such as 12.50'),
        ({"unit_price": "NaN"}, "unit_price", '"NaN" is not a finite number'),
        ({"unit_price": "-5"}, "unit_price", '"-5" must not be negative'),
        ({"unit_price": "1.23456"}, "unit_price", '"1.23456" has more than 4 decimal places'),
        ({"unit_price": "1" + "0" * 15}, "unit_price",
         '"1000000000000000" is too large (at most 15 digits before the decimal point)'),
        ({"unit_price": ""}, "unit_price",
         "no unit_price given; each purchase line needs a unit_price (the price of one unit, such as 12.50)"),
        ({"product": ""}, "product", "no product given; each line needs a product"),
        ({"quantity": ""}, "quantity", "no quantity given; each line needs a quantity (a whole number of at least 1)"),
        ({"customer": ""}, "customer", "no customer given; every event must say which customer it is for"),
        ({"time": ""}, "time", "no time given; every event needs a time such as 2026-03-01T10:00:00+03:00"),
        ({"id": ""}, "id", "no id given; every event needs an id, unique in the file"),
        ({"time": "2026-13-01"}, "time",
         '"2026-13-01" is not an ISO 8601 date-time such as 2026-03-01T10:00:00+03:00'),
        ({"time": "01.03.2026 10:00"}, "time",
         '"01.03.2026 10:00" is not an ISO 8601 date-time such as 2026-03-01T10:00:00+03:00'),
        ({"type": "purchse"}, "type",
         'unknown event type "purchse" (did you mean "purchase"?); '
         "expected one of purchase, refund, signup, birthday, tier, action"),
        ({"type": "sale"}, "type",
         'unknown event type "sale"; expected one of purchase, refund, signup, birthday, tier, action'),
        ({"redeem": "lots"}, "redeem", '"lots" is not a number of points or "max"'),
        ({"redeem": "bonus=-1"}, "redeem", '"-1" must not be negative'),
        ({"redeem": "=450"}, "redeem", '"=450" has no points name before "=" (write it as bonus=450)'),
        ({"redeem": "bonus=1;bonus=max"}, "redeem", 'names the points "bonus" twice'),
        ({"redeem": "450;bonus=1"}, "redeem",
         "mixes a bare amount with named points; name every kind of points, such as bonus=450;miles=max"),
        ({"tier": "Gold"}, "tier", "tier is not used by a purchase event; leave it empty or check the event type"),
        ({"purchase": "p0"}, "purchase",
         "purchase is not used by a purchase event; leave it empty or check the event type"),
    ],
)
def test_csv_row_errors(tmp_path: Path, cells: dict[str, str], column: str, message: str) -> None:
    assert only_error(read_csv(tmp_path, purchase_row(**cells))) == (2, column, message)


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"type": "signup", "birth_date": "17.05.1990"}, "birth_date",
         '"17.05.1990" is not a date such as 1990-05-17 (year-month-day)'),
        ({"type": "signup", "unit_price": "5"}, "unit_price",
         "unit_price is not used by a signup event; leave it empty or check the event type"),
        ({"type": "tier"}, "tier", "no tier given; a tier event must name the tier it grants"),
        ({"type": "action"}, "action", "no action given; an action event must name the action, such as review"),
        ({"type": "refund"}, "purchase", "no purchase given; a refund must name the id of the purchase it returns"),
        ({"type": "refund", "purchase": "p1", "quantity": "1"}, "quantity",
         "a refund row with no product returns the whole purchase; leave quantity empty or fill in the product"),
        ({"type": "refund", "purchase": "p1", "product": "tea"}, "quantity",
         "no quantity given; each line needs a quantity (a whole number of at least 1)"),
        ({"type": "refund", "purchase": "p1", "product": "tea", "quantity": "1", "unit_price": "5"}, "unit_price",
         "unit_price is not used by a refund event; leave it empty or check the event type"),
    ],
)
def test_csv_row_errors_of_other_event_types(tmp_path: Path, cells: dict[str, str], column: str, message: str) -> None:
    base = {"id": "e1", "customer": "anna", "time": T}
    assert only_error(read_csv(tmp_path, row(**{**base, **cells}))) == (2, column, message)


def test_csv_every_problem_of_a_row_is_reported(tmp_path: Path) -> None:
    found = errors(read_csv(tmp_path, purchase_row(customer="", quantity="0", unit_price='"12,50"')))
    assert [(r, c) for r, c, _ in found] == [(2, "customer"), (2, "quantity"), (2, "unit_price")]


def test_csv_purchase_in_a_file_without_product_columns(tmp_path: Path) -> None:
    items = read_csv(tmp_path, f"s1,anna,{T}", f"p1,anna,{T}", header="id,customer,time")
    assert errors(items) == [
        (2, "product", 'the file has no "product" column; each line needs a product'),
        (2, "quantity", 'the file has no "quantity" column; each line needs a quantity (a whole number of at least 1)'),
        (2, "unit_price",
         'the file has no "unit_price" column; each purchase line needs a unit_price (the price of one unit, such as 12.50)'),
        (3, "product", 'the file has no "product" column; each line needs a product'),
        (3, "quantity", 'the file has no "quantity" column; each line needs a quantity (a whole number of at least 1)'),
        (3, "unit_price",
         'the file has no "unit_price" column; each purchase line needs a unit_price (the price of one unit, such as 12.50)'),
    ]


def test_csv_wrong_number_of_values(tmp_path: Path) -> None:
    items = read_csv(tmp_path, purchase_row() + ",extra", purchase_row(id="p2").rsplit(",", 3)[0])
    assert errors(items) == [
        (2, None, "this row has 15 values but the header names 14 columns; "
                  "put a value that contains a comma in double quotes"),
        (3, None, "this row has 11 values but the header names 14 columns"),
    ]


def test_csv_value_running_over_lines(tmp_path: Path) -> None:
    first, second = purchase_row(product='"tea'), 'more",,1,2.50' + "," * 6
    items = read_csv(tmp_path, first, second, purchase_row(id="p2"))
    assert errors(items) == [
        (2, "product", '"tea,,1,2.50,,,,,,\\nmore" runs over several lines; is a double quote left open?'),
    ]
    assert items[0].raw == first + "\n" + second
    assert isinstance(items[1], Purchase) and items[1].id == "p2"


def test_csv_disagreeing_event_level_fields(tmp_path: Path) -> None:
    items = read_csv(
        tmp_path,
        purchase_row(product="a", codes="X"),
        purchase_row(product="b", customer="boris", codes="X"),
        purchase_row(product="c", codes="Y", time="2026-03-01T07:00:00Z"),
    )
    assert errors(items) == [
        (2, None, "rejected with its event: row 3 is bad"),
        (3, "customer", '"boris" differs from "anna" on row 2, the first row of event "p1"; every row of one event '
                        "must repeat the same customer (or give the rows different ids if they are different events)"),
        (4, "time", f'"2026-03-01T07:00:00Z" differs from "{T}" on row 2, the first row of event "p1"; every row of '
                    "one event must repeat the same time (or give the rows different ids if they are different events)"),
        (4, "codes", '"Y" differs from "X" on row 2, the first row of event "p1"; every row of one event must repeat '
                     "the same codes (or give the rows different ids if they are different events)"),
    ]


def test_csv_empty_type_and_purchase_agree(tmp_path: Path) -> None:
    (event,) = read_csv(tmp_path, purchase_row(type="", product="a"), purchase_row(type="Purchase", product="b"))
    assert len(event.lines) == 2


def test_csv_bad_row_rejects_its_whole_event_with_raw_text(tmp_path: Path) -> None:
    rows = [
        purchase_row(id="p0"),
        purchase_row(product="a"),
        purchase_row(product="b", quantity="0"),
        purchase_row(product="c"),
        purchase_row(id="p2", time="2026-03-01T11:00:00+03:00"),
    ]
    items = read_csv(tmp_path, *rows)
    assert isinstance(items[0], Purchase) and isinstance(items[-1], Purchase)
    rejected = items[1:-1]
    assert [(e.row, e.column, e.message, e.raw) for e in rejected] == [
        (3, None, "rejected with its event: row 4 is bad", rows[1]),
        (4, "quantity", '"0" must be a whole number of at least 1', rows[2]),
        (5, None, "rejected with its event: row 4 is bad", rows[3]),
    ]


def test_csv_customer_event_spans_one_row(tmp_path: Path) -> None:
    signup = row(type="signup", id="s1", customer="anna", time=T)
    items = read_csv(tmp_path, signup, signup)
    assert errors(items) == [
        (2, None, "rejected with its event: row 3 is bad"),
        (3, "id", 'repeats the id "s1" of row 2; a signup event has exactly one row (give each event its own id)'),
    ]


def test_csv_refund_mixing_whole_and_partial_rows(tmp_path: Path) -> None:
    base = {"type": "refund", "id": "r1", "customer": "anna", "time": T, "purchase": "p1"}
    items = read_csv(tmp_path, row(**base, product="a", quantity="1"), row(**base))
    assert errors(items) == [
        (2, None, "rejected with its event: row 3 is bad"),
        (3, "product", 'no product given, which returns the whole purchase, but other rows of refund "r1" name '
                       "products; fill in the product or give the rows different ids"),
    ]


def test_rows_without_id_stand_alone(tmp_path: Path) -> None:
    items = read_csv(tmp_path, purchase_row(id=""), purchase_row(id=""))
    assert errors(items) == [
        (2, "id", "no id given; every event needs an id, unique in the file"),
        (3, "id", "no id given; every event needs an id, unique in the file"),
    ]


# ------------------------------------------------------------ row errors (JSONL)


@pytest.mark.parametrize(
    ("obj", "column", "message"),
    [
        (purchase_obj(type="purchse"), "type",
         'unknown event type "purchse" (did you mean "purchase"?); '
         "expected one of purchase, refund, signup, birthday, tier, action"),
        (purchase_obj(type=3), "type", "3 must be text: one of purchase, refund, signup, birthday, tier, action"),
        ({**purchase_obj(), "custmer": "x"}, "custmer",
         'unknown field "custmer" (did you mean "customer"?); a purchase event has the fields '
         "type, id, customer, time, lines, codes, redeem"),
        (purchase_obj(tier="Gold"), "tier",
         "tier is not used by a purchase event; remove it or check the event type"),
        (purchase_obj(customer=None), "customer", "no customer given; every event must say which customer it is for"),
        (purchase_obj(customer=["anna"]), "customer", '["anna"] must be text, such as "anna"'),
        (purchase_obj(id=1.5), "id", '1.5 must be text, such as "p1"'),
        (purchase_obj(time=1772348400), "time", '1772348400 must be text such as "2026-03-01T10:00:00+03:00"'),
        (purchase_obj(time="yesterday"), "time",
         '"yesterday" is not an ISO 8601 date-time such as 2026-03-01T10:00:00+03:00'),
        (purchase_obj(lines=None), "lines",
         'no lines given; a purchase needs its basket, such as '
         '[{"product": "ethiopia-250g", "quantity": 2, "unit_price": "1000"}]'),
        (purchase_obj(lines=[]), "lines",
         'a purchase needs at least one line, such as '
         '[{"product": "ethiopia-250g", "quantity": 2, "unit_price": "1000"}]'),
        (purchase_obj(lines={"product": "x"}), "lines",
         '{"product": "x"} must be a list of lines, such as '
         '[{"product": "ethiopia-250g", "quantity": 2, "unit_price": "1000"}]'),
        (purchase_obj(lines=[line_obj(), "tea"]), "lines[2]",
         '"tea" must be an object, such as {"product": "ethiopia-250g", "quantity": 2, "unit_price": "1000"}'),
        (purchase_obj(lines=[line_obj(), line_obj(unit_price="12,50")]), "lines[2].unit_price",
         '"12,50" is not a number (use a dot for decimals)'),
        (purchase_obj(lines=[line_obj(unit_price=1.23456)]), "lines[1].unit_price",
         "1.23456 has more than 4 decimal places"),
        (purchase_obj(lines=[line_obj(unit_price=-0.5)]), "lines[1].unit_price", "-0.5 must not be negative"),
        (purchase_obj(lines=[line_obj(unit_price=True)]), "lines[1].unit_price", "true is not a number such as 12.50"),
        (purchase_obj(lines=[line_obj(quantity=0)]), "lines[1].quantity", "0 must be a whole number of at least 1"),
        (purchase_obj(lines=[line_obj(quantity=1.5)]), "lines[1].quantity",
         "1.5 must be a whole number of at least 1"),
        (purchase_obj(lines=[line_obj(quantity=None)]), "lines[1].quantity",
         "no quantity given; each line needs a quantity (a whole number of at least 1)"),
        (purchase_obj(lines=[line_obj(prise=1)]), "lines[1].prise",
         'unknown field "prise"; a purchase line has the fields product, category, quantity, unit_price'),
        (purchase_obj(lines=[line_obj(quantiy=1)]), "lines[1].quantiy",
         'unknown field "quantiy" (did you mean "quantity"?); '
         "a purchase line has the fields product, category, quantity, unit_price"),
        (purchase_obj(codes=7), "codes", '7 must be a code or a list of codes, such as ["SKIDKA30"]'),
        (purchase_obj(codes=["A", ""]), "codes[2]", "the code is empty; remove it or fill it in"),
        (purchase_obj(redeem=[450]), "redeem", '[450] must be points to spend: a number, "max", or {"bonus": 450}'),
        (purchase_obj(redeem={"bonus": "all"}), "redeem", '"bonus": "all" is not a number of points or "max"'),
        (purchase_obj(redeem={"bonus": 1, " ": 2}), "redeem",
         'has a points name that is empty; write it as {"bonus": 450}'),
        (purchase_obj(redeem=-3), "redeem", "-3 must not be negative"),
        ({"type": "refund", "id": "r1", "customer": "anna", "time": T, "purchase": "p1",
          "lines": [{"product": "a", "quantity": 1, "unit_price": "5"}]}, "lines[1].unit_price",
         "unit_price is not used by a refund line (a refund returns units at the price they were bought); remove it"),
        ({"type": "refund", "id": "r1", "customer": "anna", "time": T, "lines": [{"product": "a", "quantity": 1}]},
         "purchase", "no purchase given; a refund must name the id of the purchase it returns"),
        ({"type": "refund", "id": "r1", "customer": "anna", "time": T, "purchase": "p1", "lines": [{"quantity": 1}]},
         "lines[1].product",
         "no product given; each refunded line needs a product (leave out the lines to return the whole purchase)"),
        ({"type": "signup", "id": "s1", "customer": "anna", "time": T, "birth_date": "1990-02-30"}, "birth_date",
         '"1990-02-30" is not a date such as 1990-05-17 (year-month-day)'),
        ({"type": "tier", "id": "t1", "customer": "anna", "time": T, "tier": " "}, "tier",
         "no tier given; a tier event must name the tier it grants"),
    ],
)
def test_jsonl_row_errors(tmp_path: Path, obj: dict[str, Any], column: str, message: str) -> None:
    assert only_error(read_jsonl(tmp_path, obj)) == (1, column, message)


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        ('{"id": "p1", "customer": "anna",}', None,
         "this line is not valid JSON: Expecting property name enclosed in double quotes (at character 33)"),
        ("[1, 2]", None, "this line is not a JSON object; each line must be one event such as "
                         '{"type": "purchase", "id": "p1", "customer": "anna", "time": "...", "lines": [...]}'),
        ('{"id": "p1", "id": "p2"}', "id", 'field "id" appears twice; keep one'),
        ('{"id": "p1", "customer": "anna", "time": "2026-03-01", "lines": [{"product": "a", "quantity": 1, '
         '"unit_price": NaN}]}', "lines[1].unit_price", "NaN is not a finite number"),
        ('{"id": "p1", "customer": "anna", "time": "2026-03-01", "lines": [{"product": "a", "quantity": 1, '
         '"unit_price": 1e400}]}', "lines[1].unit_price",
         "1E+400 is too large (at most 15 digits before the decimal point)"),
    ],
)
def test_jsonl_malformed_lines(tmp_path: Path, line: str, column: str | None, message: str) -> None:
    text = jsonl_text(purchase_obj(id="p0")) + f"\n{line}\n"
    items = list(read_events(write(tmp_path, "e.jsonl", text), MSK))
    assert isinstance(items[0], Purchase)
    assert errors(items) == [(3, column, message)]
    assert items[1].raw == line


def test_jsonl_good_lines_around_a_bad_one_pass(tmp_path: Path) -> None:
    text = jsonl_text(purchase_obj(id="p1")) + "{oops\n" + jsonl_text(purchase_obj(id="p2"))
    items = list(read_events(write(tmp_path, "e.jsonl", text), MSK))
    assert [type(i).__name__ for i in items] == ["Purchase", "RowError", "Purchase"]
    assert items[1].row == 2 and items[1].raw == "{oops"


# ------------------------------------------------------------------- time rules


def test_out_of_order_time_is_an_error_on_its_row(tmp_path: Path) -> None:
    items = read_csv(
        tmp_path,
        purchase_row(id="p1", time="2026-03-02T09:00:00+03:00"),
        purchase_row(id="p2", time="2026-03-01T10:00:00+03:00", product="a"),
        purchase_row(id="p2", time="2026-03-01T10:00:00+03:00", product="b"),
        purchase_row(id="p3", time="2026-03-02T09:00:00+03:00"),
    )
    assert [i.id for i in items if isinstance(i, Purchase)] == ["p1", "p3"]
    assert errors(items) == [
        (3, "time", "events must be in time order: 2026-03-01T10:00:00+03:00 comes after "
                    "2026-03-02T09:00:00+03:00 (row 2); sort the file by time"),
        (4, None, "rejected with its event: row 3 is bad"),
    ]


def test_out_of_order_is_judged_against_the_last_accepted_event(tmp_path: Path) -> None:
    items = read_jsonl(
        tmp_path,
        purchase_obj(id="p1", time="2026-03-01T10:00:00+03:00"),
        purchase_obj(id="p2", time="2026-03-05T10:00:00+03:00", customer=""),  # bad: does not move the clock
        purchase_obj(id="p3", time="2026-03-02T10:00:00Z"),
    )
    assert [i.id for i in items if isinstance(i, Purchase)] == ["p1", "p3"]
    items = read_jsonl(tmp_path, purchase_obj(id="p1", time="2026-03-01T10:00:00"), purchase_obj(id="p2", time="2026-03-01"))
    assert errors(items) == [
        (2, "time", "events must be in time order: 2026-03-01T00:00:00+03:00 comes after "
                    "2026-03-01T10:00:00+03:00 (row 1); sort the file by time"),
    ]


def test_naive_time_in_a_dst_gap_or_overlap(tmp_path: Path) -> None:
    items = read_jsonl(
        tmp_path,
        purchase_obj(id="p1", time="2026-03-29T02:30:00"),
        purchase_obj(id="p2", time="2026-10-25T02:30:00"),
        purchase_obj(id="p3", time="2026-10-25T02:30:00+01:00"),
        tz=BERLIN,
    )
    assert errors(items) == [
        (1, "time", '"2026-03-29T02:30:00" does not exist in Europe/Berlin (the clocks jump forward then); '
                    "add the offset, such as +02:00"),
        (2, "time", '"2026-10-25T02:30:00" happens twice in Europe/Berlin (the clocks go back then); '
                    "add the offset: +02:00 for the first time, +01:00 for the second"),
    ]
    # An instant in the repeated hour never equals one in another zone (PEP 495): compare in UTC.
    assert items[2].at.astimezone(dt.UTC) == dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)
    assert items[2].at.fold == 1


# --------------------------------------------------------- rejects and rendering


def test_write_rejects_csv_round_trip(tmp_path: Path) -> None:
    rows = [
        purchase_row(id="p1", product="a"),
        purchase_row(id="p1", product="b", unit_price='"12,50"', quantity="0"),
        purchase_row(id="p2"),
        purchase_row(id="p3", product="قهوه", customer=""),
    ]
    path = write(tmp_path, "events.csv", csv_text(*rows))
    source = EventsSource.open(path, MSK)
    bad = [i for i in source if isinstance(i, RowError)]
    assert len(bad) == 4  # two problems on row 3, one rejection of row 2, one problem on row 5
    out = tmp_path / "rejects.csv"
    assert source.write_rejects(out, bad) == 3
    assert out.read_text(encoding="utf-8") == "\n".join([HEADER, rows[0], rows[1], rows[3]]) + "\n"
    again = list(read_events(out, MSK))
    assert [e.row for e in again if isinstance(e, RowError)] == [2, 3, 3, 4]


def test_write_rejects_jsonl(tmp_path: Path) -> None:
    text = jsonl_text(purchase_obj(id="p1"), purchase_obj(id="p2", customer=""), purchase_obj(id="ચા", time="x"))
    path = write(tmp_path, "events.jsonl", text)
    bad = [i for i in read_events(path, MSK) if isinstance(i, RowError)]
    out = tmp_path / "rejects.jsonl"
    assert write_rejects(out, bad, "jsonl", None) == 2
    assert out.read_text(encoding="utf-8") == "".join(text.splitlines(keepends=True)[1:])


def test_write_rejects_needs_the_csv_header(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_rejects(tmp_path / "r.csv", [], "csv", None)
    with pytest.raises(EventsFileError, match="cannot write rejects file"):
        write_rejects(tmp_path / "no" / "such" / "r.csv", [], "csv", HEADER)


def test_format_row_error() -> None:
    err = RowError(7, "unit_price", '"12,50" is not a number (use a dot for decimals)', "raw")
    assert format_row_error("events.csv", err) == (
        'events.csv:7: column unit_price: "12,50" is not a number (use a dot for decimals)'
    )
    json_err = RowError(3, "lines[2].quantity", '"0" must be a whole number of at least 1', "raw")
    assert format_row_error("events.jsonl", json_err) == (
        'events.jsonl:3: field lines[2].quantity: "0" must be a whole number of at least 1'
    )
    assert format_row_error("data.txt", json_err, fmt="jsonl").startswith("data.txt:3: field ")
    whole = RowError(4, None, "rejected with its event: row 3 is bad", "raw")
    assert format_row_error("events.csv", whole) == "events.csv:4: rejected with its event: row 3 is bad"


# -------------------------------------------------------------------- streaming


def _big_csv(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("id,customer,time,product,category,quantity,unit_price\n")
        for i in range(rows):
            # two rows per purchase, so grouping is exercised too
            out.write(f"p{i // 2},customer-{(i // 2) % 97},2026-03-01T10:00:00+03:00,item-{i % 2},cat,1,{i % 1000}.25\n")
    return path


def _read_position(path: Path) -> int | None:
    """How far this process has read `path`, from /proc (None where there is no /proc)."""
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        return None
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(fd_dir / fd) == str(path.resolve()):
                info = (Path("/proc/self/fdinfo") / fd).read_text()
                return int(info.split("pos:")[1].split()[0])
        except OSError:
            continue
    return None


def test_streaming_yields_before_the_file_is_read(tmp_path: Path) -> None:
    path = _big_csv(tmp_path, 50_000)
    size = path.stat().st_size
    assert size > 2_500_000
    tracemalloc.start()
    try:
        events = read_events(path, MSK)
        assert not isinstance(events, (list, tuple))
        first = list(itertools.islice(events, 3))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [e.id for e in first] == ["p0", "p1", "p2"]
    assert all(len(e.lines) == 2 for e in first)
    assert peak < size / 10
    position = _read_position(path)
    if position is not None:
        assert position < size / 10
    events.close()  # type: ignore[attr-defined]


def test_streaming_reads_a_large_file_to_the_end(tmp_path: Path) -> None:
    path = _big_csv(tmp_path, 50_000)
    count = 0
    last = None
    for item in read_events(path, MSK):
        assert not isinstance(item, RowError)
        count += 1
        last = item
    assert count == 25_000
    assert last is not None and last.id == "p24999"
