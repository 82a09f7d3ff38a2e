#include "core/files.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace castellan {

TEST(files, atomic_write_sets_the_mode_from_creation) {
  testing::temp_dir dir;
  const auto path = dir / "key.pem";
  ASSERT_TRUE(write_file_atomic(path, "secret", 0600).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = read_file(path);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::string(back->begin(), back->end()), "secret");
}

TEST(files, read_refuses_missing_and_oversized_files) {
  testing::temp_dir dir;
  EXPECT_EQ(read_file(dir / "absent").code(), status_code::BadNotFound);
  ASSERT_TRUE(write_file_atomic(dir / "big", std::string(100, 'x')).ok());
  EXPECT_EQ(read_file(dir / "big", 10).code(), status_code::BadRequestTooLarge);
  EXPECT_EQ(read_file(dir.path()).code(), status_code::BadInvalidArgument);
}

}  // namespace castellan
