"""Griffe extension for the API reference: the reStructuredText bits of our numpydoc docstrings as Markdown.

The docstrings follow numpydoc, whose equations and cross-references are reST (``:math:`x```, ``.. math::``,
``:func:`name```). mkdocstrings renders docstrings as Markdown, so before parsing each docstring this turns
``:math:`x``` into ``\\(x\\)`` and each ``.. math::`` block into ``$$ ... $$`` blocks (rendered by
pymdownx.arithmatex + MathJax, like the equations of the model pages), cross-reference roles into code
(``:func:`~a.b``` → ``b``), and citation marks ``[Name]_`` into plain ``[Name]`` and each ``.. [Name]`` reference into a list item.
The source keeps numpydoc (``help()`` and IDEs show it as written). Loaded by mkdocstrings (``mkdocs.yml``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import griffe

logger = logging.getLogger("mkdocs.plugins.gigawatt_docs")

_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_XREF_ROLE = re.compile(r":(?:py:)?(?:func|meth|class|data|attr|mod|obj|exc|const|ref):`(~?)([^`]+)`")
_CITATION_MARK = re.compile(r"\[([A-Za-z][\w.+-]*|\d+)\]_")
_CITATION_DEF = re.compile(r"^(\s*)\.\. \[([^\]]+)\]\s*", re.M)
_MATH_DIRECTIVE = re.compile(r"^(\s*)\.\. math::[ \t]*(.*)$")


def _xref(m: re.Match[str]) -> str:
    short, target = m.group(1), m.group(2)
    target = re.sub(r"^.*<(.+)>$", r"\1", target)  # :func:`title <target>`
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def math_blocks(text: str) -> str:
    """``.. math::`` directives (inline content and/or an indented body) → ``$$`` blocks, one per equation."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _MATH_DIRECTIVE.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        indent = m.group(1)
        body: list[str] = [m.group(2)] if m.group(2).strip() else []
        i += 1
        while i < len(lines) and (not lines[i].strip() or _indent_of(lines[i]) > len(indent)):
            body.append(lines[i].strip())
            i += 1
        # trailing blank lines belong to the text after the block
        while body and not body[-1]:
            body.pop()
        equations: list[list[str]] = [[]]
        for line in body:
            if line:
                equations[-1].append(line)
            elif equations[-1]:
                equations.append([])
        if out and out[-1].strip():
            out.append("")
        for eq in (e for e in equations if e):
            out += [f"{indent}$$", *(f"{indent}{line}" for line in eq), f"{indent}$$", ""]
        if i < len(lines) and not lines[i].strip():
            i += 1  # the blank line after the directive is already there
    return "\n".join(out)


# code spans and math, where brackets are left alone
_PROTECTED = re.compile(r"(``.+?``|`[^`]+`|\\\(.+?\\\)|\$\$.+?\$\$)", re.S)
_BRACKET_PAIR = re.compile(r"(?<=\])(\s+)\[")


def _no_reference_links(text: str) -> str:
    """``[kg] [EPA2024]`` or ``[2] [3]`` would be read as a Markdown reference link: escape the second ``[``."""
    parts = _PROTECTED.split(text)
    return "".join(p if i % 2 else _BRACKET_PAIR.sub(r"\1\\[", p) for i, p in enumerate(parts))


# A TeX macro in a docstring that is not a raw string loses its backslash to a Python escape (``"\\bar"`` is
# fine, ``"\bar"`` is a backspace + "ar"); these control characters have no other business in a docstring.
_LOST_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\v": "\\v"}


def restore_tex_escapes(text: str) -> str:
    """Put back the backslash of ``\\bar``, ``\\frac``, ``\\alpha``, ``\\vec`` typed in a non-raw docstring."""
    for char, escaped in _LOST_ESCAPES.items():
        text = text.replace(char, escaped)
    return text


def rst_to_markdown(text: str) -> str:
    """The conversion applied to every docstring (see the module docstring)."""
    text = restore_tex_escapes(text)
    text = math_blocks(text)
    text = _MATH_ROLE.sub(lambda m: f"\\({m.group(1)}\\)", text)
    text = _XREF_ROLE.sub(_xref, text)
    text = _CITATION_MARK.sub(r"[\1]", text)
    text = _CITATION_DEF.sub(r"\1- [\2] ", text)  # one list item per reference
    return _no_reference_links(text)


class RstToMarkdown(griffe.Extension):
    """Rewrite each docstring once, when griffe creates its object."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        del kwargs
        if obj.docstring is not None:
            if any(c in obj.docstring.value for c in _LOST_ESCAPES):
                logger.info("%s: TeX backslash lost to a Python escape in the docstring (restored)", obj.path)
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
