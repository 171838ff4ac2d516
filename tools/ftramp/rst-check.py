#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# Check that Documentation/*.rst parse with docutils and, with --html DIR,
# render each page to DIR/page.html.  The Sphinx extensions the pages use
# (the toctree directive, the :doc: role) are given stand-ins that check
# their targets exist, so a broken link is an error here too.
#
#   rst-check.py [--html DIR] FILE.rst...
#
# Exit status 1 if a page has a warning or an error, 2 if docutils is
# missing (Debian: python3-docutils).

import os
import sys

try:
    import docutils.core
    import docutils.nodes
    import docutils.utils
    from docutils.parsers.rst import Directive, directives, roles
except ImportError:
    sys.stderr.write("rst-check: docutils is missing: install python3-docutils\n")
    sys.exit(2)

pages = set()
missing = []


def note_target(name, source, lineno):
    if name not in pages:
        missing.append("%s:%s: no page '%s' in Documentation/" %
                       (source, lineno, name))


class TocTree(Directive):
    has_content = True
    optional_arguments = 0
    option_spec = {"maxdepth": directives.unchanged,
                   "caption": directives.unchanged,
                   "hidden": directives.flag}

    def run(self):
        src, line = self.state_machine.get_source_and_line(self.lineno)
        items = []
        for entry in self.content:
            entry = entry.strip()
            if not entry:
                continue
            note_target(entry, src, line)
            ref = docutils.nodes.reference("", entry, refuri=entry + ".html")
            items.append(docutils.nodes.list_item(
                "", docutils.nodes.paragraph("", "", ref)))
        return [docutils.nodes.bullet_list("", *items)] if items else []


def doc_role(name, rawtext, text, lineno, inliner, options={}, content=[]):
    target = text.strip()
    if "<" in target and target.endswith(">"):
        label, target = target[:-1].split("<", 1)
        label = label.strip()
    else:
        label = target
    note_target(target, inliner.document.get("source", "?"), lineno)
    return [docutils.nodes.reference(rawtext, label,
                                     refuri=target + ".html")], []


def main(argv):
    html_dir = None
    files = []
    i = 0
    while i < len(argv):
        if argv[i] == "--html":
            html_dir = argv[i + 1]
            i += 2
            continue
        files.append(argv[i])
        i += 1
    if not files:
        sys.stderr.write("usage: rst-check.py [--html DIR] FILE.rst...\n")
        return 2

    directives.register_directive("toctree", TocTree)
    roles.register_local_role("doc", doc_role)
    for f in files:
        pages.add(os.path.splitext(os.path.basename(f))[0])

    failed = 0
    settings = {"report_level": 2, "halt_level": 5, "warning_stream": sys.stderr,
                "input_encoding": "utf-8", "output_encoding": "utf-8",
                "embed_stylesheet": False}
    if html_dir:
        os.makedirs(html_dir, exist_ok=True)
    for f in files:
        with open(f, encoding="utf-8") as fh:
            text = fh.read()
        name = os.path.splitext(os.path.basename(f))[0]
        stream = []

        class Collect:
            def write(self, s):
                stream.append(s)

        settings["warning_stream"] = Collect()
        out = docutils.core.publish_string(text, source_path=f,
                                           writer_name="html",
                                           settings_overrides=settings)
        if stream:
            sys.stderr.write("".join(stream))
            failed += 1
            status = "FAIL"
        else:
            status = "ok"
        if html_dir:
            with open(os.path.join(html_dir, name + ".html"), "wb") as oh:
                oh.write(out)
        print("  DOC      %s %s" % (os.path.basename(f), status))
    for m in missing:
        sys.stderr.write(m + "\n")
    if missing:
        failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
