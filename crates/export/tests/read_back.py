#!/usr/bin/env python3
"""Read a `vigil export` directory back with pyarrow and DuckDB, and compare the files with the
schema documented in docs/export.md.

    read_back.py EXPORT_DIR DOCS_EXPORT_MD

Prints one JSON document: per table, the rows pyarrow and DuckDB count, the partitions
(date, account, region) with their rows, the columns whose written type differs from the
documented one (`mismatches`), a few values read through nested columns, and DuckDB's type of
`time`. Exit 0 unless something could not be read. Used by crates/export/tests/parquet.rs and
crates/cli/tests/e2e/export.rs; the packages come from scripts/requirements-test.txt.
"""

import json
import re
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq


def documented(markdown):
    """{table: {path: type}} from the generated tables of docs/export.md."""
    tables, current = {}, None
    for line in markdown.splitlines():
        if line.startswith("#"):
            heading = re.match(r"^### `([a-z-]+)`$", line)
            current = tables.setdefault(heading.group(1), {}) if heading else None
            continue
        row = re.match(r"^\| `([^`]+)` \| ([^|]+) \|", line)
        if row and current is not None:
            current[row.group(1)] = row.group(2).strip()
    return tables


def type_name(arrow_type):
    if pa.types.is_string(arrow_type):
        return "STRING"
    if pa.types.is_int32(arrow_type):
        return "INT32"
    if pa.types.is_int64(arrow_type):
        return "INT64"
    if pa.types.is_timestamp(arrow_type) and arrow_type.unit == "ms" and arrow_type.tz == "UTC":
        return "TIMESTAMP(MILLIS, UTC)"
    if pa.types.is_struct(arrow_type):
        return "STRUCT"
    if pa.types.is_list(arrow_type):
        return "LIST<STRUCT>" if pa.types.is_struct(arrow_type.value_type) else "LIST<" + type_name(arrow_type.value_type) + ">"
    return str(arrow_type)


def leaves(fields, prefix=""):
    for field in fields:
        path = prefix + field.name
        yield path, type_name(field.type)
        if pa.types.is_struct(field.type):
            yield from leaves(list(field.type), path + ".")
        elif pa.types.is_list(field.type) and pa.types.is_struct(field.type.value_type):
            yield from leaves(list(field.type.value_type), path + "[].")


def parquet_schema_without_arrow_hints(path):
    """The Arrow schema pyarrow derives from the Parquet schema itself (not vigil's embedded
    Arrow schema): what Athena, Trino and Spark see."""
    return pq.ParquetFile(path).schema.to_arrow_schema()


def main():
    root, docs = Path(sys.argv[1]), documented(Path(sys.argv[2]).read_text(encoding="utf-8"))
    report = {}
    connection = duckdb.connect()
    for table in sorted(docs):
        files = sorted((root / table).glob("date=*/account=*/region=*/part-*.parquet"))
        entry = {"files": len(files), "rows_pyarrow": 0, "rows_duckdb": 0, "partitions": {}, "mismatches": [], "sample": {}}
        report[table] = entry
        if not files:
            continue
        for file in files:
            written = dict(leaves(parquet_schema_without_arrow_hints(file)))
            expected = docs[table]
            for path in sorted(set(written) | set(expected)):
                want = expected.get(path, "(not documented)").replace("STRING (JSON)", "STRING")
                if written.get(path, "(not written)") != want:
                    entry["mismatches"].append(f"{file.name}: {path}: written {written.get(path, '(not written)')}, documented {want}")
            metadata = pq.ParquetFile(file).metadata
            for index in range(len(metadata.schema)):
                column = metadata.schema.column(index)
                if column.path == "time":
                    entry["time_physical"] = column.physical_type
                    entry["time_logical"] = str(column.logical_type)
        dataset = ds.dataset(str(root / table), format="parquet", partitioning="hive")
        entry["rows_pyarrow"] = dataset.count_rows()
        pattern = str(root / table / "*" / "*" / "*" / "*.parquet")
        source = f"read_parquet('{pattern}', hive_partitioning = true)"
        entry["rows_duckdb"] = connection.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
        for date, account, region, rows in connection.execute(f"SELECT date::VARCHAR, account, region, count(*) FROM {source} GROUP BY ALL ORDER BY ALL").fetchall():
            entry["partitions"][f"{date}/{account}/{region}"] = rows
        entry["time_type_duckdb"] = connection.execute(f"SELECT typeof(time) FROM {source} LIMIT 1").fetchone()[0]
        entry["class_uids"] = sorted(row[0] for row in connection.execute(f"SELECT DISTINCT class_uid FROM {source}").fetchall())
        if table == "findings":
            entry["sample"]["failing"] = connection.execute(f"SELECT count(*) FROM {source} WHERE compliance.status = 'Fail'").fetchone()[0]
            entry["sample"]["resource_uids"] = connection.execute(f"SELECT count(DISTINCT resources[1].uid) FROM {source}").fetchone()[0]
            entry["sample"]["evidence_is_json"] = connection.execute(
                f"SELECT count(*) FROM {source} WHERE json_valid(resources[1].data)").fetchone()[0]
        if table == "resources":
            entry["sample"]["configs"] = connection.execute(f"SELECT count(*) FROM {source} WHERE json_valid(resources[1].data)").fetchone()[0]
        if table == "alerts":
            entry["sample"]["rules"] = sorted(row[0] for row in connection.execute(f"SELECT DISTINCT finding_info.analytic.uid FROM {source}").fetchall())
            entry["sample"]["hosts"] = sorted(row[0] for row in connection.execute(f"SELECT DISTINCT device.hostname FROM {source} WHERE device.hostname IS NOT NULL").fetchall())
        if table == "host-events":
            entry["sample"]["files"] = sorted(row[0] for row in connection.execute(f"SELECT file.path FROM {source} WHERE class_uid = 1001").fetchall())
    print(json.dumps(report, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
