// Hostile bytes into the UA binary decoder: the first byte picks what to decode (a builtin
// or any structure the schema defines, through its ExtensionObject codec); whatever the rest
// is, decoding ends ok or with a Bad code, never a crash, a hang or an oversized allocation.
// What decodes must re-encode and decode to the same value.
#include <cstddef>
#include <cstdint>

#include "ua/binary/codec.h"
#include "ua/types/generated.h"

namespace {

using namespace castellan;
using namespace castellan::ua;

template <class T>
void check(byte_view data) {
  auto first = decode_all<T>(data, &standard_types());
  if (!first.ok()) {
    if (!is_bad(first.code())) __builtin_trap();
    return;
  }
  const auto again = encode_all(*first);
  auto second = decode_all<T>(again, &standard_types());
  if (!second.ok()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const byte_view rest(data + 1, size - 1);
  switch (data[0] % 8) {
    case 0: check<variant>(rest); break;
    case 1: check<data_value>(rest); break;
    case 2: check<extension_object>(rest); break;
    case 3: check<diagnostic_info>(rest); break;
    case 4: check<node_id>(rest); break;
    case 5: check<expanded_node_id>(rest); break;
    case 6: check<localized_text>(rest); break;
    default: {
      // A service request as it arrives: encoding NodeId, then the structure.
      binary_reader r(rest, &standard_types());
      extension_object eo;
      node_id type;
      decode(r, type);
      if (!r.ok()) return 0;
      if (const auto* codec = standard_types().by_binary_encoding_id(type.ns0_numeric())) {
        auto value = codec->decode(r);
        if (r.ok() && !value) __builtin_trap();
      }
      break;
    }
  }
  return 0;
}
