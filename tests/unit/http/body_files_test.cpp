// Memory files of hot bodies (sendfile path): the file holds exactly the
// body's bytes, cannot be changed, is shared by every request for the body,
// and the set stays within its bytes and files.
#include "liveorigin/http/body_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace liveorigin::http {
namespace {

constexpr uint64_t kKiB = 1024;

core::Body MakeBody(size_t size, char fill) {
  std::string bytes(size, fill);
  for (size_t i = 0; i < size; i += 997) bytes[i] = static_cast<char>(i / 997);  // not uniform
  return std::make_shared<const std::string>(std::move(bytes));
}

std::string ReadAll(const BodyFile& file) {
  std::string out(file.size() + 16, '\0');  // room to notice extra bytes
  const ssize_t n = ::pread(file.fd(), out.data(), out.size(), 0);
  EXPECT_GE(n, 0);
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

TEST(BodyFilesTest, TheFileHoldsTheBodysBytes) {
  BodyFiles files(64 * kKiB * 16);
  const auto body = MakeBody(64 * kKiB, 'a');
  const auto file = files.Find(body);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->size(), body->size());
  EXPECT_EQ(ReadAll(*file), *body);
}

TEST(BodyFilesTest, EveryRequestForABodySharesOneFile) {
  BodyFiles files(1024 * kKiB);
  const auto body = MakeBody(32 * kKiB, 'b');
  const auto first = files.Find(body);
  const auto second = files.Find(body);
  ASSERT_TRUE(first);
  EXPECT_EQ(first, second);
  EXPECT_EQ(files.made(), 1u);
  EXPECT_EQ(files.files(), 1u);
}

TEST(BodyFilesTest, TheFileIsSealedAgainstWritesAndResizing) {
  BodyFiles files(1024 * kKiB);
  const auto file = files.Find(MakeBody(32 * kKiB, 'c'));
  ASSERT_TRUE(file);
  EXPECT_LT(::pwrite(file->fd(), "x", 1, 0), 0);
  EXPECT_NE(::ftruncate(file->fd(), 0), 0);
  const int seals = ::fcntl(file->fd(), F_GET_SEALS);
  EXPECT_TRUE(seals & F_SEAL_WRITE);
  EXPECT_TRUE(seals & F_SEAL_SHRINK);
}

TEST(BodyFilesTest, SmallAndOversizedBodiesHaveNoFile) {
  BodyFiles files(256 * kKiB);
  EXPECT_FALSE(files.Find(nullptr));
  EXPECT_FALSE(files.Find(MakeBody(BodyFiles::kMinBodySize - 1, 'd')));
  EXPECT_TRUE(files.Find(MakeBody(BodyFiles::kMinBodySize, 'd')));
  EXPECT_FALSE(files.Find(MakeBody(256 * kKiB / 4 + 1, 'd')));  // over a quarter
  BodyFiles off(0);
  EXPECT_FALSE(off.Find(MakeBody(64 * kKiB, 'd')));
}

TEST(BodyFilesTest, StaysWithinItsBytesDroppingTheLeastRecentlySent) {
  BodyFiles files(128 * kKiB);  // four bodies of 32 KiB
  std::vector<core::Body> bodies;
  for (int i = 0; i < 5; ++i) bodies.push_back(MakeBody(32 * kKiB, static_cast<char>('e' + i)));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(files.Find(bodies[i]));
  const auto kept = files.Find(bodies[0]);  // body 1 is now the least recent
  ASSERT_TRUE(files.Find(bodies[4]));
  EXPECT_LE(files.bytes(), 128 * kKiB);
  EXPECT_EQ(files.files(), 4u);
  EXPECT_EQ(files.Find(bodies[0]), kept);  // still there
  const uint64_t made = files.made();
  ASSERT_TRUE(files.Find(bodies[1]));  // was dropped: made again
  EXPECT_EQ(files.made(), made + 1);
}

TEST(BodyFilesTest, StaysWithinItsFiles) {
  BodyFiles files(1024 * kKiB, 3);
  std::vector<core::Body> bodies;
  for (int i = 0; i < 6; ++i) {
    bodies.push_back(MakeBody(16 * kKiB, static_cast<char>('k' + i)));
    ASSERT_TRUE(files.Find(bodies.back()));
    EXPECT_LE(files.files(), 3u);
  }
}

TEST(BodyFilesTest, FilesOfBodiesNoLongerReferencedGoFirst) {
  BodyFiles files(1024 * kKiB, 2);
  auto gone = MakeBody(16 * kKiB, 'q');
  const auto live = MakeBody(16 * kKiB, 'r');
  ASSERT_TRUE(files.Find(live));
  ASSERT_TRUE(files.Find(gone));  // the most recent
  gone.reset();
  ASSERT_TRUE(files.Find(MakeBody(16 * kKiB, 's')));
  // The file of the body nobody holds was dropped, not the older live one.
  const uint64_t made = files.made();
  ASSERT_TRUE(files.Find(live));
  EXPECT_EQ(files.made(), made);
}

// A body whose address is reused by another body after the first is gone
// must get a file of its own bytes, never the old one.
TEST(BodyFilesTest, ABodyAtTheAddressOfADeadOneGetsItsOwnBytes) {
  BodyFiles files(1024 * kKiB);
  for (int i = 0; i < 50; ++i) {
    // shared_ptr<T>(new T) frees the object with its last owner, so the next
    // allocation of the same size often lands at the same address.
    core::Body body(new const std::string(std::string(20 * kKiB, static_cast<char>('A' + i % 26))));
    const auto file = files.Find(body);
    ASSERT_TRUE(file);
    ASSERT_EQ(ReadAll(*file), *body) << "round " << i;
  }
}

}  // namespace
}  // namespace liveorigin::http
