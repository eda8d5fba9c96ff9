// IDX, CIFAR binary and LEAF JSON readers: exact on generated files, clear errors otherwise.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "pagefl/core/error.h"
#include "pagefl/data/cifar_reader.h"
#include "pagefl/data/idx_reader.h"
#include "pagefl/data/leaf_json.h"
#include "test_support.h"

namespace pagefl {
namespace {

using testing::errorOf;
using testing::TempDir;
using testing::writeBytes;

IdxArray sampleArray() {
  IdxArray array{{3, 2, 4}, {}};
  for (int i = 0; i < 24; ++i) array.values.push_back(static_cast<std::uint8_t>(i * 11));
  return array;
}

TEST(IdxReader, ReadsRawAndGzippedFilesByteExact) {
  TempDir dir;
  for (bool gzip : {false, true}) {
    std::string path = dir.file(gzip ? "a.gz" : "a");
    writeIdx(path, sampleArray(), gzip);
    IdxArray read = readIdx(path);
    EXPECT_EQ(read.dims, sampleArray().dims);
    EXPECT_EQ(read.values, sampleArray().values);
  }
}

TEST(IdxReader, RawFileHasTheDocumentedLayout) {
  TempDir dir;
  writeIdx(dir.file("a"), IdxArray{{2}, {5, 6}}, false);
  std::ifstream in(dir.file("a"), std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes, (std::vector<std::uint8_t>{0, 0, 8, 1, 0, 0, 0, 2, 5, 6}));
}

TEST(IdxReader, TruncatedCorruptAndMissingFilesGiveClearErrors) {
  TempDir dir;
  writeBytes(dir.file("short"), {0, 0, 8, 1, 0, 0, 0, 9, 1, 2});
  EXPECT_NE(errorOf([&] { readIdx(dir.file("short")); }).find("truncated"), std::string::npos);
  writeBytes(dir.file("header"), {0, 0, 8});
  EXPECT_NE(errorOf([&] { readIdx(dir.file("header")); }).find("truncated"), std::string::npos);
  writeBytes(dir.file("magic"), {7, 7, 8, 1, 0, 0, 0, 1, 1});
  EXPECT_NE(errorOf([&] { readIdx(dir.file("magic")); }).find("not an IDX file"), std::string::npos);
  writeBytes(dir.file("long"), {0, 0, 8, 1, 0, 0, 0, 1, 1, 99});
  EXPECT_NE(errorOf([&] { readIdx(dir.file("long")); }).find("bytes after"), std::string::npos);
  writeBytes(dir.file("type"), {0, 0, 0x0D, 1, 0, 0, 0, 1, 1, 2, 3, 4});
  EXPECT_NE(errorOf([&] { readIdx(dir.file("type")); }).find("type 0x0D"), std::string::npos);
  EXPECT_NE(errorOf([&] { readIdx(dir.file("absent")); }).find("does not exist"), std::string::npos);

  // A gzip stream cut in half.
  IdxArray big{{4000}, std::vector<std::uint8_t>(4000)};
  for (int i = 0; i < 4000; ++i) big.values[i] = static_cast<std::uint8_t>((i * 7919) % 251);
  writeIdx(dir.file("big.gz"), big, true);
  auto size = std::filesystem::file_size(dir.file("big.gz"));
  std::filesystem::resize_file(dir.file("big.gz"), size / 2);
  std::string message = errorOf([&] { readIdx(dir.file("big.gz")); });
  EXPECT_TRUE(message.find("truncated") != std::string::npos || message.find("corrupt") != std::string::npos)
      << message;
}

TEST(IdxReader, ImagesAndLabelsMustAgree) {
  TempDir dir;
  writeIdx(dir.file("images"), IdxArray{{2, 1, 1}, {0, 255}}, false);
  writeIdx(dir.file("labels"), IdxArray{{3}, {0, 1, 2}}, false);
  EXPECT_NE(errorOf([&] { readIdxImagesAndLabels(dir.file("images"), dir.file("labels")); }).find("do not belong"),
            std::string::npos);
  writeIdx(dir.file("labels"), IdxArray{{2}, {4, 9}}, false);
  Dataset data = readIdxImagesAndLabels(dir.file("images"), dir.file("labels"));
  EXPECT_EQ(data.x.sizes(), (std::vector<std::int64_t>{2, 1, 1, 1}));
  EXPECT_FLOAT_EQ(data.x[1].item<float>(), 1.0f);
  EXPECT_EQ(data.y[1].item<std::int64_t>(), 9);
}

TEST(CifarReader, ReadsRecordsAndRejectsPartialOnes) {
  TempDir dir;
  std::vector<std::uint8_t> bytes;
  for (int r = 0; r < 2; ++r) {
    bytes.push_back(static_cast<std::uint8_t>(r + 3));  // coarse label (CIFAR-100)
    bytes.push_back(static_cast<std::uint8_t>(r + 40));  // fine label
    for (int p = 0; p < 3072; ++p) bytes.push_back(static_cast<std::uint8_t>(p % 256));
  }
  writeBytes(dir.file("train.bin"), bytes);
  Dataset data = readCifarBinary({dir.file("train.bin")}, CifarVariant::Cifar100);
  EXPECT_EQ(data.x.sizes(), (std::vector<std::int64_t>{2, 3, 32, 32}));
  EXPECT_EQ(data.y[1].item<std::int64_t>(), 41);
  EXPECT_FLOAT_EQ(data.x[0][0][0][5].item<float>(), 5.0f / 255.0f);

  bytes.pop_back();
  writeBytes(dir.file("train.bin"), bytes);
  EXPECT_NE(errorOf([&] { readCifarBinary({dir.file("train.bin")}, CifarVariant::Cifar100); }).find("truncated"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { cifarTrainFiles(dir.path().string(), CifarVariant::Cifar10); }).find("data_batch_1.bin"),
            std::string::npos);
}

// What a rank of a sharded simulation reads: chosen samples only, exactly as they are in the whole.
TEST(IdxReader, ChosenItemsAreTheWholeFilesItemsAndOthersAreRefused) {
  TempDir dir;
  for (bool gzip : {false, true}) {
    const std::string path = dir.file(gzip ? "a.gz" : "a");
    writeIdx(path, sampleArray(), gzip);
    const std::vector<std::int64_t> items = {0, 2};
    IdxArray chosen = readIdx(path, &items);
    EXPECT_EQ(chosen.dims, (std::vector<std::int64_t>{2, 2, 4}));
    const std::vector<std::uint8_t> whole = sampleArray().values;
    std::vector<std::uint8_t> expected(whole.begin(), whole.begin() + 8);
    expected.insert(expected.end(), whole.begin() + 16, whole.end());
    EXPECT_EQ(chosen.values, expected);
    const std::vector<std::int64_t> none;
    EXPECT_TRUE(readIdx(path, &none).values.empty());
    EXPECT_EQ(readIdxDims(path), (std::vector<std::int64_t>{3, 2, 4}));
    const std::vector<std::int64_t> beyond = {1, 3}, descending = {2, 1};
    EXPECT_NE(errorOf([&] { readIdx(path, &beyond); }).find("item 3 asked for"), std::string::npos);
    EXPECT_NE(errorOf([&] { readIdx(path, &descending); }).find("ascending"), std::string::npos);
  }
  IdxArray cut = sampleArray();
  cut.values.resize(20);
  writeIdx(dir.file("cut"), cut, false);
  const std::vector<std::int64_t> first = {0};
  EXPECT_NE(errorOf([&] { readIdx(dir.file("cut"), &first); }).find("truncated"), std::string::npos);
}

TEST(CifarReader, ChosenRecordsAcrossFilesAreTheWholeReadsRecords) {
  TempDir dir;
  for (int file = 0; file < 2; ++file) {
    std::vector<std::uint8_t> bytes;
    for (int r = 0; r < 3; ++r) {
      bytes.push_back(static_cast<std::uint8_t>((file * 3 + r) % 10));
      for (int p = 0; p < 3072; ++p) bytes.push_back(static_cast<std::uint8_t>((p + 17 * (file * 3 + r)) % 256));
    }
    writeBytes(dir.file(fmt::format("b{}.bin", file)), bytes);
  }
  const std::vector<std::string> files = {dir.file("b0.bin"), dir.file("b1.bin")};
  const Dataset whole = readCifarBinary(files, CifarVariant::Cifar10);
  EXPECT_TRUE(torch::equal(readCifarLabels(files, CifarVariant::Cifar10), whole.y));
  const std::vector<std::int64_t> rows = {1, 3, 5};
  EXPECT_TRUE(torch::equal(readCifarImages(files, CifarVariant::Cifar10, &rows),
                           whole.x.index_select(0, torch::tensor(rows, torch::kInt64))));
  const std::vector<std::int64_t> beyond = {6};
  EXPECT_NE(errorOf([&] { readCifarImages(files, CifarVariant::Cifar10, &beyond); }).find("record 6 asked for"),
            std::string::npos);
}

TEST(LeafJson, WriteThenReadGivesTheSameUsersAndSamples) {
  TempDir dir;
  Dataset a{torch::arange(6, torch::kFloat32).reshape({3, 2}) / 4, torch::tensor({0, 1, 2}, torch::kInt64)};
  Dataset b{torch::ones({1, 2}), torch::tensor({5}, torch::kInt64)};
  writeLeafJson(dir.file("f.json"), {{"alice", a}, {"bob", b}});
  auto users = readLeafJson(dir.file("f.json")).users;
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].name, "alice");
  EXPECT_TRUE(torch::equal(users[0].data.x, a.x));
  EXPECT_TRUE(torch::equal(users[1].data.y, b.y));
  auto shaped = readLeafJson(dir.file("f.json"), {1, 2}).users;
  EXPECT_EQ(shaped[0].data.x.sizes(), (std::vector<std::int64_t>{3, 1, 2}));
}

