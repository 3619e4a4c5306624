"""The records layer (記録): what every caller of a record goes through.

`resource` describes each kind of record (table, Create / Update / Public models, filters),
`registry` lists them, `access` carries the caller's rule from the policy, `rows` holds the
row operations (list, get, create, versioned update, delete) with their change-log rows, and
`audit` writes the audit entry for a read or a write. HTTP handlers (`server/api/`), sync and
printing call these; nothing here knows HTTP. (The CSV importers write in bulk, with the same
change-log rows through `sync.changelog.log_changes`; the plan CSV import also keeps each
previous version with `registry.plan_version_row` and derives the people's `kana_key` as the
records layer does; the drills are HTTP clients.)
"""
