"""MkDocs hook (``mkdocs.yml`` ``hooks:``): the documents name each other as code, `` `docs/models/energy.md` ``,
which reads well on GitHub and in an editor; on the site each such name (and `` `examples/x.ipynb` ``) becomes a
link to that page, relative to the page it is on. Fenced code blocks are left alone; a name that matches no
page stays code."""

from __future__ import annotations

import posixpath
import re
from typing import Any

_FENCE = re.compile(r"(?ms)^(?P<f>```|~~~).*?^(?P=f)[^\n]*$")
_NAMED = re.compile(r"(?<!\[)`(?:docs/)?((?:models/)?[\w-]+\.md|examples/[\w-]+\.ipynb)`(?!\]|\()")


def _linkify(text: str, here: str, known: set[str]) -> str:
    def link(m: re.Match[str]) -> str:
        target = m.group(1)
        if target not in known or target == here:
            return m.group(0)
        rel = posixpath.relpath(target, posixpath.dirname(here) or ".")
        return f"[{m.group(0)}]({rel})"

    return _NAMED.sub(link, text)


def on_page_markdown(markdown: str, *, page: Any, config: Any, files: Any) -> str:
    del config
    known = {f.src_uri for f in files if f.src_uri.endswith((".md", ".ipynb"))}
    here = page.file.src_uri
    out: list[str] = []
    pos = 0
    for m in _FENCE.finditer(markdown):
        out.append(_linkify(markdown[pos : m.start()], here, known))
        out.append(m.group(0))
        pos = m.end()
    out.append(_linkify(markdown[pos:], here, known))
    return "".join(out)
