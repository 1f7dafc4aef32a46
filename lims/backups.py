"""Backups with pg_dump / pg_restore, and the proof that a restore is complete.

`backup` opens one REPEATABLE READ transaction on the source, exports its snapshot, and has pg_dump
dump exactly that snapshot while the same transaction counts every table's rows and verifies the
audit hash chain. Counts, chain head and the dump's SHA-256 go into a manifest written next to the
dump (`<file>.manifest.json`), so a restore can prove it got back the same rows and the same chain.

`restore` refuses a backup that does not match its manifest and a target database that is not
empty, runs pg_restore in one transaction, then recounts every table and re-verifies the chain on
the restored database.

The pg_dump / pg_restore used is the one matching the server's major version when one is found
(LIMS_PG_BIN_DIR, then /usr/lib/postgresql/<major>/bin, then the binaries in the pgserver wheel,
then PATH); otherwise the oldest newer one, since a newer pg_dump can dump an older server.
"""

import datetime as dt
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from lims import audit_chain
from lims.database import settings_conninfo
from lims.env import env_str

MANIFEST_FORMAT = "secretome-lims-backup/1"


class BackupError(Exception):
    """A backup or restore could not be done; the message says why and what to do."""


# --- PostgreSQL client programs ------------------------------------------------------------------


def _candidate_dirs(server_major: int) -> list[Path]:
    explicit = env_str("LIMS_PG_BIN_DIR", "")
    if explicit:
        return [Path(explicit)]
    dirs = [Path(f"/usr/lib/postgresql/{server_major}/bin")]
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.submodule_search_locations:
        dirs.append(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin")
    dirs.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True))
    return dirs


def tool_major(path: Path) -> int | None:
    try:
        output = subprocess.run([str(path), "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    match = re.search(r"\)\s+(\d+)", output)
    return int(match.group(1)) if match else None


def pg_tool(name: str, *, server_major: int, at_least: int | None = None) -> tuple[Path, int]:
    """The client program to use against a server of `server_major` (and able to read `at_least`)."""
    floor = max(server_major, at_least or 0)
    found: dict[Path, int] = {}
    paths = [directory / name for directory in _candidate_dirs(server_major)]
    on_path = shutil.which(name)
    if on_path and not env_str("LIMS_PG_BIN_DIR", ""):
        paths.append(Path(on_path))
    for path in paths:
        if path.is_file() and path not in found:
            major = tool_major(path)
            if major is not None:
                found[path] = major
    exact = [path for path, major in found.items() if major == floor]
    if exact:
        return exact[0], floor
    newer = sorted((major, str(path)) for path, major in found.items() if major > floor)
    if newer:
        return Path(newer[0][1]), newer[0][0]
    seen = ", ".join(f"{path} ({major})" for path, major in found.items()) or "none"
    raise BackupError(
        f"no {name} for PostgreSQL {floor} or newer was found (found: {seen}); "
        "install the PostgreSQL client programs or set LIMS_PG_BIN_DIR"
    )


# --- Connections ---------------------------------------------------------------------------------


def url_conninfo(url: str) -> dict:
    if not url.startswith(("postgres://", "postgresql://")):
        raise BackupError(f"--database-url: expected a postgres:// URL, got {url!r}")
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise BackupError(f"--database-url: cannot parse it: {exc}") from None
    if not params.get("dbname"):
        raise BackupError("--database-url: the URL names no database")
    return params


def _libpq_environment(params: dict) -> dict:
    """Pass connection parameters through the environment, so no password shows in a process list."""
    names = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD", "dbname": "PGDATABASE"}
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    environment.update({names[key]: str(value) for key, value in params.items() if key in names})
    return environment


def server_major(conn: psycopg.Connection) -> int:
    return conn.info.server_version // 10000


def table_row_counts(conn: psycopg.Connection) -> dict[str, int]:
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        ).fetchall()
    ]
    return {
        table: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
        for table in tables
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".manifest.json")


def _chain_summary(report: audit_chain.ChainReport) -> dict:
    return {
        "ok": report.ok,
        "sealed": report.sealed,
        "head_seq": report.head_seq,
        "head_hash": report.head_hash,
        "problems": [problem.describe() for problem in report.problems[:20]],
    }


# --- Backup --------------------------------------------------------------------------------------


