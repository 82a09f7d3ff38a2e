// The TrustList file of Part 12 §7.8.2 as a client meets it through the FileType methods:
// readers see the lists as they were when they opened, a writer is alone and bounded, handles
// belong to their session and go with it, and the bytes are the TrustListDataType encoding.
#include "ua/server/trust_list_file.h"

#include <gtest/gtest.h>

#include "ua/binary/codec.h"

namespace castellan::ua {
namespace {

bytes blob(std::size_t n, std::uint8_t fill) { return bytes(n, fill); }

trust_list_data_type sample_lists() {
  trust_list_data_type lists;
  lists.specified_lists = trust_list_mask::all;
  lists.trusted_certificates = {blob(700, 0x30), blob(650, 0x31)};
  lists.trusted_crls = {blob(300, 0x32)};
  lists.issuer_certificates = {blob(800, 0x33)};
  lists.issuer_crls = {};
  return lists;
}

node_id session(std::uint32_t n) { return node_id(1, n); }

class trust_list_file_test : public ::testing::Test {
 protected:
  trust_list_file make(trust_list_file_limits limits = {}) {
    return trust_list_file(limits, [this]() -> result<trust_list_data_type> {
      ++source_calls_;
      return lists_;
    });
  }
  bytes read_all(trust_list_file& f, const node_id& who, std::uint32_t handle, std::int32_t chunk) {
    bytes out;
    for (;;) {
      auto part = f.read(who, handle, chunk);
      EXPECT_TRUE(part.ok()) << part.err().message;
      if (!part || part->empty()) return out;
      EXPECT_LE(part->size(), static_cast<std::size_t>(chunk));
      out.insert(out.end(), part->begin(), part->end());
    }
  }

  trust_list_data_type lists_ = sample_lists();
  int source_calls_ = 0;
};

TEST(trust_list_encoding, is_the_structure_without_an_extension_object_around_it) {
  trust_list_data_type lists;
  lists.specified_lists = trust_list_mask::trusted_certificates | trust_list_mask::issuer_crls;
  lists.trusted_certificates = {bytes{0xAA, 0xBB}};
  const bytes encoded = encode_trust_list(lists);
  // UInt32 SpecifiedLists, then four arrays of ByteString (Int32 count, Int32 length, bytes).
  const bytes expected = {0x09, 0, 0, 0,                                  // SpecifiedLists = 1 | 8
                          0x01, 0, 0, 0, 0x02, 0, 0, 0, 0xAA, 0xBB,       // TrustedCertificates
                          0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};            // three empty arrays
  EXPECT_EQ(encoded, expected);
  auto decoded = decode_trust_list(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.err().message;
  EXPECT_EQ(*decoded, lists);
}

TEST(trust_list_encoding, refuses_trailing_bytes_truncation_and_lists_the_mask_leaves_out) {
  bytes encoded = encode_trust_list(sample_lists());
  bytes longer = encoded;
  longer.push_back(0);
  EXPECT_EQ(decode_trust_list(longer).code(), status_code::BadDecodingError);
  bytes shorter(encoded.begin(), encoded.end() - 5);
  EXPECT_EQ(decode_trust_list(shorter).code(), status_code::BadDecodingError);
  EXPECT_EQ(decode_trust_list({}).code(), status_code::BadDecodingError);

  auto lists = sample_lists();
  lists.specified_lists = trust_list_mask::trusted_certificates;  // but CRLs and issuers are filled
  EXPECT_EQ(decode_trust_list(encode_trust_list(lists)).code(), status_code::BadInvalidArgument);
  lists = sample_lists();
  lists.specified_lists = 0x10;
  EXPECT_EQ(decode_trust_list(encode_trust_list(lists)).code(), status_code::BadInvalidArgument);
  // A huge array count in few bytes is refused before anything is allocated.
  const bytes bomb = {0x01, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F};
  EXPECT_FALSE(decode_trust_list(bomb).ok());
}

TEST(trust_list_encoding, masks_keep_only_the_lists_named) {
  const auto masked = mask_trust_list(sample_lists(), trust_list_mask::issuer_certificates | trust_list_mask::trusted_crls);
  EXPECT_EQ(masked.specified_lists, 6u);
  EXPECT_TRUE(masked.trusted_certificates.empty());
  EXPECT_EQ(masked.trusted_crls.size(), 1u);
  EXPECT_EQ(masked.issuer_certificates.size(), 1u);
  EXPECT_TRUE(masked.issuer_crls.empty());
}

TEST_F(trust_list_file_test, a_reader_gets_the_encoded_lists_in_chunks_and_keeps_its_snapshot) {
  auto f = make();
  auto handle = f.open(session(1), file_open_mode::read);
  ASSERT_TRUE(handle.ok()) << handle.err().message;
  EXPECT_EQ(f.open_count(), 1);
  lists_.trusted_certificates.clear();  // a change after the open does not show in this handle
  const bytes content = read_all(f, session(1), *handle, 500);
  EXPECT_EQ(content, encode_trust_list(sample_lists()));
  auto decoded = decode_trust_list(content);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->trusted_certificates.size(), 2u);
  EXPECT_EQ(*f.get_position(session(1), *handle), content.size());
  ASSERT_TRUE(f.set_position(session(1), *handle, 4).ok());
  auto again = f.read(session(1), *handle, 4);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, bytes(content.begin() + 4, content.begin() + 8));
  EXPECT_TRUE(f.close(session(1), *handle).ok());
  EXPECT_EQ(f.open_count(), 0);
  EXPECT_EQ(f.read(session(1), *handle, 10).code(), status_code::BadInvalidArgument) << "closed handles are gone";
}

TEST_F(trust_list_file_test, open_with_masks_reads_only_those_lists) {
  auto f = make();
  auto handle = f.open(session(1), file_open_mode::read, trust_list_mask::issuer_certificates);
  ASSERT_TRUE(handle.ok());
  auto decoded = decode_trust_list(read_all(f, session(1), *handle, 1 << 16));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->specified_lists, trust_list_mask::issuer_certificates);
  EXPECT_TRUE(decoded->trusted_certificates.empty());
  EXPECT_EQ(decoded->issuer_certificates.size(), 1u);
  EXPECT_EQ(f.open(session(1), file_open_mode::read, 0).code(), status_code::BadInvalidArgument);
  EXPECT_EQ(f.open(session(1), file_open_mode::read, 0x30).code(), status_code::BadInvalidArgument);
}

