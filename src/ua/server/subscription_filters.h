#pragma once
// The filters of monitored items (Part 4 §7.22): DataChangeFilter (trigger, absolute and percent
// deadband) and EventFilter (select clauses by browse path, where clause). Pure functions over
// values; the subscription engine calls them while sampling and when an event is raised.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ua/types/generated.h"

namespace castellan::ua {

// One raised event: its type and its fields by browse path ("EventId", "Severity",
// "SourceNode", a nested field as "A/B"), namespace indexes left out (castellan raises only
// namespace 0 event types).
struct ua_event {
  node_id event_type;
  std::map<std::string, variant, std::less<>> fields;
  // Audit events (AuditEventType and below) reach only sessions holding SecurityAdmin or
  // AuthorizationServiceAdmin.
  bool audit = false;
};

// Is `type` the same as or a subtype of `base`? (The address space's type hierarchy.)
using subtype_check = std::function<bool(const node_id& type, const node_id& base)>;

// --- DataChangeFilter ------------------------------------------------------------------------------

// A DataChangeFilter made ready to use: the percent deadband already turned into an absolute one.
struct data_change_rule {
  data_change_trigger trigger = data_change_trigger::status_value;
  std::optional<double> absolute_deadband;  // none: any change of the value counts
};

// Checks a filter against the item's first value and EURange (low, high), for percent
// deadbands. Errors: BadDeadbandFilterInvalid (negative, percent > 100, unknown type),
// BadFilterNotAllowed (a deadband on a value that is not a number, percent without EURange).
result<data_change_rule> make_data_change_rule(const data_change_filter& filter, const std::optional<variant>& value,
                                               const std::optional<range>& eu_range);

// Should `next` be reported, `previous` having been? (The first value always is.)
bool is_reportable_change(const data_change_rule& rule, const std::optional<data_value>& previous, const data_value& next);

// --- EventFilter -----------------------------------------------------------------------------------

// The where clause operators castellan evaluates; others answer BadFilterOperatorUnsupported.
bool is_supported_operator(filter_operator op) noexcept;

// Checks a filter; the result says, per select clause and per where element, what is wrong.
// ok is false when the filter cannot be used at all (the item fails with BadEventFilterInvalid
// or BadFilterOperatorUnsupported as `failure` says).
struct event_filter_check {
  bool ok = true;
  status_code failure = status_code::Good;
  event_filter_result result;
  bool result_has_errors = false;  // only then is the result sent back
};
event_filter_check check_event_filter(const event_filter& filter);

// Does the event pass the where clause? (An empty where clause passes everything.)
bool event_matches(const content_filter& where, const ua_event& event, const subtype_check& is_subtype);

// The fields a select clause list picks out of an event (null variants where it has none).
std::vector<variant> select_event_fields(const std::vector<simple_attribute_operand>& select, const ua_event& event,
                                         const subtype_check& is_subtype);

}  // namespace castellan::ua