def backup(*, settings_dict: dict, dump: Path) -> dict:
    """Dump the database to `dump` (pg_dump custom format) and write its manifest beside it."""
    params = settings_conninfo(settings_dict)
    dump = dump.expanduser().resolve()
    dump.parent.mkdir(parents=True, exist_ok=True)
    partial = dump.with_name(dump.name + ".partial")
    with psycopg.connect(**params) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        pg_dump, pg_dump_major = pg_tool("pg_dump", server_major=server_major(conn))
        counts = table_row_counts(conn)
        try:
            chain = audit_chain.verify(conn)
        except LookupError as exc:
            raise BackupError(f"cannot back up {params['dbname']}: {exc}; run `manage.py migrate` first") from None
        migrations = dict(
            conn.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app").fetchall()
        )
        result = subprocess.run(
            [str(pg_dump), "--format=custom", f"--snapshot={snapshot}", f"--file={partial}", "--no-password"],
            env=_libpq_environment(params),
            capture_output=True,
            text=True,
            check=False,
        )
        conn.rollback()
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        version = conn.info.parameter_status("server_version")
    partial.replace(dump)
    manifest = {
        "format": MANIFEST_FORMAT,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "database": {"name": params["dbname"], "server_version": version},
        "pg_dump": {"path": str(pg_dump), "major": pg_dump_major},
        "dump": {"file": dump.name, "bytes": dump.stat().st_size, "sha256": _sha256(dump)},
        "migrations": migrations,
        "tables": counts,
        "audit_chain": _chain_summary(chain),
    }
    target = manifest_path(dump)
    partial_manifest = target.with_name(target.name + ".partial")
    partial_manifest.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    partial_manifest.replace(target)
    return manifest


# --- Restore -------------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    database: str
    tables: int = 0
    rows: int = 0
    chain: audit_chain.ChainReport | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def read_manifest(dump: Path, manifest_file: Path | None = None) -> dict:
    path = manifest_file or manifest_path(dump)
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(f"no manifest at {path}; pass --manifest with the file written by backup") from None
    except json.JSONDecodeError as exc:
        raise BackupError(f"the manifest {path} is not valid JSON: {exc}") from None
    if manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"{path} is not a {MANIFEST_FORMAT} manifest")
    return manifest


def _user_relations(conn: psycopg.Connection) -> int:
    return conn.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg\\_toast%%'"
    ).fetchone()[0]


def restore(*, dump: Path, database_url: str, manifest_file: Path | None = None) -> RestoreReport:
    """Restore `dump` into the empty database at `database_url`, then prove rows and chain match."""
    dump = dump.expanduser().resolve()
    if not dump.is_file():
        raise BackupError(f"no backup file at {dump}")
    manifest = read_manifest(dump, manifest_file)
    if _sha256(dump) != manifest["dump"]["sha256"]:
        raise BackupError(f"{dump} does not match its manifest (SHA-256 differs): the file was changed or truncated")
    params = url_conninfo(database_url)
    report = RestoreReport(database=params["dbname"])
    with psycopg.connect(**params, autocommit=True) as conn:
        existing = _user_relations(conn)
        if existing:
            raise BackupError(
                f"the database {params['dbname']} is not empty ({existing} tables, views or sequences); "
                "restore into a newly created database"
            )
        pg_restore, _ = pg_tool(
            "pg_restore", server_major=server_major(conn), at_least=manifest.get("pg_dump", {}).get("major")
        )
    result = subprocess.run(
        [
            str(pg_restore),
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-acl",
            "--no-password",
            f"--dbname={params['dbname']}",
            str(dump),
        ],
        env=_libpq_environment(params),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing was restored): {result.stderr.strip()}")
    with psycopg.connect(**params) as conn:
        counts = table_row_counts(conn)
        conn.rollback()
        expected = manifest["tables"]
        for table in sorted(set(expected) | set(counts)):
            if expected.get(table) != counts.get(table):
                report.problems.append(
                    f"table {table}: {counts.get(table, 'missing')} rows restored, "
                    f"{expected.get(table, 'none')} in the source"
                )
        report.tables, report.rows = len(counts), sum(counts.values())
        try:
            report.chain = audit_chain.verify(conn)
        except LookupError as exc:
            raise BackupError(f"the restored database has no audit chain: {exc}") from None
    for problem in report.chain.problems:
        report.problems.append(f"audit chain: {problem.describe()}")
    source_head = (manifest["audit_chain"]["head_seq"], manifest["audit_chain"]["head_hash"])
    if (report.chain.head_seq, report.chain.head_hash) != source_head:
        report.problems.append(
            f"audit chain head #{report.chain.head_seq} {report.chain.head_hash} differs from the source's "
            f"#{source_head[0]} {source_head[1]}"
        )
    return report
