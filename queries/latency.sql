-- Latency per model and month: p50/p90/p99 and mean of total latency and time to first byte, with the error rate (what `report latency` prints)
--
-- The percentiles are exact, as percentile_cont computes them, but taken from the rollup
-- `latency_histogram` (how many requests took each millisecond value) rather than from every
-- request: the value at 0-based position i of the sorted latencies is the smallest one whose
-- running count exceeds i, and p falls at position p * (n - 1), between two such values, with
-- percentile_cont's interpolation weight (the fraction truncated to six decimals).
WITH per_model AS (
  SELECT month, model,
    sum(requests) AS requests,
    sum(failed_requests) AS failed_requests,
    sum(latency_ms_count) AS timed_requests,
    sum(latency_ms_sum) AS latency_sum,
    sum(first_byte_latency_ms_count) AS streamed_requests,
    sum(first_byte_latency_ms_sum) AS first_byte_sum
  FROM daily_usage
  WHERE month BETWEEN $from_month AND $to_month
  GROUP BY month, model
),
histogram AS (
  SELECT month, model, measure, value_ms, sum(requests) AS n
  FROM latency_histogram
  WHERE month BETWEEN $from_month AND $to_month AND value_ms IS NOT NULL
  GROUP BY month, model, measure, value_ms
),
running AS (
  SELECT month, model, measure, value_ms,
    sum(n) OVER (PARTITION BY month, model, measure ORDER BY value_ms
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS up_to,
    sum(n) OVER (PARTITION BY month, model, measure) AS total
  FROM histogram
),
positions AS (
  SELECT month, model, measure, total, p, p * CAST(total - 1 AS DOUBLE) AS position
  FROM (SELECT DISTINCT month, model, measure, total FROM running) t
  CROSS JOIN (VALUES (0.5), (0.9), (0.99)) AS percentiles (p)
),
bounds AS (
  SELECT q.month, q.model, q.measure, q.p, q.position,
    CAST(min(CASE WHEN r.up_to > floor(q.position) THEN r.value_ms END) AS DOUBLE) AS lower,
    CAST(min(CASE WHEN r.up_to > ceil(q.position) THEN r.value_ms END) AS DOUBLE) AS upper
  FROM positions q
  JOIN running r
    ON r.month = q.month AND (r.model IS NOT DISTINCT FROM q.model) AND r.measure = q.measure
  GROUP BY q.month, q.model, q.measure, q.p, q.position
),
percentiles AS (
  SELECT month, model, measure, p,
    lower + (upper - lower)
      * (floor((position - floor(position)) * 1000000) / 1000000) AS value
  FROM bounds
)
SELECT
  m.month,
  m.model,
  m.requests,
  round(100 * CAST(m.failed_requests AS DOUBLE) / m.requests, 2) AS error_rate_pct,
  m.timed_requests,
  round(max(CASE WHEN v.measure = 'total' AND v.p = 0.5 THEN v.value END), 1) AS latency_p50_ms,
  round(max(CASE WHEN v.measure = 'total' AND v.p = 0.9 THEN v.value END), 1) AS latency_p90_ms,
  round(max(CASE WHEN v.measure = 'total' AND v.p = 0.99 THEN v.value END), 1) AS latency_p99_ms,
  round(CAST(m.latency_sum AS DOUBLE) / nullif(m.timed_requests, 0), 1) AS latency_mean_ms,
  m.streamed_requests,
  round(max(CASE WHEN v.measure = 'first_byte' AND v.p = 0.5 THEN v.value END), 1) AS first_byte_p50_ms,
  round(max(CASE WHEN v.measure = 'first_byte' AND v.p = 0.9 THEN v.value END), 1) AS first_byte_p90_ms,
  round(max(CASE WHEN v.measure = 'first_byte' AND v.p = 0.99 THEN v.value END), 1) AS first_byte_p99_ms,
  round(CAST(m.first_byte_sum AS DOUBLE) / nullif(m.streamed_requests, 0), 1) AS first_byte_mean_ms
FROM per_model m
LEFT JOIN percentiles v ON v.month = m.month AND (v.model IS NOT DISTINCT FROM m.model)
GROUP BY m.month, m.model, m.requests, m.failed_requests, m.timed_requests, m.latency_sum,
  m.streamed_requests, m.first_byte_sum
ORDER BY m.month, m.model NULLS LAST
