"""`shipbridge COMMAND` (the console script of `pip install .`) and `python -m shipbridge COMMAND`:
manage.py for an installed ShipBridge, e.g. `shipbridge migrate`, `shipbridge add_store ...`."""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipbridge.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["shipbridge", *sys.argv[1:]])


if __name__ == "__main__":
    main()
