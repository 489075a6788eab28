"""The EMS's databases: table definitions, engines, migrations and read/write helpers."""
