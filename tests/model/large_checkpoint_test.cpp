// A sharded bf16 checkpoint written by transformers loads through mmap holding one copy of the
// weights: the peak RSS the load adds stays within 1.2x the weights in the dtype served (bf16 as
// stored, and f32 converted). Without page release after each copied tensor the mapped file's
// pages stay resident and the load peaks at about 2x for bf16.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "model/checkpoint.hpp"
#include "test_paths.hpp"

namespace autothink::model {
namespace {

namespace fs = std::filesystem;

double peak_rss_bytes() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024.0;  // Linux: kilobytes
}

// Writes the folder (once per process) and returns its weight bytes.
double write_sharded(const fs::path& dir, const std::string& flags) {
  auto r = autothink::testing::run_command(
      autothink::testing::python() + " " + (autothink::testing::source_dir() / "tests/model/make_hf_sharded.py").string() +
      " " + dir.string() + flags);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return nlohmann::json::parse(r.output)["bytes"].get<double>();
}

// Each test runs in its own process (CTest runs one GoogleTest case per process). A tiny folder
// of the same layout is loaded first, so the peak before the measured load already holds the
// one-time costs (OpenMP threads, malloc arenas: ~20 MB, which varies by machine) and what the
// measured load adds is what grows with the weights.
void expect_one_copy(torch::ScalarType dtype, double scale) {
  const fs::path root = autothink::testing::temp_dir("large-checkpoint");
  const double weight_bytes = write_sharded(root / "hf", "");
  ASSERT_GT(weight_bytes, 50e6);
  write_sharded(root / "tiny", " --tiny");
  { auto warm = load_model(root / "tiny", torch::kCPU, dtype); }
  const fs::path dir = root / "hf";
  const double before = peak_rss_bytes();
  auto net = load_model(dir, torch::kCPU, dtype);
  const double added = peak_rss_bytes() - before;
  const double served = weight_bytes * scale;
  EXPECT_LE(added, 1.2 * served) << "the load added " << added / 1e6 << " MB of peak RSS for " << served / 1e6
                                 << " MB of weights";
  EXPECT_EQ(net->dtype(), dtype);
  ::testing::Test::RecordProperty("added_peak_rss_mb", std::to_string(added / 1e6));
}

TEST(large_checkpoint, sharded_bf16_loads_as_bf16_with_one_copy_of_the_weights) { expect_one_copy(torch::kBFloat16, 1.0); }
TEST(large_checkpoint, sharded_bf16_loads_as_f32_with_one_copy_of_the_weights) { expect_one_copy(torch::kFloat, 2.0); }

}  // namespace
}  // namespace autothink::model
