// vector_search('ns.table', 'column', query_vector [, top_k]): the table-valued function over
// the vector indexes (docs/vectors.md). Returns `row_id` TEXT (the PK as text) and `score` REAL,
// best first, from the caller's scope of a USER table or the whole of a SHARED table.
#pragma once

#include <sqlite3.h>

namespace kalam::sql {

class SqlConnection;

// Registers the eponymous virtual table `vector_search` on `db`. `conn` must outlive `db`.
int RegisterVectorSearchModule(sqlite3* db, SqlConnection* conn);

}  // namespace kalam::sql
