// splitmix64 and FNV-1a against the published reference values (Vigna's splitmix64.c stream from
// seed 0; the FNV-1a 64-bit test vectors), so every seed derived from them stays what it was.
#include <gtest/gtest.h>

#include "core/hash.hpp"

namespace autothink::core {
namespace {

TEST(hash, splitmix64_matches_the_reference_stream) {
  EXPECT_EQ(splitmix64(0), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(splitmix64(kSplitmixIncrement), 0x6E789E6AA1B965F4ULL);  // the stream's second output
}

TEST(hash, fnv1a_matches_the_test_vectors_and_continues) {
  EXPECT_EQ(fnv1a(""), kFnvOffsetBasis);
  EXPECT_EQ(fnv1a("a"), 0xAF63DC4C8601EC8CULL);
  EXPECT_EQ(fnv1a("foobar"), 0x85944171F73967E8ULL);
  EXPECT_EQ(fnv1a("bar", fnv1a("foo")), fnv1a("foobar"));
}

}  // namespace
}  // namespace autothink::core