TEST_F(trust_list_file_test, only_read_and_write_erase_existing_are_modes) {
  auto f = make();
  for (int mode : {0, 2, 3, 4, 5, 7, 8, 0x0A, 0xFF}) {
    EXPECT_EQ(f.open(session(1), static_cast<std::uint8_t>(mode)).code(), status_code::BadInvalidArgument) << mode;
  }
  EXPECT_TRUE(f.open(session(1), file_open_mode::write | file_open_mode::erase_existing).ok());
}

TEST_F(trust_list_file_test, a_writer_is_alone_and_close_and_update_decodes_what_it_wrote) {
  auto f = make();
  const std::uint8_t write_mode = file_open_mode::write | file_open_mode::erase_existing;
  auto reader = f.open(session(1), file_open_mode::read);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(f.open(session(2), write_mode).code(), status_code::BadNotWritable) << "a reader has it open";
  ASSERT_TRUE(f.close(session(1), *reader).ok());

  auto writer = f.open(session(2), write_mode);
  ASSERT_TRUE(writer.ok());
  EXPECT_TRUE(f.writer_open());
  EXPECT_EQ(f.open(session(1), file_open_mode::read).code(), status_code::BadNotReadable);
  EXPECT_EQ(f.open(session(3), write_mode).code(), status_code::BadNotWritable);
  EXPECT_EQ(f.read(session(2), *writer, 10).code(), status_code::BadInvalidState) << "a write handle does not read";

  auto update = sample_lists();
  update.specified_lists = trust_list_mask::trusted_certificates | trust_list_mask::trusted_crls;
  update.issuer_certificates.clear();
  const bytes encoded = encode_trust_list(update);
  for (std::size_t at = 0; at < encoded.size(); at += 333) {
    const std::size_t n = std::min<std::size_t>(333, encoded.size() - at);
    ASSERT_TRUE(f.write(session(2), *writer, byte_view(encoded.data() + at, n)).ok());
  }
  EXPECT_EQ(f.write(session(1), *writer, bytes{1}).code(), status_code::BadInvalidArgument) << "another session's handle";
  EXPECT_EQ(f.close_and_update(session(1), *writer).code(), status_code::BadInvalidArgument);
  auto decoded = f.close_and_update(session(2), *writer);
  ASSERT_TRUE(decoded.ok()) << decoded.err().message;
  EXPECT_EQ(*decoded, update);
  EXPECT_FALSE(f.writer_open());
  EXPECT_EQ(f.open_count(), 0);
}

