"""DWAT (災害派遣福祉チーム) dispatch: the domain rules as pure functions over small frozen
dataclasses — roster checks, requests and their state flow, team suggestions, rotation
plans, welfare triage (福祉的トリアージ), daily reports and the chronology (クロノロジー).
`adapters.py` turns the SQLModel rows of server/models/dwat.py into these inputs.
No database, no clock: `now`/`at` and seeds are arguments. See docs/dwat.md.
"""
