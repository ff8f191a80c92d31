"""Programs shared by the harness tests, with the arithmetic of every expectation."""

from __future__ import annotations

CAFE = """\
program "Corner cafe"
  currency RUB
  timezone "Europe/Moscow"
  categories coffee, cakes

points bonus
  worth 1 RUB
  earn 1 per 10 RUB of order.paid
  available 14 days after purchase
  redeem up to 50% of order.total

tiers by spend over lifetime
  Regular from 0 RUB
  Gold from 1000 RUB
  upgrade immediately

rule cake_day
  when order.day = friday
  discount 10% on items in category [cakes]

code WELCOME
  valid 2026-03-01 to 2026-03-31
  when order.subtotal >= 300 RUB
  discount 50 RUB on order
  limit 1 per customer

code STAFF
  discount 20% on order
  not with cake_day, cancel order

coupon treat
  discount 100 RUB on order
  valid 30 days after issue

rule give_treat
  when order.total >= 800 RUB
  give coupon treat
  once per customer

stamps cups
  card of 5
  stamp 1 per item in category [coffee]
  when full: give 10 bonus, then reset

stacking
  stack the rest
"""

# Friday 2026-03-06: subtotal 2 x 150 + 400 = 700; cake_day 10% of the 400 cake = 40;
# WELCOME (subtotal 700 >= 300) 50 off; total and paid 610; 1 bonus per 10 RUB paid = 61,
# pending for 14 days (until 2026-03-20 10:00); 2 coffees = 2 stamps; spend 610 < 1000.
# Saturday 2026-03-21: 3 x 150 + 400 = 850, no cake_day; WELCOME already used once;
# redeeming max: cap 50% of 850 = 425, but only the 61 from p1 are available -> paid
# 789; earned floor(789 / 10) = 78 plus 10 from the full card of cups (2 + 3 = 5 stamps,
# then reset); total 850 >= 800 gives the treat coupon; spend 610 + 850 = 1460 -> Gold.
PASSING = """
test "a friday cake, a welcome code, then a full card"
  customer anna signed up 2026-03-01, born 1990-05-17
  on 2026-03-06 10:00 anna buys 2 latte in coffee at 150 RUB, 1 napoleon in cakes at 400 RUB with code WELCOME as p1
  expect discount 40 RUB by cake_day
  expect discount 50 RUB by WELCOME
  expect discount 90 RUB
  expect paid 610 RUB
  expect earned 61 bonus
  expect anna.bonus pending 61
  expect anna.bonus available 0 bonus
  expect anna.bonus available 61 bonus as of 2026-03-20 12:00
  expect anna.tier is Regular
  expect anna.stamps cups 2
  on 2026-03-21 anna buys 3 latte, 1 napoleon with code welcome redeeming max bonus as p2
  expect code WELCOME refused "already used"
  expect no discount
  expect paid 789 RUB
  expect earned 88 bonus
  expect coupon treat issued
  expect anna.tier is Gold
  expect anna.stamps cups 0
  on 2026-03-22 anna returns p2: 1 napoleon
  expect anna.tier is Gold

test "a staff code on cake day cancels the order"
  customer boris
  on 2026-03-13 12:00 boris buys 1 napoleon in cakes at 400 RUB with code STAFF
  expect cancelled
  expect paid 400 RUB
  expect no discount
"""

# The same stories with every kind of expectation wrong (the right values are above).
FAILING = """
test "everything wrong"
  customer anna signed up 2026-03-01
  on 2026-03-06 10:00 anna buys 2 latte in coffee at 150 RUB, 1 napoleon in cakes at 400 RUB with code WELCOME as p1
  expect paid 600 RUB
  expect discount 45 RUB by cake_day
  expect discount 10 RUB by give_treat
  expect discount 100 RUB
  expect no discount
  expect no discount by WELCOME
  expect earned 60 bonus
  expect code WELCOME refused
  expect coupon treat issued
  expect cancelled
  expect anna.bonus available 61
  expect anna.bonus pending 0 bonus as of 2026-03-10
  expect anna.tier is Gold
  expect anna.stamps cups 3
  on 2026-03-21 anna buys 1 latte with code WELCOME
  expect code WELCOME refused "expired"
"""
