// Thrift compact protocol writer and bounds-checked reader.
#include "parquet/thrift_compact.h"

#include <cstring>

namespace kalam::parquet::thrift {

namespace {
constexpr int kMaxNestingDepth = 64;
}  // namespace

void CompactWriter::Varint(uint64_t v) {
  while (v >= 0x80) {
    out_->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out_->push_back(static_cast<char>(v));
}

void CompactWriter::FieldHeader(int16_t id, CType type) {
  int16_t& last = last_ids_.back();
  int delta = id - last;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | static_cast<int>(type)));
  } else {
    out_->push_back(static_cast<char>(type));
    Varint(ZigZag(id));
  }
  last = id;
}

void CompactWriter::ListHeader(CType element, size_t size) {
  if (size < 15) {
    out_->push_back(static_cast<char>((size << 4) | static_cast<int>(element)));
  } else {
    out_->push_back(static_cast<char>(0xF0 | static_cast<int>(element)));
    Varint(size);
  }
}

void CompactWriter::EndStruct() {
  out_->push_back(0);
  last_ids_.pop_back();
}

Status CompactReader::status() const {
  if (ok()) return Status::OK();
  return Status::Corruption(error_);
}

void CompactReader::Fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
  pos_ = data_.size();
}

bool CompactReader::Need(size_t n) {
  if (!ok()) return false;
  if (data_.size() - pos_ < n) {
    Fail("Thrift data ends early at byte " + std::to_string(pos_) + " (needed " +
         std::to_string(n) + " more bytes)");
    return false;
  }
  return true;
}

uint64_t CompactReader::ReadVarint() {
  uint64_t result = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (!Need(1)) return 0;
    uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
    if (shift == 63 && byte > 1) {
      Fail("Thrift varint overflows 64 bits");
      return 0;
    }
    result |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return result;
  }
  Fail("Thrift varint is longer than 10 bytes");
  return 0;
}

void CompactReader::BeginStruct() {
  if (last_ids_.size() >= kMaxNestingDepth) {
    Fail("Thrift structs nested deeper than 64 levels");
    return;
  }
  last_ids_.push_back(0);
}

void CompactReader::EndStruct() {
  if (!last_ids_.empty()) last_ids_.pop_back();
}

bool CompactReader::NextField(int16_t* id, CType* type) {
  if (!Need(1) || last_ids_.empty()) return false;
  uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
  uint8_t t = byte & 0x0F;
  if (t == 0) return false;  // stop
  if (t > static_cast<uint8_t>(CType::kStruct)) {
    Fail("Thrift field has unknown type code " + std::to_string(t));
    return false;
  }
  int delta = byte >> 4;
  int16_t field_id;
  if (delta != 0) {
    field_id = static_cast<int16_t>(last_ids_.back() + delta);
  } else {
    uint64_t z = ReadVarint();
    field_id = static_cast<int16_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  if (!ok()) return false;
  last_ids_.back() = field_id;
  *id = field_id;
  *type = static_cast<CType>(t);
  return true;
}

int8_t CompactReader::ReadByte() {
  if (!Need(1)) return 0;
  return static_cast<int8_t>(data_[pos_++]);
}

int32_t CompactReader::ReadI32() {
  uint64_t z = ReadVarint();
  int64_t v = static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
  if (v < INT32_MIN || v > INT32_MAX) {
    Fail("Thrift i32 value out of range");
    return 0;
  }
  return static_cast<int32_t>(v);
}

int64_t CompactReader::ReadI64() {
  uint64_t z = ReadVarint();
  return static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
}

double CompactReader::ReadDouble() {
  if (!Need(8)) return 0;
  double v;
  std::memcpy(&v, data_.data() + pos_, 8);
  pos_ += 8;
  return v;
}

std::string_view CompactReader::ReadBinary() {
  uint64_t n = ReadVarint();
  if (!ok()) return {};
  if (n > data_.size() - pos_) {
    Fail("Thrift binary of " + std::to_string(n) + " bytes runs past the end of its data");
    return {};
  }
  std::string_view v = data_.substr(pos_, n);
  pos_ += n;
  return v;
}

uint32_t CompactReader::ReadListHeader(CType* element) {
  if (!Need(1)) return 0;
  uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
  uint64_t size = byte >> 4;
  if (size == 15) size = ReadVarint();
  uint8_t t = byte & 0x0F;
  if (t > static_cast<uint8_t>(CType::kStruct)) {
    Fail("Thrift list has unknown element type " + std::to_string(t));
    return 0;
  }
  // Every element takes at least one byte.
  if (size > data_.size() - pos_) {
    Fail("Thrift list claims " + std::to_string(size) + " elements but only " +
         std::to_string(data_.size() - pos_) + " bytes remain");
    return 0;
  }
  *element = static_cast<CType>(t);
  return static_cast<uint32_t>(size);
}

bool CompactReader::ReadBoolElement() { return ReadByte() == 1; }

void CompactReader::Skip(CType type) { SkipDepth(type, 0); }

void CompactReader::SkipDepth(CType type, int depth) {
  if (!ok()) return;
  if (depth > kMaxNestingDepth) {
    Fail("Thrift values nested deeper than 64 levels");
    return;
  }
  switch (type) {
    case CType::kTrue:
    case CType::kFalse:
      return;  // a boolean field carries its value in the header
    case CType::kByte:
      if (Need(1)) ++pos_;
      return;
    case CType::kI16:
    case CType::kI32:
    case CType::kI64:
      ReadVarint();
      return;
    case CType::kDouble:
      if (Need(8)) pos_ += 8;
      return;
    case CType::kBinary:
      ReadBinary();
      return;
    case CType::kList:
    case CType::kSet: {
      CType element;
      uint32_t n = ReadListHeader(&element);
      for (uint32_t i = 0; i < n && ok(); ++i) {
        if (element == CType::kTrue || element == CType::kFalse) {
          ReadByte();
        } else {
          SkipDepth(element, depth + 1);
        }
      }
      return;
    }
    case CType::kMap: {
      uint64_t n = ReadVarint();
      if (n == 0 || !ok()) return;
      if (n > data_.size() - pos_) {
        Fail("Thrift map claims more entries than bytes remain");
        return;
      }
      if (!Need(1)) return;
      uint8_t types = static_cast<uint8_t>(data_[pos_++]);
      CType key = static_cast<CType>(types >> 4);
      CType value = static_cast<CType>(types & 0x0F);
      if ((types >> 4) > 12 || (types & 0x0F) > 12) {
        Fail("Thrift map has an unknown key or value type");
        return;
      }
      for (uint64_t i = 0; i < n && ok(); ++i) {
        for (CType t : {key, value}) {
          if (t == CType::kTrue || t == CType::kFalse) {
            ReadByte();
          } else {
            SkipDepth(t, depth + 1);
          }
        }
      }
      return;
    }
    case CType::kStruct: {
      BeginStruct();
      int16_t id;
      CType t;
      while (NextField(&id, &t)) SkipDepth(t, depth + 1);
      EndStruct();
      return;
    }
    case CType::kStop:
      Fail("Thrift value of type stop");
      return;
  }
}

}  // namespace kalam::parquet::thrift
