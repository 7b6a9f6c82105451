"""Run presswatch on its schedule: ``python scheduler.py [--config config.toml] [--db PATH]``.

The same as ``presswatch schedule`` (see ``--help``); kept at the top of the repository
so a checkout can run it without installing the package.
"""

from crawler.commands.schedule import schedule

if __name__ == "__main__":
    schedule(prog_name="scheduler.py")
