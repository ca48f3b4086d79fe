//! One small SQL interface over the two backends (SQLite and PostgreSQL), so the store's
//! logic is written once.
//!
//! Statements use PostgreSQL's `$1, $2, ...` placeholders; SQLite accepts them as named
//! parameters, which are bound by name (so their order in the text does not matter).
//! Values are the four types the schema uses: 64-bit integers, text, blobs and NULL.

use std::collections::HashMap;

use crate::StoreError;

/// A parameter bound to a statement.
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    Int(i64),
    OptInt(Option<i64>),
    Text(&'a str),
    OptText(Option<&'a str>),
    Blob(&'a [u8]),
    OptBlob(Option<&'a [u8]>),
}

/// A value read from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(value) => Some(*value),
            _ => None,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(value) => Some(value),
            _ => None,
        }
    }

    pub fn into_text(self) -> Option<String> {
        match self {
            Value::Text(value) => Some(value),
            _ => None,
        }
    }

    pub fn into_blob(self) -> Option<Vec<u8>> {
        match self {
            Value::Blob(value) => Some(value),
            _ => None,
        }
    }
}

/// Which SQL dialect a connection speaks (for the few DDL differences).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// An open connection to either backend.
pub enum Db {
    Sqlite(rusqlite::Connection),
    Postgres { client: Box<postgres::Client>, statements: HashMap<String, postgres::Statement> },
}

impl std::fmt::Debug for Db {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Db::Sqlite(_) => "Db::Sqlite",
            Db::Postgres { .. } => "Db::Postgres",
        })
    }
}