TEST(LeafJson, ShakespeareCharactersBecomeVocabularyIndices) {
  TempDir dir;
  std::ofstream(dir.file("s.json"))
      << R"({"users": ["ROMEO"], "num_samples": [2], "user_data": {"ROMEO": {"x": ["ab\n", "}A "], "y": ["c", "!"]}}})";
  LeafFile file = readLeafJson(dir.file("s.json"));
  EXPECT_TRUE(file.characters);
  EXPECT_EQ(kLeafCharacters.size(), 80u);
  const Dataset& data = file.users[0].data;
  EXPECT_EQ(data.x.sizes(), (std::vector<std::int64_t>{2, 3}));
  // 'a' = 53, 'b' = 54, newline = 0, '}' = 79, 'A' = 25, ' ' = 1; labels 'c' = 55, '!' = 2
  EXPECT_TRUE(torch::equal(data.x, torch::tensor({{53.0f, 54.0f, 0.0f}, {79.0f, 25.0f, 1.0f}})));
  EXPECT_TRUE(torch::equal(data.y, torch::tensor({55, 2}, torch::kInt64)));
  std::ofstream(dir.file("bad.json"))
      << R"({"users": ["u"], "user_data": {"u": {"x": ["a~"], "y": ["a"]}}})";
  EXPECT_NE(errorOf([&] { readLeafJson(dir.file("bad.json")); }).find("vocabulary"), std::string::npos);
}

TEST(LeafJson, MalformedFilesNameTheUserAndField) {
  TempDir dir;
  auto write = [&](const std::string& text) {
    std::ofstream(dir.file("bad.json")) << text;
    return errorOf([&] { readLeafJson(dir.file("bad.json")); });
  };
  EXPECT_NE(write("{\"users\": [\"u\"").find("not valid JSON"), std::string::npos);
  EXPECT_NE(write("{\"users\": [\"u\"], \"user_data\": {}}").find("missing from \"user_data\""), std::string::npos);
  EXPECT_NE(write(R"({"users": ["u"], "num_samples": [2], "user_data": {"u": {"x": [[1]], "y": [0]}}})")
                .find("num_samples says 2"),
            std::string::npos);
  EXPECT_NE(write(R"({"users": ["u"], "user_data": {"u": {"x": [[1], [1, 2]], "y": [0, 1]}}})").find("sample 1"),
            std::string::npos);
  EXPECT_NE(write(R"({"users": ["u"], "user_data": {"u": {"x": [[1]], "y": [-1]}}})").find("an integer in 0..65535"),
            std::string::npos);
}

}  // namespace
}  // namespace pagefl