TEST_F(trust_list_file_test, close_and_update_with_garbage_closes_the_handle_and_says_so) {
  auto f = make();
  auto writer = f.open(session(2), file_open_mode::write | file_open_mode::erase_existing);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(f.write(session(2), *writer, bytes{0x0F, 0, 0, 0, 0x05}).ok());
  EXPECT_EQ(f.close_and_update(session(2), *writer).code(), status_code::BadDecodingError);
  EXPECT_EQ(f.open_count(), 0);
  auto reader = f.open(session(2), file_open_mode::read);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(f.close_and_update(session(2), *reader).code(), status_code::BadInvalidState) << "a read handle updates nothing";
}

TEST_F(trust_list_file_test, sizes_and_handle_counts_are_bounded) {
  trust_list_file_limits limits;
  limits.max_size = 1000;
  limits.max_handles = 3;
  limits.max_handles_per_session = 2;
  auto f = make(limits);
  EXPECT_EQ(f.open(session(1), file_open_mode::read).code(), status_code::BadEncodingLimitsExceeded)
      << "the sample lists encode to more than 1000 bytes";
  lists_ = trust_list_data_type{};
  lists_.specified_lists = trust_list_mask::all;
  ASSERT_TRUE(f.open(session(1), file_open_mode::read).ok());
  ASSERT_TRUE(f.open(session(1), file_open_mode::read).ok());
  EXPECT_EQ(f.open(session(1), file_open_mode::read).code(), status_code::BadTooManyOperations);
  ASSERT_TRUE(f.open(session(2), file_open_mode::read).ok());
  EXPECT_EQ(f.open(session(3), file_open_mode::read).code(), status_code::BadTooManyOperations);
  f.session_closed(session(1));
  f.session_closed(session(2));
  EXPECT_EQ(f.open_count(), 0);

  auto writer = f.open(session(1), file_open_mode::write | file_open_mode::erase_existing);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(f.write(session(1), *writer, blob(999, 1)).ok());
  EXPECT_EQ(f.write(session(1), *writer, blob(2, 1)).code(), status_code::BadEncodingLimitsExceeded);
  // A position past the end writes at the end: no holes, and still bounded.
  ASSERT_TRUE(f.set_position(session(1), *writer, 1u << 30).ok());
  EXPECT_TRUE(f.write(session(1), *writer, blob(1, 2)).ok());
  EXPECT_EQ(*f.get_position(session(1), *writer), 1000u);
  EXPECT_EQ(f.write(session(1), *writer, blob(1, 3)).code(), status_code::BadEncodingLimitsExceeded);
  EXPECT_EQ(f.read(session(1), *writer, -1).code(), status_code::BadInvalidState);
}

TEST_F(trust_list_file_test, a_closed_session_frees_its_handles_and_the_write_lock) {
  auto f = make();
  auto writer = f.open(session(7), file_open_mode::write | file_open_mode::erase_existing);
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ(f.open(session(8), file_open_mode::read).code(), status_code::BadNotReadable);
  f.session_closed(session(8));  // someone else's session closing changes nothing
  EXPECT_TRUE(f.writer_open());
  f.session_closed(session(7));
  EXPECT_FALSE(f.writer_open());
  EXPECT_EQ(f.open_count(), 0);
  auto reader = f.open(session(8), file_open_mode::read);
  ASSERT_TRUE(reader.ok());
  EXPECT_NE(*reader, *writer) << "handles are not reused at once";
  EXPECT_EQ(f.read(session(8), *reader, -5).code(), status_code::BadInvalidArgument);
}

}  // namespace
}  // namespace castellan::ua
