#pragma once
// The TrustList of a certificate group as a file (Part 12 §7.8.2, Part 5 Annex C FileType),
// sans I/O and without the trust store: the handles each session holds, their modes and
// positions, the snapshot a reader sees, the bytes a writer sends, and the TrustListDataType
// encoding of both. The caller supplies the current lists and applies what CloseAndUpdate
// decodes; the method handlers of the OPC UA edge translate calls into these operations.
//
// Rules (Part 12 §7.8.2.1): a reader opens with Read (optionally OpenWithMasks) and sees the
// lists as they were when it opened; a writer opens with Write|EraseExisting, alone (no other
// handle, read or write, may be open meanwhile), and its bytes are bounded by max_size.
// Handles belong to the session that opened them and go when it closes (session_closed()).
//
// Thread safety: every member may be called from any thread (one mutex).

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

#include "core/result.h"
#include "ua/binary/builtin_types.h"
#include "ua/types/generated.h"

namespace castellan::ua {

// FileType open modes (Part 5 §C.3.1).
namespace file_open_mode {
inline constexpr std::uint8_t read = 0x01;
inline constexpr std::uint8_t write = 0x02;
inline constexpr std::uint8_t erase_existing = 0x04;
inline constexpr std::uint8_t append = 0x08;
}  // namespace file_open_mode

// TrustListMasks as bits (Part 12 §7.8.2.7).
namespace trust_list_mask {
inline constexpr std::uint32_t trusted_certificates = 1;
inline constexpr std::uint32_t trusted_crls = 2;
inline constexpr std::uint32_t issuer_certificates = 4;
inline constexpr std::uint32_t issuer_crls = 8;
inline constexpr std::uint32_t all = 15;
}  // namespace trust_list_mask

struct trust_list_file_limits {
  std::uint64_t max_size = 4u << 20;       // bytes one encoded trust list may have (MaxTrustListSize)
  std::size_t max_handles = 64;            // open at once, all sessions together
  std::size_t max_handles_per_session = 4;
  std::int32_t max_read_length = 1 << 20;  // bytes one Read returns at most
};

// The lists, encoded as Part 12 says: the TrustListDataType structure in the UA binary
// encoding (no ExtensionObject around it).
bytes encode_trust_list(const trust_list_data_type& lists);
// Decodes exactly one TrustListDataType from all of `data` (BadDecodingError otherwise);
// lists whose bit is not in SpecifiedLists must be empty (BadInvalidArgument otherwise).
result<trust_list_data_type> decode_trust_list(byte_view data);
// Keeps only the lists named by `masks` and sets SpecifiedLists to it.
trust_list_data_type mask_trust_list(trust_list_data_type lists, std::uint32_t masks);

class trust_list_file {
 public:
  // The current lists (all four; the file masks them). Called when a reader opens.
  using content_source = std::function<result<trust_list_data_type>()>;

  trust_list_file(trust_list_file_limits limits, content_source source);

  // Open (mode Read, or Write|EraseExisting) and OpenWithMasks (Read, `masks`): the handle.
  // BadInvalidArgument for other modes or masks; BadNotWritable when any handle is open (for a
  // writer), BadNotReadable when a writer has it open (for a reader); BadTooManyOperations past
  // the handle limits; BadEncodingLimitsExceeded when the lists encode past max_size.
  result<std::uint32_t> open(const node_id& session, std::uint8_t mode, std::uint32_t masks = trust_list_mask::all);
  // Up to `length` bytes from the handle's position (empty at the end).
  result<bytes> read(const node_id& session, std::uint32_t handle, std::int32_t length);
  // Appends to what the writer sent; BadEncodingLimitsExceeded past max_size.
  result<void> write(const node_id& session, std::uint32_t handle, byte_view data);
  result<std::uint64_t> get_position(const node_id& session, std::uint32_t handle);
  result<void> set_position(const node_id& session, std::uint32_t handle, std::uint64_t position);
  result<void> close(const node_id& session, std::uint32_t handle);
  // CloseAndUpdate: closes a write handle (whatever happens next) and decodes what it wrote.
  result<trust_list_data_type> close_and_update(const node_id& session, std::uint32_t handle);
  // Frees every handle of a session that closed or timed out.
  void session_closed(const node_id& session);

  std::uint16_t open_count() const;
  // AddCertificate and RemoveCertificate are refused while a writer has the file open.
  bool writer_open() const;
  const trust_list_file_limits& limits() const noexcept { return limits_; }

 private:
  struct open_file {
    node_id session;
    bool writing = false;
    bytes content;  // the reader's snapshot, or what the writer sent so far
    std::uint64_t position = 0;
  };
  result<open_file*> find_locked(const node_id& session, std::uint32_t handle);

  trust_list_file_limits limits_;
  content_source source_;
  mutable std::mutex mutex_;
  std::map<std::uint32_t, open_file> files_;
  std::uint32_t next_handle_ = 1;
};

}  // namespace castellan::ua