impl Db {
    /// Opens (creating it if needed) an SQLite file in WAL mode.
    pub fn open_sqlite(path: &std::path::Path) -> Result<Db, StoreError> {
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|error| StoreError::Open { location: path.display().to_string(), reason: error.to_string() })?;
        }
        let connection =
            rusqlite::Connection::open(path).map_err(|error| StoreError::Open { location: path.display().to_string(), reason: error.to_string() })?;
        let open_error = |error: rusqlite::Error| StoreError::Open { location: path.display().to_string(), reason: error.to_string() };
        connection.busy_timeout(std::time::Duration::from_secs(30)).map_err(open_error)?;
        // Switching a new file to WAL takes an exclusive lock, and SQLite answers "database is
        // locked" at once, without its busy handler, to a second process opening the file while
        // the first switches it (several workers starting on one store): retry for as long as
        // the busy timeout would have waited.
        let started = std::time::Instant::now();
        loop {
            match connection.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;") {
                Ok(()) => break,
                Err(rusqlite::Error::SqliteFailure(failure, _))
                    if failure.code == rusqlite::ErrorCode::DatabaseBusy && started.elapsed() < std::time::Duration::from_secs(30) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(error) => return Err(open_error(error)),
            }
        }
        Ok(Db::Sqlite(connection))
    }

    /// Connects to PostgreSQL with a `postgres://` URL.
    pub fn open_postgres(url: &str) -> Result<Db, StoreError> {
        let client = postgres::Client::connect(url, postgres::NoTls).map_err(|error| StoreError::Open { location: redact(url), reason: error.to_string() })?;
        Ok(Db::Postgres { client: Box::new(client), statements: HashMap::new() })
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres { .. } => Dialect::Postgres,
        }
    }

    /// Runs statements without parameters (DDL, BEGIN/COMMIT).
    pub fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(connection) => connection.execute_batch(sql).map_err(|error| sql_error(sql, error)),
            Db::Postgres { client, .. } => client.batch_execute(sql).map_err(|error| sql_error(sql, error)),
        }
    }

    /// Runs one statement; returns the number of rows it changed.
    pub fn exec(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        match self {
            Db::Sqlite(connection) => {
                let mut statement = connection.prepare_cached(sql).map_err(|error| sql_error(sql, error))?;
                bind_sqlite(&mut statement, params).map_err(|error| sql_error(sql, error))?;
                let changed = statement.raw_execute().map_err(|error| sql_error(sql, error))?;
                Ok(changed as u64)
            }
            Db::Postgres { client, statements } => {
                let statement = prepared(client, statements, sql)?;
                let values = postgres_params(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = values.iter().map(|value| value.as_ref()).collect();
                client.execute(&statement, &refs).map_err(|error| sql_error(sql, error))
            }
        }
    }

    /// Runs a query and calls `each` with every row, without holding them all in memory.
    pub fn each(&mut self, sql: &str, params: &[Param<'_>], mut each: impl FnMut(Vec<Value>) -> Result<(), StoreError>) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(connection) => {
                let mut statement = connection.prepare_cached(sql).map_err(|error| sql_error(sql, error))?;
                bind_sqlite(&mut statement, params).map_err(|error| sql_error(sql, error))?;
                let columns = statement.column_count();
                let mut rows = statement.raw_query();
                while let Some(row) = rows.next().map_err(|error| sql_error(sql, error))? {
                    let mut values = Vec::with_capacity(columns);
                    for index in 0..columns {
                        values.push(match row.get_ref(index).map_err(|error| sql_error(sql, error))? {
                            rusqlite::types::ValueRef::Null => Value::Null,
                            rusqlite::types::ValueRef::Integer(value) => Value::Int(value),
                            rusqlite::types::ValueRef::Real(value) => Value::Int(value as i64),
                            rusqlite::types::ValueRef::Text(text) => Value::Text(String::from_utf8_lossy(text).into_owned()),
                            rusqlite::types::ValueRef::Blob(blob) => Value::Blob(blob.to_vec()),
                        });
                    }
                    each(values)?;
                }
                Ok(())
            }
            Db::Postgres { client, statements } => {
                let statement = prepared(client, statements, sql)?;
                let values = postgres_params(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = values.iter().map(|value| value.as_ref()).collect();
                let mut rows = client.query_raw(&statement, refs).map_err(|error| sql_error(sql, error))?;
                while let Some(row) = postgres::fallible_iterator::FallibleIterator::next(&mut rows).map_err(|error| sql_error(sql, error))? {
                    let mut values = Vec::with_capacity(row.len());
                    for (index, column) in row.columns().iter().enumerate() {
                        values.push(postgres_value(&row, index, column.type_()).map_err(|error| sql_error(sql, error))?);
                    }
                    each(values)?;
                }
                Ok(())
            }
        }
    }

    /// Runs a query and returns every row.
    pub fn rows(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Value>>, StoreError> {
        let mut rows = Vec::new();
        self.each(sql, params, |row| {
            rows.push(row);
            Ok(())
        })?;
        Ok(rows)
    }

    /// Runs a query that returns at most one row.
    pub fn row(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Vec<Value>>, StoreError> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }

    /// Runs a query whose first row's first column is an integer (COUNT, MAX...).
    pub fn int(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<i64>, StoreError> {
        Ok(self.row(sql, params)?.and_then(|row| row.into_iter().next()).and_then(|value| value.int()))
    }

    /// Starts the one write transaction: SQLite takes its write lock now (`IMMEDIATE`);
    /// PostgreSQL serialises writers with a transaction-scoped advisory lock.
    pub fn begin_write(&mut self) -> Result<(), StoreError> {
        match self.dialect() {
            Dialect::Sqlite => self.batch("BEGIN IMMEDIATE"),
            Dialect::Postgres => {
                self.batch("BEGIN")?;
                self.batch("SELECT pg_advisory_xact_lock(7731)")
            }
        }
    }

    pub fn commit(&mut self) -> Result<(), StoreError> {
        self.batch("COMMIT")
    }

    /// After a large write, folds SQLite's write-ahead log back into the database file and
    /// truncates it, so the log does not keep the size of the biggest scan. Best effort: a
    /// reader holding a snapshot only postpones it.
    pub fn checkpoint(&mut self) {
        if self.dialect() == Dialect::Sqlite {
            let _ = self.batch("PRAGMA wal_checkpoint(TRUNCATE)");
        }
    }

    /// Rolls back after a failure; a failing rollback is not worth more than the first error.
    pub fn rollback(&mut self) {
        let _ = self.batch("ROLLBACK");
    }
}

fn bind_sqlite(statement: &mut rusqlite::CachedStatement<'_>, params: &[Param<'_>]) -> rusqlite::Result<()> {
    for (position, param) in params.iter().enumerate() {
        let Some(index) = statement.parameter_index(&format!("${}", position + 1))? else {
            continue;
        };
        match *param {
            Param::Int(value) => statement.raw_bind_parameter(index, value)?,
            Param::OptInt(value) => statement.raw_bind_parameter(index, value)?,
            Param::Text(value) => statement.raw_bind_parameter(index, value)?,
            Param::OptText(value) => statement.raw_bind_parameter(index, value)?,
            Param::Blob(value) => statement.raw_bind_parameter(index, value)?,
            Param::OptBlob(value) => statement.raw_bind_parameter(index, value)?,
        }
    }
    Ok(())
}

fn prepared(client: &mut postgres::Client, statements: &mut HashMap<String, postgres::Statement>, sql: &str) -> Result<postgres::Statement, StoreError> {
    if let Some(statement) = statements.get(sql) {
        return Ok(statement.clone());
    }
    let statement = client.prepare(sql).map_err(|error| sql_error(sql, error))?;
    statements.insert(sql.to_string(), statement.clone());
    Ok(statement)
}

fn postgres_params<'a>(params: &[Param<'a>]) -> Vec<Box<dyn postgres::types::ToSql + Sync + 'a>> {
    params
        .iter()
        .map(|param| -> Box<dyn postgres::types::ToSql + Sync + 'a> {
            match *param {
                Param::Int(value) => Box::new(value),
                Param::OptInt(value) => Box::new(value),
                Param::Text(value) => Box::new(value),
                Param::OptText(value) => Box::new(value),
                Param::Blob(value) => Box::new(value),
                Param::OptBlob(value) => Box::new(value),
            }
        })
        .collect()
}

