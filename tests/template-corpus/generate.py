#!/usr/bin/env python3
"""Regenerates expected.txt for every corpus case with Python's jinja2.

Each case is a folder NNN-name/ holding the main template (template.j2, template.html, ...:
the file whose name starts with "template."), optional other templates it includes or extends,
and vars.json (optional: the render variables). The environment is Jinja2's default
(trim_blocks/lstrip_blocks off, no trailing newline kept) with a FileSystemLoader on the case
folder and select_autoescape() (on for .html/.htm/.xml). The xunit test
tests/Assay.Runtime.Tests/TemplateCorpusTests.cs renders the same cases with the C# engine and
compares byte for byte, so CI does not need Python.

Usage: python3 tests/template-corpus/generate.py [--check]
"""
import json
import os
import sys

import jinja2

HERE = os.path.dirname(os.path.abspath(__file__))


def main_template(folder):
    names = sorted(n for n in os.listdir(folder) if n.startswith("template."))
    if len(names) != 1:
        raise SystemExit(f"{folder}: expected exactly one template.* file, found {names}")
    return names[0]


def render(folder):
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=jinja2.select_autoescape(),
    )
    vars_path = os.path.join(folder, "vars.json")
    variables = {}
    if os.path.exists(vars_path):
        with open(vars_path, encoding="utf-8") as f:
            variables = json.load(f)
    return env.get_template(main_template(folder)).render(**variables)


def main():
    check = "--check" in sys.argv
    cases = sorted(d for d in os.listdir(HERE) if os.path.isdir(os.path.join(HERE, d)) and d[:3].isdigit())
    changed = 0
    for case in cases:
        folder = os.path.join(HERE, case)
        out = render(folder).encode("utf-8")
        path = os.path.join(folder, "expected.txt")
        old = open(path, "rb").read() if os.path.exists(path) else None
        if old != out:
            changed += 1
            if check:
                print(f"{case}: expected.txt is stale")
            else:
                with open(path, "wb") as f:
                    f.write(out)
    print(f"jinja2 {jinja2.__version__}: {len(cases)} cases, {changed} {'stale' if check else 'written'}")
    return 1 if check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
