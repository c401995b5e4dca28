// RAII over the SQLite C API.
#include "store/sqlite.hpp"

#include <sqlite3.h>

#include <utility>

namespace labelwatch::store {
namespace {

[[noreturn]] void fail(sqlite3* db, int code) {
  // sqlite3_errmsg describes the connection's last error; it matches `code` here
  // because every call below checks its result immediately.
  throw sqlite_error(db ? sqlite3_extended_errcode(db) : code,
                     db ? sqlite3_errmsg(db) : sqlite3_errstr(code));
}

}  // namespace

std::string describe(int code) {
  std::string out = sqlite3_errstr(code);
  out += " (SQLite code ";
  out += std::to_string(code);
  out += ")";
  return out;
}

// ---- statement -------------------------------------------------------------------

statement::statement(sqlite3* db, std::string_view sql) : db_(db) {
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(db, rc);
}

statement::statement(statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

statement& statement::operator=(statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

statement::~statement() { sqlite3_finalize(stmt_); }

statement& statement::bind(int i, std::int64_t v) {
  if (const int rc = sqlite3_bind_int64(stmt_, i, v); rc != SQLITE_OK) fail(db_, rc);
  return *this;
}

statement& statement::bind(int i, double v) {
  if (const int rc = sqlite3_bind_double(stmt_, i, v); rc != SQLITE_OK) fail(db_, rc);
  return *this;
}

statement& statement::bind(int i, std::string_view v) {
  const int rc = sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) fail(db_, rc);
  return *this;
}

statement& statement::bind_null(int i) {
  if (const int rc = sqlite3_bind_null(stmt_, i); rc != SQLITE_OK) fail(db_, rc);
  return *this;
}

bool statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // Rewind now so the statement releases its read/write state even though we throw.
  sqlite3_reset(stmt_);
  fail(db_, rc);
}

void statement::run() {
  while (step()) {
  }
}

void statement::reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool statement::is_null(int col) const noexcept {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

std::int64_t statement::int64(int col) const noexcept { return sqlite3_column_int64(stmt_, col); }

double statement::real(int col) const noexcept { return sqlite3_column_double(stmt_, col); }

std::string statement::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

std::optional<std::int64_t> statement::opt_int64(int col) const noexcept {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}

std::optional<double> statement::opt_real(int col) const noexcept {
  if (is_null(col)) return std::nullopt;
  return real(col);
}

// ---- connection ------------------------------------------------------------------

connection::connection(const std::string& path) {
  // NOMUTEX: a connection is only ever used by one thread at a time (the store's
  // writer thread), so SQLite's per-connection mutex would be pure overhead.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                    SQLITE_OPEN_EXRESCODE;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string what = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    const int code = db_ ? sqlite3_extended_errcode(db_) : rc;
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw sqlite_error(code, what);
  }
  sqlite3_extended_result_codes(db_, 1);
}

connection::connection(connection&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

connection::~connection() {
  // close_v2 defers the close until every statement is finalized, so the order in
  // which owners are destroyed cannot leak the handle.
  sqlite3_close_v2(db_);
}

void connection::exec(std::string_view sql) {
  const std::string s(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string what = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw sqlite_error(sqlite3_extended_errcode(db_), what);
  }
}

std::string connection::query_text(std::string_view sql) {
  statement st(db_, sql);
  return st.step() ? st.text(0) : std::string();
}

std::int64_t connection::query_int(std::string_view sql) {
  statement st(db_, sql);
  return st.step() ? st.int64(0) : 0;
}

std::int64_t connection::last_insert_rowid() const noexcept { return sqlite3_last_insert_rowid(db_); }

std::int64_t connection::changes() const noexcept { return sqlite3_changes64(db_); }

bool connection::in_transaction() const noexcept { return sqlite3_get_autocommit(db_) == 0; }

}  // namespace labelwatch::store
