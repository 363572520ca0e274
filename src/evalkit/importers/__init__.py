"""Importers: data made elsewhere, turned into evalkit's own.

cassettes.py   vcrpy cassettes recorded by other tools -> interactions
extract.py     `evalkit extract`: the calls in those cassettes, and case files made from them
"""