fn postgres_value(row: &postgres::Row, index: usize, kind: &postgres::types::Type) -> Result<Value, postgres::Error> {
    use postgres::types::Type;
    Ok(match *kind {
        Type::INT8 => row.try_get::<_, Option<i64>>(index)?.map_or(Value::Null, Value::Int),
        Type::INT4 => row.try_get::<_, Option<i32>>(index)?.map_or(Value::Null, |value| Value::Int(i64::from(value))),
        Type::INT2 => row.try_get::<_, Option<i16>>(index)?.map_or(Value::Null, |value| Value::Int(i64::from(value))),
        Type::BOOL => row.try_get::<_, Option<bool>>(index)?.map_or(Value::Null, |value| Value::Int(i64::from(value))),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(index)?.map_or(Value::Null, Value::Blob),
        _ => row.try_get::<_, Option<String>>(index)?.map_or(Value::Null, Value::Text),
    })
}

fn sql_error(sql: &str, error: impl std::fmt::Display) -> StoreError {
    let statement: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    StoreError::Sql { statement, reason: error.to_string() }
}

/// A connection URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(redact("postgres://vigil:secret@127.0.0.1:5432/vigil"), "postgres://vigil:***@127.0.0.1:5432/vigil");
        assert_eq!(redact("postgres://vigil@host/db"), "postgres://vigil@host/db");
        assert_eq!(redact("/tmp/store.db"), "/tmp/store.db");
    }

    #[test]
    fn sqlite_binds_dollar_placeholders_by_name_whatever_their_order() {
        let mut db = Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        db.batch("CREATE TABLE t (a INTEGER, b TEXT)").unwrap();
        db.exec("INSERT INTO t (b, a) VALUES ($2, $1)", &[Param::Int(7), Param::Text("seven")]).unwrap();
        let rows = db.rows("SELECT a, b FROM t WHERE b = $1", &[Param::Text("seven")]).unwrap();
        assert_eq!(rows, vec![vec![Value::Int(7), Value::Text("seven".into())]]);
    }
}
