// Vector arithmetic shared by the vector index, vector_search and the SQL distance functions:
// reading query vectors and EMBEDDING values, distances and scores (docs/vectors.md).
#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "common/value.h"

namespace kalam::vector {

// Parses a JSON array of numbers ('[0.1, 0.2]'). Fails with kInvalidArgument on anything else
// (a non-number, a non-finite number, trailing text). An empty array parses to an empty vector.
Result<std::vector<float>> ParseVectorText(std::string_view text);

// The floats of an EMBEDDING value (a blob of 4·n little-endian float32 bytes). False when `v` is
// not such a blob (NULL included).
bool DecodeEmbedding(const Value& v, std::vector<float>* out);

// The distance the index orders by, smaller = nearer:
//   kCosine: 1 − cos(a, b), 1 when either norm is 0;  kL2: squared Euclidean distance;
//   kDot: 1 − a·b.
float Distance(VectorMetric metric, const float* a, const float* b, size_t n);

// vector_search's `score`, larger = nearer: 1 − distance for kCosine (the cosine similarity) and
// kDot (the inner product), −distance (minus the squared L2 distance) for kL2.
float Score(VectorMetric metric, float distance);

// Scales `v` to unit length in place (no change for the zero vector).
void Normalize(std::vector<float>* v);

}  // namespace kalam::vector
