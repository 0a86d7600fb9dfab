// Compact-protocol serialisation and parsing of the Parquet footer and page headers.
#include "parquet/metadata.h"

#include "parquet/thrift_compact.h"

namespace kalam::parquet::format {

namespace {

using thrift::CompactReader;
using thrift::CompactWriter;
using thrift::CType;
using thrift::TypeIs;

// ---- Writing ----

void WriteStatistics(CompactWriter& w, const Statistics& s) {
  if (s.max) w.FieldBinary(1, *s.max);
  if (s.min) w.FieldBinary(2, *s.min);
  if (s.null_count) w.FieldI64(3, *s.null_count);
  if (s.max_value) w.FieldBinary(5, *s.max_value);
  if (s.min_value) w.FieldBinary(6, *s.min_value);
  if (s.is_max_value_exact) w.FieldBool(7, *s.is_max_value_exact);
  if (s.is_min_value_exact) w.FieldBool(8, *s.is_min_value_exact);
  w.EndStruct();
}

void WriteEmptyStruct(CompactWriter& w, int16_t id) {
  w.FieldStruct(id);
  w.EndStruct();
}

void WriteLogicalType(CompactWriter& w, const LogicalType& t) {
  w.FieldStruct(10);  // SchemaElement.logicalType
  switch (t.id) {
    case kLogicalDecimal:
      w.FieldStruct(kLogicalDecimal);
      w.FieldI32(1, t.scale);
      w.FieldI32(2, t.precision);
      w.EndStruct();
      break;
    case kLogicalTime:
    case kLogicalTimestamp:
      w.FieldStruct(t.id);
      w.FieldBool(1, t.utc_adjusted);
      w.FieldStruct(2);
      WriteEmptyStruct(w, t.unit);
      w.EndStruct();
      w.EndStruct();
      break;
    case kLogicalInteger:
      w.FieldStruct(kLogicalInteger);
      w.FieldByte(1, t.bit_width);
      w.FieldBool(2, t.is_signed);
      w.EndStruct();
      break;
    default:
      WriteEmptyStruct(w, t.id);
      break;
  }
  w.EndStruct();
}

void WriteSchemaElement(CompactWriter& w, const SchemaElement& e) {
  w.StructElement();
  if (e.type) w.FieldI32(1, *e.type);
  if (e.type_length) w.FieldI32(2, *e.type_length);
  if (e.repetition) w.FieldI32(3, *e.repetition);
  w.FieldBinary(4, e.name);
  if (e.num_children) w.FieldI32(5, *e.num_children);
  if (e.converted_type) w.FieldI32(6, *e.converted_type);
  if (e.scale) w.FieldI32(7, *e.scale);
  if (e.precision) w.FieldI32(8, *e.precision);
  if (e.field_id) w.FieldI32(9, *e.field_id);
  if (e.logical.id != kLogicalNone) WriteLogicalType(w, e.logical);
  w.EndStruct();
}

void WriteColumnMetaData(CompactWriter& w, const ColumnMetaData& m) {
  w.FieldI32(1, m.type);
  w.FieldList(2, CType::kI32, m.encodings.size());
  for (int32_t e : m.encodings) w.I32(e);
  w.FieldList(3, CType::kBinary, m.path_in_schema.size());
  for (const std::string& p : m.path_in_schema) w.Binary(p);
  w.FieldI32(4, m.codec);
  w.FieldI64(5, m.num_values);
  w.FieldI64(6, m.total_uncompressed_size);
  w.FieldI64(7, m.total_compressed_size);
  w.FieldI64(9, m.data_page_offset);
  if (m.index_page_offset) w.FieldI64(10, *m.index_page_offset);
  if (m.dictionary_page_offset) w.FieldI64(11, *m.dictionary_page_offset);
  if (m.statistics) {
    w.FieldStruct(12);
    WriteStatistics(w, *m.statistics);
  }
  if (!m.encoding_stats.empty()) {
    w.FieldList(13, CType::kStruct, m.encoding_stats.size());
    for (const PageEncodingStats& s : m.encoding_stats) {
      w.StructElement();
      w.FieldI32(1, s.page_type);
      w.FieldI32(2, s.encoding);
      w.FieldI32(3, s.count);
      w.EndStruct();
    }
  }
  w.EndStruct();
}

// ---- Parsing ----

// Tracks which required fields of one struct were seen.
class Required {
 public:
  void Saw(int bit) { seen_ |= 1u << bit; }
  // Fails `r` naming the first missing field of `names` (index = bit).
  void Check(CompactReader& r, const char* struct_name,
             std::initializer_list<const char*> names) const {
    int bit = 0;
    for (const char* name : names) {
      if ((seen_ & (1u << bit)) == 0) {
        r.Fail(std::string(struct_name) + " misses its required field '" + name + "'");
        return;
      }
      ++bit;
    }
  }

