#!/usr/bin/env python3
"""Accessibility: tests/browser/axe.mjs runs axe-core in Chromium on every
page a visitor meets, in every language of po/LINGUAS (and English), in
light mode and, for English, dark mode.  Any violation is a failure."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import artifacts, run_script  # noqa: E402
from otstest import SRCDIR, Server, run  # noqa: E402

PAGES = 13  # axe checks per visit in axe.mjs


def languages():
    """English, then po/LINGUAS's languages."""
    langs = ["en"]
    try:
        with open(os.path.join(SRCDIR, "po", "LINGUAS")) as f:
            for line in f:
                langs += [w for w in line.split("#")[0].split() if w not in langs]
    except FileNotFoundError:
        pass
    return langs


def main():
    s = Server(max_procs=2)
    langs = languages()
    run_script("axe", ["http://127.0.0.1:%d" % s.port, artifacts()] + langs,
               PAGES * (len(langs) + 1) + 1, server=s, packages=("playwright-core", "axe-core"))


if __name__ == "__main__":
    run(main)
