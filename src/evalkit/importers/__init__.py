"""Importers: data made elsewhere, turned into evalkit's own. Nothing here calls a model.

cassettes.py     vcrpy cassettes recorded by other tools -> interactions
conversation.py  the request side of those interactions -> Chat messages and tools (any API)
extract.py       `evalkit extract`: the calls in those cassettes, as a table or JSON
to_cases.py      `evalkit extract --to-cases`: case files made from them
bfcl.py          the Berkeley Function Calling Leaderboard data (Apache-2.0), read from the
                 `bfcl-eval` wheel
bfcl_cases.py    `evalkit import bfcl`: its entries as suites; bfcl_answers.py: its ground truth
cli.py           the `extract` and `import` commands (registered by evalkit.cli)
"""
