"""The welfare office's workbench (個別避難計画の作成・支援者台帳・つながりの見える化・見直し・
平常時の名簿提供): the domain rules as pure functions over small frozen dataclasses.

`common.py` holds the inputs (person, plan, shelter facts); `plan_rules.py`, `supporters.py`,
`coverage.py`, `review.py`, `sharing.py` and `plans_csv.py` the rules; `adapters.py` turns
today's SQLModel rows into the inputs. No database, no clock: `today` is an argument.
Screens, API, roles, models and migrations come later. See docs/workbench.md.
"""
