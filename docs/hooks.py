"""MkDocs hooks (``mkdocs.yml`` ``hooks:``).

- Page names become links: the documents name each other as code, `` `docs/models/energy.md` ``, which reads
  well on GitHub and in an editor; on the site each such name (and `` `examples/x.ipynb` ``) becomes a link to
  that page, relative to the page it is on. Fenced code blocks are left alone; a name that matches no page
  stays code.
- Math that did not render is a warning (so ``mkdocs build --strict`` fails): a ``$$`` or ``\\(`` left in a
  page's text outside code means arithmatex did not take an equation (e.g. no blank line before ``$$``).
"""

from __future__ import annotations

import logging
import posixpath
import re
from typing import Any

log = logging.getLogger("mkdocs.plugins.gigawatt_docs")
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
    known = {
        f.src_uri
        for f in files
        if f.src_uri.endswith((".md", ".ipynb"))
        and not (hasattr(f, "inclusion") and f.inclusion.is_excluded())
    }
    here = page.file.src_uri
    out: list[str] = []
    pos = 0
    for m in _FENCE.finditer(markdown):
        out.append(_linkify(markdown[pos : m.start()], here, known))
        out.append(m.group(0))
        pos = m.end()
    out.append(_linkify(markdown[pos:], here, known))
    return "".join(out)


_MATH_OR_CODE = re.compile(
    r'<(div|span) class="arithmatex">.*?</\1>|<pre\b.*?</pre>|<code\b.*?</code>|<script\b.*?</script>', re.S
)


def unrendered_math(html: str) -> list[str]:
    """Snippets of ``$$`` / ``\\(`` left in the text of a rendered page (outside math, code and scripts)."""
    text = _MATH_OR_CODE.sub(" ", html)
    return [text[max(0, m.start() - 40) : m.end() + 40] for m in re.finditer(r"\$\$|\\\(", text)]


def on_page_content(html: str, *, page: Any, config: Any, files: Any) -> str:
    del config, files
    for snippet in unrendered_math(html):
        log.warning("%s: math not rendered near %r", page.file.src_uri, snippet)
    return html
