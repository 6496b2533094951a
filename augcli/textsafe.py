"""Make any string safe to show on one line of a terminal, a log or a caption.

File names are bytes chosen by whoever made the dataset: one holding "\\x1b[31m" colours the terminal when
printed raw, one holding a newline splits a summary line in two, one that is not valid UTF-8 reaches Python
as surrogate escapes that cannot even be encoded for output. Every human-readable output passes names (and
messages that may contain them) through `printable()`; machine outputs (the manifest, `--format json`) keep
the exact name.
"""

from __future__ import annotations

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: object) -> str:
    """`text` with every character that is not printable shown as an escape, on one line.

    - newline, carriage return, tab: `\\n`, `\\r`, `\\t`;
    - other ASCII control characters and DEL: `\\xNN`;
    - bytes that were not valid UTF-8 (surrogate escapes from `os.listdir`): `\\xNN`, the byte itself;
    - other non-printable code points (C1 controls, bidi overrides, zero-width and separator characters):
      `\\uNNNN` (`\\UNNNNNNNN` above the BMP), so they cannot be mistaken for raw bytes.

    Printable non-ASCII (é, 日本) is kept. Backslashes are not doubled: the result is then unchanged by a second
    pass, so layers (a message built from escaped names, escaped again where it is printed) never double-escape.
    The price is that a name literally containing the four characters `\\x1b` reads like one holding ESC.
    """
    text = str(text)
    if text.isprintable():  # the common case, in C
        return text
    return "".join(_escape(ch) for ch in text)


def _escape(ch: str) -> str:
    if ch.isprintable():
        return ch
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code < 0x80:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the undecodable byte 0x80-0xff
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
