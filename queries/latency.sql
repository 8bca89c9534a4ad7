-- Latency per model and month: p50/p90/p99 and mean of total latency and time to first byte, with the error rate (what `report latency` prints)
SELECT
  month,
  model,
  count(*) AS requests,
  round(100 * CAST(count(error_code) AS DOUBLE) / count(*), 2) AS error_rate_pct,
  count(latency_ms) AS timed_requests,
  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms), 1) AS latency_p50_ms,
  round(percentile_cont(0.9) WITHIN GROUP (ORDER BY latency_ms), 1) AS latency_p90_ms,
  round(percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms), 1) AS latency_p99_ms,
  round(avg(latency_ms), 1) AS latency_mean_ms,
  count(first_byte_latency_ms) AS streamed_requests,
  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY first_byte_latency_ms), 1) AS first_byte_p50_ms,
  round(percentile_cont(0.9) WITHIN GROUP (ORDER BY first_byte_latency_ms), 1) AS first_byte_p90_ms,
  round(percentile_cont(0.99) WITHIN GROUP (ORDER BY first_byte_latency_ms), 1) AS first_byte_p99_ms,
  round(avg(first_byte_latency_ms), 1) AS first_byte_mean_ms
FROM invocations
WHERE month BETWEEN $from_month AND $to_month
GROUP BY month, model
ORDER BY month, model NULLS LAST
