"""Sizes in words: `format_bytes`."""


def format_bytes(n):
    """1234567 -> "1.2 MB" (decimal units, as disks and the text count)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
