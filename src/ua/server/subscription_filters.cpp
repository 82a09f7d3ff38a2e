#include "ua/server/subscription_filters.h"

#include <cmath>

#include "ua/server/address_space.h"

namespace castellan::ua {

namespace {

constexpr std::uint32_t base_event_type = 2041;
constexpr std::uint32_t attribute_node_id = static_cast<std::uint32_t>(attribute::node_id);
constexpr std::uint32_t attribute_value = static_cast<std::uint32_t>(attribute::value);

// The numeric value of a scalar or array element, when it is a number.
std::optional<double> as_number(const variant_value& v) {
  return std::visit(
      [](const auto& x) -> std::optional<double> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
          return static_cast<double>(x);
        } else {
          return std::nullopt;
        }
      },
      v);
}

bool is_numeric(const variant& v) {
  if (v.values.empty()) return false;
  for (const auto& e : v.values) {
    if (!as_number(e)) return false;
  }
  return true;
}

// Values differ by more than the deadband (element-wise for arrays; a changed length counts).
bool beyond_deadband(const variant& a, const variant& b, double deadband) {
  if (a.values.size() != b.values.size() || a.is_array != b.is_array) return true;
  for (std::size_t i = 0; i < a.values.size(); ++i) {
    const auto x = as_number(a.values[i]);
    const auto y = as_number(b.values[i]);
    if (!x || !y) return !(a.values[i] == b.values[i]);
    if (std::fabs(*x - *y) > deadband) return true;
  }
  return false;
}

status_code status_of(const data_value& v) { return v.status.value_or(status_code::Good); }

// The joined browse path of a select clause or operand: "EventId", "A/B".
std::string path_key(const std::vector<qualified_name>& path) {
  std::string key;
  for (const auto& q : path) {
    if (!key.empty()) key += '/';
    key += q.name;
  }
  return key;
}

// The value of one field of an event, or a null variant when the event has none.
variant field_of(const simple_attribute_operand& operand, const ua_event& event, const subtype_check& is_subtype) {
  const auto& type = operand.type_definition_id;
  if (!type.is_null() && !(type == node_id::numeric(base_event_type)) && is_subtype && !is_subtype(event.event_type, type)) {
    return {};
  }
  if (operand.attribute_id == attribute_node_id && operand.browse_path.empty()) {
    return {};  // the ConditionId: castellan raises no conditions
  }
  if (operand.attribute_id != attribute_value) return {};
  const auto it = event.fields.find(path_key(operand.browse_path));
  if (it == event.fields.end()) return {};
  if (operand.index_range.empty()) return it->second;
  auto ranges = parse_index_range(operand.index_range);
  if (!ranges) return {};
  auto part = apply_index_range(it->second, *ranges);
  return part ? std::move(*part) : variant{};
}

bool operator_count_ok(filter_operator op, std::size_t n) {
  switch (op) {
    case filter_operator::is_null:
    case filter_operator::not_:
    case filter_operator::of_type:
      return n == 1;
    case filter_operator::equals:
    case filter_operator::greater_than:
    case filter_operator::less_than:
    case filter_operator::greater_than_or_equal:
    case filter_operator::less_than_or_equal:
    case filter_operator::and_:
    case filter_operator::or_:
      return n == 2;
    case filter_operator::in_list:
      return n >= 2;
    default:
      return true;
  }
}

struct evaluator {
  const content_filter& where;
  const ua_event& event;
  const subtype_check& is_subtype;
  int depth = 0;

  variant operand(const extension_object& o) {
    if (const auto* literal = o.get<literal_operand>()) return literal->value;
    if (const auto* simple = o.get<simple_attribute_operand>()) return field_of(*simple, event, is_subtype);
    if (const auto* element = o.get<element_operand>()) return variant::scalar(element_result(element->index));
    return {};
  }

  static std::optional<bool> as_bool(const variant& v) {
    if (const auto* b = v.get_if<bool>()) return *b;
    return std::nullopt;
  }

  // Equal with the numeric types promoted (Part 4 §7.7.4: implicit conversions among numbers).
  static bool equal(const variant& a, const variant& b) {
    if (a.is_null() || b.is_null()) return false;
    if (!a.is_array && !b.is_array && a.values.size() == 1 && b.values.size() == 1) {
      const auto x = as_number(a.values[0]);
      const auto y = as_number(b.values[0]);
      if (x && y) return *x == *y;
    }
    return a == b;
  }

