"""Hand-written checkouts for the bench: what a competent developer would write for
each shop directly in Python (Decimal money, the shop's rules), without loyaldsl."""
