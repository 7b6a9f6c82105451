"""Preloaded by the extraction forkserver, and imported nowhere else: the forkserver
dies with the pass that started it (see crawler.ops.lifeline), and its workers, which ask
the same of it, die with the forkserver."""

from crawler.ops.lifeline import die_with_parent

die_with_parent()
