"""The HTML of a rendered notebook, for readers: text, tables and figures shown, code folded.

Each code cell's source sits in a closed ``<details>`` element ("code"), which the reader opens with a click;
a button at the top of the page opens or folds every cell at once (``#code`` in the address opens them all on
load). The parameters cell and papermill's injected cell fold the same way. Everything is inline, so a page
works offline and when shared as one file; the ``.ipynb`` files are untouched (JupyterLab shows them as
always). nbconvert's ``lab`` template does the rest.
"""

from __future__ import annotations

from jinja2 import DictLoader

TEMPLATE_NAME = "alnb_report.html.j2"

STYLE = """
details.alnb-code > summary { cursor: pointer; color: #6a6a6a; font: 80% sans-serif; margin: 2px 0 2px 4px;
  list-style-position: inside; user-select: none; }
details.alnb-code > summary:hover { color: #1f5fa8; }
details.alnb-code:not([open]) + .jp-Cell-outputWrapper { margin-top: 0; }
.jp-OutputArea-prompt { display: none; }
#alnb-code-toggle { position: fixed; top: 10px; right: 14px; z-index: 10; font-size: 85%; padding: 4px 10px;
  border: 1px solid #9aa7b8; border-radius: 4px; background: #f6f8fb; color: #234; cursor: pointer; }
#alnb-code-toggle:hover { background: #e8eef6; }
@media print { #alnb-code-toggle { display: none; } }
"""

SCRIPT = """
function alnbShowCode(open) {
  document.querySelectorAll("details.alnb-code").forEach(function (d) { d.open = open; });
  var button = document.getElementById("alnb-code-toggle");
  button.textContent = open ? "Hide all code" : "Show all code";
  button.setAttribute("aria-pressed", open ? "true" : "false");
}
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("alnb-code-toggle");
  button.addEventListener("click", function () { alnbShowCode(button.getAttribute("aria-pressed") !== "true"); });
  alnbShowCode(window.location.hash === "#code");
});
"""

TEMPLATE = (
    """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_css -%}
<style type="text/css">"""
    + STYLE
    + """</style>
<script>"""
    + SCRIPT
    + """</script>
{%- endblock html_head_css -%}
{%- block body_header -%}
{{ super() }}
<button id="alnb-code-toggle" type="button" aria-pressed="false" title="code cells are folded; each one opens with a click on its 'code' line">Show all code</button>
{%- endblock body_header -%}
{% block input_group -%}
<details class="alnb-code"><summary>code</summary>
{{ super() }}
</details>
{%- endblock input_group %}
"""
)


def report_exporter():
    """nbconvert's HTML exporter (``lab`` template) with code cells folded and the page-wide toggle."""
    from nbconvert import HTMLExporter

    return HTMLExporter(extra_loaders=[DictLoader({TEMPLATE_NAME: TEMPLATE})], template_file=TEMPLATE_NAME)
