// Raw safetensors I/O: round trips for every dtype, and clear errors for each kind of broken file.
#include "core/safetensors.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "test_paths.hpp"

namespace st = autothink::safetensors;
namespace fs = std::filesystem;

namespace {

st::RawTensor pattern_tensor(st::DType dtype, std::vector<int64_t> shape, uint8_t seed) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<uint8_t> bytes(static_cast<size_t>(n) * st::dtype_size(dtype));
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(seed + i * 7);
  return st::RawTensor::owned(dtype, std::move(shape), std::move(bytes));
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A file made of a hand-written header and `data_size` data bytes.
fs::path file_with_header(const fs::path& dir, const std::string& header, size_t data_size) {
  std::string bytes(8, '\0');
  uint64_t len = header.size();
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(len >> (8 * i));
  bytes += header;
  bytes += std::string(data_size, '\x01');
  auto path = dir / "hand.safetensors";
  spit(path, bytes);
  return path;
}

std::string error_of(const fs::path& path) {
  try {
    st::read_safetensors(path);
  } catch (const autothink::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(safetensors, round_trip_every_dtype) {
  auto dir = autothink::testing::temp_dir("safetensors-rt");
  std::map<std::string, st::RawTensor> tensors;
  uint8_t seed = 1;
  for (auto dtype : {st::DType::F32, st::DType::BF16, st::DType::F16, st::DType::I64, st::DType::I32}) {
    tensors.emplace(std::string("t_") + st::dtype_name(dtype), pattern_tensor(dtype, {3, 5}, seed++));
  }
  tensors.emplace("scalar", pattern_tensor(st::DType::F32, {}, 9));
  tensors.emplace("empty", pattern_tensor(st::DType::BF16, {0, 4}, 0));
  st::write_safetensors(dir / "a.safetensors", tensors, {{"format", "pt"}});

  auto back = st::read_safetensors(dir / "a.safetensors");
  EXPECT_EQ(back.metadata.at("format"), "pt");
  ASSERT_EQ(back.tensors.size(), tensors.size());
  for (auto& [name, t] : tensors) {
    const auto& b = back.tensors.at(name);
    EXPECT_EQ(b.dtype, t.dtype) << name;
    EXPECT_EQ(b.shape, t.shape) << name;
    ASSERT_EQ(b.nbytes(), t.nbytes()) << name;
    EXPECT_EQ(std::memcmp(b.data(), t.data(), t.nbytes()), 0) << name;
    // Largest dtypes first: every tensor's bytes are naturally aligned in the file.
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % st::dtype_size(b.dtype), 0u) << name;
  }
}

TEST(safetensors, header_is_space_padded_json_per_spec) {
  auto dir = autothink::testing::temp_dir("safetensors-hdr");
  st::write_safetensors(dir / "a.safetensors", {{"w", pattern_tensor(st::DType::BF16, {3}, 1)}});
  std::string bytes = slurp(dir / "a.safetensors");
  uint64_t len = 0;
  for (int i = 7; i >= 0; --i) len = (len << 8) | static_cast<uint8_t>(bytes[i]);
  EXPECT_EQ(len % 8, 0u);
  std::string header = bytes.substr(8, len);
  auto json = nlohmann::json::parse(header);
  EXPECT_EQ(json["w"]["dtype"], "BF16");
  EXPECT_EQ(json["w"]["shape"], nlohmann::json::array({3}));
  EXPECT_EQ(json["w"]["data_offsets"], nlohmann::json::array({0, 6}));
  EXPECT_EQ(bytes.size(), 8 + len + 6);
}

TEST(safetensors, reads_transformers_fixture) {
  auto file = st::read_safetensors(autothink::testing::fixture("hf-qwen2-tiny") / "model.safetensors");
  const auto& emb = file.tensors.at("model.embed_tokens.weight");
  EXPECT_EQ(emb.dtype, st::DType::F32);
  EXPECT_EQ(emb.shape, (std::vector<int64_t>{320, 64}));
  EXPECT_EQ(file.metadata.at("format"), "pt");
}

TEST(safetensors, truncated_file_names_the_file) {
  auto dir = autothink::testing::temp_dir("safetensors-trunc");
  spit(dir / "short.safetensors", "abc");
  std::string msg = error_of(dir / "short.safetensors");
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find("short.safetensors"), std::string::npos) << msg;
}

TEST(safetensors, header_length_beyond_file) {
  auto dir = autothink::testing::temp_dir("safetensors-hlen");
  st::write_safetensors(dir / "a.safetensors", {{"w", pattern_tensor(st::DType::F32, {4}, 1)}});
  std::string bytes = slurp(dir / "a.safetensors");
  spit(dir / "cut.safetensors", bytes.substr(0, 20));
  std::string msg = error_of(dir / "cut.safetensors");
  EXPECT_NE(msg.find("runs past the end"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cut.safetensors"), std::string::npos) << msg;
}

TEST(safetensors, truncated_data_names_the_tensor) {
  auto dir = autothink::testing::temp_dir("safetensors-tdata");
  st::write_safetensors(dir / "a.safetensors", {{"layer.w", pattern_tensor(st::DType::F32, {16}, 1)}});
  std::string bytes = slurp(dir / "a.safetensors");
  spit(dir / "cut.safetensors", bytes.substr(0, bytes.size() - 4));
  std::string msg = error_of(dir / "cut.safetensors");
  EXPECT_NE(msg.find("layer.w"), std::string::npos) << msg;
  EXPECT_NE(msg.find("outside the data section"), std::string::npos) << msg;
}

TEST(safetensors, offsets_out_of_range) {
  auto dir = autothink::testing::temp_dir("safetensors-oor");
  auto path = file_with_header(dir, R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})", 16);
  std::string msg = error_of(path);
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("outside"), std::string::npos) << msg;
}

TEST(safetensors, overlapping_tensors) {
  auto dir = autothink::testing::temp_dir("safetensors-overlap");
  auto path = file_with_header(
      dir, R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 16);
  std::string msg = error_of(path);
  EXPECT_NE(msg.find("overlaps"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'b'"), std::string::npos) << msg;
}

TEST(safetensors, size_mismatch_with_dtype_and_shape) {
  auto dir = autothink::testing::temp_dir("safetensors-size");
  auto path = file_with_header(dir, R"({"w":{"dtype":"BF16","shape":[4],"data_offsets":[0,16]}})", 16);
  std::string msg = error_of(path);
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("needs 8"), std::string::npos) << msg;
}

TEST(safetensors, unknown_dtype) {
  auto dir = autothink::testing::temp_dir("safetensors-dtype");
  auto path = file_with_header(dir, R"({"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", 4);
  std::string msg = error_of(path);
  EXPECT_NE(msg.find("F8_E4M3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
}

TEST(safetensors, absurd_shape_is_refused) {
  auto dir = autothink::testing::temp_dir("safetensors-absurd");
  auto path = file_with_header(
      dir, R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4);
  std::string msg = error_of(path);
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
}

TEST(safetensors, bad_json_and_missing_file) {
  auto dir = autothink::testing::temp_dir("safetensors-json");
  auto path = file_with_header(dir, "{not json}", 0);
  EXPECT_NE(error_of(path).find("not valid JSON"), std::string::npos);
  std::string msg = error_of(dir / "nope.safetensors");
  EXPECT_NE(msg.find("nope.safetensors"), std::string::npos) << msg;
}

TEST(safetensors, owned_tensor_checks_its_size) {
  EXPECT_THROW(st::RawTensor::owned(st::DType::F32, {3}, std::vector<uint8_t>(11)), autothink::Error);
}
