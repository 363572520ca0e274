"""Importers: data made elsewhere, turned into evalkit's own.

cassettes.py     vcrpy cassettes recorded by other tools -> interactions
conversation.py  the request side of those interactions -> Chat messages and tools (any API)
extract.py       `evalkit extract`: the calls in those cassettes, as a table or JSON
to_cases.py      `evalkit extract --to-cases`: case files made from them
cli.py           the `extract` command (registered by evalkit.cli)
"""