 private:
  uint32_t seen_ = 0;
};

// Reads an i32 field if its type is right, else skips it; returns whether it was read.
bool ReadI32Field(CompactReader& r, CType t, int32_t* out) {
  if (!TypeIs(t, CType::kI32)) {
    r.Skip(t);
    return false;
  }
  *out = r.ReadI32();
  return true;
}

bool ReadI64Field(CompactReader& r, CType t, int64_t* out) {
  if (!TypeIs(t, CType::kI64)) {
    r.Skip(t);
    return false;
  }
  *out = r.ReadI64();
  return true;
}

bool ReadBinaryField(CompactReader& r, CType t, std::string* out) {
  if (!TypeIs(t, CType::kBinary)) {
    r.Skip(t);
    return false;
  }
  *out = std::string(r.ReadBinary());
  return true;
}

bool ReadBoolField(CompactReader& r, CType t, bool* out) {
  if (!TypeIs(t, CType::kTrue)) {
    r.Skip(t);
    return false;
  }
  *out = t == CType::kTrue;
  return true;
}

template <typename T>
void ReadOptionalI32(CompactReader& r, CType t, std::optional<T>* out) {
  int32_t v;
  if (ReadI32Field(r, t, &v)) *out = static_cast<T>(v);
}

// Runs `field(id, type)` for each field of a struct the reader is positioned at.
template <typename F>
void ReadStruct(CompactReader& r, F&& field) {
  r.BeginStruct();
  int16_t id;
  CType t;
  while (r.NextField(&id, &t)) field(id, t);
  r.EndStruct();
}

// Reads a struct field (or skips a field of another type).
template <typename F>
bool ReadStructField(CompactReader& r, CType t, F&& field) {
  if (!TypeIs(t, CType::kStruct)) {
    r.Skip(t);
    return false;
  }
  ReadStruct(r, field);
  return true;
}

// Reads a list field of `element` type, calling `item()` per element.
template <typename F>
bool ReadListField(CompactReader& r, CType t, CType element, F&& item) {
  if (!TypeIs(t, CType::kList) && !TypeIs(t, CType::kSet)) {
    r.Skip(t);
    return false;
  }
  CType actual;
  uint32_t n = r.ReadListHeader(&actual);
  if (!r.ok()) return false;
  if (!TypeIs(actual, element)) {
    for (uint32_t i = 0; i < n && r.ok(); ++i) r.Skip(actual);
    return false;
  }
  for (uint32_t i = 0; i < n && r.ok(); ++i) item();
  return true;
}

void ParseStatistics(CompactReader& r, Statistics* s) {
  ReadStruct(r, [&](int16_t id, CType t) {
    std::string v;
    switch (id) {
      case 1:
        if (ReadBinaryField(r, t, &v)) s->max = std::move(v);
        break;
      case 2:
        if (ReadBinaryField(r, t, &v)) s->min = std::move(v);
        break;
      case 3: {
        int64_t n;
        if (ReadI64Field(r, t, &n)) s->null_count = n;
        break;
      }
      case 5:
        if (ReadBinaryField(r, t, &v)) s->max_value = std::move(v);
        break;
      case 6:
        if (ReadBinaryField(r, t, &v)) s->min_value = std::move(v);
        break;
      case 7: {
        bool b;
        if (ReadBoolField(r, t, &b)) s->is_max_value_exact = b;
        break;
      }
      case 8: {
        bool b;
        if (ReadBoolField(r, t, &b)) s->is_min_value_exact = b;
        break;
      }
      default:
        r.Skip(t);
    }
  });
}

// TimeUnit union: the member's field id is the unit.
void ParseTimeUnit(CompactReader& r, int16_t* unit) {
  ReadStruct(r, [&](int16_t id, CType t) {
    *unit = id;
    r.Skip(t);
  });
}

void ParseLogicalType(CompactReader& r, LogicalType* lt) {
  ReadStruct(r, [&](int16_t id, CType t) {
    if (!TypeIs(t, CType::kStruct)) {
      r.Skip(t);
      return;
    }
    lt->id = id;
    switch (id) {
      case kLogicalDecimal:
        ReadStruct(r, [&](int16_t fid, CType ft) {
          if (fid == 1) {
            ReadI32Field(r, ft, &lt->scale);
          } else if (fid == 2) {
            ReadI32Field(r, ft, &lt->precision);
          } else {
            r.Skip(ft);
          }
        });
        break;
      case kLogicalTime:
      case kLogicalTimestamp:
        ReadStruct(r, [&](int16_t fid, CType ft) {
          if (fid == 1) {
            ReadBoolField(r, ft, &lt->utc_adjusted);
          } else if (fid == 2 && TypeIs(ft, CType::kStruct)) {
            ParseTimeUnit(r, &lt->unit);
          } else {
            r.Skip(ft);
          }
        });
        break;
      case kLogicalInteger:
        ReadStruct(r, [&](int16_t fid, CType ft) {
          if (fid == 1 && TypeIs(ft, CType::kByte)) {
            lt->bit_width = r.ReadByte();
          } else if (fid == 2) {
            ReadBoolField(r, ft, &lt->is_signed);
          } else {
            r.Skip(ft);
          }
        });
        break;
      default:
        r.Skip(t);
    }
  });
}

void ParseSchemaElement(CompactReader& r, SchemaElement* e) {
  Required req;
  ReadStruct(r, [&](int16_t id, CType t) {
    switch (id) {
      case 1:
        ReadOptionalI32(r, t, &e->type);
        break;
      case 2:
        ReadOptionalI32(r, t, &e->type_length);
        break;
      case 3:
        ReadOptionalI32(r, t, &e->repetition);
        break;
      case 4:
        if (ReadBinaryField(r, t, &e->name)) req.Saw(0);
        break;
      case 5:
        ReadOptionalI32(r, t, &e->num_children);
        break;
      case 6:
        ReadOptionalI32(r, t, &e->converted_type);
        break;
      case 7:
        ReadOptionalI32(r, t, &e->scale);
        break;
      case 8:
        ReadOptionalI32(r, t, &e->precision);
        break;
      case 9:
        ReadOptionalI32(r, t, &e->field_id);
        break;
      case 10:
        if (TypeIs(t, CType::kStruct)) {
          ParseLogicalType(r, &e->logical);
        } else {
          r.Skip(t);
        }
        break;
      default:
        r.Skip(t);
    }
  });
  req.Check(r, "SchemaElement", {"name"});
}

void ParseColumnMetaData(CompactReader& r, ColumnMetaData* m) {
  Required req;
  ReadStruct(r, [&](int16_t id, CType t) {
    switch (id) {
      case 1:
        if (ReadI32Field(r, t, &m->type)) req.Saw(0);
        break;
      case 2:
        if (ReadListField(r, t, CType::kI32, [&] { m->encodings.push_back(r.ReadI32()); })) {
          req.Saw(1);
        }
        break;
      case 3:
        if (ReadListField(r, t, CType::kBinary,
                          [&] { m->path_in_schema.emplace_back(r.ReadBinary()); })) {
          req.Saw(2);
        }
        break;
      case 4:
        if (ReadI32Field(r, t, &m->codec)) req.Saw(3);
        break;
      case 5:
        if (ReadI64Field(r, t, &m->num_values)) req.Saw(4);
        break;
      case 6:
        if (ReadI64Field(r, t, &m->total_uncompressed_size)) req.Saw(5);
        break;
      case 7:
        if (ReadI64Field(r, t, &m->total_compressed_size)) req.Saw(6);
        break;
      case 9:
        if (ReadI64Field(r, t, &m->data_page_offset)) req.Saw(7);
        break;
      case 10: {
        int64_t v;
        if (ReadI64Field(r, t, &v)) m->index_page_offset = v;
        break;
      }
      case 11: {
        int64_t v;
        if (ReadI64Field(r, t, &v)) m->dictionary_page_offset = v;
        break;
      }
      case 12:
        if (TypeIs(t, CType::kStruct)) {
          m->statistics.emplace();
          ParseStatistics(r, &*m->statistics);
        } else {
          r.Skip(t);
        }
        break;
      default:
        r.Skip(t);
    }
  });
  req.Check(r, "ColumnMetaData",
            {"type", "encodings", "path_in_schema", "codec", "num_values",
             "total_uncompressed_size", "total_compressed_size", "data_page_offset"});
}

void ParseColumnChunk(CompactReader& r, ColumnChunk* c) {
  ReadStruct(r, [&](int16_t id, CType t) {
    switch (id) {
      case 1: {
        std::string path;
        if (ReadBinaryField(r, t, &path)) c->file_path = std::move(path);
        break;
      }
      case 2:
        ReadI64Field(r, t, &c->file_offset);
        break;
      case 3:
        if (TypeIs(t, CType::kStruct)) {
          c->meta_data.emplace();
          ParseColumnMetaData(r, &*c->meta_data);
        } else {
          r.Skip(t);
        }
        break;
      case 8:
      case 9:
        c->encrypted = true;
        r.Skip(t);
        break;
      default:
        r.Skip(t);
    }
  });
}

void ParseRowGroup(CompactReader& r, RowGroup* g) {
  Required req;
  ReadStruct(r, [&](int16_t id, CType t) {
    switch (id) {
      case 1:
        if (ReadListField(r, t, CType::kStruct, [&] {
              g->columns.emplace_back();
              ParseColumnChunk(r, &g->columns.back());
            })) {
          req.Saw(0);
        }
        break;
      case 2:
        if (ReadI64Field(r, t, &g->total_byte_size)) req.Saw(1);
        break;
      case 3:
        if (ReadI64Field(r, t, &g->num_rows)) req.Saw(2);
        break;
      case 5: {
        int64_t v;
        if (ReadI64Field(r, t, &v)) g->file_offset = v;
        break;
      }
      case 6: {
        int64_t v;
        if (ReadI64Field(r, t, &v)) g->total_compressed_size = v;
        break;
      }
      default:
        r.Skip(t);
    }
  });
  req.Check(r, "RowGroup", {"columns", "total_byte_size", "num_rows"});
}

void ParseDataPageHeader(CompactReader& r, DataPageHeader* h) {
  Required req;
  ReadStruct(r, [&](int16_t id, CType t) {
    switch (id) {
      case 1:
        if (ReadI32Field(r, t, &h->num_values)) req.Saw(0);
        break;
      case 2:
        if (ReadI32Field(r, t, &h->encoding)) req.Saw(1);
        break;
      case 3:
        if (ReadI32Field(r, t, &h->definition_level_encoding)) req.Saw(2);
        break;
      case 4:
        if (ReadI32Field(r, t, &h->repetition_level_encoding)) req.Saw(3);
        break;
      default:
        r.Skip(t);
    }
  });
  req.Check(r, "DataPageHeader",
            {"num_values", "encoding", "definition_level_encoding", "repetition_level_encoding"});
}

void ParseDictionaryPageHeader(CompactReader& r, DictionaryPageHeader* h) {
  Required req;
  ReadStruct(r, [&](int16_t id, CType t) {
    switch (id) {
      case 1:
        if (ReadI32Field(r, t, &h->num_values)) req.Saw(0);
        break;
      case 2:
        if (ReadI32Field(r, t, &h->encoding)) req.Saw(1);
        break;
      case 3:
        ReadBoolField(r, t, &h->is_sorted);
        break;
      default:
        r.Skip(t);
    }
  });
  req.Check(r, "DictionaryPageHeader", {"num_values", "encoding"});
}

void ParseDataPageHeaderV2(CompactReader& r, DataPageHeaderV2* h) {
  Required req;
  ReadStruct(r, [&](int16_t id, CType t) {
    switch (id) {
      case 1:
        if (ReadI32Field(r, t, &h->num_values)) req.Saw(0);
        break;
      case 2:
        if (ReadI32Field(r, t, &h->num_nulls)) req.Saw(1);
        break;
      case 3:
        if (ReadI32Field(r, t, &h->num_rows)) req.Saw(2);
        break;
      case 4:
        if (ReadI32Field(r, t, &h->encoding)) req.Saw(3);
        break;
      case 5:
        if (ReadI32Field(r, t, &h->definition_levels_byte_length)) req.Saw(4);
        break;
      case 6:
        if (ReadI32Field(r, t, &h->repetition_levels_byte_length)) req.Saw(5);
        break;
      case 7:
        ReadBoolField(r, t, &h->is_compressed);
        break;
      default:
        r.Skip(t);
    }
  });
  req.Check(r, "DataPageHeaderV2",
            {"num_values", "num_nulls", "num_rows", "encoding", "definition_levels_byte_length",
             "repetition_levels_byte_length"});
}

}  // namespace

void SerializePageHeader(const PageHeader& h, std::string* out) {
  CompactWriter w(out);
  w.FieldI32(1, h.type);
  w.FieldI32(2, h.uncompressed_page_size);
  w.FieldI32(3, h.compressed_page_size);
  if (h.data_page) {
    const DataPageHeader& d = *h.data_page;
    w.FieldStruct(5);
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, d.encoding);
    w.FieldI32(3, d.definition_level_encoding);
    w.FieldI32(4, d.repetition_level_encoding);
    w.EndStruct();
  }
  if (h.dictionary_page) {
    const DictionaryPageHeader& d = *h.dictionary_page;
    w.FieldStruct(7);
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, d.encoding);
    if (d.is_sorted) w.FieldBool(3, true);
    w.EndStruct();
  }
  if (h.data_page_v2) {
    const DataPageHeaderV2& d = *h.data_page_v2;
    w.FieldStruct(8);
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, d.num_nulls);
    w.FieldI32(3, d.num_rows);
    w.FieldI32(4, d.encoding);
    w.FieldI32(5, d.definition_levels_byte_length);
    w.FieldI32(6, d.repetition_levels_byte_length);
    w.FieldBool(7, d.is_compressed);
    w.EndStruct();
  }
  out->push_back(0);  // stop of PageHeader
}

