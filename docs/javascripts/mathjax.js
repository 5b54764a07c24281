// MathJax 3 for pymdownx.arithmatex (generic mode): \( ... \) inline, $$ ... $$ and \[ ... \] display.
// Inline $...$ is off on purpose: the documents use $ for US dollars ($11.7M per MW).
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex"
  }
};

// re-typeset after instant navigation (mkdocs-material)
document$.subscribe(() => {
  MathJax.startup.output.clearCache();
  MathJax.typesetClear();
  MathJax.texReset();
  MathJax.typesetPromise();
});
