// The small non-cryptographic hashes seeds and cache keys are built from: splitmix64 (a
// 64-bit mixer: nearby inputs give unrelated outputs) and FNV-1a over bytes.
#pragma once
#include <cstdint>
#include <string>

namespace autothink::core {

constexpr uint64_t kSplitmixIncrement = 0x9E3779B97F4A7C15ULL;

// splitmix64's output for state `x` (the state itself advances by kSplitmixIncrement).
inline uint64_t splitmix64(uint64_t x) {
  x += kSplitmixIncrement;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

// FNV-1a of `bytes`, continuing from `h`.
inline uint64_t fnv1a(const std::string& bytes, uint64_t h = kFnvOffsetBasis) {
  for (unsigned char c : bytes) h = (h ^ c) * kFnvPrime;
  return h;
}

}  // namespace autothink::core
