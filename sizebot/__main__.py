from sizebot.cli import entry

entry()