  static std::optional<int> compare(const variant& a, const variant& b) {
    if (a.is_array || b.is_array || a.values.size() != 1 || b.values.size() != 1) return std::nullopt;
    const auto x = as_number(a.values[0]);
    const auto y = as_number(b.values[0]);
    if (x && y) return *x < *y ? -1 : (*x > *y ? 1 : 0);
    if (const auto* s = a.get_if<std::string>()) {
      if (const auto* t = b.get_if<std::string>()) return s->compare(*t) < 0 ? -1 : (*s == *t ? 0 : 1);
    }
    if (const auto* s = a.get_if<date_time>()) {
      if (const auto* t = b.get_if<date_time>()) return s->ticks < t->ticks ? -1 : (s->ticks == t->ticks ? 0 : 1);
    }
    return std::nullopt;
  }

  bool element_result(std::uint32_t index) {
    // Element operands only point forward (checked), so this terminates; the cap is a guard.
    if (index >= where.elements.size() || ++depth > 64) return false;
    const auto& e = where.elements[index];
    const auto& ops = e.filter_operands;
    bool r = false;
    switch (e.filter_operator) {
      case filter_operator::equals:
        r = equal(operand(ops[0]), operand(ops[1]));
        break;
      case filter_operator::is_null:
        r = operand(ops[0]).is_null();
        break;
      case filter_operator::greater_than:
      case filter_operator::less_than:
      case filter_operator::greater_than_or_equal:
      case filter_operator::less_than_or_equal: {
        const auto c = compare(operand(ops[0]), operand(ops[1]));
        if (!c) break;
        switch (e.filter_operator) {
          case filter_operator::greater_than: r = *c > 0; break;
          case filter_operator::less_than: r = *c < 0; break;
          case filter_operator::greater_than_or_equal: r = *c >= 0; break;
          default: r = *c <= 0; break;
        }
        break;
      }
      case filter_operator::not_: {
        const auto b = as_bool(operand(ops[0]));
        r = b && !*b;
        break;
      }
      case filter_operator::and_: {
        const auto a = as_bool(operand(ops[0]));
        r = a && *a && as_bool(operand(ops[1])).value_or(false);
        break;
      }
      case filter_operator::or_: {
        const auto a = as_bool(operand(ops[0]));
        r = (a && *a) || as_bool(operand(ops[1])).value_or(false);
        break;
      }
      case filter_operator::in_list: {
        const auto first = operand(ops[0]);
        for (std::size_t i = 1; i < ops.size() && !r; ++i) r = equal(first, operand(ops[i]));
        break;
      }
      case filter_operator::of_type: {
        const auto type = operand(ops[0]);
        const auto* id = type.get_if<node_id>();
        r = id && (event.event_type == *id || (is_subtype && is_subtype(event.event_type, *id)));
        break;
      }
      default:
        r = false;
        break;
    }
    --depth;
    return r;
  }
};

}  // namespace

result<data_change_rule> make_data_change_rule(const data_change_filter& filter, const std::optional<variant>& value,
                                               const std::optional<range>& eu_range) {
  data_change_rule rule;
  if (static_cast<int>(filter.trigger) < 0 || static_cast<int>(filter.trigger) > 2) {
    return make_error(status_code::BadMonitoredItemFilterInvalid, "unknown DataChangeTrigger");
  }
  rule.trigger = filter.trigger;
  const auto type = static_cast<deadband_type>(filter.deadband_type);
  if (type == deadband_type::none) return rule;
  if (type != deadband_type::absolute && type != deadband_type::percent) {
    return make_error(status_code::BadDeadbandFilterInvalid, "unknown DeadbandType");
  }
  if (!(filter.deadband_value >= 0) || !std::isfinite(filter.deadband_value)) {
    return make_error(status_code::BadDeadbandFilterInvalid, "a deadband is a non-negative number");
  }
  if (!value || !is_numeric(*value)) {
    return make_error(status_code::BadFilterNotAllowed, "a deadband needs a numeric value");
  }
  if (type == deadband_type::absolute) {
    rule.absolute_deadband = filter.deadband_value;
    return rule;
  }
  if (filter.deadband_value > 100) return make_error(status_code::BadDeadbandFilterInvalid, "a percent deadband is 0–100");
  if (!eu_range || !(eu_range->high >= eu_range->low)) {
    return make_error(status_code::BadFilterNotAllowed, "a percent deadband needs the variable's EURange");
  }
  rule.absolute_deadband = (eu_range->high - eu_range->low) * filter.deadband_value / 100.0;
  return rule;
}

