// Vector parsing, distances and scores.
#include "vector/vector_math.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

namespace kalam::vector {

Result<std::vector<float>> ParseVectorText(std::string_view text) {
  std::vector<float> out;
  std::string s(text);  // strtod needs a terminated string
  const char* p = s.c_str();
  auto skip = [&] {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') ++p;
  };
  auto fail = [&] {
    return Status::InvalidArgument("expected a JSON array of numbers like '[0.1, 0.2]', got '" +
                                   (s.size() > 40 ? s.substr(0, 40) + "…" : s) + "'");
  };
  skip();
  if (*p++ != '[') return fail();
  skip();
  if (*p == ']') {
    ++p;
    skip();
    if (*p != '\0') return fail();
    return out;
  }
  while (true) {
    skip();
    char* end = nullptr;
    const double d = std::strtod(p, &end);
    if (end == p || !std::isfinite(d)) return fail();
    out.push_back(static_cast<float>(d));
    p = end;
    skip();
    if (*p == ',') {
      ++p;
      continue;
    }
    if (*p != ']') return fail();
    ++p;
    skip();
    if (*p != '\0') return fail();
    return out;
  }
}

bool DecodeEmbedding(const Value& v, std::vector<float>* out) {
  if (v.kind() != Value::Kind::kBlob) return false;
  const std::string& bytes = v.as_bytes();
  if (bytes.size() % 4 != 0) return false;
  out->resize(bytes.size() / 4);
  if (!bytes.empty()) std::memcpy(out->data(), bytes.data(), bytes.size());
  return true;
}

float Distance(VectorMetric metric, const float* a, const float* b, size_t n) {
  double dot = 0, na = 0, nb = 0, l2 = 0;
  for (size_t i = 0; i < n; ++i) {
    dot += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
    const double d = double(a[i]) - b[i];
    l2 += d * d;
  }
  switch (metric) {
    case VectorMetric::kL2: return static_cast<float>(l2);
    case VectorMetric::kDot: return static_cast<float>(1.0 - dot);
    case VectorMetric::kCosine:
      if (na == 0 || nb == 0) return 1.0f;
      return static_cast<float>(1.0 - dot / (std::sqrt(na) * std::sqrt(nb)));
  }
  return 0;
}

float Score(VectorMetric metric, float distance) {
  return metric == VectorMetric::kL2 ? -distance : 1.0f - distance;
}

void Normalize(std::vector<float>* v) {
  double norm = 0;
  for (float x : *v) norm += double(x) * x;
  if (norm == 0) return;
  const double inv = 1.0 / std::sqrt(norm);
  for (float& x : *v) x = static_cast<float>(x * inv);
}

}  // namespace kalam::vector
