// A thin RAII layer over the SQLite C API, used only inside lib/store. Failures throw
// sqlite_error (caught at the store's operation boundary and turned into store_error).
//
// Thread safety: a connection and its statements belong to one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace labelwatch::store {

class sqlite_error : public std::runtime_error {
 public:
  sqlite_error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const noexcept { return code_; }  // extended result code
 private:
  int code_;
};

class statement {
 public:
  statement() = default;
  statement(sqlite3* db, std::string_view sql);
  statement(statement&& other) noexcept;
  statement& operator=(statement&& other) noexcept;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement();

  // Parameters are 1-based, as in SQLite.
  statement& bind(int i, std::int64_t v);
  statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  statement& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  statement& bind(int i, double v);
  statement& bind(int i, std::string_view v);  // copied by SQLite (SQLITE_TRANSIENT)
  statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  statement& bind_null(int i);
  template <class T>
  statement& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind_null(i);
  }

  // Advances; true while a row is available. Throws on failure.
  bool step();
  // Runs to completion (statements without result rows).
  void run();
  // Clears the bindings and rewinds, so the prepared statement can be reused.
  void reset() noexcept;

  // Columns are 0-based.
  bool is_null(int col) const noexcept;
  std::int64_t int64(int col) const noexcept;
  double real(int col) const noexcept;
  std::string text(int col) const;
  std::optional<std::int64_t> opt_int64(int col) const noexcept;
  std::optional<double> opt_real(int col) const noexcept;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class connection {
 public:
  // Opens (creating if missing) with extended result codes on. Throws sqlite_error.
  explicit connection(const std::string& path);
  connection(connection&& other) noexcept;
  connection& operator=(connection&&) = delete;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  // Runs one or more statements without results.
  void exec(std::string_view sql);
  statement prepare(std::string_view sql) { return statement(db_, sql); }
  // The first column of the first row as text / integer (PRAGMAs).
  std::string query_text(std::string_view sql);
  std::int64_t query_int(std::string_view sql);

  std::int64_t last_insert_rowid() const noexcept;
  std::int64_t changes() const noexcept;
  bool in_transaction() const noexcept;
  sqlite3* handle() const noexcept { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// "database or disk is full (SQLITE_FULL)" style description of a result code.
std::string describe(int code);

}  // namespace labelwatch::store
