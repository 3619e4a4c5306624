"""The welfare office's workbench (個別避難計画の作成・支援者台帳・つながりの見える化・見直し・
平常時の名簿提供): the domain rules as pure functions over small frozen dataclasses.

`common.py` holds the inputs (person, plan, shelter facts); `plan_rules.py`, `supporters.py`,
`coverage.py`, `review.py` and `sharing.py` the rules (the plan CSV reader and writer is `server/importers/plans_csv.py`); `adapters.py` turns
today's SQLModel rows into the inputs. No database, no clock: `today` is an argument.
Screens, API, roles, models and migrations come later. See docs/workbench.md.
"""
