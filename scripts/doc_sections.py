"""Replace one marked section of a markdown doc (between `<!-- name:begin -->` and `<!-- name:end -->`)."""

from __future__ import annotations

import re
from pathlib import Path

DEFAULT_HEAD = "# Benchmarks\n\nEvery figure names its profile and the command that produced it.\n"


def write_section(doc: Path, begin: str, end: str, section: str, head: str = DEFAULT_HEAD) -> None:
    """`section` must start with `begin` and end with `end`; it replaces the old one or is appended."""
    text = doc.read_text() if doc.exists() else head
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: section, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    doc.write_text(text)


def publish(doc: Path, begin: str, end: str, section: str, dry_run: bool, head: str = DEFAULT_HEAD) -> None:
    """Print the section (`dry_run`, a script's --no-write) or write it into `doc`."""
    if dry_run:
        print(section)
        return
    write_section(doc, begin, end, section, head)
    print(f"wrote {doc}")
