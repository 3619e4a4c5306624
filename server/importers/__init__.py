"""CSV importers (people register, GSI and own shelter lists) and the matching exports.

Public entry points: `import_people`, `import_shelters`, `export_people_csv`,
`export_shelters_csv`; `ImportReport` and `ImportFileError` describe the outcome.
"""