Result<size_t> ParsePageHeader(std::string_view data, PageHeader* h) {
  CompactReader r(data);
  Required req;
  ReadStruct(r, [&](int16_t id, CType t) {
    switch (id) {
      case 1:
        if (ReadI32Field(r, t, &h->type)) req.Saw(0);
        break;
      case 2:
        if (ReadI32Field(r, t, &h->uncompressed_page_size)) req.Saw(1);
        break;
      case 3:
        if (ReadI32Field(r, t, &h->compressed_page_size)) req.Saw(2);
        break;
      case 5:
        if (TypeIs(t, CType::kStruct)) {
          h->data_page.emplace();
          ParseDataPageHeader(r, &*h->data_page);
        } else {
          r.Skip(t);
        }
        break;
      case 7:
        if (TypeIs(t, CType::kStruct)) {
          h->dictionary_page.emplace();
          ParseDictionaryPageHeader(r, &*h->dictionary_page);
        } else {
          r.Skip(t);
        }
        break;
      case 8:
        if (TypeIs(t, CType::kStruct)) {
          h->data_page_v2.emplace();
          ParseDataPageHeaderV2(r, &*h->data_page_v2);
        } else {
          r.Skip(t);
        }
        break;
      default:
        r.Skip(t);
    }
  });
  req.Check(r, "PageHeader", {"type", "uncompressed_page_size", "compressed_page_size"});
  if (!r.ok()) return r.status().WithPrefix("Bad page header: ");
  return r.position();
}

