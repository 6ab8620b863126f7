"""Join codes and nicknames: what a student types, in canonical form. No I/O."""
from __future__ import annotations

import re
import secrets
import unicodedata

from .errors import BadInput

#: Upper-case letters and digits without 0/O, 1/I/L: nothing to misread on a projector.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
JOIN_PARAM = "join"
NICK_PARAM = "nick"  # the nickname in older join links: dropped, a nickname is a label, never a key
SEAT_PARAM = "seat"  # the phone's seat secret (see storage.join)
NICKNAME_MAX = 24


def new_code() -> str:
    """A random join code: 31**6, about 887 million possibilities."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str | None) -> str | None:
    """The code a person typed (any case, spaces or dashes) in canonical form, or None if it cannot be one."""
    if not text:
        return None
    code = re.sub(r"[\s\-_.]", "", text).upper()
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def join_url(base: str, code: str) -> str:
    """The URL students open: the app's root with ``?join=CODE``."""
    return f"{base.rstrip('/')}/?{JOIN_PARAM}={code}"


def clean_nickname(text: str | None) -> str:
    """A nickname as it will be stored and shown: printable, single-spaced, at most 24 characters."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split())
    if not text:
        raise BadInput("Choose a nickname: it is how the class results show you.")
    if len(text) > NICKNAME_MAX:
        raise BadInput(f"Nicknames have at most {NICKNAME_MAX} characters.")
    return text