bool is_reportable_change(const data_change_rule& rule, const std::optional<data_value>& previous, const data_value& next) {
  if (!previous) return true;
  if (status_of(*previous) != status_of(next)) return true;
  if (rule.trigger == data_change_trigger::status) return false;
  const variant none;
  const auto& a = previous->value ? *previous->value : none;
  const auto& b = next.value ? *next.value : none;
  if (rule.absolute_deadband && is_numeric(a) && is_numeric(b)) {
    if (beyond_deadband(a, b, *rule.absolute_deadband)) return true;
  } else if (!(a == b)) {
    return true;
  }
  return rule.trigger == data_change_trigger::status_value_timestamp && previous->source_timestamp != next.source_timestamp;
}

bool is_supported_operator(filter_operator op) noexcept {
  switch (op) {
    case filter_operator::equals:
    case filter_operator::is_null:
    case filter_operator::greater_than:
    case filter_operator::less_than:
    case filter_operator::greater_than_or_equal:
    case filter_operator::less_than_or_equal:
    case filter_operator::not_:
    case filter_operator::in_list:
    case filter_operator::and_:
    case filter_operator::or_:
    case filter_operator::of_type:
      return true;
    default:
      return false;
  }
}

event_filter_check check_event_filter(const event_filter& filter) {
  event_filter_check check;
  auto& result = check.result;
  std::size_t good_selects = 0;
  for (const auto& s : filter.select_clauses) {
    status_code code = status_code::Good;
    if (s.attribute_id != attribute_value && s.attribute_id != attribute_node_id) {
      code = status_code::BadAttributeIdInvalid;
    } else if (s.attribute_id == attribute_value && s.browse_path.empty()) {
      code = status_code::BadBrowseNameInvalid;
    } else if (!s.index_range.empty() && !parse_index_range(s.index_range)) {
      code = status_code::BadIndexRangeInvalid;
    }
    if (is_good(code)) {
      ++good_selects;
    } else {
      check.result_has_errors = true;
    }
    result.select_clause_results.push_back(code);
  }
  if (filter.select_clauses.empty() || good_selects == 0) {
    check.ok = false;
    check.failure = status_code::BadEventFilterInvalid;
  }
  const auto& elements = filter.where_clause.elements;
  for (std::size_t i = 0; i < elements.size(); ++i) {
    const auto& e = elements[i];
    content_filter_element_result er;
    if (!is_supported_operator(e.filter_operator)) {
      er.status_code = status_code::BadFilterOperatorUnsupported;
    } else if (!operator_count_ok(e.filter_operator, e.filter_operands.size())) {
      er.status_code = status_code::BadFilterOperandCountMismatch;
    }
    for (const auto& o : e.filter_operands) {
      status_code oc = status_code::Good;
      if (const auto* element = o.get<element_operand>()) {
        // Only forward references: no cycles.
        if (element->index <= i || element->index >= elements.size()) oc = status_code::BadFilterOperandInvalid;
      } else if (const auto* simple = o.get<simple_attribute_operand>()) {
        if (simple->attribute_id != attribute_value && simple->attribute_id != attribute_node_id) {
          oc = status_code::BadAttributeIdInvalid;
        }
      } else if (o.get<literal_operand>() == nullptr) {
        oc = status_code::BadFilterOperandInvalid;  // AttributeOperand: castellan has no views to join over
      }
      if (e.filter_operator == filter_operator::of_type && is_good(oc)) {
        const auto* literal = o.get<literal_operand>();
        if (!literal || !literal->value.get_if<node_id>()) oc = status_code::BadFilterOperandInvalid;
      }
      if (is_bad(oc) && is_good(er.status_code)) er.status_code = status_code::BadFilterOperandInvalid;
      er.operand_status_codes.push_back(oc);
    }
    if (is_bad(er.status_code)) {
      check.result_has_errors = true;
      if (check.ok || check.failure == status_code::BadEventFilterInvalid) {
        check.failure = er.status_code == status_code::BadFilterOperatorUnsupported ? status_code::BadFilterOperatorUnsupported
                                                                                    : status_code::BadEventFilterInvalid;
      }
      check.ok = false;
    } else {
      // Operand codes are reported only when something is wrong with the element.
      er.operand_status_codes.clear();
    }
    result.where_clause_result.element_results.push_back(std::move(er));
  }
  if (!check.result_has_errors) result.where_clause_result.element_results.clear();
  return check;
}

bool event_matches(const content_filter& where, const ua_event& event, const subtype_check& is_subtype) {
  if (where.elements.empty()) return true;
  evaluator e{where, event, is_subtype};
  return e.element_result(0);
}

std::vector<variant> select_event_fields(const std::vector<simple_attribute_operand>& select, const ua_event& event,
                                         const subtype_check& is_subtype) {
  std::vector<variant> out;
  out.reserve(select.size());
  for (const auto& s : select) out.push_back(field_of(s, event, is_subtype));
  return out;
}

}  // namespace castellan::ua