void SerializeFileMetaData(const FileMetaData& m, std::string* out) {
  CompactWriter w(out);
  w.FieldI32(1, m.version);
  w.FieldList(2, CType::kStruct, m.schema.size());
  for (const SchemaElement& e : m.schema) WriteSchemaElement(w, e);
  w.FieldI64(3, m.num_rows);
  w.FieldList(4, CType::kStruct, m.row_groups.size());
  for (const RowGroup& g : m.row_groups) {
    w.StructElement();
    w.FieldList(1, CType::kStruct, g.columns.size());
    for (const ColumnChunk& c : g.columns) {
      w.StructElement();
      if (c.file_path) w.FieldBinary(1, *c.file_path);
      w.FieldI64(2, c.file_offset);
      if (c.meta_data) {
        w.FieldStruct(3);
        WriteColumnMetaData(w, *c.meta_data);
      }
      w.EndStruct();
    }
    w.FieldI64(2, g.total_byte_size);
    w.FieldI64(3, g.num_rows);
    if (g.file_offset) w.FieldI64(5, *g.file_offset);
    if (g.total_compressed_size) w.FieldI64(6, *g.total_compressed_size);
    if (g.ordinal) w.FieldI16(7, *g.ordinal);
    w.EndStruct();
  }
  if (!m.key_value_metadata.empty()) {
    w.FieldList(5, CType::kStruct, m.key_value_metadata.size());
    for (const KeyValue& kv : m.key_value_metadata) {
      w.StructElement();
      w.FieldBinary(1, kv.key);
      if (kv.value) w.FieldBinary(2, *kv.value);
      w.EndStruct();
    }
  }
  if (m.created_by) w.FieldBinary(6, *m.created_by);
  if (m.type_defined_column_orders) {
    size_t leaves = 0;
    for (const SchemaElement& e : m.schema) leaves += e.type.has_value();
    w.FieldList(7, CType::kStruct, leaves);
    for (size_t i = 0; i < leaves; ++i) {
      w.StructElement();
      WriteEmptyStruct(w, 1);  // TYPE_ORDER
      w.EndStruct();
    }
  }
  out->push_back(0);  // stop of FileMetaData
}

