"""Griffe extension for the API reference: the reStructuredText bits of our numpydoc docstrings as Markdown.

The docstrings follow numpydoc, whose equations and cross-references are reST (``:math:`x```, ``.. math::``,
``:func:`name```). mkdocstrings renders docstrings as Markdown, so before parsing each docstring this turns
``:math:`x``` into ``\\(x\\)`` and each ``.. math::`` block into ``$$ ... $$`` blocks (rendered by
pymdownx.arithmatex + MathJax, like the equations of the model pages), cross-reference roles into links to
the object's documentation where griffe resolves the name, else code (``:func:`~a.b``` → ``b``), and citation marks ``[Name]_`` into plain ``[Name]`` and each ``.. [Name]`` reference into a list item.
The source keeps numpydoc (``help()`` and IDEs show it as written). Loaded by mkdocstrings (``mkdocs.yml``).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import griffe

logger = logging.getLogger("mkdocs.plugins.gigawatt_docs")

_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_XREF_ROLE = re.compile(r":(?:py:)?(?:func|meth|class|data|attr|mod|obj|exc|const|ref):`(~?)([^`]+)`")
_CITATION_MARK = re.compile(r"\[([A-Za-z][\w.+-]*|\d+)\]_")
_CITATION_DEF = re.compile(r"^(\s*)\.\. \[([^\]]+)\]\s*", re.M)
_MATH_DIRECTIVE = re.compile(r"^(\s*)\.\. math::[ \t]*(.*)$")


Resolver = Callable[[str], "str | None"]


def _xref_with(resolve: Resolver | None) -> Callable[[re.Match[str]], str]:
    """A role becomes a link (an optional autoref: a plain name where the target is not documented) when
    ``resolve`` finds its full path, else code."""

    def sub(m: re.Match[str]) -> str:
        short, target = m.group(1), m.group(2)
        target = re.sub(r"^.*<(.+)>$", r"\1", target).strip()  # :func:`title <target>`
        shown = target.rsplit(".", 1)[-1] if short else target
        ident = resolve(target) if resolve is not None else None
        if not ident:
            return f"`{shown}`"
        return (
            f'<autoref identifier="{html.escape(ident)}" optional><code>{html.escape(shown)}</code></autoref>'
        )

    return sub


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


def rst_to_markdown(text: str, resolve: Resolver | None = None) -> str:
    """The conversion applied to every docstring (see the module docstring); ``resolve`` maps a role's target
    to the full path of the object it names (None: not found)."""
    text = restore_tex_escapes(text)
    text = math_blocks(text)
    text = _MATH_ROLE.sub(lambda m: f"\\({m.group(1)}\\)", text)
    text = _XREF_ROLE.sub(_xref_with(resolve), text)
    text = _CITATION_MARK.sub(r"[\1]", text)
    text = _CITATION_DEF.sub(r"\1- [\2] ", text)  # one list item per reference
    return _no_reference_links(text)


def _resolver(obj: griffe.Object) -> Resolver:
    """Names as Python would see them from ``obj``: its members, its module's names and imports, then
    absolute ``gigawatt.`` paths."""

    def resolve(name: str) -> str | None:
        if name.startswith("gigawatt."):
            return name
        head, _, rest = name.partition(".")
        try:
            path = obj.resolve(head)
        except Exception:  # griffe.NameResolutionError and friends: leave it as code
            return None
        return f"{path}.{rest}" if rest else path

    return resolve


def _objects(obj: griffe.Object) -> Iterator[griffe.Object]:
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)  # type: ignore[arg-type]


class RstToMarkdown(griffe.Extension):
    """Rewrite every docstring of the package once it is loaded (so that cross-references resolve)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        del kwargs
        for obj in _objects(pkg):
            if obj.docstring is None:
                continue
            if any(c in obj.docstring.value for c in _LOST_ESCAPES):
                logger.info("%s: TeX backslash lost to a Python escape in the docstring (restored)", obj.path)
            obj.docstring.value = rst_to_markdown(obj.docstring.value, _resolver(obj))
