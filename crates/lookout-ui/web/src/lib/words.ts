// Function names, aggregations and keywords of PromQL and LogQL, for completion.

export const PROMQL_FUNCTIONS = [
  "abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh", "avg_over_time", "ceil",
  "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh", "count_over_time", "day_of_month", "day_of_week",
  "day_of_year", "days_in_month", "deg", "delta", "deriv", "double_exponential_smoothing", "exp", "floor",
  "histogram_avg", "histogram_count", "histogram_fraction", "histogram_quantile", "histogram_stddev",
  "histogram_stdvar", "histogram_sum", "holt_winters", "hour", "idelta", "increase", "info", "irate", "label_join",
  "label_replace", "last_over_time", "ln", "log10", "log2", "mad_over_time", "max_over_time", "min_over_time",
  "minute", "month", "pi", "predict_linear", "present_over_time", "quantile_over_time", "rad", "rate", "resets",
  "round", "scalar", "sgn", "sin", "sinh", "sort", "sort_by_label", "sort_by_label_desc", "sort_desc", "sqrt",
  "stddev_over_time", "stdvar_over_time", "sum_over_time", "tan", "tanh", "time", "timestamp", "vector", "year",
];

export const PROMQL_AGGREGATIONS = [
  "avg", "bottomk", "count", "count_values", "group", "limit_ratio", "limitk", "max", "min", "quantile", "stddev",
  "stdvar", "sum", "topk",
];

export const PROMQL_KEYWORDS = [
  "and", "atan2", "bool", "by", "group_left", "group_right", "ignoring", "offset", "on", "or", "unless", "without",
];

export const LOGQL_WORDS = [
  "avg_over_time", "bytes_over_time", "bytes_rate", "count_over_time", "first_over_time", "last_over_time",
  "max_over_time", "min_over_time", "quantile_over_time", "rate", "rate_counter", "stddev_over_time",
  "stdvar_over_time", "sum_over_time", "absent_over_time", "sum", "avg", "min", "max", "count", "stddev", "stdvar",
  "topk", "bottomk", "sort", "sort_desc", "by", "without", "json", "logfmt", "regexp", "pattern", "unpack",
  "line_format", "label_format", "unwrap", "drop", "keep", "decolorize", "duration", "duration_seconds", "bytes",
  "ip", "offset", "vector", "label_replace", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
];