Status ParseFileMetaData(std::string_view data, FileMetaData* m) {
  CompactReader r(data);
  Required req;
  ReadStruct(r, [&](int16_t id, CType t) {
    switch (id) {
      case 1:
        if (ReadI32Field(r, t, &m->version)) req.Saw(0);
        break;
      case 2:
        if (ReadListField(r, t, CType::kStruct, [&] {
              m->schema.emplace_back();
              ParseSchemaElement(r, &m->schema.back());
            })) {
          req.Saw(1);
        }
        break;
      case 3:
        if (ReadI64Field(r, t, &m->num_rows)) req.Saw(2);
        break;
      case 4:
        if (ReadListField(r, t, CType::kStruct, [&] {
              m->row_groups.emplace_back();
              ParseRowGroup(r, &m->row_groups.back());
            })) {
          req.Saw(3);
        }
        break;
      case 5:
        ReadListField(r, t, CType::kStruct, [&] {
          KeyValue kv;
          Required kv_req;
          ReadStruct(r, [&](int16_t fid, CType ft) {
            if (fid == 1) {
              if (ReadBinaryField(r, ft, &kv.key)) kv_req.Saw(0);
            } else if (fid == 2) {
              std::string v;
              if (ReadBinaryField(r, ft, &v)) kv.value = std::move(v);
            } else {
              r.Skip(ft);
            }
          });
          kv_req.Check(r, "KeyValue", {"key"});
          m->key_value_metadata.push_back(std::move(kv));
        });
        break;
      case 6: {
        std::string v;
        if (ReadBinaryField(r, t, &v)) m->created_by = std::move(v);
        break;
      }
      case 7:
        m->type_defined_column_orders = true;
        r.Skip(t);
        break;
      case 8:
        m->encrypted = true;
        r.Skip(t);
        break;
      default:
        r.Skip(t);
    }
  });
  req.Check(r, "FileMetaData", {"version", "schema", "num_rows", "row_groups"});
  if (!r.ok()) return r.status().WithPrefix("Bad Parquet footer: ");
  return Status::OK();
}

}  // namespace kalam::parquet::format
